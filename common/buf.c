/* buf.c: bounded byte buffer (see buf.h for the contract). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/esc_error.h"

static size_t
buf_limit(const struct buf *b)
{
	return b->max ? b->max : SIZE_MAX;
}

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_view(struct buf *b, const void *p, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->data = (uint8_t *)(uintptr_t)p;
	b->wpos = b->cap = n;
	b->view = 1;
}

void
buf_free(struct buf *b)
{
	size_t max = b->max;

	if (!b->view)
		free(b->data);
	buf_init(b, max);
}

void
buf_reset(struct buf *b)
{
	if (b->view) {
		b->rpos = b->wpos;
		return;
	}
	b->rpos = b->wpos = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->wpos - b->rpos;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	return b->data ? b->data + b->rpos : NULL;
}

const uint8_t *
buf_peek(const struct buf *b, size_t *len)
{
	*len = b->wpos - b->rpos;
	return b->data ? b->data + b->rpos : (const uint8_t *)"";
}

size_t
buf_room(const struct buf *b)
{
	if (b->view)
		return 0;
	return buf_limit(b) - buf_len(b);
}

/* Ensures one byte of room after the unread bytes for a NUL, which is no
 * content: max does not apply to it. */
static int
buf_nul_room(struct buf *b)
{
	uint8_t *nd;

	if (b->view)
		return ESC_ESTATE;
	if (b->data != NULL && b->cap > b->wpos)
		return ESC_OK;
	buf_compact(b);
	if (b->data != NULL && b->cap > b->wpos)
		return ESC_OK;
	if ((nd = realloc(b->data, b->wpos + 1)) == NULL)
		return ESC_ENOMEM;
	b->data = nd;
	b->cap = b->wpos + 1;
	return ESC_OK;
}

const char *
buf_cstr(struct buf *b)
{
	if (buf_nul_room(b) != ESC_OK)
		return NULL;
	b->data[b->wpos] = '\0';
	return (const char *)b->data + b->rpos;
}

char *
buf_take_str(struct buf *b, size_t *len)
{
	size_t n = buf_len(b);
	char *s;

	if (buf_nul_room(b) != ESC_OK)
		return NULL;
	buf_compact(b);
	s = (char *)b->data;
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	buf_init(b, b->max);	/* the block is the caller's now */
	return s;
}

uint8_t *
buf_mutable_ptr(struct buf *b)
{
	return b->view || !b->data ? NULL : b->data + b->rpos;
}

void
buf_compact(struct buf *b)
{
	if (b->view || b->rpos == 0)
		return;
	if (b->wpos > b->rpos)
		memmove(b->data, b->data + b->rpos, b->wpos - b->rpos);
	b->wpos -= b->rpos;
	b->rpos = 0;
}

int
buf_ensure(struct buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (b->view)
		return ESC_ESTATE;
	if (n > buf_limit(b) - buf_len(b))
		return ESC_ETOOBIG;
	if (b->cap - b->wpos >= n)
		return ESC_OK;
	/* Reuse consumed room when that suffices for at least half the block. */
	if (b->rpos > 0 && b->cap - buf_len(b) >= n && b->rpos >= b->cap / 2) {
		buf_compact(b);
		return ESC_OK;
	}
	buf_compact(b);
	need = b->wpos + n;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if ((nd = realloc(b->data, ncap)) == NULL)
		return ESC_ENOMEM;
	b->data = nd;
	b->cap = ncap;
	return ESC_OK;
}

int
buf_reserve(struct buf *b, size_t n, uint8_t **p)
{
	int r;

	if ((r = buf_ensure(b, n)) != ESC_OK)
		return r;
	*p = b->data + b->wpos;
	b->wpos += n;
	return ESC_OK;
}

int
buf_put(struct buf *b, const void *p, size_t n)
{
	uint8_t *d;
	int r;

	if (n == 0)
		return b->view ? ESC_ESTATE : ESC_OK;
	/* fast path: room in the block and under max (the policy's renderer
	 * appends a byte at a time) */
	if (!b->view && n <= b->cap - b->wpos && n <= buf_limit(b) - buf_len(b)) {
		memcpy(b->data + b->wpos, p, n);
		b->wpos += n;
		return ESC_OK;
	}
	if ((r = buf_reserve(b, n, &d)) != ESC_OK)
		return r;
	memcpy(d, p, n);
	return ESC_OK;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	if (!b->view && b->cap > b->wpos && buf_len(b) < buf_limit(b)) {
		b->data[b->wpos++] = v;
		return ESC_OK;
	}
	return buf_put(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2];

	buf_be16(t, v);
	return buf_put(b, t, 2);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4];

	buf_be32(t, v);
	return buf_put(b, t, 4);
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t t[8];

	buf_be64(t, v);
	return buf_put(b, t, 8);
}

void
buf_unput(struct buf *b, size_t n)
{
	if (n > buf_len(b))
		n = buf_len(b);
	b->wpos -= n;
}

int
buf_get_bytes(struct buf *b, size_t n, const uint8_t **p)
{
	if (buf_len(b) < n)
		return ESC_ETRUNC;
	if (p != NULL)
		*p = b->data ? b->data + b->rpos : NULL;
	b->rpos += n;
	/* read to the end: start again at the block's start (the bytes stay
	 * where *p points until the next append) */
	if (b->rpos == b->wpos && !b->view)
		b->rpos = b->wpos = 0;
	return ESC_OK;
}

int
buf_get(struct buf *b, void *out, size_t n)
{
	const uint8_t *p;
	int r;

	if ((r = buf_get_bytes(b, n, &p)) != ESC_OK)
		return r;
	if (out != NULL && n > 0)
		memcpy(out, p, n);
	return ESC_OK;
}

int
buf_consume(struct buf *b, size_t n)
{
	return buf_get_bytes(b, n, NULL);
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = buf_get_bytes(b, 2, &p)) == ESC_OK)
		*v = buf_ld16(p);
	return r;
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = buf_get_bytes(b, 4, &p)) == ESC_OK)
		*v = buf_ld32(p);
	return r;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	const uint8_t *p;
	int r;

	if ((r = buf_get_bytes(b, 8, &p)) == ESC_OK)
		*v = buf_ld64(p);
	return r;
}
