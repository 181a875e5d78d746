/* test_rec_store: the store's defences against an insider: the Merkle
 * log of the journal and its signed tree heads, a journal that is never
 * recreated, recovery that only cuts unsigned tails of open sessions, and a
 * session file altered under the running writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "recorder/merkle.h"
#include "recorder/segment.h"
#include "recorder/treehead.h"
#include "tests/unit/rec_fixture.h"

/* MTH exactly as RFC 9162 2.1.1 writes it (recursive). */
static void
naive_mth(uint8_t (*l)[32], uint64_t n, uint8_t out[32])
{
	uint8_t b[65], left[32], right[32];
	uint64_t k = 1;

	if (n == 0) {
		SHA256((const uint8_t *)"", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, l[0], 32);
		return;
	}
	while (k << 1 < n)
		k <<= 1;
	naive_mth(l, k, left);
	naive_mth(l + k, n - k, right);
	b[0] = 1;
	memcpy(b + 1, left, 32);
	memcpy(b + 33, right, 32);
	SHA256(b, 65, out);
}

/* Roots against the RFC's recursion; every consistency proof between
 * sizes 1..40 verifies, and a changed hash or size does not. */
static void
test_merkle(void **state)
{
	uint8_t leaves[40][32], a[32], b[32], old[32], nw[32], (*p)[32];
	struct merkle_frontier f;
	uint64_t m, n;
	size_t np, i;
	uint8_t d = 0;

	(void)state;
	merkle_leaf("", 0, leaves[0]);
	SHA256(&d, 1, a);
	assert_memory_equal(leaves[0], a, 32);	/* SHA-256(0x00) */
	rec__merkle_frontier_init(&f);
	for (i = 0; i < 40; i++) {
		char e[16];

		snprintf(e, sizeof(e), "entry %zu", i);
		merkle_leaf(e, strlen(e), leaves[i]);
	}
	for (n = 0; n <= 40; n++) {
		naive_mth(leaves, n, a);
		merkle_root((const uint8_t (*)[32])leaves, n, b);
		assert_memory_equal(a, b, 32);
		rec__merkle_frontier_root(&f, b);
		assert_memory_equal(a, b, 32);
		if (n < 40)
			rec__merkle_frontier_add(&f, leaves[n]);
	}
	for (n = 1; n <= 40; n++)
		for (m = 1; m <= n; m++) {
			merkle_root((const uint8_t (*)[32])leaves, m, old);
			merkle_root((const uint8_t (*)[32])leaves, n, nw);
			assert_int_equal(merkle_consistency((const uint8_t (*)[32])
			    leaves, m, n, &p, &np), 0);
			assert_true(rec__merkle_consistency_verify(m, old, n, nw,
			    (const uint8_t (*)[32])p, np));
			if (m < n) {
				assert_false(rec__merkle_consistency_verify(m, nw, n,
				    nw, (const uint8_t (*)[32])p, np));
				if (np > 0) {
					p[np - 1][3] ^= 1;
					assert_false(rec__merkle_consistency_verify(m,
					    old, n, nw, (const uint8_t (*)[32])p,
					    np));
				}
			}
			free(p);
		}
}

/* A head survives its text form; a changed size or root fails the
 * signature; the text parser refuses junk. */
static void
test_treehead(void **state)
{
	struct fx *x = fx_new();
	struct tree_head h, g;
	char line[TREEHEAD_LINE_MAX];

	(void)state;
	memset(&h, 0, sizeof(h));
	h.size = 12345;
	memset(h.root, 0xab, sizeof(h.root));
	h.time_ns = 1700000000123456789ull;
	assert_int_equal(rec__treehead_sign(x->signer, &h), REC_OK);
	treehead_format(&h, line, sizeof(line));
	assert_int_equal(strncmp(line, "escort-head v1 12345 abab", 25), 0);
	assert_int_equal(rec__treehead_parse(line, &g), REC_OK);
	assert_memory_equal(&h, &g, sizeof(h));
	assert_int_equal(treehead_verify(x->verifier, &g), REC_OK);
	g.size++;
	assert_int_equal(treehead_verify(x->verifier, &g), REC_ESIG);
	assert_int_equal(rec__treehead_parse("escort-head v1 1 00 2 x", &g), REC_EFORMAT);
	assert_int_equal(rec__treehead_parse("escort-head v2 1", &g), REC_EFORMAT);
	fx_free(x);
}

