/* Unit tests: transcript writer and reader, byte for byte, with every event
 * type, live follow, seeking and torn-tail recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "common/crc32c.h"
#include "recorder/segment.h"
#include "tests/unit/rec_fixture.h"

static uint64_t
tw_now_mono_for_test(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A deterministic event list covering every type the sender produces. */
struct tev {
	uint16_t type;
	uint32_t channel;
	uint8_t *data;
	uint32_t len;
};

static struct tev *
make_events(size_t n, size_t *count)
{
	struct tev *v = calloc(n, sizeof(*v));
	struct buf f;
	size_t i, j;

	for (i = 0; i < n; i++) {
		buf_init(&f, 0);
		v[i].type = (uint16_t)(EV_INPUT + i % (EV_END - EV_INPUT + 1));
		if (v[i].type == EV_RECOVERY)
			v[i].type = EV_OUTPUT;	/* written by the recorder only */
		v[i].channel = (uint32_t)(i % 3);
		switch (v[i].type) {
		case EV_INPUT:
		case EV_OUTPUT:
		case EV_STDERR:
			/* Binary bytes of every value, varied sizes. */
			for (j = 0; j < (i * 37) % 5000 + 1; j++)
				buf_put_u8(&f, (uint8_t)(j * 31 + i));
			break;
		case EV_RESIZE:
			ev_fields_put_u64(&f, EVF_COLS, 80 + i);
			ev_fields_put_u64(&f, EVF_ROWS, 24);
			break;
		case EV_CHANNEL:
			ev_fields_put_str(&f, EVF_CH_ACTION, "exec");
			ev_fields_put_str(&f, EVF_COMMAND, "uptime");
			break;
		case EV_DECISION:
			ev_fields_put_str(&f, EVF_VERDICT, "allow");
			ev_fields_put_str(&f, EVF_COMMAND, "systemctl status nginx");
			ev_fields_put_str(&f, EVF_RULE, "vendors-on-prod");
			ev_fields_put_u64(&f, EVF_RULE_LINE, 12);
			break;
		case EV_ESCORT:
			ev_fields_put_str(&f, EVF_ESC_ACTION, "join");
			ev_fields_put_str(&f, EVF_ESCORT, "bob");
			break;
		case EV_FILE:
			ev_fields_put_str(&f, EVF_PATH, "/tmp/x");
			ev_fields_put_str(&f, EVF_DIRECTION, "upload");
			ev_fields_put_u64(&f, EVF_OFFSET, 0);
			ev_fields_put(&f, EVF_CONTENT, "\0\1\2\3", 4);
			break;
		case EV_MARKER:
			ev_fields_put_str(&f, EVF_TEXT, "marker");
			break;
		case EV_EXIT:
			ev_fields_put_u64(&f, EVF_EXIT_STATUS, i % 256);
			break;
		default:
			break;
		}
		v[i].len = (uint32_t)buf_len(&f);
		v[i].data = malloc(v[i].len + 1);
		if (v[i].len > 0)
			memcpy(v[i].data, buf_ptr(&f), v[i].len);
		buf_free(&f);
	}
	*count = n;
	return v;
}

static void
free_events(struct tev *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].data);
	free(v);
}

/* Appends events [from, to) (seq = index + 2, META is seq 1). */
static void
append_events(struct tw *w, const struct tev *v, size_t from, size_t to)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = from; i < to; i++)
		assert_int_equal(ev_encode_parts(&b, i + 2, 1000 * (i + 1),
		    v[i].type, v[i].channel, v[i].data, v[i].len), REC_OK);
	assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
	buf_free(&b);
}

static void
check_event(const struct ev *e, const struct tev *v, size_t i)
{
	assert_true(e->seq == i + 2);
	assert_true(e->t_ns == 1000 * (i + 1));
	assert_int_equal(e->type, v[i].type);
	assert_int_equal(e->channel, v[i].channel);
	assert_int_equal(e->len, v[i].len);
	if (e->len > 0)
		assert_memory_equal(e->data, v[i].data, e->len);
}

