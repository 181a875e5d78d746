/* xfer_sftp_client: client requests seen by the SFTP filter: the sftp
 * mode decides, allowed requests are tracked and forwarded unchanged,
 * refused ones answered (see xfer_sftp.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_sftp.h"

/* ---- client requests -------------------------------------------------- */

static const char *
deny_text(enum xfer_mode mode, int need_upload)
{
	if (mode == XFER_MODE_NONE)
		return "Permission denied by escort policy (sftp none): "
		    "file transfers are not allowed";
	if (need_upload)
		return "Permission denied by escort policy (sftp download): "
		    "uploads and changes are not allowed";
	return "Permission denied by escort policy (sftp upload): "
	    "downloads are not allowed";
}

/* Refuses a request: DENIED record plus a PERMISSION_DENIED reply. */
static int
deny(struct sftp_filter *f, uint32_t id, enum xfer_op op, enum xfer_dir dir,
    int need_upload, const uint8_t *path, size_t pathlen,
    const uint8_t *target, size_t targetlen)
{
	const char *msg = deny_text(f->cfg.mode, need_upload);
	struct xfer_record *r;

	r = xfer_record_new(op, dir, XFER_OUT_DENIED, path, pathlen);
	if (r == NULL)
		return sftp__nomem(f);
	if (xfer_record_set_str(&r->message, msg, strlen(msg)) != PX_OK ||
	    (target != NULL &&
	    xfer_record_set_str(&r->target, target, targetlen) != PX_OK)) {
		xfer_record_free(r);
		return sftp__nomem(f);
	}
	sftp__push_record(f, r);
	return sftp__reply_status(f, id, FX_PERMISSION_DENIED, msg);
}

/* Extensions that change nothing on the server. */
static int
ext_readonly(const uint8_t *name, size_t n)
{
	static const char *const ro[] = {
		"statvfs@openssh.com", "fstatvfs@openssh.com",
		"limits@openssh.com", "expand-path@openssh.com",
		"home-directory", "users-groups-by-id@openssh.com",
		"fsync@openssh.com",
	};
	size_t i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (strlen(ro[i]) == n && memcmp(ro[i], name, n) == 0)
			return 1;
	return 0;
}

static int
ext_is(const uint8_t *name, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(s, name, n) == 0;
}

/* Forwards the frame held in the client parser unchanged. */
static int
forward_client_frame(struct sftp_filter *f)
{
	const uint8_t *b;
	size_t n;

	b = xfer_buf_peek(&f->cp.body, &n);
	if (sftp__out_put(f, &f->up, f->cp.hdr, 5) != PX_OK ||
	    sftp__out_put(f, &f->up, b, n) != PX_OK)
		return f->err;
	return PX_OK;
}

/* Decides and tracks one path operation (REMOVE, RENAME, ...). */
static int
client_pathop(struct sftp_filter *f, uint32_t id, uint8_t type,
    enum xfer_op op, const uint8_t *p1, size_t l1, const uint8_t *p2,
    size_t l2)
{
	struct sf_req *q;

	if (!(f->cfg.mode & XFER_MODE_UPLOAD))
		return deny(f, id, op, XFER_DIR_UPLOAD, 1, p1, l1, p2, l2);
	if ((q = sftp__req_new(id, type)) == NULL ||
	    sftp__dup_bytes(&q->path, &q->pathlen, p1, l1) != PX_OK ||
	    (p2 != NULL && sftp__dup_bytes(&q->target, &q->targetlen, p2, l2) !=
	    PX_OK)) {
		sftp__req_free(q);
		return sftp__nomem(f);
	}
	q->op = op;
	if (sftp__req_add(f, q) != PX_OK)
		return f->err;
	return forward_client_frame(f);
}

