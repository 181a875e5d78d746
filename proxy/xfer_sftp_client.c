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

/* Refuses a request: DENIED record plus a PERMISSION_DENIED reply with
 * msg. */
static int
deny(struct sftp_filter *f, uint32_t id, enum xfer_op op, enum xfer_dir dir,
    const char *msg, const uint8_t *path, size_t pathlen,
    const uint8_t *target, size_t targetlen)
{
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

/* The record kind and direction of a refused policy operation. */
static enum xfer_op
record_op(enum pol_xfer_op op, enum xfer_dir *dir)
{
	static const enum xfer_op map[POL_XFER_NOPS] = {
		[POL_XFER_READ] = XFER_OP_FILE, [POL_XFER_WRITE] = XFER_OP_FILE,
		[POL_XFER_LIST] = XFER_OP_LISTDIR, [POL_XFER_STAT] = XFER_OP_STAT,
		[POL_XFER_REMOVE] = XFER_OP_REMOVE, [POL_XFER_RENAME] = XFER_OP_RENAME,
		[POL_XFER_MKDIR] = XFER_OP_MKDIR, [POL_XFER_RMDIR] = XFER_OP_RMDIR,
		[POL_XFER_SETSTAT] = XFER_OP_SETSTAT, [POL_XFER_SYMLINK] = XFER_OP_SYMLINK,
		[POL_XFER_LINK] = XFER_OP_LINK, [POL_XFER_READLINK] = XFER_OP_READLINK,
		[POL_XFER_REALPATH] = XFER_OP_REALPATH,
	};

	/* changes are uploads (as the direction rule sees them) */
	switch (op) {
	case POL_XFER_READ:
		*dir = XFER_DIR_DOWNLOAD;
		break;
	case POL_XFER_LIST: case POL_XFER_STAT: case POL_XFER_READLINK:
	case POL_XFER_REALPATH:
		*dir = XFER_DIR_NONE;
		break;
	default:
		*dir = XFER_DIR_UPLOAD;
		break;
	}
	return map[op];
}

/* What the direction mode alone requires of op (no policy check set):
 * 1 upload, 2 download, 0 nothing (listing and stat pass in every mode). */
static int
mode_need(enum pol_xfer_op op)
{
	switch (op) {
	case POL_XFER_READ:
		return 2;
	case POL_XFER_LIST: case POL_XFER_STAT: case POL_XFER_READLINK:
	case POL_XFER_REALPATH:
		return 0;
	default:
		return 1;
	}
}

/* Decides one path operation: the policy check when the filter has one,
 * else the direction mode.  Returns 1 when the request may go on, 0 when
 * it was refused (DENIED record and reply queued), or the filter's
 * error. */
static int
decide(struct sftp_filter *f, uint32_t id, enum pol_xfer_op op,
    const uint8_t *p1, size_t l1, const uint8_t *p2, size_t l2)
{
	enum xfer_dir dir;
	enum xfer_op rop = record_op(op, &dir);
	char msg[XFER_CHECK_MSG_MAX];
	char *a, *b = NULL;
	int ok, r;

	if (f->cfg.check.fn == NULL) {
		int need = mode_need(op);

		if (need == 0 || (need == 1 && (f->cfg.mode & XFER_MODE_UPLOAD)) ||
		    (need == 2 && (f->cfg.mode & XFER_MODE_DOWNLOAD)))
			return 1;
		r = deny(f, id, rop, dir, deny_text(f->cfg.mode, need == 1), p1, l1,
		    p2, l2);
		return r == PX_OK ? 0 : r;
	}
	if (memchr(p1, '\0', l1) != NULL || (p2 != NULL && memchr(p2, '\0', l2)
	    != NULL)) {
		r = deny(f, id, rop, dir, "escort: a path with a NUL byte is "
		    "refused", p1, l1, p2, l2);
		return r == PX_OK ? 0 : r;
	}
	if ((a = strndup((const char *)p1, l1)) == NULL || (p2 != NULL &&
	    (b = strndup((const char *)p2, l2)) == NULL)) {
		free(a);
		return sftp__nomem(f);
	}
	msg[0] = '\0';
	ok = f->cfg.check.fn(f->cfg.check.ctx, op, a, b, msg, sizeof(msg));
	free(a);
	free(b);
	if (ok)
		return 1;
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "escort: refused by policy");
	r = deny(f, id, rop, dir, msg, p1, l1, p2, l2);
	return r == PX_OK ? 0 : r;
}

