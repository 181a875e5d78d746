/* xfer_sftp_server: server replies seen by the SFTP filter: handles,
 * digests of read data, outcomes of operations (see xfer_sftp.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_sftp.h"

/* ---- server replies --------------------------------------------------- */

/*
 * Server replies by message type, and STATUS replies by the type of the
 * request they answer, in the manner of OpenSSH's sftp-server handlers[].
 * A reply handler gets the frame after the request id and the request it
 * answers (freed by the caller); it returns a PX_* code.  Reply types with
 * no entry (ATTRS, and anything else) are passed without a record.
 */
struct reply_handler {
	uint8_t type;
	const char *name;
	int (*fn)(struct sftp_filter *f, uint32_t id, struct sf_req *q,
	    struct rd *r);
};

/* A STATUS reply (code, message: NULL when absent) to request q. */
struct status_handler {
	uint8_t req_type;
	const char *name;
	int (*fn)(struct sftp_filter *f, struct sf_req *q, uint32_t code,
	    const uint8_t *msg, size_t ml);
};

/* HANDLE to OPEN or OPENDIR: the handle is listed with its path. */
static int
reply_handle(struct sftp_filter *f, uint32_t id, struct sf_req *q,
    struct rd *r)
{
	const uint8_t *s;
	size_t sl;
	struct sf_handle *h;
	int e;

	s = sftp__rd_str(r, &sl);
	if (r->bad || sl > SF_HANDLE_MAX)
		return sftp__fail(f, PX_EINVAL,
		    "sftp server: malformed HANDLE "
		    "reply to request %u", id);
	if (q->type != FXP_OPEN && q->type != FXP_OPENDIR)
		return PX_OK;
	if ((h = sftp__handle_find(f, s, sl)) != NULL) {
		/* reused without a CLOSE we saw: report what it had */
		e = sftp__handle_records(f, h,
		    XFER_OUT_INCOMPLETE, 0, NULL, 0);
		sftp__handle_unlist(f, h);
		if (e != PX_OK)
			return e;
	}
	if (f->nhandles >= f->cfg.max_handles)
		return sftp__fail(f, PX_EINVAL,
		    "sftp: more than %zu open handles",
		    f->cfg.max_handles);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return sftp__nomem(f);
	h->refs = 1;
	h->listed = 1;
	memcpy(h->h, s, sl);
	h->hlen = (uint32_t)sl;
	h->path = q->path;
	h->pathlen = q->pathlen;
	q->path = NULL;
	h->pflags = q->pflags;
	h->is_dir = q->type == FXP_OPENDIR;
	if (!h->is_dir) {
		h->wr = (q->pflags & FXF_UPLOAD) != 0;
		h->rd = (q->pflags & FXF_READ) || !h->wr;
	}
	h->next = f->handles;
	f->handles = h;
	f->nhandles++;
	h->fid_up = q->fid_up;
	h->fid_down = q->fid_down;
	if (xfer_stream_init(&h->down, 0, 0) != PX_OK ||
	    xfer_stream_init(&h->up, 1, f->cfg.content_limit) != PX_OK)
		return sftp__nomem(f);
	xfer_stream_tap(&h->down, &f->cfg.tap, h->fid_down);
	xfer_stream_tap(&h->up, &f->cfg.tap, h->fid_up);
	return PX_OK;
}

/* NAME: a READDIR's entries are counted on its handle. */
static int
reply_name(struct sftp_filter *f, uint32_t id, struct sf_req *q,
    struct rd *r)
{
	uint32_t count = sftp__rd_u32(r);

	(void)f;
	(void)id;
	if (!r->bad && q->type == FXP_READDIR && q->h != NULL)
		q->h->entries += count;
	return PX_OK;
}

/* OPEN failed (OK without a handle is odd: call it failed). */
static int
status_open(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	return sftp__open_records(f, q, XFER_OUT_FAILED, code, msg, ml);
}

/* OPENDIR failed (OK without a handle is odd: call it failed). */
static int
status_opendir(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	struct xfer_record *rec;

	rec = xfer_record_new(XFER_OP_LISTDIR, XFER_DIR_NONE,
	    XFER_OUT_FAILED, q->path, q->pathlen);
	if (rec == NULL || sftp__set_status(rec, code, msg, ml) != PX_OK) {
		xfer_record_free(rec);
		return sftp__nomem(f);
	}
	if (code == FX_OK)
		rec->outcome = XFER_OUT_FAILED;
	return sftp__push_record(f, rec);
}

/* CLOSE: the handle's records, with the close's outcome. */
static int
status_close(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	struct sf_handle *h;
	int e;

	if ((h = q->h) == NULL || !h->listed)
		return PX_OK;
	e = sftp__handle_records(f, h, code == FX_OK ? XFER_OUT_OK :
	    XFER_OUT_FAILED, code, msg, ml);
	sftp__handle_unlist(f, h);
	return e;
}

/* WRITE: the first failure is kept for the handle's record. */
static int
status_write(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	if (code != FX_OK && q->h != NULL && q->h->write_status == 0) {
		q->h->write_status = code;
		if (msg != NULL && xfer_record_set_str(&q->h->write_msg, msg,
		    ml) != PX_OK)
			return sftp__nomem(f);
	}
	return PX_OK;
}

/* READ, READDIR: the end or an error; the handle's CLOSE records. */
static int
status_none(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	(void)f;
	(void)q;
	(void)code;
	(void)msg;
	(void)ml;
	return PX_OK;
}