/* Handles one complete client frame (all but WRITE). */
int
sftp__client_frame(struct sftp_filter *f)
{
	struct rd r = { 0 };
	const uint8_t *p1, *p2;
	size_t l1, l2;
	uint32_t id, pflags;
	struct sf_req *q;
	struct sf_handle *h;
	uint8_t type = f->cp.type;

	r.p = xfer_buf_peek(&f->cp.body, &r.n);
	if (type == FXP_INIT) {
		f->cstate = C_READY;
		return forward_client_frame(f);
	}
	id = sftp__rd_u32(&r);
	if (r.bad)
		return sftp__fail(f, PX_EINVAL,
		    "sftp client: frame of type %u at "
		    "byte %llu has no request id", type,
		    (unsigned long long)f->cp.frame_pos);

	switch (type) {
	case FXP_OPEN:
		p1 = sftp__rd_str(&r, &l1);
		pflags = sftp__rd_u32(&r);
		if (r.bad)
			break;
		{
			int need_up = (pflags & FXF_UPLOAD) != 0;
			int need_down = (pflags & FXF_READ) || !need_up;

			if (need_up && !(f->cfg.mode & XFER_MODE_UPLOAD))
				return deny(f, id, XFER_OP_FILE,
				    XFER_DIR_UPLOAD, 1, p1, l1, NULL, 0);
			if (need_down && !(f->cfg.mode & XFER_MODE_DOWNLOAD))
				return deny(f, id, XFER_OP_FILE,
				    XFER_DIR_DOWNLOAD, 0, p1, l1, NULL, 0);
		}
		/* FALLTHROUGH */
	case FXP_OPENDIR:
		if (type == FXP_OPENDIR) {
			p1 = sftp__rd_str(&r, &l1);
			pflags = 0;
			if (r.bad)
				break;
		}
		if ((q = sftp__req_new(id, type)) == NULL ||
		    sftp__dup_bytes(&q->path, &q->pathlen, p1, l1) != PX_OK) {
			sftp__req_free(q);
			return sftp__nomem(f);
		}
		q->pflags = pflags;
		if (sftp__req_add(f, q) != PX_OK)
			return f->err;
		return forward_client_frame(f);
	case FXP_CLOSE:
	case FXP_READ:
	case FXP_READDIR:
		p1 = sftp__rd_str(&r, &l1);
		if (type == FXP_READ) {
			uint64_t off = sftp__rd_u64(&r);

			(void)sftp__rd_u32(&r);
			if (r.bad)
				break;
			if ((q = sftp__req_new(id, type)) == NULL)
				return sftp__nomem(f);
			q->off = off;
		} else {
			if (r.bad)
				break;
			if ((q = sftp__req_new(id, type)) == NULL)
				return sftp__nomem(f);
		}
		q->h = sftp__handle_ref(sftp__handle_find(f, p1, l1));
		if (sftp__req_add(f, q) != PX_OK)
			return f->err;
		return forward_client_frame(f);
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
	case FXP_SETSTAT:
		p1 = sftp__rd_str(&r, &l1);
		if (r.bad)
			break;
		return client_pathop(f, id, type,
		    type == FXP_REMOVE ? XFER_OP_REMOVE :
		    type == FXP_MKDIR ? XFER_OP_MKDIR :
		    type == FXP_RMDIR ? XFER_OP_RMDIR : XFER_OP_SETSTAT,
		    p1, l1, NULL, 0);
	case FXP_FSETSTAT:
		p1 = sftp__rd_str(&r, &l1);
		if (r.bad)
			break;
		h = sftp__handle_find(f, p1, l1);
		if (h != NULL)
			return client_pathop(f, id, type, XFER_OP_SETSTAT,
			    h->path, h->pathlen, NULL, 0);
		return client_pathop(f, id, type, XFER_OP_SETSTAT,
		    (const uint8_t *)"(unknown handle)", 16, NULL, 0);
	case FXP_RENAME:
	case FXP_SYMLINK:
		p1 = sftp__rd_str(&r, &l1);
		p2 = sftp__rd_str(&r, &l2);
		if (r.bad)
			break;
		return client_pathop(f, id, type, type == FXP_RENAME ?
		    XFER_OP_RENAME : XFER_OP_SYMLINK, p1, l1, p2, l2);
	case FXP_EXTENDED:
		p1 = sftp__rd_str(&r, &l1);
		if (r.bad)
			break;
		if (ext_readonly(p1, l1))
			return forward_client_frame(f);
		if (ext_is(p1, l1, "posix-rename@openssh.com") ||
		    ext_is(p1, l1, "hardlink@openssh.com")) {
			int link = ext_is(p1, l1, "hardlink@openssh.com");
			const uint8_t *a, *b;
			size_t la, lb;

			a = sftp__rd_str(&r, &la);
			b = sftp__rd_str(&r, &lb);
			if (r.bad)
				break;
			return client_pathop(f, id, type, link ? XFER_OP_LINK :
			    XFER_OP_RENAME, a, la, b, lb);
		}
		if (ext_is(p1, l1, "lsetstat@openssh.com")) {
			const uint8_t *a;
			size_t la;

			a = sftp__rd_str(&r, &la);
			if (r.bad)
				break;
			return client_pathop(f, id, type, XFER_OP_SETSTAT,
			    a, la, NULL, 0);
		}
		return client_pathop(f, id, type, XFER_OP_EXTENDED, p1, l1,
		    NULL, 0);
	case FXP_WRITE:		/* only here when its handle overran */
		break;
	case FXP_LSTAT:
	case FXP_FSTAT:
	case FXP_STAT:
	case FXP_REALPATH:
	case FXP_READLINK:
		return forward_client_frame(f);
	default:
		return sftp__reply_status(f, id, FX_OP_UNSUPPORTED,
		    "Operation not supported by escort");
	}
	return sftp__reply_status(f, id, FX_BAD_MESSAGE, "Malformed request");
}

