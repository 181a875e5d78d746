/* timer1: a one-shot deadline whose handle frees itself once closed
 * (timer1.h). */
#include <stdlib.h>

#include <uv.h>

#include "proxy/px_error.h"
#include "proxy/timer1.h"

static void
timer1_closed(uv_handle_t *h)
{
	free(h);
}

int
px__timer1_new(uv_timer_t **tp, uv_loop_t *loop, void *data)
{
	if ((*tp = malloc(sizeof(**tp))) == NULL)
		return PX_ENOMEM;
	uv_timer_init(loop, *tp);
	(*tp)->data = data;
	return PX_OK;
}

int
px__timer1_start(uv_timer_t **tp, uv_loop_t *loop, uv_timer_cb cb, void *data, uint64_t ms)
{
	int rc = px__timer1_new(tp, loop, data);

	if (rc == PX_OK)
		uv_timer_start(*tp, cb, ms, 0);
	return rc;
}

void
px__timer1_stop(uv_timer_t **tp)
{
	uv_timer_t *t = *tp;

	if (t == NULL)
		return;
	t->data = NULL;
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, timer1_closed);
	*tp = NULL;
}
