/* tr.c: transcript reader with live follow and seeking (see transcript.h). */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "recorder/index.h"
#include "recorder/rec_error.h"
#include "recorder/segfile.h"
#include "recorder/transcript.h"
#include "recorder/verify.h"
#include "recorder/verify_internal.h"

enum tr_skip { TR_SKIP_NONE, TR_SKIP_SEQ, TR_SKIP_TIME };

struct tr {
	int fd;
	struct segf sf;
	char id[SEAL_ID_MAX + 1];
	uint64_t start_wall;
	struct buf meta;	/* META records of the HEAD */
	uint64_t meta_last_seq;
	uint64_t head_end;	/* offset after the HEAD segment */
	ZSTD_DCtx *dz;
	struct buf raw;		/* decoded records not yet returned */
	int frame_open;
	int finished;
	uint64_t cur_off;	/* segment the records in raw came from */
	uint64_t frame_off;	/* the DATA segment starting its frame */
	uint64_t err_off;
	struct index ix;
	enum tr_skip skip;
	uint64_t skip_to;
};

int
rec__tr_open_fd(int fd, struct tr **out)
{
	struct tr *r;
	struct seg s;
	const uint8_t *raw, *meta;
	size_t rawlen, mlen, count = 0;
	uint64_t off, t = 0;
	int e;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		return REC_ENOMEM;
	}
	r->fd = fd;
	rec__segf_init(&r->sf, fd, 0);
	buf_init(&r->meta, 0);
	buf_init(&r->raw, 0);
	rec__index_init(&r->ix);
	if ((r->dz = ZSTD_createDCtx()) == NULL) {
		e = REC_ENOMEM;
		goto fail;
	}
	ZSTD_DCtx_setParameter(r->dz, ZSTD_d_windowLogMax, SEG_WINDOW_LOG_MAX);
	e = rec__segf_next(&r->sf, &s, &off, &raw, &rawlen);
	if (e == 0 || e == REC_ETRUNC) {
		e = REC_EAGAIN;
		goto fail;
	}
	if (e < 0)
		goto fail;
	if (s.index != 0 ||
	    seg_head_get(&s, r->id, &r->start_wall, &meta, &mlen) != REC_OK ||
	    ev_validate(meta, mlen, 1, &t, &count) != REC_OK) {
		e = REC_EFORMAT;
		goto fail;
	}
	r->meta_last_seq = count;
	r->head_end = r->sf.off;
	if ((e = buf_put(&r->meta, meta, mlen)) != REC_OK ||
	    (e = buf_put(&r->raw, meta, mlen)) != REC_OK)
		goto fail;
	*out = r;
	return REC_OK;
fail:
	tr_free(r);
	return e;
}

int
tr_open(const char *path, struct tr **out)
{
	int fd;

	struct stat sb;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rec_from_errno(errno);
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		close(fd);	/* read() would say only EISDIR, as REC_EIO */
		errno = EISDIR;
		return REC_EISDIR;
	}
	return rec__tr_open_fd(fd, out);
}

void
tr_free(struct tr *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	rec__segf_free(&r->sf);
	buf_free(&r->meta);
	buf_free(&r->raw);
	rec__index_free(&r->ix);
	ZSTD_freeDCtx(r->dz);
	free(r);
}

const char *
tr_id(const struct tr *r)
{
	return r->id;
}

uint64_t
tr_start_wall_ns(const struct tr *r)
{
	return r->start_wall;
}

void
tr_meta(const struct tr *r, const uint8_t **p, size_t *n)
{
	*p = buf_ptr(&r->meta);
	*n = buf_len(&r->meta);
}

int
tr_finished(const struct tr *r)
{
	return r->finished && buf_len(&r->raw) == 0;
}

uint64_t
tr_error_offset(const struct tr *r)
{
	return r->err_off;
}

static int
tr_data(struct tr *r, const struct seg *s, uint64_t off)
{
	struct seg_data d;
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	uint8_t *p = NULL;
	int e;

	if (rec__seg_data_get(s, &d) != REC_OK)
		return REC_EFORMAT;
	if (s->flags & SEGF_CHUNK_START) {
		ZSTD_DCtx_reset(r->dz, ZSTD_reset_session_only);
		r->frame_open = 1;
		r->frame_off = off;
	} else if (!r->frame_open) {
		return REC_EFORMAT;
	}
	buf_reset(&r->raw);
	if (d.raw_len > 0 && (e = buf_reserve(&r->raw, d.raw_len, &p)) != REC_OK)
		return e;
	in = (ZSTD_inBuffer){ s->payload + SEG_DATA_PREFIX,
	    s->len - SEG_DATA_PREFIX, 0 };
	out = (ZSTD_outBuffer){ p, d.raw_len, 0 };
	if (rec__verify_inflate(r->dz, &in, &out) != 0) {
		buf_reset(&r->raw);
		r->frame_open = 0;
		return REC_EZSTD;
	}
	if (s->flags & SEGF_CHUNK_END)
		r->frame_open = 0;
	r->cur_off = off;
	return REC_OK;
}

