/* sftp_filter: SFTP v3 parsed in passing; records transfers, enforces the
 * sftp mode.  The contract is in sftp_filter.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/sftp_filter.h"
#include "proxy/xfer_buf.h"
#include "proxy/xfer_stream.h"

/* SFTP v3 message types (draft-ietf-secsh-filexfer-02). */
enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4,
	FXP_READ = 5, FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8,
	FXP_SETSTAT = 9, FXP_FSETSTAT = 10, FXP_OPENDIR = 11,
	FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15,
	FXP_REALPATH = 16, FXP_STAT = 17, FXP_RENAME = 18, FXP_READLINK = 19,
	FXP_SYMLINK = 20,
	FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104,
	FXP_ATTRS = 105, FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201
};

/* Status codes. */
enum {
	FX_OK = 0, FX_EOF = 1, FX_PERMISSION_DENIED = 3, FX_BAD_MESSAGE = 5,
	FX_OP_UNSUPPORTED = 8
};

/* OPEN pflags. */
enum {
	FXF_READ = 0x01, FXF_WRITE = 0x02, FXF_APPEND = 0x04,
	FXF_CREAT = 0x08, FXF_TRUNC = 0x10, FXF_EXCL = 0x20
};
#define FXF_UPLOAD (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC | FXF_EXCL)

#define SF_HANDLE_MAX	256	/* longest handle string tracked */
#define SF_BUCKETS	1024	/* request table buckets */
#define SF_PENDING_MAX	(1u << 20)	/* refusals held for a frame end */

struct sf_handle {
	struct sf_handle *next;		/* open-handle list */
	int refs;			/* list + requests + parser */
	int listed;			/* still in the open-handle list */
	uint8_t h[SF_HANDLE_MAX];
	uint32_t hlen;
	uint8_t *path;
	size_t pathlen;
	uint32_t pflags;
	int is_dir;
	int rd, wr;			/* opened for reading / writing */
	struct xfer_stream down, up;
	uint64_t entries;
	uint32_t write_status;		/* first failed WRITE, or 0 */
	char *write_msg;
};

struct sf_req {
	struct sf_req *next;		/* bucket chain */
	uint32_t id;
	uint8_t type;
	enum xfer_op op;		/* for path operations */
	uint8_t *path;
	size_t pathlen;
	uint8_t *target;
	size_t targetlen;
	uint32_t pflags;
	struct sf_handle *h;		/* referenced handle, or NULL */
	uint64_t off;			/* READ offset */
};

enum sf_pstate { P_HDR, P_BODY, P_PREFIX, P_STREAM, P_SKIP };

struct sf_parser {
	enum sf_pstate st;
	uint8_t hdr[5];
	size_t hdr_have;
	uint32_t len;			/* frame length after the u32 */
	uint8_t type;
	struct xfer_buf body;		/* collected bytes after the type */
	uint32_t want;			/* P_BODY: body bytes wanted */
	uint64_t left;			/* P_STREAM/P_SKIP: frame bytes left */
	uint64_t data_left;		/* P_STREAM: data bytes left */
	struct sf_handle *sh;		/* P_STREAM: file fed, or NULL */
	uint64_t data_off;
	uint64_t pos;			/* bytes consumed so far */
	uint64_t frame_pos;		/* stream offset of the current frame */
};

enum sf_cstate { C_INIT, C_READY };
enum sf_sstate { S_VERSION, S_READY };

struct sftp_filter {
	struct sftp_filter_config cfg;
	struct sf_parser cp, sp;
	enum sf_cstate cstate;
	enum sf_sstate sstate;
	struct xfer_buf up;		/* to the server */
	struct xfer_buf down;		/* to the client */
	struct xfer_buf pending;	/* replies waiting for a server frame end */
	struct sf_handle *handles;
	size_t nhandles;
	struct sf_req *reqs[SF_BUCKETS];
	size_t nreqs;
	struct xfer_queue records;
	int err;			/* sticky error, or PX_OK */
	int finished;
	char errmsg[256];
};

/* ---- errors ----------------------------------------------------------- */

static int
fail(struct sftp_filter *f, int code, const char *fmt, ...)
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

static int
nomem(struct sftp_filter *f)
{
	return fail(f, PX_ENOMEM, "sftp filter: out of memory");
}

/* ---- handles ---------------------------------------------------------- */

