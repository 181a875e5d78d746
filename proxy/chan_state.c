/* chan_state: transition tables and setters of a channel pair's machines
 * (chan_state.h). */
#include <stdint.h>

#include "proxy/chan.h"
#include "proxy/chan_state.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/px_error.h"

#define B(s) (1u << (s))

/* Allowed next states, one bit per state, indexed by the current state. */
static const uint32_t chan_next[CH_NSTATES] = {
	[CH_WAIT]    = B(CH_DECIDED) | B(CH_LOCAL) | B(CH_CLOSING) | B(CH_DONE),
	[CH_DECIDED] = B(CH_OPENING) | B(CH_LOCAL) | B(CH_DONE),
	[CH_OPENING] = B(CH_OPEN) | B(CH_LOCAL) | B(CH_DONE),
	[CH_OPEN]    = B(CH_RELAY) | B(CH_LOCAL) | B(CH_DONE),
	[CH_RELAY]   = B(CH_LOCAL) | B(CH_CLOSING) | B(CH_DONE),
	[CH_LOCAL]   = B(CH_LOCAL) | B(CH_CLOSING) | B(CH_DONE),	/* LOCAL again: a newer message */
	[CH_CLOSING] = B(CH_DONE),
	[CH_DONE]    = 0,
};

/* Halves: what a peer sends (in) and what the proxy sends it (out).  The
 * technician's halves are born OPEN; only the target's leave NONE. */
static const uint32_t in_next[HS_N] = {
	[HS_OPEN] = B(HS_EOF) | B(HS_CLOSED),
	[HS_EOF]  = B(HS_EOF_CLOSED),
};
static const uint32_t t_out_next[HS_N] = {
	[HS_OPEN] = B(HS_EXIT) | B(HS_EOF) | B(HS_CLOSED),
	[HS_EXIT] = B(HS_EOF) | B(HS_CLOSED),
	[HS_EOF]  = B(HS_CLOSED),
};
static const uint32_t u_in_next[HS_N] = {
	[HS_NONE] = B(HS_OPEN),
	[HS_OPEN] = B(HS_EOF) | B(HS_CLOSED),
	[HS_EOF]  = B(HS_EOF_CLOSED),
};
static const uint32_t u_out_next[HS_N] = {
	[HS_NONE] = B(HS_OPEN),
	[HS_OPEN] = B(HS_EOF) | B(HS_CLOSED),
	[HS_EOF]  = B(HS_CLOSED),
};
static const uint32_t *const half_next[HALF_N] = {
	[HALF_T_IN] = in_next, [HALF_T_OUT] = t_out_next,
	[HALF_U_IN] = u_in_next, [HALF_U_OUT] = u_out_next,
};

/* Requests: SENT only after RECORDED, RECORDED only after DECIDED. */
static const uint32_t req_next[RQ_NSTATES] = {
	[RQ_RECEIVED] = B(RQ_DECIDED) | B(RQ_REFUSED),
	[RQ_DECIDED]  = B(RQ_RECORDED),
	[RQ_REFUSED]  = B(RQ_DISCARDED),
	[RQ_RECORDED] = B(RQ_SENT),
	[RQ_SENT]     = B(RQ_REPLIED),
};

int
px__chan_state_allowed(enum px_chan_state from, enum px_chan_state to)
{
	if ((unsigned)from >= CH_NSTATES || (unsigned)to >= CH_NSTATES)
		return 0;
	return (chan_next[from] & B(to)) != 0;
}

int
px__half_allowed(enum px_half h, enum px_half_state from, enum px_half_state to)
{
	if ((unsigned)h >= HALF_N || (unsigned)from >= HS_N || (unsigned)to >= HS_N)
		return 0;
	return (half_next[h][from] & B(to)) != 0;
}

int
px__req_state_allowed(enum px_req_state from, enum px_req_state to)
{
	if ((unsigned)from >= RQ_NSTATES || (unsigned)to >= RQ_NSTATES)
		return 0;
	return (req_next[from] & B(to)) != 0;
}

const char *
px__chan_state_name(enum px_chan_state s)
{
	static const char *const names[CH_NSTATES] = {
		"wait", "decided", "opening", "open", "relay", "local", "closing", "done",
	};
	return (unsigned)s < CH_NSTATES ? names[s] : "?";
}

const char *
px__half_name(enum px_half h)
{
	static const char *const names[HALF_N] = { "t_in", "t_out", "u_in", "u_out" };
	return (unsigned)h < HALF_N ? names[h] : "?";
}

const char *
px__half_state_name(enum px_half_state s)
{
	static const char *const names[HS_N] = { "none", "open", "exit", "eof", "closed", "eof_closed" };
	return (unsigned)s < HS_N ? names[s] : "?";
}

const char *
px__req_state_name(enum px_req_state s)
{
	static const char *const names[RQ_NSTATES] = {
		"received", "decided", "refused", "recorded", "discarded", "sent", "replied",
	};
	return (unsigned)s < RQ_NSTATES ? names[s] : "?";
}

/* Logs a transition of machine `what` of channel ch: debug when done, error
 * when refused.  Returns PX_OK or PX_EINVAL. */
static int
transition_log(const struct px_chan *ch, const char *what, const char *from, const char *to,
    int allowed, const char *why)
{
	const char *id = ch->c != NULL ? px__conn_id(ch->c) : NULL;

	if (!allowed) {
		px_log(PX_LOG_ERR, id, "channel %u: %s %s -> %s refused (not a transition)%s%s",
		    ch->id, what, from, to, why ? ": " : "", why ? why : "");
		return PX_EINVAL;
	}
	px_log(PX_LOG_DEBUG, id, "channel %u: %s %s -> %s%s%s", ch->id, what, from, to,
	    why ? ": " : "", why ? why : "");
	return PX_OK;
}

int
px__chan_set_state(struct px_chan *ch, enum px_chan_state to, const char *why)
{
	int rc = transition_log(ch, "state", px__chan_state_name(ch->st), px__chan_state_name(to),
	    px__chan_state_allowed(ch->st, to), why);

	if (rc == PX_OK)
		ch->st = to;
	return rc;
}

int
px__chan_set_half(struct px_chan *ch, enum px_half h, enum px_half_state to, const char *why)
{
	enum px_half_state from = (unsigned)h < HALF_N ? ch->half[h] : HS_NONE;
	int rc = transition_log(ch, px__half_name(h), px__half_state_name(from), px__half_state_name(to),
	    px__half_allowed(h, from, to), why);

	if (rc == PX_OK)
		ch->half[h] = to;
	return rc;
}

int
px__req_set_state(struct px_chan *ch, struct px_req *r, enum px_req_state to, const char *why)
{
	static const char *const kinds[] = {
		"pty request", "env request", "shell request", "exec request", "subsystem request",
		"resize request", "signal request",
	};
	const char *what = (unsigned)r->kind < sizeof(kinds) / sizeof(kinds[0]) ? kinds[r->kind] : "request";
	int rc = transition_log(ch, what, px__req_state_name(r->st), px__req_state_name(to),
	    px__req_state_allowed(r->st, to), why);

	if (rc == PX_OK)
		r->st = to;
	return rc;
}