/* Only a new store gets a journal; one that holds anything else and lost
 * its journal (or has an empty one) is refused; a damaged journal is
 * refused with the offset; a second opener is refused. */
static void
test_journal_never_recreated(void **state)
{
	struct fx *x = fx_new();
	struct journal *j = NULL;
	struct buf meta;
	struct tw *w;
	char path[512];
	uint8_t *orig;
	size_t n;
	uint64_t bad = 0;

	(void)state;
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "s1", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &j), REC_ESTATE);
	journal_close(x->journal);
	x->journal = NULL;
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	orig = fx_slurp(path, &n);
	unlink(path);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &j), REC_ENOENT);
	assert_int_equal(access(path, F_OK), -1);	/* not created */
	fx_spit(path, orig, 0);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &j), REC_ENOENT);
	orig[n / 2] ^= 0x10;		/* inside an entry, not at the tail */
	fx_spit(path, orig, n);
	assert_true(journal_open2(x->store, x->signer, 1, &j, &bad) == REC_ECRC);
	assert_true(bad > 0 && bad < n);
	orig[n / 2] ^= 0x10;
	fx_spit(path, orig, n);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &x->journal), REC_OK);
	free(orig);
	buf_free(&meta);
	fx_free(x);
}

/* Appends one well-formed (empty) DATA segment after the last checkpoint:
 * a forgery with valid framing and chain that a reader would accept. */
static void
forge_tail(const char *path, struct tw_state *st)
{
	struct buf seg;
	uint8_t payload[SEG_DATA_PREFIX + 4] = { 0 };
	struct seg_data d = { st->last_seq, st->last_seq, 0, 0, 1, 0 };
	int fd;

	buf_init(&seg, 0);
	rec__seg_data_put(payload, &d);
	assert_int_equal(rec__seg_encode(&seg, SEG_DATA, SEGF_CHUNK_START | SEGF_CHUNK_END,
	    st->segments, payload,
	    SEG_DATA_PREFIX), REC_OK);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf_ptr(&seg), buf_len(&seg)),
	    (ssize_t)buf_len(&seg));
	close(fd);
	buf_free(&seg);
}

/* The setup of the recovery tests: a live session id whose writer crashed
 * after a checkpoint, with a forged unsigned DATA segment after it.  Fills
 * path (the file) and *st (the writer's state at the checkpoint); returns
 * the file's size, forged tail included. */
static uint64_t
crashed_with_forged_tail(struct fx *x, const char *id, char *path,
    size_t pathlen, struct tw_state *st)
{
	struct buf meta;
	struct tw *w;
	struct stat sb;

	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, id, buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(rec__tw_checkpoint(w, st), REC_OK);
	tw_free(w);		/* the crash */
	tw_path(x->store, id, path, pathlen);
	forge_tail(path, st);
	assert_int_equal(stat(path, &sb), 0);
	buf_free(&meta);
	return (uint64_t)sb.st_size;
}

/* Recovery: a valid-looking but unsigned tail is cut back to the last
 * checkpoint and the cut is written down (journal, RECOVERY record, verify
 * says "recovered"); a closed session is never recovered, and a RECOVER
 * entry after its CLOSE is reported as tampering. */
static void
test_recover_rules(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct tw *w;
	struct tw_state st;
	struct tw_recovery rec;
	struct journal_entry e;
	char path[512];
	uint64_t bad = 0, size;
	struct stat sb;

	(void)state;
	size = crashed_with_forged_tail(x, "live", path, sizeof(path), &st);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);	/* unsigned, not wrong */
	assert_int_equal(tw_recover(path, x->signer, x->journal, &rec, &bad), REC_OK);
	assert_true(rec.cut);
	assert_true(rec.cut_offset == st.size);
	assert_true(rec.lost_bytes == size - st.size);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	/* Closed: never reopened, a junk byte stays visible. */
	assert_int_equal(tw_reopen(x->store, "live", x->signer, x->journal, NULL,
	    &w, &st), REC_OK);
	assert_int_equal(tw_close(w, &st, NULL), REC_OK);
	stat(path, &sb);
	assert_int_equal(truncate(path, sb.st_size - SEG_HDR_LEN - SEG_SEAL_LEN + 1),
	    0);
	assert_int_equal(tw_recover(path, x->signer, x->journal, &rec, &bad),
	    REC_ECLOSED);
	fx_verify(x, NULL, &rep);
	if (strstr(rep.last, "tampered") == NULL)
		fail_msg("%s", rep.last);
	/* A recovery entry after the close. */
	assert_int_equal(truncate(path, sb.st_size), 0);
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_RECOVER;
	snprintf(e.id, sizeof(e.id), "live");
	e.offset = st.size;
	e.text = "forged";
	assert_int_equal(rec__journal_append(x->journal, &e), REC_OK);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	fx_free(x);
}

