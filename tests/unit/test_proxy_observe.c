/* Unit tests for proxy/observe: commands read back from the screen model at
 * Enter, with the target's echo fed as bash's readline writes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <vterm.h>

#include "proxy/observe.h"

#define MAXCMDS 8

static struct obs *o;
static char got[MAXCMDS][OBS_CMD_MAX + 1];
static int ngot;

static int
setup(void **state)
{
	(void)state;
	o = px__obs_new(24, 80, 1);
	ngot = 0;
	return o == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	px__obs_free(o);
	o = NULL;
	return 0;
}

/* The target writes s. */
static void
out(const char *s)
{
	px__obs_output(o, (const uint8_t *)s, strlen(s));
}

/* The technician sends s as one chunk; commands go to got[]. */
static void
keys(const char *s)
{
	size_t n = strlen(s), off = 0;
	int fresh = 1;
	struct obs_cmd c;

	while (off < n) {
		off += px__obs_input(o, (const uint8_t *)s + off, n - off, fresh, &c);
		fresh = 0;
		if (c.found && ngot < MAXCMDS)
			snprintf(got[ngot++], sizeof(got[0]), "%s", c.text);
	}
}

/* Types s one key at a time, each echoed by the target. */
static void
type_echoed(const char *s)
{
	char k[2] = { 0, 0 };

	for (; *s; s++) {
		k[0] = *s;
		keys(k);
		out(k);
	}
}

static void
test_plain_command(void **state)
{
	(void)state;
	out("user@host:~$ ");
	type_echoed("ls -l /tmp");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "ls -l /tmp");
	/* CR LF from a client counts once; an empty line gives nothing */
	out("\r\nfile\r\nuser@host:~$ ");
	keys("\r\n");
	assert_int_equal(ngot, 1);
}

/* REP (CSI Ps b) before any glyph made libvterm 0.3 loop for good; the
 * model drops REP, split across chunks and in its C1 form too, and the
 * screen goes on working. */
static void
test_rep_before_any_glyph(void **state)
{
	(void)state;
	out("\x01\x18\x1b[b");
	out("\x1b[");
	out("99999999");
	out("b\xc2\x9b" "7b\x1b[\x05" "b");
	out("$ ");
	type_echoed("uptime");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "uptime");
	/* other sequences still reach the screen: an erase and a cursor move */
	out("\r\n\x1b[2J\x1b[H# ");
	type_echoed("id");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "id");
}

/* A lone combining mark leaves libvterm a glyph of width 0, and its parser
 * reads ESC, a character, '[' as a CSI: REP after that looped for good.
 * The model sees neither zero-width characters nor REP (vt_guard.h); an
 * alarm turns a loop into a failure. */
static void
test_rep_after_zero_width(void **state)
{
	(void)state;
	alarm(10);
	out("\x1b[H\xcc\x81\x1b\xcc\x81[5b");
	out("\x1b[H\xe2\x80\x8b\x1b[5b");
	out("\r\n$ ");
	type_echoed("uptime");
	keys("\r");
	alarm(0);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "uptime");
}

/* Backspace: readline echoes BS and erases to the end of the line. */
static void
test_backspace(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("rmx");
	keys("\x7f");
	out("\b\033[K");
	keys("\x7f");
	out("\b\033[K");
	type_echoed("x");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "rx");
}

/* Left arrow then insert in the middle: readline redraws the rest of the
 * line and moves back; Enter in the middle takes the whole line. */
static void
test_cursor_left_insert(void **state)
{
	const char *w = "world";

	(void)state;
	out("$ ");
	type_echoed("echo world");
	for (int i = 0; i < 5; i++) {
		keys("\033[D");
		out("\b");
	}
	for (const char *p = "big "; *p; p++) {
		char k[2] = { *p, 0 }, echo[32];
		keys(k);
		snprintf(echo, sizeof(echo), "%c%s\b\b\b\b\b", *p, w);
		out(echo);
	}
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "echo big world");
}

