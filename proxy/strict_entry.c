/* strict_entry: an entry typed at a strict-mode prompt: every line decided
 * by the policy, every decision recorded, and only then the lines run, one
 * after the other (strict.h, strict_int.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "policy/policy.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "proxy/chan.h"
#include "proxy/chan_pwmask.h"
#include "proxy/conn.h"
#include "proxy/lineedit.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/strict.h"
#include "proxy/strict_boot.h"
#include "proxy/strict_int.h"

void
px__strict_entry_clear(struct px_strict *s)
{
	for (size_t i = 0; i < s->nlines; i++) {
		free(s->lines[i].typed);
		free(s->lines[i].rendered);
		free(s->lines[i].rule);
	}
	free(s->lines);
	s->lines = NULL;
	s->nlines = s->next_rec = s->next_run = 0;
}

static int
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return 0;
	return 1;
}

/* The first control character of p other than TAB (what px__sb_run_line
 * cannot send), or -1. */
static int
first_control(const char *p)
{
	for (const unsigned char *q = (const unsigned char *)p; *q != '\0'; q++)
		if ((*q < 0x20 && *q != '\t') || *q == 0x7f)
			return *q;
	return -1;
}

/* Decides one line into l. */
static void
decide_line(struct px_strict *s, struct strict_line *l, const char *p, size_t n)
{
	const struct pol_session *ps = px__conn_session(s->ch->c);
	struct pol_decision d;
	int ctl;

	l->verdict = POL_DENY;
	if (n > SB_LINE_MAX) {
		snprintf(l->reason, sizeof(l->reason), "the line is %zu bytes long; at most %u are run",
		    n, (unsigned)SB_LINE_MAX);
		return;
	}
	if (memchr(p, '\0', n) != NULL) {
		snprintf(l->reason, sizeof(l->reason), "the line holds a NUL byte");
		return;
	}
	memset(&d, 0, sizeof(d));
	if (ps == NULL || policy_decide(ps, p, n, time(NULL), &d) != 0) {
		snprintf(l->reason, sizeof(l->reason), "policy engine error");
		pol_decision_free(&d);
		return;
	}
	l->verdict = d.verdict;
	l->rule = d.rule != NULL ? strdup(d.rule) : NULL;
	l->rule_line = d.line;
	snprintf(l->reason, sizeof(l->reason), "%s", d.reason[0] ? d.reason : "no rule allows it");
	/* an approve line is rebuilt too: an escort may let it run */
	if (d.verdict == POL_ALLOW || d.verdict == POL_APPROVE) {
		if (d.rendered == NULL) {
			l->verdict = POL_DENY;
			snprintf(l->reason, sizeof(l->reason), "the line could not be rebuilt for the shell");
		} else if (strlen(d.rendered) > SB_LINE_MAX || strchr(d.rendered, '\n') != NULL) {
			l->verdict = POL_DENY;
			snprintf(l->reason, sizeof(l->reason), "the line is too long to run once quoted "
			    "(%zu bytes; at most %u)", strlen(d.rendered), (unsigned)SB_LINE_MAX);
		} else if ((ctl = first_control(d.rendered)) >= 0) {
			/* the loop reads through the target's line discipline, where
			 * such a byte edits the line or sends a signal: px__sb_run_line
			 * refuses it, so it is refused here, before anything runs */
			l->verdict = POL_DENY;
			free(l->rule);		/* no rule denied it */
			l->rule = NULL;
			l->rule_line = 0;
			snprintf(l->reason, sizeof(l->reason), "the line holds a control character (0x%02x, "
			    "typed with Ctrl-V?), which cannot be sent through the target's terminal", ctl);
		} else {
			l->rendered = d.rendered;	/* transferred */
			d.rendered = NULL;
		}
	}
	pol_decision_free(&d);
}