/* A restart between a recovery's journal entry and its record in the file
 * (the RECOVER entry is synced, the file already cut, the record not
 * written): verify reports the record missing; the next recovery writes it
 * with the entry's figures, and the store verifies. */
static void
test_recover_finishes_after_a_crash_in_between(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct tw_state st;
	struct tw_recovery rec;
	struct journal_entry e;
	char path[512], text[200];
	uint64_t bad = 0, lost;

	(void)state;
	lost = crashed_with_forged_tail(x, "mid", path, sizeof(path), &st) -
	    st.size;
	/* what tw_recover had done when the second crash came */
	assert_int_equal(truncate(path, (off_t)st.size), 0);
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_RECOVER;
	snprintf(e.id, sizeof(e.id), "mid");
	e.seg_index = st.segments;
	e.offset = st.size;
	e.last_seq = st.last_seq;
	memcpy(e.head, st.head, SEAL_HASH_LEN);
	snprintf(text, sizeof(text), "cut %llu bytes at offset %llu: unsigned "
	    "data", (unsigned long long)lost, (unsigned long long)st.size);
	e.text = text;
	assert_int_equal(rec__journal_append(x->journal, &e), REC_OK);
	fx_verify(x, NULL, &rep);
	if (strstr(rep.last, "recovery record") == NULL)
		fail_msg("%s", rep.last);
	assert_int_equal(tw_recover(path, x->signer, x->journal, &rec, &bad), REC_OK);
	assert_true(rec.cut);
	assert_true(rec.cut_offset == st.size);
	assert_true(rec.lost_bytes == lost);
	assert_true(rec.size > st.size);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	assert_int_equal(rep.problems, 0);
	/* and it is finished once: a second recovery finds nothing to do */
	assert_int_equal(tw_recover(path, x->signer, x->journal, &rec, &bad), REC_OK);
	assert_false(rec.cut);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	assert_int_equal(rep.problems, 0);
	fx_free(x);
}

/* Every line verify_store reports, ok ones too. */
struct vlines {
	char text[8192];
	int problems;
};

static void
vlines_cb(void *arg, int ok, const char *session, uint32_t index,
    uint64_t offset, const char *msg)
{
	struct vlines *l = arg;
	size_t n = strlen(l->text);

	(void)index, (void)offset;
	if (ok == VERIFY_PROBLEM)
		l->problems++;
	snprintf(l->text + n, sizeof(l->text) - n, "%s: %s\n", session, msg);
}

/* journal_cb: the last CLOSE entry of the session named by arg's id. */
struct find_close {
	const char *id;
	struct journal_entry e;
	int found;
};

static int
find_close_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct find_close *f = arg;

	(void)index, (void)offset;
	if (e->kind == JOURNAL_CLOSE && strcmp(e->id, f->id) == 0) {
		f->e = *e;
		f->found = 1;
	}
	return 0;
}

/* A session id, closed unless open is set. */
static void
make_session(struct fx *x, const char *id, int open)
{
	struct buf meta;
	struct tw *w;
	struct tw_state st;

	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, id, buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	if (open) {
		assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
		tw_free(w);
	} else {
		assert_int_equal(tw_close(w, &st, NULL), REC_OK);
	}
	buf_free(&meta);
}

/* Appends the PRUNE entry the recorder writes for id (prune.c): its close
 * entry's FINAL index and last seq, the file's size (plus size_off) and
 * SHA-256; an open session gets index 0 and its file's size.  Its text is
 * the object's address followed by names ("" or "\nuser=U\ntarget=T",
 * journal_prune.h). */
static void
append_prune(struct fx *x, const char *id, int64_t size_off,
    const char *names)
{
	struct find_close f = { id, { 0 }, 0 };
	struct journal_entry e;
	char path[512], url[300];
	uint64_t bad = 0;
	uint8_t *data;
	size_t n;
	int torn = 0;

	assert_int_equal(journal_read(x->store, NULL, find_close_cb, &f, &bad,
	    &torn), REC_OK);
	tw_path(x->store, id, path, sizeof(path));
	data = fx_slurp(path, &n);
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_PRUNE;
	snprintf(e.id, sizeof(e.id), "%s", id);
	e.seg_index = f.found ? f.e.seg_index : 0;
	e.last_seq = f.found ? f.e.last_seq : 0;
	e.offset = (uint64_t)((int64_t)n + size_off);
	SHA256(data, n, e.head);
	e.wall_ns = 1;
	snprintf(url, sizeof(url), "s3://b/p/sessions/%s.est%s", id, names);
	e.text = url;
	assert_int_equal(rec__journal_append(x->journal, &e), REC_OK);
	free(data);
}

