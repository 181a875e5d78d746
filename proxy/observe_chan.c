/* observe_chan: observe mode on a shell channel (observe_chan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/ev_end.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/conn.h"
#include "proxy/log.h"
#include "proxy/observe.h"
#include "proxy/observe_chan.h"
#include "proxy/px_error.h"
#include "proxy/sshpoll.h"

struct px_observe {
	struct obs *model;
	uint64_t seq;		/* commands read so far */
};

int
px__observe_start(struct px_chan *ch)
{
	struct px_observe *po;
	int rows = 24, cols = 80;

	for (const struct px_req *r = ch->rq; r != NULL; r = r->next)
		if (r->kind == REQ_PTY)
			rows = r->rows, cols = r->cols;
	if ((po = calloc(1, sizeof(*po))) == NULL)
		return PX_ENOMEM;
	if ((po->model = px__obs_new(rows, cols, ch->pty)) == NULL) {
		free(po);
		return PX_ENOMEM;
	}
	ch->obs = po;
	return PX_OK;
}

void
px__observe_free(struct px_chan *ch)
{
	if (ch->obs == NULL)
		return;
	px__obs_free(ch->obs->model);
	free(ch->obs);
	ch->obs = NULL;
}

void
px__observe_resize(struct px_chan *ch, int cols, int rows)
{
	if (ch->obs != NULL && px__obs_resize(ch->obs->model, rows, cols) != 0)
		px_log(PX_LOG_WARN, px__conn_id(ch->c), "observe: out of memory resizing the screen model "
		    "to %dx%d; it keeps its old size", cols, rows);
}

/* Writes the proxy's words to the technician, recorded first: on a
 * terminal (pty) as OUTPUT, shown to the model too; without one on stderr,
 * so that the shell's stdout stays the program's data. */
static void
observe_say(struct px_chan *ch, const char *msg)
{
	struct px_conn *c = ch->c;
	size_t n = strlen(msg);

	if (px__conn_record(c, ch->pty ? EV_OUTPUT : EV_STDERR, ch->id, msg, n) != PX_OK)
		px_log(PX_LOG_DEBUG, px__conn_id(c), "an observe warning was not recorded");
	if (ch->pty) {
		px__obs_output(ch->obs->model, (const uint8_t *)msg, n);
		ssh_channel_write(ch->tc, msg, (uint32_t)n);
	} else {
		ssh_channel_write_stderr(ch->tc, msg, (uint32_t)n);
	}
	px__sshpoll_update(px__conn_poll(c, 1));
}

/* The DECISION event of command number seq.  Returns PX_OK, or an error
 * after which the session is ending. */
static int
observe_record(struct px_chan *ch, const struct pol_decision *d, const struct obs_cmd *cmd,
    uint64_t seq)
{
	struct px_conn *c = ch->c;
	struct buf b;
	int built, rc;

	buf_init(&b, EV_PAYLOAD_MAX);
	built = ev_fields_put_str(&b, EVF_VERDICT, pol_verdict_name(d->verdict));
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_COMMAND, cmd->text);
	if (built == REC_OK && d->rule != NULL)
		built = ev_fields_put_str(&b, EVF_RULE, d->rule);
	if (built == REC_OK && d->line > 0)
		built = ev_fields_put_u64(&b, EVF_RULE_LINE, (uint64_t)d->line);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_REASON, d->reason);
	if (built == REC_OK && px__conn_policy(c) != NULL)
		built = ev_fields_put_str(&b, EVF_POLICY_HASH, policy_hash(px__conn_policy(c)));
	if (built == REC_OK)
		built = ev_fields_put_u64(&b, EVF_CMD_SEQ, seq);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_SHELL_MODE, "observe");
	rc = px__conn_record_or_end(c, EV_DECISION, ch->id, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}

/* What the rule does to the command, for the warning and the alert. */
static void
observe_what(const struct pol_decision *d, char *out, size_t cap)
{
	const char *does = d->verdict == POL_APPROVE ? "needs an escort's approval for" : "denies";

	if (d->rule != NULL)
		snprintf(out, cap, "rule %s (line %d) %s this command", d->rule, d->line, does);
	else
		snprintf(out, cap, "no rule allows this command (%s)", d->reason[0] ? d->reason : "deny");
}

/* Decides and records one command read at an Enter.  Returns 0 when the
 * Enter may go on, -1 when the session is ending. */
static int
observe_command(struct px_chan *ch, const struct obs_cmd *cmd)
{
	struct px_conn *c = ch->c;
	const struct pol_session *ps = px__conn_session(c);
	struct px_observe *po = ch->obs;
	struct pol_decision d;
	char what[400], msg[600], why[440];
	uint64_t seq = ++po->seq;

	memset(&d, 0, sizeof(d));
	if (ps == NULL || policy_decide(ps, cmd->text, cmd->len, time(NULL), &d) != 0) {
		pol_decision_free(&d);
		memset(&d, 0, sizeof(d));
		d.verdict = POL_DENY;
		snprintf(d.reason, sizeof(d.reason), "policy engine error");
	}
	if (observe_record(ch, &d, cmd, seq) != PX_OK) {
		pol_decision_free(&d);
		return -1;
	}
	if (d.verdict == POL_ALLOW) {
		px_log(PX_LOG_INFO, px__conn_id(c), "observe: command %llu allowed by %s (line %d): %.300s%s",
		    (unsigned long long)seq, d.rule ? d.rule : "?", d.line, cmd->text, cmd->cut ? "..." : "");
		pol_decision_free(&d);
		return 0;
	}
	observe_what(&d, what, sizeof(what));
	px_log(PX_LOG_WARN, px__conn_id(c), "observe alert: %s on %s typed command %llu, which %s: %.300s%s",
	    px__conn_user(c) ? px__conn_user(c) : "?", px__conn_target(c) ? px__conn_target(c) : "?",
	    (unsigned long long)seq, what, cmd->text, cmd->cut ? "..." : "");
	if (ps != NULL && ps->observe_end_on_deny) {
		snprintf(msg, sizeof(msg), "%sescort: %s; the session ends (observe-deny end)%s",
		    ch->pty ? "\r\n" : "", what, ch->pty ? "\r\n" : "\n");
		snprintf(why, sizeof(why), "observe-deny end: %s", what);
		pol_decision_free(&d);
		px__chan_abort(ch, msg);
		px__conn_end_as(c, EV_END_POLICY, why, msg);
		return -1;
	}
	snprintf(msg, sizeof(msg), "%sescort: warning: %s; observe mode does not stop it; it is recorded%s",
	    ch->pty ? "\r\n" : "", what, ch->pty ? "\r\n" : "\n");
	observe_say(ch, msg);
	pol_decision_free(&d);
	return 0;
}

size_t
px__observe_pass(struct px_chan *ch, int to_tech, const uint8_t *d, size_t n)
{
	struct obs_cmd cmd;
	size_t off = 0;
	int fresh = 1;

	if (to_tech) {
		px__obs_output(ch->obs->model, d, n);
		return n;
	}
	while (off < n) {
		off += px__obs_input(ch->obs->model, d + off, n - off, fresh, &cmd);
		fresh = 0;
		if (cmd.found && observe_command(ch, &cmd) != 0)
			return 0;
	}
	return n;
}
