/* Unit tests for common/clock: the clocks move the right way and the
 * conversions round-trip, clamp and saturate as clock.h says. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "common/clock.h"

static void
test_clocks(void **state)
{
	uint64_t m1, m2, w;
	time_t now = time(NULL);

	(void)state;
	m1 = clock_mono_ns();
	m2 = clock_mono_ns();
	assert_true(m2 >= m1);
	w = clock_wall_ns();
	/* the wall clock agrees with time() to a second or two */
	assert_true(clock_ns_sec(w) >= now - 1 && clock_ns_sec(w) <= now + 2);
}

static void
test_conversions(void **state)
{
	struct timespec ts = { 12, 345678901 }, back;

	(void)state;
	assert_int_equal(clock_ts_ns(&ts), 12345678901ull);
	back = clock_ns_ts(12345678901ull);
	assert_int_equal(back.tv_sec, 12);
	assert_int_equal(back.tv_nsec, 345678901);
	ts.tv_sec = -5;
	assert_int_equal(clock_ts_ns(&ts), 0);
	assert_int_equal(clock_sec_ns(3), 3000000000ull);
	assert_true(clock_sec_ns(UINT64_MAX / 1000) == UINT64_MAX);
	assert_int_equal(clock_ns_sec(1999999999ull), 1);
	back = clock_secs_ts(1.25);
	assert_int_equal(back.tv_sec, 1);
	assert_int_equal(back.tv_nsec, 250000000);
	back = clock_secs_ts(-1.0);
	assert_int_equal(back.tv_sec, 0);
	assert_int_equal(back.tv_nsec, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_conversions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