static void
test_roundtrip(void **state)
{
	struct fx *x = fx_new();
	struct buf meta;
	struct tw *w;
	struct tr *r;
	struct tev *v;
	struct ev e;
	struct tw_state st;
	struct seal_receipt rc;
	struct fx_report rep;
	char path[512];
	size_t n, i;
	uint8_t *big;

	(void)state;
	v = make_events(600, &n);
	/* One maximal event, too. */
	free(v[n - 1].data);
	big = malloc(EV_PAYLOAD_MAX);
	for (i = 0; i < EV_PAYLOAD_MAX; i++)
		big[i] = (uint8_t)(i * 7 / 3);
	v[n - 1].type = EV_OUTPUT;
	v[n - 1].data = big;
	v[n - 1].len = EV_PAYLOAD_MAX;
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "s1", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	{
		struct tw *w2;

		assert_int_equal(tw_create(x->store, "s1", buf_ptr(&meta),
		    buf_len(&meta), x->signer, x->journal, NULL, &w2), REC_EEXIST);
	}
	for (i = 0; i < n; i += 50) {
		append_events(w, v, i, i + 50 < n ? i + 50 : n);
		assert_int_equal(tw_flush(w, &st), REC_OK);
		assert_true(st.last_seq == (i + 50 < n ? i + 50 : n) + 1);
		if (i == 300)
			assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
	}
	/* A gap in seq is refused and changes nothing. */
	{
		struct buf b;

		buf_init(&b, 0);
		ev_encode_parts(&b, n + 5, 0, EV_OUTPUT, 0, "x", 1);
		assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_ESEQ);
		buf_free(&b);
	}
	assert_int_equal(tw_close(w, &st, &rc), REC_OK);
	assert_true(rc.cp.last_seq == n + 1);
	assert_int_equal(seal_receipt_verify(x->verifier, &rc), REC_OK);

	assert_int_equal(tw_path(x->store, "s1", path, sizeof(path)), REC_OK);
	assert_int_equal(tr_open(path, &r), REC_OK);
	assert_string_equal(tr_id(r), "s1");
	assert_int_equal(tr_next(r, &e), 1);
	assert_int_equal(e.type, EV_META);
	assert_true(e.seq == 1);
	assert_int_equal(e.len + EV_HDR_LEN, buf_len(&meta));
	assert_memory_equal(e.data, buf_ptr(&meta) + EV_HDR_LEN, e.len);
	for (i = 0; i < n; i++) {
		assert_int_equal(tr_next(r, &e), 1);
		check_event(&e, v, i);
	}
	assert_int_equal(tr_next(r, &e), 0);
	assert_true(tr_finished(r));

	/* Seeking by seq and by time lands on the right event. */
	assert_int_equal(tr_seek_seq(r, 400), REC_OK);
	assert_int_equal(tr_next(r, &e), 1);
	assert_true(e.seq == 400);
	assert_int_equal(tr_seek_time(r, 1000 * 123), REC_OK);
	assert_int_equal(tr_next(r, &e), 1);
	check_event(&e, v, 122);
	assert_int_equal(tr_seek_seq(r, 1), REC_OK);
	assert_int_equal(tr_next(r, &e), 1);
	assert_int_equal(e.type, EV_META);
	tr_free(r);

	fx_verify(x, NULL, &rep);
	if (rep.problems)
		fprintf(stderr, "%s\n", rep.last);
	assert_int_equal(rep.problems, 0);
	assert_int_equal(verify_store(x->store, x->verifier, NULL, 0, VERIFY_DEEP,
	    fx_report_cb, &rep), 0);
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

