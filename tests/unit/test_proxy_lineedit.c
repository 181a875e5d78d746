/* Unit tests for proxy/lineedit: strict mode's command line.  Each test
 * types keys as a terminal sends them, checks the entry the proxy would
 * decide on, the exact bytes echoed where latency or correctness depends on
 * them, and what a terminal shows after those bytes (tests/unit/vt_mini.h:
 * an xterm-like screen with deferred autowrap and wide characters). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "proxy/lineedit.h"
#include "proxy/lineedit_int.h"
#include "tests/unit/vt_mini.h"

static struct le *E;
static struct buf OUT;
static struct vt VT;
static enum le_event EV;

/* A new editor on a fresh 24-row terminal of cols columns, prompt drawn. */
static void
start(size_t max_bytes, int cols, const char *prompt)
{
	px__le_free(E);
	E = px__le_new(max_bytes, cols);
	assert_non_null(E);
	vt_init(&VT, 24, cols);
	buf_reset(&OUT);
	assert_int_equal(px__le_begin(E, prompt, &OUT), LE_OK);
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
}

/* Feeds n bytes; the output of this call alone is in OUT (and on VT). */
static long
feed_n(const void *p, size_t n)
{
	long r;

	buf_reset(&OUT);
	r = px__le_feed(E, p, n, &OUT, &EV);
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
	assert_int_equal(VT.bad, 0);
	return r;
}

static long
feed(const char *s)
{
	return feed_n(s, strlen(s));
}

/* Feeds s one byte per call (a slow terminal): each call consumes 1. */
static void
feed_slow(const char *s)
{
	for (; *s != '\0'; s++)
		assert_int_equal(feed_n(s, 1), 1);
}

static const char *
out(void)
{
	const char *s = buf_cstr(&OUT);

	assert_non_null(s);
	return s;
}

/* Macros, so that a failure names the test's line. */
#define assert_entry(s) do { \
	size_t len_; \
	const char *t_ = px__le_entry(E, &len_, NULL); \
	assert_non_null(t_); \
	assert_string_equal(t_, (s)); \
	assert_int_equal(len_, strlen(s)); \
} while (0)

#define assert_row(row, s) do { \
	char row_[2048]; \
	assert_string_equal(vt_row(&VT, (row), row_, sizeof(row_)), (s)); \
} while (0)

#define assert_cursor(row, col) do { \
	assert_int_equal(VT.r, (row)); \
	assert_int_equal(VT.c, (col)); \
	assert_int_equal(VT.pending, 0); \
} while (0)

static int
teardown(void **state)
{
	(void)state;
	px__le_free(E);
	E = NULL;
	buf_free(&OUT);
	buf_init(&OUT, 0);
	return 0;
}

/* The prompt is drawn as given; typing at the end echoes only the
 * character typed (the latency path); Enter ends the line. */
static void
test_type_and_enter(void **state)
{
	size_t len, nlines;

	(void)state;
	start(4096, 80, "\033[1m$\033[m ");
	assert_string_equal(out(), "\033[1m$\033[m ");
	assert_cursor(0, 2);
	assert_int_equal(feed("l"), 1);
	assert_string_equal(out(), "l");
	assert_int_equal(feed("s -l"), 4);
	assert_string_equal(out(), "s -l");
	assert_int_equal(EV, LE_NONE);
	assert_int_equal(feed("\r"), 1);
	assert_int_equal(EV, LE_ENTRY);
	assert_string_equal(out(), "\r\n");
	assert_string_equal(px__le_entry(E, &len, &nlines), "ls -l");
	assert_int_equal(len, 5);
	assert_int_equal(nlines, 1);
	assert_row(0, "$ ls -l");
	assert_cursor(1, 0);
	/* no entry is open until the next px__le_begin */
	assert_int_equal(px__le_feed(E, (const uint8_t *)"x", 1, &OUT, &EV), LE_EINVAL);
	buf_reset(&OUT);
	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_entry("");
}

/* CR, LF and CRLF are one Enter each; bytes after the Enter stay with the
 * caller; an LF that follows a CR in the next feed is part of that Enter. */
