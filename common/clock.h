/*
 * clock: the one place the programs read clocks and convert between
 * nanoseconds, seconds and struct timespec.
 *
 * Times are uint64_t nanoseconds: monotonic times (CLOCK_MONOTONIC, for
 * durations and timers, meaningful within one boot) or wall times
 * (CLOCK_REALTIME, since the Unix epoch, UTC; what recordings store).
 * Conversions from a struct timespec or seconds clamp times before the
 * epoch to 0 and saturate at UINT64_MAX instead of wrapping.  No function
 * fails or allocates.
 */
#ifndef ESCORT_CLOCK_H
#define ESCORT_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SEC	1000000000ull
#define CLOCK_NS_PER_MS		1000000ull

/* CLOCK_MONOTONIC now, in ns. */
uint64_t clock_mono_ns(void);

/* CLOCK_REALTIME now, in ns since the epoch. */
uint64_t clock_wall_ns(void);

/* ts in ns (0 for negative times). */
uint64_t clock_ts_ns(const struct timespec *ts);

/* ns as a struct timespec. */
struct timespec clock_ns_ts(uint64_t ns);

/* Whole seconds of ns (for gmtime_r and the like). */
time_t	clock_ns_sec(uint64_t ns);

/* sec seconds in ns, saturating. */
uint64_t clock_sec_ns(uint64_t sec);

/* s seconds (fractions kept to the ns; negative or NaN: 0) as a timespec,
 * for sleeping. */
struct timespec clock_secs_ts(double s);

#endif