static void
test_live_follow(void **state)
{
	struct fx *x = fx_new();
	struct buf meta;
	struct tw *w;
	struct tr *r;
	struct tev *v;
	struct ev e;
	char path[512];
	size_t n, i, got = 0;

	(void)state;
	v = make_events(40, &n);
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "live", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	tw_path(x->store, "live", path, sizeof(path));
	assert_int_equal(tr_open(path, &r), REC_OK);
	assert_int_equal(tr_next(r, &e), 1);	/* META */
	assert_int_equal(tr_next(r, &e), 0);	/* nothing yet */
	for (i = 0; i < n; i += 10) {
		append_events(w, v, i, i + 10);
		assert_int_equal(tr_next(r, &e), 0);	/* appended, not flushed */
		assert_int_equal(tw_flush(w, NULL), REC_OK);
		while (tr_next(r, &e) == 1)
			check_event(&e, v, got++);
		assert_int_equal(got, i + 10);
		assert_false(tr_finished(r));
	}
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	assert_int_equal(tr_next(r, &e), 0);
	assert_true(tr_finished(r));
	tr_free(r);
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

/*
 * Writes an unfinished session with many flushes, then for many cut
 * offsets: truncate a copy, recover it, and check that every event of every
 * complete segment is still there, a signed RECOVERY follows, the file
 * verifies, and writing can resume.
 */
static void
test_recover_torn(void **state)
{
	struct fx *x = fx_new();
	struct buf meta;
	struct tw *w;
	struct tr *r;
	struct tev *v;
	struct ev e;
	struct tw_state st;
	struct tw_recovery rec;
	struct verify_file_result vr;
	char path[512];
	uint64_t ends[64], seqs[64], bad;
	size_t n, i, nflush = 0, cut, k;
	uint8_t *orig;
	size_t origlen = 0;
	int fd, recovered;

	(void)state;
	v = make_events(200, &n);
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "torn", buf_ptr(&meta), buf_len(&meta),
	    x->signer, NULL, NULL, &w), REC_OK);
	tw_get_state(w, &st);
	ends[nflush] = st.size;
	seqs[nflush++] = st.last_seq;
	for (i = 0; i < n; i += 10) {
		append_events(w, v, i, i + 10);
		assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
		ends[nflush] = st.size;
		seqs[nflush++] = st.last_seq;
	}
	tw_free(w);
	tw_path(x->store, "torn", path, sizeof(path));
	orig = fx_slurp(path, &origlen);
	assert_int_equal(origlen, ends[nflush - 1]);
	for (cut = ends[0]; cut < origlen; cut += 173) {
		fx_spit(path, orig, cut);
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(tw_recover(path, x->signer, NULL, &rec, &bad), REC_OK);
		/* What is kept: up to the last checkpoint ending at or before
		 * cut (the unsigned rest could be a forgery). */
		for (k = 0; k + 1 < nflush && ends[k + 1] <= cut; k++)
			;
		assert_true(rec.last_seq == seqs[k]);
		assert_int_equal(rec.cut, ends[k] != cut);
		assert_int_equal(tr_open(path, &r), REC_OK);
		assert_int_equal(tr_next(r, &e), 1);
		recovered = 0;
		for (i = 0; i + 2 <= seqs[k]; i++) {
			assert_int_equal(tr_next(r, &e), 1);
			check_event(&e, v, i);
		}
		if (rec.cut) {
			assert_int_equal(tr_next(r, &e), 1);
			assert_int_equal(e.type, EV_RECOVERY);
			recovered = 1;
		}
		assert_int_equal(tr_next(r, &e), 0);
		tr_free(r);
		fd = open(path, O_RDONLY);
		assert_int_equal(verify_file(fd, "torn", x->verifier, VERIFY_DEEP, &vr), REC_OK);
		close(fd);
		if (vr.err != REC_OK)
			fprintf(stderr, "cut %zu: segment %u offset %llu: %s\n", cut,
			    vr.err_index, (unsigned long long)vr.err_offset, vr.msg);
		assert_int_equal(vr.err, REC_OK);
		assert_false(vr.tail_torn);
		assert_int_equal(vr.recovered, recovered);
		verify_file_result_free(&vr);
		/* A second recovery finds nothing to cut. */
		assert_int_equal(tw_recover(path, x->signer, NULL, &rec, &bad), REC_OK);
		assert_false(rec.cut);
	}
	/* Resume after a cut: append the rest, close, verify deep. */
	fx_spit(path, orig, ends[5] + 7);
	assert_int_equal(tw_reopen(x->store, "torn", x->signer, NULL, NULL, &w, &st),
	    REC_OK);
	assert_true(st.last_seq == seqs[5]);
	append_events(w, v, seqs[5] - 1, n);
	assert_int_equal(tw_close(w, &st, NULL), REC_OK);
	fd = open(path, O_RDONLY);
	assert_int_equal(verify_file(fd, "torn", x->verifier, VERIFY_DEEP, &vr), REC_OK);
	close(fd);
	assert_int_equal(vr.err, REC_OK);
	assert_true(vr.finished);
	assert_true(vr.last_seq == n + 1);
	verify_file_result_free(&vr);
	assert_int_equal(tw_reopen(x->store, "torn", x->signer, NULL, NULL, &w, &st),
	    REC_ECLOSED);
	/* Corruption inside the file is not "repaired". */
	orig[ends[2] + 30] ^= 0x40;
	fx_spit(path, orig, origlen);
	assert_int_equal(tw_recover(path, x->signer, NULL, &rec, &bad), REC_ECRC);
	assert_true(bad == ends[2]);
	free(orig);
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

/* Data left unsigned longer than checkpoint_ns gets a checkpoint from the
 * next tw_flush, even with nothing new to write, and the journal records it. */