/* Ctrl-U: the line is killed and redrawn; the prompt stays. */
static void
test_ctrl_u(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("rm -rf /");
	keys("\x15");
	out("\r\033[K$ ");
	type_echoed("uptime");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "uptime");
}

/* Up arrow: readline draws the recalled line, which was never typed. */
static void
test_history_recall(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("uptime");
	keys("\r");
	out("\r\n 10:00 up\r\n$ ");
	keys("\033[A");
	out("uptime");
	keys("\033[A");
	out("\r$ rm -rf /tmp/x\033[K");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "rm -rf /tmp/x");
}

/* A line longer than the terminal wraps onto the next rows; the command
 * is all of it, also when the screen scrolls while it is typed. */
static void
test_wrapped_line(void **state)
{
	char line[64], exp[80];

	(void)state;
	assert_int_equal(px__obs_resize(o, 5, 20), 0);
	out("a\r\nb\r\nc\r\nd\r\n$ ");
	for (int i = 0; i < 50; i++)
		line[i] = (char)('a' + i % 26);
	line[50] = '\0';
	snprintf(exp, sizeof(exp), "echo %s", line);
	type_echoed(exp);
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], exp);
	/* output that fills a row exactly, then a hard newline: not joined */
	out("\r\n0123456789012345678901234567890123456789\r\n$ ");
	type_echoed("id");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "id");
}

/* readline at the exact margin writes " \r" to force the wrap. */
static void
test_wrap_at_margin(void **state)
{
	(void)state;
	assert_int_equal(px__obs_resize(o, 24, 10), 0);
	out("$ ");
	type_echoed("echo abc");	/* fills the 10 columns */
	out(" \r");
	type_echoed("de");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "echo abcde");
}

/* Full-screen programs: nothing is read in the alternate screen, and the
 * shell's screen is back afterwards. */
static void
test_alternate_screen(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("vi notes");
	keys("\r");
	out("\r\n\033[?1049h\033[H\033[2J~\r\n~\r\n");
	assert_true(px__obs_in_altscreen(o));
	keys(":");
	out(":");
	type_echoed("wq");
	keys("\r");
	out("\033[?1049l");
	assert_false(px__obs_in_altscreen(o));
	out("\r\n$ ");
	type_echoed("ls");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0], "vi notes");
	assert_string_equal(got[1], "ls");
}

/* Several lines in one chunk (a paste without bracketed paste mode), not
 * echoed yet: each Enter is one command. */
static void
test_multiline_paste(void **state)
{
	(void)state;
	out("$ ");
	keys("echo one\rrm -rf /srv\recho three\r");
	assert_int_equal(ngot, 3);
	assert_string_equal(got[0], "echo one");
	assert_string_equal(got[1], "rm -rf /srv");
	assert_string_equal(got[2], "echo three");
}

/* Bracketed paste: the markers are not text, each newline in the paste is
 * one command, the Enter after the paste adds none. */
static void
test_bracketed_paste(void **state)
{
	(void)state;
	out("$ ");
	keys("\033[200~echo a\rrm b\r\033[201~");
	out("echo a\r\nrm b\r\n");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0], "echo a");
	assert_string_equal(got[1], "rm b");
}

/* Password prompts: neither typed blind nor pasted, the secret is never
 * read as a command; nor is input typed blind at another prompt. */
static void
test_password_prompt(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("sudo id");
	keys("\r");
	out("\r\n[sudo] password for alice: ");
	keys("h");
	keys("u");
	keys("n");
	keys("ter2\r");
	out("\r\nSorry, try again.\r\n[sudo] password for alice: ");
	keys("pasted-secret\r");
	out("\r\nuid=0(root)\r\n$ Code? ");
	keys("1");
	keys("2");
	keys("\r");
	if (ngot != 1)
		print_message("got: %s\n", got[1]);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "sudo id");
}

/* Ctrl-C abandons the line: the next Enter alone gives nothing. */
static void
test_ctrl_c(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("rm -rf /");
	keys("\x03");
	out("^C\r\n$ ");
	keys("\r");
	assert_int_equal(ngot, 0);
}

