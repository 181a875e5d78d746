/* Unit tests for proxy/strict_marker: every marker kind, each cut at every
 * byte position, malformed markers, the nonce leaking into the output (also
 * cut across chunks and markers), other OSC sequences passing untouched,
 * a full output buffer and the bound on held bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "proxy/strict_marker.h"

#define NONCE "0123456789abcdef0123456789abcdef"
#define HELLO "\033]5379;h;1\a"
/* PROMPT: seq 12, status 3, pwd "/tmp/a b" */
#define PROMPT "\033]5379;p;" NONCE ";12;3;2f746d702f612062\a"
#define DISCARD "\033]5379;d;" NONCE ";7;19\a"

/* What a stream gave: the output and up to 16 markers. */
struct run {
	struct buf out;
	struct sm_marker m[16];
	size_t nm;
};

/* Feeds d in chunks cut at the offsets in cuts[] (ncuts of them, ascending)
 * and collects everything. */
static void
feed_cut(struct sm *s, const char *d, size_t n, const size_t *cuts, size_t ncuts,
    struct run *r)
{
	size_t from = 0;

	for (size_t c = 0; c <= ncuts; c++) {
		size_t to = c < ncuts ? cuts[c] : n;

		while (from < to) {
			struct sm_marker m;
			long k = px__sm_feed(s, (const uint8_t *)d + from, to - from, &r->out, &m);

			assert_true(k > 0);
			from += (size_t)k;
			assert_true(px__sm_held(s) < SM_MARK_MAX);
			if (m.kind != SM_NONE) {
				assert_true(r->nm < 16);
				r->m[r->nm++] = m;
			}
		}
	}
}

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
}

/* Output and marker kinds of one stream fed whole and cut at every single
 * position and every pair of positions agree with the expectation. */
static void
check_stream(const char *d, size_t n, const char *want_out, size_t want_n,
    const enum sm_kind *kinds, size_t nkinds, int with_nonce)
{
	size_t cuts[2];

	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct sm *s = px__sm_new();
			struct run r;

			assert_non_null(s);
			if (with_nonce)
				px__sm_set_nonce(s, NONCE);
			run_init(&r);
			cuts[0] = a;
			cuts[1] = b;
			feed_cut(s, d, n, cuts, 2, &r);
			assert_int_equal(px__sm_held(s), 0);
			assert_int_equal(buf_len(&r.out), want_n);
			if (want_n > 0)
				assert_memory_equal(buf_ptr(&r.out), want_out, want_n);
			assert_int_equal(r.nm, nkinds);
			for (size_t i = 0; i < nkinds; i++)
				assert_int_equal(r.m[i].kind, kinds[i]);
			buf_free(&r.out);
			px__sm_free(s);
		}
	}
}

/* Each kind with its fields; removed from the output. */
static void
test_kinds(void **state)
{
	static const char d[] = "a" HELLO "b" PROMPT "c" DISCARD "d";
	static const enum sm_kind k[] = { SM_HELLO, SM_PROMPT, SM_DISCARD };
	struct sm *s = px__sm_new();
	struct run r;
	size_t none = 0;

	(void)state;
	run_init(&r);
	feed_cut(s, d, sizeof(d) - 1, &none, 0, &r);
	assert_int_equal(r.nm, 3);
	assert_int_equal(r.m[0].kind, SM_HELLO);
	assert_int_equal(r.m[0].version, 1);
	assert_int_equal(r.m[1].kind, SM_PROMPT);
	assert_string_equal(r.m[1].nonce, NONCE);
	assert_int_equal(r.m[1].seq, 12);
	assert_int_equal(r.m[1].status, 3);
	assert_string_equal(r.m[1].pwd, "/tmp/a b");
	assert_int_equal(r.m[2].kind, SM_DISCARD);
	assert_string_equal(r.m[2].nonce, NONCE);
	assert_int_equal(r.m[2].seq, 7);
	assert_int_equal(r.m[2].nbytes, 19);
	assert_int_equal(buf_len(&r.out), 4);
	assert_memory_equal(buf_ptr(&r.out), "abcd", 4);
	buf_free(&r.out);
	px__sm_free(s);
	check_stream(d, sizeof(d) - 1, "abcd", 4, k, 3, 1);
}

/* Field edge cases that are well formed: empty PWDHEX, status 255, the
 * largest seq, a newline and UTF-8 in the directory. */
static void
test_prompt_fields(void **state)
{
	static const char d[] =
	    "\033]5379;p;" NONCE ";0;255;\a"
	    "\033]5379;p;" NONCE ";18446744073709551615;0;2f610ac3a9\a";
	struct sm *s = px__sm_new();
	struct run r;
	size_t none = 0;

	(void)state;
	px__sm_set_nonce(s, NONCE);
	run_init(&r);
	feed_cut(s, d, sizeof(d) - 1, &none, 0, &r);
	assert_int_equal(r.nm, 2);
	assert_int_equal(r.m[0].kind, SM_PROMPT);
	assert_int_equal(r.m[0].status, 255);
	assert_string_equal(r.m[0].pwd, "");
	assert_int_equal(r.m[1].kind, SM_PROMPT);
	assert_true(r.m[1].seq == UINT64_MAX);
	assert_string_equal(r.m[1].pwd, "/a\n\xc3\xa9");
	assert_int_equal(buf_len(&r.out), 0);
	buf_free(&r.out);
	px__sm_free(s);
}