/* The WRITE prefix (id, handle, offset, data length) is complete. */
int
sftp__client_write_prefix(struct sftp_filter *f)
{
	struct sf_parser *cp = &f->cp;
	struct rd r = { 0 };
	const uint8_t *hd;
	size_t hl;
	uint32_t id, dlen;
	uint64_t off, rest;
	struct sf_req *q;
	struct sf_handle *h;

	r.p = xfer_buf_peek(&cp->body, &r.n);
	id = sftp__rd_u32(&r);
	hd = sftp__rd_str(&r, &hl);
	off = sftp__rd_u64(&r);
	dlen = sftp__rd_u32(&r);
	rest = (uint64_t)cp->len - 1 - r.n;
	if (r.bad || dlen > rest) {
		cp->st = P_SKIP;
		cp->left = rest;
		return sftp__reply_status(f, id, FX_BAD_MESSAGE,
		    "Malformed request");
	}
	h = sftp__handle_find(f, hd, hl);
	if ((q = sftp__req_new(id, FXP_WRITE)) == NULL)
		return sftp__nomem(f);
	q->h = sftp__handle_ref(h);
	q->off = off;
	if (sftp__req_add(f, q) != PX_OK)
		return f->err;
	if (forward_client_frame(f) != PX_OK)
		return f->err;
	cp->st = P_STREAM;
	cp->left = rest;
	cp->data_left = dlen;
	cp->sh = sftp__handle_ref(h);
	cp->data_off = off;
	return PX_OK;
}

/* Bytes of the WRITE prefix wanted so far, given what has been collected;
 * 0 if the prefix cannot fit in the frame. */
size_t
sftp__write_prefix_want(const struct sf_parser *cp)
{
	size_t have;
	const uint8_t *b = xfer_buf_peek(&cp->body, &have);
	uint64_t want;

	if (have < 8)
		want = 8;
	else
		want = 8 + (uint64_t)xfer_get_u32(b + 4) + 12;
	if (want > (uint64_t)cp->len - 1)
		return 0;
	return (size_t)want;
}
