/* conn_state: the lifecycle of a technician connection (struct px_conn,
 * conn.h) as an explicit state machine.  The state changes only through
 * px__conn_set_state(), which checks the change against a table, logs it
 * (debug level) and refuses any other (error level, naming the connection
 * and both states; the state is unchanged).
 *
 *   KEX      key exchange running (LoginGraceTime timer armed)
 *   AUTH     waiting for a verified public-key signature
 *   PREPARE  authenticated and admitted; recorder link and upstream starting
 *   WAIT_ESCORT  a moderated session (a rule's `escort`): recorded, listed
 *            for escorts as waiting, the upstream not started; the first
 *            escort's join goes back to PREPARE, which starts it
 *   LOCAL    authenticated, no target session (listing, or a refusal message)
 *   RELAY    recorder and upstream ready; channels relay
 *   CLOSING  ending: channels told, waiting for the final record
 *   DEAD     handles closing; freed by the worker's reaper
 *
 *   KEX -> AUTH -> PREPARE -> RELAY
 *                  PREPARE -> WAIT_ESCORT -> PREPARE (once: the upstream
 *                  starts on leaving WAIT_ESCORT, and PREPARE enters
 *                  WAIT_ESCORT only while it has not started)
 *          AUTH -> LOCAL,  PREPARE -> LOCAL
 *   any but DEAD -> CLOSING (not CLOSING itself) and -> DEAD
 * RELAY (the only state whose channels reach the target) is reachable only
 * through PREPARE, which an admitted session with an open recorder link
 * enters. */
#ifndef PX_CONN_STATE_H
#define PX_CONN_STATE_H

struct px_conn;

enum px_conn_state {
	CONN_KEX, CONN_AUTH, CONN_PREPARE, CONN_WAIT_ESCORT, CONN_LOCAL, CONN_RELAY, CONN_CLOSING, CONN_DEAD,
	CONN_NSTATES
};

/* 1 when the table allows from -> to, else 0 (also for out-of-range values). */
int px__conn_state_allowed(enum px_conn_state from, enum px_conn_state to);

/* "kex", "auth", "prepare", "wait-escort", ...; "?" when out of range. */
const char *px__conn_state_name(enum px_conn_state s);

/* Changes c->state when the table allows it, logging the change with why (a
 * static string, may be NULL); otherwise logs an error and leaves it.
 * Returns PX_OK or PX_EINVAL. */
int px__conn_set_state(struct px_conn *c, enum px_conn_state to, const char *why);

#endif