/* Any other request (a path operation): its record with the outcome. */
static int
status_pathop(struct sftp_filter *f, struct sf_req *q, uint32_t code,
    const uint8_t *msg, size_t ml)
{
	struct xfer_record *rec;

	rec = xfer_record_new(q->op, XFER_DIR_UPLOAD, XFER_OUT_OK, q->path,
	    q->pathlen);
	if (rec == NULL || sftp__set_status(rec, code, msg, ml) != PX_OK ||
	    (q->target != NULL && xfer_record_set_str(&rec->target,
	    q->target, q->targetlen) != PX_OK)) {
		xfer_record_free(rec);
		return sftp__nomem(f);
	}
	return sftp__push_record(f, rec);
}

static const struct status_handler status_handlers[] = {
	{ FXP_OPEN, "open", status_open },
	{ FXP_OPENDIR, "opendir", status_opendir },
	{ FXP_CLOSE, "close", status_close },
	{ FXP_WRITE, "write", status_write },
	{ FXP_READ, "read", status_none },
	{ FXP_READDIR, "readdir", status_none },
};

/* STATUS: the outcome of the request, by its type. */
static int
reply_status(struct sftp_filter *f, uint32_t id, struct sf_req *q,
    struct rd *r)
{
	const uint8_t *msg;
	size_t ml, i;
	uint32_t code;

	code = sftp__rd_u32(r);
	if (r->bad)
		return sftp__fail(f, PX_EINVAL,
		    "sftp server: malformed STATUS "
		    "reply to request %u", id);
	msg = sftp__rd_str(r, &ml);
	if (r->bad)
		msg = NULL;
	for (i = 0; i < sizeof(status_handlers) / sizeof(status_handlers[0]); i++)
		if (status_handlers[i].req_type == q->type)
			return status_handlers[i].fn(f, q, code, msg, ml);
	return status_pathop(f, q, code, msg, ml);
}

/* EXTENDED_REPLY to an EXTENDED request: its record, outcome OK. */
static int
reply_extended(struct sftp_filter *f, uint32_t id, struct sf_req *q,
    struct rd *r)
{
	struct xfer_record *rec;

	(void)id;
	(void)r;
	if (q->type != FXP_EXTENDED)
		return PX_OK;
	rec = xfer_record_new(q->op, XFER_DIR_UPLOAD, XFER_OUT_OK, q->path,
	    q->pathlen);
	if (rec == NULL || (q->target != NULL && xfer_record_set_str(
	    &rec->target, q->target, q->targetlen) != PX_OK)) {
		xfer_record_free(rec);
		return sftp__nomem(f);
	}
	return sftp__push_record(f, rec);
}

static const struct reply_handler reply_handlers[] = {
	{ FXP_STATUS, "status", reply_status },
	{ FXP_HANDLE, "handle", reply_handle },
	{ FXP_NAME, "name", reply_name },
	{ FXP_EXTENDED_REPLY, "extended-reply", reply_extended },
};

/* Handles one complete server frame (all but DATA). */
int
sftp__server_frame(struct sftp_filter *f)
{
	struct rd r = { 0 };
	uint8_t type = f->sp.type;
	uint32_t id;
	struct sf_req *q;
	size_t i;
	int e = PX_OK;

	r.p = buf_peek(&f->sp.body, &r.n);
	if (type == FXP_VERSION) {
		uint32_t v = sftp__rd_u32(&r);

		if (r.bad || v != 3)
			return sftp__fail(f, PX_EINVAL, "sftp server: %s (only "
			    "SFTP version 3 is supported)", r.bad ?
			    "VERSION message too short" : "offers a version "
			    "other than 3");
		f->sstate = S_READY;
		return PX_OK;
	}
	id = sftp__rd_u32(&r);
	if (r.bad)
		return sftp__fail(f, PX_EINVAL,
		    "sftp server: reply of type %u at "
		    "byte %llu has no request id", type,
		    (unsigned long long)f->sp.frame_pos);
	if ((q = sftp__req_take(f, id)) == NULL)
		return PX_OK;		/* not a request we track */
	for (i = 0; i < sizeof(reply_handlers) / sizeof(reply_handlers[0]); i++)
		if (reply_handlers[i].type == type) {
			e = reply_handlers[i].fn(f, id, q, &r);
			break;
		}
	sftp__req_free(q);
	return e;
}

/* The DATA prefix (id, data length) is complete. */
int
sftp__server_data_prefix(struct sftp_filter *f)
{
	struct sf_parser *sp = &f->sp;
	const uint8_t *b;
	size_t n;
	uint32_t id, dlen;
	uint64_t rest;
	struct sf_req *q;

	b = buf_peek(&sp->body, &n);
	id = buf_ld32(b);
	dlen = buf_ld32(b + 4);
	rest = (uint64_t)sp->len - 1 - 8;
	if (dlen > rest)
		return sftp__fail(f, PX_EINVAL,
		    "sftp server: DATA reply to request "
		    "%u claims %u bytes in a %u-byte frame", id, dlen, sp->len);
	sp->st = P_STREAM;
	sp->left = rest;
	sp->data_left = dlen;
	sp->sh = NULL;
	if ((q = sftp__req_take(f, id)) != NULL) {
		if (q->type == FXP_READ && q->h != NULL && q->h->listed) {
			sp->sh = sftp__handle_ref(q->h);
			sp->data_off = q->off;
		}
		sftp__req_free(q);
	}
	return PX_OK;
}
