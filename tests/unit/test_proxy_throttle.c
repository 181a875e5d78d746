/* Unit tests for proxy/throttle: MaxStartups start:rate:full and the
 * per-source penalty after repeated failures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "proxy/px_error.h"
#include "proxy/throttle.h"

static struct px_throttle t;

static int
setup(void **state)
{
	(void)state;
	px_throttle_init(&t);
	return 0;
}

/* Below START everyone is admitted; at FULL nobody is. */
static void
test_start_and_full(void **state)
{
	(void)state;
	px__throttle_set(&t, 2, 100, 3, 1000, 30);
	assert_int_equal(px__throttle_admit(&t, "10.0.0.1"), PX_OK);
	assert_int_equal(px__throttle_admit(&t, "10.0.0.2"), PX_OK);
	/* rate 100% from START on */
	assert_int_equal(px__throttle_admit(&t, "10.0.0.3"), PX_EFULL);
	assert_int_equal(t.unauth, 2);
	assert_int_equal(t.dropped, 1);
	/* one authenticates: room again */
	px__throttle_done(&t, "10.0.0.1", 1);
	assert_int_equal(px__throttle_admit(&t, "10.0.0.3"), PX_OK);
	assert_int_equal(t.unauth, 2);

	px__throttle_set(&t, 1, 1, 2, 1000, 30);
	for (int i = 0; i < 100; i++)
		assert_int_equal(px__throttle_admit(&t, "10.0.0.4"), PX_EFULL);
}

/* Between START and FULL a fraction is dropped: RATE% at START. */
static void
test_random_early_drop(void **state)
{
	int dropped = 0;

	(void)state;
	px__throttle_set(&t, 1, 50, 100000, 1000000, 30);
	assert_int_equal(px__throttle_admit(&t, "10.0.1.1"), PX_OK);
	for (int i = 0; i < 2000; i++) {
		if (px__throttle_admit(&t, "10.0.1.2") == PX_OK)
			px__throttle_done(&t, "10.0.1.2", 1);
		else
			dropped++;
	}
	assert_true(dropped > 800 && dropped < 1200);
}

/* PerSourceMaxFailures failures penalise that source only. */
static void
test_source_penalty(void **state)
{
	(void)state;
	px__throttle_set(&t, 100, 30, 200, 3, 30);
	px__throttle_fail(&t, "192.0.2.7");
	px__throttle_fail(&t, "192.0.2.7");
	assert_int_equal(px__throttle_admit(&t, "192.0.2.7"), PX_OK);
	/* a connection that ends without authenticating is a failure too */
	px__throttle_done(&t, "192.0.2.7", 0);
	assert_int_equal(px__throttle_admit(&t, "192.0.2.7"), PX_EPOLICY);
	assert_int_equal(t.penalised, 1);
	assert_int_equal(px__throttle_admit(&t, "192.0.2.8"), PX_OK);
	px__throttle_done(&t, "192.0.2.8", 1);
	/* a flood of new sources does not wash the penalty out */
	for (int i = 0; i < 3 * PX_THROTTLE_SLOTS; i++) {
		char a[48];
		snprintf(a, sizeof(a), "198.51.%d.%d", i / 256, i % 256);
		px__throttle_fail(&t, a);
	}
	assert_int_equal(px__throttle_admit(&t, "192.0.2.7"), PX_EPOLICY);
	assert_int_equal(t.unauth, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_and_full, setup),
		cmocka_unit_test_setup(test_random_early_drop, setup),
		cmocka_unit_test_setup(test_source_penalty, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
