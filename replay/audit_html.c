/* audit_html.c: "escort-replay audit --html": the audit as one
 * self-contained HTML page (audit_html.h). */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/audit_head.h"
#include "replay/audit_html.h"
#include "replay/cmdlog.h"
#include "replay/html.h"
#include "replay/replay.h"
#include "replay/xfers.h"

struct ah_totals {
	unsigned sessions, commands, denied, approved, transfers, failed;
};

/* One session's section.  Returns 0, or the exit status (1 or 2) when it
 * could not be read to its end. */
static int
ah_session(FILE *f, const char *store, const struct replay_audit_head *s,
    size_t k, struct ah_totals *tot)
{
	struct replay_cmdlog log = { .want_stdin = 1 };
	struct replay_xfers xs = { 0 };
	struct replay_end end;
	enum replay_vstate vs;
	const char *problem;
	char t[32], idp[32], href[40];
	uint64_t last_t = 0;
	struct tr *r;
	struct ev e;
	size_t i;
	int x, mem = 0;

	replay_time(s->start, t, sizeof(t));
	snprintf(idp, sizeof(idp), "s%zu-", k);
	snprintf(href, sizeof(href), "s%zu-row-", k);
	fprintf(f, "<h3 id=\"s%zu\">Session <span class=\"code\">", k);
	html_str(f, s->id);
	fputs("</span> on <span class=\"code\">", f);
	html_str(f, s->target[0] ? s->target : "-");
	fprintf(f, "</span> from %s</h3>\n", t);
	if ((x = replay_open(store, "audit", s->id, &r)) != 0) {
		fputs("<p class=\"bad\">Cannot be read.</p>\n", f);
		tot->failed++;
		return x;
	}
	tot->sessions++;
	memset(&end, 0, sizeof(end));
	while ((x = tr_next(r, &e)) == 1) {
		replay_end_note(&end, &e);
		last_t = e.t_ns;
		mem |= replay_cmdlog_add_event(&log, &e) != 0;
		mem |= replay_xfers_add_event(&xs, &e) != 0;
	}
	replay_end_done(&end, r);
	if (mem && x >= 0)
		x = REC_ENOMEM;
	vs = replay_check_state(s->id);
	problem = replay_check_problem(s->id);
	if (vs == REPLAY_V_FAILED)
		tot->failed++;
	fprintf(f, "<p>Verification: <span class=\"%s\">%s</span>",
	    vs == REPLAY_V_OK || vs == REPLAY_V_RECOVERED ? "ok" : "bad",
	    replay_vstate_name(vs));
	if (problem[0]) {
		fputs(" (", f);
		html_str(f, problem);
		fputs(")", f);
	}
	fputs(". Ended: ", f);
	html_str(f, replay_end_label(&end));
	if (end.has_end && end.info.reason[0]) {
		fputs(": ", f);
		html_str(f, end.info.reason);
	}
	fputs(".</p>\n", f);
	for (i = 0; i < log.n; i++) {
		tot->commands++;
		tot->denied += strcmp(log.v[i].verdict, "deny") == 0;
		tot->approved += strcmp(log.v[i].verdict, "allow") == 0 && log.v[i].approver[0] != '\0';
	}
	tot->transfers += (unsigned)xs.n;
	if (log.n > 0) {
		html_timeline(f, &log, last_t, href, 0);
		html_cmd_table(f, s->start, &log, idp, 0);
	}
	if (xs.n > 0)
		html_xfer_table(f, s->start, &xs);
	if (x < 0) {
		fprintf(f, "<p class=\"bad\">Unreadable after offset %llu: %s.</p>\n",
		    (unsigned long long)tr_error_offset(r), rec_strerror(x));
		replay_err("audit: %s: %s at offset %llu", replay_esc(s->id),
		    rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	}
	replay_cmdlog_free(&log);
	replay_xfers_free(&xs);
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

static void
ah_totals_print(FILE *f, const struct ah_totals *t)
{
	fprintf(f, "<p><b>Total</b>: %u session%s, %u command%s, %u denied, %u "
	    "approved, %u file transfer%s or operation%s, %u not verified or "
	    "unreadable.</p>\n", t->sessions, t->sessions == 1 ? "" : "s",
	    t->commands, t->commands == 1 ? "" : "s", t->denied, t->approved,
	    t->transfers, t->transfers == 1 ? "" : "s", t->transfers == 1 ? "" :
	    "s", t->failed);
}

int
replay_audit_html(const char *store, const char *user, const char *attr,
    const char *target, uint64_t since, uint64_t until)
{
	struct replay_audit_head *ss = NULL;
	struct ah_totals tot;
	char **ids, t[32];
	size_t n, i, k = 0, np = 0;
	struct tr *r;
	int x, status, err, bad_heads = 0;
	FILE *f = stdout;

	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("audit: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((status = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		return status;
	}
	if (n > 0 && (ss = calloc(n, sizeof(*ss))) == NULL) {
		replay_free_ids(ids, n);
		replay_err("audit: out of memory");
		return 2;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>Escort audit</title>\n<style>%s</style></head>\n<body>\n"
	    "<h1>Escort audit</h1>\n<p>Store <span class=\"code\">", html_css);
	html_str(f, store);
	fputs("</span>", f);
	if (user != NULL) {
		fputs(", user <span class=\"code\">", f);
		html_str(f, user);
		fputs("</span>", f);
	}
	if (attr != NULL) {
		fputs(", attribute <span class=\"code\">", f);
		html_str(f, attr);
		fputs("</span>", f);
	}
	if (target != NULL) {
		fputs(", target <span class=\"code\">", f);
		html_str(f, target);
		fputs("</span>", f);
	}
	if (since != 0) {
		replay_time(since, t, sizeof(t));
		fprintf(f, ", since %s", t);
	}
	if (until != UINT64_MAX) {
		replay_time(until, t, sizeof(t));
		fprintf(f, ", until %s", t);
	}
	fputs(".</p>\n", f);
	for (i = 0; i < n; i++) {
		if ((err = replay_open_quiet(store, ids[i], &r)) != REC_OK) {
			if (err == REC_EAGAIN)
				continue;
			if (bad_heads++ == 0)
				fputs("<h2 id=\"unreadable\">Unreadable sessions</h2>\n"
				    "<p class=\"bad\">Their head is damaged or cannot be "
				    "read: they belong to nobody known.</p>\n<ul>\n", f);
			fputs("<li class=\"code\">", f);
			html_str(f, ids[i]);
			fputs(": ", f);
			html_str(f, rec_strerror(err));
			fputs("</li>\n", f);
			replay_err("audit: %s: %s", replay_esc(ids[i]),
			    rec_strerror(err));
			if (replay_rec_status(err) > status)
				status = replay_rec_status(err);
			continue;
		}
		replay_meta(r, ss[k].user, sizeof(ss[k].user), ss[k].target,
		    sizeof(ss[k].target));
		ss[k].start = tr_start_wall_ns(r);
		ss[k].id = ids[i];
		if ((user == NULL || strcmp(user, ss[k].user) == 0) &&
		    (attr == NULL || replay_audit_has_attr(r, attr)) &&
		    (target == NULL || fnmatch(target, ss[k].target, 0) == 0) &&
		    ss[k].start >= since && ss[k].start <= until)
			k++;
		tr_free(r);
	}
	if (bad_heads)
		fputs("</ul>\n", f);
	if (k > 0)
		qsort(ss, k, sizeof(*ss), replay_audit_head_cmp);
	fputs("<h2 id=\"people\">People</h2>\n<ul>\n", f);
	for (i = 0; i < k; i++) {
		if (i > 0 && strcmp(ss[i].user, ss[i - 1].user) == 0)
			continue;
		fprintf(f, "<li><a href=\"#person-%zu\" class=\"code\">", np++);
		html_str(f, ss[i].user[0] ? ss[i].user : "-");
		fputs("</a></li>\n", f);
	}
	fputs("</ul>\n", f);
	np = 0;
	for (i = 0; i < k; i++) {
		if (replay_audit_head_first(ss, i)) {
			memset(&tot, 0, sizeof(tot));
			fprintf(f, "<h2 id=\"person-%zu\">User <span class=\"code\">",
			    np++);
			html_str(f, ss[i].user[0] ? ss[i].user : "-");
			fputs("</span></h2>\n", f);
		}
		if ((x = ah_session(f, store, &ss[i], i, &tot)) > status)
			status = x;
		if (replay_audit_head_last(ss, i, k))
			ah_totals_print(f, &tot);
	}
	if (k == 0)
		fputs("<p>No session.</p>\n", f);
	fputs("<p><small>Written by escort-replay " ESCORT_VERSION
	    ".</small></p>\n</body></html>\n", f);
	free(ss);
	replay_free_ids(ids, n);
	fflush(f);
	if (replay_check_report() && status == 0)
		status = 1;
	return status;
}
