/* tw_internal.h: helpers shared by the writer, recovery and the reader. */
#ifndef ESCORT_TW_INTERNAL_H
#define ESCORT_TW_INTERNAL_H

#include <stdint.h>

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
uint64_t rec__tw_now_mono(void);
uint64_t rec__tw_now_wall(void);

/* Sets the writer's compression parameters on cz (a ZSTD_CCtx *): plain
 * zstd level `level` when > 0, else the ones tuned for terminal text.
 * Shared with the benchmarks, which time zstd alone beside the writer. */
void rec__tw_zstd_params(void *cz, int level);

#endif
