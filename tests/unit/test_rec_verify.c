/* Unit tests: verification finds every single-byte change, every
 * truncation, reordered segments, deleted sessions and foreign keys, and
 * passes an untouched store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/rec_fixture.h"
#include "recorder/segment.h"

/* Writes a small closed session "small" (and an open one "other"). */
static void
write_sessions(struct fx *x)
{
	struct buf meta, b;
	struct tw *w, *w2;
	uint64_t i;

	buf_init(&meta, 0);
	buf_init(&b, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "small", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(tw_create(x->store, "other", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w2), REC_OK);
	for (i = 2; i < 8; i++) {
		buf_reset(&b);
		ev_encode_parts(&b, i, i * 100, EV_OUTPUT, 0, "hello world\r\n", 13);
		assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
		assert_int_equal(tw_append(w2, buf_ptr(&b), buf_len(&b)), REC_OK);
		assert_int_equal(tw_flush(w, NULL), REC_OK);
		if (i == 4)
			assert_int_equal(rec__tw_checkpoint(w, NULL), REC_OK);
	}
	assert_int_equal(rec__tw_checkpoint(w2, NULL), REC_OK);
	buf_reset(&b);
	ev_encode_parts(&b, 8, 900, EV_END, 0, NULL, 0);
	assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	tw_free(w2);	/* left open, as while the recorder runs */
	buf_free(&meta);
	buf_free(&b);
}

static void
test_untouched_passes(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	const char *ids[] = { "small" };

	(void)state;
	write_sessions(x);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	assert_int_equal(verify_store(x->store, x->verifier, ids, 1, VERIFY_DEEP,
	    fx_report_cb, &rep), 0);
	fx_free(x);
}

/* Flipping any bit pattern of any single byte is detected and located. */
static void
flip_every_byte(struct fx *x, const char *path, const char *expect)
{
	struct fx_report rep;
	uint8_t *orig;
	size_t n, i;

	orig = fx_slurp(path, &n);
	assert_non_null(orig);
	for (i = 0; i < n; i++) {
		orig[i] ^= (uint8_t)(1u << (i % 8));
		fx_spit(path, orig, n);
		orig[i] ^= (uint8_t)(1u << (i % 8));
		fx_verify(x, NULL, &rep);
		if (rep.problems == 0)
			fail_msg("flip at offset %zu of %s not detected", i, path);
		if (strstr(rep.last, expect) == NULL)
			fail_msg("flip at %zu: report does not name %s: %s", i,
			    expect, rep.last);
	}
	fx_spit(path, orig, n);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	free(orig);
}

static void
test_flip_every_byte(void **state)
{
	struct fx *x = fx_new();
	char path[512];

	(void)state;
	write_sessions(x);
	tw_path(x->store, "small", path, sizeof(path));
	flip_every_byte(x, path, "small: segment ");
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	flip_every_byte(x, path, "journal: segment ");
	fx_free(x);
}

static void
test_truncate_everywhere(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	char path[512];
	uint8_t *orig;
	size_t n, i;

	(void)state;
	write_sessions(x);
	tw_path(x->store, "small", path, sizeof(path));
	orig = fx_slurp(path, &n);
	for (i = 0; i < n; i++) {
		fx_spit(path, orig, i);
		fx_verify(x, NULL, &rep);
		if (rep.problems == 0)
			fail_msg("truncation at %zu not detected", i);
		assert_non_null(strstr(rep.last, "small: "));
	}
	fx_spit(path, orig, n);
	free(orig);
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	orig = fx_slurp(path, &n);
	for (i = 0; i < n; i++) {
		fx_spit(path, orig, i);
		fx_verify(x, NULL, &rep);
		if (rep.problems == 0)
			fail_msg("journal truncation at %zu not detected", i);
	}
	free(orig);
	fx_free(x);
}

static void
test_reorder_segments(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct seg s;
	char path[512];
	uint8_t *orig, *re;
	size_t n, off = 0, used, offs[32], lens[32], k = 0;

	(void)state;
	write_sessions(x);
	tw_path(x->store, "small", path, sizeof(path));
	orig = fx_slurp(path, &n);
	while (off < n && k < 32) {
		assert_int_equal(seg_decode(orig + off, n - off, &s, &used), REC_OK);
		offs[k] = off;
		lens[k++] = used;
		off += used;
	}
	assert_true(k > 4);
	/* Swap segments 1 and 2 (two data segments). */
	re = malloc(n);
	memcpy(re, orig, n);
	memcpy(re + offs[1], orig + offs[2], lens[2]);
	memcpy(re + offs[1] + lens[2], orig + offs[1], lens[1]);
	fx_spit(path, re, n);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	assert_non_null(strstr(rep.last, "small: segment 1 "));
	/* Drop segment 2 entirely. */
	memcpy(re, orig, offs[2]);
	memcpy(re + offs[2], orig + offs[3], n - offs[3]);
	fx_spit(path, re, n - lens[2]);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	fx_spit(path, orig, n);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	free(re);
	free(orig);
	fx_free(x);
}

static void
test_deleted_and_foreign(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	char path[512], path2[512];
	uint8_t *orig;
	size_t n;

	(void)state;
	write_sessions(x);
	tw_path(x->store, "small", path, sizeof(path));
	orig = fx_slurp(path, &n);
	assert_int_equal(unlink(path), 0);
	fx_verify(x, NULL, &rep);
	assert_int_equal(rep.problems, 1);
	assert_non_null(strstr(rep.last, "small: "));
	assert_non_null(strstr(rep.last, "missing"));
	/* The same bytes under another name: not in the journal, wrong id. */
	tw_path(x->store, "ghost", path2, sizeof(path2));
	fx_spit(path2, orig, n);
	fx_spit(path, orig, n);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems >= 1);
	assert_non_null(strstr(rep.last, "ghost"));
	unlink(path2);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	free(orig);
	fx_free(x);
}

static void
test_wrong_key(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct seal_verifier *other;

	(void)state;
	write_sessions(x);
	assert_int_equal(seal_verifier_load(x->otherpub, &other), REC_OK);
	fx_verify(x, other, &rep);
	assert_true(rep.problems >= 2);
	seal_verifier_free(other);
	assert_int_equal(seal_verifier_load("/nonexistent.pem", &other), REC_ENOENT);
	assert_int_equal(seal_verifier_load(x->store, &other) < 0, 1);
	fx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched_passes),
		cmocka_unit_test(test_flip_every_byte),
		cmocka_unit_test(test_truncate_everywhere),
		cmocka_unit_test(test_reorder_segments),
		cmocka_unit_test(test_deleted_and_foreign),
		cmocka_unit_test(test_wrong_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