void
px__strict_entry_submit(struct px_strict *s)
{
	size_t len, i, n = 0, start;
	const char *text = (const char *)buf_peek(&s->entry, &len);
	int refused = 0;

	if (px__strict_set(s, STRICT_DECIDING, "entry submitted") != PX_OK)
		return;
	px__strict_entry_clear(s);
	for (i = 0, start = 0; i <= len; i++)
		if (i == len || text[i] == '\n') {
			n += !blank(text + start, i - start);
			start = i + 1;
		}
	if (n == 0) {
		buf_reset(&s->entry);
		px__strict_show_prompt(s);
		return;
	}
	if ((s->lines = calloc(n, sizeof(*s->lines))) == NULL) {
		px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
		return;
	}
	for (i = 0, start = 0; i <= len; i++) {
		struct strict_line *l;

		if (i < len && text[i] != '\n')
			continue;
		if (blank(text + start, i - start)) {
			start = i + 1;
			continue;
		}
		l = &s->lines[s->nlines++];
		l->cmd_no = ++s->cmd_no;
		if ((l->typed = strndup(text + start, i - start)) == NULL) {
			px__strict_fail(s, "strict mode: out of memory", "\r\nescort: proxy out of memory; session ended\r\n");
			return;
		}
		decide_line(s, l, text + start, i - start);
		l->refused = l->verdict != POL_ALLOW;
		refused |= l->refused;
		start = i + 1;
	}
	if (px__strict_approve_wanted(s)) {
		buf_reset(&s->entry);
		px__strict_approve_hold(s);
		return;
	}
	/* all or nothing: a refused line keeps every line of the entry from running */
	for (i = 0; refused && i < s->nlines; i++)
		if (!s->lines[i].refused) {
			s->lines[i].refused = 1;
			free(s->lines[i].rendered);
			s->lines[i].rendered = NULL;
			snprintf(s->lines[i].reason, sizeof(s->lines[i].reason),
			    "not run: another line of the same entry was refused");
		}
	buf_reset(&s->entry);
	if (px__strict_set(s, STRICT_RECORDING, "entry decided") != PX_OK)
		return;
	s->next_rec = 0;
	px__strict_entry_record(s);
}

/* Builds the DECISION of l. */
static int
build_decision(struct px_strict *s, const struct strict_line *l, struct buf *b)
{
	const struct policy *p = px__conn_policy(s->ch->c);
	const char *verdict = l->refused && l->verdict == POL_ALLOW ? "deny" : pol_verdict_name(l->verdict);
	int r = ev_fields_put_str(b, EVF_VERDICT, verdict);

	if (r == REC_OK)
		r = ev_fields_put(b, EVF_COMMAND, l->typed, strlen(l->typed));
	/* a line refused for another line's sake names no rule: none denied it */
	const char *rule = l->refused && l->verdict == POL_ALLOW ? NULL : l->rule;

	if (r == REC_OK && rule != NULL)
		r = ev_fields_put_str(b, EVF_RULE, rule);
	if (r == REC_OK && l->rule_line > 0 && rule != NULL)
		r = ev_fields_put_u64(b, EVF_RULE_LINE, (uint64_t)l->rule_line);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_REASON, l->reason);
	if (r == REC_OK && l->approver[0] != '\0')
		r = ev_fields_put_str(b, EVF_APPROVER, l->approver);
	if (r == REC_OK && l->rendered != NULL && !l->refused)
		r = ev_fields_put_str(b, EVF_RENDERED, l->rendered);
	if (r == REC_OK && p != NULL)
		r = ev_fields_put_str(b, EVF_POLICY_HASH, policy_hash(p));
	if (r == REC_OK)
		r = ev_fields_put_u64(b, EVF_CMD_SEQ, l->cmd_no);
	if (r == REC_OK)
		r = ev_fields_put_str(b, EVF_SHELL_MODE, STRICT_MODE);
	return r;
}

/* Sends the next line of the entry (RUNNING). */
static void
run_next(struct px_strict *s)
{
	struct strict_line *l = &s->lines[s->next_run];

	if (px__strict_set(s, STRICT_RUNNING, "decision recorded; line sent") != PX_OK)
		return;
	/* the proxy's prompt and echo shown so far are no password prompt */
	px__chan_pwmask_forget(s->ch);
	s->run_seq++;
	if (px__sb_run_line(s->nonce, s->run_seq, l->rendered, strlen(l->rendered), &s->to_target) != SB_OK) {
		px__strict_fail(s, "strict mode: a line could not be sent", "\r\nescort: proxy error; session ended\r\n");
		return;
	}
	px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "strict shell: command %llu runs: %.300s",
	    (unsigned long long)l->cmd_no, l->rendered);
}

/* The reason without the engine's own "denied by rule 'R' (line N): "
 * (the message names the rule already). */
static const char *
reason_tail(const char *reason)
{
	const char *q;

	if (strncmp(reason, "denied by rule '", 16) == 0 && (q = strstr(reason, "): ")) != NULL && q[3] != '\0')
		return q + 3;
	return reason;
}