/* Malformed markers: reported SM_BAD, never shown; the text after them
 * passes. */
static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"\033]5379;x;1\a",                              /* unknown kind */
		"\033]5379;h\a",                                /* no field */
		"\033]5379;h;\a",
		"\033]5379;h;01\a",                             /* leading zero */
		"\033]5379;h;1;2\a",                            /* extra field */
		"\033]5379;\a",
		"\033]5379;p;" NONCE ";1;0\a",                  /* field missing */
		"\033]5379;p;" NONCE ";1;256;2f\a",             /* status */
		"\033]5379;p;" NONCE ";01;0;2f\a",              /* seq */
		"\033]5379;p;" NONCE ";18446744073709551616;0;2f\a",
		"\033]5379;p;" NONCE ";1;0;2f6\a",              /* odd hex */
		"\033]5379;p;" NONCE ";1;0;2f00\a",             /* NUL in path */
		"\033]5379;p;" NONCE ";1;0;2fzz\a",
		"\033]5379;p;0123;1;0;2f\a",                    /* short nonce */
		"\033]5379;p;" NONCE "0;1;0;2f\a",              /* long nonce */
		"\033]5379;d;" NONCE ";1\a",
		"\033]5379;d;" NONCE ";1;-1\a",                 /* '-' ends it */
		"\033]5379;P;" NONCE ";1;0;2f\a",               /* upper case */
		"\033]5379;p;" NONCE ";1;0;2f\033\\",           /* ST, not BEL */
		"\033]5379;h;1\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sm *s = px__sm_new();
		struct run r;
		char d[256];
		size_t n = (size_t)snprintf(d, sizeof(d), "%sZ", bad[i]), none = 0;

		run_init(&r);
		feed_cut(s, d, n, &none, 0, &r);
		assert_true(r.nm >= 1);
		assert_int_equal(r.m[0].kind, SM_BAD);
		/* the sequence up to the byte that ended it is not shown */
		assert_null(memmem(buf_ptr(&r.out) ? (const void *)buf_ptr(&r.out) : "",
		    buf_len(&r.out), "5379", 4));
		assert_true(buf_len(&r.out) >= 1);
		assert_int_equal(buf_ptr(&r.out)[buf_len(&r.out) - 1], 'Z');
		buf_free(&r.out);
		px__sm_free(s);
	}
}

/* A marker cut at every position: all kinds, and a bad one. */
static void
test_split_everywhere(void **state)
{
	static const char bad[] = "x\033]5379;p;" NONCE ";1;0;2f\033\\y";
	static const enum sm_kind kb[] = { SM_BAD };

	(void)state;
	/* the ESC that ends it is looked at again: the start of "ESC \\" */
	check_stream(bad, sizeof(bad) - 1, "x\033\\y", 4, kb, 1, 1);
}

/* Other escape sequences pass untouched, also when cut: a title (OSC 0),
 * OSC 5379x..., OSC 53790;, CSI, an ESC at the very end of a chunk. */
static void
test_osc_passthrough(void **state)
{
	static const char d[] =
	    "\033]0;title\a" "\033]5379x;hello\a" "\033]53790;p;\a"
	    "\033[1;31mred\033[0m" "\033]537\033]5379;h;1\a" "\033\033]";

	static const char want[] =
	    "\033]0;title\a" "\033]5379x;hello\a" "\033]53790;p;\a"
	    "\033[1;31mred\033[0m" "\033]537" "\033\033]";
	static const enum sm_kind k[] = { SM_HELLO };
	struct sm *s = px__sm_new();
	struct run r;
	size_t none = 0;

	(void)state;
	/* the trailing "ESC ESC ]" stays partly held until more comes */
	run_init(&r);
	feed_cut(s, d, sizeof(d) - 1, &none, 0, &r);
	assert_int_equal(r.nm, 1);
	assert_int_equal(px__sm_held(s), 2);
	{
		struct sm_marker m;

		assert_int_equal(px__sm_feed(s, (const uint8_t *)"!", 1, &r.out, &m), 1);
		assert_int_equal(m.kind, SM_NONE);
	}
	assert_int_equal(buf_len(&r.out), sizeof(want) - 1 + 1);
	assert_memory_equal(buf_ptr(&r.out), want, sizeof(want) - 1);
	buf_free(&r.out);
	px__sm_free(s);

	{
		static const char d2[] = "\033]0;title\a" "\033]5379x;hello\a" "\033]537\033]5379;h;1\a!";
		static const char w2[] = "\033]0;title\a" "\033]5379x;hello\a" "\033]537!";

		check_stream(d2, sizeof(d2) - 1, w2, sizeof(w2) - 1, k, 1, 1);
	}
}