static void
test_enter_forms(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	assert_int_equal(feed("ab\ncd"), 3);
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("ab");

	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_int_equal(feed("cd\r\nef\r\n"), 4);
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("cd");

	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_int_equal(feed("ef\r"), 3);
	assert_int_equal(EV, LE_ENTRY);
	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_int_equal(feed("\ngh"), 3);	/* the LF of CRLF is skipped */
	assert_int_equal(EV, LE_NONE);
	assert_entry("gh");
	assert_int_equal(feed("\r\r"), 1);
	assert_int_equal(EV, LE_ENTRY);
	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_int_equal(feed("\r"), 1);	/* an empty Enter */
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("");
	assert_int_equal(px__le_begin(E, "$ ", &OUT), LE_OK);
	assert_int_equal(feed("id\033OMx"), 5);	/* the keypad's Enter */
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("id");
}

/* Backspace (DEL and Ctrl-H) at the end: back one column, clear. */
static void
test_backspace(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("abc");
	assert_int_equal(feed("\x7f"), 1);
	assert_string_equal(out(), "\b\033[J");
	assert_entry("ab");
	feed("\b");
	assert_entry("a");
	feed("\x7f\x7f\x7f");
	assert_entry("");
	assert_row(0, "$");
	assert_cursor(0, 2);
}

/* Home then insert: the rest of the line moves right. */
static void
test_home_insert(void **state)
{
	static const char *const home[] = {
		"\001", "\033[H", "\033[1~", "\033[7~", "\033OH",
	};
	static const char *const end[] = {
		"\005", "\033[F", "\033[4~", "\033[8~", "\033OF",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(home) / sizeof(home[0]); i++) {
		start(4096, 80, "$ ");
		feed("world");
		feed(home[i]);
		assert_cursor(0, 2);
		feed("hello ");
		assert_entry("hello world");
		assert_row(0, "$ hello world");
		assert_cursor(0, 8);
		feed(end[i]);
		assert_cursor(0, 13);
		feed("!");
		assert_string_equal(out(), "!");
		assert_entry("hello world!");
	}
}

/* Left and Right in all their forms; insertion in the middle redraws the
 * tail only. */
static void
test_arrows(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("abcd");
	feed("\033[D");
	assert_string_equal(out(), "\b");
	assert_cursor(0, 5);
	feed("\033OD\002");
	assert_cursor(0, 3);
	feed("X");
	assert_string_equal(out(), "\033[JXbcd\033[3D");
	assert_entry("aXbcd");
	assert_cursor(0, 4);
	feed("\033[C\033OC\006");
	assert_cursor(0, 7);
	feed("\033[C");		/* at the end: stays */
	assert_cursor(0, 7);
	feed("\002\002\002\002\002\002\002\002");
	assert_cursor(0, 2);
	assert_row(0, "$ aXbcd");
}

/* Delete (ESC[3~) and Ctrl-D delete under the cursor; Ctrl-D on an empty
 * line is EOF, at the end of a non-empty one it does nothing. */
static void
test_delete_and_eof(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("abc\001");
	feed("\033[3~");
	assert_entry("bc");
	feed("\004");
	assert_entry("c");
	assert_row(0, "$ c");
	feed("\005\004");
	assert_int_equal(EV, LE_NONE);
	assert_entry("c");
	feed("\b");
	assert_int_equal(feed("\004"), 1);
	assert_int_equal(EV, LE_EOF);
	assert_string_equal(out(), "\r\n");
}

/* Ctrl-K, Ctrl-U, Ctrl-W, Alt-D, Alt-Backspace kill; Ctrl-Y yanks the last
 * kill; kills in a row add up. */