static int
count_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	int *n = arg;

	(void)index;
	(void)offset;
	if (e->kind == JOURNAL_CHECKPOINT && strcmp(e->id, "cp") == 0)
		(*n)++;
	return 0;
}

static void
test_checkpoint_due(void **state)
{
	struct fx *x = fx_new();
	struct tw_opts o = { .checkpoint_ns = 20000000 };	/* 20 ms */
	struct buf meta;
	struct tw *w;
	struct tev *v;
	struct tw_state st, st2;
	struct timespec ts = { 0, 30000000 };
	uint64_t bad = 0;
	size_t n;
	int torn, cps = 0;

	(void)state;
	v = make_events(10, &n);
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "cp", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, &o, &w), REC_OK);
	assert_false(tw_checkpoint_due(w, tw_now_mono_for_test()));
	append_events(w, v, 0, 5);
	assert_int_equal(tw_flush(w, &st), REC_OK);
	assert_false(tw_checkpoint_due(w, tw_now_mono_for_test()));
	nanosleep(&ts, NULL);
	assert_true(tw_checkpoint_due(w, tw_now_mono_for_test()));
	assert_int_equal(tw_flush(w, &st2), REC_OK);
	assert_int_equal(st2.segments, st.segments + 1);	/* the checkpoint */
	assert_false(tw_checkpoint_due(w, tw_now_mono_for_test()));
	/* Nothing unsigned: flushing writes nothing. */
	nanosleep(&ts, NULL);
	assert_int_equal(tw_flush(w, &st), REC_OK);
	assert_int_equal(st.segments, st2.segments);
	assert_int_equal(journal_read(x->store, x->verifier, count_cb, &cps, &bad,
	    &torn), REC_OK);
	assert_int_equal(cps, 1);
	assert_false(torn);
	tw_free(w);
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

/* A torn journal tail is reported, then cut (and the cut journaled) when
 * the recorder opens the journal again.  A session whose close entry the
 * cut lost gets it back from recovery (its FINAL record is signed); one
 * whose open entry was lost is a stranger: never adopted, reported. */
static int
close_cb(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	int *n = arg;

	(void)index;
	(void)offset;
	if (e->kind == JOURNAL_CLOSE && strcmp(e->id, "j1") == 0)
		(*n)++;
	if (e->kind == JOURNAL_OPEN && strcmp(e->id, "j1") == 0)
		n[1]++;
	return 0;
}

static void
test_journal_torn_tail(void **state)
{
	struct fx *x = fx_new();
	struct buf meta;
	struct tw *w;
	struct fx_report rep;
	char path[512];
	uint8_t *orig;
	size_t n, cut;
	char spath[512];
	uint64_t bad = 0;
	int torn = 0, closes[2], rr;

	(void)state;
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "j1", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	journal_close(x->journal);
	snprintf(path, sizeof(path), "%s/%s", x->store, JOURNAL_FILE);
	orig = fx_slurp(path, &n);
	for (cut = n - 1; cut > 0; cut -= cut > 37 ? 37 : cut) {
		fx_spit(path, orig, cut);
		/* A crash tears only entries no tree head covers yet. */
		snprintf(spath, sizeof(spath), "%s/%s", x->store, TREEHEAD_FILE);
		unlink(spath);
		assert_int_equal(journal_read(x->store, x->verifier, NULL, NULL, &bad,
		    &torn), REC_OK);
		assert_true(torn);
		fx_verify(x, NULL, &rep);
		assert_true(rep.problems > 0);
		assert_non_null(strstr(rep.last, "journal: "));
		assert_int_equal(rec__journal_open(x->store, x->signer, 1, &x->journal), REC_OK);
		tw_path(x->store, "j1", spath, sizeof(spath));
		rr = tw_recover(spath, x->signer, x->journal, NULL, &bad);
		journal_close(x->journal);
		closes[0] = closes[1] = 0;
		assert_int_equal(journal_read(x->store, x->verifier, close_cb, closes,
		    &bad, &torn), REC_OK);
		assert_false(torn);
		if (closes[1] == 0) {
			/* The open entry is gone: not adopted. */
			assert_int_equal(rr, REC_ENOENT);
			assert_int_equal(closes[0], 0);
			fx_verify(x, NULL, &rep);
			assert_non_null(strstr(rep.last, "not recorded in the journal"));
			continue;
		}
		assert_int_equal(rr, REC_OK);
		assert_int_equal(closes[0], 1);
		if (fx_verify(x, NULL, &rep) != 0)
			fail_msg("cut %zu: %s", cut, rep.last);
	}
	fx_spit(path, orig, n);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &x->journal), REC_OK);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	free(orig);
	buf_free(&meta);
	fx_free(x);
}

