/* xfer_stream: SHA-256 of a file's bytes in offset order, with a bounded
 * hold for pieces that arrive ahead of a gap. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "proxy/px_error.h"
#include "proxy/xfer_stream.h"

struct xfer_chunk {
	struct xfer_chunk *next;
	uint64_t off;
	size_t len;
	size_t cap;
	uint8_t *data;
};

int
xfer_stream_init(struct xfer_stream *s, int keep_content, size_t content_limit)
{
	memset(s, 0, sizeof(*s));
	s->sequential = 1;
	s->keep_content = keep_content;
	s->content_limit = content_limit;
	if ((s->md = EVP_MD_CTX_new()) == NULL)
		return PX_ENOMEM;
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
		return PX_ENOMEM;
	}
	return PX_OK;
}

void
xfer_stream_tap(struct xfer_stream *s, const struct xfer_tap *tap, uint64_t file_id)
{
	s->tap = *tap;
	s->tap_id = file_id;
}

static void
drop_held(struct xfer_stream *s)
{
	struct xfer_chunk *c;

	while ((c = s->held) != NULL) {
		s->held = c->next;
		free(c->data);
		free(c);
	}
	s->held_bytes = 0;
}

/* Gives up on the digest: the bytes did not arrive as one in-order run. */
static void
lose_order(struct xfer_stream *s)
{
	s->sequential = 0;
	if (s->md != NULL) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
	}
	drop_held(s);
}

/* Hashes bytes at s->next (the caller guarantees the offset). */
static int
take(struct xfer_stream *s, const uint8_t *p, size_t n)
{
	size_t room;

	if (EVP_DigestUpdate(s->md, p, n) != 1)
		return PX_ENOMEM;
	if (s->tap.fn != NULL && n > 0)
		s->tap.fn(s->tap.ctx, s->tap_id, p, n);
	s->next += n;
	if (s->keep_content) {
		room = s->content_limit - s->content_len;
		if (n > room)
			s->content_truncated = 1;
		if (room > 0 && n > 0) {
			size_t k = n < room ? n : room;
			uint8_t *nc = realloc(s->content, s->content_len + k);

			if (nc == NULL)
				return PX_ENOMEM;
			s->content = nc;
			memcpy(s->content + s->content_len, p, k);
			s->content_len += k;
		}
	}
	return PX_OK;
}

/* Hashes every held chunk that now starts at s->next. */
static int
drain(struct xfer_stream *s)
{
	struct xfer_chunk *c;
	int r;

	while ((c = s->held) != NULL && c->off <= s->next) {
		if (c->off < s->next) {
			lose_order(s);
			return PX_OK;
		}
		s->held = c->next;
		s->held_bytes -= c->len;
		r = take(s, c->data, c->len);
		free(c->data);
		free(c);
		if (r != PX_OK)
			return r;
	}
	return PX_OK;
}

/* Keeps a piece that starts beyond s->next, extending the chunk it
 * continues when there is one. */
static int
hold(struct xfer_stream *s, uint64_t off, const uint8_t *p, size_t n)
{
	struct xfer_chunk **pp, *c;

	if (s->held_bytes + n > XFER_STREAM_HOLD_MAX) {
		lose_order(s);
		return PX_OK;
	}
	for (pp = &s->held; *pp != NULL && (*pp)->off < off; pp = &(*pp)->next) {
		c = *pp;
		if (c->off + c->len > off) {
			lose_order(s);		/* overlaps a held piece */
			return PX_OK;
		}
		if (c->off + c->len == off &&
		    (c->next == NULL || c->next->off >= off + n)) {
			if (c->len + n > c->cap) {
				size_t ncap = c->cap * 2;
				uint8_t *nd;

				if (ncap < c->len + n)
					ncap = c->len + n;
				if ((nd = realloc(c->data, ncap)) == NULL)
					return PX_ENOMEM;
				c->data = nd;
				c->cap = ncap;
			}
			memcpy(c->data + c->len, p, n);
			c->len += n;
			s->held_bytes += n;
			return PX_OK;
		}
	}
	if (*pp != NULL && (*pp)->off < off + n) {
		lose_order(s);
		return PX_OK;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PX_ENOMEM;
	if ((c->data = malloc(n)) == NULL) {
		free(c);
		return PX_ENOMEM;
	}
	memcpy(c->data, p, n);
	c->off = off;
	c->len = c->cap = n;
	c->next = *pp;
	*pp = c;
	s->held_bytes += n;
	return PX_OK;
}

int
xfer_stream_add(struct xfer_stream *s, uint64_t off, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return PX_OK;
	s->pieces++;
	if (off > UINT64_MAX - n) {
		lose_order(s);
		s->extent = UINT64_MAX;
		return PX_OK;
	}
	if (off + n > s->extent)
		s->extent = off + n;
	if (!s->sequential)
		return PX_OK;
	if (off < s->next) {
		lose_order(s);
		return PX_OK;
	}
	if (off > s->next)
		return hold(s, off, p, n);
	if ((r = take(s, p, n)) != PX_OK)
		return r;
	return drain(s);
}

void
xfer_stream_finish(struct xfer_stream *s, struct xfer_record *r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int dlen = 0;
	int i;

	if (s->held != NULL)
		lose_order(s);
	memset(r->sha256, 0, sizeof(r->sha256));
	r->sha256_hex[0] = '\0';
	if (s->sequential && s->md != NULL &&
	    EVP_DigestFinal_ex(s->md, r->sha256, &dlen) == 1 && dlen == 32) {
		for (i = 0; i < 32; i++) {
			r->sha256_hex[2 * i] = hex[r->sha256[i] >> 4];
			r->sha256_hex[2 * i + 1] = hex[r->sha256[i] & 15];
		}
		r->sha256_hex[64] = '\0';
		r->sequential = 1;
		r->size = s->next;
	} else {
		memset(r->sha256, 0, sizeof(r->sha256));
		r->sequential = 0;
		r->size = s->extent;
	}
	if (s->md != NULL) {
		EVP_MD_CTX_free(s->md);
		s->md = NULL;
	}
	s->sequential = 0;	/* spent: later pieces only move extent */
	free(r->content);
	r->content = s->content;
	r->content_len = s->content_len;
	r->content_truncated = s->content_truncated;
	s->content = NULL;
	s->content_len = 0;
}

void
xfer_stream_free(struct xfer_stream *s)
{
	drop_held(s);
	if (s->md != NULL)
		EVP_MD_CTX_free(s->md);
	s->md = NULL;
	free(s->content);
	s->content = NULL;
}
