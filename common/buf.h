/*
 * buf.h: a bounded byte buffer for transcript and network bytes.
 *
 * A struct buf holds bytes [rpos, wpos) of a heap block of `cap` bytes.
 * Writers append at wpos, readers consume from rpos.  The number of unread
 * bytes never exceeds `max`: an append that would pass it fails with
 * ESC_ETOOBIG and leaves the buffer unchanged.  Every reader checks the
 * length first and fails with ESC_ETRUNC (nothing consumed) when short.
 * Integers are big-endian (network order) everywhere.
 *
 * Ownership: the buffer owns its block (buf_free releases it) unless it was
 * made by buf_view(), which wraps caller memory read-only: appends then fail
 * with ESC_ESTATE and buf_free only forgets the pointer.  Pointers returned
 * by buf_ptr(), buf_get_bytes() or buf_reserve() stay valid until the next
 * call that appends to, compacts, resets or frees the buffer.
 *
 * A zero-filled struct buf is a valid empty buffer with no limit (SIZE_MAX).
 */
#ifndef ESCORT_BUF_H
#define ESCORT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t rpos;
	size_t wpos;
	size_t cap;
	size_t max;		/* limit on unread bytes; 0 means SIZE_MAX */
	int view;		/* 1: wraps caller memory, read-only */
};

/* Initialises an empty owning buffer whose unread bytes may not exceed max
 * (0: no limit). Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Wraps n bytes at p for reading; p must outlive b's use. */
void buf_view(struct buf *b, const void *p, size_t n);

/* Releases the block (if owned) and leaves an empty buffer with the same max. */
void buf_free(struct buf *b);

/* Drops all content, keeping the block for reuse. */
void buf_reset(struct buf *b);

/* Number of unread bytes. */
size_t buf_len(const struct buf *b);

/* Pointer to the first unread byte (NULL when nothing was ever stored). */
const uint8_t *buf_ptr(const struct buf *b);
uint8_t *buf_mutable_ptr(struct buf *b);

/* Pointer to the unread bytes, never NULL (an empty buffer gives a pointer
 * to an empty string), and their number in *len. */
const uint8_t *buf_peek(const struct buf *b, size_t *len);

/* Bytes that may still be appended before max (SIZE_MAX without a limit;
 * 0 for a view). */
size_t buf_room(const struct buf *b);

/* Writes a NUL after the unread bytes (not counted by buf_len) and returns
 * them as a C string, valid like buf_ptr().  NULL when out of memory or b is
 * a view. */
const char *buf_cstr(struct buf *b);

/* Hands the unread bytes to the caller as a NUL-terminated string (free it
 * with free()); *len, if not NULL, gets its length without the NUL.  b is
 * left empty with no block.  An empty buffer gives an allocated "".  NULL
 * when out of memory or b is a view (b unchanged). */
char *buf_take_str(struct buf *b, size_t *len);

/* Ensures room for n more bytes and returns a pointer to them in *p; the
 * bytes count as written at once (fill them before the next call).
 * Returns ESC_OK, ESC_ETOOBIG (over max), ESC_ENOMEM or ESC_ESTATE (view). */
int buf_reserve(struct buf *b, size_t n, uint8_t **p);

/* Ensures capacity for n more bytes without writing; same errors. */
int buf_ensure(struct buf *b, size_t n);

/* Appends; same errors as buf_reserve. */
int buf_put(struct buf *b, const void *p, size_t n);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);

/* Removes the last n written bytes (n <= buf_len). */
void buf_unput(struct buf *b, size_t n);

/* Consume from the front.  Return ESC_OK or ESC_ETRUNC (nothing consumed). */
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u16(struct buf *b, uint16_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
/* Copies n bytes to out (out may be NULL to skip). */
int buf_get(struct buf *b, void *out, size_t n);
/* Consumes n bytes and points *p at them (valid until the next change). */
int buf_get_bytes(struct buf *b, size_t n, const uint8_t **p);
/* Consumes n bytes.  A buffer read to its end starts again at the start of
 * its block. */
int buf_consume(struct buf *b, size_t n);

/* Moves unread bytes to the start of the block to reuse consumed room. */
void buf_compact(struct buf *b);

/* Big-endian load/store helpers for fixed layouts. */
static inline void
buf_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
buf_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
buf_be64(uint8_t *p, uint64_t v)
{
	buf_be32(p, (uint32_t)(v >> 32));
	buf_be32(p + 4, (uint32_t)v);
}

static inline uint16_t
buf_ld16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
buf_ld32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
buf_ld64(const uint8_t *p)
{
	return ((uint64_t)buf_ld32(p) << 32) | buf_ld32(p + 4);
}

#endif