/* The nonce in the output: SM_LEAK (bytes still passed), also cut across
 * chunks, across a marker, in upper case; a marker's own nonce is no leak;
 * overlapping near-misses are found (KMP). */
static void
test_leak(void **state)
{
	static const char d[] = "env: _sb_l=" NONCE " 1 ls\n";
	static const enum sm_kind k1[] = { SM_LEAK };
	static const char d2[] = "0123456789abcdef" HELLO "0123456789abcdefZ";
	static const char w2[] = "0123456789abcdef0123456789abcdefZ";
	static const enum sm_kind k2[] = { SM_HELLO, SM_LEAK };
	static const char d3[] = PROMPT DISCARD "ok";
	static const enum sm_kind k3[] = { SM_PROMPT, SM_DISCARD };
	static const char d4[] = "01230123456789ABCDEF0123456789ABCDEF";
	static const enum sm_kind k4[] = { SM_LEAK };

	(void)state;
	check_stream(d, sizeof(d) - 1, d, sizeof(d) - 1, k1, 1, 1);
	check_stream(d2, sizeof(d2) - 1, w2, sizeof(w2) - 1, k2, 2, 1);
	check_stream(d3, sizeof(d3) - 1, "ok", 2, k3, 2, 1);
	check_stream(d4, sizeof(d4) - 1, d4, sizeof(d4) - 1, k4, 1, 1);
	/* without a nonce set, nothing is a leak */
	check_stream(d, sizeof(d) - 1, d, sizeof(d) - 1, NULL, 0, 0);
}

/* A sequence that never ends is cut at SM_MARK_MAX: SM_BAD, memory held
 * never more, the rest passes. */
static void
test_bounded_hold(void **state)
{
	size_t n = 3 * SM_MARK_MAX, none = 0;
	char *d = malloc(n);
	struct sm *s = px__sm_new();
	struct run r;

	(void)state;
	memcpy(d, "\033]5379;p;", 9);
	memset(d + 9, '1', n - 9);
	run_init(&r);
	feed_cut(s, d, n, &none, 0, &r);
	assert_int_equal(r.nm, 1);
	assert_int_equal(r.m[0].kind, SM_BAD);
	assert_int_equal(buf_len(&r.out), n - SM_MARK_MAX);
	assert_int_equal(px__sm_held(s), 0);
	buf_free(&r.out);
	px__sm_free(s);
	free(d);
}

/* A full output buffer: -1 and nothing lost; the same call repeated after
 * room was made goes on. */
static void
test_out_full(void **state)
{
	static const char d[] = "abcdef\033]0;t\a" HELLO "gh";
	struct buf out;
	struct sm *s = px__sm_new();
	struct sm_marker m;
	struct buf all;
	size_t i = 0;
	int seen_hello = 0, stalls = 0;

	(void)state;
	buf_init(&out, 3);
	buf_init(&all, 0);
	while (i < sizeof(d) - 1) {
		long k = px__sm_feed(s, (const uint8_t *)d + i, sizeof(d) - 1 - i, &out, &m);

		if (k < 0) {
			stalls++;
			assert_true(stalls < 100);
			assert_int_equal(buf_put(&all, buf_ptr(&out), buf_len(&out)), 0);
			buf_reset(&out);
			continue;
		}
		i += (size_t)k;
		if (m.kind == SM_HELLO)
			seen_hello++;
	}
	assert_int_equal(buf_put(&all, buf_ptr(&out), buf_len(&out)), 0);
	assert_true(stalls > 0);
	assert_int_equal(seen_hello, 1);
	assert_int_equal(buf_len(&all), 14);
	assert_memory_equal(buf_ptr(&all), "abcdef\033]0;t\agh", 14);
	/* a prefix cut by a full buffer is output once (not in part, then
	 * again whole) */
	{
		static const char d2[] = "123456]5379Z";

		buf_reset(&all);
		buf_free(&out);
		buf_init(&out, 8);
		stalls = 0;
		for (i = 0; i < sizeof(d2) - 1;) {
			long k = px__sm_feed(s, (const uint8_t *)d2 + i, sizeof(d2) - 1 - i, &out, &m);

			if (k < 0) {
				assert_true(++stalls < 100);
				assert_int_equal(buf_put(&all, buf_ptr(&out), buf_len(&out)), 0);
				buf_reset(&out);
				continue;
			}
			i += (size_t)k;
		}
		assert_int_equal(buf_put(&all, buf_ptr(&out), buf_len(&out)), 0);
		assert_int_equal(buf_len(&all), sizeof(d2) - 1);
		assert_memory_equal(buf_ptr(&all), d2, sizeof(d2) - 1);
		buf_reset(&all);
	}
	buf_free(&out);
	buf_free(&all);
	px__sm_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_prompt_fields),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_osc_passthrough),
		cmocka_unit_test(test_leak),
		cmocka_unit_test(test_bounded_hold),
		cmocka_unit_test(test_out_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