static void
test_kill_yank(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("echo one two three");
	feed("\033b\033b");	/* before "two" */
	feed("\013");
	assert_entry("echo one ");
	feed("\001\031");
	assert_entry("two threeecho one ");
	assert_row(0, "$ two threeecho one");

	start(4096, 80, "$ ");
	feed("ls -l /tmp/x y");
	feed("\027");
	assert_entry("ls -l /tmp/x ");
	feed("\027\027");	/* two kills in a row: one kill "-l /tmp/x " */
	assert_entry("ls ");
	feed("\005\031");	/* with the "y" killed before: kills in a row */
	assert_entry("ls -l /tmp/x y");
	feed("\025");
	assert_entry("");
	feed("\031");
	assert_entry("ls -l /tmp/x y");
	assert_row(0, "$ ls -l /tmp/x y");

	start(4096, 80, "$ ");
	feed("cat foo.bar baz");
	feed("\001\033d");
	assert_entry(" foo.bar baz");
	feed("\033d");	/* appended to the kill */
	assert_entry(".bar baz");
	feed("\005\033\x7f");
	assert_entry(".bar ");
	feed("\033\b");
	assert_entry(".");
	feed("\031");
	assert_entry(".bar baz");
	feed("\001\033d\033d");
	assert_entry("");
	feed("x\031");		/* the two Alt-D kills in a row are one */
	assert_entry("x.bar baz");
}

/* Ctrl-T swaps two characters (the last two at the end), whole UTF-8
 * characters and never across a line break. */
static void
test_transpose(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("sl");
	feed("\024");
	assert_entry("ls");
	assert_row(0, "$ ls");
	feed("\001\024");
	assert_int_equal(VT.bells, 1);
	feed("\005 -al\001\006\024");
	assert_entry("sl -al");
	assert_cursor(0, 4);
	start(4096, 80, "$ ");
	feed("a\xe6\xbc\xa2\024");
	assert_entry("\xe6\xbc\xa2" "a");
	assert_row(0, "$ \xe6\xbc\xa2" "a");
	feed("\026\nb\024");
	assert_entry("\xe6\xbc\xa2" "a\nb");
	assert_int_equal(VT.bells, 1);
}

/* Alt-B/F and Ctrl-Left/Right move by words. */
static void
test_words(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("git log --oneline");
	feed("\033b");
	assert_cursor(0, 2 + 10);
	feed("\033[1;5D");
	assert_cursor(0, 2 + 4);
	feed("\033B\033b");
	assert_cursor(0, 2);
	feed("\033f");
	assert_cursor(0, 2 + 3);
	feed("\033[1;3C\033F");
	assert_cursor(0, 2 + 17);
}

/* Ctrl-C abandons the line; the text stays readable for px__le_begin_with. */
static void
test_cancel(void **state)
{
	size_t len;

	(void)state;
	start(4096, 80, "$ ");
	feed("rm -rf /\001");
	assert_int_equal(feed("\003zz"), 1);
	assert_int_equal(EV, LE_CANCEL);
	assert_string_equal(out(), "\033[8C^C\r\n");
	assert_string_equal(px__le_entry(E, &len, NULL), "rm -rf /");
	assert_row(0, "$ rm -rf /^C");
	buf_reset(&OUT);
	assert_int_equal(px__le_begin_with(E, "$ ", "rm -rf /", 8, &OUT), LE_OK);
	assert_string_equal(out(), "$ rm -rf /");
	feed("x");
	assert_entry("rm -rf /x");
	assert_int_equal(px__le_begin_with(E, "$ ", "a\0b", 3, &OUT), LE_EINVAL);
	assert_int_equal(px__le_begin_with(E, "$ ", "\xff", 1, &OUT), LE_EINVAL);
}

/* Ctrl-L clears the screen and draws prompt and line at the top. */
static void
test_clear_screen(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	vt_feed(&VT, "\r\n\r\n\r\n", 6);	/* as if the prompt were lower */
	feed("abc\002");
	feed("\014");
	assert_string_equal(out(), "\033[H\033[2J$ abc\b");
	assert_row(0, "$ abc");
	assert_cursor(0, 4);
}

/* Tab completes nothing and inserts nothing (a bell); unknown keys and
 * escape sequences are consumed whole and ignored. */
static void
test_tab_and_unknown(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("ls");
	assert_int_equal(feed("\t"), 1);
	assert_string_equal(out(), "\a");
	assert_int_equal(EV, LE_NONE);
	feed("\033[15~\033[1;2P\033OP\033[<0;3;4M\033[?1;2c\033x\032\037");
	assert_int_equal(EV, LE_NONE);
	assert_entry("ls");
	assert_row(0, "$ ls");
	/* a sequence broken off by a control byte: the byte is a key */
	feed("\033[1\r");
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("ls");
}

