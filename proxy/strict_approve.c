/* strict_approve: a line typed in strict mode that the policy says
 * `approve` for, held until an escort decides (strict_int.h, strict.h).
 *
 * In a supervised session (pol_session_supervised) a one-line entry whose
 * verdict is approve is not refused: the channel goes to APPROVING, the
 * command shows as the session's pending command in the registry (escorts'
 * `sessions`), and the technician is told it waits.  It ends in one of
 * four ways, whichever comes first:
 *   - an escort's `approve ID`: the DECISION (allow, APPROVER) is recorded,
 *     then the line runs;
 *   - an escort's `deny ID [REASON]`: DECISION deny with APPROVER and
 *     REASON; the technician sees who denied it and why;
 *   - the deadline (ApprovalTimeout, escort-proxy.conf(5); default 120 s):
 *     DECISION deny, "no escort decided within N seconds";
 *   - the technician's Ctrl-C: DECISION deny, "cancelled by the technician".
 * The registry arbitrates: an escort's action clears the pending command
 * under its mutex before it is queued, and a timeout or Ctrl-C only counts
 * when px__reg_take_pending finds the command still pending; otherwise the
 * escort's action is on its way and decides.  Every path goes on through
 * RECORDING (strict_entry.c), so the decision is recorded before anything
 * runs.  All on the connection's loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "policy/policy.h"
#include "proxy/approval.h"
#include "proxy/chan.h"
#include "proxy/config.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/strict.h"
#include "proxy/strict_int.h"
#include "proxy/timer1.h"

#define CTRL_C 0x03

int
px__strict_approve_wanted(const struct px_strict *s)
{
	return s->nlines == 1 && s->lines[0].verdict == POL_APPROVE && s->lines[0].rendered != NULL &&
	    pol_session_supervised(px__conn_session(s->ch->c));
}

static void
deadline(uv_timer_t *t)
{
	struct px_strict *s = t->data;

	if (s == NULL)
		return;
	s->approve_expired = 1;
	px__conn_step(s->ch->c);
}

/* The wait is over: l decided (approved or not), on to RECORDING. */
static void
resolve(struct px_strict *s, int approved, const char *escort, const char *reason, const char *told)
{
	struct strict_line *l = &s->lines[0];

	px__timer1_stop(&s->approve_timer);
	snprintf(l->approver, sizeof(l->approver), "%s", escort != NULL ? escort : "");
	if (approved) {
		l->verdict = POL_ALLOW;
		l->refused = 0;
		snprintf(l->reason, sizeof(l->reason), "approved by escort %s", escort);
	} else {
		l->verdict = POL_DENY;
		l->refused = 1;
		free(l->rendered);
		l->rendered = NULL;
		snprintf(l->reason, sizeof(l->reason), "%s", reason);
		px__approval_printable(l->told, sizeof(l->told) - 2, told);
		strcat(l->told, "\r\n");
	}
	px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "strict shell: command %llu %s: %s",
	    (unsigned long long)l->cmd_no, approved ? "approved" : "not approved", l->reason);
	if (px__strict_set(s, STRICT_RECORDING, approved ? "approved" : "not approved") != PX_OK)
		return;
	s->next_rec = 0;
	px__strict_entry_record(s);
}

void
px__strict_approve_hold(struct px_strict *s)
{
	struct px_conn *c = s->ch->c;
	struct strict_line *l = &s->lines[0];
	char shown[PX_REG_PENDING_MAX], msg[PX_REG_PENDING_MAX + 120];

	if (px__strict_set(s, STRICT_APPROVING, "waiting for an escort's approval") != PX_OK)
		return;
	px__approval_printable(shown, sizeof(shown), l->typed);
	switch (px__reg_set_pending(px__conn_registry(c), px__conn_id(c), shown)) {
	case PX_OK:
		break;
	case PX_EINVAL:
		resolve(s, 0, NULL, "another command of this session waits for an escort's approval",
		    "escort: another command of this session waits for an escort's approval; this one was "
		    "not run");
		return;
	default:
		resolve(s, 0, NULL, "no escort can see this session (it is not listed)",
		    "escort: this command needs an escort's approval, but no escort can see this session; "
		    "it was not run");
		return;
	}
	s->approve_expired = 0;
	if (px__timer1_start(&s->approve_timer, px__conn_loop(c), deadline, s,
	    (uint64_t)px__approval_secs(s->ch->c) * 1000) != PX_OK) {
		(void)px__reg_take_pending(px__conn_registry(c), px__conn_id(c));
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	snprintf(msg, sizeof(msg), "escort: waiting for an escort's approval of: %s (Ctrl-C cancels)\r\n", shown);
	(void)px__strict_say(s, msg);
	px_log(PX_LOG_INFO, px__conn_id(c), "strict shell: command %llu waits for an escort's approval "
	    "(rule %s, line %d, at most %d s): %.300s", (unsigned long long)l->cmd_no, l->rule ? l->rule : "?",
	    l->rule_line, px__approval_secs(s->ch->c), l->typed);
}

void
px__strict_approve_keys(struct px_strict *s, const uint8_t *d, size_t n)
{
	struct px_conn *c = s->ch->c;

	if (s->st != STRICT_APPROVING || memchr(d, CTRL_C, n) == NULL)
		return;
	if (!px__reg_take_pending(px__conn_registry(c), px__conn_id(c)))
		return;		/* an escort decided first: that decision is on its way */
	resolve(s, 0, NULL, "cancelled by the technician while waiting for an escort's approval",
	    "^C\r\nescort: cancelled; the command was not run");
}

void
px__strict_approve_step(struct px_strict *s)
{
	struct px_conn *c = s->ch->c;
	char reason[120], told[200];

	if (s->st != STRICT_APPROVING || !s->approve_expired)
		return;
	s->approve_expired = 0;
	if (!px__reg_take_pending(px__conn_registry(c), px__conn_id(c)))
		return;		/* an escort decided first */
	snprintf(reason, sizeof(reason), "no escort decided within %d seconds", px__approval_secs(s->ch->c));
	snprintf(told, sizeof(told), "escort: %s; the command was not run", reason);
	resolve(s, 0, NULL, reason, told);
}

void
px__strict_approve_drop(struct px_strict *s)
{
	/* the deadline runs exactly while this channel's command is pending */
	if (s->approve_timer != NULL)
		(void)px__reg_take_pending(px__conn_registry(s->ch->c), px__conn_id(s->ch->c));
	px__timer1_stop(&s->approve_timer);
}

int
px__strict_escort_decide(struct px_chan *ch, int approve, const char *escort, const char *reason)
{
	struct px_strict *s = ch->strict;
	char why[400], told[480];

	if (s == NULL || s->st != STRICT_APPROVING)
		return PX_EINVAL;
	if (approve) {
		snprintf(told, sizeof(told), "escort: approved by %s\r\n", escort);
		(void)px__strict_say(s, told);
		resolve(s, 1, escort, NULL, NULL);
		return PX_OK;
	}
	if (reason != NULL && reason[0] != '\0') {
		snprintf(why, sizeof(why), "denied by escort %s: %s", escort, reason);
		snprintf(told, sizeof(told), "escort: denied by %s: %s; the command was not run", escort, reason);
	} else {
		snprintf(why, sizeof(why), "denied by escort %s", escort);
		snprintf(told, sizeof(told), "escort: denied by %s; the command was not run", escort);
	}
	resolve(s, 0, escort, why, told);
	return PX_OK;
}
