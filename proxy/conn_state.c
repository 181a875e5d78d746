/* conn_state: transition table and setter of a connection's lifecycle
 * (conn_state.h). */
#include <stdint.h>

#include "proxy/conn_int.h"
#include "proxy/conn_state.h"
#include "proxy/log.h"
#include "proxy/px_error.h"

#define B(s) (1u << (s))
#define ENDING (B(CONN_CLOSING) | B(CONN_DEAD))

static const uint32_t conn_next[CONN_NSTATES] = {
	[CONN_KEX]     = B(CONN_AUTH) | ENDING,
	[CONN_AUTH]    = B(CONN_PREPARE) | B(CONN_LOCAL) | ENDING,
	[CONN_PREPARE] = B(CONN_WAIT_ESCORT) | B(CONN_RELAY) | B(CONN_LOCAL) | ENDING,
	[CONN_WAIT_ESCORT] = B(CONN_PREPARE) | ENDING,
	[CONN_LOCAL]   = ENDING,
	[CONN_RELAY]   = ENDING,
	[CONN_CLOSING] = B(CONN_DEAD),
	[CONN_DEAD]    = 0,
};

int
px__conn_state_allowed(enum px_conn_state from, enum px_conn_state to)
{
	if ((unsigned)from >= CONN_NSTATES || (unsigned)to >= CONN_NSTATES)
		return 0;
	return (conn_next[from] & B(to)) != 0;
}

const char *
px__conn_state_name(enum px_conn_state s)
{
	static const char *const names[CONN_NSTATES] = {
		"kex", "auth", "prepare", "wait-escort", "local", "relay", "closing", "dead",
	};
	return (unsigned)s < CONN_NSTATES ? names[s] : "?";
}

int
px__conn_set_state(struct px_conn *c, enum px_conn_state to, const char *why)
{
	const char *from = px__conn_state_name(c->state);

	if (!px__conn_state_allowed(c->state, to)) {
		px_log(PX_LOG_ERR, c->id, "connection: state %s -> %s refused (not a transition)%s%s",
		    from, px__conn_state_name(to), why ? ": " : "", why ? why : "");
		return PX_EINVAL;
	}
	px_log(PX_LOG_DEBUG, c->id, "connection: state %s -> %s%s%s", from, px__conn_state_name(to),
	    why ? ": " : "", why ? why : "");
	c->state = to;
	px__conn_escort_track(c, to);
	return PX_OK;
}