static void
handle_unref(struct sf_handle *h)
{
	if (h == NULL || --h->refs > 0)
		return;
	xfer_stream_free(&h->down);
	xfer_stream_free(&h->up);
	free(h->path);
	free(h->write_msg);
	free(h);
}

static struct sf_handle *
handle_ref(struct sf_handle *h)
{
	if (h != NULL)
		h->refs++;
	return h;
}

static struct sf_handle *
handle_find(struct sftp_filter *f, const uint8_t *p, size_t n)
{
	struct sf_handle *h;

	for (h = f->handles; h != NULL; h = h->next)
		if (h->hlen == n && memcmp(h->h, p, n) == 0)
			return h;
	return NULL;
}

/* Takes h out of the open-handle list and drops the list's reference. */
static void
handle_unlist(struct sftp_filter *f, struct sf_handle *h)
{
	struct sf_handle **pp;

	for (pp = &f->handles; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			h->next = NULL;
			h->listed = 0;
			f->nhandles--;
			handle_unref(h);
			return;
		}
}

/* ---- requests --------------------------------------------------------- */

static void
req_free(struct sf_req *q)
{
	if (q == NULL)
		return;
	free(q->path);
	free(q->target);
	handle_unref(q->h);
	free(q);
}

/* Removes and returns the request with this id, or NULL. */
static struct sf_req *
req_take(struct sftp_filter *f, uint32_t id)
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

static int
dup_bytes(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n)
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
static int
req_add(struct sftp_filter *f, struct sf_req *q)
{
	req_free(req_take(f, q->id));
	if (f->nreqs >= f->cfg.max_requests) {
		req_free(q);
		return fail(f, PX_EINVAL, "sftp client: more than %zu requests "
		    "outstanding", f->cfg.max_requests);
	}
	q->next = f->reqs[q->id % SF_BUCKETS];
	f->reqs[q->id % SF_BUCKETS] = q;
	f->nreqs++;
	return PX_OK;
}

static struct sf_req *
req_new(uint32_t id, uint8_t type)
{
	struct sf_req *q = calloc(1, sizeof(*q));

	if (q != NULL) {
		q->id = id;
		q->type = type;
	}
	return q;
}

/* ---- records ---------------------------------------------------------- */

static int
push_record(struct sftp_filter *f, struct xfer_record *r)
{
	if (r == NULL)
		return nomem(f);
	xfer_queue_push(&f->records, r);
	return PX_OK;
}

/* Sets outcome, status and message of r from a STATUS reply. */
static int
set_status(struct xfer_record *r, uint32_t code, const uint8_t *msg,
    size_t msglen)
{
	r->outcome = code == FX_OK ? XFER_OUT_OK : XFER_OUT_FAILED;
	r->status = code == FX_OK ? 0 : code;
	if (code != FX_OK && msg != NULL)
		return xfer_record_set_str(&r->message, msg, msglen);
	return PX_OK;
}

/* Emits the records of a handle that closed (or never will). */
static int
handle_records(struct sftp_filter *f, struct sf_handle *h,
    enum xfer_outcome out, uint32_t code, const uint8_t *msg, size_t msglen)
{
	struct xfer_record *r;