/* Session files the journal never named are never adopted, however well
 * signed: opening the journal again changes nothing, verify reports them,
 * and recovery refuses them. */
static void
test_journal_strangers(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct buf meta;
	struct tw *w;
	char path[512];
	uint64_t bad = 0;

	(void)state;
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "signed", buf_ptr(&meta), buf_len(&meta),
	    x->signer, NULL, NULL, &w), REC_OK);
	assert_int_equal(tw_close(w, NULL, NULL), REC_OK);
	assert_int_equal(tw_create(x->store, "unsigned", buf_ptr(&meta),
	    buf_len(&meta), x->signer, NULL, NULL, &w), REC_OK);
	tw_free(w);
	fx_verify(x, NULL, &rep);
	/* signed: not in the journal, nor its final record; unsigned: not in
	 * the journal */
	assert_int_equal(rep.problems, 3);
	assert_non_null(strstr(rep.last, "not recorded in the journal"));
	journal_close(x->journal);
	assert_int_equal(rec__journal_open(x->store, x->signer, 1, &x->journal), REC_OK);
	fx_verify(x, NULL, &rep);
	assert_int_equal(rep.problems, 3);
	tw_path(x->store, "unsigned", path, sizeof(path));
	assert_int_equal(tw_recover(path, x->signer, x->journal, NULL, &bad),
	    REC_ENOENT);
	fx_verify(x, NULL, &rep);
	assert_int_equal(rep.problems, 3);
	buf_free(&meta);
	fx_free(x);
}

/* The file lost a checkpoint the journal already holds (the journal entry
 * is written only after the file was synced: someone cut it).  Recovery
 * refuses to touch it, and verify keeps reporting it. */
