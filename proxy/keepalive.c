/* keepalive: ClientAliveInterval / TargetAliveInterval for one connection. */
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "proxy/config.h"
#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/keepalive.h"
#include "proxy/log.h"
#include "proxy/sshpoll.h"
#include "proxy/worker.h"

/* Sends a keepalive to a side that has sent no packet for its interval;
 * returns 1 when it has missed count_max of them already.  Any packet
 * counts as a sign of life (libssh counts them in cnt, whoever reads). */
static int
probe(ssh_session s, struct px_sshpoll *p, const struct ssh_counter_struct *cnt, uint64_t now, uint64_t *rx,
    uint64_t *seen, int interval, int count_max, int *missed)
{
	if (interval <= 0 || s == NULL)
		return 0;
	if (cnt->in_packets != *seen) {
		*seen = cnt->in_packets;
		*rx = now;
		*missed = 0;
	}
	if (now - *rx < (uint64_t)interval * 1000)
		return 0;
	if (*missed >= count_max)
		return 1;
	/* keepalive@openssh.com with want-reply (OpenSSH answers
	 * REQUEST_FAILURE).  libssh keeps one such request at a time: the
	 * first call retires an answered one, the second sends; while one is
	 * unanswered both only poll. */
	(void)ssh_send_keepalive(s);
	(void)ssh_send_keepalive(s);
	(*missed)++;
	px__sshpoll_update(p);
	return 0;
}

static void
keepalive_tick(uv_timer_t *t)
{
	struct px_conn *c = t->data;
	const struct px_config *cfg = px__daemon_config(c->w->d);
	uint64_t now = uv_now(&c->w->loop);

	if (c->state != CONN_RELAY)
		return;
	if (probe(c->tech, &c->tech_poll, &c->ka.tech.cnt, now, &c->ka.tech.rx, &c->ka.tech.seen, cfg->keepalive_interval,
	    cfg->keepalive_count_max, &c->ka.tech.missed)) {
		px_log(PX_LOG_INFO, c->id, "client %s not responding to %d keepalives; session ended", c->peer,
		    cfg->keepalive_count_max);
		(void)px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, "client not responding to keepalives; session ended", 0);
		px__conn_set_end(c, EV_END_CLIENT_LOST, "the technician's client stopped answering keepalives");
		px__conn_abandon(c, 0);
		return;
	}
	if (c->up.st == UP_READY && probe(c->up.s, &c->up.poll, &c->ka.up.cnt, now, &c->ka.up.rx, &c->ka.up.seen,
	    cfg->target_alive_interval, cfg->target_alive_count_max, &c->ka.up.missed)) {
		px_log(PX_LOG_INFO, c->id, "target %s not responding to %d keepalives; session ended", c->target,
		    cfg->target_alive_count_max);
		(void)px__conn_record_fields(c, EV_MARKER, 0, EVF_TEXT, "target not responding to keepalives; session ended", 0);
		px__conn_set_end(c, EV_END_TARGET_LOST, "the target stopped answering keepalives");
		c->up.st = UP_CLOSED;
		px__sshpoll_want(&c->up.poll, 0);
		px__conn_end(c, "\r\nescort: the target stopped responding; session ended\r\n");
	}
}

void
px__keepalive_start(struct px_conn *c)
{
	const struct px_config *cfg = px__daemon_config(c->w->d);
	int a = cfg->keepalive_interval, b = cfg->target_alive_interval;
	int period = a > 0 && b > 0 ? (a < b ? a : b) : (a > 0 ? a : b);

	c->ka.tech.rx = c->ka.up.rx = uv_now(&c->w->loop);
	c->ka.tech.seen = c->ka.tech.cnt.in_packets;
	c->ka.up.seen = c->ka.up.cnt.in_packets;
	if (period > 0)
		uv_timer_start(&c->ka.timer, keepalive_tick, (uint64_t)period * 1000, (uint64_t)period * 1000);
}

void
px__keepalive_init(struct px_keepalive *ka, uv_loop_t *loop, struct px_conn *c)
{
	uv_timer_init(loop, &ka->timer);
	ka->timer.data = c;
}

void
px__keepalive_close(struct px_keepalive *ka, uv_close_cb cb)
{
	uv_timer_stop(&ka->timer);
	uv_close((uv_handle_t *)&ka->timer, cb);
}