	if (h->is_dir) {
		r = xfer_record_new(XFER_OP_LISTDIR, XFER_DIR_NONE, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return nomem(f);
		r->size = h->entries;
		if (out != XFER_OUT_INCOMPLETE &&
		    set_status(r, code, msg, msglen) != PX_OK) {
			xfer_record_free(r);
			return nomem(f);
		}
		return push_record(f, r);
	}
	if (h->rd || h->down.pieces > 0) {
		r = xfer_record_new(XFER_OP_FILE, XFER_DIR_DOWNLOAD, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return nomem(f);
		xfer_stream_finish(&h->down, r);
		if (out != XFER_OUT_INCOMPLETE &&
		    set_status(r, code, msg, msglen) != PX_OK) {
			xfer_record_free(r);
			return nomem(f);
		}
		push_record(f, r);
	}
	if (h->wr || h->up.pieces > 0) {
		r = xfer_record_new(XFER_OP_FILE, XFER_DIR_UPLOAD, out,
		    h->path, h->pathlen);
		if (r == NULL)
			return nomem(f);
		xfer_stream_finish(&h->up, r);
		if (out != XFER_OUT_INCOMPLETE) {
			int e;

			if (h->write_status != 0)
				e = set_status(r, h->write_status,
				    (const uint8_t *)h->write_msg,
				    h->write_msg ? strlen(h->write_msg) : 0);
			else
				e = set_status(r, code, msg, msglen);
			if (e != PX_OK) {
				xfer_record_free(r);
				return nomem(f);
			}
		}
		push_record(f, r);
	}
	return PX_OK;
}

/* ---- output ----------------------------------------------------------- */

static int
out_put(struct sftp_filter *f, struct xfer_buf *b, const void *p, size_t n)
{
	if (xfer_buf_put(b, p, n) != PX_OK)
		return nomem(f);
	return PX_OK;
}

/* True when a reply may be inserted into the client stream now. */
static int
server_at_boundary(const struct sftp_filter *f)
{
	return f->sstate == S_READY && f->sp.st == P_HDR &&
	    f->sp.hdr_have == 0;
}

/* Queues an SSH_FXP_STATUS reply for the client. */
static int
reply_status(struct sftp_filter *f, uint32_t id, uint32_t code,
    const char *msg)
{
	struct xfer_buf *b = server_at_boundary(f) ? &f->down : &f->pending;
	size_t mlen = strlen(msg);
	uint8_t hdr[13];
	uint32_t len = (uint32_t)(1 + 4 + 4 + 4 + mlen + 4 + 2);
	int r;

	hdr[0] = len >> 24; hdr[1] = len >> 16; hdr[2] = len >> 8; hdr[3] = len;
	hdr[4] = FXP_STATUS;
	hdr[5] = id >> 24; hdr[6] = id >> 16; hdr[7] = id >> 8; hdr[8] = id;
	hdr[9] = code >> 24; hdr[10] = code >> 16; hdr[11] = code >> 8;
	hdr[12] = code;
	if (xfer_buf_avail(b) < len + 4)
		r = PX_EFULL;
	else if ((r = xfer_buf_put(b, hdr, sizeof(hdr))) == PX_OK &&
	    (r = xfer_buf_put_str(b, msg, mlen)) == PX_OK)
		r = xfer_buf_put_str(b, "en", 2);
	if (r == PX_EFULL)
		return fail(f, PX_EINVAL, "sftp client: more than %u bytes of "
		    "refusals wait for the server to finish a reply",
		    SF_PENDING_MAX);
	return r == PX_OK ? PX_OK : nomem(f);
}

/* Moves replies held for a server frame boundary to the client stream. */
static int
flush_pending(struct sftp_filter *f)
{
	const uint8_t *p;
	size_t n;

	if (!server_at_boundary(f))
		return PX_OK;
	p = xfer_buf_peek(&f->pending, &n);
	if (n == 0)
		return PX_OK;
	if (out_put(f, &f->down, p, n) != PX_OK)
		return f->err;
	xfer_buf_reset(&f->pending);
	return PX_OK;
}

/* ---- decoding helpers ------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n;
	size_t off;
	int bad;
};

static uint32_t
rd_u32(struct rd *r)
{
	uint32_t v;

	if (r->bad || r->n - r->off < 4) {
		r->bad = 1;
		return 0;
	}
	v = xfer_get_u32(r->p + r->off);
	r->off += 4;
	return v;
}

static uint64_t
rd_u64(struct rd *r)
{
	uint64_t v;

	if (r->bad || r->n - r->off < 8) {
		r->bad = 1;
		return 0;
	}
	v = xfer_get_u64(r->p + r->off);
	r->off += 8;
	return v;
}

/* Returns a pointer to a string's bytes and its length in *len. */
static const uint8_t *
rd_str(struct rd *r, size_t *len)
{
	uint32_t n = rd_u32(r);
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
		return nomem(f);
	if (xfer_record_set_str(&r->message, msg, strlen(msg)) != PX_OK ||
	    (target != NULL &&
	    xfer_record_set_str(&r->target, target, targetlen) != PX_OK)) {
		xfer_record_free(r);
		return nomem(f);
	}
	push_record(f, r);
	return reply_status(f, id, FX_PERMISSION_DENIED, msg);
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
	if (out_put(f, &f->up, f->cp.hdr, 5) != PX_OK ||
	    out_put(f, &f->up, b, n) != PX_OK)
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
	if ((q = req_new(id, type)) == NULL ||
	    dup_bytes(&q->path, &q->pathlen, p1, l1) != PX_OK ||
	    (p2 != NULL && dup_bytes(&q->target, &q->targetlen, p2, l2) !=
	    PX_OK)) {
		req_free(q);
		return nomem(f);
	}
	q->op = op;
	if (req_add(f, q) != PX_OK)
		return f->err;
	return forward_client_frame(f);
}

/* Handles one complete client frame (all but WRITE). */
static int
client_frame(struct sftp_filter *f)
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
	id = rd_u32(&r);
	if (r.bad)
		return fail(f, PX_EINVAL, "sftp client: frame of type %u at "
		    "byte %llu has no request id", type,
		    (unsigned long long)f->cp.frame_pos);

	switch (type) {
	case FXP_OPEN:
		p1 = rd_str(&r, &l1);
		pflags = rd_u32(&r);
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
			p1 = rd_str(&r, &l1);
			pflags = 0;
			if (r.bad)
				break;
		}
		if ((q = req_new(id, type)) == NULL ||
		    dup_bytes(&q->path, &q->pathlen, p1, l1) != PX_OK) {
			req_free(q);
			return nomem(f);
		}
		q->pflags = pflags;
		if (req_add(f, q) != PX_OK)
			return f->err;
		return forward_client_frame(f);
	case FXP_CLOSE:
	case FXP_READ:
	case FXP_READDIR:
		p1 = rd_str(&r, &l1);
		if (type == FXP_READ) {
			uint64_t off = rd_u64(&r);

			(void)rd_u32(&r);
			if (r.bad)
				break;
			if ((q = req_new(id, type)) == NULL)
				return nomem(f);
			q->off = off;
		} else {
			if (r.bad)
				break;
			if ((q = req_new(id, type)) == NULL)
				return nomem(f);
		}
		q->h = handle_ref(handle_find(f, p1, l1));
		if (req_add(f, q) != PX_OK)
			return f->err;
		return forward_client_frame(f);
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
	case FXP_SETSTAT:
		p1 = rd_str(&r, &l1);
		if (r.bad)
			break;
		return client_pathop(f, id, type,
		    type == FXP_REMOVE ? XFER_OP_REMOVE :
		    type == FXP_MKDIR ? XFER_OP_MKDIR :
		    type == FXP_RMDIR ? XFER_OP_RMDIR : XFER_OP_SETSTAT,
		    p1, l1, NULL, 0);
	case FXP_FSETSTAT:
		p1 = rd_str(&r, &l1);
		if (r.bad)
			break;
		h = handle_find(f, p1, l1);
		if (h != NULL)
			return client_pathop(f, id, type, XFER_OP_SETSTAT,
			    h->path, h->pathlen, NULL, 0);
		return client_pathop(f, id, type, XFER_OP_SETSTAT,
		    (const uint8_t *)"(unknown handle)", 16, NULL, 0);
	case FXP_RENAME:
	case FXP_SYMLINK:
		p1 = rd_str(&r, &l1);
		p2 = rd_str(&r, &l2);
		if (r.bad)
			break;
		return client_pathop(f, id, type, type == FXP_RENAME ?
		    XFER_OP_RENAME : XFER_OP_SYMLINK, p1, l1, p2, l2);
	case FXP_EXTENDED:
		p1 = rd_str(&r, &l1);
		if (r.bad)
			break;
		if (ext_readonly(p1, l1))
			return forward_client_frame(f);
		if (ext_is(p1, l1, "posix-rename@openssh.com") ||
		    ext_is(p1, l1, "hardlink@openssh.com")) {
			int link = ext_is(p1, l1, "hardlink@openssh.com");
			const uint8_t *a, *b;
			size_t la, lb;

			a = rd_str(&r, &la);
			b = rd_str(&r, &lb);
			if (r.bad)
				break;
			return client_pathop(f, id, type, link ? XFER_OP_LINK :
			    XFER_OP_RENAME, a, la, b, lb);
		}
		if (ext_is(p1, l1, "lsetstat@openssh.com")) {
			const uint8_t *a;
			size_t la;

			a = rd_str(&r, &la);
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
		return reply_status(f, id, FX_OP_UNSUPPORTED,
		    "Operation not supported by escort");
	}
	return reply_status(f, id, FX_BAD_MESSAGE, "Malformed request");
}

/* The WRITE prefix (id, handle, offset, data length) is complete. */
static int
client_write_prefix(struct sftp_filter *f)
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
	id = rd_u32(&r);
	hd = rd_str(&r, &hl);
	off = rd_u64(&r);
	dlen = rd_u32(&r);
	rest = (uint64_t)cp->len - 1 - r.n;
	if (r.bad || dlen > rest) {
		cp->st = P_SKIP;
		cp->left = rest;
		return reply_status(f, id, FX_BAD_MESSAGE, "Malformed request");
	}
	h = handle_find(f, hd, hl);
	if ((q = req_new(id, FXP_WRITE)) == NULL)
		return nomem(f);
	q->h = handle_ref(h);
	q->off = off;
	if (req_add(f, q) != PX_OK)
		return f->err;
	if (forward_client_frame(f) != PX_OK)
		return f->err;
	cp->st = P_STREAM;
	cp->left = rest;
	cp->data_left = dlen;
	cp->sh = handle_ref(h);
	cp->data_off = off;
	return PX_OK;
}