/* Ctrl-V: the next byte literally; controls show as ^X; a newline so
 * typed is a line break of the entry, never an Enter. */
static void
test_lnext(void **state)
{
	size_t nlines;

	(void)state;
	start(4096, 80, "$ ");
	feed("a\026\001b\026\tc\026\033d");
	assert_int_equal(EV, LE_NONE);
	assert_entry("a\001b\tc\033d");
	assert_row(0, "$ a^Ab^Ic^[d");
	feed("\026\r");
	assert_int_equal(EV, LE_NONE);
	feed("\026\n");
	assert_int_equal(EV, LE_NONE);
	feed("e");
	assert_string_equal(px__le_entry(E, NULL, &nlines), "a\001b\tc\033d\n\ne");
	assert_int_equal(nlines, 3);
	assert_row(1, ">");
	assert_row(2, "> e");
	feed("\026");
	feed_n("", 1);
	assert_int_equal(VT.bells, 1);	/* NUL is never inserted */
	feed("\b\b\b");	/* back over the line breaks */
	assert_entry("a\001b\tc\033d");
	assert_row(1, "");
	assert_cursor(0, 12);
}

/* UTF-8: widths, characters never split (also when their bytes come one
 * feed at a time), backspace and arrows take a whole character with its
 * combining marks. */
static void
test_utf8(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed_slow("\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97 \xf0\x9f\x98\x80!");
	assert_entry("été 漢字 😀!");
	assert_row(0, "$ été 漢字 😀!");
	assert_cursor(0, 2 + 3 + 1 + 4 + 1 + 2 + 1);
	feed("\002\002");
	assert_cursor(0, 2 + 9);
	feed("\x7f");
	assert_entry("été 漢字😀!");
	assert_cursor(0, 2 + 8);
	feed("\x7f");
	assert_entry("été 漢😀!");
	assert_cursor(0, 2 + 6);
	assert_row(0, "$ été 漢😀!");
	/* e + COMBINING ACUTE is one character for the keys */
	start(4096, 80, "$ ");
	feed("ae\xcc\x81");
	assert_cursor(0, 4);
	feed("\002");
	assert_cursor(0, 3);
	feed("\033[C\x7f");
	assert_entry("a");
	/* partial bytes typed then Enter: the half character is dropped */
	feed("\xe2\x82");
	assert_int_equal(feed("\r"), 1);
	assert_entry("a");
	assert_int_equal(VT.bells, 1);
}

/* Bytes that are not UTF-8 are refused with a bell; characters a terminal
 * would act on (C1 controls, bidi overrides) are shown escaped. */
static void
test_utf8_refused_and_escaped(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("a\x80\xc0\xaf\xed\xa0\x80\xf5\xffz");
	assert_entry("az");
	assert_true(VT.bells >= 1);
	feed("\xe2\x80\xae" "x" "\xc2\x9b" "y");
	assert_entry("az\xe2\x80\xaex\xc2\x9by");
	assert_row(0, "$ az<U+202E>x<U+009B>y");
	feed("\x7f\x7f\x7f");
	assert_entry("az\xe2\x80\xae");
	assert_row(0, "$ az<U+202E>");
	assert_cursor(0, 12);
}

/* A line longer than the terminal wraps; edits across the wrap redraw
 * correctly; the end of the entry exactly at the margin moves the cursor to
 * the next row at once (no deferred wrap left behind). */
