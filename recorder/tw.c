/* tw.c: transcript writer (see transcript.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <zstd.h>

#include "common/clock.h"
#include "common/sessid.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"
#include "recorder/transcript.h"
#include "recorder/tw_internal.h"

struct tw {
	int fd;
	int failed;			/* a write failed: refuse more */
	char path[4096];
	char id[SEAL_ID_MAX + 1];
	const struct seal_signer *signer;
	struct journal *journal;
	struct tw_opts o;
	ZSTD_CCtx *cz;
	struct buf z;			/* compressed bytes not yet written */
	struct buf out;			/* segments being assembled */
	uint8_t out_head[SEAL_HASH_LEN];	/* chain head after the segments in out */
	uint32_t out_nseg;		/* segments in out */
	uint32_t nseg;			/* segments in the file */
	uint64_t size;
	uint8_t head[SEAL_HASH_LEN];
	uint64_t last_seq;		/* appended (maybe not written) */
	uint64_t last_t;
	struct tw_recovery reopened;	/* what tw_reopen's recovery did */
	uint64_t written_seq;		/* written to the file */
	struct seg_data pend;		/* seq/time range of pending records */
	size_t pend_raw;
	int frame_open;
	int frame_new;			/* next DATA segment starts the frame */
	uint16_t seg_flags;		/* more flags of the next DATA segment */
	size_t frame_raw;
	uint64_t frame_ns;		/* monotonic time the frame began */
	uint64_t unsigned_ns;		/* when the oldest unsigned data was written, 0: none */
	uint64_t journaled_ns;		/* last checkpoint journaled (tw_seal) */
};

uint64_t
rec__tw_now_mono(void)
{
	return clock_mono_ns();
}

uint64_t
rec__tw_now_wall(void)
{
	return clock_wall_ns();
}

int
tw_id_valid(const char *id)
{
	_Static_assert(SEAL_ID_MAX == SESSID_MAX, "one session-id length");
	return sessid_valid(id, strlen(id));
}

int
tw_make_id(char *out, size_t outsz)
{
	uint8_t rnd[4];
	time_t now = time(NULL);
	struct tm tm;

	if (outsz < SEAL_ID_MAX + 1)
		return REC_EINVAL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return REC_ECRYPTO;
	gmtime_r(&now, &tm);
	snprintf(out, outsz, "%04d%02d%02d-%02d%02d%02d-%02x%02x%02x%02x",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3]);
	return REC_OK;
}

int
tw_path(const char *store, const char *id, char *out, size_t outsz)
{
	int n;

	if (!tw_id_valid(id))
		return REC_EINVAL;
	n = snprintf(out, outsz, "%s/%s/%s%s", store, TR_SESSIONS_DIR, id,
	    TR_SUFFIX);
	if (n < 0 || (size_t)n >= outsz)
		return REC_EINVAL;
	return REC_OK;
}

static void
tw_defaults(struct tw_opts *o, const struct tw_opts *in)
{
	memset(o, 0, sizeof(*o));
	if (in != NULL)
		*o = *in;
	if (o->chunk_raw_max == 0)
		o->chunk_raw_max = 4u << 20;
	if (o->chunk_ns_max == 0)
		o->chunk_ns_max = 5000000000ull;
	if (o->zstd_level < 0)
		o->zstd_level = 0;
	if (o->zstd_level > 19)
		o->zstd_level = 19;	/* keeps the window within SEG_WINDOW_LOG_MAX */
	if (o->checkpoint_ns == 0)
		o->checkpoint_ns = 10000000000ull;
}

