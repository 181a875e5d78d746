/* recd: the daemon-wide tick (flush deadlines, syncs, timeouts). */
#include <uv.h>

#include "recorder/recd.h"
#include "recorder/recd_conn.h"
#include "recorder/recd_session.h"

static void
on_tick(uv_timer_t *t)
{
	struct recd *d = t->data;
	uint64_t now = uv_now(d->loop);
	int busy;

	busy = recd_sess_tick(d, now);
	busy |= recd_conn_tick(d, now);
	if (!busy)
		uv_timer_stop(t);
}

void
recd_kick(struct recd *d)
{
	if (!d->stopping && !uv_is_active((uv_handle_t *)&d->tick))
		uv_timer_start(&d->tick, on_tick, RECD_TICK_MS, RECD_TICK_MS);
}