static void
test_wrap(void **state)
{
	(void)state;
	start(4096, 10, "$ ");
	feed("abcdefg");
	assert_cursor(0, 9);
	assert_int_equal(feed("h"), 1);
	assert_string_equal(out(), "h\r\n");
	assert_cursor(1, 0);
	feed("ijklmnopqrstu");
	assert_row(0, "$ abcdefgh");
	assert_row(1, "ijklmnopqr");
	assert_row(2, "stu");
	assert_cursor(2, 3);
	/* insert at the start: everything shifts over the rows */
	feed("\001X");
	assert_row(0, "$ Xabcdefg");
	assert_row(1, "hijklmnopq");
	assert_row(2, "rstu");
	assert_cursor(0, 3);
	/* delete it again from the end of row 1 */
	feed("\033[C\033[C\033[C\033[C\033[C\033[C\033[C");
	assert_cursor(1, 0);
	feed("\b\b\b\b\b\b\b\b\b");
	assert_entry("hijklmnopqrstu");
	assert_row(0, "$ hijklmno");
	assert_row(1, "pqrstu");
	assert_row(2, "");
	assert_cursor(0, 2);
	feed("\005");
	assert_cursor(1, 6);
	feed("\025");
	assert_row(0, "$");
	assert_row(1, "");
	assert_cursor(0, 2);
	/* wide characters never split: one column is left empty */
	feed("abcdefg\xe6\xbc\xa2z");
	assert_row(0, "$ abcdefg");
	assert_row(1, "漢z");
	assert_cursor(1, 3);
	feed("\002\002\x7f");
	assert_row(0, "$ abcdef漢");
	assert_row(1, "z");
	assert_cursor(0, 8);
	feed("\r");
	assert_int_equal(EV, LE_ENTRY);
	assert_string_equal(out(), "\033[B\033[7D\r\n");
	assert_cursor(2, 0);
}

/* A wide character of the prompt that does not fit moves to the next row,
 * and the line starts after it. */
static void
test_wide_prompt(void **state)
{
	(void)state;
	start(4096, 5, "abcd\xe6\xbc\xa2");
	assert_cursor(1, 2);
	feed("xyz\001");
	assert_row(0, "abcd");
	assert_row(1, "\xe6\xbc\xa2xyz");
	assert_cursor(1, 2);
}

/* Enter with the entry ending at the margin does not add a blank line. */
static void
test_wrap_enter(void **state)
{
	(void)state;
	start(4096, 10, "$ ");
	feed("abcdefgh");
	assert_cursor(1, 0);
	feed("\r");
	assert_string_equal(out(), "");
	assert_cursor(1, 0);
}

/* A line break right after a row filled to the margin starts the next
 * row, not one further down. */
static void
test_wrap_then_newline(void **state)
{
	(void)state;
	start(4096, 10, "$ ");
	feed("abcdefgh");
	assert_cursor(1, 0);
	feed("\026\r");
	assert_string_equal(out(), "\r> ");
	assert_row(1, ">");
	assert_cursor(1, 2);
	feed("x");
	assert_entry("abcdefgh\nx");
	assert_row(2, "");
}

/* Combining marks: one deleted or moved redraws the character it was
 * joined to; one with nothing before it on its line is shown escaped (it
 * would join the prompt). */
static void
test_combining_redraw(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("\xcc\x81" "a");
	assert_row(0, "$ <U+0301>a");
	feed("\001\033[3~");
	assert_row(0, "$ a");
	start(4096, 80, "$ ");
	feed("ab\xcc\x81" "c\002\002");
	assert_cursor(0, 3);
	feed("X");
	assert_entry("aXb\xcc\x81" "c");
	assert_row(0, "$ aXb\xcc\x81" "c");
	feed("\033[C\x7f");	/* b and its mark go together */
	assert_entry("aXc");
	assert_row(0, "$ aXc");
	/* Alt-B stops between a space and its mark; Backspace then deletes
	 * the space and the mark joins the "a" */
	start(4096, 80, "$ ");
	feed("a \xcc\x81" "c\033b");
	assert_cursor(0, 4);
	feed("\x7f");
	assert_entry("a\xcc\x81" "c");
	assert_row(0, "$ a\xcc\x81" "c");
	assert_cursor(0, 3);
}

/* Bracketed paste: literal text, newlines start continuation lines,
 * control bytes are text (shown ^X), nothing is submitted until Enter. */