void
rec__tw_zstd_params(void *p, int level)
{
	ZSTD_CCtx *cz = p;

	if (level > 0) {
		ZSTD_CCtx_setParameter(cz, ZSTD_c_compressionLevel,
		    level);
	} else {
		/*
		 * Tuned on terminal text (find -ls output, 128 MiB, fed as
		 * the recorder feeds it: 16 KiB pieces, a flush per segment,
		 * a frame per 4 MiB; tests/bench/zstd_sweep.sh and
		 * tests/bench/PROFILE.md): lazy2 matching on hash chains with
		 * 4 candidates per position (searchLog 2) and small tables
		 * (32 Ki chain entries, 32 Ki hash heads: they stay in the
		 * L2 cache) store 7.37% of the raw bytes (7.34% with 64 Ki
		 * chain entries).  The window is 4 MiB, as large as a frame:
		 * zstd's input buffer (window + one block) then holds a whole
		 * frame and never wraps, so every block is compressed in its
		 * contiguous-prefix mode.  With a 2 MiB window the buffer
		 * wrapped in the middle of each frame and the rest of the
		 * frame went through the slower two-segment (extDict) match
		 * finder: 5% more instructions and 7% more mispredicted
		 * branches for the same bytes (cachegrind), same size.
		 * searchLog 1 is faster but stores 7.50%, too close to 0.9x
		 * sudo's compressed I/O log (8.4% in make bench); lazy stores
		 * 7.6-7.9%, greedy 8.3%, level 3 8.8% (about 2x).  The
		 * row-based match finder (experimental parameter 14, value
		 * 2 = disable) takes 55% more instructions here for the same
		 * ratio; a library without the parameter ignores it.
		 */
		ZSTD_CCtx_setParameter(cz, ZSTD_c_strategy, ZSTD_lazy2);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_windowLog, 22);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_chainLog, 15);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_hashLog, 15);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_searchLog, 2);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_minMatch, 6);
		ZSTD_CCtx_setParameter(cz, ZSTD_c_experimentalParam14, 2);
	}
	ZSTD_CCtx_setParameter(cz, ZSTD_c_checksumFlag, 0);
}

static int
tw_alloc(const char *path, const char *id, const struct seal_signer *signer,
    struct journal *journal, const struct tw_opts *opts, struct tw **out)
{
	struct tw *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return REC_ENOMEM;
	w->fd = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->signer = signer;
	w->journal = journal;
	tw_defaults(&w->o, opts);
	buf_init(&w->z, 0);
	buf_init(&w->out, 0);
	if ((w->cz = ZSTD_createCCtx()) == NULL) {
		free(w);
		return REC_ENOMEM;
	}
	rec__tw_zstd_params(w->cz, w->o.zstd_level);
	*out = w;
	return REC_OK;
}

void
tw_free(struct tw *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->cz);
	buf_free(&w->z);
	buf_free(&w->out);
	free(w);
}

const char *
tw_file(const struct tw *w)
{
	return w->path;
}

void
tw_get_state(const struct tw *w, struct tw_state *st)
{
	if (st == NULL)
		return;
	st->last_seq = w->written_seq;
	memcpy(st->head, w->head, SEAL_HASH_LEN);
	st->size = w->size;
	st->segments = w->nseg;
	st->pending_raw = w->pend_raw;
	st->last_t_ns = w->last_t;
}

/* Empties w->out: the chain over it starts again at the file's head. */
static void
tw_out_reset(struct tw *w)
{
	buf_reset(&w->out);
	memcpy(w->out_head, w->head, SEAL_HASH_LEN);
	w->out_nseg = 0;
}

/* Closes the segment begun at start in w->out (rec__seg_end) and steps the
 * chain over it, so that every segment is hashed once, as it is built. */
static int
tw_out_end(struct tw *w, size_t start)
{
	int r;

	if ((r = rec__seg_end(&w->out, start)) != REC_OK)
		return r;
	seal_chain_step(w->out_head, buf_ptr(&w->out) + start,
	    buf_len(&w->out) - start);
	w->out_nseg++;
	return REC_OK;
}

/*
 * The file must be exactly as long as what this writer wrote: anything else
 * means another process cut or extended it.  The writer stops, and the
 * journal gets an ALTERED entry saying what was found.
 */
static int
tw_check_size(struct tw *w)
{
	struct journal_entry e;
	struct stat sb;
	char text[200];

	if (fstat(w->fd, &sb) != 0) {
		w->failed = 1;
		return REC_EIO;
	}
	if ((uint64_t)sb.st_size == w->size)
		return REC_OK;
	w->failed = 1;
	if (w->journal != NULL) {
		memset(&e, 0, sizeof(e));
		e.kind = JOURNAL_ALTERED;
		snprintf(e.id, sizeof(e.id), "%s", w->id);
		e.seg_index = w->nseg;
		e.offset = (uint64_t)sb.st_size;
		e.last_seq = w->written_seq;
		memcpy(e.head, w->head, SEAL_HASH_LEN);
		e.wall_ns = rec__tw_now_wall();
		snprintf(text, sizeof(text), "session file found %s: %llu bytes "
		    "where the recorder wrote %llu",
		    (uint64_t)sb.st_size < w->size ? "cut" : "extended",
		    (unsigned long long)sb.st_size,
		    (unsigned long long)w->size);
		e.text = text;
		rec__journal_append(w->journal, &e);
	}
	return REC_ETAMPER;
}