/* The technician's message for a line refused on its own. */
static void
say_refusal(struct px_strict *s, const struct strict_line *l)
{
	char msg[800];

	if (l->told[0] != '\0')
		snprintf(msg, sizeof(msg), "%s", l->told);
	else if (l->verdict == POL_APPROVE && s->nlines > 1 && pol_session_supervised(px__conn_session(s->ch->c)))
		snprintf(msg, sizeof(msg), "escort: this command needs an escort's approval (rule %s, line %d); "
		    "approval is asked for one line at a time: enter it alone\r\n",
		    l->rule ? l->rule : "?", l->rule_line);
	else if (l->verdict == POL_APPROVE)
		snprintf(msg, sizeof(msg), "escort: this command needs an escort's approval (rule %s, line %d); "
		    "no escort supervises this session, so it was not run\r\n",
		    l->rule ? l->rule : "?", l->rule_line);
	else if (l->rule != NULL)
		snprintf(msg, sizeof(msg), "escort: denied by rule %s (line %d): %s\r\n", l->rule, l->rule_line,
		    reason_tail(l->reason));
	else
		snprintf(msg, sizeof(msg), "escort: denied: %s\r\n", l->reason);
	for (char *q = msg; *q; q++)
		if ((unsigned char)*q < 0x20 && *q != '\r' && *q != '\n')
			*q = '?';
	(void)px__strict_say(s, msg);
}

void
px__strict_entry_record(struct px_strict *s)
{
	struct px_conn *c = s->ch->c;

	/* the echo of the entry goes before its decisions (escort-transcript(5)) */
	px__strict_flush_tech(s);
	while (s->st == STRICT_RECORDING && s->next_rec < s->nlines) {
		const struct strict_line *l = &s->lines[s->next_rec];
		struct buf b;
		int built;

		buf_init(&b, EV_PAYLOAD_MAX);
		built = build_decision(s, l, &b);
		if (built == REC_OK && (px__conn_rec_stalled(c) || !px__conn_rec_can_take(c, buf_len(&b)))) {
			buf_free(&b);
			return;		/* again on the next step */
		}
		if (px__conn_record_or_end(c, EV_DECISION, s->ch->id, buf_ptr(&b), buf_len(&b), built) != PX_OK) {
			buf_free(&b);
			px__strict_set(s, STRICT_ENDED, "a decision could not be recorded");
			return;
		}
		buf_free(&b);
		px_log(PX_LOG_INFO, px__conn_id(c), "strict shell: command %llu %s by %s (line %d): %.300s",
		    (unsigned long long)l->cmd_no, l->refused ? (l->verdict == POL_ALLOW ? "not run" :
		    pol_verdict_name(l->verdict)) : "allowed", l->rule ? l->rule : "default", l->rule_line, l->typed);
		s->next_rec++;
	}
	if (s->st != STRICT_RECORDING)
		return;
	if (s->nlines > 0 && !s->lines[0].refused) {
		s->next_run = 0;
		run_next(s);
		return;
	}
	for (size_t i = 0; i < s->nlines; i++)
		if (s->lines[i].verdict != POL_ALLOW || s->lines[i].told[0] != '\0')
			say_refusal(s, &s->lines[i]);
	if (s->nlines > 1) {
		char msg[120];
		snprintf(msg, sizeof(msg), "escort: nothing of this entry was run (%zu lines)\r\n", s->nlines);
		(void)px__strict_say(s, msg);
	}
	px__strict_entry_clear(s);
	px__strict_show_prompt(s);
}

void
px__strict_entry_done(struct px_strict *s, int status)
{
	struct strict_line *l;
	struct buf b;
	int built;

	if (s->next_run >= s->nlines) {
		px__strict_show_prompt(s);
		return;
	}
	l = &s->lines[s->next_run];
	buf_init(&b, 4096);
	built = ev_fields_put_u64(&b, EVF_EXIT_STATUS, (uint64_t)(uint32_t)status);
	if (built == REC_OK)
		built = ev_fields_put_u64(&b, EVF_CMD_SEQ, l->cmd_no);
	if (built == REC_OK)
		built = ev_fields_put_str(&b, EVF_SHELL_MODE, STRICT_MODE);
	if (px__conn_record_or_end(s->ch->c, EV_EXIT, s->ch->id, buf_ptr(&b), buf_len(&b), built) != PX_OK) {
		buf_free(&b);
		px__strict_set(s, STRICT_ENDED, "an exit could not be recorded");
		return;
	}
	buf_free(&b);
	(void)px__le_history_add(s->le, l->typed, strlen(l->typed));
	s->next_run++;
	if (s->next_run < s->nlines && status == 130) {
		char msg[160];

		/* Ctrl-C (SIGINT) ended the line: the rest of the entry does not run */
		snprintf(msg, sizeof(msg), "escort: interrupted; the %zu line(s) left of this entry were not run\r\n",
		    s->nlines - s->next_run);
		(void)px__strict_say(s, msg);
		px_log(PX_LOG_INFO, px__conn_id(s->ch->c), "strict shell: command %llu interrupted; %zu line(s) "
		    "of its entry not run", (unsigned long long)l->cmd_no, s->nlines - s->next_run);
	} else if (s->next_run < s->nlines) {
		run_next(s);
		return;
	}
	px__strict_entry_clear(s);
	px__strict_show_prompt(s);
}