/* Bytes of the WRITE prefix wanted so far, given what has been collected;
 * 0 if the prefix cannot fit in the frame. */
static size_t
write_prefix_want(const struct sf_parser *cp)
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

/* ---- server replies --------------------------------------------------- */

/* Handles one complete server frame (all but DATA). */
static int
server_frame(struct sftp_filter *f)
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

	r.p = xfer_buf_peek(&f->sp.body, &r.n);
	if (type == FXP_VERSION) {
		uint32_t v = rd_u32(&r);

		if (r.bad || v != 3)
			return fail(f, PX_EINVAL, "sftp server: %s (only "
			    "SFTP version 3 is supported)", r.bad ?
			    "VERSION message too short" : "offers a version "
			    "other than 3");
		f->sstate = S_READY;
		return PX_OK;
	}
	id = rd_u32(&r);
	if (r.bad)
		return fail(f, PX_EINVAL, "sftp server: reply of type %u at "
		    "byte %llu has no request id", type,
		    (unsigned long long)f->sp.frame_pos);
	if ((q = req_take(f, id)) == NULL)
		return PX_OK;		/* not a request we track */

	switch (type) {
	case FXP_HANDLE:
		s = rd_str(&r, &sl);
		if (r.bad || sl > SF_HANDLE_MAX) {
			e = fail(f, PX_EINVAL, "sftp server: malformed HANDLE "
			    "reply to request %u", id);
			break;
		}
		if (q->type != FXP_OPEN && q->type != FXP_OPENDIR)
			break;
		if ((h = handle_find(f, s, sl)) != NULL) {
			/* reused without a CLOSE we saw: report what it had */
			e = handle_records(f, h, XFER_OUT_INCOMPLETE, 0, NULL, 0);
			handle_unlist(f, h);
			if (e != PX_OK)
				break;
		}
		if (f->nhandles >= f->cfg.max_handles) {
			e = fail(f, PX_EINVAL, "sftp: more than %zu open handles",
			    f->cfg.max_handles);
			break;
		}
		if ((h = calloc(1, sizeof(*h))) == NULL) {
			e = nomem(f);
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
		if (xfer_stream_init(&h->down, 0, 0) != PX_OK ||
		    xfer_stream_init(&h->up, 1, f->cfg.content_limit) != PX_OK)
			e = nomem(f);
		break;
	case FXP_NAME:
		code = rd_u32(&r);
		if (!r.bad && q->type == FXP_READDIR && q->h != NULL)
			q->h->entries += code;
		break;
	case FXP_STATUS:
		code = rd_u32(&r);
		if (r.bad) {
			e = fail(f, PX_EINVAL, "sftp server: malformed STATUS "
			    "reply to request %u", id);
			break;
		}
		msg = rd_str(&r, &ml);
		if (r.bad)
			msg = NULL;
		switch (q->type) {
		case FXP_OPEN:
		case FXP_OPENDIR:
			rec = xfer_record_new(q->type == FXP_OPEN ?
			    XFER_OP_FILE : XFER_OP_LISTDIR,
			    q->type == FXP_OPENDIR ? XFER_DIR_NONE :
			    (q->pflags & FXF_UPLOAD) ? XFER_DIR_UPLOAD :
			    XFER_DIR_DOWNLOAD, XFER_OUT_FAILED, q->path,
			    q->pathlen);
			if (rec == NULL || set_status(rec, code, msg, ml) != PX_OK) {
				xfer_record_free(rec);
				e = nomem(f);
				break;
			}
			if (code == FX_OK)	/* odd: no handle; call it failed */
				rec->outcome = XFER_OUT_FAILED;
			e = push_record(f, rec);
			break;
		case FXP_CLOSE:
			if ((h = q->h) == NULL || !h->listed)
				break;
			e = handle_records(f, h, code == FX_OK ? XFER_OUT_OK :
			    XFER_OUT_FAILED, code, msg, ml);
			handle_unlist(f, h);
			break;
		case FXP_WRITE:
			if (code != FX_OK && q->h != NULL &&
			    q->h->write_status == 0) {
				q->h->write_status = code;
				if (msg != NULL && xfer_record_set_str(
				    &q->h->write_msg, msg, ml) != PX_OK)
					e = nomem(f);
			}
			break;
		case FXP_READ:
		case FXP_READDIR:
			break;
		default:
			rec = xfer_record_new(q->op, XFER_DIR_UPLOAD,
			    XFER_OUT_OK, q->path, q->pathlen);
			if (rec == NULL || set_status(rec, code, msg, ml) !=
			    PX_OK || (q->target != NULL && xfer_record_set_str(
			    &rec->target, q->target, q->targetlen) != PX_OK)) {
				xfer_record_free(rec);
				e = nomem(f);
				break;
			}
			e = push_record(f, rec);
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
				e = nomem(f);
				break;
			}
			e = push_record(f, rec);
		}
		break;
	default:
		break;
	}
	req_free(q);
	return e;
}

