/* audit.c: "escort-replay audit [--user U] [--attr K=V] [--since TIME]
 * [--json]": per person, the sessions, every command with its verdict (and
 * approver; commands typed in shells with their mode, number, offset and,
 * in strict mode, exit status: cmdlog.h), denials, approvals, every
 * upload with its SHA-256, and how each session ended (its END event:
 * kind, reason, writer).  --json: one object per session with the counts,
 * the end and the decisions ("command_list").  A session that
 * does not verify is marked ("[FAILED]" on its lines); one whose head
 * cannot be read is listed apart as unreadable, never left out (exit 1, or
 * 2 for an I/O error). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/audit_html.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"
#include "replay/xfers.h"

struct audit_session {
	char *id;
	char user[128], target[128];
	uint64_t start;
};

struct audit_totals {
	unsigned sessions, commands, denied, approved, uploads;
	unsigned resumes_refused;	/* per session (JSON) */
};

/* One element of a session's "command_list" (--json). */
static void
audit_json_command(uint64_t start, size_t n, const struct replay_cmd_row *d,
    int first)
{
	char t[32];

	replay_time(start + d->t_ns, t, sizeof(t));
	printf("%s{\"n\":%zu,\"time\":\"%s\",\"offset\":%.6f,\"mode\":",
	    first ? "" : ",", n, t, (double)d->t_ns / 1e9);
	replay_json_str(stdout, d->mode);
	if (d->cmd_seq != 0)
		printf(",\"seq\":%" PRIu64, d->cmd_seq);
	else
		printf(",\"seq\":null");
	printf(",\"command\":");
	replay_json_str(stdout, d->command);
	printf(",\"decision\":");
	replay_json_str(stdout, d->verdict);
	printf(",\"rule\":");
	replay_json_str(stdout, d->rule);
	printf(",\"approver\":");
	replay_json_str_or_null(d->approver);
	if (d->has_status)
		printf(",\"exit_status\":%" PRIu64, d->exit_status);
	else
		printf(",\"exit_status\":null");
	printf(",\"exit_signal\":");
	replay_json_str_or_null(d->exit_signal);
	printf("}");
}

/* One session's JSON object (--json), with its decisions (log, or NULL
 * when none could be read). */
static void
audit_json_session(const struct audit_session *s, const char *status,
    const struct replay_end *end, const struct audit_totals *n,
    const char *problem, const struct replay_cmdlog *log)
{
	char t[32];
	size_t i;

	printf("{\"id\":");
	replay_json_str(stdout, s->id);
	printf(",\"user\":");
	replay_json_str(stdout, s->user);
	printf(",\"target\":");
	replay_json_str(stdout, s->target);
	replay_time(s->start, t, sizeof(t));
	printf(",\"start\":\"%s\",\"status\":\"%s\",\"verify\":\"%s\"", t,
	    status, replay_vstate_name(replay_check_state(s->id)));
	printf(",\"ended\":");
	replay_json_str_or_null(end != NULL ? replay_end_label(end) : NULL);
	printf(",\"end_kind\":");
	replay_json_str_or_null(end != NULL && end->has_end ? end->info.kind :
	    NULL);
	printf(",\"end_reason\":");
	replay_json_str_or_null(end != NULL && end->has_end ?
	    end->info.reason : NULL);
	printf(",\"end_by\":");
	replay_json_str_or_null(end != NULL && end->has_end ? end->info.by :
	    NULL);
	printf(",\"commands\":%u,\"denied\":%u,\"approved\":%u,"
	    "\"uploads\":%u", n->commands, n->denied, n->approved, n->uploads);
	printf(",\"resumes_refused\":%u,\"command_list\":[", n->resumes_refused);
	for (i = 0; log != NULL && i < log->n; i++)
		audit_json_command(s->start, i + 1, &log->v[i], i == 0);
	printf("]");
	if (problem != NULL && problem[0]) {
		printf(",\"problem\":");
		replay_json_str(stdout, problem);
	}
	printf("}\n");
}

/* The "ended" line of a session in the text output. */
static void
audit_print_end(const char *mark, struct tr *r, const struct replay_end *end,
    uint64_t end_t)
{
	char t[32];

	if (!end->has_end) {
		printf("    %s%s\n", mark, end->finished ? "(closed without an "
		    "END record)" : "(open: no end recorded yet)");
		return;
	}
	replay_time(tr_start_wall_ns(r) + end_t, t, sizeof(t));
	printf("    %s%s ended   %s: %s%s\n", mark, t, replay_end_label(end),
	    end->info.reason[0] ? end->info.reason : "-",
	    strcmp(end->info.by, "recorder") == 0 ?
	    " (written by the recorder)" : "");
}