static void
test_recover_below_journaled_checkpoint(void **state)
{
	struct fx *x = fx_new();
	struct fx_report rep;
	struct buf meta;
	struct tw *w;
	struct tev *v;
	struct tw_state st, mid;
	struct tw_recovery rec;
	char path[512];
	uint64_t bad;
	size_t n;

	(void)state;
	v = make_events(40, &n);
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "pl", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	append_events(w, v, 0, 20);
	assert_int_equal(rec__tw_checkpoint(w, &mid), REC_OK);
	append_events(w, v, 20, 40);
	assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
	tw_free(w);
	assert_int_equal(fx_verify(x, NULL, &rep), 0);
	tw_path(x->store, "pl", path, sizeof(path));
	assert_int_equal(truncate(path, (off_t)(mid.size + 100)), 0);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	assert_non_null(strstr(rep.last, "pl: "));
	assert_int_equal(tw_recover(path, x->signer, x->journal, &rec, &bad),
	    REC_ETAMPER);
	fx_verify(x, NULL, &rep);
	assert_true(rep.problems > 0);
	assert_non_null(strstr(rep.last, "pl: "));
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

/* Verifies session id's file with flags into *res (freed by the caller). */
static void
verify_one(struct fx *x, const char *id, int flags,
    struct verify_file_result *res)
{
	char path[512];
	int fd;

	assert_int_equal(tw_path(x->store, id, path, sizeof(path)), REC_OK);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(verify_file(fd, id, x->verifier, flags, res), REC_OK);
	close(fd);
}

/* tw_append_alone puts the recorder's MARKER of a refused resume in a DATA
 * segment of its own, flagged: the reader reads every event in order, and
 * verification without decoding and the listing's summary count it.  The
 * readers' deferred signature checks (VERIFY_READER) name the same problem
 * as the full checks when the last signature is bad. */
static void
test_append_alone(void **state)
{
	struct fx *x = fx_new();
	struct verify_file_result res, full;
	struct tr_summary sum;
	struct buf meta, f, b;
	struct tw_state st;
	struct tw *w;
	struct tr *r;
	struct tev *v;
	struct ev e;
	char path[512];
	uint8_t *data;
	size_t n, i, len;
	uint64_t acked;
	uint32_t crc;

	(void)state;
	v = make_events(200, &n);
	buf_init(&meta, 0);
	fx_meta(&meta);
	assert_int_equal(tw_create(x->store, "s2", buf_ptr(&meta), buf_len(&meta),
	    x->signer, x->journal, NULL, &w), REC_OK);
	append_events(w, v, 0, 100);
	assert_int_equal(tw_flush(w, &st), REC_OK);	/* frame left open */
	append_events(w, v, 100, 120);			/* pending, unflushed */
	buf_init(&f, 0);
	buf_init(&b, 0);
	ev_fields_put_str(&f, EVF_TEXT, "recorder: resume refused");
	ev_fields_put_u64(&f, EVF_ACKED_SEQ, 900);
	ev_fields_put_u64(&f, EVF_STORED_SEQ, 121);
	assert_int_equal(ev_encode_parts(&b, 122, 120000, EV_MARKER, 0,
	    buf_ptr(&f), buf_len(&f)), REC_OK);
	assert_int_equal(tw_append_alone(w, buf_ptr(&b), buf_len(&b),
	    SEGF_RESUME_REFUSED, &st), REC_OK);
	assert_true(st.last_seq == 122);
	/* the events after it: seq 123.. (make_events' seq is index + 2) */
	buf_reset(&b);
	for (i = 121; i < n; i++)
		assert_int_equal(ev_encode_parts(&b, i + 2, 1000 * (i + 1),
		    v[i].type, v[i].channel, v[i].data, v[i].len), REC_OK);
	assert_int_equal(tw_append(w, buf_ptr(&b), buf_len(&b)), REC_OK);
	assert_int_equal(rec__tw_checkpoint(w, &st), REC_OK);
	assert_int_equal(tw_close(w, &st, NULL), REC_OK);
	buf_free(&f);
	buf_free(&b);

	/* every event in order, the MARKER in its place */
	assert_int_equal(tw_path(x->store, "s2", path, sizeof(path)), REC_OK);
	assert_int_equal(tr_open(path, &r), REC_OK);
	assert_int_equal(tr_next(r, &e), 1);
	for (i = 0; i < n; i++) {
		assert_int_equal(tr_next(r, &e), 1);
		if (i == 120) {
			assert_int_equal(e.type, EV_MARKER);
			assert_int_equal(ev_fields_get_u64(e.data, e.len,
			    EVF_ACKED_SEQ, &acked), REC_OK);
			assert_true(acked == 900);
		} else
			check_event(&e, v, i);
	}
	assert_int_equal(tr_next(r, &e), 0);
	assert_int_equal(tr_summarize(r, &sum), REC_OK);
	assert_int_equal(sum.resumes_refused, 1);
	tr_free(r);

	/* found without VERIFY_DEEP, by the readers' check, and deep */
	verify_one(x, "s2", 0, &res);
	assert_int_equal(res.err, REC_OK);
	assert_int_equal(res.resumes_refused, 1);
	assert_true(res.refused_acked == 900 && res.refused_stored == 121);
	verify_file_result_free(&res);
	verify_one(x, "s2", VERIFY_READER, &res);
	assert_int_equal(res.err, REC_OK);
	assert_int_equal(res.resumes_refused, 1);
	assert_true(res.finished);
	verify_file_result_free(&res);
	verify_one(x, "s2", VERIFY_DEEP, &res);
	assert_int_equal(res.err, REC_OK);
	assert_int_equal(res.resumes_refused, 1);
	verify_file_result_free(&res);

	/* the FINAL's signature altered (CRC made right again): the
	 * deferred checks report what the full checks report */
	data = fx_slurp(path, &len);
	data[len - SEG_SEAL_LEN + 100] ^= 1;
	crc = crc32c(0, data + len - SEG_SEAL_LEN - SEG_HDR_LEN, 16);
	crc = crc32c(crc, data + len - SEG_SEAL_LEN, SEG_SEAL_LEN);
	buf_be32(data + len - SEG_SEAL_LEN - 4, crc);
	fx_spit(path, data, len);
	free(data);
	verify_one(x, "s2", 0, &full);
	verify_one(x, "s2", VERIFY_READER, &res);
	assert_int_equal(full.err, REC_ESIG);
	assert_int_equal(res.err, REC_ESIG);
	assert_true(res.err_index == full.err_index &&
	    res.err_offset == full.err_offset);
	assert_string_equal(res.msg, full.msg);
	verify_file_result_free(&res);
	verify_file_result_free(&full);
	buf_free(&meta);
	free_events(v, n);
	fx_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_live_follow),
		cmocka_unit_test(test_recover_torn),
		cmocka_unit_test(test_checkpoint_due),
		cmocka_unit_test(test_journal_torn_tail),
		cmocka_unit_test(test_journal_strangers),
		cmocka_unit_test(test_recover_below_journaled_checkpoint),
		cmocka_unit_test(test_append_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
