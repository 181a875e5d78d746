/* segfile.c: segment reader over pread(2) (see segfile.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/segfile.h"

/*
 * Bytes read at a time.  Small on purpose: the buffer stays in the cache
 * while the CRC, the chain hash and zstd read it, and below malloc's mmap
 * threshold, so a reader's process does not fault in fresh pages for it
 * (verify --all took about a third more CPU time with 1 MiB reads).  The
 * buffer grows for a larger segment.
 */
#define SEGF_READ_AHEAD (64u << 10)

void
rec__segf_init(struct segf *f, int fd, uint64_t off)
{
	f->fd = fd;
	f->off = f->boff = off;
	buf_init(&f->b, 0);
	f->no_crc = 0;
}

void
rec__segf_seek(struct segf *f, uint64_t off)
{
	f->off = f->boff = off;
	buf_reset(&f->b);
}

void
rec__segf_free(struct segf *f)
{
	buf_free(&f->b);
}

int
segf_pread(int fd, void *p, size_t n, uint64_t off)
{
	ssize_t r;
	size_t done = 0;

	while (done < n) {
		r = pread(fd, (uint8_t *)p + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return REC_EIO;
		if (r == 0)
			return REC_ETRUNC;
		done += (size_t)r;
	}
	return REC_OK;
}

/* Makes the buffer hold at least n bytes starting at f->off, reading more
 * when needed.  Returns REC_OK, REC_ETRUNC (file too short) or REC_EIO. */
static int
segf_fill(struct segf *f, size_t n)
{
	size_t have, want;
	uint8_t *p;
	ssize_t r;
	int e;

	/* Drop consumed bytes before f->off. */
	if (f->off > f->boff) {
		size_t skip = (size_t)(f->off - f->boff);

		if (skip >= buf_len(&f->b))
			buf_reset(&f->b);
		else
			buf_consume(&f->b, skip);
		f->boff = f->off;
	}
	while ((have = buf_len(&f->b)) < n) {
		want = n - have;
		if (want < SEGF_READ_AHEAD)
			want = SEGF_READ_AHEAD;
		if ((e = buf_reserve(&f->b, want, &p)) != REC_OK)
			return e;
		do {
			r = pread(f->fd, p, want, (off_t)(f->boff + have));
		} while (r < 0 && errno == EINTR);
		buf_unput(&f->b, want - (r > 0 ? (size_t)r : 0));
		if (r < 0)
			return REC_EIO;
		if (r == 0)
			return REC_ETRUNC;
	}
	return REC_OK;
}

int
rec__segf_next(struct segf *f, struct seg *s, uint64_t *seg_off,
    const uint8_t **raw, size_t *rawlen)
{
	size_t used;
	int r;

	if ((r = segf_fill(f, 1)) == REC_ETRUNC)
		return 0;
	if (r != REC_OK)
		return r;
	if ((r = segf_fill(f, SEG_HDR_LEN)) != REC_OK)
		return r;
	if ((r = rec__seg_decode_header(buf_ptr(&f->b), buf_len(&f->b), s)) != REC_OK)
		return r;
	if ((r = segf_fill(f, SEG_HDR_LEN + (size_t)s->len)) != REC_OK)
		return r;
	if ((r = (f->no_crc ? rec__seg_decode_nocrc : seg_decode)(buf_ptr(&f->b),
	    buf_len(&f->b), s, &used)) != REC_OK)
		return r;
	*seg_off = f->off;
	*raw = buf_ptr(&f->b);
	*rawlen = used;
	f->off += used;
	return 1;
}

int
rec__segf_skip(struct segf *f, struct seg *s, uint64_t *seg_off)
{
	uint8_t h[SEG_HDR_LEN];
	uint8_t one;
	int r;

	buf_reset(&f->b);
	f->boff = f->off;
	if ((r = segf_pread(f->fd, h, 1, f->off)) == REC_ETRUNC)
		return 0;
	if (r != REC_OK)
		return r;
	if ((r = segf_pread(f->fd, h, SEG_HDR_LEN, f->off)) != REC_OK)
		return r;
	if ((r = rec__seg_decode_header(h, SEG_HDR_LEN, s)) != REC_OK)
		return r;
	if (s->len > 0 &&
	    (r = segf_pread(f->fd, &one, 1, f->off + SEG_HDR_LEN + s->len - 1)) != REC_OK)
		return r;
	*seg_off = f->off;
	f->off += SEG_HDR_LEN + (uint64_t)s->len;
	f->boff = f->off;
	return 1;
}

/* Returns 1 when the file holds only zero bytes from off to its end. */
static int
segf_zero_tail(int fd, uint64_t off)
{
	uint8_t blk[4096];
	ssize_t r;
	ssize_t i;

	for (;;) {
		do {
			r = pread(fd, blk, sizeof(blk), (off_t)off);
		} while (r < 0 && errno == EINTR);
		if (r < 0)
			return 0;
		if (r == 0)
			return 1;
		for (i = 0; i < r; i++)
			if (blk[i] != 0)
				return 0;
		off += (uint64_t)r;
	}
}

int
rec__segf_torn_tail(int fd, int err, uint64_t off, uint64_t size)
{
	struct seg h;
	uint8_t hb[SEG_HDR_LEN];

	if (err == REC_ETRUNC)
		return 1;
	if (segf_pread(fd, hb, SEG_HDR_LEN, off) == REC_OK &&
	    rec__seg_decode_header(hb, SEG_HDR_LEN, &h) == REC_OK &&
	    off + SEG_HDR_LEN + h.len == size)
		return 1;
	return segf_zero_tail(fd, off);
}