/* Does the META event of r carry the attribute "K=V"? */
static int
audit_has_attr(struct tr *r, const char *kv)
{
	struct ev_fields_iter it;
	const uint8_t *meta, *v;
	size_t mlen, used, len;
	uint16_t tag;
	struct ev e;

	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) != REC_OK || e.type != EV_META)
		return 0;
	ev_fields_begin(&it, e.data, e.len);
	while (ev_fields_next(&it, &tag, &v, &len) == 1)
		if (tag == EVF_ATTR && len == strlen(kv) && memcmp(v, kv, len) == 0)
			return 1;
	return 0;
}

static int
audit_cmp(const void *a, const void *b)
{
	const struct audit_session *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The lines of one session in the text output, held until the session is
 * read: a command's exit status comes after its decision. */
struct audit_line {
	size_t cmd;		/* 1 + its index in the cmdlog, or 0: text */
	char *text;		/* malloc'd (cmd 0) */
};
struct audit_lines {
	struct audit_line *v;
	size_t n, cap;
};

/* Appends a line (text when cmd is 0).  Returns 0 or REC_ENOMEM. */
static int __attribute__((format(printf, 3, 4)))
audit_line_add(struct audit_lines *ls, size_t cmd, const char *fmt, ...)
{
	struct audit_line *nv;
	va_list ap;
	char *text = NULL;
	size_t cap;
	int rc;

	if (ls->n == ls->cap) {
		cap = ls->cap ? 2 * ls->cap : 16;
		if ((nv = realloc(ls->v, cap * sizeof(*nv))) == NULL)
			return REC_ENOMEM;
		ls->v = nv;
		ls->cap = cap;
	}
	if (cmd == 0) {
		va_start(ap, fmt);
		rc = vasprintf(&text, fmt, ap);
		va_end(ap);
		if (rc < 0)
			return REC_ENOMEM;
	}
	ls->v[ls->n].cmd = cmd;
	ls->v[ls->n++].text = text;
	return 0;
}

/* A command's line: TIME VERDICT RULE[, approved by A | , denied by A]:
 * COMMAND (A: the escort who decided), then for
 * a command typed in a shell "(MODE #SEQ at +SECONDSs[, exit X])", for a
 * channel request "(exit X)" when its channel's exit status is known. */
static void
audit_print_command(const char *mark, uint64_t start,
    const struct replay_cmd_row *d)
{
	char t[32], ex[40];

	replay_time(start + d->t_ns, t, sizeof(t));
	replay_cmd_exit_str(d, ex, sizeof(ex));
	printf("    %s%s %-7s %s%s%s: %s", mark, t, d->verdict, d->rule[0] ?
	    d->rule : "-", !d->approver[0] ? "" : strcmp(d->verdict, "deny") == 0 ?
	    ", denied by " : ", approved by ", d->approver,
	    d->command);
	if (replay_cmd_is_shell(d)) {
		printf(" (%s #%" PRIu64 " at +%.3fs", d->mode, d->cmd_seq,
		    (double)d->t_ns / 1e9);
		if (d->has_exit)
			printf(", exit %s", ex);
		printf(")");
	} else if (d->has_exit) {
		printf(" (exit %s)", ex);
	}
	putchar('\n');
}

static void
audit_lines_print(struct audit_lines *ls, const struct replay_cmdlog *log,
    const char *mark, uint64_t start)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (ls->v[i].cmd == 0)
			fputs(ls->v[i].text, stdout);
		else if (ls->v[i].cmd <= log->n)
			audit_print_command(mark, start, &log->v[ls->v[i].cmd - 1]);
	}
}

static void
audit_lines_free(struct audit_lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->v[i].text);
	free(ls->v);
	memset(ls, 0, sizeof(*ls));
}

/* Prints one session's lines and adds to the totals.  Returns 0, or the
 * exit status (1 or 2) when it could not be read to its end. */
static int
audit_session(const char *store, const struct audit_session *s,
    struct audit_totals *tot, int json)
{
	struct audit_totals one;
	struct replay_end end;
	struct replay_cmdlog log = { 0 };
	struct audit_lines ls = { 0 };
	uint64_t end_t = 0, acked, stored;
	char t[32], t2[32];
	char path[4096], dir[32], hex[65];
	const uint8_t *v;
	uint64_t size;
	size_t len, i;
	struct tr *r;
	struct ev e;
	int x, mem = 0;
	struct replay_xfers xs = { 0 };

