/* verify_internal.h: helpers shared by verification and the reader. */
#ifndef ESCORT_VERIFY_INTERNAL_H
#define ESCORT_VERIFY_INTERNAL_H

#include <zstd.h>

/* Decompresses all of *in into *out, which must be exactly large enough for
 * it.  Returns 0, or 1 when the input is invalid, stalls, or yields more or
 * fewer bytes than out holds. */
int rec__verify_inflate(ZSTD_DCtx *dz, ZSTD_inBuffer *in, ZSTD_outBuffer *out);

#endif
