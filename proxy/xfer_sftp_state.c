/* xfer_sftp_state: the SFTP filter's request and handle tables, records,
 * replies to the client and frame decoding (see xfer_sftp.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/esc_error.h"
#include "proxy/px_error.h"
#include "proxy/xfer_sftp.h"

/* ---- errors ----------------------------------------------------------- */

int
sftp__fail(struct sftp_filter *f, int code, const char *fmt, ...)
{
	va_list ap;

	if (f->err != PX_OK)
		return f->err;
	va_start(ap, fmt);
	vsnprintf(f->errmsg, sizeof(f->errmsg), fmt, ap);
	va_end(ap);
	f->err = code;
	return code;
}

int
sftp__nomem(struct sftp_filter *f)
{
	return sftp__fail(f, PX_ENOMEM, "sftp filter: out of memory");
}

/* ---- handles ---------------------------------------------------------- */

void
sftp__handle_unref(struct sf_handle *h)
{
	if (h == NULL || --h->refs > 0)
		return;
	xfer_stream_free(&h->down);
	xfer_stream_free(&h->up);
	free(h->path);
	free(h->write_msg);
	free(h);
}

struct sf_handle *
sftp__handle_ref(struct sf_handle *h)
{
	if (h != NULL)
		h->refs++;
	return h;
}

struct sf_handle *
sftp__handle_find(struct sftp_filter *f, const uint8_t *p, size_t n)
{
	struct sf_handle *h;

	for (h = f->handles; h != NULL; h = h->next)
		if (h->hlen == n && memcmp(h->h, p, n) == 0)
			return h;
	return NULL;
}

/* Takes h out of the open-handle list and drops the list's reference. */
void
sftp__handle_unlist(struct sftp_filter *f, struct sf_handle *h)
{
	struct sf_handle **pp;

	for (pp = &f->handles; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			h->next = NULL;
			h->listed = 0;
			f->nhandles--;
			sftp__handle_unref(h);
			return;
		}
}

/* ---- requests --------------------------------------------------------- */

void
sftp__req_free(struct sf_req *q)
{
	if (q == NULL)
		return;
	free(q->path);
	free(q->target);
	sftp__handle_unref(q->h);
	free(q);
}

/* Removes and returns the request with this id, or NULL. */
struct sf_req *
sftp__req_take(struct sftp_filter *f, uint32_t id)
{
	struct sf_req **pp, *q;

	for (pp = &f->reqs[id % SF_BUCKETS]; (q = *pp) != NULL; pp = &q->next)
		if (q->id == id) {
			*pp = q->next;
			q->next = NULL;
			f->nreqs--;
			return q;
		}
	return NULL;
}

int
sftp__dup_bytes(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n)
{
	if ((*dst = malloc(n ? n : 1)) == NULL)
		return PX_ENOMEM;
	if (n)
		memcpy(*dst, p, n);
	*dlen = n;
	return PX_OK;
}

/* Tracks a request awaiting its reply (an older one with the same id is
 * forgotten). */
int
sftp__req_add(struct sftp_filter *f, struct sf_req *q)
{
	sftp__req_free(sftp__req_take(f, q->id));
	if (f->nreqs >= f->cfg.max_requests) {
		sftp__req_free(q);
		return sftp__fail(f, PX_EINVAL,
		    "sftp client: more than %zu requests "
		    "outstanding", f->cfg.max_requests);
	}
	q->next = f->reqs[q->id % SF_BUCKETS];
	f->reqs[q->id % SF_BUCKETS] = q;
	f->nreqs++;
	return PX_OK;
}

struct sf_req *
sftp__req_new(uint32_t id, uint8_t type)
{
	struct sf_req *q = calloc(1, sizeof(*q));

	if (q != NULL) {
		q->id = id;
		q->type = type;
	}
	return q;
}

/* ---- records ---------------------------------------------------------- */

int
sftp__push_record(struct sftp_filter *f, struct xfer_record *r)
{
	if (r == NULL)
		return sftp__nomem(f);
	xfer_queue_push(&f->records, r);
	return PX_OK;
}

/* Sets outcome, status and message of r from a STATUS reply. */
int
sftp__set_status(struct xfer_record *r, uint32_t code, const uint8_t *msg,
    size_t msglen)
{
	r->outcome = code == FX_OK ? XFER_OUT_OK : XFER_OUT_FAILED;
	r->status = code == FX_OK ? 0 : code;
	if (code != FX_OK && msg != NULL)
		return xfer_record_set_str(&r->message, msg, msglen);
	return PX_OK;
}

/* Emits the end records of an OPEN that got no handle. */
int
sftp__open_records(struct sftp_filter *f, const struct sf_req *q,
    enum xfer_outcome out, uint32_t code, const uint8_t *msg, size_t msglen)
{
	int up = (q->pflags & FXF_UPLOAD) != 0;
	int down = (q->pflags & FXF_READ) || !up;
	struct xfer_record *r;
	int i;

	for (i = 0; i < 2; i++) {
		enum xfer_dir dir = i == 0 ? XFER_DIR_UPLOAD : XFER_DIR_DOWNLOAD;

		if (!(i == 0 ? up : down))
			continue;
		r = xfer_record_new(XFER_OP_FILE, dir, out, q->path, q->pathlen);
		if (r == NULL)
			return sftp__nomem(f);
		r->file_id = i == 0 ? q->fid_up : q->fid_down;
		if (out != XFER_OUT_INCOMPLETE &&
		    sftp__set_status(r, code, msg, msglen) != PX_OK) {
			xfer_record_free(r);
			return sftp__nomem(f);
		}
		if (out == XFER_OUT_FAILED)
			r->outcome = XFER_OUT_FAILED;
		if (sftp__push_record(f, r) != PX_OK)
			return f->err;
	}
	return PX_OK;
}

