/* xfer_buf: growable byte queue for the transfer parsers. */
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/xfer_buf.h"

void
xfer_buf_init(struct xfer_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
xfer_buf_free(struct xfer_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

/* Makes room for n more bytes at the tail, compacting or growing. */
static int
reserve(struct xfer_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (b->max != 0 && (n > b->max || b->len > b->max - n))
		return PX_EFULL;
	if (b->off + b->len + n <= b->cap)
		return PX_OK;
	if (b->off > 0) {
		if (b->len > 0)
			memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
		if (b->len + n <= b->cap)
			return PX_OK;
	}
	need = b->len + n;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return PX_ENOMEM;
		ncap *= 2;
	}
	if ((nd = realloc(b->data, ncap)) == NULL)
		return PX_ENOMEM;
	b->data = nd;
	b->cap = ncap;
	return PX_OK;
}

int
xfer_buf_put(struct xfer_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return PX_OK;
	if ((r = reserve(b, n)) != PX_OK)
		return r;
	memcpy(b->data + b->off + b->len, p, n);
	b->len += n;
	return PX_OK;
}

int
xfer_buf_put_u8(struct xfer_buf *b, uint8_t v)
{
	return xfer_buf_put(b, &v, 1);
}

int
xfer_buf_put_u32(struct xfer_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return xfer_buf_put(b, x, 4);
}

int
xfer_buf_put_str(struct xfer_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return PX_EINVAL;
	if ((r = xfer_buf_put_u32(b, (uint32_t)n)) != PX_OK)
		return r;
	return xfer_buf_put(b, p, n);
}

const uint8_t *
xfer_buf_peek(const struct xfer_buf *b, size_t *len)
{
	*len = b->len;
	return b->len ? b->data + b->off : (const uint8_t *)"";
}

void
xfer_buf_consume(struct xfer_buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

size_t
xfer_buf_avail(const struct xfer_buf *b)
{
	if (b->max == 0)
		return SIZE_MAX;
	return b->len >= b->max ? 0 : b->max - b->len;
}

void
xfer_buf_reset(struct xfer_buf *b)
{
	b->off = b->len = 0;
}

uint32_t
xfer_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint64_t
xfer_get_u64(const uint8_t *p)
{
	return (uint64_t)xfer_get_u32(p) << 32 | xfer_get_u32(p + 4);
}