/* The DATA prefix (id, data length) is complete. */
static int
server_data_prefix(struct sftp_filter *f)
{
	struct sf_parser *sp = &f->sp;
	const uint8_t *b;
	size_t n;
	uint32_t id, dlen;
	uint64_t rest;
	struct sf_req *q;

	b = xfer_buf_peek(&sp->body, &n);
	id = xfer_get_u32(b);
	dlen = xfer_get_u32(b + 4);
	rest = (uint64_t)sp->len - 1 - 8;
	if (dlen > rest)
		return fail(f, PX_EINVAL, "sftp server: DATA reply to request "
		    "%u claims %u bytes in a %u-byte frame", id, dlen, sp->len);
	sp->st = P_STREAM;
	sp->left = rest;
	sp->data_left = dlen;
	sp->sh = NULL;
	if ((q = req_take(f, id)) != NULL) {
		if (q->type == FXP_READ && q->h != NULL && q->h->listed) {
			sp->sh = handle_ref(q->h);
			sp->data_off = q->off;
		}
		req_free(q);
	}
	return PX_OK;
}

/* ---- the byte pump ---------------------------------------------------- */

/* Takes up to want-have bytes into the parser body; returns bytes taken. */
static size_t
collect(struct sftp_filter *f, struct sf_parser *ps, const uint8_t *p,
    size_t n, size_t want)
{
	size_t have = ps->body.len, k;

	k = want - have < n ? want - have : n;
	if (xfer_buf_put(&ps->body, p, k) != PX_OK) {
		nomem(f);
		return 0;
	}
	return k;
}

