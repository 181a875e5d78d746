/*
 * recd_conn: one connection to escort-recorder (unix socket or TLS) and the
 * protocol state machine of wire.h:
 *
 *	HELLO	 waiting for HELLO (and the TLS handshake) for
 *		 RECD_HELLO_TIMEOUT_MS; new session -> ACCEPT(id, 1),
 *		 resume -> ACCEPT(id, durable seq); else REJECT
 *	OPEN	 DATA, CLOSE, PING, PONG; ACKs go out as the session makes
 *		 data durable
 *	CLOSING	 CLOSE received, waiting for the session to send CLOSED
 *	FINISHED resume of a session that is already closed (the sender
 *		 missed CLOSED): ACCEPT(id, last seq), then CLOSE gets the
 *		 stored final record again as CLOSED; DATA with records is
 *		 refused
 *	DRAIN	 the last frame (REJECT, ABORT, CLOSED) is being written;
 *		 then the connection is closed
 *
 * Any malformed frame, unknown version, oversized frame, invalid record or
 * message not valid in the current state gets REJECT with the reason, and
 * the connection is closed; other connections are not affected.  A frame
 * must complete within RECD_FRAME_TIMEOUT_MS.  Failures on the recorder's
 * side (store, shutdown, session resumed elsewhere) end an accepted session
 * with ABORT.
 */
#ifndef RECORDER_RECD_CONN_H
#define RECORDER_RECD_CONN_H

#include <stdint.h>
#include <uv.h>

#include "recorder/recd.h"

struct tlsl_ctx;

/* Accepts a pending connection on server (a uv_pipe_t or uv_tcp_t; tls
 * non-NULL for TLS listeners).  Logs and drops it on failure. */
void	recd_conn_accept(struct recd *d, uv_stream_t *server, int is_tcp,
	    struct tlsl_ctx *tls);

/* A worker takes a connection the main loop handed over with its HELLO
 * unread (recd_worker.h), and handles that HELLO.  mv is freed. */
struct recd_conn_move;
void	recd_conn_adopt(struct recd *d, struct recd_conn_move *mv);

/* Sends ACK(seq, head). */
void	recd_conn_send_ack(struct recd_conn *c, uint64_t seq,
	    const uint8_t *head);

/* Sends CLOSED with the receipt fields and closes the connection. */
void	recd_conn_send_closed(struct recd_conn *c, const char *id,
	    uint64_t seq, const uint8_t *head, const uint8_t *seal,
	    size_t seal_len);

/* The recorder ends the connection: sends ABORT(reason) (REJECT before
 * ACCEPT), logs it, closes once written. */
void	recd_conn_fail(struct recd_conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The peer broke the protocol: sends REJECT(reason), logs it, closes. */
void	recd_conn_reject(struct recd_conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Forgets the session without messages (the session is going away). */
void	recd_conn_unlink(struct recd_conn *c);

/* Name for logs: "unix#3", "tls#4 127.0.0.1:4711 CN=proxy1". */
const char *recd_conn_name(const struct recd_conn *c);

/* Timeouts; called from the tick.  Returns 1 while some connection needs
 * ticks. */
int	recd_conn_tick(struct recd *d, uint64_t now_ms);

/* Closes every connection (shutdown). */
void	recd_conn_close_all(struct recd *d);

#endif
