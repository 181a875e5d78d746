/* tw_internal.h: helpers shared by the writer, recovery and the reader. */
#ifndef ESCORT_TW_INTERNAL_H
#define ESCORT_TW_INTERNAL_H

#include <stdint.h>

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
uint64_t tw_now_mono(void);
uint64_t tw_now_wall(void);

#endif