	const char *mark = replay_check_mark(s->id);

	memset(&one, 0, sizeof(one));
	memset(&end, 0, sizeof(end));
	if ((x = replay_open(store, "audit", s->id, &r)) != 0) {
		if (json)
			audit_json_session(s, "unreadable", NULL, &one,
			    rec_strerror(x), NULL);
		else
			printf("  %ssession %s: cannot be read\n", mark, s->id);
		return x;
	}
	tot->sessions++;
	replay_time(s->start, t, sizeof(t));
	if (!json) {
		printf("  %ssession %s on %s from %s", mark, s->id,
		    s->target[0] ? s->target : "-", t);
		if (*mark)
			printf(" (does not verify: %s)",
			    replay_check_problem(s->id));
		putchar('\n');
	}
	while ((x = tr_next(r, &e)) == 1) {
		replay_end_note(&end, &e);
		if (e.type == EV_END)
			end_t = e.t_ns;
		if (replay_resume_refused(&e, &acked, &stored)) {
			one.resumes_refused++;
			replay_time(tr_start_wall_ns(r) + e.t_ns, t2, sizeof(t2));
			mem |= audit_line_add(&ls, 0, "    %s%s resume refused: "
			    "acknowledged seq %" PRIu64 ", the store had %" PRIu64
			    " (acknowledged events are missing)\n", mark, t2, acked,
			    stored);
		}
		(void)replay_xfers_add_event(&xs, &e);
		mem |= replay_cmdlog_add_event(&log, &e);
		replay_time(tr_start_wall_ns(r) + e.t_ns, t2, sizeof(t2));
		if (e.type == EV_DECISION && log.n > 0) {
			const struct replay_cmd_row *d = &log.v[log.n - 1];

			one.commands++;
			one.denied += strcmp(d->verdict, "deny") == 0;
			/* approved: let run by an escort (an "approve" verdict alone
			 * is a command that waited or was refused, not an approval) */
			one.approved += strcmp(d->verdict, "allow") == 0 && d->approver[0] != '\0';
			mem |= audit_line_add(&ls, log.n, "%s", "");
		} else if (e.type == EV_FILE && !replay_xfer_is_start(&e) &&
		    ev_fields_find(e.data, e.len, EVF_CONTENT, &v, &len) != REC_OK &&
		    ev_fields_get_str(e.data, e.len, EVF_DIRECTION, dir,
		    sizeof(dir)) == REC_OK && strcmp(dir, "upload") == 0 &&
		    ev_fields_get_str(e.data, e.len, EVF_PATH, path,
		    sizeof(path)) == REC_OK) {
			strcpy(hex, "-");
			if (ev_fields_find(e.data, e.len, EVF_SHA256, &v, &len) == REC_OK &&
			    len == 32)
				for (i = 0; i < 32; i++)
					snprintf(hex + 2 * i, 3, "%02x", v[i]);
			size = 0;
			ev_fields_get_u64(e.data, e.len, EVF_SIZE, &size);
			one.uploads++;
			mem |= audit_line_add(&ls, 0, "    %s%s upload  %s %" PRIu64
			    " bytes sha256 %s\n", mark, t2, path, size, hex);
		}
	}
	for (i = 0; i < xs.n; i++)	/* uploads whose end was never recorded */
		if (xs.v[i].started && !xs.v[i].ended && strcmp(xs.v[i].dir, "upload") == 0) {
			replay_time(tr_start_wall_ns(r) + xs.v[i].t_ns, t2, sizeof(t2));
			one.uploads++;
			mem |= audit_line_add(&ls, 0, "    %s%s upload  %s incomplete "
			    "(its end was not recorded)\n", mark, t2, xs.v[i].path);
		}
	replay_xfers_free(&xs);
	replay_end_done(&end, r);
	if (!json)
		audit_lines_print(&ls, &log, mark, tr_start_wall_ns(r));
	audit_lines_free(&ls);
	tot->commands += one.commands;
	tot->denied += one.denied;
	tot->approved += one.approved;
	tot->uploads += one.uploads;
	if (mem && x >= 0)
		x = REC_ENOMEM;
	if (x < 0) {
		char problem[160];

		snprintf(problem, sizeof(problem), "unreadable after offset "
		    "%llu: %s", (unsigned long long)tr_error_offset(r),
		    rec_strerror(x));
		if (json)
			audit_json_session(s, "damaged", NULL, &one, problem, &log);
		else
			printf("    (%s)\n", problem);
		replay_err("audit: %s: %s at offset %llu", s->id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	} else if (json) {
		audit_json_session(s, end.finished ? "closed" : "live", &end,
		    &one, replay_check_problem(s->id), &log);
	} else {
		audit_print_end(mark, r, &end, end_t);
	}
	replay_cmdlog_free(&log);
	tr_free(r);
	return x < 0 ? replay_rec_status(x) : 0;
}

/* Lists the sessions whose head cannot be read: they belong to nobody
 * known, so they are shown whatever the filters.  Returns the exit status
 * they call for (0, 1, or 2 for an I/O error). */
static int
audit_damaged(const char *store, char **ids, const int *err, size_t n,
    int json)
{
	char path[4096];
	size_t i;
	int status = 0, first = 1;

	for (i = 0; i < n; i++) {
		if (err[i] == REC_OK || err[i] == REC_EAGAIN)
			continue;
		if (first && !json)
			printf("unreadable sessions (their head is damaged or "
			    "cannot be read)\n");
		first = 0;
		tw_path(store, ids[i], path, sizeof(path));
		if (json) {
			struct audit_session u = { ids[i], "", "", 0 };
			struct audit_totals none = { 0, 0, 0, 0, 0, 0 };

			audit_json_session(&u, "unreadable", NULL, &none,
			    rec_strerror(err[i]), NULL);
		} else
			printf("  session %s: %s\n", ids[i],
			    rec_strerror(err[i]));
		replay_err("audit: %s: %s: %s", ids[i], path,
		    rec_strerror(err[i]));
		if (replay_rec_status(err[i]) > status)
			status = replay_rec_status(err[i]);
	}
	return status;
}

int
replay_audit(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "attr", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *attr = NULL;
	struct audit_session *ss = NULL;
	struct audit_totals tot;
	uint64_t since = 0;
	size_t n, i, k = 0;
	char **ids;
	struct tr *r;
	int c, x, status = 0, json = 0, html = 0, *err = NULL;

	while ((c = getopt_long(argc, argv, "u:a:s:j", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'H':
			html = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'a':
			if (strchr(optarg, '=') == NULL)
				goto usage;
			attr = optarg;
			break;
		case 's':
			if (replay_parse_time(optarg, &since) != 0) {
				replay_err("audit: bad time \"%s\"", optarg);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || (json && html))
		goto usage;
	if (html)
		return replay_audit_html(store, user, attr, since);
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("audit: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((status = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		return status;
	}
	if (n > 0 && ((ss = calloc(n, sizeof(*ss))) == NULL ||
	    (err = calloc(n, sizeof(*err))) == NULL)) {
		free(ss);
		replay_free_ids(ids, n);
		replay_err("audit: out of memory");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if ((err[i] = replay_open_quiet(store, ids[i], &r)) != REC_OK)
			continue;
		replay_meta(r, ss[k].user, sizeof(ss[k].user), ss[k].target,
		    sizeof(ss[k].target));
		ss[k].start = tr_start_wall_ns(r);
		ss[k].id = ids[i];
		if ((user == NULL || strcmp(user, ss[k].user) == 0) &&
		    (attr == NULL || audit_has_attr(r, attr)) && ss[k].start >= since)
			k++;
		tr_free(r);
	}
	if (k > 0)
		qsort(ss, k, sizeof(*ss), audit_cmp);
	for (i = 0; i < k; i++) {
		if (i == 0 || strcmp(ss[i].user, ss[i - 1].user) != 0) {
			memset(&tot, 0, sizeof(tot));
			if (!json)
				printf("user %s\n", ss[i].user[0] ? ss[i].user :
				    "-");
		}
		if ((x = audit_session(store, &ss[i], &tot, json)) > status)
			status = x;
		if (!json && (i + 1 == k ||
		    strcmp(ss[i].user, ss[i + 1].user) != 0))
			printf("  total: %u session%s, %u command%s, %u denied, "
			    "%u approved, %u upload%s\n", tot.sessions,
			    tot.sessions == 1 ? "" : "s", tot.commands,
			    tot.commands == 1 ? "" : "s", tot.denied, tot.approved,
			    tot.uploads, tot.uploads == 1 ? "" : "s");
	}
	if ((x = audit_damaged(store, ids, err, n, json)) > status)
		status = x;
	free(ss);
	free(err);
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && status == 0)
		status = 1;
	return status;
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] audit [--user U] "
	    "[--attr K=V] [--since TIME] [--json|--html]\n");
	return 2;
}
