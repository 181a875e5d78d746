/* Unit tests for proxy/recpick (the order new sessions try the recorders
 * in) and the per-recorder StateDir names of proxy/receipts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proxy/config.h"
#include "proxy/px_error.h"
#include "proxy/receipts.h"
#include "proxy/recpick.h"

static void
order_is(struct px_recpick *t, uint64_t now, const int *want, int n)
{
	int got[PX_MAX_RECORDERS];

	assert_int_equal(px__recpick_order(t, now, got), n);
	assert_memory_equal(got, want, (size_t)n * sizeof(int));
}

/* Up ones in configuration order, then down ones; a mark lasts
 * PX_RECPICK_DOWN_MS; up again at once after an open. */
static void
test_order(void **state)
{
	struct px_recpick *t;

	(void)state;
	assert_int_equal(px__recpick_new(0, &t), PX_EINVAL);
	assert_int_equal(px__recpick_new(PX_MAX_RECORDERS + 1, &t), PX_EINVAL);
	assert_int_equal(px__recpick_new(3, &t), PX_OK);
	order_is(t, 1000, (int[]){ 0, 1, 2 }, 3);
	px__recpick_down(t, 0, 1000);
	order_is(t, 1000, (int[]){ 1, 2, 0 }, 3);
	px__recpick_down(t, 1, 2000);
	order_is(t, 2000, (int[]){ 2, 0, 1 }, 3);
	order_is(t, 1000 + PX_RECPICK_DOWN_MS, (int[]){ 0, 2, 1 }, 3);
	px__recpick_up(t, 1);
	order_is(t, 2000, (int[]){ 1, 2, 0 }, 3);
	px__recpick_down(t, 1, 2000);
	px__recpick_down(t, 2, 2000);
	order_is(t, 2000, (int[]){ 0, 1, 2 }, 3);
	px__recpick_down(t, 0, 2000);
	order_is(t, 2000, (int[]){ 0, 1, 2 }, 3);	/* all down: still all tried */
	px__recpick_down(t, 7, 2000);			/* out of range: ignored */
	px__recpick_free(t);
	px__recpick_free(NULL);
}

static void
test_receipts_dir(void **state)
{
	char d[64];

	(void)state;
	assert_int_equal(px__receipts_dir("/s", NULL, d, sizeof(d)), PX_OK);
	assert_string_equal(d, "/s");
	assert_int_equal(px__receipts_dir("/s", "unix:/run/escort/r1.sock", d, sizeof(d)), PX_OK);
	assert_string_equal(d, "/s/recorders/unix:%2Frun%2Fescort%2Fr1.sock");
	assert_int_equal(px__receipts_dir("/s", "tls://[::1]:7447", d, sizeof(d)), PX_OK);
	assert_string_equal(d, "/s/recorders/tls:%2F%2F%5B::1%5D:7447");
	assert_int_equal(px__receipts_dir("/s", "unix:/a%b c", d, sizeof(d)), PX_OK);
	assert_string_equal(d, "/s/recorders/unix:%2Fa%25b%20c");
	assert_int_equal(px__receipts_dir("/s", "unix:/a-very-long-path-that-does-not-fit-here.sock", d, 40),
	    PX_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_receipts_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
