/* verify_file.c: the structural and cryptographic check of one session
 * file (see verify.h).  Also the scanner behind recovery and listings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"
#include "recorder/segfile.h"
#include "recorder/verify.h"
#include "recorder/verify_internal.h"

/* A seal whose signature check waits for the end of the file (readers:
 * see vf_seals_check). */
struct vf_seal {
	struct seal_receipt rc;
	uint32_t index;
	uint64_t off;
};

struct vf {
	struct verify_file_result *res;
	const struct seal_verifier *v;
	int flags;
	ZSTD_DCtx *dz;
	struct buf raw;
	int frame_open;
	size_t segcap;
	struct vf_seal *seals;		/* VERIFY_READER: deferred checks */
	size_t nseals, sealcap;
	/* The fast pass (vf_scan): */
	struct vf_split *sp;		/* the second half's reader, or NULL */
	int split;			/* 1: its segments are taken, 2: and
					   all used (read on from split_end) */
	size_t nsplit, ksplit;		/* its segments, the next to use */
	uint64_t split_end;
	const uint8_t *split_after;	/* the chain head after the segment */
};

/* vf_scan's answer in the fast pass when the full pass must decide. */
#define VF_REDO 1

static void
vf_fail(struct vf *f, int err, uint32_t index, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	f->res->err = err;
	f->res->err_index = index;
	f->res->err_offset = off;
	va_start(ap, fmt);
	vsnprintf(f->res->msg, sizeof(f->res->msg), fmt, ap);
	va_end(ap);
}

static int
vf_head(struct vf *f, const struct seg *s, const char *expect_id)
{
	struct verify_file_result *res = f->res;
	const uint8_t *meta;
	size_t mlen, count = 0;
	uint64_t t = 0;
	int r;

	if (seg_head_get(s, res->id, &res->start_wall_ns, &meta, &mlen) != REC_OK)
		return REC_EFORMAT;
	if (expect_id != NULL && strcmp(expect_id, res->id) != 0)
		return REC_ETAMPER;
	if ((r = ev_validate(meta, mlen, 1, &t, &count)) != REC_OK)
		return r;
	res->last_seq = count;
	res->last_t_ns = t;
	return REC_OK;
}

/* Notes a seal for vf_seals_check and takes its times as vf_seal does. */
static int
vf_seal_defer(struct vf *f, const struct seal_receipt *rc, uint32_t index,
    uint64_t off)
{
	struct verify_file_result *res = f->res;
	struct vf_seal *ns;

	if (f->nseals == f->sealcap) {
		f->sealcap = f->sealcap ? f->sealcap * 2 : 64;
		if ((ns = realloc(f->seals, f->sealcap * sizeof(*ns))) == NULL)
			return REC_ENOMEM;
		f->seals = ns;
	}
	ns = &f->seals[f->nseals++];
	ns->rc = *rc;
	ns->index = index;
	ns->off = off;
	res->last_wall_ns = rc->cp.wall_ns;
	if (rc->cp.kind == SEAL_FINAL) {
		res->finished = 1;
		res->end_wall_ns = rc->cp.wall_ns;
	}
	return REC_OK;
}

/*
 * The signature checks of a reader (VERIFY_READER), once the file is read:
 * the last seal's signature only, when it verifies.  It signs the chain
 * head over every byte before it, every earlier seal's signature included,
 * and the chain and every seal's fields were checked as the file was read:
 * an earlier signature that did not verify would be bytes the key holder
 * signed over, which the recorder never does (it checks every signature
 * before it signs after a recovery).  When the last one does not verify,
 * every seal is checked in order and the first that fails is the problem,
 * as without VERIFY_READER (it comes before any problem found later in the
 * file).  Returns REC_OK or REC_ENOMEM.
 */
