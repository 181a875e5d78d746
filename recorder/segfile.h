/*
 * segfile.h: sequential reading of the segments of a transcript or journal
 * file, with read-ahead, tolerant of a file that is still growing.
 *
 * The reader owns neither the descriptor nor its position: it uses pread(2)
 * only.  Segments returned point into the reader's buffer and stay valid
 * until the next segf_* call.
 */
#ifndef ESCORT_SEGFILE_H
#define ESCORT_SEGFILE_H

#include <stdint.h>

#include "common/buf.h"
#include "recorder/segment.h"

struct segf {
	int fd;
	uint64_t off;		/* offset of the next segment */
	uint64_t boff;		/* file offset of buf's first unread byte */
	struct buf b;		/* bytes [boff, boff + buf_len) of the file */
	int no_crc;		/* rec__segf_next does not check CRCs (0
				   from rec__segf_init; a verifier that
				   establishes the bytes otherwise sets it) */
};

/* Starts reading fd at offset off. */
void rec__segf_init(struct segf *f, int fd, uint64_t off);

/* Repositions to off (drops read-ahead). */
void rec__segf_seek(struct segf *f, uint64_t off);

void rec__segf_free(struct segf *f);

/*
 * Reads the segment at f->off.  Returns 1 with *s filled, *seg_off its
 * offset, *raw pointing at its bytes (header included, *rawlen long), and
 * f->off advanced; 0 at a clean end of file; REC_ETRUNC when the file ends
 * inside a segment (incomplete: may still be growing, or torn); another
 * error (REC_ECRC, REC_EFORMAT, REC_EVERSION, REC_ETOOBIG, REC_EIO) for an
 * invalid segment at f->off (not consumed).
 */
int rec__segf_next(struct segf *f, struct seg *s, uint64_t *seg_off,
    const uint8_t **raw, size_t *rawlen);

/* Reads only the header of the segment at f->off and skips it without
 * reading or checking its payload (for building an index).  Same returns. */
int rec__segf_skip(struct segf *f, struct seg *s, uint64_t *seg_off);

/* Reads n bytes at off directly (no buffering).  Returns REC_OK,
 * REC_ETRUNC (file shorter) or REC_EIO. */
int segf_pread(int fd, void *p, size_t n, uint64_t off);

/*
 * The torn-tail rule, the one every reader of a segment file applies (the
 * journal's scan and verify_file): rec__segf_next returned err (< 0, neither
 * REC_EIO nor REC_ENOMEM) for the segment at off of fd, a file of size
 * bytes.  Returns 1 when the bytes from off to the end are a torn write,
 * the end of an append that did not reach the disk whole: the file ends
 * inside the segment (REC_ETRUNC); or its header decodes and the segment
 * ends exactly at the end of the file (its body was not all written, so
 * its CRC fails); or only zero bytes follow off (space allocated but never
 * written).  Returns 0 when they are damage, an error to report at off.
 */
int rec__segf_torn_tail(int fd, int err, uint64_t off, uint64_t size);

#endif