/* Writes w->out (whole segments) in one write; on success the file's chain
 * head becomes the one tw_out_end computed over them. */
static int
tw_write_out(struct tw *w)
{
	const uint8_t *p = buf_ptr(&w->out);
	size_t n = buf_len(&w->out), done = 0;
	ssize_t r;
	int e;

	if (w->failed)
		return REC_ESTATE;
	if ((e = tw_check_size(w)) != REC_OK)
		return e;
	while (done < n) {
		r = write(w->fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = rec_from_errno(errno);
			/* Undo a partial write so the file ends on a segment. */
			if (done > 0 && ftruncate(w->fd, (off_t)w->size) != 0)
				e = REC_EIO;
			w->failed = 1;
			return e == REC_EINVAL ? REC_EIO : e;
		}
		done += (size_t)r;
	}
	memcpy(w->head, w->out_head, SEAL_HASH_LEN);
	w->nseg += w->out_nseg;
	w->size += n;
	tw_out_reset(w);
	return REC_OK;
}

/* Appends a signed CHECKPOINT or FINAL segment to w->out; it covers the
 * chain head after the segments already in w->out. */
static int
tw_put_seal(struct tw *w, uint8_t type, uint8_t kind, struct seal_receipt *rc)
{
	uint32_t idx = w->nseg + w->out_nseg;
	size_t start;
	struct buf m;
	int r;

	memset(rc, 0, sizeof(*rc));
	rc->cp.kind = kind;
	snprintf(rc->cp.id, sizeof(rc->cp.id), "%s", w->id);
	rc->cp.seg_index = idx;
	rc->cp.last_seq = w->last_seq;	/* everything appended is in out */
	memcpy(rc->cp.head, w->out_head, SEAL_HASH_LEN);
	rc->cp.wall_ns = rec__tw_now_wall();
	rc->cp.offset = w->size + buf_len(&w->out);
	memcpy(rc->keyid, rec__seal_signer_keyid(w->signer), SEAL_KEYID_LEN);
	buf_init(&m, 0);
	r = seal_checkpoint_message(&rc->cp, &m);
	if (r == REC_OK)
		r = seal_sign(w->signer, buf_ptr(&m), buf_len(&m), rc->sig);
	buf_free(&m);
	if (r != REC_OK)
		return r;
	if ((r = rec__seg_begin(&w->out, type, 0, idx, &start)) != REC_OK ||
	    (r = rec__seg_seal_put(&w->out, rc)) != REC_OK)
		return r;
	return tw_out_end(w, start);
}

static int
tw_journal(struct tw *w, uint8_t kind, const struct seal_receipt *rc)
{
	struct journal_entry e;

	if (w->journal == NULL)
		return REC_OK;
	memset(&e, 0, sizeof(e));
	e.kind = kind;
	snprintf(e.id, sizeof(e.id), "%s", w->id);
	e.seg_index = rc->cp.seg_index;
	e.offset = rc->cp.offset;
	e.last_seq = rc->cp.last_seq;
	memcpy(e.head, rc->cp.head, SEAL_HASH_LEN);
	e.wall_ns = rc->cp.wall_ns;
	return rec__journal_append(w->journal, &e);
}

