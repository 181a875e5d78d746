/* chan_decide: the policy decision on a channel's main request (shell,
 * exec, subsystem), recorded as a DECISION event with the verdict, the
 * command, the rule and its line, the reason and the policy hash.  An
 * allowed sftp subsystem or scp -t/-f exec gets its transfer watcher
 * (xfer_chan.h), which asks the transfer rules about every path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/xfer_chan.h"
#include "proxy/conn.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/observe_chan.h"
#include "proxy/px_error.h"
#include "proxy/strict.h"
#include "proxy/exec_approve.h"
#include "proxy/xfer_scp.h"
#include "proxy/worker.h"

/* Records a DECISION event.  Returns PX_OK, or an error after which the
 * session is ending (px__conn_record_or_end): an allowed request must then
 * not go on. */
static int
record_decision_by(struct px_chan *ch, const char *verdict, const char *command,
    const char *rule, int line, const char *reason, const char *sent, const char *approver)
{
	struct buf b;
	struct px_conn *c = ch->c;
	int built, rc;

	buf_init(&b, EV_PAYLOAD_MAX);
	built = ev_fields_put_str(&b, EVF_VERDICT, verdict);
	if (built == REC_OK && command != NULL)
		built = ev_fields_put_str(&b, EVF_COMMAND, command);
	if (built == REC_OK && rule != NULL)
		built = ev_fields_put_str(&b, EVF_RULE, rule);
	if (built == REC_OK && line > 0)
		built = ev_fields_put_u64(&b, EVF_RULE_LINE, (uint64_t)line);
	if (built == REC_OK && reason != NULL)
		built = ev_fields_put_str(&b, EVF_REASON, reason);
	if (built == REC_OK && approver != NULL && approver[0] != '\0')
		built = ev_fields_put_str(&b, EVF_APPROVER, approver);
	if (built == REC_OK && sent != NULL)
		built = ev_fields_put_str(&b, EVF_RENDERED, sent);
	if (built == REC_OK && px__conn_policy(c) != NULL)
		built = ev_fields_put_str(&b, EVF_POLICY_HASH, policy_hash(px__conn_policy(c)));
	rc = px__conn_record_or_end(c, EV_DECISION, ch->id, buf_ptr(&b), buf_len(&b), built);
	buf_free(&b);
	return rc;
}

static int
record_decision_sent(struct px_chan *ch, const char *verdict, const char *command,
    const char *rule, int line, const char *reason, const char *sent)
{
	return record_decision_by(ch, verdict, command, rule, line, reason, sent, NULL);
}

static int
record_decision(struct px_chan *ch, const char *verdict, const char *command, const char *rule,
    int line, const char *reason)
{
	return record_decision_sent(ch, verdict, command, rule, line, reason, NULL);
}

/* The request was allowed but its decision is not in the recording: it
 * does not run. */
static int
unrecorded(struct px_chan *ch)
{
	px__chan_local(ch, "escort: the decision could not be recorded; the request was not run\n", 0, 1);
	return 0;
}

/* An exec request that is exactly "scp" with -t or -f: a transfer, decided
 * by the transfer rules (never the exec policy); the target runs the
 * command rebuilt from the parse (scp_cmd_render), which replaces r->a.
 * Takes scp (freed here).  Returns 1 when it goes upstream. */