static int
vf_seals_check(struct vf *f)
{
	size_t i;
	int r;

	if (f->nseals == 0)
		return REC_OK;
	r = seal_receipt_verify(f->v, &f->seals[f->nseals - 1].rc);
	if (r == REC_ENOMEM)
		return r;
	if (r == REC_OK)
		return REC_OK;
	for (i = 0; i < f->nseals; i++) {
		r = seal_receipt_verify(f->v, &f->seals[i].rc);
		if (r == REC_ENOMEM)
			return r;
		if (r != REC_OK)
			break;
	}
	if (i == f->nseals)
		i = f->nseals - 1;	/* fails alone, passes in order: never */
	vf_fail(f, REC_ESIG, f->seals[i].index, f->seals[i].off,
	    "checkpoint signature does not verify");
	return REC_OK;
}

/* Checks a CHECKPOINT or FINAL record against the file: its fields, the
 * chain head before it, its key and signature. */
static int
vf_seal(struct vf *f, const struct seg *s, uint64_t off,
    const uint8_t head_before[SEAL_HASH_LEN])
{
	struct verify_file_result *res = f->res;
	struct seal_receipt rc;
	struct buf m;
	int r;

	if ((r = seg_seal_get(s, &rc)) != REC_OK) {
		vf_fail(f, r, s->index, off, "malformed %s record",
		    s->type == SEG_FINAL ? "final" : "checkpoint");
		return r;
	}
	if ((s->type == SEG_FINAL) != (rc.cp.kind == SEAL_FINAL) ||
	    rc.cp.kind < SEAL_CHECKPOINT || rc.cp.kind > SEAL_RECOVERED ||
	    rc.cp.seg_index != s->index || rc.cp.offset != off ||
	    rc.cp.last_seq != res->last_seq ||
	    memcmp(rc.cp.head, head_before, SEAL_HASH_LEN) != 0) {
		vf_fail(f, REC_ECHAIN, s->index, off,
		    "checkpoint does not match the data before it");
		return REC_ECHAIN;
	}
	snprintf(rc.cp.id, sizeof(rc.cp.id), "%s", res->id);
	if (f->v != NULL) {
		if (memcmp(rc.keyid, seal_verifier_keyid(f->v), SEAL_KEYID_LEN) != 0) {
			vf_fail(f, REC_ESIG, s->index, off,
			    "checkpoint signed by another key");
			return REC_ESIG;
		}
		if (f->flags & VERIFY_READER)
			return vf_seal_defer(f, &rc, s->index, off);
		buf_init(&m, 0);
		r = seal_checkpoint_message(&rc.cp, &m);
		if (r == REC_OK)
			r = rec__seal_verify(f->v, buf_ptr(&m), buf_len(&m), rc.sig);
		buf_free(&m);
		if (r != REC_OK) {
			vf_fail(f, REC_ESIG, s->index, off,
			    "checkpoint signature does not verify");
			return REC_ESIG;
		}
	}
	res->last_wall_ns = rc.cp.wall_ns;
	if (s->type == SEG_FINAL) {
		res->finished = 1;
		res->end_wall_ns = rc.cp.wall_ns;
	}
	return REC_OK;
}

/* Decompresses all of *in into *out, which must be exactly large enough.
 * Returns 0, or 1 when the input is invalid or produces more or fewer bytes. */
int
rec__verify_inflate(ZSTD_DCtx *dz, ZSTD_inBuffer *in, ZSTD_outBuffer *out)
{
	uint8_t x;
	ZSTD_outBuffer scratch = { &x, 1, 0 };
	ZSTD_outBuffer *o;
	size_t zr, ip, op;

	while (in->pos < in->size) {
		o = out->pos < out->size ? out : &scratch;
		ip = in->pos;
		op = o->pos;
		zr = ZSTD_decompressStream(dz, o, in);
		if (ZSTD_isError(zr) || scratch.pos != 0)
			return 1;
		if (in->pos == ip && o->pos == op)
			return 1;
	}
	return out->pos == out->size ? 0 : 1;
}

/* Notes the recorder's MARKERs of a refused resume among the records
 * p[0..n) (valid: ev_validate passed). */