/* Feeds one direction.  client: 1 for client bytes, 0 for server bytes. */
static int
pump(struct sftp_filter *f, int client, const uint8_t *p, size_t n)
{
	struct sf_parser *ps = client ? &f->cp : &f->sp;
	const uint8_t *fwd = p;	/* server bytes not yet passed on */
	const char *who = client ? "client" : "server";
	size_t k, want;

	while (n > 0 && f->err == PX_OK) {
		switch (ps->st) {
		case P_HDR:
			if (ps->hdr_have == 0)
				ps->frame_pos = ps->pos;
			k = 5 - ps->hdr_have < n ? 5 - ps->hdr_have : n;
			memcpy(ps->hdr + ps->hdr_have, p, k);
			ps->hdr_have += k;
			p += k; n -= k; ps->pos += k;
			if (ps->hdr_have < 5)
				break;
			ps->len = xfer_get_u32(ps->hdr);
			ps->type = ps->hdr[4];
			xfer_buf_reset(&ps->body);
			if (ps->len == 0 || ps->len > f->cfg.max_frame)
				return fail(f, PX_EINVAL, "sftp %s: frame of %u "
				    "bytes at byte %llu (limit %u)", who,
				    ps->len, (unsigned long long)ps->frame_pos,
				    f->cfg.max_frame);
			if (client && f->cstate == C_INIT &&
			    ps->type != FXP_INIT)
				return fail(f, PX_EINVAL, "sftp client: first "
				    "message is type %u, not INIT", ps->type);
			if (!client && f->sstate == S_VERSION &&
			    ps->type != FXP_VERSION)
				return fail(f, PX_EINVAL, "sftp server: first "
				    "message is type %u, not VERSION",
				    ps->type);
			if ((client && ps->type == FXP_WRITE) ||
			    (!client && ps->type == FXP_DATA)) {
				if (!client && ps->len < 9)
					return fail(f, PX_EINVAL, "sftp server: "
					    "DATA frame of %u bytes", ps->len);
				ps->st = P_PREFIX;
			} else {
				ps->st = P_BODY;
				ps->want = ps->len - 1;
			}
			break;
		case P_BODY:
			k = collect(f, ps, p, n, ps->want);
			p += k; n -= k; ps->pos += k;
			break;
		case P_PREFIX:
			want = client ? write_prefix_want(ps) : 8;
			if (want == 0) {
				/* WRITE whose handle does not fit the frame */
				ps->st = P_BODY;
				ps->want = ps->len - 1;
				break;
			}
			k = collect(f, ps, p, n, want);
			p += k; n -= k; ps->pos += k;
			break;
		case P_STREAM:
			k = ps->left < n ? (size_t)ps->left : n;
			if (client && out_put(f, &f->up, p, k) != PX_OK)
				return f->err;
			if (ps->data_left > 0 && ps->sh != NULL) {
				size_t dk = ps->data_left < k ?
				    (size_t)ps->data_left : k;
				struct xfer_stream *s = client ? &ps->sh->up :
				    &ps->sh->down;

				if (xfer_stream_add(s, ps->data_off, p, dk) !=
				    PX_OK)
					return nomem(f);
			}
			{
				size_t dk = ps->data_left < k ?
				    (size_t)ps->data_left : k;

				ps->data_left -= dk;
				ps->data_off += dk;
			}
			ps->left -= k;
			p += k; n -= k; ps->pos += k;
			break;
		case P_SKIP:
			k = ps->left < n ? (size_t)ps->left : n;
			ps->left -= k;
			p += k; n -= k; ps->pos += k;
			break;
		}
		if (f->err != PX_OK)
			return f->err;

		/* frame completions */
		if (ps->st == P_BODY && ps->body.len == ps->want) {
			int e = client ? client_frame(f) : server_frame(f);

			ps->st = P_HDR;
			ps->hdr_have = 0;
			if (e != PX_OK)
				return e;
		} else if (ps->st == P_PREFIX) {
			want = client ? write_prefix_want(ps) : 8;
			if (want != 0 && ps->body.len == want) {
				int e = client ? client_write_prefix(f) :
				    server_data_prefix(f);

				if (e != PX_OK)
					return e;
			}
		}
		if ((ps->st == P_STREAM || ps->st == P_SKIP) && ps->left == 0) {
			handle_unref(ps->sh);
			ps->sh = NULL;
			ps->st = P_HDR;
			ps->hdr_have = 0;
		}
		if (!client && ps->st == P_HDR && ps->hdr_have == 0) {
			/* a server frame ended: pass it on, then any replies */
			if (out_put(f, &f->down, fwd, (size_t)(p - fwd)) != PX_OK)
				return f->err;
			fwd = p;
			if (flush_pending(f) != PX_OK)
				return f->err;
		}
	}
	if (!client && f->err == PX_OK && p > fwd)
		out_put(f, &f->down, fwd, (size_t)(p - fwd));
	return f->err;
}

