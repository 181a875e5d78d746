/* sftp_filter: SFTP v3 parsed in passing; records transfers, enforces the
 * sftp mode.  The contract is in xfer_sftp_filter.h; the parts in xfer_sftp.h.
 * This file: the public API and the byte pump that frames both streams. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_sftp.h"

/* ---- the byte pump ---------------------------------------------------- */

/* Takes up to want-have bytes into the parser body; returns bytes taken. */
static size_t
collect(struct sftp_filter *f, struct sf_parser *ps, const uint8_t *p,
    size_t n, size_t want)
{
	size_t have = buf_len(&ps->body), k;

	k = want - have < n ? want - have : n;
	if (buf_put(&ps->body, p, k) != PX_OK) {
		sftp__nomem(f);
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
			ps->len = buf_ld32(ps->hdr);
			ps->type = ps->hdr[4];
			buf_reset(&ps->body);
			if (ps->len == 0 || ps->len > f->cfg.max_frame)
				return sftp__fail(f, PX_EINVAL,
				    "sftp %s: frame of %u "
				    "bytes at byte %llu (limit %u)", who,
				    ps->len, (unsigned long long)ps->frame_pos,
				    f->cfg.max_frame);
			if (client && f->cstate == C_INIT &&
			    ps->type != FXP_INIT)
				return sftp__fail(f, PX_EINVAL,
				    "sftp client: first "
				    "message is type %u, not INIT", ps->type);
			if (!client && f->sstate == S_VERSION &&
			    ps->type != FXP_VERSION)
				return sftp__fail(f, PX_EINVAL,
				    "sftp server: first "
				    "message is type %u, not VERSION",
				    ps->type);
			if ((client && ps->type == FXP_WRITE) ||
			    (!client && ps->type == FXP_DATA)) {
				if (!client && ps->len < 9)
					return sftp__fail(f, PX_EINVAL,
					    "sftp server: "
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
			want = client ? sftp__write_prefix_want(ps) : 8;
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
			if (client && sftp__out_put(f, &f->up, p, k) != PX_OK)
				return f->err;
			if (ps->data_left > 0 && ps->sh != NULL) {
				size_t dk = ps->data_left < k ?
				    (size_t)ps->data_left : k;
				struct xfer_stream *s = client ? &ps->sh->up :
				    &ps->sh->down;

				if (xfer_stream_add(s, ps->data_off, p, dk) !=
				    PX_OK)
					return sftp__nomem(f);
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
		if (ps->st == P_BODY && buf_len(&ps->body) == ps->want) {
			int e = client ? sftp__client_frame(f) :
			    sftp__server_frame(f);

			ps->st = P_HDR;
			ps->hdr_have = 0;
			if (e != PX_OK)
				return e;
		} else if (ps->st == P_PREFIX) {
			want = client ? sftp__write_prefix_want(ps) : 8;
			if (want != 0 && buf_len(&ps->body) == want) {
				int e = client ? sftp__client_write_prefix(f) :
				    sftp__server_data_prefix(f);

				if (e != PX_OK)
					return e;
			}
		}
		if ((ps->st == P_STREAM || ps->st == P_SKIP) && ps->left == 0) {
			sftp__handle_unref(ps->sh);
			ps->sh = NULL;
			ps->st = P_HDR;
			ps->hdr_have = 0;
		}
		if (!client && ps->st == P_HDR && ps->hdr_have == 0) {
			/* a server frame ended: pass it on, then any replies */
			if (sftp__out_put(f, &f->down, fwd,
			    (size_t)(p - fwd)) != PX_OK)
				return f->err;
			fwd = p;
			if (sftp__flush_pending(f) != PX_OK)
				return f->err;
		}
	}
	if (!client && f->err == PX_OK && p > fwd)
		sftp__out_put(f, &f->down, fwd, (size_t)(p - fwd));
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
	buf_init(&f->cp.body, 0);
	buf_init(&f->sp.body, 0);
	buf_init(&f->up, 0);
	buf_init(&f->down, 0);
	buf_init(&f->pending, SF_PENDING_MAX);
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
			sftp__req_free(q);
		}
	f->nreqs = 0;
	sftp__handle_unref(f->cp.sh);
	sftp__handle_unref(f->sp.sh);
	f->cp.sh = f->sp.sh = NULL;
	while (f->handles != NULL)
		sftp__handle_unlist(f, f->handles);
}

void
sftp_filter_free(struct sftp_filter *f)
{
	if (f == NULL)
		return;
	drop_state(f);
	buf_free(&f->cp.body);
	buf_free(&f->sp.body);
	buf_free(&f->up);
	buf_free(&f->down);
	buf_free(&f->pending);
	xfer_queue_clear(&f->records);
	free(f);
}

int
sftp_filter_client(struct sftp_filter *f, const void *data, size_t n)
{
	if (f->err != PX_OK)
		return f->err;
	if (f->finished)
		return sftp__fail(f, PX_EINVAL,
		    "sftp: data after the channel ended");
	return pump(f, 1, data, n);
}

int
sftp_filter_server(struct sftp_filter *f, const void *data, size_t n)
{
	if (f->err != PX_OK)
		return f->err;
	if (f->finished)
		return sftp__fail(f, PX_EINVAL,
		    "sftp: data after the channel ended");
	return pump(f, 0, data, n);
}

const uint8_t *
sftp_filter_upstream(struct sftp_filter *f, size_t *len)
{
	return buf_peek(&f->up, len);
}

void
sftp_filter_upstream_consume(struct sftp_filter *f, size_t n)
{
	(void)buf_consume(&f->up, n < buf_len(&f->up) ? n : buf_len(&f->up));
}

const uint8_t *
sftp_filter_downstream(struct sftp_filter *f, size_t *len)
{
	return buf_peek(&f->down, len);
}

void
sftp_filter_downstream_consume(struct sftp_filter *f, size_t n)
{
	(void)buf_consume(&f->down, n < buf_len(&f->down) ? n : buf_len(&f->down));
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
		(void)sftp__handle_records(f, h,
		    XFER_OUT_INCOMPLETE, 0, NULL, 0);
	for (i = 0; i < SF_BUCKETS; i++)
		for (q = f->reqs[i]; q != NULL; q = q->next) {
			if (q->path == NULL || q->type == FXP_OPENDIR)
				continue;
			if (q->type == FXP_OPEN) {
				if (sftp__open_records(f, q, XFER_OUT_INCOMPLETE,
				    0, NULL, 0) != PX_OK)
					break;
				continue;
			}
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
			if (sftp__push_record(f, r) != PX_OK)
				break;
		}
	drop_state(f);
}

const char *
sftp_filter_error(const struct sftp_filter *f)
{
	return f->errmsg;
}