/* decide() for a request whose answer is "forward it unchanged". */
static int
decide_forward(struct sftp_filter *f, uint32_t id, enum pol_xfer_op op,
    const uint8_t *p1, size_t l1);

/* Extensions that change nothing on the server. */
static int
ext_readonly(const uint8_t *name, size_t n)
{
	static const char *const ro[] = {
		"fstatvfs@openssh.com",
		"limits@openssh.com",
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

/* An allowed OPEN about to be forwarded: with file ids configured, a
 * start record per direction it opens (before its frame is forwarded, so
 * before any of its bytes), the ids kept in q for the end records. */
static int
open_start(struct sftp_filter *f, struct sf_req *q)
{
	int up = (q->pflags & FXF_UPLOAD) != 0;
	int down = (q->pflags & FXF_READ) || !up;

	if (f->cfg.ids.next == NULL)
		return PX_OK;
	if (up) {
		q->fid_up = xfer_ids_take(&f->cfg.ids);
		if (sftp__push_record(f, xfer_record_start(XFER_OP_FILE, XFER_DIR_UPLOAD, q->path,
		    q->pathlen, q->fid_up)) != PX_OK)
			return f->err;
	}
	if (down) {
		q->fid_down = xfer_ids_take(&f->cfg.ids);
		if (sftp__push_record(f, xfer_record_start(XFER_OP_FILE, XFER_DIR_DOWNLOAD, q->path,
		    q->pathlen, q->fid_down)) != PX_OK)
			return f->err;
	}
	return PX_OK;
}

/* Forwards the frame held in the client parser unchanged. */
static int
forward_client_frame(struct sftp_filter *f)
{
	const uint8_t *b;
	size_t n;

	b = buf_peek(&f->cp.body, &n);
	if (sftp__out_put(f, &f->up, f->cp.hdr, 5) != PX_OK ||
	    sftp__out_put(f, &f->up, b, n) != PX_OK)
		return f->err;
	return PX_OK;
}

/* Decides and tracks one path operation (REMOVE, RENAME, ...). */
static int
client_pathop(struct sftp_filter *f, uint32_t id, uint8_t type,
    enum xfer_op op, enum pol_xfer_op pop, const uint8_t *p1, size_t l1,
    const uint8_t *p2, size_t l2)
{
	struct sf_req *q;
	int ok;

	if ((ok = decide(f, id, pop, p1, l1, p2, l2)) != 1)
		return ok < 0 ? ok : PX_OK;
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

static int
decide_forward(struct sftp_filter *f, uint32_t id, enum pol_xfer_op op,
    const uint8_t *p1, size_t l1)
{
	int ok;

	if ((ok = decide(f, id, op, p1, l1, NULL, 0)) != 1)
		return ok < 0 ? ok : PX_OK;
	return forward_client_frame(f);
}

/* An EXTENDED request named name[0..n); r is past the name.  Read-only
 * extensions without a path pass; statvfs and expand-path are decided as
 * stat and realpath; posix-rename, hardlink and lsetstat as rename, link
 * and chmod.  Any other extension is refused when the filter has a policy
 * check (it may take paths the proxy does not understand), and needs
 * upload by the mode otherwise. */
static int
client_extended(struct sftp_filter *f, uint32_t id, uint8_t type,
    const uint8_t *name, size_t n, struct rd *r)
{
	const uint8_t *a, *b;
	size_t la, lb;

	if (ext_is(name, n, "statvfs@openssh.com") ||
	    ext_is(name, n, "expand-path@openssh.com")) {
		a = sftp__rd_str(r, &la);
		if (r->bad)
			return sftp__reply_status(f, id, FX_BAD_MESSAGE,
			    "Malformed request");
		return decide_forward(f, id, ext_is(name, n, "statvfs@openssh.com") ?
		    POL_XFER_STAT : POL_XFER_REALPATH, a, la);
	}
	if (ext_readonly(name, n))
		return forward_client_frame(f);
	if (ext_is(name, n, "posix-rename@openssh.com") ||
	    ext_is(name, n, "hardlink@openssh.com")) {
		int link = ext_is(name, n, "hardlink@openssh.com");

		a = sftp__rd_str(r, &la);
		b = sftp__rd_str(r, &lb);
		if (r->bad)
			return sftp__reply_status(f, id, FX_BAD_MESSAGE,
			    "Malformed request");
		return client_pathop(f, id, type, link ? XFER_OP_LINK :
		    XFER_OP_RENAME, link ? POL_XFER_LINK : POL_XFER_RENAME, a, la,
		    b, lb);
	}
	if (ext_is(name, n, "lsetstat@openssh.com")) {
		a = sftp__rd_str(r, &la);
		if (r->bad)
			return sftp__reply_status(f, id, FX_BAD_MESSAGE,
			    "Malformed request");
		return client_pathop(f, id, type, XFER_OP_SETSTAT,
		    POL_XFER_SETSTAT, a, la, NULL, 0);
	}
	if (f->cfg.check.fn != NULL) {
		char msg[160];

		snprintf(msg, sizeof(msg), "escort: SFTP extension \"%.*s\" is "
		    "refused by this proxy", (int)(n > 60 ? 60 : n),
		    (const char *)name);
		return deny(f, id, XFER_OP_EXTENDED, XFER_DIR_NONE, msg, name, n,
		    NULL, 0);
	}
	return client_pathop(f, id, type, XFER_OP_EXTENDED, POL_XFER_WRITE,
	    name, n, NULL, 0);
}

/*
 * Client requests by message type, in the manner of OpenSSH's sftp-server
 * handlers[]: each entry names the type, the record kind and policy
 * operation it stands for (where it has one), and its handler.  A handler
 * gets the frame after its request id; it returns a PX_* code, or
 * SF_MALFORMED when the frame is too short (answered "Malformed request").
 * A type with no entry is answered "Operation not supported".
 */
#define SF_MALFORMED	1

struct client_handler {
	uint8_t type;
	const char *name;
	enum xfer_op xop;	/* record kind of a path operation */
	enum pol_xfer_op pop;	/* policy operation it is decided as */
	int (*fn)(struct sftp_filter *f, const struct client_handler *h,
	    uint32_t id, struct rd *r);
};

/* OPEN and OPENDIR allowed: track the request (and an upload's stream). */
static int
client_open_track(struct sftp_filter *f, uint8_t type, uint32_t id,
    const uint8_t *p1, size_t l1, uint32_t pflags)
{
	struct sf_req *q;

	if ((q = sftp__req_new(id, type)) == NULL ||
	    sftp__dup_bytes(&q->path, &q->pathlen, p1, l1) != PX_OK) {
		sftp__req_free(q);
		return sftp__nomem(f);
	}
	q->pflags = pflags;
	if (type == FXP_OPEN && open_start(f, q) != PX_OK) {
		sftp__req_free(q);
		return f->err;
	}
	if (sftp__req_add(f, q) != PX_OK)
		return f->err;
	return forward_client_frame(f);
}

/* OPEN: decided as write when it may create or change the file, as read
 * when it reads (or does neither). */
static int
client_open(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;
	uint32_t pflags;
	int need_up, need_down, ok = 1;

	p1 = sftp__rd_str(r, &l1);
	pflags = sftp__rd_u32(r);
	if (r->bad)
		return SF_MALFORMED;
	need_up = (pflags & FXF_UPLOAD) != 0;
	need_down = (pflags & FXF_READ) || !need_up;
	if (need_up)
		ok = decide(f, id, POL_XFER_WRITE, p1, l1, NULL, 0);
	if (ok == 1 && need_down)
		ok = decide(f, id, POL_XFER_READ, p1, l1, NULL, 0);
	if (ok != 1)
		return ok < 0 ? ok : PX_OK;
	return client_open_track(f, h->type, id, p1, l1, pflags);
}

/* OPENDIR: decided as list. */
static int
client_opendir(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;
	int ok;

	p1 = sftp__rd_str(r, &l1);
	if (r->bad)
		return SF_MALFORMED;
	if ((ok = decide(f, id, h->pop, p1, l1, NULL, 0)) != 1)
		return ok < 0 ? ok : PX_OK;
	return client_open_track(f, h->type, id, p1, l1, 0);
}

/* CLOSE, READ, READDIR: tracked against their handle and forwarded. */
static int
client_handle_req(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;
	uint64_t off = 0;
	struct sf_req *q;

	p1 = sftp__rd_str(r, &l1);
	if (h->type == FXP_READ) {
		off = sftp__rd_u64(r);
		(void)sftp__rd_u32(r);
	}
	if (r->bad)
		return SF_MALFORMED;
	if ((q = sftp__req_new(id, h->type)) == NULL)
		return sftp__nomem(f);
	q->off = off;
	q->h = sftp__handle_ref(sftp__handle_find(f, p1, l1));
	if (sftp__req_add(f, q) != PX_OK)
		return f->err;
	return forward_client_frame(f);
}

/* REMOVE, MKDIR, RMDIR, SETSTAT: one path, decided and recorded. */
static int
client_path1(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;

	p1 = sftp__rd_str(r, &l1);
	if (r->bad)
		return SF_MALFORMED;
	return client_pathop(f, id, h->type, h->xop, h->pop, p1, l1, NULL, 0);
}

/* RENAME, SYMLINK: two paths, decided and recorded. */
static int
client_path2(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1, *p2;
	size_t l1, l2;

	p1 = sftp__rd_str(r, &l1);
	p2 = sftp__rd_str(r, &l2);
	if (r->bad)
		return SF_MALFORMED;
	return client_pathop(f, id, h->type, h->xop, h->pop, p1, l1, p2, l2);
}

/* FSETSTAT: decided on the path its handle was opened with. */
static int
client_fsetstat(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;
	struct sf_handle *hd;

	p1 = sftp__rd_str(r, &l1);
	if (r->bad)
		return SF_MALFORMED;
	hd = sftp__handle_find(f, p1, l1);
	if (hd != NULL)
		return client_pathop(f, id, h->type, h->xop, h->pop, hd->path,
		    hd->pathlen, NULL, 0);
	if (f->cfg.check.fn != NULL)
		return deny(f, id, h->xop, XFER_DIR_NONE,
		    "escort: fsetstat on a handle this proxy did not see "
		    "opened is refused", (const uint8_t *)"(unknown handle)",
		    16, NULL, 0);
	return client_pathop(f, id, h->type, h->xop, h->pop,
	    (const uint8_t *)"(unknown handle)", 16, NULL, 0);
}

/* EXTENDED: by extension name (client_extended). */
static int
client_ext(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;

	p1 = sftp__rd_str(r, &l1);
	if (r->bad)
		return SF_MALFORMED;
	return client_extended(f, id, h->type, p1, l1, r);
}

/* LSTAT, STAT, REALPATH, READLINK: one path, decided, not recorded when
 * allowed. */
static int
client_query(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	const uint8_t *p1;
	size_t l1;

	p1 = sftp__rd_str(r, &l1);
	if (r->bad)
		return SF_MALFORMED;
	return decide_forward(f, id, h->pop, p1, l1);
}

/* FSTAT: forwarded as it is. */
static int
client_pass(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	(void)h;
	(void)id;
	(void)r;
	return forward_client_frame(f);
}

/* WRITE: only here when its handle overran the prefix limit. */
static int
client_malformed(struct sftp_filter *f, const struct client_handler *h,
    uint32_t id, struct rd *r)
{
	(void)f;
	(void)h;
	(void)id;
	(void)r;
	return SF_MALFORMED;
}

static const struct client_handler client_handlers[] = {
	{ FXP_OPEN, "open", XFER_OP_FILE, POL_XFER_READ, client_open },
	{ FXP_CLOSE, "close", XFER_OP_FILE, POL_XFER_READ, client_handle_req },
	{ FXP_READ, "read", XFER_OP_FILE, POL_XFER_READ, client_handle_req },
	{ FXP_WRITE, "write", XFER_OP_FILE, POL_XFER_WRITE, client_malformed },
	{ FXP_LSTAT, "lstat", XFER_OP_STAT, POL_XFER_STAT, client_query },
	{ FXP_FSTAT, "fstat", XFER_OP_STAT, POL_XFER_STAT, client_pass },
	{ FXP_SETSTAT, "setstat", XFER_OP_SETSTAT, POL_XFER_SETSTAT, client_path1 },
	{ FXP_FSETSTAT, "fsetstat", XFER_OP_SETSTAT, POL_XFER_SETSTAT, client_fsetstat },
	{ FXP_OPENDIR, "opendir", XFER_OP_LISTDIR, POL_XFER_LIST, client_opendir },
	{ FXP_READDIR, "readdir", XFER_OP_LISTDIR, POL_XFER_LIST, client_handle_req },
	{ FXP_REMOVE, "remove", XFER_OP_REMOVE, POL_XFER_REMOVE, client_path1 },
	{ FXP_MKDIR, "mkdir", XFER_OP_MKDIR, POL_XFER_MKDIR, client_path1 },
	{ FXP_RMDIR, "rmdir", XFER_OP_RMDIR, POL_XFER_RMDIR, client_path1 },
	{ FXP_REALPATH, "realpath", XFER_OP_REALPATH, POL_XFER_REALPATH, client_query },
	{ FXP_STAT, "stat", XFER_OP_STAT, POL_XFER_STAT, client_query },
	{ FXP_RENAME, "rename", XFER_OP_RENAME, POL_XFER_RENAME, client_path2 },
	{ FXP_READLINK, "readlink", XFER_OP_READLINK, POL_XFER_READLINK, client_query },
	{ FXP_SYMLINK, "symlink", XFER_OP_SYMLINK, POL_XFER_SYMLINK, client_path2 },
	{ FXP_EXTENDED, "extended", XFER_OP_EXTENDED, POL_XFER_WRITE, client_ext },
};

/* Handles one complete client frame (all but WRITE). */
int
sftp__client_frame(struct sftp_filter *f)
{
	struct rd r = { 0 };
	uint32_t id;
	uint8_t type = f->cp.type;
	size_t i;
	int rc;

	r.p = buf_peek(&f->cp.body, &r.n);
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
	for (i = 0; i < sizeof(client_handlers) / sizeof(client_handlers[0]); i++)
		if (client_handlers[i].type == type)
			break;
	if (i == sizeof(client_handlers) / sizeof(client_handlers[0]))
		return sftp__reply_status(f, id, FX_OP_UNSUPPORTED,
		    "Operation not supported by escort");
	rc = client_handlers[i].fn(f, &client_handlers[i], id, &r);
	if (rc != SF_MALFORMED)
		return rc;
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

	r.p = buf_peek(&cp->body, &r.n);
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
	const uint8_t *b = buf_peek(&cp->body, &have);
	uint64_t want;

	if (have < 8)
		want = 8;
	else
		want = 8 + (uint64_t)buf_ld32(b + 4) + 12;
	if (want > (uint64_t)cp->len - 1)
		return 0;
	return (size_t)want;
}