static int
decide_scp(struct px_chan *ch, struct px_req *r, struct scp_cmd *scp)
{
	struct px_conn *c = ch->c;
	int up = scp->kind == SCP_CMD_UPLOAD;
	struct pol_decision d;
	char msg[768], why[400];
	char *line = NULL;
	size_t i;

	if (scp->kind == SCP_CMD_INVALID) {
		snprintf(msg, sizeof(msg), "escort: scp command refused: %s\n", scp->reason);
		record_decision(ch, "deny", r->a, NULL, 0, scp->reason);
		px_log(PX_LOG_INFO, px__conn_id(c), "scp refused (%s): %s", scp->reason, r->a);
		goto refuse;
	}
	/* the direction first: the watcher would refuse every file anyway */
	if (!((int)px__conn_session(c)->sftp & (up ? POL_SFTP_UPLOAD : POL_SFTP_DOWNLOAD))) {
		snprintf(why, sizeof(why), "%s are not allowed on this target (sftp %s)",
		    up ? "uploads" : "downloads", pol_sftp_name(px__conn_session(c)->sftp));
		snprintf(msg, sizeof(msg), "escort: scp %s is not allowed: %s\n",
		    up ? "upload" : "download", why);
		record_decision(ch, "deny", r->a, px__conn_session(c)->rule_names, 0, why);
		px_log(PX_LOG_INFO, px__conn_id(c), "scp refused: %s: %s", r->a, why);
		goto refuse;
	}
	/* the -f path (read, or listed with -r) or a -t target that is a file,
	 * as the transfer rules see it; the watcher checks every file and
	 * directory of the stream again */
	for (i = 0; i < scp->npaths; i++) {
		if (up && scp_cmd_target_is_dir(scp))
			continue;
		memset(&d, 0, sizeof(d));
		(void)policy_decide_transfer(px__conn_session(c), up ? POL_XFER_WRITE : scp->recursive ?
		    POL_XFER_LIST : POL_XFER_READ, scp->paths[i], NULL, time(NULL), &d);
		if (d.verdict != POL_ALLOW) {
			snprintf(msg, sizeof(msg), "escort: %s (scp %s %.200s)\n", d.reason,
			    up ? "upload" : "download", scp->paths[i]);
			record_decision(ch, "deny", r->a, d.rule, d.line, d.reason);
			px_log(PX_LOG_INFO, px__conn_id(c), "scp refused: %s: %s", r->a, d.reason);
			pol_decision_free(&d);
			goto refuse;
		}
		pol_decision_free(&d);
	}
	if (scp_cmd_render(scp, &line) != PX_OK ||
	    px__xfer_start_scp(ch, scp, px__conn_cfg(c)->file_content_limit) != PX_OK) {
		free(line);
		scp_cmd_free(scp);
		px__chan_local(ch, "escort: out of memory\n", 0, 1);
		return 0;
	}
	snprintf(why, sizeof(why), "scp %s", up ? "upload" : "download");
	if (record_decision_sent(ch, "allow", r->a, px__conn_session(c)->rule_names, 0, why, line) != PX_OK) {
		free(line);
		scp_cmd_free(scp);
		return unrecorded(ch);
	}
	px_log(PX_LOG_INFO, px__conn_id(c), "%s; runs: %.340s", why, line);
	free(r->sent);
	r->sent = line;		/* what was decided is what runs */
	scp_cmd_free(scp);
	return 1;
refuse:
	scp_cmd_free(scp);
	px__chan_local(ch, msg, 0, PX_EXIT_DENIED);
	return 0;
}

/* An exec held for an escort's approval (exec_approve.h): 0 while it
 * waits; once decided, the DECISION (allow or deny, APPROVER, REASON) is
 * recorded and the request goes upstream (1) or is refused (0). */
static int
decide_held(struct px_chan *ch, struct px_req *r)
{
	struct px_exec_appr *a = ch->appr;
	enum px_appr_outcome o = px__exec_approve_poll(ch);
	char msg[600];
	int rc;

	if (o == PX_APPR_WAITING)
		return 0;
	rc = record_decision_by(ch, o == PX_APPR_APPROVED ? "allow" : "deny", r->a, a->rule, a->rule_line,
	    a->reason, o == PX_APPR_APPROVED ? a->rendered : NULL, a->escort);
	px_log(PX_LOG_INFO, px__conn_id(ch->c), "exec %s: %s", o == PX_APPR_APPROVED ? "approved" : "not approved",
	    a->reason);
	if (rc != PX_OK) {
		px__exec_approve_free(ch);
		return unrecorded(ch);
	}
	if (o == PX_APPR_APPROVED) {
		free(r->sent);
		r->sent = a->rendered;	/* transferred */
		a->rendered = NULL;
		snprintf(msg, sizeof(msg), "escort: approved by %s", a->escort);
		px__chan_notice(ch, msg);
		px__exec_approve_free(ch);
		return 1;
	}
	snprintf(msg, sizeof(msg), "%s\n", a->told);
	for (char *q = msg; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 && *q != '\n')
			*q = '?';
	px__exec_approve_free(ch);
	px__chan_local(ch, msg, 0, PX_EXIT_DENIED);
	return 0;
}

/* An exec the policy says approve for, in a supervised session: held for
 * an escort (0), or refused when it cannot be (another command waits, the
 * session is not listed).  Frees d. */
static int
hold(struct px_chan *ch, struct px_req *r, struct pol_decision *d)
{
	char *rendered = d->rendered;
	const char *why;
	char msg[400];
	int rc;

	d->rendered = NULL;
	rc = px__exec_approve_hold(ch, r->a, rendered, d->rule, d->line);
	if (rc == PX_OK) {
		pol_decision_free(d);
		return 0;
	}
	why = rc == PX_EINVAL ? "another command of this session waits for an escort's approval" :
	    rc == PX_ENOMEM ? "out of memory" : "no escort can see this session";
	rc = record_decision(ch, "deny", r->a, d->rule, d->line, why);
	pol_decision_free(d);
	if (rc != PX_OK)
		return unrecorded(ch);
	snprintf(msg, sizeof(msg), "escort: command needs an escort's approval, but %s; it was not run\n", why);
	px__chan_local(ch, msg, 0, PX_EXIT_DENIED);
	return 0;
}

