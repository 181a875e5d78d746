/*
 * recd: escort-recorder's daemon state, shared by its modules
 * (recd_listen: sockets; recd_conn: one peer connection and its protocol
 * state machine; recd_session: one recorded session, its writer, flushes,
 * syncs and acks).  Everything runs on one libuv loop, in one thread.
 *
 * Ownership: struct recd owns the listeners, connections and sessions (in
 * its lists), the signer, the journal and the TLS context.  A connection
 * and a session point at each other while attached; either side detaches
 * before it goes away.  Objects are freed only from libuv close callbacks
 * or the loop's tick, never inside a callback that still uses them.
 */
#ifndef RECORDER_RECD_H
#define RECORDER_RECD_H

#include <stdint.h>
#include <uv.h>

#include "recorder/recd_config.h"

#define RECD_FLUSH_BYTES	(1u << 20)	/* flush at once above this */
#define RECD_FLUSH_MS		50		/* ... or this long after */
#define RECD_SYNC_BYTES		(32u << 20)	/* Fsync interval: sync early */
#define RECD_TICK_MS		25
#define RECD_HELLO_TIMEOUT_MS	5000		/* TLS handshake + HELLO */
#define RECD_FRAME_TIMEOUT_MS	10000		/* a started frame must end */

struct seal_signer;
struct journal;
struct tlsl_ctx;
struct recd_listener;
struct recd_conn;
struct recd_sess;
struct recd_audit;
struct ship;
struct recd_pool;

struct recd {
	uv_loop_t		*loop;
	struct recd_config	 cfg;
	struct seal_signer	*signer;
	struct journal		*journal;
	struct tlsl_ctx		*tls;		/* NULL without tls listeners;
						   live TLS connections hold
						   their own reference */
	struct recd_listener	*listeners;
	struct recd_conn	*conns;
	struct recd_sess	*sessions;
	struct recd_audit	*audit;		/* recd_audit.h; NULL: off */
	struct ship		*ship;		/* ship.h; NULL: no ObjectStore */
	unsigned		 nsessions;
	unsigned long		 conn_seq;	/* names connections */
	uv_timer_t		 tick;
	uint64_t		 last_interval_sync;	/* ms, uv_now */
	int			 stopping;
	struct recd_pool	*pool;		/* recd_worker.h; NULL: Workers 1 */
	unsigned		 worker;	/* index in the pool (workers) */
	int			 is_worker;	/* a worker's, not the main one */
	int			 held_count;	/* adopting a connection the main thread
					   counted as a new session: the session
					   its HELLO creates takes that count
					   over (recd_conn_adopt) */
};

/* Makes sure the tick timer runs (flush deadlines, syncs, timeouts). */
void	recd_kick(struct recd *d);

#endif
