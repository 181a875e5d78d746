/*
 * xfer_buf: a growable byte queue for the transfer parsers (sftp_filter,
 * scp_watch).  Bytes are appended at the tail and consumed from the head.
 * A buffer never grows past its max (0 = no limit); an append that would
 * exceed it fails and leaves the buffer unchanged.
 */
#ifndef XFER_BUF_H
#define XFER_BUF_H

#include <stddef.h>
#include <stdint.h>

struct xfer_buf {
	uint8_t *data;		/* owned; live bytes are data[off .. off+len) */
	size_t off;
	size_t len;
	size_t cap;
	size_t max;		/* 0 = unbounded */
};

/* Initialises an empty buffer with the given max (no allocation). */
void xfer_buf_init(struct xfer_buf *b, size_t max);

/* Frees the storage; the buffer is empty and reusable afterwards. */
void xfer_buf_free(struct xfer_buf *b);

/* Appends n bytes.  Returns PX_OK, PX_ENOMEM, or PX_EFULL (over max). */
int xfer_buf_put(struct xfer_buf *b, const void *p, size_t n);

/* Appends big-endian integers and an SFTP string (u32 length + bytes). */
int xfer_buf_put_u8(struct xfer_buf *b, uint8_t v);
int xfer_buf_put_u32(struct xfer_buf *b, uint32_t v);
int xfer_buf_put_str(struct xfer_buf *b, const void *p, size_t n);

/* Returns a pointer to the live bytes (valid until the next put or consume)
 * and sets *len. */
const uint8_t *xfer_buf_peek(const struct xfer_buf *b, size_t *len);

/* Drops the first n live bytes (n is clamped to the live length). */
void xfer_buf_consume(struct xfer_buf *b, size_t n);

/* Bytes that may still be appended before max (SIZE_MAX if unbounded). */
size_t xfer_buf_avail(const struct xfer_buf *b);

/* Drops every live byte, keeping the storage. */
void xfer_buf_reset(struct xfer_buf *b);

/* Big-endian readers over raw memory (no bounds check: caller checks). */
uint32_t xfer_get_u32(const uint8_t *p);
uint64_t xfer_get_u64(const uint8_t *p);

#endif