int
tw_create(const char *store, const char *id, const uint8_t *meta,
    size_t meta_len, const struct seal_signer *signer, struct journal *journal,
    const struct tw_opts *opts, struct tw **out)
{
	char path[4096], dir[4096];
	struct tw *w = NULL;
	struct journal_entry je;
	size_t count = 0, start;
	uint64_t t = 0;
	int r, dfd;

	if (signer == NULL || meta_len > EV_PAYLOAD_MAX * 4)
		return REC_EINVAL;
	if ((r = tw_path(store, id, path, sizeof(path))) != REC_OK)
		return r;
	if ((r = ev_validate(meta, meta_len, 1, &t, &count)) != REC_OK)
		return r;
	snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR);
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return rec_from_errno(errno);
	if ((r = tw_alloc(path, id, signer, journal, opts, &w)) != REC_OK)
		return r;
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		r = rec_from_errno(errno);
		tw_free(w);
		return r;
	}
	seal_chain_init(w->head, id, strlen(id));
	tw_out_reset(w);
	w->last_seq = w->written_seq = count;
	w->last_t = t;
	if ((r = rec__seg_begin(&w->out, SEG_HEAD, 0, 0, &start)) != REC_OK ||
	    (r = buf_put_u8(&w->out, (uint8_t)strlen(id))) != REC_OK ||
	    (r = buf_put(&w->out, id, strlen(id))) != REC_OK ||
	    (r = buf_put_u64(&w->out, rec__tw_now_wall())) != REC_OK ||
	    (r = buf_put_u32(&w->out, (uint32_t)meta_len)) != REC_OK ||
	    (r = buf_put(&w->out, meta, meta_len)) != REC_OK ||
	    (r = tw_out_end(w, start)) != REC_OK ||
	    (r = tw_write_out(w)) != REC_OK)
		goto fail;
	if (!w->o.no_sync) {
		if (fdatasync(w->fd) != 0) {
			r = REC_EIO;
			goto fail;
		}
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	if (journal != NULL) {
		memset(&je, 0, sizeof(je));
		je.kind = JOURNAL_OPEN;
		snprintf(je.id, sizeof(je.id), "%s", id);
		je.seg_index = 0;
		je.offset = w->size;
		je.last_seq = w->last_seq;
		memcpy(je.head, w->head, SEAL_HASH_LEN);
		je.wall_ns = rec__tw_now_wall();
		if ((r = rec__journal_append(journal, &je)) != REC_OK)
			goto fail;
	}
	*out = w;
	return REC_OK;
fail:
	unlink(path);
	tw_free(w);
	return r;
}

int
tw_append(struct tw *w, const uint8_t *p, size_t n)
{
	ZSTD_inBuffer in = { p, n, 0 };
	ZSTD_outBuffer zo;
	size_t count = 0, zr, before;
	uint64_t t = w->last_t;
	uint8_t *dst;
	int r;

	if (w->failed)
		return REC_ESTATE;
	if (n == 0)
		return REC_OK;
	if (w->pend_raw + n > SEG_RAW_MAX)
		return REC_EFULL;
	if ((r = ev_validate(p, n, w->last_seq + 1, &t, &count)) != REC_OK)
		return r;
	if (!w->frame_open) {
		w->frame_open = 1;
		w->frame_new = 1;
		w->frame_raw = 0;
		w->frame_ns = rec__tw_now_mono();
	}
	before = buf_len(&w->z);
	while (in.pos < in.size) {
		size_t room = ZSTD_CStreamOutSize();

		if ((r = buf_reserve(&w->z, room, &dst)) != REC_OK)
			goto undo;
		zo = (ZSTD_outBuffer){ dst, room, 0 };
		zr = ZSTD_compressStream2(w->cz, &zo, &in, ZSTD_e_continue);
		buf_unput(&w->z, room - zo.pos);
		if (ZSTD_isError(zr)) {
			r = REC_EZSTD;
			goto undo;
		}
	}
	if (w->pend_raw == 0) {
		w->pend.first_seq = w->last_seq + 1;
		w->pend.first_t_ns = buf_ld64(p + 18);
	}
	w->last_seq += count;
	w->last_t = t;
	w->pend.last_seq = w->last_seq;
	w->pend.last_t_ns = t;
	w->pend_raw += n;
	w->frame_raw += n;
	return REC_OK;
undo:
	/* The compressor state can no longer be trusted. */
	buf_unput(&w->z, buf_len(&w->z) - before);
	w->failed = 1;
	return r;
}

/* Finishes the pending zstd bytes (flush, or end of frame) and appends a
 * DATA segment to w->out. */