static void
vf_refused(struct vf *f, const uint8_t *p, size_t n)
{
	struct verify_file_result *res = f->res;
	uint64_t acked, stored;
	size_t off, used;
	struct ev e;

	for (off = 0; off < n && ev_decode(p + off, n - off, &e, &used) ==
	    REC_OK; off += used)
		if (e.type == EV_MARKER && ev_fields_get_u64(e.data, e.len,
		    EVF_ACKED_SEQ, &acked) == REC_OK &&
		    ev_fields_get_u64(e.data, e.len, EVF_STORED_SEQ,
		    &stored) == REC_OK) {
			res->resumes_refused++;
			res->refused_acked = acked;
			res->refused_stored = stored;
		}
}

static int
vf_deep(struct vf *f, const struct seg *s, uint64_t off,
    const struct seg_data *d)
{
	ZSTD_inBuffer in = { s->payload + SEG_DATA_PREFIX,
	    s->len - SEG_DATA_PREFIX, 0 };
	ZSTD_outBuffer out;
	size_t zr, count = 0;
	uint64_t t = d->first_t_ns;
	uint8_t *p;
	int r;

	buf_reset(&f->raw);
	if (d->raw_len > 0 && (r = buf_reserve(&f->raw, d->raw_len, &p)) != REC_OK)
		return r;
	out = (ZSTD_outBuffer){ d->raw_len ? p : NULL, d->raw_len, 0 };
	if ((zr = rec__verify_inflate(f->dz, &in, &out)) != 0)
		goto bad;
	if (out.pos != d->raw_len)
		goto bad;
	if (d->raw_len == 0)
		return REC_OK;
	if (ev_validate(p, d->raw_len, d->first_seq, &t, &count) != REC_OK ||
	    count != d->last_seq - d->first_seq + 1 || t != d->last_t_ns) {
		vf_fail(f, REC_EFORMAT, s->index, off,
		    "event records do not match their segment header");
		return REC_EFORMAT;
	}
	vf_refused(f, p, d->raw_len);
	return REC_OK;
bad:
	vf_fail(f, REC_EZSTD, s->index, off, "compressed data does not decode");
	return REC_EZSTD;
}

/* Without VERIFY_DEEP: a DATA segment flagged RESUME_REFUSED is a frame of
 * its own; it is decoded alone (with a context of its own: the rest of the
 * file is not decoded) and its MARKERs noted.  Returns REC_OK, REC_ENOMEM,
 * or a problem (vf_fail) when it is not such a segment. */
static int
vf_refused_alone(struct vf *f, const struct seg *s, uint64_t off,
    const struct seg_data *d)
{
	uint32_t before = f->res->resumes_refused;
	int r;

	if ((s->flags & (SEGF_CHUNK_START | SEGF_CHUNK_END)) !=
	    (SEGF_CHUNK_START | SEGF_CHUNK_END) || d->raw_len == 0) {
		vf_fail(f, REC_EFORMAT, s->index, off, "a segment flagged "
		    "resume-refused is not a frame of its own");
		return REC_EFORMAT;
	}
	if ((f->dz = ZSTD_createDCtx()) == NULL)
		return REC_ENOMEM;
	ZSTD_DCtx_setParameter(f->dz, ZSTD_d_windowLogMax, SEG_WINDOW_LOG_MAX);
	r = vf_deep(f, s, off, d);
	ZSTD_freeDCtx(f->dz);
	f->dz = NULL;
	if (r != REC_OK)
		return r;
	if (f->res->resumes_refused == before) {
		vf_fail(f, REC_EFORMAT, s->index, off, "a segment flagged "
		    "resume-refused holds no marker of a refused resume");
		return REC_EFORMAT;
	}
	return REC_OK;
}