/* ---- public API ------------------------------------------------------- */

void
sftp_filter_config_init(struct sftp_filter_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = XFER_MODE_NONE;
	c->content_limit = SFTP_FILTER_CONTENT_LIMIT;
	c->max_frame = SFTP_FILTER_MAX_FRAME;
	c->max_requests = 16384;
	c->max_handles = 1024;
}

struct sftp_filter *
sftp_filter_new(const struct sftp_filter_config *cfg)
{
	struct sftp_filter *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->cfg = *cfg;
	if (f->cfg.max_frame == 0)
		f->cfg.max_frame = SFTP_FILTER_MAX_FRAME;
	if (f->cfg.max_requests == 0)
		f->cfg.max_requests = 16384;
	if (f->cfg.max_handles == 0)
		f->cfg.max_handles = 1024;
	xfer_buf_init(&f->cp.body, 0);
	xfer_buf_init(&f->sp.body, 0);
	xfer_buf_init(&f->up, 0);
	xfer_buf_init(&f->down, 0);
	xfer_buf_init(&f->pending, SF_PENDING_MAX);
	xfer_queue_init(&f->records);
	return f;
}

static void
drop_state(struct sftp_filter *f)
{
	size_t i;
	struct sf_req *q;

	for (i = 0; i < SF_BUCKETS; i++)
		while ((q = f->reqs[i]) != NULL) {
			f->reqs[i] = q->next;
			req_free(q);
		}
	f->nreqs = 0;
	handle_unref(f->cp.sh);
	handle_unref(f->sp.sh);
	f->cp.sh = f->sp.sh = NULL;
	while (f->handles != NULL)
		handle_unlist(f, f->handles);
}

