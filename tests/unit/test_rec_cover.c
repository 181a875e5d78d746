/* test_rec_cover: a reader's check of the journal under the cover of the
 * newest tree head (VERIFY_READER, journal_cover): it finds what the full
 * check finds, and the recorder refuses to start on a journal holding an
 * entry its key did not sign, so that no head it signs ever covers one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "recorder/merkle.h"
#include "recorder/segment.h"
#include "recorder/treehead.h"
#include "tests/unit/rec_fixture.h"

/* Four closed sessions s0..s3: CREATE + 4 x (OPEN, CLOSE), a head at
 * every close. */
static struct fx *
cover_store(void)
{
	struct fx *x = fx_new();
	struct buf meta;
	struct tw *w;
	char id[16];
	int i;

	buf_init(&meta, 0);
	fx_meta(&meta);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		assert_int_equal(tw_create(x->store, id, buf_ptr(&meta),
		    buf_len(&meta), x->signer, x->journal, NULL, &w), REC_OK);
		assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	}
	buf_free(&meta);
	return x;
}

static int
reader_verify(struct fx *x, const char *id, struct fx_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return verify_store(x->store, x->verifier, &id, 1, VERIFY_READER,
	    fx_report_cb, rep);
}

static int
full_verify(struct fx *x, const char *id, struct fx_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return verify_store(x->store, x->verifier, &id, 1, 0, fx_report_cb,
	    rep);
}

/* Flips a bit of the signature of journal entry k and writes the segment
 * back with a CRC that matches: only the signature check can see it. */
static void
forge_entry(struct fx *x, uint32_t k)
{
	char path[512];
	uint8_t *p;
	size_t n, off = 0, used;
	struct seg s;
	struct buf out;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	p = fx_slurp(path, &n);
	for (i = 0; i < k; i++) {
		assert_int_equal(seg_decode(p + off, n - off, &s, &used), REC_OK);
		off += used;
	}
	assert_int_equal(seg_decode(p + off, n - off, &s, &used), REC_OK);
	((uint8_t *)s.payload)[s.len - 1] ^= 1;
	buf_init(&out, 0);
	assert_int_equal(rec__seg_encode(&out, s.type, s.flags, s.index, s.payload,
	    s.len), REC_OK);
	assert_int_equal(buf_len(&out), used);
	memcpy(p + off, buf_ptr(&out), used);
	buf_free(&out);
	fx_spit(path, p, n);
	free(p);
}

/* Signs, as the key holder, a head over the journal as it is now and
 * appends it to heads.esh: what a recorder that did not authenticate the
 * journal at start would have done. */
static void
sign_head_over_journal(struct fx *x)
{
	char path[512], line[TREEHEAD_LINE_MAX];
	uint8_t *p, (*leaves)[MERKLE_HASH_LEN];
	size_t n, off = 0, used, k = 0;
	struct tree_head h;
	struct seg s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	p = fx_slurp(path, &n);
	leaves = calloc(64, MERKLE_HASH_LEN);
	while (off < n && seg_decode(p + off, n - off, &s, &used) == REC_OK) {
		merkle_leaf(p + off, used, leaves[k++]);
		off += used;
	}
	memset(&h, 0, sizeof(h));
	h.size = k;
	merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])leaves, k, h.root);
	h.time_ns = 1;
	assert_int_equal(rec__treehead_sign(x->signer, &h), REC_OK);
	treehead_format(&h, line, sizeof(line));
	snprintf(path, sizeof(path), "%s/%s", x->store, TREEHEAD_FILE);
	f = fopen(path, "a");
	fprintf(f, "%s\n", line);
	fclose(f);
	free(leaves);
	free(p);
}

/* An intact store: the reader's check and the full one agree. */
static void
test_cover_intact(void **state)
{
	struct fx *x = cover_store();
	struct fx_report rep;

	(void)state;
	assert_int_equal(reader_verify(x, "s1", &rep), 0);
	assert_int_equal(full_verify(x, "s1", &rep), 0);
	fx_free(x);
}

/* A forged entry of another session, anywhere in the journal: the head's
 * root no longer holds, the reader checks every signature and names the
 * entry as the full check does. */
static void
test_cover_forged_entry_found(void **state)
{
	struct fx *x = cover_store();
	static const uint32_t forged[] = { 8, 3 };	/* s3's CLOSE (the
							   last), s1's OPEN */
	struct fx_report rep, full;
	size_t i;

	(void)state;
	journal_close(x->journal);
	x->journal = NULL;
	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		uint32_t k = forged[i];

		forge_entry(x, k);
		assert_true(reader_verify(x, "s0", &rep) >= 1);
		assert_int_equal(full_verify(x, "s0", &full), rep.problems);
		assert_string_equal(rep.last, full.last);
		assert_non_null(strstr(rep.last, "signature does not verify"));
		forge_entry(x, k);	/* back as it was */
		assert_int_equal(reader_verify(x, "s0", &rep), 0);
	}
	fx_free(x);
}

/* A head line forged by the insider (more entries than the journal
 * holds, no valid signature): no cover; the sessions still verify and
 * the line is reported as by the full check. */
static void
test_cover_forged_head(void **state)
{
	struct fx *x = cover_store();
	struct fx_report rep, full;
	struct tree_head h;
	char path[512], line[TREEHEAD_LINE_MAX];
	FILE *f;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.size = 99;
	treehead_format(&h, line, sizeof(line));
	snprintf(path, sizeof(path), "%s/%s", x->store, TREEHEAD_FILE);
	f = fopen(path, "a");
	fprintf(f, "%s\n", line);
	fclose(f);
	assert_int_equal(reader_verify(x, "s2", &rep), 1);
	assert_int_equal(full_verify(x, "s2", &full), 1);
	assert_string_equal(rep.last, full.last);
	assert_non_null(strstr(rep.last, "heads: "));
	fx_free(x);
}

/* The entries of the session read keep their own signature check even
 * under a head that holds; and the recorder does not start on a journal
 * with an entry its key did not sign, so that it never signs a head over
 * one. */
static void
test_cover_own_entries_and_recorder_start(void **state)
{
	struct fx *x = cover_store();
	struct fx_report rep;
	uint64_t bad = 0;

	(void)state;
	journal_close(x->journal);
	x->journal = NULL;
	forge_entry(x, 8);		/* s3's CLOSE */
	assert_int_equal(journal_open2(x->store, x->signer, 1, &x->journal,
	    &bad), REC_ESIG);
	assert_true(bad > 0);
	/* Had a head been signed over it anyway (and the heads before it
	 * removed): the reader of s3 still sees the forged entry; a reader
	 * of s2 relies on the head. */
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/%s", x->store, TREEHEAD_FILE);
		unlink(path);
	}
	sign_head_over_journal(x);
	assert_true(reader_verify(x, "s3", &rep) >= 1);
	assert_non_null(strstr(rep.last, "journal: "));
	assert_non_null(strstr(rep.last, "signature does not verify"));
	assert_int_equal(reader_verify(x, "s2", &rep), 0);
	forge_entry(x, 8);
	/* Intact again (the head over the forged journal now contradicts
	 * it): the recorder starts, authenticating the journal by the
	 * entries' own signatures. */
	assert_int_equal(journal_open2(x->store, x->signer, 1, &x->journal,
	    &bad), REC_OK);
	fx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cover_intact),
		cmocka_unit_test(test_cover_forged_entry_found),
		cmocka_unit_test(test_cover_forged_head),
		cmocka_unit_test(test_cover_own_entries_and_recorder_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