/* Emits the records of a handle that closed (or never will). */
int
sftp__handle_records(struct sftp_filter *f, struct sf_handle *h,
    enum xfer_outcome out, uint32_t code, const uint8_t *msg, size_t msglen)
{
	struct xfer_record *r;

	if (h->is_dir) {
		r = xfer_record_new(XFER_OP_LISTDIR, XFER_DIR_NONE, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return sftp__nomem(f);
		r->size = h->entries;
		if (out != XFER_OUT_INCOMPLETE &&
		    sftp__set_status(r, code, msg, msglen) != PX_OK) {
			xfer_record_free(r);
			return sftp__nomem(f);
		}
		return sftp__push_record(f, r);
	}
	if (h->rd || h->down.pieces > 0) {
		r = xfer_record_new(XFER_OP_FILE, XFER_DIR_DOWNLOAD, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return sftp__nomem(f);
		r->file_id = h->fid_down;
		xfer_stream_finish(&h->down, r);
		if (out != XFER_OUT_INCOMPLETE &&
		    sftp__set_status(r, code, msg, msglen) != PX_OK) {
			xfer_record_free(r);
			return sftp__nomem(f);
		}
		sftp__push_record(f, r);
	}
	if (h->wr || h->up.pieces > 0) {
		r = xfer_record_new(XFER_OP_FILE, XFER_DIR_UPLOAD, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return sftp__nomem(f);
		r->file_id = h->fid_up;
		xfer_stream_finish(&h->up, r);
		if (out != XFER_OUT_INCOMPLETE) {
			int e;

			if (h->write_status != 0)
				e = sftp__set_status(r, h->write_status,
				    (const uint8_t *)h->write_msg,
				    h->write_msg ? strlen(h->write_msg) : 0);
			else
				e = sftp__set_status(r, code, msg, msglen);
			if (e != PX_OK) {
				xfer_record_free(r);
				return sftp__nomem(f);
			}
		}
		sftp__push_record(f, r);
	}
	return PX_OK;
}

/* ---- output ----------------------------------------------------------- */

int
sftp__out_put(struct sftp_filter *f, struct buf *b, const void *p,
    size_t n)
{
	if (buf_put(b, p, n) != PX_OK)
		return sftp__nomem(f);
	return PX_OK;
}

/* True when a reply may be inserted into the client stream now. */
int
sftp__server_at_boundary(const struct sftp_filter *f)
{
	return f->sstate == S_READY && f->sp.st == P_HDR &&
	    f->sp.hdr_have == 0;
}

/* Queues an SSH_FXP_STATUS reply for the client. */
int
sftp__reply_status(struct sftp_filter *f, uint32_t id, uint32_t code,
    const char *msg)
{
	struct buf *b = sftp__server_at_boundary(f) ? &f->down :
	    &f->pending;
	size_t mlen = strlen(msg);
	uint8_t hdr[13];
	uint32_t len = (uint32_t)(1 + 4 + 4 + 4 + mlen + 4 + 2);
	int r;

	hdr[0] = len >> 24; hdr[1] = len >> 16; hdr[2] = len >> 8; hdr[3] = len;
	hdr[4] = FXP_STATUS;
	hdr[5] = id >> 24; hdr[6] = id >> 16; hdr[7] = id >> 8; hdr[8] = id;
	hdr[9] = code >> 24; hdr[10] = code >> 16; hdr[11] = code >> 8;
	hdr[12] = code;
	if (buf_room(b) < len + 4)
		r = PX_EFULL;
	else if (buf_put(b, hdr, sizeof(hdr)) != ESC_OK ||
	    buf_put_u32(b, (uint32_t)mlen) != ESC_OK ||
	    buf_put(b, msg, mlen) != ESC_OK ||
	    buf_put_u32(b, 2) != ESC_OK || buf_put(b, "en", 2) != ESC_OK)
		r = PX_ENOMEM;
	else
		r = PX_OK;
	if (r == PX_EFULL)
		return sftp__fail(f, PX_EINVAL,
		    "sftp client: more than %u bytes of "
		    "refusals wait for the server to finish a reply",
		    SF_PENDING_MAX);
	return r == PX_OK ? PX_OK : sftp__nomem(f);
}

/* Moves replies held for a server frame boundary to the client stream. */
int
sftp__flush_pending(struct sftp_filter *f)
{
	const uint8_t *p;
	size_t n;

	if (!sftp__server_at_boundary(f))
		return PX_OK;
	p = buf_peek(&f->pending, &n);
	if (n == 0)
		return PX_OK;
	if (sftp__out_put(f, &f->down, p, n) != PX_OK)
		return f->err;
	buf_reset(&f->pending);
	return PX_OK;
}

/* ---- decoding helpers ------------------------------------------------- */


uint32_t
sftp__rd_u32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->n - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	v = buf_ld32(r->p + r->off);
	r->off += 4;
	return v;
}

uint64_t
sftp__rd_u64(struct rd *r)
{
	uint64_t v;

	if (r->bad || r->n - r->off < 8) {
		r->bad = 1;
		return 0;
	}
	v = buf_ld64(r->p + r->off);
	r->off += 8;
	return v;
}

/* Returns a pointer to a string's bytes and its length in *len. */
const uint8_t *
sftp__rd_str(struct rd *r, size_t *len)
{
	uint32_t n = sftp__rd_u32(r);
	const uint8_t *s;

	*len = 0;
	if (r->bad || r->n - r->off < n) {
		r->bad = 1;
		return NULL;
	}
	s = r->p + r->off;
	r->off += n;
	*len = n;
	return s;
}