/* Prune entries (escort-transcript(5), kind 8): a session whose file is
 * gone behind a valid one is pruned, held in the bucket (intact); a file
 * present behind one is checked against its SHA-256; one that disagrees
 * with the close entry, or prunes an open session, is tampering; a file
 * gone without one is still deleted. */
static void
test_prune_entries(void **state)
{
	struct fx *x = fx_new();
	struct vlines l;
	char path[512];

	(void)state;
	make_session(x, "p1", 0);
	append_prune(x, "p1", 0, "\nuser=alice\ntarget=web01");
	tw_path(x->store, "p1", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	make_session(x, "p2", 0);
	append_prune(x, "p2", 1, "");
	tw_path(x->store, "p2", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	make_session(x, "p3", 1);
	append_prune(x, "p3", 0, "");
	make_session(x, "p4", 0);
	append_prune(x, "p4", 0, "");	/* its file stays: a copy */
	make_session(x, "p5", 0);
	tw_path(x->store, "p5", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	/* copies whose prune entry names their user and target, or others */
	make_session(x, "p6", 0);
	append_prune(x, "p6", 0, "\nuser=alice\ntarget=web01");
	make_session(x, "p7", 0);
	append_prune(x, "p7", 0, "\nuser=mallory\ntarget=web01");
	memset(&l, 0, sizeof(l));
	assert_int_equal(verify_store(x->store, x->verifier, NULL, 0, 0,
	    vlines_cb, &l), 4);
	if (strstr(l.text, "p1: pruned, held in s3://b/p/sessions/p1.est (") ==
	    NULL || strstr(l.text, "--store s3://b/p)") == NULL ||
	    strstr(l.text, "p2: tampered: the prune entry") == NULL ||
	    strstr(l.text, "disagrees with the session's close entry") == NULL ||
	    strstr(l.text, "p3: tampered: journal entry") == NULL ||
	    strstr(l.text, "prunes a session that was not closed") == NULL ||
	    strstr(l.text, "p4: ok: ") == NULL ||
	    strstr(l.text, "this is the file pruned") == NULL ||
	    strstr(l.text, "p5: session file") == NULL ||
	    strstr(l.text, "is missing (deleted)") == NULL ||
	    strstr(l.text, "p6: ok: ") == NULL ||
	    strstr(l.text, "p7: tampered: its prune entry (journal entry ") ==
	    NULL || strstr(l.text, ") names user \"mallory\" where the file's "
	    "META says \"alice\"") == NULL)
		fail_msg("%s", l.text);
	/* the copy changed: not the file pruned */
	tw_path(x->store, "p4", path, sizeof(path));
	assert_int_equal(truncate(path, 10), 0);
	memset(&l, 0, sizeof(l));
	assert_true(verify_store(x->store, x->verifier, NULL, 0, 0, vlines_cb,
	    &l) > 4);
	if (strstr(l.text, "p4: tampered: the file is not the one its prune "
	    "entry") == NULL)
		fail_msg("%s", l.text);
	fx_free(x);
}

/* A session file cut under the running writer: the next write fails with
 * REC_ETAMPER and the journal keeps an ALTERED entry that verify reports. */
static void
test_altered_under_writer(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct buf meta, ev;
	struct tw *w;
	struct tw_state st, st2;
	char path[512];

	(void)state;
	buf_init(&meta, 0);
	buf_init(&ev, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "cut", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(ev_encode_parts(&ev, 2, 10, EV_OUTPUT, 0, "hello", 5),
	    REC_OK);
	assert_int_equal(tw_append(w, buf_ptr(&ev), buf_len(&ev)), REC_OK);
	assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
	buf_reset(&ev);
	assert_int_equal(ev_encode_parts(&ev, 3, 20, EV_OUTPUT, 0, "world", 5),
	    REC_OK);
	assert_int_equal(tw_append(w, buf_ptr(&ev), buf_len(&ev)), REC_OK);
	assert_int_equal(tw_flush(w, &st2), REC_OK);
	tw_path(x->store, "cut", path, sizeof(path));
	assert_int_equal(truncate(path, (off_t)st.size), 0);
	assert_int_equal(rec__tw_checkpoint(w, &st2), REC_ETAMPER);
	tw_free(w);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	assert_non_null(strstr(rep.last, "found cut"));
	buf_free(&ev);
	buf_free(&meta);
	fx_free(x);
}

/* The journal cut under the running recorder: it stops appending rather
 * than hide the cut behind new entries. */
static void
test_journal_cut_under_recorder(void **state)
{
	struct fx *x = fx_new();
	struct journal_entry e;
	char path[512];

	(void)state;
	memset(&e, 0, sizeof(e));
	e.kind = JOURNAL_OPEN;
	snprintf(e.id, sizeof(e.id), "s");
	assert_int_equal(rec__journal_append(x->journal, &e), REC_OK);
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(rec__journal_append(x->journal, &e), REC_ETAMPER);
	assert_int_equal(rec__journal_append(x->journal, &e), REC_ESTATE);
	fx_free(x);
}

/* Tree heads: one per close in heads.esh, each extended by the journal;
 * after a rollback of the journal (truncated at an entry boundary) an
 * anchor kept elsewhere names the first head the store contradicts. */
static void
test_heads_and_anchor(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct buf meta;
	struct tw *w;
	struct tree_head h;
	char path[512], anchor[512], id[8];
	uint8_t *orig;
	size_t n, half = 0;
	FILE *f;
	int i;

	(void)state;
	buf_init(&meta, 0);
	fx_meta(&meta);
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	for (i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		assert_int_equal(tw_create(x->store, id, buf_ptr(&meta),
		    buf_len(&meta), x->signer, x->journal, NULL, &w), REC_OK);
		assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
		if (i == 1) {
			orig = fx_slurp(path, &half);
			free(orig);
		}
	}
	assert_int_equal(journal_head_issue(x->journal, 1, &h), REC_OK);
	assert_true(h.size == 9);	/* CREATE + 4 x (OPEN, CLOSE) */
	snprintf(anchor, sizeof(anchor), "%s/anchor", x->dir);
	f = fopen(anchor, "w");
	{
		char line[TREEHEAD_LINE_MAX];

		treehead_format(&h, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(verify_store_anchored(x->store, x->verifier, NULL, 0, 0,
	    anchor, fx_report_cb, &rep), 0);
	/* Roll the journal back to after s1 and delete s2, s3 (and the
	 * heads file, to which the insider can write as well). */
	journal_close(x->journal);
	x->journal = NULL;
	orig = fx_slurp(path, &n);
	fx_spit(path, orig, half);
	free(orig);
	snprintf(path, sizeof(path), "%s/sessions/s2.est", x->store);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sessions/s3.est", x->store);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", x->store, TREEHEAD_FILE);
	unlink(path);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);	/* no anchor: blind */
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(verify_store_anchored(x->store, x->verifier, NULL, 0, 0,
	    anchor, fx_report_cb, &rep), 1);
	assert_non_null(strstr(rep.last, "contradicts this tree head (size 9"));
	buf_free(&meta);
	fx_free(x);
}

/* The administrator's rebuild: the old journal is kept aside, the new one
 * starts with a REBUILD entry holding the reason (verify reports it), and
 * lists the sessions that verify with the key. */
static void
test_rebuild(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct buf meta;
	struct tw *w;
	char path[512];

	(void)state;
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "a", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	assert_int_equal(tw_create(x->store, "b", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(rec__tw_checkpoint(w, NULL), REC_OK);
	tw_free(w);
	assert_int_equal(journal_rebuild(x->store, x->signer, "disk replaced",
	    NULL, NULL), REC_ESTATE);
	journal_close(x->journal);
	x->journal = NULL;
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	unlink(path);
	assert_int_equal(journal_rebuild(x->store, x->signer, "disk replaced",
	    NULL, NULL), REC_OK);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &x->journal), REC_OK);
	buf_free(&meta);
	fx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle),
		cmocka_unit_test(test_treehead),
		cmocka_unit_test(test_journal_never_recreated),
		cmocka_unit_test(test_recover_rules),
		cmocka_unit_test(test_recover_finishes_after_a_crash_in_between),
		cmocka_unit_test(test_prune_entries),
		cmocka_unit_test(test_altered_under_writer),
		cmocka_unit_test(test_journal_cut_under_recorder),
		cmocka_unit_test(test_heads_and_anchor),
		cmocka_unit_test(test_rebuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
