/* chan_fwd: a technician's local port forwarding (`ssh -L`), relayed
 * through the target when the session's `forward` setting is `local`.
 *
 * The technician's direct-tcpip channel open is accepted at once (libssh
 * answers it synchronously) and becomes a px_chan of kind KIND_FORWARD: the
 * decision is recorded (DECISION), a direct-tcpip channel is opened on the
 * upstream session to the same host and port, its open is recorded
 * (CHANNEL "open", channel_type "direct-tcpip", target_addr HOST:PORT,
 * client_addr ORIGINATOR:PORT), and from then on the bytes move through the
 * session channel's relay (chan.c): recorded first as INPUT (technician to
 * target) and OUTPUT, with the same flow control.  A forward has no
 * requests, no exit status and no words of the proxy: on any failure the
 * technician's channel is only closed.
 *
 * With any other setting (`forward none`, the default) the open is refused
 * by conn.c's message callback as before, and recorded as refused. */
#ifndef PX_CHAN_FWD_H
#define PX_CHAN_FWD_H

#include <libssh/libssh.h>

struct px_conn;
struct px_chan;

/* Whether the connection may open local forwards now: it relays, and its
 * admitted session's combined setting is `forward local`. */
int px__chan_fwd_allowed(const struct px_conn *c);

/* Accepts the direct-tcpip open m (the caller checked px__chan_fwd_allowed)
 * and returns its new channel pair (KIND_FORWARD, CH_WAIT), for the caller
 * to add to the connection's list.  NULL when the open could not be
 * accepted or memory ran out (m is then still to be answered). */
struct px_chan *px__chan_fwd_accept(struct px_conn *c, ssh_message m);

/* Records the decision allowing the forward of ch (DECISION: verdict allow,
 * command "direct-tcpip HOST:PORT", the admitting rules and the reason).
 * Returns PX_OK, PX_EFULL (nothing recorded: try again), or another error
 * after which the session is ending. */
int px__chan_fwd_decide(struct px_chan *ch);

/* Opens (or goes on opening) the direct-tcpip channel on the target:
 * libssh's SSH_OK, SSH_AGAIN or SSH_ERROR. */
int px__chan_fwd_open(struct px_chan *ch);

/* Records the CHANNEL open of the forward (once the target accepted it).
 * Returns PX_OK or an error after which the session is ending. */
int px__chan_fwd_record_open(struct px_chan *ch);

#endif