static int
tw_put_data(struct tw *w, int end)
{
	ZSTD_inBuffer in = { NULL, 0, 0 };
	ZSTD_outBuffer zo;
	size_t zr, start, room;
	uint8_t *dst, *pre;
	uint16_t flags = 0;
	int r;

	do {
		room = ZSTD_CStreamOutSize();
		if ((r = buf_reserve(&w->z, room, &dst)) != REC_OK)
			return r;
		zo = (ZSTD_outBuffer){ dst, room, 0 };
		zr = ZSTD_compressStream2(w->cz, &zo, &in,
		    end ? ZSTD_e_end : ZSTD_e_flush);
		buf_unput(&w->z, room - zo.pos);
		if (ZSTD_isError(zr)) {
			w->failed = 1;
			return REC_EZSTD;
		}
	} while (zr != 0);
	if (w->frame_new)
		flags |= SEGF_CHUNK_START;
	if (end)
		flags |= SEGF_CHUNK_END;
	flags |= w->seg_flags;
	if (w->pend_raw == 0) {
		w->pend.first_seq = w->pend.last_seq = w->last_seq;
		w->pend.first_t_ns = w->pend.last_t_ns = w->last_t;
	}
	w->pend.wall_ns = rec__tw_now_wall();
	w->pend.raw_len = (uint32_t)w->pend_raw;
	if ((r = rec__seg_begin(&w->out, SEG_DATA, flags, w->nseg, &start)) != REC_OK ||
	    (r = buf_reserve(&w->out, SEG_DATA_PREFIX, &pre)) != REC_OK)
		return r;
	rec__seg_data_put(pre, &w->pend);
	if ((r = buf_put(&w->out, buf_ptr(&w->z), buf_len(&w->z))) != REC_OK ||
	    (r = tw_out_end(w, start)) != REC_OK)
		return r;
	buf_reset(&w->z);
	w->frame_new = 0;
	if (end)
		w->frame_open = 0;
	return REC_OK;
}

/* Common part of flush/checkpoint/close: DATA (if any) + optional seal. */
static int
tw_write(struct tw *w, int force_end, uint8_t seal_type, uint8_t kind,
    struct seal_receipt *rc)
{
	uint64_t now = rec__tw_now_mono();
	int end, r, had_data = 0;

	if (w->failed)
		return REC_ESTATE;
	tw_out_reset(w);
	if (w->pend_raw > 0 || (force_end && w->frame_open)) {
		end = force_end || w->frame_raw >= w->o.chunk_raw_max ||
		    now - w->frame_ns >= w->o.chunk_ns_max;
		if ((r = tw_put_data(w, end)) != REC_OK)
			goto fail;
		had_data = 1;
	}
	if (seal_type == 0 && w->unsigned_ns != 0 &&
	    now - w->unsigned_ns >= w->o.checkpoint_ns) {
		seal_type = SEG_CHECKPOINT;
		kind = SEAL_CHECKPOINT;
	}
	if (seal_type != 0) {
		if ((r = tw_put_seal(w, seal_type, kind, rc)) != REC_OK)
			goto fail;
	}
	if (buf_len(&w->out) == 0)
		return REC_OK;
	if ((r = tw_write_out(w)) != REC_OK)
		return r;
	w->pend_raw = 0;
	w->written_seq = w->last_seq;
	if (seal_type != 0)
		w->unsigned_ns = 0;
	else if (had_data && w->unsigned_ns == 0)
		w->unsigned_ns = now;
	return REC_OK;
fail:
	w->failed = 1;
	return r;
}

int
tw_flush(struct tw *w, struct tw_state *st)
{
	struct seal_receipt rc;
	int r;

	rc.cp.kind = 0;
	r = tw_write(w, 0, 0, 0, &rc);
	if (r == REC_OK && rc.cp.kind == SEAL_CHECKPOINT)
		r = tw_journal(w, JOURNAL_CHECKPOINT, &rc);
	tw_get_state(w, st);
	return r;
}

/* tw_flush, ending the open frame. */
static int
tw_flush_end(struct tw *w, struct tw_state *st)
{
	struct seal_receipt rc;
	int r;

	rc.cp.kind = 0;
	r = tw_write(w, 1, 0, 0, &rc);
	if (r == REC_OK && rc.cp.kind == SEAL_CHECKPOINT)
		r = tw_journal(w, JOURNAL_CHECKPOINT, &rc);
	tw_get_state(w, st);
	return r;
}

