/*
 * verify_split.c: the second half of a session file, read and hashed on a
 * thread of its own while verify_file reads the first half (see
 * verify_internal.h).
 *
 * The chain is sequential (head(i) = SHA-256(head(i-1) || segment i)),
 * but every CHECKPOINT holds the head before it.  The thread looks for a
 * CHECKPOINT from 40% of the file on (its header has a fixed form, and
 * its payload names its own offset and index) and reads from there to the
 * end, hashing from the head that checkpoint claims, and keeping of each
 * segment what the verifier checks of it.  Its heads are the file's only
 * when the reader, hashing from the start, arrives at that very offset
 * with that very head (rec__vsplit_reach): then every later head is the
 * one the reader would have computed.  Otherwise the thread's work is
 * dropped and the reader reads on alone.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/rec_error.h"
#include "recorder/segfile.h"
#include "recorder/verify_internal.h"

/* Where the search for a CHECKPOINT starts and ends (fractions of the
 * file, in tenths), the bytes read at a time, and at most in all. */
#define VSP_FROM_TENTHS 4
#define VSP_TO_TENTHS 8
#define VSP_CHUNK (64u << 10)
#define VSP_SEARCH_MAX (64u << 20)

enum vsp_state {
	VSP_SEARCH,	/* the thread looks for its checkpoint */
	VSP_PUBLISHED,	/* it reads from start; the reader is not there */
	VSP_TAKEN,	/* the reader got there with the same head */
	VSP_CANCELLED	/* no split: the reader reads everything */
};

/* One segment the thread read. */
struct vsp_seg {
	uint64_t off;
	struct seg s;			/* payload: at pos in data */
	size_t pos;
	uint8_t after[SEAL_HASH_LEN];	/* the chain head after it */
};

struct vf_split {
	int fd;
	uint64_t size;		/* file size at the start: read up to here */
	pthread_t th;
	int joined;
	pthread_mutex_t mu;	/* guards state and a_off */
	enum vsp_state state;
	uint64_t a_off;		/* the reader's next segment */
	uint64_t start;		/* where the thread reads from */
	uint64_t end;		/* and the offset after its last segment */
	uint8_t head0[SEAL_HASH_LEN];	/* the head its checkpoint claims */
	struct vsp_seg *v;	/* the segments it read, in order */
	size_t n, cap;
	struct buf data;	/* what it kept of their payloads */
};

/* The fixed part of a CHECKPOINT's header: magic, version 1, type 3,
 * flags 0 (the index follows, then the payload length 157). */
static const uint8_t vsp_cp_magic[8] = { 'E', 'S', 'G', '1', SEG_VERSION,
    SEG_CHECKPOINT, 0, 0 };

static enum vsp_state
vsp_state(struct vf_split *sp)
{
	enum vsp_state st;

	pthread_mutex_lock(&sp->mu);
	st = sp->state;
	pthread_mutex_unlock(&sp->mu);
	return st;
}

/* 1 when p[0..n) at file offset off starts a CHECKPOINT segment that
 * names its own place; its claimed head into sp->head0. */
static int
vsp_is_checkpoint(struct vf_split *sp, const uint8_t *p, size_t n,
    uint64_t off)
{
	struct seal_receipt rc;
	struct seg s;
	size_t used;

	if (n < SEG_HDR_LEN + SEG_SEAL_LEN ||
	    rec__seg_decode_nocrc(p, n, &s, &used) != REC_OK ||
	    s.type != SEG_CHECKPOINT || seg_seal_get(&s, &rc) != REC_OK ||
	    rc.cp.offset != off || rc.cp.seg_index != s.index)
		return 0;
	memcpy(sp->head0, rc.cp.head, SEAL_HASH_LEN);
	sp->start = off;
	return 1;
}

/* Finds the first CHECKPOINT from 40% of the file on.  Returns 0, or -1
 * when there is none up to 80% (or within VSP_SEARCH_MAX bytes). */
static int
vsp_find(struct vf_split *sp)
{
	uint64_t pos = sp->size / 10 * VSP_FROM_TENTHS;
	uint64_t to = sp->size / 10 * VSP_TO_TENTHS, read = 0;
	const uint8_t *q;
	uint8_t *p;
	size_t n, i;
	int found = 0;

	if ((p = malloc(VSP_CHUNK)) == NULL)
		return -1;
	while (!found && pos < to && read < VSP_SEARCH_MAX &&
	    vsp_state(sp) == VSP_SEARCH) {
		n = VSP_CHUNK;
		if (n > sp->size - pos)
			n = (size_t)(sp->size - pos);
		if (segf_pread(sp->fd, p, n, pos) != REC_OK)
			break;
		read += n;
		for (i = 0; !found && i + sizeof(vsp_cp_magic) <= n; i++) {
			if ((q = memmem(p + i, n - i, vsp_cp_magic,
			    sizeof(vsp_cp_magic))) == NULL)
				break;
			i = (size_t)(q - p);
			found = vsp_is_checkpoint(sp, q, n - i, pos + i);
		}
		/* the next chunk overlaps this one by a whole checkpoint */
		pos += n - (n > SEG_HDR_LEN + SEG_SEAL_LEN ?
		    SEG_HDR_LEN + SEG_SEAL_LEN : 0);
		if (n <= SEG_HDR_LEN + SEG_SEAL_LEN)
			break;
	}
	free(p);
	return found ? 0 : -1;
}