/* Typeahead echoed by the tty before the prompt came: the line as typed. */
static void
test_typeahead_garbled(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("sleep 1");
	keys("\r");
	out("\r\n");
	keys("l");
	out("l");
	keys("s");
	out("s$ ls");
	keys("\r");
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "ls");
}

/* The echo of the last keys has not come back yet at Enter. */
static void
test_echo_lags(void **state)
{
	(void)state;
	out("$ ");
	type_echoed("whoam");
	keys("i");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "whoami");
}

/* UTF-8 and a double-width character. */
static void
test_utf8(void **state)
{
	(void)state;
	out("$ ");
	keys("echo h\xc3\xa9 \xe4\xb8\xad");
	out("echo h\xc3\xa9 \xe4\xb8\xad");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "echo h\xc3\xa9 \xe4\xb8\xad");
}

/* Without a terminal the line's bytes are the command. */
static void
test_no_pty(void **state)
{
	struct obs *p = px__obs_new(0, 0, 0);
	struct obs_cmd c;
	const char *in = "ls -l\nrm x\n";
	size_t off = 0;

	(void)state;
	assert_non_null(p);
	off += px__obs_input(p, (const uint8_t *)in, strlen(in), 1, &c);
	assert_int_equal(c.found, 1);
	assert_string_equal(c.text, "ls -l");
	off += px__obs_input(p, (const uint8_t *)in + off, strlen(in) - off, 0, &c);
	assert_int_equal(c.found, 1);
	assert_string_equal(c.text, "rm x");
	assert_int_equal(off, strlen(in));
	px__obs_free(p);
}

/* A very long line is cut at OBS_CMD_MAX, never overflowing. */
static void
test_long_line(void **state)
{
	size_t n = OBS_CMD_MAX * 3;
	char *l = malloc(n + 2);

	(void)state;
	assert_non_null(l);
	memset(l, 'x', n);
	l[n] = '\r';
	l[n + 1] = '\0';
	out("$ ");
	keys(l);
	assert_int_equal(ngot, 1);
	assert_int_equal(strlen(got[0]), OBS_CMD_MAX);
	free(l);
}

/* The model's memory for 80x24 stays far below 200 KiB, also after
 * output, a resize and back. */
static void
test_memory(void **state)
{
	char buf[4096];

	(void)state;
	memset(buf, 'y', sizeof(buf));
	for (int i = 0; i < 100; i++)
		px__obs_output(o, (const uint8_t *)buf, sizeof(buf));
	out("\033[?1049h\033[?1049l$ ");
	type_echoed("ls");
	keys("\r");
	assert_int_equal(px__obs_resize(o, 50, 200), 0);
	assert_int_equal(px__obs_resize(o, 24, 80), 0);
	print_message("observe model 80x24: %zu bytes\n", px__obs_mem_bytes(o));
	assert_true(px__obs_mem_bytes(o) < 200 * 1024);
	assert_true(px__obs_mem_bytes(o) > 24 * 80 * 4);
}

/* Resizing keeps the bottom rows where the cursor is. */
static void
test_resize_keeps_cursor_line(void **state)
{
	(void)state;
	for (int i = 0; i < 23; i++)
		out("line\r\n");
	out("$ ");
	type_echoed("echo x");
	assert_int_equal(px__obs_resize(o, 10, 80), 0);
	assert_string_equal(px__obs_row_text(o, 9), "$ echo x");
	keys("\r");
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "echo x");
}

/* The model's screen equals libvterm's own screen layer after the same
 * output: lines of text, colours, erase to the end of the line, tabs,
 * backspaces, long lines that wrap, and now and then cursor movement,
 * clearing and a scroll region, in pieces of every size (bulk plain output is held back and
 * only its last lines given to the terminal: the screen must not differ). */