int
tw_append_alone(struct tw *w, const uint8_t *p, size_t n, uint16_t flags,
    struct tw_state *st)
{
	int r;

	if (w->failed)
		return REC_ESTATE;
	if (w->frame_open && (r = tw_flush_end(w, st)) != REC_OK)
		return r;
	if ((r = tw_append(w, p, n)) != REC_OK)
		return r;
	w->seg_flags = flags & SEGF_RESUME_REFUSED;
	r = tw_flush_end(w, st);
	w->seg_flags = 0;
	return r;
}

int
tw_seal(struct tw *w, struct tw_state *st)
{
	struct seal_receipt rc;
	uint64_t now;
	int r = REC_OK;

	if (w->pend_raw > 0 || w->unsigned_ns != 0) {
		now = rec__tw_now_mono();
		r = tw_write(w, 0, SEG_CHECKPOINT, SEAL_CHECKPOINT, &rc);
		if (r == REC_OK && (w->journaled_ns == 0 ||
		    now - w->journaled_ns >= w->o.checkpoint_ns)) {
			w->journaled_ns = now;
			r = tw_journal(w, JOURNAL_CHECKPOINT, &rc);
		}
	}
	tw_get_state(w, st);
	return r;
}

int
tw_sync(struct tw *w)
{
	if (w->o.no_sync)
		return REC_OK;
	if (fdatasync(w->fd) != 0)
		return REC_EIO;
	return REC_OK;
}

int
rec__tw_checkpoint(struct tw *w, struct tw_state *st)
{
	struct seal_receipt rc;
	int r;

	if ((r = tw_write(w, 0, SEG_CHECKPOINT, SEAL_CHECKPOINT, &rc)) == REC_OK &&
	    (r = tw_sync(w)) == REC_OK)
		r = tw_journal(w, JOURNAL_CHECKPOINT, &rc);
	tw_get_state(w, st);
	return r;
}

int
tw_checkpoint_due(const struct tw *w, uint64_t now_ns)
{
	return w->unsigned_ns != 0 && now_ns - w->unsigned_ns >= w->o.checkpoint_ns;
}

int
tw_close(struct tw *w, struct tw_state *st, struct seal_receipt *receipt)
{
	struct seal_receipt rc;
	int r;

	if ((r = tw_write(w, 1, SEG_FINAL, SEAL_FINAL, &rc)) == REC_OK &&
	    (r = tw_sync(w)) == REC_OK)
		r = tw_journal(w, JOURNAL_CLOSE, &rc);
	tw_get_state(w, st);
	if (r == REC_OK && receipt != NULL)
		*receipt = rc;
	tw_free(w);
	return r;
}

int
tw_reopened_cut(const struct tw *w, uint64_t *cut_offset,
    uint64_t *lost_bytes)
{
	*cut_offset = w->reopened.cut_offset;
	*lost_bytes = w->reopened.lost_bytes;
	return w->reopened.cut;
}

int
tw_reopen(const char *store, const char *id, const struct seal_signer *signer,
    struct journal *journal, const struct tw_opts *opts, struct tw **out,
    struct tw_state *state)
{
	char path[4096];
	struct tw_recovery rec;
	struct tw *w;
	uint64_t bad = 0;
	int r;

	if ((r = tw_path(store, id, path, sizeof(path))) != REC_OK)
		return r;
	if ((r = tw_recover(path, signer, journal, &rec, &bad)) != REC_OK)
		return r;
	if (rec.finished)
		return REC_ECLOSED;
	if ((r = tw_alloc(path, id, signer, journal, opts, &w)) != REC_OK)
		return r;
	if ((w->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		r = rec_from_errno(errno);
		tw_free(w);
		return r;
	}
	w->nseg = rec.segments;
	w->size = rec.size;
	memcpy(w->head, rec.head, SEAL_HASH_LEN);
	tw_out_reset(w);
	w->last_seq = w->written_seq = rec.last_seq;
	w->last_t = rec.last_t_ns;
	w->reopened = rec;
	*out = w;
	tw_get_state(w, state);
	return REC_OK;
}
