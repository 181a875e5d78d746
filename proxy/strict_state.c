/* strict_state: transition table and setter of a strict shell (strict_state.h). */
#include <stdint.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/strict_state.h"

#define B(s) (1u << (s))

static const uint32_t strict_next[STRICT_NSTATES] = {
	[STRICT_BOOT]      = B(STRICT_NONCE) | B(STRICT_ENDED),
	[STRICT_NONCE]     = B(STRICT_PROMPT) | B(STRICT_ENDED),
	[STRICT_PROMPT]    = B(STRICT_DECIDING) | B(STRICT_ENDED),
	[STRICT_DECIDING]  = B(STRICT_RECORDING) | B(STRICT_PROMPT) | B(STRICT_APPROVING) | B(STRICT_ENDED),
	[STRICT_RECORDING] = B(STRICT_RUNNING) | B(STRICT_PROMPT) | B(STRICT_ENDED),
	[STRICT_RUNNING]   = B(STRICT_RUNNING) | B(STRICT_PROMPT) | B(STRICT_ENDED),
	[STRICT_ENDED]     = 0,
	[STRICT_APPROVING] = B(STRICT_RECORDING) | B(STRICT_ENDED),
};

int
px__strict_state_allowed(enum strict_state from, enum strict_state to)
{
	if ((unsigned)from >= STRICT_NSTATES || (unsigned)to >= STRICT_NSTATES)
		return 0;
	return (strict_next[from] & B(to)) != 0;
}

const char *
px__strict_state_name(enum strict_state s)
{
	static const char *const names[STRICT_NSTATES] = {
		"boot", "nonce", "prompt", "deciding", "recording", "running", "ended", "approving",
	};
	return (unsigned)s < STRICT_NSTATES ? names[s] : "?";
}

int
px__strict_set_state(enum strict_state *st, enum strict_state to, const char *conn_id, uint32_t chan,
    const char *why)
{
	if (!px__strict_state_allowed(*st, to)) {
		px_log(PX_LOG_ERR, conn_id, "channel %u: strict %s -> %s refused (not a transition)%s%s",
		    chan, px__strict_state_name(*st), px__strict_state_name(to), why ? ": " : "", why ? why : "");
		return PX_EINVAL;
	}
	px_log(PX_LOG_DEBUG, conn_id, "channel %u: strict %s -> %s%s%s", chan, px__strict_state_name(*st),
	    px__strict_state_name(to), why ? ": " : "", why ? why : "");
	*st = to;
	return PX_OK;
}