int
tr_next(struct tr *r, struct ev *e)
{
	struct seg s;
	const uint8_t *raw;
	size_t rawlen, used;
	uint64_t off;
	int x;

	for (;;) {
		if (buf_len(&r->raw) > 0) {
			if ((x = ev_decode(buf_ptr(&r->raw), buf_len(&r->raw), e,
			    &used)) != REC_OK) {
				buf_reset(&r->raw);
				r->err_off = r->cur_off;
				return x == REC_ETRUNC ? REC_EFORMAT : x;
			}
			buf_consume(&r->raw, used);
			if (r->skip == TR_SKIP_SEQ && e->seq != 0 && e->seq < r->skip_to)
				continue;
			if (r->skip == TR_SKIP_TIME && e->t_ns < r->skip_to)
				continue;
			r->skip = TR_SKIP_NONE;
			return 1;
		}
		if (r->finished)
			return 0;
		x = rec__segf_next(&r->sf, &s, &off, &raw, &rawlen);
		if (x == 0 || x == REC_ETRUNC)
			return 0;
		if (x < 0) {
			r->err_off = r->sf.off;
			return x;
		}
		r->err_off = off;
		switch (s.type) {
		case SEG_DATA:
			if ((x = tr_data(r, &s, off)) != REC_OK)
				return x;
			break;
		case SEG_RECOVERY:
			buf_reset(&r->raw);
			if ((x = buf_put(&r->raw, s.payload, s.len)) != REC_OK)
				return x;
			r->cur_off = off;
			r->frame_open = 0;
			break;
		case SEG_FINAL:
			r->finished = 1;
			break;
		case SEG_CHECKPOINT:
			break;
		default:
			return REC_EFORMAT;
		}
	}
}

/* Restarts reading at off (a frame start) or, off == 0, at the beginning. */
static void
tr_restart(struct tr *r, uint64_t off)
{
	buf_reset(&r->raw);
	r->frame_open = 0;
	r->finished = 0;
	if (off == 0) {
		buf_put(&r->raw, buf_ptr(&r->meta), buf_len(&r->meta));
		off = r->head_end;
	}
	rec__segf_seek(&r->sf, off);
}

int
tr_seek_seq(struct tr *r, uint64_t seq)
{
	const struct index_entry *ie;
	int e;

	if ((e = rec__index_update(&r->ix, r->fd)) != REC_OK)
		return e;
	if (seq <= r->meta_last_seq)
		tr_restart(r, 0);
	else if ((ie = rec__index_find_seq(&r->ix, seq)) != NULL)
		tr_restart(r, ie->chunk_offset);
	else
		tr_restart(r, r->ix.end > r->head_end ? r->ix.end : r->head_end);
	r->skip = TR_SKIP_SEQ;
	r->skip_to = seq;
	return REC_OK;
}

uint64_t
tr_frame_offset(const struct tr *r)
{
	return r->frame_off;
}

int
tr_seek_frame(struct tr *r, uint64_t off, uint64_t seq)
{
	if (off < r->head_end)
		return REC_EINVAL;
	tr_restart(r, off);
	r->skip = TR_SKIP_SEQ;
	r->skip_to = seq;
	return REC_OK;
}

int
tr_seek_time(struct tr *r, uint64_t t_ns)
{
	const struct index_entry *ie;
	int e;

	if ((e = rec__index_update(&r->ix, r->fd)) != REC_OK)
		return e;
	if ((ie = rec__index_find_time(&r->ix, t_ns)) != NULL)
		tr_restart(r, ie->chunk_offset);
	else
		tr_restart(r, 0);
	r->skip = TR_SKIP_TIME;
	r->skip_to = t_ns;
	return REC_OK;
}

int
tr_summarize(struct tr *r, struct tr_summary *s)
{
	struct segf sf;
	struct seg g;
	uint8_t p[SEG_SEAL_LEN];
	uint64_t off;
	int e;

	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", r->id);
	s->start_wall_ns = s->last_wall_ns = r->start_wall;
	s->last_seq = r->meta_last_seq;
	/* Headers and the small fixed payload parts only: a listing, not a
	 * verification (see verify.h). */
	rec__segf_init(&sf, r->fd, 0);
	for (;;) {
		e = rec__segf_skip(&sf, &g, &off);
		if (e == 0)
			break;
		if (e < 0) {
			s->damaged = e != REC_ETRUNC;
			break;
		}
		s->segments++;
		s->size = sf.off;
		if (g.type == SEG_DATA && (g.flags & SEGF_RESUME_REFUSED))
			s->resumes_refused++;
		if (g.type == SEG_DATA && g.len >= SEG_DATA_PREFIX &&
		    segf_pread(r->fd, p, SEG_DATA_PREFIX, off + SEG_HDR_LEN) == REC_OK) {
			if (buf_ld32(p + 40) > 0) {
				s->last_seq = buf_ld64(p + 8);
				s->last_t_ns = buf_ld64(p + 24);
			}
			s->last_wall_ns = buf_ld64(p + 32);
			s->raw_bytes += buf_ld32(p + 40);
		} else if ((g.type == SEG_CHECKPOINT || g.type == SEG_FINAL) &&
		    g.len == SEG_SEAL_LEN &&
		    segf_pread(r->fd, p, SEG_SEAL_LEN, off + SEG_HDR_LEN) == REC_OK) {
			s->last_wall_ns = buf_ld64(p + 45);
			if (g.type == SEG_FINAL) {
				s->finished = 1;
				s->end_wall_ns = s->last_wall_ns;
			}
		} else if (g.type == SEG_RECOVERY) {
			s->recovered = 1;
		}
	}
	rec__segf_free(&sf);
	return REC_OK;
}