/* Keeps segment s at off, with the head after it.  What is kept of the
 * payload is what verify_file checks without decoding the session: a DATA
 * segment's prefix (all of it when flagged RESUME_REFUSED: it is decoded
 * alone), the whole of any other.  Returns 0 or -1 (out of memory). */
static int
vsp_keep(struct vf_split *sp, const struct seg *s, uint64_t off,
    const uint8_t after[SEAL_HASH_LEN])
{
	struct vsp_seg *nv;
	size_t keep = s->len;

	if (s->type == SEG_DATA && !(s->flags & SEGF_RESUME_REFUSED) &&
	    keep > SEG_DATA_PREFIX)
		keep = SEG_DATA_PREFIX;
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 256;
		if ((nv = realloc(sp->v, sp->cap * sizeof(*nv))) == NULL)
			return -1;
		sp->v = nv;
	}
	nv = &sp->v[sp->n];
	nv->off = off;
	nv->s = *s;
	nv->s.payload = NULL;
	nv->pos = buf_len(&sp->data);
	memcpy(nv->after, after, SEAL_HASH_LEN);
	if (buf_put(&sp->data, s->payload, keep) != REC_OK)
		return -1;
	sp->n++;
	return 0;
}

/* Reads and hashes from sp->start up to sp->size bytes. */
static void
vsp_read(struct vf_split *sp)
{
	uint8_t head[SEAL_HASH_LEN];
	const uint8_t *raw;
	struct segf sf;
	struct seg s;
	uint64_t off;
	size_t rawlen;

	memcpy(head, sp->head0, SEAL_HASH_LEN);
	rec__segf_init(&sf, sp->fd, sp->start);
	sf.no_crc = 1;
	sp->end = sp->start;
	while (sf.off < sp->size && vsp_state(sp) != VSP_CANCELLED &&
	    rec__segf_next(&sf, &s, &off, &raw, &rawlen) == 1) {
		seal_chain_step(head, raw, rawlen);
		if (vsp_keep(sp, &s, off, head) != 0)
			break;
		sp->end = off + rawlen;
	}
	rec__segf_free(&sf);
}

static void *
vsp_main(void *arg)
{
	struct vf_split *sp = arg;
	int found = vsp_find(sp) == 0;

	pthread_mutex_lock(&sp->mu);
	if (found && sp->state == VSP_SEARCH && sp->a_off < sp->start)
		sp->state = VSP_PUBLISHED;
	else
		sp->state = VSP_CANCELLED;
	found = sp->state == VSP_PUBLISHED;
	pthread_mutex_unlock(&sp->mu);
	if (found)
		vsp_read(sp);
	return NULL;
}

struct vf_split *
rec__vsplit_start(int fd, uint64_t size)
{
	struct vf_split *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	sp->fd = fd;
	sp->size = size;
	sp->state = VSP_SEARCH;
	buf_init(&sp->data, 0);
	if (pthread_mutex_init(&sp->mu, NULL) != 0) {
		free(sp);
		return NULL;
	}
	if (pthread_create(&sp->th, NULL, vsp_main, sp) != 0) {
		pthread_mutex_destroy(&sp->mu);
		free(sp);
		return NULL;
	}
	return sp;
}

int
rec__vsplit_reach(struct vf_split *sp, uint64_t off,
    const uint8_t head[SEAL_HASH_LEN])
{
	int taken = 0;

	pthread_mutex_lock(&sp->mu);
	sp->a_off = off;
	if (sp->state == VSP_PUBLISHED && off >= sp->start) {
		taken = off == sp->start &&
		    memcmp(head, sp->head0, SEAL_HASH_LEN) == 0;
		sp->state = taken ? VSP_TAKEN : VSP_CANCELLED;
	}
	pthread_mutex_unlock(&sp->mu);
	return taken;
}

/* Stops the thread (unless the reader took its work) and waits for it. */
static void
vsp_join(struct vf_split *sp)
{
	pthread_mutex_lock(&sp->mu);
	if (sp->state != VSP_TAKEN)
		sp->state = VSP_CANCELLED;
	pthread_mutex_unlock(&sp->mu);
	if (!sp->joined)
		pthread_join(sp->th, NULL);
	sp->joined = 1;
}

size_t
rec__vsplit_wait(struct vf_split *sp, uint64_t *end)
{
	vsp_join(sp);
	*end = sp->end;
	return sp->n;
}

void
rec__vsplit_seg(const struct vf_split *sp, size_t k, struct seg *s,
    uint64_t *off, const uint8_t **after)
{
	*s = sp->v[k].s;
	s->payload = buf_ptr(&sp->data) + sp->v[k].pos;
	*off = sp->v[k].off;
	*after = sp->v[k].after;
}

void
rec__vsplit_free(struct vf_split *sp)
{
	if (sp == NULL)
		return;
	vsp_join(sp);
	pthread_mutex_destroy(&sp->mu);
	free(sp->v);
	buf_free(&sp->data);
	free(sp);
}