static int
vf_data(struct vf *f, const struct seg *s, uint64_t off)
{
	struct verify_file_result *res = f->res;
	struct seg_data d;
	int r;

	if (rec__seg_data_get(s, &d) != REC_OK) {
		vf_fail(f, REC_EFORMAT, s->index, off, "malformed data segment");
		return REC_EFORMAT;
	}
	if (d.raw_len > 0 && (d.first_seq != res->last_seq + 1 ||
	    d.first_t_ns < res->last_t_ns)) {
		vf_fail(f, REC_ESEQ, s->index, off,
		    "events %llu.. do not follow event %llu",
		    (unsigned long long)d.first_seq,
		    (unsigned long long)res->last_seq);
		return REC_ESEQ;
	}
	if (d.raw_len == 0 && d.first_seq != res->last_seq) {
		vf_fail(f, REC_ESEQ, s->index, off, "empty data segment out of place");
		return REC_ESEQ;
	}
	if (s->flags & SEGF_CHUNK_START) {
		f->frame_open = 1;
		if (f->dz != NULL)
			ZSTD_DCtx_reset(f->dz, ZSTD_reset_session_only);
	} else if (!f->frame_open) {
		vf_fail(f, REC_EFORMAT, s->index, off,
		    "data segment continues a chunk that was not started");
		return REC_EFORMAT;
	}
	if (f->dz != NULL && vf_deep(f, s, off, &d) != REC_OK)
		return res->err != REC_OK ? res->err : REC_ENOMEM;
	if (f->dz == NULL && (s->flags & SEGF_RESUME_REFUSED) &&
	    (r = vf_refused_alone(f, s, off, &d)) != REC_OK)
		return r;
	if (s->flags & SEGF_CHUNK_END)
		f->frame_open = 0;
	if (d.raw_len > 0) {
		res->last_seq = d.last_seq;
		res->last_t_ns = d.last_t_ns;
	}
	res->raw_bytes += d.raw_len;
	res->last_wall_ns = d.wall_ns;
	return REC_OK;
}

static int
vf_recovery(struct vf *f, const struct seg *s, uint64_t off)
{
	struct ev e;
	size_t used;

	if (ev_decode(s->payload, s->len, &e, &used) != REC_OK ||
	    used != s->len || e.type != EV_RECOVERY || e.seq != 0 ||
	    !ev_fields_valid(e.data, e.len)) {
		vf_fail(f, REC_EFORMAT, s->index, off, "malformed recovery record");
		return REC_EFORMAT;
	}
	f->res->recovered = 1;
	f->res->cut_offset = f->res->cut_bytes = 0;
	ev_fields_get_u64(e.data, e.len, EVF_CUT_OFFSET, &f->res->cut_offset);
	ev_fields_get_u64(e.data, e.len, EVF_LOST_BYTES, &f->res->cut_bytes);
	f->frame_open = 0;
	return REC_OK;
}

static int
vf_add_seg(struct vf *f, uint64_t off, uint64_t end, uint8_t type,
    const uint8_t *before, const uint8_t *after)
{
	struct verify_file_result *res = f->res;
	struct verify_seg *ns;

	if (res->nseg == f->segcap) {
		f->segcap = f->segcap ? f->segcap * 2 : 64;
		if ((ns = realloc(res->seg, f->segcap * sizeof(*ns))) == NULL)
			return REC_ENOMEM;
		res->seg = ns;
	}
	ns = &res->seg[res->nseg++];
	ns->offset = off;
	ns->end = end;
	ns->type = type;
	memcpy(ns->head_before, before, SEAL_HASH_LEN);
	memcpy(ns->head_after, after, SEAL_HASH_LEN);
	return REC_OK;
}

static const char *
vf_type_name(uint8_t t)
{
	static const char *const n[] = { "?", "head", "data", "checkpoint",
	    "recovery", "final", "journal" };

	return t <= SEG_JOURNAL ? n[t] : "?";
}

/* Files this large get a second thread for their chain (vf_scan). */
#define VF_SPLIT_MIN (16u << 20)
/*
 * The next segment: from the second half's reader once the scan is where
 * it started (vf_scan), else from the file.  Same returns as
 * rec__segf_next; *raw is NULL for a segment of the second half's reader,
 * whose payload holds only what it kept (verify_internal.h), and
 * f->split_after then the chain head after it.
 */
