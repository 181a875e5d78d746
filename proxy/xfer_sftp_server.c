/* xfer_sftp_server: server replies seen by the SFTP filter: handles,
 * digests of read data, outcomes of operations (see xfer_sftp.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_sftp.h"

/* ---- server replies --------------------------------------------------- */

/* Handles one complete server frame (all but DATA). */
int
sftp__server_frame(struct sftp_filter *f)
{
	struct rd r = { 0 };
	uint8_t type = f->sp.type;
	uint32_t id, code;
	const uint8_t *s, *msg;
	size_t sl, ml;
	struct sf_req *q;
	struct sf_handle *h;
	struct xfer_record *rec;
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

	switch (type) {
	case FXP_HANDLE:
		s = sftp__rd_str(&r, &sl);
		if (r.bad || sl > SF_HANDLE_MAX) {
			e = sftp__fail(f, PX_EINVAL,
			    "sftp server: malformed HANDLE "
			    "reply to request %u", id);
			break;
		}
		if (q->type != FXP_OPEN && q->type != FXP_OPENDIR)
			break;
		if ((h = sftp__handle_find(f, s, sl)) != NULL) {
			/* reused without a CLOSE we saw: report what it had */
			e = sftp__handle_records(f, h,
			    XFER_OUT_INCOMPLETE, 0, NULL, 0);
			sftp__handle_unlist(f, h);
			if (e != PX_OK)
				break;
		}
		if (f->nhandles >= f->cfg.max_handles) {
			e = sftp__fail(f, PX_EINVAL,
			    "sftp: more than %zu open handles",
			    f->cfg.max_handles);
			break;
		}
		if ((h = calloc(1, sizeof(*h))) == NULL) {
			e = sftp__nomem(f);
			break;
		}
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
		    xfer_stream_init(&h->up, 1, f->cfg.content_limit) != PX_OK) {
			e = sftp__nomem(f);
			break;
		}
		xfer_stream_tap(&h->down, &f->cfg.tap, h->fid_down);
		xfer_stream_tap(&h->up, &f->cfg.tap, h->fid_up);
		break;
	case FXP_NAME:
		code = sftp__rd_u32(&r);
		if (!r.bad && q->type == FXP_READDIR && q->h != NULL)
			q->h->entries += code;
		break;
	case FXP_STATUS:
		code = sftp__rd_u32(&r);
		if (r.bad) {
			e = sftp__fail(f, PX_EINVAL,
			    "sftp server: malformed STATUS "
			    "reply to request %u", id);
			break;
		}
		msg = sftp__rd_str(&r, &ml);
		if (r.bad)
			msg = NULL;
		switch (q->type) {
		case FXP_OPEN:
			/* OK without a handle is odd: call it failed */
			e = sftp__open_records(f, q, XFER_OUT_FAILED, code,
			    msg, ml);
			break;
		case FXP_OPENDIR:
			rec = xfer_record_new(XFER_OP_LISTDIR, XFER_DIR_NONE,
			    XFER_OUT_FAILED, q->path, q->pathlen);
			if (rec == NULL ||
			    sftp__set_status(rec, code, msg, ml) != PX_OK) {
				xfer_record_free(rec);
				e = sftp__nomem(f);
				break;
			}
			/* OK without a handle is odd: call it failed */
			if (code == FX_OK)
				rec->outcome = XFER_OUT_FAILED;
			e = sftp__push_record(f, rec);
			break;
		case FXP_CLOSE:
			if ((h = q->h) == NULL || !h->listed)
				break;
			e = sftp__handle_records(f, h,
			    code == FX_OK ? XFER_OUT_OK :
			    XFER_OUT_FAILED, code, msg, ml);
			sftp__handle_unlist(f, h);
			break;
		case FXP_WRITE:
			if (code != FX_OK && q->h != NULL &&
			    q->h->write_status == 0) {
				q->h->write_status = code;
				if (msg != NULL && xfer_record_set_str(
				    &q->h->write_msg, msg, ml) != PX_OK)
					e = sftp__nomem(f);
			}
			break;
		case FXP_READ:
		case FXP_READDIR:
			break;
		default:
			rec = xfer_record_new(q->op, XFER_DIR_UPLOAD,
			    XFER_OUT_OK, q->path, q->pathlen);
			if (rec == NULL ||
			    sftp__set_status(rec, code, msg, ml) !=
			    PX_OK || (q->target != NULL && xfer_record_set_str(
			    &rec->target, q->target, q->targetlen) != PX_OK)) {
				xfer_record_free(rec);
				e = sftp__nomem(f);
				break;
			}
			e = sftp__push_record(f, rec);
			break;
		}
		break;
	case FXP_EXTENDED_REPLY:
		if (q->type == FXP_EXTENDED) {
			rec = xfer_record_new(q->op, XFER_DIR_UPLOAD,
			    XFER_OUT_OK, q->path, q->pathlen);
			if (rec == NULL || (q->target != NULL &&
			    xfer_record_set_str(&rec->target, q->target,
			    q->targetlen) != PX_OK)) {
				xfer_record_free(rec);
				e = sftp__nomem(f);
				break;
			}
			e = sftp__push_record(f, rec);
		}
		break;
	default:
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
