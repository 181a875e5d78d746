/* audit.c: "escort-replay audit [--user U] [--attr K=V] [--since TIME]
 * [--json]": per person, the sessions, every command with its verdict (and
 * approver), denials, approvals, every upload with its SHA-256, and how
 * each session ended (its END event: kind, reason, writer).  --json: one
 * object per session with the counts and the end.  A session that
 * does not verify is marked ("[FAILED]" on its lines); one whose head
 * cannot be read is listed apart as unreadable, never left out (exit 1, or
 * 2 for an I/O error). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
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

/* One session's JSON object (--json). */
static void
audit_json_session(const struct audit_session *s, const char *status,
    const struct replay_end *end, const struct audit_totals *n,
    const char *problem)
{
	char t[32];

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
	printf(",\"resumes_refused\":%u", n->resumes_refused);
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

/* Prints one session's lines and adds to the totals.  Returns 0, or the
 * exit status (1 or 2) when it could not be read to its end. */
static int
audit_session(const char *store, const struct audit_session *s,
    struct audit_totals *tot, int json)
{
	struct audit_totals one;
	struct replay_end end;
	uint64_t end_t = 0, acked, stored;
	char t[32], t2[32], verdict[32], rule[128], approver[128], cmd[4096];
	char path[4096], dir[32], hex[65];
	const uint8_t *v;
	uint64_t size;
	size_t len, i;
	struct tr *r;
	struct ev e;
	int x;
	struct replay_xfers xs = { 0 };

	const char *mark = replay_check_mark(s->id);

	memset(&one, 0, sizeof(one));
	memset(&end, 0, sizeof(end));
	if ((x = replay_open(store, "audit", s->id, &r)) != 0) {
		if (json)
			audit_json_session(s, "unreadable", NULL, &one,
			    rec_strerror(x));
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
			if (!json)
				printf("    %s%s resume refused: acknowledged seq %"
				    PRIu64 ", the store had %" PRIu64 " "
				    "(acknowledged events are missing)\n", mark,
				    t2, acked, stored);
		}
		(void)replay_xfers_add_event(&xs, &e);
		replay_time(tr_start_wall_ns(r) + e.t_ns, t2, sizeof(t2));
		if (e.type == EV_DECISION) {
			verdict[0] = rule[0] = approver[0] = cmd[0] = '\0';
			ev_fields_get_str(e.data, e.len, EVF_VERDICT, verdict, sizeof(verdict));
			ev_fields_get_str(e.data, e.len, EVF_RULE, rule, sizeof(rule));
			ev_fields_get_str(e.data, e.len, EVF_APPROVER, approver,
			    sizeof(approver));
			ev_fields_get_str(e.data, e.len, EVF_COMMAND, cmd, sizeof(cmd));
			one.commands++;
			one.denied += strcmp(verdict, "deny") == 0;
			one.approved += strcmp(verdict, "approve") == 0;
			if (!json)
				printf("    %s%s %-7s %s%s%s: %s\n", mark, t2, verdict,
			    rule[0] ? rule : "-", approver[0] ? ", approved by " : "",
			    approver, cmd);
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
			if (!json)
				printf("    %s%s upload  %s %" PRIu64 " bytes sha256 %s\n",
			    mark, t2, path, size, hex);
		}
	}
	for (i = 0; i < xs.n; i++)	/* uploads whose end was never recorded */
		if (xs.v[i].started && !xs.v[i].ended && strcmp(xs.v[i].dir, "upload") == 0) {
			replay_time(tr_start_wall_ns(r) + xs.v[i].t_ns, t2, sizeof(t2));
			one.uploads++;
			if (!json)
				printf("    %s%s upload  %s incomplete (its end was not recorded)\n", mark, t2,
				    xs.v[i].path);
		}
	replay_xfers_free(&xs);
	replay_end_done(&end, r);
	tot->commands += one.commands;
	tot->denied += one.denied;
	tot->approved += one.approved;
	tot->uploads += one.uploads;
	if (x < 0) {
		char problem[160];

		snprintf(problem, sizeof(problem), "unreadable after offset "
		    "%llu: %s", (unsigned long long)tr_error_offset(r),
		    rec_strerror(x));
		if (json)
			audit_json_session(s, "damaged", NULL, &one, problem);
		else
			printf("    (%s)\n", problem);
		replay_err("audit: %s: %s at offset %llu", s->id, rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
	} else if (json) {
		audit_json_session(s, end.finished ? "closed" : "live", &end,
		    &one, replay_check_problem(s->id));
	} else {
		audit_print_end(mark, r, &end, end_t);
	}
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
			    rec_strerror(err[i]));
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
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *attr = NULL;
	struct audit_session *ss = NULL;
	struct audit_totals tot;
	uint64_t since = 0;
	size_t n, i, k = 0;
	char **ids;
	struct tr *r;
	int c, x, status = 0, json = 0, *err = NULL;

	while ((c = getopt_long(argc, argv, "u:a:s:j", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
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
	if (optind != argc)
		goto usage;
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
	    "[--attr K=V] [--since TIME] [--json]\n");
	return 2;
}
