/* Unit tests: the fast pass of verify_file (CRCs under a verified seal
 * not computed, a large file's second half read and hashed on a second
 * thread, verify_split.c) gives the same result as the full pass, byte
 * for byte changes included, in a session file larger than the size that
 * takes the second thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "tests/unit/rec_fixture.h"
#include "recorder/segment.h"

#define BIG_EVENTS 700		/* of 32 KiB of random bytes: 22 MiB */
#define BIG_EVENT (32u << 10)

/* Writes the closed session "big", a checkpoint every 16 events. */
static void
write_big(struct fx *x)
{
	struct buf meta, b;
	struct tw *w;
	uint64_t i, r = 88172645463325252ull;
	uint8_t *p;
	size_t k;

	buf_init(&meta, 0);
	buf_init(&b, 0);
	fx_meta(&meta);
	assert_non_null(p = malloc(BIG_EVENT));
	assert_int_equal(tw_create(x->store, "big", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	for (i = 2; i < BIG_EVENTS + 2; i++) {
		for (k = 0; k < BIG_EVENT; k++) {	/* xorshift64 */
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			p[k] = (uint8_t)r;
		}
		buf_reset(&b);
		ev_encode_parts(&b, i, i * 1000, EV_OUTPUT, 0, p, BIG_EVENT);
		assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
		assert_int_equal(tw_flush(w, NULL), REC_OK);
		if (i % 16 == 0)
			assert_int_equal(rec__tw_checkpoint(w, NULL), REC_OK);
	}
	buf_reset(&b);
	ev_encode_parts(&b, i, i * 1000, EV_END, 0, NULL, 0);
	assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	free(p);
	buf_free(&meta);
	buf_free(&b);
}

static void
big_path(const struct fx *x, char *out, size_t n)
{
	snprintf(out, n, "%s/sessions/big.est", x->store);
}

/* verify_file with the key (the fast pass first) and without (the full
 * pass: every CRC in file order) agree on everything but signatures. */
static void
check_same(const char *path, const struct seal_verifier *v, int expect_ok)
{
	struct verify_file_result a, b;
	size_t i;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(verify_file(fd, "big", v, VERIFY_READER, &a), REC_OK);
	assert_int_equal(verify_file(fd, "big", NULL, 0, &b), REC_OK);
	close(fd);
	if (expect_ok)
		assert_int_equal(a.err, REC_OK);
	else
		assert_int_not_equal(a.err, REC_OK);
	assert_int_equal(a.err, b.err);
	assert_int_equal(a.err_index, b.err_index);
	assert_int_equal(a.err_offset, b.err_offset);
	assert_string_equal(a.msg, b.msg);
	assert_int_equal(a.segments, b.segments);
	assert_int_equal(a.valid_end, b.valid_end);
	assert_int_equal(a.tail_torn, b.tail_torn);
	assert_int_equal(a.last_seq, b.last_seq);
	assert_int_equal(a.raw_bytes, b.raw_bytes);
	assert_int_equal(a.finished, b.finished);
	assert_memory_equal(a.head, b.head, SEAL_HASH_LEN);
	assert_int_equal(a.nseg, b.nseg);
	for (i = 0; i < a.nseg; i++) {
		assert_int_equal(a.seg[i].offset, b.seg[i].offset);
		assert_memory_equal(a.seg[i].head_before, b.seg[i].head_before,
		    SEAL_HASH_LEN);
		assert_memory_equal(a.seg[i].head_after, b.seg[i].head_after,
		    SEAL_HASH_LEN);
	}
	verify_file_result_free(&a);
	verify_file_result_free(&b);
}

static void
test_big_untouched(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	char path[400];

	(void)state;
	write_big(x);
	big_path(x, path, sizeof(path));
	check_same(path, x->verifier, 1);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	fx_free(x);
}

/* A byte changed in a header, a DATA prefix, a payload or a checkpoint of
 * either half, and a file cut in the second half: found, located and
 * worded as the full pass does. */
static void
test_big_changed(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct seg s;
	char path[400];
	uint8_t *orig;
	size_t n = 0, off, used = 0, i, nhit = 0;
	size_t hits[16];

	(void)state;
	write_big(x);
	big_path(x, path, sizeof(path));
	orig = fx_slurp(path, &n);
	assert_non_null(orig);
	assert_true(n > (20u << 20));
	/* per half: a segment header, a DATA prefix, a payload byte, and a
	 * checkpoint's claimed head */
	for (off = 0; off < n && nhit < 12; off += used) {
		assert_int_equal(seg_decode(orig + off, n - off, &s, &used), REC_OK);
		if ((off > n / 10 && off < n / 10 + used) ||
		    (off > n * 6 / 10 && off < n * 6 / 10 + used)) {
			hits[nhit++] = off + 9;			/* index */
			hits[nhit++] = off + SEG_HDR_LEN + 3;	/* prefix */
			hits[nhit++] = off + used - 1;		/* payload */
		}
		if (s.type == SEG_CHECKPOINT && ((off > n / 4 && nhit < 4) ||
		    (off > n * 3 / 4 && nhit < 8)))
			hits[nhit++] = off + SEG_HDR_LEN + 20;	/* head */
	}
	assert_true(nhit >= 6);
	for (i = 0; i < nhit; i++) {
		orig[hits[i]] ^= 0x40;
		fx_spit(path, orig, n);
		orig[hits[i]] ^= 0x40;
		check_same(path, x->verifier, 0);
		fx_verify(x, NULL, &rep);
		if (rep.problems == 0)
			fail_msg("change at offset %zu not found", hits[i]);
	}
	fx_spit(path, orig, n * 7 / 10);	/* cut: an incomplete segment */
	check_same(path, x->verifier, 1);
	fx_spit(path, orig, n);
	check_same(path, x->verifier, 1);
	free(orig);
	fx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_untouched),
		cmocka_unit_test(test_big_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
