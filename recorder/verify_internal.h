/* verify_internal.h: helpers shared by verification and the reader. */
#ifndef ESCORT_VERIFY_INTERNAL_H
#define ESCORT_VERIFY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "recorder/seal.h"

/* Decompresses all of *in into *out, which must be exactly large enough for
 * it.  Returns 0, or 1 when the input is invalid, stalls, or yields more or
 * fewer bytes than out holds. */
int rec__verify_inflate(ZSTD_DCtx *dz, ZSTD_inBuffer *in, ZSTD_outBuffer *out);

/*
 * A large file's second half read and hashed on a second thread
 * (verify_split.c), for verify_file's fast pass.
 *
 * rec__vsplit_start starts a thread that finds a CHECKPOINT from 40% of
 * the file open at fd (size bytes) on, and reads the segments from it up
 * to size, hashing the chain from the head that checkpoint claims; NULL
 * when no thread could be started (the caller reads alone).  The reader
 * calls rec__vsplit_reach before each segment it reads, at offset off with
 * the chain head head before it: 1 means the thread read from there, from
 * that very head, and the reader takes its segments instead of reading
 * them; the answer is 0 before and forever after, once passed.
 * rec__vsplit_wait then waits for the thread and returns how many
 * segments it read (the first at that offset, in file order), *end the
 * offset after the last, where the reader reads on.  rec__vsplit_seg
 * gives segment k: its header fields in *s, s->payload pointing at what
 * was kept of its payload (a DATA segment's prefix unless it is flagged
 * RESUME_REFUSED, all of any other; no CRC checked), its offset and the
 * chain head after it, valid until rec__vsplit_free (which also stops and
 * waits for the thread when its work was not taken).
 */
struct vf_split;
struct vf_split *rec__vsplit_start(int fd, uint64_t size);
int rec__vsplit_reach(struct vf_split *sp, uint64_t off,
    const uint8_t head[SEAL_HASH_LEN]);
size_t rec__vsplit_wait(struct vf_split *sp, uint64_t *end);
struct seg;
void rec__vsplit_seg(const struct vf_split *sp, size_t k, struct seg *s,
    uint64_t *off, const uint8_t **after);
void rec__vsplit_free(struct vf_split *sp);

#endif
