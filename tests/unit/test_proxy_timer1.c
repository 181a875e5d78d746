/* Unit tests for proxy/timer1 on a real libuv loop: a started deadline
 * fires once with its data; one stopped before it fires never calls back
 * and leaves nothing on the loop; stopping inside the callback is allowed;
 * stop is NULL-safe.  Under ASan (make SAN=1) a handle not freed by its
 * close callback is a leak and fails the run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <uv.h>

#include "proxy/px_error.h"
#include "proxy/timer1.h"

struct owner {
	uv_timer_t *t;
	int fired;
	int stop_in_cb;
};

static void
on_deadline(uv_timer_t *t)
{
	struct owner *o = t->data;

	if (o == NULL)
		return;
	o->fired++;
	if (o->stop_in_cb)
		px__timer1_stop(&o->t);
}

/* Runs the loop until nothing is left on it (bounded: a one-shot timer of
 * a few ms and one close). */
static void
run_and_close(uv_loop_t *loop)
{
	for (int i = 0; i < 100 && uv_run(loop, UV_RUN_NOWAIT) != 0; i++)
		uv_sleep(1);
	assert_int_equal(uv_loop_alive(loop), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void
test_fires_once(void **state)
{
	uv_loop_t loop;
	struct owner o = { 0 };

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(px__timer1_start(&o.t, &loop, on_deadline, &o, 2), PX_OK);
	assert_non_null(o.t);
	assert_int_equal(uv_run(&loop, UV_RUN_ONCE), 0);	/* fired; inactive after */
	assert_int_equal(o.fired, 1);
	px__timer1_stop(&o.t);
	assert_null(o.t);
	run_and_close(&loop);
	assert_int_equal(o.fired, 1);
}

static void
test_stopped_never_fires(void **state)
{
	uv_loop_t loop;
	struct owner o = { 0 };

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(px__timer1_start(&o.t, &loop, on_deadline, &o, 1), PX_OK);
	uv_sleep(5);
	px__timer1_stop(&o.t);
	assert_null(o.t);
	run_and_close(&loop);
	assert_int_equal(o.fired, 0);
}

static void
test_new_is_not_started_and_stop_in_callback(void **state)
{
	uv_loop_t loop;
	struct owner o = { .stop_in_cb = 1 };

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(px__timer1_new(&o.t, &loop, &o), PX_OK);
	assert_int_equal(uv_is_active((uv_handle_t *)o.t), 0);
	assert_ptr_equal(o.t->data, &o);
	uv_timer_start(o.t, on_deadline, 1, 0);
	run_and_close(&loop);
	assert_int_equal(o.fired, 1);
	assert_null(o.t);
	px__timer1_stop(&o.t);		/* NULL: nothing */
	assert_null(o.t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_once),
		cmocka_unit_test(test_stopped_never_fires),
		cmocka_unit_test(test_new_is_not_started_and_stop_in_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
