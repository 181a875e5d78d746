/* ppwait: a connection from a load balancer (ProxyProtocol in
 * escort-proxy.conf(5)) waiting for its PROXY protocol v2 header, read on
 * the worker's loop before any SSH byte is sent or read.
 *
 * px__ppwait_start() owns fd from the call on.  The header is read in
 * non-blocking steps, never past its own end (the client's SSH banner stays
 * in the socket), within PX_PPWAIT_MS and PXPP_MAX_LEN bytes.  Whole and
 * well formed, the connection goes to px__conn_accept() with the client's
 * address from the header (LOCAL, UNSPEC: the load balancer's own); else
 * fd is closed and a line naming the load balancer's address is logged
 * (at debug level only when it closed or was reset before a byte was read:
 * a health check).
 * A worker holds at most MaxStartups FULL such connections; more are
 * closed at once.  Worker-loop thread only. */
#ifndef PX_PPWAIT_H
#define PX_PPWAIT_H

#include <sys/socket.h>

#define PX_PPWAIT_MS 5000

struct px_worker;
struct px_ppwait;

/* Takes fd, accepted from the load balancer at sa, and waits for its
 * header.  Never fails to the caller: problems are logged, fd closed. */
void px__ppwait_start(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t sl);

/* Closes every connection of w still waiting for its header (shutdown). */
void px__ppwait_stop_all(struct px_worker *w);

/* Returns 1 when the first bytes waiting on fd (peeked, not read) begin a
 * PROXY protocol header, 0 when they do not, -1 when none have arrived
 * yet.  For connections from addresses not listed in ProxyProtocol. */
int px__ppwait_forged(int fd);

#endif
