/* chan_state: the lifecycle of a channel pair as explicit state machines,
 * in the manner of OpenSSH's nchan.c.  Every change of state goes through one
 * setter per machine, which checks the change against a table of allowed
 * transitions, logs it (debug level) and refuses any other (error level,
 * naming the channel, the machine and both states; the state is unchanged).
 *
 * Three machines per channel pair (struct px_chan, chan.h):
 *
 * The channel (px__chan_set_state):
 *   WAIT      waiting for the conn to relay and for the main request
 *   DECIDED   the policy allowed the main request and the decision is in
 *             the recording; nothing was sent to the target yet
 *   OPENING   channel open sent to the target
 *   OPEN      target channel open; the queued requests replay
 *   RELAY     the target accepted the main request: data flows
 *   LOCAL     answered by the proxy itself: message, exit status, close
 *   CLOSING   CLOSE sent to the technician; waiting for theirs
 *   DONE      both sides closed; freed by px__chan_step's caller
 * OPENING is reachable only through DECIDED: no channel is opened on the
 * target before the decision on its main request is recorded.
 *
 * Four halves (px__chan_set_half): what the technician sends (T_IN), what the
 * proxy sends the technician (T_OUT), what the target sends (U_IN), what the
 * proxy sends the target (U_OUT).  The technician's halves start OPEN, the
 * target's NONE (no channel) until the channel is allocated.
 *   in:  NONE -> OPEN -> EOF -> EOF_CLOSED     (CLOSE after EOF)
 *                OPEN -> CLOSED               (CLOSE without EOF)
 *   out: NONE -> OPEN [-> EXIT] -> EOF -> CLOSED, and OPEN|EXIT -> CLOSED
 *        (EXIT: exit-status or exit-signal sent; T_OUT only, always before
 *        EOF; CLOSED: CLOSE sent, which implies EOF)
 *
 * Each queued request (px__req_set_state):
 *   RECEIVED -> DECIDED -> RECORDED -> SENT -> REPLIED
 *   RECEIVED -> REFUSED -> DISCARDED   (recorded as refused, never sent)
 *   DECIDED: allowed (the main request: its DECISION event recorded; env:
 *   allowed by the admitted session; pty, resize, signal: need no decision).
 *   RECORDED: the request's own event taken by the recorder (acknowledged
 *   or spooled).  SENT is reachable only from RECORDED: nothing reaches the
 *   target before it is in the recording.
 *
 * The *_allowed and *_name functions are pure (no I/O, unit-tested); the
 * setters log with px_log under the channel's conn id. */
#ifndef PX_CHAN_STATE_H
#define PX_CHAN_STATE_H

struct px_chan;
struct px_req;

enum px_chan_state {
	CH_WAIT, CH_DECIDED, CH_OPENING, CH_OPEN, CH_RELAY, CH_LOCAL, CH_CLOSING, CH_DONE,
	CH_NSTATES
};

enum px_half { HALF_T_IN, HALF_T_OUT, HALF_U_IN, HALF_U_OUT, HALF_N };

enum px_half_state { HS_NONE, HS_OPEN, HS_EXIT, HS_EOF, HS_CLOSED, HS_EOF_CLOSED, HS_N };

enum px_req_state {
	RQ_RECEIVED, RQ_DECIDED, RQ_REFUSED, RQ_RECORDED, RQ_DISCARDED, RQ_SENT, RQ_REPLIED,
	RQ_NSTATES
};

/* 1 when the table allows from -> to, else 0 (also for out-of-range values). */
int px__chan_state_allowed(enum px_chan_state from, enum px_chan_state to);
int px__half_allowed(enum px_half h, enum px_half_state from, enum px_half_state to);
int px__req_state_allowed(enum px_req_state from, enum px_req_state to);

/* Names for logs ("wait", "t_in", "eof", "recorded"...); static strings,
 * "?" when out of range. */
const char *px__chan_state_name(enum px_chan_state s);
const char *px__half_name(enum px_half h);
const char *px__half_state_name(enum px_half_state s);
const char *px__req_state_name(enum px_req_state s);

/* The setters: change the state when the table allows it and log it at
 * debug level with why (a static string, may be NULL); otherwise log an
 * error naming the channel and both states and leave the state as it was.
 * Return PX_OK, or PX_EINVAL for a refused transition. */
int px__chan_set_state(struct px_chan *ch, enum px_chan_state to, const char *why);
int px__chan_set_half(struct px_chan *ch, enum px_half h, enum px_half_state to, const char *why);
int px__req_set_state(struct px_chan *ch, struct px_req *r, enum px_req_state to, const char *why);

/* Questions on a half's state. */
static inline int
px_half_got_eof(enum px_half_state s)
{
	return s == HS_EOF || s == HS_EOF_CLOSED;
}

static inline int
px_half_closed(enum px_half_state s)
{
	return s == HS_CLOSED || s == HS_EOF_CLOSED;
}

/* An out half that may carry no more data (EOF or CLOSE sent). */
static inline int
px_half_ended(enum px_half_state s)
{
	return s == HS_EOF || s == HS_CLOSED;
}

#endif
