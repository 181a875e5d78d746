/* clock: clock readings and time conversions (see clock.h). */
#include <stdint.h>
#include <time.h>

#include "common/clock.h"

uint64_t
clock_ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return 0;
	if ((uint64_t)ts->tv_sec > (UINT64_MAX - (uint64_t)ts->tv_nsec) / CLOCK_NS_PER_SEC)
		return UINT64_MAX;
	return (uint64_t)ts->tv_sec * CLOCK_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

uint64_t
clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return clock_ts_ns(&ts);
}

uint64_t
clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return clock_ts_ns(&ts);
}

struct timespec
clock_ns_ts(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / CLOCK_NS_PER_SEC);
	ts.tv_nsec = (long)(ns % CLOCK_NS_PER_SEC);
	return ts;
}

time_t
clock_ns_sec(uint64_t ns)
{
	return (time_t)(ns / CLOCK_NS_PER_SEC);
}

uint64_t
clock_sec_ns(uint64_t sec)
{
	return sec > UINT64_MAX / CLOCK_NS_PER_SEC ? UINT64_MAX :
	    sec * CLOCK_NS_PER_SEC;
}

struct timespec
clock_secs_ts(double s)
{
	struct timespec ts = { 0, 0 };

	if (!(s > 0))
		return ts;
	if (s >= (double)INT32_MAX)
		s = (double)INT32_MAX;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= (long)CLOCK_NS_PER_SEC)
		ts.tv_nsec = (long)CLOCK_NS_PER_SEC - 1;
	return ts;
}
