/* keepalive: liveness of both sides of a relayed connection.
 *
 * While the connection relays, a timer ticks at the shorter of
 * ClientAliveInterval and TargetAliveInterval (each re-read from the current
 * configuration at every tick, so a reload applies).  A side that sent no
 * packet for its interval gets a keepalive@openssh.com request with
 * want-reply; any packet from it (libssh's packet counter) resets the count.
 * After ClientAliveCountMax unanswered probes the technician is given up on
 * (px__conn_abandon: the recording is still closed); after
 * TargetAliveCountMax the target is, and the technician is told
 * (px__conn_end).  The state is conn->ka; its timer is closed with the
 * connection (px__keepalive_close). */
#ifndef PX_KEEPALIVE_H
#define PX_KEEPALIVE_H

#include <libssh/callbacks.h>
#include <stdint.h>
#include <uv.h>

struct px_conn;

/* One side's liveness. */
struct px_ka_side {
	struct ssh_counter_struct cnt;  /* packets in/out, kept by libssh (ssh_set_counters) */
	uint64_t rx;                    /* loop time a packet was last seen */
	uint64_t seen;                  /* cnt.in_packets at that time */
	int missed;                     /* keepalives sent since then */
};

struct px_keepalive {
	uv_timer_t timer;               /* data: the connection */
	struct px_ka_side tech, up;
};

/* Initialises the timer on loop (data: c).  Cannot fail. */
void px__keepalive_init(struct px_keepalive *ka, uv_loop_t *loop, struct px_conn *c);

/* Starts the timer when either interval is set (call on entering RELAY). */
void px__keepalive_start(struct px_conn *c);

/* Stops and closes the timer; cb runs once it is closed. */
void px__keepalive_close(struct px_keepalive *ka, uv_close_cb cb);

#endif