void
sftp_filter_free(struct sftp_filter *f)
{
	if (f == NULL)
		return;
	drop_state(f);
	xfer_buf_free(&f->cp.body);
	xfer_buf_free(&f->sp.body);
	xfer_buf_free(&f->up);
	xfer_buf_free(&f->down);
	xfer_buf_free(&f->pending);
	xfer_queue_clear(&f->records);
	free(f);
}

int
sftp_filter_client(struct sftp_filter *f, const void *data, size_t n)
{
	if (f->err != PX_OK)
		return f->err;
	if (f->finished)
		return fail(f, PX_EINVAL, "sftp: data after the channel ended");
	return pump(f, 1, data, n);
}

int
sftp_filter_server(struct sftp_filter *f, const void *data, size_t n)
{
	if (f->err != PX_OK)
		return f->err;
	if (f->finished)
		return fail(f, PX_EINVAL, "sftp: data after the channel ended");
	return pump(f, 0, data, n);
}

const uint8_t *
sftp_filter_upstream(struct sftp_filter *f, size_t *len)
{
	return xfer_buf_peek(&f->up, len);
}

void
sftp_filter_upstream_consume(struct sftp_filter *f, size_t n)
{
	xfer_buf_consume(&f->up, n);
}

const uint8_t *
sftp_filter_downstream(struct sftp_filter *f, size_t *len)
{
	return xfer_buf_peek(&f->down, len);
}

void
sftp_filter_downstream_consume(struct sftp_filter *f, size_t n)
{
	xfer_buf_consume(&f->down, n);
}

struct xfer_record *
sftp_filter_take_record(struct sftp_filter *f)
{
	return xfer_queue_take(&f->records);
}

void
sftp_filter_finish(struct sftp_filter *f)
{
	struct sf_handle *h;
	struct sf_req *q;
	struct xfer_record *r;
	size_t i;

	if (f->finished)
		return;
	f->finished = 1;
	for (h = f->handles; h != NULL; h = h->next)
		(void)handle_records(f, h, XFER_OUT_INCOMPLETE, 0, NULL, 0);
	for (i = 0; i < SF_BUCKETS; i++)
		for (q = f->reqs[i]; q != NULL; q = q->next) {
			if (q->path == NULL || q->type == FXP_OPENDIR)
				continue;
			r = xfer_record_new(q->type == FXP_OPEN ? XFER_OP_FILE :
			    q->op, q->type == FXP_OPEN && !(q->pflags &
			    FXF_UPLOAD) ? XFER_DIR_DOWNLOAD : XFER_DIR_UPLOAD,
			    XFER_OUT_INCOMPLETE, q->path, q->pathlen);
			if (r != NULL && q->target != NULL &&
			    xfer_record_set_str(&r->target, q->target,
			    q->targetlen) != PX_OK) {
				xfer_record_free(r);
				r = NULL;
			}
			if (push_record(f, r) != PX_OK)
				break;
		}
	drop_state(f);
}

const char *
sftp_filter_error(const struct sftp_filter *f)
{
	return f->errmsg;
}
