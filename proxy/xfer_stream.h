/*
 * xfer_stream: the bytes of one file in one direction, hashed with SHA-256
 * in offset order.
 *
 * Pieces arrive with their file offset.  A piece at the next expected
 * offset is hashed at once; a piece further on (a gap, e.g. after a short
 * read that the client will re-request) is held until the gap fills, up to
 * XFER_STREAM_HOLD_MAX bytes.  A piece that overlaps bytes already hashed,
 * a hold that overflows, or a gap still open at the end makes the stream
 * non-sequential: the digest is then withheld (all zero) rather than
 * describing bytes that were not the file, and size reports the highest
 * offset reached.  Pieces of one frame may be fed in several calls
 * (offset, offset + n, ...).
 *
 * When keep_content is set, the first content_limit bytes in offset order
 * are kept for the record.
 */
#ifndef XFER_STREAM_H
#define XFER_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/xfer_record.h"

#define XFER_STREAM_HOLD_MAX	(4u << 20)	/* out-of-order bytes held */

/* A tap on a stream's bytes: fn gets them in offset order as they are
 * hashed (never a byte twice, never across a gap), with the file id the
 * stream was tapped with.  Used to rebuild files from recorded streams. */
struct xfer_tap {
	void (*fn)(void *ctx, uint64_t file_id, const uint8_t *p, size_t n);
	void *ctx;
};

struct xfer_chunk;

struct xfer_stream {
	void *md;		/* EVP_MD_CTX *, NULL once non-sequential */
	uint64_t next;		/* next offset to hash */
	uint64_t extent;	/* highest offset + length seen */
	uint64_t pieces;	/* number of pieces fed */
	int sequential;
	struct xfer_chunk *held;	/* sorted by offset, non-overlapping */
	size_t held_bytes;
	int keep_content;
	size_t content_limit;
	uint8_t *content;
	size_t content_len;
	int content_truncated;
	struct xfer_tap tap;	/* set by xfer_stream_tap, else fn NULL */
	uint64_t tap_id;
};

/* Sends s's bytes in offset order to tap (copied; fn NULL: none) with
 * file_id.  Call after xfer_stream_init, before the first piece. */
void xfer_stream_tap(struct xfer_stream *s, const struct xfer_tap *tap,
    uint64_t file_id);

/* Prepares s.  Returns PX_OK or PX_ENOMEM (s is then safe to free). */
int xfer_stream_init(struct xfer_stream *s, int keep_content,
    size_t content_limit);

/* Adds n bytes at file offset off.  Returns PX_OK or PX_ENOMEM. */
int xfer_stream_add(struct xfer_stream *s, uint64_t off, const void *p,
    size_t n);

/* Fills r->size, sequential, sha256, sha256_hex, content (moved into r),
 * content_len, content_truncated.  The stream is spent afterwards: only
 * xfer_stream_free() may follow. */
void xfer_stream_finish(struct xfer_stream *s, struct xfer_record *r);

/* Frees everything s holds. */
void xfer_stream_free(struct xfer_stream *s);

#endif