static int
vf_next(struct vf *f, struct segf *sf, const uint8_t *head, struct seg *s,
    uint64_t *off, const uint8_t **raw, size_t *rawlen)
{
	if (f->sp != NULL && f->split == 0 &&
	    rec__vsplit_reach(f->sp, sf->off, head)) {
		f->split = 1;
		f->nsplit = rec__vsplit_wait(f->sp, &f->split_end);
	}
	if (f->split == 1 && f->ksplit < f->nsplit) {
		rec__vsplit_seg(f->sp, f->ksplit++, s, off, &f->split_after);
		*raw = NULL;
		*rawlen = SEG_HDR_LEN + (size_t)s->len;
		return 1;
	}
	if (f->split == 1) {	/* the file may hold more: read on */
		f->split = 2;
		rec__segf_seek(sf, f->split_end);
	}
	return rec__segf_next(sf, s, off, raw, rawlen);
}

/*
 * The fast pass, last: the CRCs of what no verified seal covers, the last
 * seal itself and the segments after it (all of them when there is no
 * seal), read again.  Returns REC_OK, or VF_REDO when one does not match.
 */
static int
vf_tail_crcs(int fd, const struct verify_file_result *res)
{
	const uint8_t *raw;
	struct segf sf;
	struct seg s;
	uint64_t off;
	size_t i, rawlen;
	int r = REC_OK;

	for (i = res->nseg; i > 0; i--)
		if (res->seg[i - 1].type == SEG_CHECKPOINT ||
		    res->seg[i - 1].type == SEG_FINAL)
			break;
	i = i > 0 ? i - 1 : 0;
	if (i >= res->nseg)
		return REC_OK;
	rec__segf_init(&sf, fd, res->seg[i].offset);
	for (; i < res->nseg && r == REC_OK; i++)
		if (rec__segf_next(&sf, &s, &off, &raw, &rawlen) != 1 ||
		    off != res->seg[i].offset || off + rawlen != res->seg[i].end)
			r = VF_REDO;
	rec__segf_free(&sf);
	return r;
}

/*
 * One reading of the file.  The full pass (fast 0) checks everything in
 * file order, as escort-transcript(5), VERIFICATION says.  The fast pass
 * (fast 1, with a key) does not check the CRCs of the segments that a
 * seal whose signature verifies covers, and hashes a large file's second
 * half on a second thread (verify_split.c); it returns VF_REDO unless the
 * file verified entirely, so that a problem is always found, located and
 * worded by the full pass.  That is sound: a seal that verifies signs the
 * chain head over every byte before it, the recorder signs only chains
 * over segments it wrote (with their CRCs) or checked, so those bytes are
 * the recorder's and their CRCs match unless SHA-256 collides; the rest
 * (the last seal and what follows it) gets its CRCs checked
 * (vf_tail_crcs).
 */
