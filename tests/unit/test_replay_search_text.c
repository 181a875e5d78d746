/* Unit tests: search_text (replay/search_text.h), the typed lines and the
 * output text "search input" and "search output" match: a table of event
 * sequences with the matches each must give (line as typed, corrections,
 * ^U, ^W, escape sequences, matches spanning events and the cut of a long
 * line, channels kept apart, subsystems left out), and random bytes that
 * must never give a context beyond its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "replay/search_text.h"

#define MAXHITS 8

struct hits {
	size_t n;
	uint32_t ch[MAXHITS];
	uint64_t t[MAXHITS];
	char ctx[MAXHITS][2 * SEARCH_TEXT_CONTEXT + SEARCH_TEXT_PAT_MAX + 1];
};

static void
on_hit(void *arg, struct search_text_pat *p, uint32_t ch, uint64_t t_ns,
    const uint8_t *ctx, size_t clen)
{
	struct hits *h = arg;

	(void)p;
	assert_true(clen <= 2 * SEARCH_TEXT_CONTEXT + SEARCH_TEXT_LINE_MAX);
	if (h->n == MAXHITS)
		return;
	h->ch[h->n] = ch;
	h->t[h->n] = t_ns;
	if (clen >= sizeof(h->ctx[0]))
		clen = sizeof(h->ctx[0]) - 1;
	memcpy(h->ctx[h->n], ctx, clen);
	h->ctx[h->n++][clen] = '\0';
}

/* One event of a case: type 'i' input, 'o' output, 's' subsystem open;
 * text with its length (0: strlen). */
struct tev {
	char type;
	uint32_t ch;
	const char *text;
};

struct tcase {
	const char *name;
	enum search_text_kind kind;
	const char *pat;
	struct tev ev[24];
	size_t nhits;
	const char *ctx[3];	/* the contexts, in report order */
	uint64_t t[3];		/* their times (event index) */
};

static const struct tcase cases[] = {
	{ "one key per event, DEL", SEARCH_TEXT_INPUT, "crontab -l",
	  { {'i',0,"c"}, {'i',0,"r"}, {'i',0,"p"}, {'i',0,"\x7f"}, {'i',0,"o"},
	    {'i',0,"ntab"}, {'i',0," -l"}, {'i',0,"\r"} },
	  1, { "crontab -l" }, { 7 } },
	{ "the keys before a correction are not a line", SEARCH_TEXT_INPUT, "crp",
	  { {'i',0,"c"}, {'i',0,"r"}, {'i',0,"p"}, {'i',0,"\b"}, {'i',0,"o\r"} },
	  0, { NULL }, { 0 } },
	{ "^U, ^W, arrows, Alt+x, paste brackets", SEARCH_TEXT_INPUT, "ls /tmp",
	  { {'i',0,"secret\x15ls /etc \x17"}, {'i',0,"\x1b[A\x1bOB\x1bx\x1b[200~/tmp\x1b[201~"},
	    {'i',0,"\n"} },
	  1, { "ls /tmp" }, { 2 } },
	{ "^C ends a line", SEARCH_TEXT_INPUT, "rm -rf",
	  { {'i',0,"rm -rf /\x03"}, {'i',0,"ls\r"} }, 1, { "rm -rf /" }, { 0 } },
	{ "a line not ended is matched at the end", SEARCH_TEXT_INPUT, "halt",
	  { {'i',0,"hal"}, {'i',0,"t"} }, 1, { "halt" }, { 99 } },
	{ "channels apart", SEARCH_TEXT_INPUT, "ab",
	  { {'i',1,"a"}, {'i',2,"b"}, {'i',1,"\r"}, {'i',2,"\r"}, {'i',2,"ab\r"} },
	  1, { "ab" }, { 4 } },
	{ "subsystem input left out", SEARCH_TEXT_INPUT, "secret",
	  { {'s',3,NULL}, {'i',3,"secret\n"}, {'i',4,"secret\n"} },
	  1, { "secret" }, { 2 } },
	{ "output split over events", SEARCH_TEXT_OUTPUT, "@reboot",
	  { {'o',0,"x\r\n@re"}, {'o',0,"bo"}, {'o',0,"ot /x\r\nnext"} },
	  1, { "@reboot /x" }, { 2 } },
	{ "SGR and OSC inside a word", SEARCH_TEXT_OUTPUT, "failed",
	  { {'o',0,"fa\x1b[1mi"}, {'o',0,"\x1b]0;title\x07l\x1b[31"}, {'o',0,"med\r\n"} },
	  1, { "failed" }, { 2 } },
	{ "backspace erases on the screen", SEARCH_TEXT_OUTPUT, "$ crontab",
	  { {'o',0,"$ crpx"}, {'o',0,"\b \b"}, {'o',0,"\b\x1b[K"}, {'o',0,"ontab\r\n"} },
	  1, { "$ crontab" }, { 3 } },
	{ "a line end stops a match", SEARCH_TEXT_OUTPUT, "ab",
	  { {'o',0,"a\r\n"}, {'o',0,"b\r\n"} }, 0, { NULL }, { 0 } },
	{ "once per line", SEARCH_TEXT_OUTPUT, "x",
	  { {'o',0,"x x"}, {'o',0,"x\n"}, {'o',0,"x\n"} }, 2, { "x xx", "x" }, { 0, 2 } },
	{ "two channels interleaved", SEARCH_TEXT_OUTPUT, "abc",
	  { {'o',1,"a"}, {'o',2,"b"}, {'o',1,"b"}, {'o',2,"c"}, {'o',1,"c\n"} },
	  1, { "abc" }, { 4 } },
};