static void
test_paste(void **state)
{
	size_t nlines;

	(void)state;
	start(4096, 80, "$ ");
	{
		static const char p[] = "\033[200~ls\r\nrm x\rdate\ttoday\003\033[A\033[201~";

		assert_int_equal(feed(p), (long)strlen(p));
	}
	assert_int_equal(EV, LE_NONE);
	assert_string_equal(px__le_entry(E, NULL, &nlines), "ls\nrm x\ndate\ttoday\003\033[A");
	assert_int_equal(nlines, 3);
	assert_row(0, "$ ls");
	assert_row(1, "> rm x");
	assert_row(2, "> date^Itoday^C^[[A");
	assert_cursor(2, 19);
	/* an ESC[201 that is not the end, and an end marker split over feeds */
	feed("\033[200~x\033[201y\033[20");
	feed("1~z");
	assert_entry("ls\nrm x\ndate\ttoday\003\033[Ax\033[201yz");
	/* keys work again after the paste */
	feed("\025");
	assert_entry("ls\nrm x\n");
	assert_row(2, ">");
	feed("\b");
	assert_entry("ls\nrm x");
	assert_cursor(1, 6);
	feed("\001\013\013");	/* kill "rm x", then the line break */
	assert_entry("ls\n");
	feed("\b\r");
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("ls");
	/* a paste in the middle of a line; CRLF and NUL inside */
	start(4096, 80, "$ ");
	feed("echo ab\002");
	{
		static const char p[] = "\033[200~1\r\n2\x00\033[201~";

		feed_n(p, sizeof(p) - 1);
	}
	assert_entry("echo a1\n2b");
	assert_row(0, "$ echo a1");
	assert_row(1, "> 2b");
	assert_cursor(1, 3);
}

/* Up/Down and Ctrl-P/N recall this session's lines; a recalled line is
 * edited like a typed one; the line being typed comes back at the bottom. */
static void
test_history(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	assert_int_equal(px__le_history_add(E, "uptime", 6), LE_OK);
	assert_int_equal(px__le_history_add(E, "df -h", 5), LE_OK);
	assert_int_equal(px__le_history_add(E, "df -h", 5), LE_OK);	/* dup */
	assert_int_equal(px__le_history_add(E, "", 0), LE_OK);		/* skipped */
	assert_int_equal(px__le_history_add(E, "a\0b", 3), LE_EINVAL);
	assert_int_equal(E->nhist, 2);
	feed("who");
	feed("\033[A");
	assert_entry("df -h");
	assert_row(0, "$ df -h");
	feed("\020");
	assert_entry("uptime");
	assert_row(0, "$ uptime");
	feed("\033OA");
	assert_entry("uptime");
	assert_int_equal(VT.bells, 1);
	feed("\016");
	assert_entry("df -h");
	feed("\033[B");
	assert_entry("who");
	assert_row(0, "$ who");
	feed("\033[B");
	assert_entry("who");
	/* edit a recalled line and run it */
	feed("\033[A\033[A\b\b\b\b\b\bdate");
	assert_entry("date");
	assert_row(0, "$ date");
	feed("\r");
	assert_entry("date");
	assert_int_equal(px__le_history_add(E, "date", 4), LE_OK);
	px__le_begin(E, "$ ", &OUT);
	feed("\033[A");
	assert_entry("date");
	feed("\033[A\033[A");
	assert_entry("uptime");	/* the recalled line was not changed */
}

/* Ctrl-R searches the history backwards as the query grows; Ctrl-R again
 * goes to an older match; a key of its own ends the search and edits the
 * match; Ctrl-G brings back the line; Enter runs the match. */
static void
test_search(void **state)
{
	static const char *const h[] = { "ls -l /etc", "uptime", "ls /tmp", "df" };

	(void)state;
	start(4096, 80, "$ ");
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(px__le_history_add(E, h[i], strlen(h[i])), LE_OK);
	feed("wh\022");
	assert_row(0, "(reverse-i-search)`': wh");
	feed("ls");
	assert_entry("ls /tmp");
	assert_row(0, "(reverse-i-search)`ls': ls /tmp");
	assert_cursor(0, 24);
	feed("\022");
	assert_entry("ls -l /etc");
	assert_row(0, "(reverse-i-search)`ls': ls -l /etc");
	assert_int_equal(VT.bells, 0);
	feed("\022");		/* nothing older */
	assert_int_equal(VT.bells, 1);
	assert_entry("ls -l /etc");
	feed("\x7fx");
	assert_row(0, "(failed reverse-i-search)`lx': ls /tmp");
	feed("\x7f\026\001");	/* a control byte is no query */
	assert_row(0, "(reverse-i-search)`l': ls /tmp");
	feed("\033[C");		/* ends the search, then moves */
	assert_row(0, "$ ls /tmp");
	assert_row(1, "");
	assert_entry("ls /tmp");
	assert_cursor(0, 3);
	feed("\033[A");
	assert_entry("uptime");
	feed("\033[B\033[B\033[B");
	assert_entry("wh");
	feed("\022up\007");
	assert_entry("wh");
	assert_row(0, "$ wh");
	assert_cursor(0, 4);
	feed("\022upt\r");
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("uptime");
	assert_row(0, "$ uptime");
	assert_cursor(1, 0);
}