static int
vf_scan(int fd, const char *expect_id, const struct seal_verifier *v,
    int flags, int fast, struct verify_file_result *res)
{
	struct vf f;
	struct segf sf;
	struct seg s;
	struct stat st;
	uint8_t before[SEAL_HASH_LEN];
	const uint8_t *raw;
	size_t rawlen;
	uint64_t off;
	uint32_t index = 0;
	int r, ret = REC_OK;

	memset(res, 0, sizeof(*res));
	memset(&f, 0, sizeof(f));
	f.res = res;
	f.v = v;
	f.flags = flags;
	buf_init(&f.raw, 0);
	if ((flags & VERIFY_DEEP) && (f.dz = ZSTD_createDCtx()) == NULL)
		return REC_ENOMEM;
	if (f.dz != NULL)
		ZSTD_DCtx_setParameter(f.dz, ZSTD_d_windowLogMax, SEG_WINDOW_LOG_MAX);
	if (fstat(fd, &st) != 0) {
		ZSTD_freeDCtx(f.dz);
		return REC_EIO;
	}
	res->file_size = (uint64_t)st.st_size;
	rec__segf_init(&sf, fd, 0);
	sf.no_crc = fast;
	if (fast && res->file_size >= VF_SPLIT_MIN &&
	    !(flags & VERIFY_DEEP))
		f.sp = rec__vsplit_start(fd, res->file_size);
	for (;; index++) {
		r = vf_next(&f, &sf, res->head, &s, &off, &raw, &rawlen);
		if (r == 0)
			break;
		if (r == REC_EIO || r == REC_ENOMEM) {
			ret = r;
			break;
		}
		if (r < 0) {
			off = sf.off;
			if (rec__segf_torn_tail(fd, r, off, res->file_size)) {
				res->tail_torn = 1;
				break;
			}
			vf_fail(&f, r, index, off, "invalid segment: %s",
			    rec_strerror(r));
			break;
		}
		if (s.index != index) {
			vf_fail(&f, REC_EFORMAT, index, off,
			    "segment numbered %u found in place %u", s.index, index);
			break;
		}
		if (res->finished) {
			vf_fail(&f, REC_ETAMPER, index, off,
			    "data after the final record");
			break;
		}
		if ((index == 0) != (s.type == SEG_HEAD) || s.type == SEG_JOURNAL) {
			vf_fail(&f, REC_EFORMAT, index, off,
			    "unexpected %s segment", vf_type_name(s.type));
			break;
		}
		memcpy(before, res->head, SEAL_HASH_LEN);
		switch (s.type) {
		case SEG_HEAD:
			if ((r = vf_head(&f, &s, expect_id)) != REC_OK) {
				vf_fail(&f, r, 0, 0, r == REC_ETAMPER ?
				    "file holds another session (%s)" :
				    "malformed head segment", res->id);
				goto out;
			}
			seal_chain_init(before, res->id, strlen(res->id));
			break;
		case SEG_DATA:
			r = vf_data(&f, &s, off);
			break;
		case SEG_CHECKPOINT:
		case SEG_FINAL:
			r = vf_seal(&f, &s, off, before);
			break;
		case SEG_RECOVERY:
			r = vf_recovery(&f, &s, off);
			break;
		}
		if (s.type != SEG_HEAD && r == REC_ENOMEM) {
			ret = r;
			break;
		}
		if (s.type != SEG_HEAD && r != REC_OK)
			break;
		if (raw == NULL) {	/* hashed by the second half's reader */
			memcpy(res->head, f.split_after, SEAL_HASH_LEN);
		} else {
			memcpy(res->head, before, SEAL_HASH_LEN);
			seal_chain_step(res->head, raw, rawlen);
		}
		if ((ret = vf_add_seg(&f, off, off + rawlen, s.type, before,
		    res->head)) != REC_OK)
			break;
		res->segments = index + 1;
		res->valid_end = off + rawlen;
		if (s.type == SEG_CHECKPOINT || s.type == SEG_FINAL)
			res->signed_end = res->valid_end;
	}
out:
	if (ret == REC_OK)
		ret = vf_seals_check(&f);
	if (ret == REC_OK && fast)
		ret = res->err != REC_OK ? VF_REDO : vf_tail_crcs(fd, res);
	rec__vsplit_free(f.sp);
	free(f.seals);
	rec__segf_free(&sf);
	buf_free(&f.raw);
	ZSTD_freeDCtx(f.dz);
	return fast && ret != REC_OK ? VF_REDO : ret;
}

/* The fast pass first when there is a key; the full pass when it does not
 * say the file verified (vf_scan). */
int
verify_file(int fd, const char *expect_id, const struct seal_verifier *v,
    int flags, struct verify_file_result *res)
{
	if (v != NULL) {
		if (vf_scan(fd, expect_id, v, flags, 1, res) == REC_OK)
			return REC_OK;
		verify_file_result_free(res);
	}
	return vf_scan(fd, expect_id, v, flags, 0, res);
}

void
verify_file_result_free(struct verify_file_result *res)
{
	free(res->seg);
	res->seg = NULL;
	res->nseg = 0;
}