static void
feed(struct search_text *s, const struct tev *te, uint64_t t)
{
	struct ev e;
	struct buf b;

	memset(&e, 0, sizeof(e));
	e.channel = te->ch;
	e.t_ns = t;
	if (te->type == 's') {
		buf_init(&b, 256);
		assert_int_equal(ev_fields_put_str(&b, EVF_CH_ACTION, "subsystem"), 0);
		e.type = EV_CHANNEL;
		e.data = buf_ptr(&b);
		e.len = (uint32_t)buf_len(&b);
		assert_int_equal(search_text_event(s, &e), 0);
		buf_free(&b);
		return;
	}
	e.type = te->type == 'i' ? EV_INPUT : EV_OUTPUT;
	e.data = (const uint8_t *)te->text;
	e.len = (uint32_t)strlen(te->text);
	assert_int_equal(search_text_event(s, &e), 0);
}

static void
test_table(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct tcase *k = &cases[c];
		struct search_text_pat p = { k->kind, k->pat, strlen(k->pat), 0, NULL };
		struct hits h;
		struct search_text *s;

		memset(&h, 0, sizeof(h));
		assert_non_null(s = search_text_new(&p, 1, on_hit, &h));
		for (i = 0; i < 24 && k->ev[i].type != 0; i++)
			feed(s, &k->ev[i], i);
		search_text_finish(s, 99);
		search_text_free(s);
		if (h.n != k->nhits)
			fail_msg("%s: %zu matches, not %zu", k->name, h.n, k->nhits);
		for (i = 0; i < h.n; i++) {
			if (strcmp(h.ctx[i], k->ctx[i]) != 0 || h.t[i] != k->t[i])
				fail_msg("%s: match %zu \"%s\" at %llu, not \"%s\" at "
				    "%llu", k->name, i, h.ctx[i],
				    (unsigned long long)h.t[i], k->ctx[i],
				    (unsigned long long)k->t[i]);
		}
	}
}

/* A match across the cut of a line longer than SEARCH_TEXT_LINE_MAX is
 * found; the context stays bounded. */
static void
test_long_line(void **state)
{
	struct search_text_pat p = { SEARCH_TEXT_OUTPUT, "NEEDLE-IN-LINE", 14, 0, NULL };
	static char line[SEARCH_TEXT_LINE_MAX + 64];
	struct tev te = { 'o', 0, line };
	struct hits h;
	struct search_text *s;

	(void)state;
	memset(&h, 0, sizeof(h));
	memset(line, 'a', sizeof(line) - 1);
	memcpy(line + SEARCH_TEXT_LINE_MAX - 5, "NEEDLE-IN-LINE", 14);
	assert_non_null(s = search_text_new(&p, 1, on_hit, &h));
	feed(s, &te, 1);
	search_text_finish(s, 2);
	search_text_free(s);
	assert_int_equal(h.n, 1);
	assert_non_null(strstr(h.ctx[0], "NEEDLE-IN-LINE"));
}

/* A pattern marked done is no longer matched. */
static void
test_done(void **state)
{
	struct search_text_pat p = { SEARCH_TEXT_INPUT, "ls", 2, 0, NULL };
	struct tev te = { 'i', 0, "ls\r" };
	struct hits h;
	struct search_text *s;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_non_null(s = search_text_new(&p, 1, on_hit, &h));
	feed(s, &te, 1);
	p.done = 1;
	feed(s, &te, 2);
	search_text_finish(s, 3);
	search_text_free(s);
	assert_int_equal(h.n, 1);
}

/* Random bytes, random splits: no crash, contexts within bounds (on_hit
 * checks), both kinds at once. */
static void
test_random(void **state)
{
	struct search_text_pat p[2] = {
		{ SEARCH_TEXT_INPUT, "a\x08", 2, 0, NULL },
		{ SEARCH_TEXT_OUTPUT, "ab", 2, 0, NULL },
	};
	static const char alphabet[] = "ab \r\n\b\x7f\x15\x17\x1b[]O0;\x07\\\x03\xc3\xa9\x80";
	char buf[512];
	struct tev te = { 'o', 0, buf };
	struct hits h;
	struct search_text *s;
	unsigned seed = 12345;
	int round, i, n;

	(void)state;
	for (round = 0; round < 2000; round++) {
		memset(&h, 0, sizeof(h));
		assert_non_null(s = search_text_new(p, 2, on_hit, &h));
		for (i = 0; i < 20; i++) {
			seed = seed * 1103515245u + 12345u;
			n = (int)((seed >> 16) % (sizeof(buf) - 1));
			for (int k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
				if (buf[k] == 0)
					buf[k] = 'a';
			}
			buf[n] = '\0';
			te.type = (seed & 0x100) ? 'i' : 'o';
			te.ch = (seed >> 9) & 1;
			feed(s, &te, (uint64_t)i);
		}
		search_text_finish(s, 99);
		search_text_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