int
px__chan_decide(struct px_chan *ch, struct px_req *r)
{
	struct px_conn *c = ch->c;
	const struct pol_session *ps = px__conn_session(c);
	char msg[768];

	if (ch->appr != NULL)
		return decide_held(ch, r);

	if (r->kind == REQ_SHELL) {
		if (ps->shell == POL_SHELL_NONE) {
			record_decision(ch, "deny", "(shell)", ps->rule_names, 0, "interactive shell not allowed");
			px_log(PX_LOG_INFO, px__conn_id(c), "shell refused for %s on %s", px__conn_user(c), px__conn_target(c));
			px__chan_local(ch, "escort: interactive shells are not allowed on this target; "
			    "run commands with ssh USER:TARGET@proxy COMMAND\r\n", 0, PX_EXIT_DENIED);
			return 0;
		}
		if (ps->shell == POL_SHELL_STRICT)
			return px__strict_decide(ch, r);	/* every line decided (strict.h) */
		if (record_decision(ch, "allow", "(shell)", ps->rule_names, 0, pol_shell_name(ps->shell)) != PX_OK)
			return unrecorded(ch);
		if (ps->shell == POL_SHELL_OBSERVE && px__observe_start(ch) != PX_OK) {
			px__chan_local(ch, "escort: out of memory; the shell was not started\r\n", 0, 1);
			return 0;
		}
		return 1;
	}
	if (r->kind == REQ_SUBSYSTEM) {
		if (strcmp(r->a, "sftp") != 0 || ps->sftp == POL_SFTP_NONE) {
			snprintf(msg, sizeof(msg), "escort: subsystem \"%s\" is not allowed on this target\n", r->a);
			record_decision(ch, "deny", r->a, ps->rule_names, 0, "subsystem not allowed");
			px_log(PX_LOG_INFO, px__conn_id(c), "subsystem %s refused", r->a);
			px__chan_local(ch, msg, 0, PX_EXIT_DENIED);
			return 0;
		}
		if (px__xfer_start_sftp(ch, (enum xfer_mode)ps->sftp,
		    px__conn_cfg(c)->file_content_limit) != PX_OK) {
			px__chan_local(ch, "escort: out of memory\n", 0, 1);
			return 0;
		}
		if (record_decision(ch, "allow", r->a, ps->rule_names, 0, pol_sftp_name(ps->sftp)) != PX_OK)
			return unrecorded(ch);
		return 1;
	}
	/* exec */
	{
		struct scp_cmd scp;
		struct pol_decision d;

		if (scp_cmd_parse(r->a, &scp) != PX_OK) {
			px__chan_local(ch, "escort: out of memory\n", 0, 1);
			return 0;
		}
		if (scp.kind != SCP_CMD_NONE)
			return decide_scp(ch, r, &scp);
		scp_cmd_free(&scp);
		if (!ps->exec) {
			record_decision(ch, "deny", r->a, ps->rule_names, 0, "exec requests not allowed");
			px_log(PX_LOG_INFO, px__conn_id(c), "exec refused (exec no): %s", r->a);
			px__chan_local(ch, "escort: commands (exec requests) are not allowed on this target\n", 0,
			    PX_EXIT_DENIED);
			return 0;
		}
		memset(&d, 0, sizeof(d));
		if (policy_decide(ps, r->a, strlen(r->a), time(NULL), &d) != 0) {
			record_decision(ch, "deny", r->a, NULL, 0, "policy engine error");
			px__chan_local(ch, "escort: command refused (policy engine error)\n", 0, 1);
			pol_decision_free(&d);
			return 0;
		}
		if (d.verdict == POL_APPROVE && d.rendered != NULL && pol_session_supervised(ps))
			return hold(ch, r, &d);
		if (record_decision_sent(ch, pol_verdict_name(d.verdict), r->a, d.rule, d.line, d.reason,
		    d.verdict == POL_ALLOW ? d.rendered : NULL) != PX_OK) {
			pol_decision_free(&d);
			return unrecorded(ch);
		}
		px_log(PX_LOG_INFO, px__conn_id(c), "exec %s by %s (line %d): %s", pol_verdict_name(d.verdict),
		    d.rule ? d.rule : "default", d.line, r->a);
		if (d.verdict == POL_ALLOW && d.rendered != NULL) {
			free(r->sent);
			r->sent = d.rendered;	/* transferred */
			d.rendered = NULL;
			pol_decision_free(&d);
			return 1;
		}
		if (d.verdict == POL_APPROVE)
			snprintf(msg, sizeof(msg), "escort: command needs an escort's approval (rule %s, line %d); "
			    "no escort supervises this session, so it was not run\n",
			    d.rule ? d.rule : "?", d.line);
		else
			snprintf(msg, sizeof(msg), "escort: command denied: %s\n", d.reason[0] ? d.reason :
			    "no rule allows it");
		pol_decision_free(&d);
		px__chan_local(ch, msg, 0, PX_EXIT_DENIED);
		return 0;
	}
}