/* At most 500 lines are kept, the oldest dropped first. */
static void
test_history_limit(void **state)
{
	char line[16];

	(void)state;
	start(4096, 80, "$ ");
	for (int i = 0; i < 600; i++) {
		int n = snprintf(line, sizeof(line), "cmd%d", i);

		assert_int_equal(px__le_history_add(E, line, (size_t)n), LE_OK);
	}
	assert_int_equal(E->nhist, 500);
	for (int i = 0; i < 500; i++)
		feed("\033[A");
	assert_entry("cmd100");
	feed("\033[A");
	assert_entry("cmd100");
}

/* An entry holds at most max_bytes: excess is refused with one bell per
 * feed; a character that does not fit whole is refused whole. */
static void
test_max_bytes(void **state)
{
	(void)state;
	start(6, 80, "$ ");
	assert_int_equal(feed("abcdefgh"), 8);
	assert_entry("abcdef");
	assert_string_equal(out(), "abcdef\a");
	start(6, 80, "$ ");
	feed("abcd\xe2\x82\xac");
	assert_entry("abcd");
	feed("\xc3\xa9");
	assert_entry("abcd\xc3\xa9");
	feed("\033[200~x\ry\033[201~");
	assert_entry("abcd\xc3\xa9");
	feed("\001\013\031\031");	/* yanking twice does not fit */
	assert_entry("abcd\xc3\xa9");
	assert_int_equal(px__le_history_add(E, "1234567", 7), LE_EINVAL);
	assert_int_equal(px__le_begin_with(E, "$ ", "1234567", 7, &OUT), LE_EINVAL);
}

/* A bounded output buffer that cannot take the echo: LE_ENOMEM, and the
 * editor stays usable (a redraw with room shows the right line). */
static void
test_enomem(void **state)
{
	struct buf small;

	(void)state;
	start(4096, 80, "$ ");
	buf_init(&small, 4);
	assert_int_equal(px__le_feed(E, (const uint8_t *)"abcdefgh", 8, &small, &EV), LE_ENOMEM);
	buf_free(&small);
	buf_init(&small, 1);
	assert_int_equal(px__le_begin(E, "long prompt> ", &small), LE_ENOMEM);
	buf_free(&small);
	vt_init(&VT, 24, 80);
	buf_reset(&OUT);
	assert_int_equal(px__le_redraw(E, &OUT), LE_OK);
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
	assert_row(0, "long prompt>");
	feed("xy");
	assert_row(0, "long prompt> xy");
}

/* An event in a feed whose output fails is still reported: the entry is
 * closed, so the caller knows a redraw would show nothing. */
static void
test_enomem_event(void **state)
{
	struct buf small;

	(void)state;
	start(4096, 80, "$ ");
	feed("ls");
	buf_init(&small, 1);
	assert_int_equal(px__le_feed(E, (const uint8_t *)"\001\013x\r", 4, &small, &EV), LE_ENOMEM);
	assert_int_equal(EV, LE_ENTRY);
	assert_entry("x");
	assert_int_equal(px__le_feed(E, (const uint8_t *)"y", 1, &OUT, &EV), LE_EINVAL);
	buf_free(&small);
}

