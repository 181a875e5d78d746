/* exec_approve: an exec request held for an escort's approval
 * (exec_approve.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "proxy/approval.h"
#include "proxy/chan.h"
#include "proxy/config.h"
#include "proxy/conn.h"
#include "proxy/exec_approve.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/timer1.h"

static void
deadline(uv_timer_t *t)
{
	struct px_chan *ch = t->data;

	if (ch == NULL || ch->appr == NULL)
		return;
	ch->appr->expired = 1;
	px__conn_step(ch->c);
}

void
px__exec_approve_free(struct px_chan *ch)
{
	struct px_exec_appr *a = ch->appr;

	if (a == NULL)
		return;
	if (a->pending)
		(void)px__reg_take_pending(px__conn_registry(ch->c), px__conn_id(ch->c));
	px__timer1_stop(&a->timer);
	free(a->rendered);
	free(a->rule);
	free(a);
	ch->appr = NULL;
}

int
px__exec_approve_hold(struct px_chan *ch, const char *cmd, char *rendered, const char *rule, int rule_line)
{
	struct px_conn *c = ch->c;
	struct px_exec_appr *a;
	char shown[PX_REG_PENDING_MAX], msg[PX_REG_PENDING_MAX + 80];
	int rc;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		free(rendered);
		return PX_ENOMEM;
	}
	a->rendered = rendered;
	a->rule = rule != NULL ? strdup(rule) : NULL;
	a->rule_line = rule_line;
	ch->appr = a;
	if ((rule != NULL && a->rule == NULL) || px__timer1_new(&a->timer, px__conn_loop(c), ch) != PX_OK) {
		px__exec_approve_free(ch);
		return PX_ENOMEM;
	}
	px__approval_printable(shown, sizeof(shown), cmd);
	if ((rc = px__reg_set_pending(px__conn_registry(c), px__conn_id(c), shown)) != PX_OK) {
		px__exec_approve_free(ch);
		return rc;
	}
	a->pending = 1;
	uv_timer_start(a->timer, deadline, (uint64_t)px__approval_secs(ch->c) * 1000, 0);
	snprintf(msg, sizeof(msg), "escort: waiting for an escort's approval of: %s", shown);
	px__chan_notice(ch, msg);
	px_log(PX_LOG_INFO, px__conn_id(c), "exec waits for an escort's approval (rule %s, line %d, at most "
	    "%d s): %.300s", rule ? rule : "?", rule_line, px__approval_secs(ch->c), cmd);
	return PX_OK;
}

enum px_appr_outcome
px__exec_approve_poll(struct px_chan *ch)
{
	struct px_exec_appr *a = ch->appr;

	if (a == NULL)
		return PX_APPR_WAITING;
	if (a->outcome == PX_APPR_WAITING && a->expired) {
		a->expired = 0;
		if (px__reg_take_pending(px__conn_registry(ch->c), px__conn_id(ch->c))) {
			a->pending = 0;
			a->outcome = PX_APPR_DENIED;
			a->escort[0] = '\0';
			snprintf(a->reason, sizeof(a->reason), "no escort decided within %d seconds",
			    px__approval_secs(ch->c));
			snprintf(a->told, sizeof(a->told), "escort: %s; the command was not run", a->reason);
		}
	}
	return a->outcome;
}

int
px__exec_escort_decide(struct px_chan *ch, int approve, const char *escort, const char *reason)
{
	struct px_exec_appr *a = ch->appr;

	if (a == NULL || a->outcome != PX_APPR_WAITING)
		return PX_EINVAL;
	a->pending = 0;         /* the escort's action took it from the registry */
	a->outcome = approve ? PX_APPR_APPROVED : PX_APPR_DENIED;
	snprintf(a->escort, sizeof(a->escort), "%s", escort);
	if (approve)
		snprintf(a->reason, sizeof(a->reason), "approved by escort %s", escort);
	else if (reason != NULL && reason[0] != '\0') {
		snprintf(a->reason, sizeof(a->reason), "denied by escort %s: %s", escort, reason);
		snprintf(a->told, sizeof(a->told), "escort: denied by %s: %s; the command was not run",
		    escort, reason);
	} else {
		snprintf(a->reason, sizeof(a->reason), "denied by escort %s", escort);
		snprintf(a->told, sizeof(a->told), "escort: denied by %s; the command was not run", escort);
	}
	return PX_OK;
}
