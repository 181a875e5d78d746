/* keepalive: liveness of both sides of a relayed connection.
 *
 * While the connection relays, a timer ticks at the shorter of
 * ClientAliveInterval and TargetAliveInterval (each re-read from the current
 * configuration at every tick, so a reload applies).  A side that sent no
 * packet for its interval gets a keepalive@openssh.com request with
 * want-reply; any packet from it (libssh's packet counter) resets the count.
 * After ClientAliveCountMax unanswered probes the technician is given up on
 * (px_conn_abandon: the recording is still closed); after
 * TargetAliveCountMax the target is, and the technician is told
 * (px_conn_end).  The timer is conn->ka_timer, closed with the connection. */
#ifndef PX_KEEPALIVE_H
#define PX_KEEPALIVE_H

struct px_conn;

/* Starts the timer when either interval is set (call on entering RELAY). */
void px_keepalive_start(struct px_conn *c);

#endif