static void
test_screen_matches_libvterm(void **state)
{
	static const char *seqs[] = { "\033[31m", "\033[0m", "\033[K", "\t", "\b",
	    "\033[A", "\033[H", "\033[2J", "\033[5;10H", "\033[1;32;40m", "\033[3;20r",
	    "\033[r", "\033[24;1H" };
	uint32_t seed = 12345;
	size_t cap = 1 << 20, n = 0;
	char *d = malloc(cap), rowbuf[1024];
	VTerm *vt = vterm_new(24, 80);
	VTermScreen *vs;

	(void)state;
	assert_non_null(d);
	assert_non_null(vt);
	vterm_set_utf8(vt, 1);
	vs = vterm_obtain_screen(vt);
	vterm_screen_reset(vs, 1);
	while (n + 400 < cap) {
		int len;
		seed = seed * 1103515245u + 12345u;
		len = (int)((seed >> 8) % 200);
		for (int i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 40 == 0) {
				const char *q = seqs[(seed >> 8) % ((seed >> 20) % 50 == 0 ? 13 : 5)];
				memcpy(d + n, q, strlen(q));
				n += strlen(q);
			} else {
				d[n++] = (char)(' ' + (seed >> 8) % 95);
			}
		}
		d[n++] = '\r';
		d[n++] = '\n';
	}
	for (size_t off = 0, piece; off < n; off += piece) {
		seed = seed * 1103515245u + 12345u;
		piece = 1 + (seed >> 8) % 6000;
		if (piece > n - off)
			piece = n - off;
		px__obs_output(o, (const uint8_t *)d + off, piece);
		vterm_input_write(vt, d + off, piece);
		if ((seed >> 4) % 7 != 0 && off + piece < n)
			continue;
		for (int r = 0; r < 24; r++) {
			VTermRect rect = { .start_row = r, .end_row = r + 1, .start_col = 0, .end_col = 80 };
			size_t l = vterm_screen_get_text(vs, rowbuf, sizeof(rowbuf) - 1, rect);
			while (l > 0 && rowbuf[l - 1] == ' ')
				l--;
			rowbuf[l] = '\0';
			assert_string_equal(px__obs_row_text(o, r), rowbuf);
		}
	}
	vterm_free(vt);
	free(d);
}

/* A scroll region with the cursor below it: lines there do not scroll, each
 * overwrites the last row, and what they leave must be what libvterm shows. */
static void
test_scroll_region_below(void **state)
{
	VTerm *vt = vterm_new(24, 80);
	VTermScreen *vs;
	char d[65536], rowbuf[1024];
	size_t n = 0;

	(void)state;
	assert_non_null(vt);
	vterm_set_utf8(vt, 1);
	vs = vterm_obtain_screen(vt);
	vterm_screen_reset(vs, 1);
	n += (size_t)snprintf(d + n, sizeof(d) - n, "\033[1;20r\033[24;1H");
	for (int i = 0; i < 300 && n + 200 < sizeof(d); i++)
		n += (size_t)snprintf(d + n, sizeof(d) - n, "%.*s\r\n", i == 5 ? 72 : 10 + (i * 37) % 40,
		    "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789");
	px__obs_output(o, (const uint8_t *)d, n);
	vterm_input_write(vt, d, n);
	for (int r = 0; r < 24; r++) {
		VTermRect rect = { .start_row = r, .end_row = r + 1, .start_col = 0, .end_col = 80 };
		size_t l = vterm_screen_get_text(vs, rowbuf, sizeof(rowbuf) - 1, rect);
		while (l > 0 && rowbuf[l - 1] == ' ')
			l--;
		rowbuf[l] = '\0';
		assert_string_equal(px__obs_row_text(o, r), rowbuf);
	}
	vterm_free(vt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rep_before_any_glyph, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rep_after_zero_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_left_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_u, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_recall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapped_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_at_margin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alternate_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiline_paste, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bracketed_paste, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_prompt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typeahead_garbled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_lags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
		cmocka_unit_test(test_no_pty),
		cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_keeps_cursor_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_screen_matches_libvterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scroll_region_below, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