/* A new width redraws from the entry's first row. */
static void
test_resize(void **state)
{
	(void)state;
	start(4096, 20, "$ ");
	feed("0123456789abcdefghijklmnop");
	assert_row(0, "$ 0123456789abcdefgh");
	assert_row(1, "ijklmnop");
	vt_resize(&VT, 10);
	buf_reset(&OUT);
	assert_int_equal(px__le_resize(E, 10, &OUT), LE_OK);
	assert_string_equal(out(), "\033[A\r\033[J$ 0123456789abcdefghijklmnop");
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
	assert_row(0, "$ 01234567");
	assert_row(1, "89abcdefgh");
	assert_row(2, "ijklmnop");
	assert_cursor(2, 8);
	feed("\001");
	assert_cursor(0, 2);
	vt_resize(&VT, 40);
	buf_reset(&OUT);
	assert_int_equal(px__le_resize(E, 40, &OUT), LE_OK);
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
	assert_row(0, "$ 0123456789abcdefghijklmnop");
	assert_row(1, "");
	assert_cursor(0, 2);
}

/* px__le_redraw: output arrived while the prompt was shown; the caller put the
 * cursor on a fresh line; prompt, line and cursor come back. */
static void
test_redraw(void **state)
{
	(void)state;
	start(4096, 80, "$ ");
	feed("make\002\002");
	vt_feed(&VT, "\r\n[1]+ Done\r\n", 13);
	buf_reset(&OUT);
	assert_int_equal(px__le_redraw(E, &OUT), LE_OK);
	assert_string_equal(out(), "\033[J$ make\033[2D");
	vt_feed(&VT, buf_ptr(&OUT), buf_len(&OUT));
	assert_row(1, "[1]+ Done");
	assert_row(2, "$ make");
	assert_cursor(2, 4);
	feed("X");
	assert_row(2, "$ maXke");
}

/* Invalid calls are refused. */
static void
test_invalid(void **state)
{
	(void)state;
	assert_null(px__le_entry(NULL, NULL, NULL));
	assert_int_equal(px__le_begin(NULL, "$ ", &OUT), LE_EINVAL);
	start(16, 0, "$ ");
	assert_int_equal(E->cols, 80);
	assert_int_equal(px__le_begin(E, NULL, &OUT), LE_EINVAL);
	assert_int_equal(px__le_feed(E, NULL, 1, &OUT, &EV), LE_EINVAL);
	assert_int_equal(px__le_feed(E, (const uint8_t *)"", 0, &OUT, &EV), 0);
	assert_int_equal(px__le_history_add(NULL, "x", 1), LE_EINVAL);
	px__le_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_type_and_enter, teardown),
		cmocka_unit_test_teardown(test_enter_forms, teardown),
		cmocka_unit_test_teardown(test_backspace, teardown),
		cmocka_unit_test_teardown(test_home_insert, teardown),
		cmocka_unit_test_teardown(test_arrows, teardown),
		cmocka_unit_test_teardown(test_delete_and_eof, teardown),
		cmocka_unit_test_teardown(test_kill_yank, teardown),
		cmocka_unit_test_teardown(test_transpose, teardown),
		cmocka_unit_test_teardown(test_words, teardown),
		cmocka_unit_test_teardown(test_cancel, teardown),
		cmocka_unit_test_teardown(test_clear_screen, teardown),
		cmocka_unit_test_teardown(test_tab_and_unknown, teardown),
		cmocka_unit_test_teardown(test_lnext, teardown),
		cmocka_unit_test_teardown(test_utf8, teardown),
		cmocka_unit_test_teardown(test_utf8_refused_and_escaped, teardown),
		cmocka_unit_test_teardown(test_wrap, teardown),
		cmocka_unit_test_teardown(test_wrap_enter, teardown),
		cmocka_unit_test_teardown(test_wide_prompt, teardown),
		cmocka_unit_test_teardown(test_wrap_then_newline, teardown),
		cmocka_unit_test_teardown(test_combining_redraw, teardown),
		cmocka_unit_test_teardown(test_paste, teardown),
		cmocka_unit_test_teardown(test_history, teardown),
		cmocka_unit_test_teardown(test_search, teardown),
		cmocka_unit_test_teardown(test_history_limit, teardown),
		cmocka_unit_test_teardown(test_max_bytes, teardown),
		cmocka_unit_test_teardown(test_enomem, teardown),
		cmocka_unit_test_teardown(test_enomem_event, teardown),
		cmocka_unit_test_teardown(test_resize, teardown),
		cmocka_unit_test_teardown(test_redraw, teardown),
		cmocka_unit_test_teardown(test_invalid, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
