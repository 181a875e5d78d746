/* audit.c: "escort-replay audit [--user U] [--attr K=V] [--target T]
 * [--since TIME] [--until TIME] [--no-index] [--json|--html]": per person,
 * the sessions (with their integrity: the verdict of the verification),
 * every command with its verdict (and
 * approver; commands typed in shells with their mode, number, offset and,
 * in strict mode, exit status: cmdlog.h; for an exec request, what it
 * received on stdin, as text when it is short text), denials, approvals,
 * every file transfer (upload, download) with its size and SHA-256 and
 * every other file operation (rename with both paths, remove, mkdir,
 * setstat, symlink, ...), every
 * upload with its SHA-256, and how each session ended (its END event:
 * kind, reason, writer).  --json: one object per session with the counts,
 * the end, the decisions ("command_list") and the transfers and file
 * operations ("file_list", with the fields of "files --json").  A session that
 * does not verify is marked ("[FAILED]" on its lines); one whose head
 * cannot be read is listed apart as unreadable, never left out (exit 1, or
 * 2 for an I/O error).  Sessions are chosen through the search index
 * (search_index.h) where it holds them, else by their head; only the
 * sessions chosen are verified and read. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/audit_head.h"
#include "replay/audit_html.h"
#include "replay/cmdlog.h"
#include "replay/replay.h"
#include "replay/search_index.h"
#include "replay/xfers.h"

struct audit_totals {
	unsigned sessions, commands, denied, approved, uploads;
	unsigned downloads, operations;	/* file operations: rename, remove... */
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
	if (d->in_exec) {
		printf(",\"stdin_bytes\":%" PRIu64 ",\"stdin\":", d->in_total);
		if (replay_cmd_stdin_is_text(d))
			replay_json_bytes(stdout, d->in, d->in_len);
		else
			printf("null");
	} else {
		printf(",\"stdin_bytes\":null,\"stdin\":null");
	}
	printf("}");
}

/* One session's JSON object (--json), with its decisions (log, or NULL
 * when none could be read). */
/* A session's "file_list" (--json): every transfer and file operation,
 * as "files --json" names its fields. */
static void
audit_json_files(const struct replay_xfers *xs)
{
	char sha[2 * 32 + 1];
	size_t i, k;

	printf(",\"file_list\":[");
	for (i = 0; xs != NULL && i < xs->n; i++) {
		const struct replay_xfer *f = &xs->v[i];

		printf("%s{\"n\":%zu,\"offset\":%.3f,\"type\":", i ? "," : "",
		    i + 1, (double)f->t_ns / 1e9);
		replay_json_str(stdout, replay_xfer_type(f));
		printf(",\"path\":");
		replay_json_str(stdout, f->path);
		printf(",\"path2\":");
		replay_json_str_or_null(f->path2[0] ? f->path2 : NULL);
		printf(",\"direction\":");
		replay_json_str(stdout, f->dir);
		printf(",\"outcome\":");
		replay_json_str(stdout, replay_xfer_outcome(f));
		if (f->has_size)
			printf(",\"size\":%" PRIu64, f->size);
		else
			printf(",\"size\":null");
		printf(",\"sha256\":");
		if (f->has_sha) {
			for (k = 0; k < 32; k++)
				snprintf(sha + 2 * k, 3, "%02x", f->sha[k]);
			replay_json_str(stdout, sha);
		} else {
			printf("null");
		}
		printf("}");
	}
	printf("]");
}

static void
audit_json_session(const struct replay_audit_head *s, const char *status,
    const struct replay_end *end, const struct audit_totals *n,
    const char *problem, const struct replay_cmdlog *log,
    const struct replay_xfers *xs)
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
	    "\"uploads\":%u,\"downloads\":%u,\"operations\":%u", n->commands,
	    n->denied, n->approved, n->uploads, n->downloads, n->operations);
	printf(",\"resumes_refused\":%u,\"command_list\":[", n->resumes_refused);
	for (i = 0; log != NULL && i < log->n; i++)
		audit_json_command(s->start, i + 1, &log->v[i], i == 0);
	printf("]");
	audit_json_files(xs);
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

/* The line of a FILE summary e (neither a start record nor content):
 * "upload  PATH N bytes sha256 HEX" or "download PATH ..." for a file,
 * "OP      PATH[ -> PATH2]" for another operation (rename, remove, mkdir,
 * setstat, symlink, ...), then " (OUTCOME)" unless it is "ok".  Returns 0
 * or REC_ENOMEM. */
static int
audit_file_line(struct audit_lines *ls, struct audit_totals *one,
    const char *mark, const char *t, const struct ev *e)
{
	char op[32] = "", dir[32] = "", verdict[32] = "", path[4096] = "-",
	    path2[4096] = "", hex[65] = "-", tail[48] = "";
	struct ev_fields_iter it;
	const uint8_t *v;
	uint64_t size = 0;
	size_t len, i;
	uint16_t tag;
	int npath = 0, is_file;

	ev_fields_get_str(e->data, e->len, EVF_CH_ACTION, op, sizeof(op));
	ev_fields_get_str(e->data, e->len, EVF_DIRECTION, dir, sizeof(dir));
	ev_fields_get_str(e->data, e->len, EVF_VERDICT, verdict, sizeof(verdict));
	ev_fields_begin(&it, e->data, e->len);
	while (ev_fields_next(&it, &tag, &v, &len) == 1)
		if (tag == EVF_PATH && npath < 2) {
			char *to = npath++ == 0 ? path : path2;

			if (len >= sizeof(path))
				len = sizeof(path) - 1;
			memcpy(to, v, len);
			to[len] = '\0';
		}
	is_file = (op[0] == '\0' || strcmp(op, "file") == 0) && dir[0] != '\0';
	if (!is_file && op[0] == '\0')
		return 0;	/* neither a transfer nor a named operation */
	if (verdict[0] != '\0' && strcmp(verdict, "ok") != 0)
		snprintf(tail, sizeof(tail), " (%s)", verdict);
	if (!is_file) {
		one->operations++;
		return audit_line_add(ls, 0, "    %s%s %-7s %s%s%s%s\n", mark, t, op,
		    path, path2[0] ? " -> " : "", path2, tail);
	}
	if (ev_fields_find(e->data, e->len, EVF_SHA256, &v, &len) == REC_OK &&
	    len == 32)
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", v[i]);
	ev_fields_get_u64(e->data, e->len, EVF_SIZE, &size);
	if (strcmp(dir, "upload") == 0)
		one->uploads++;
	else
		one->downloads++;
	return audit_line_add(ls, 0, "    %s%s %-7s %s %" PRIu64 " bytes sha256 "
	    "%s%s\n", mark, t, dir, path, size, hex, tail);
}

/* What an exec request received on stdin: its lines as text when it is
 * all kept and text, else its size. */
static void
audit_print_stdin(const char *mark, const struct replay_cmd_row *d)
{
	const uint8_t *p = d->in, *end = d->in + d->in_len, *nl;
	size_t n;
	int first = 1;

	if (!replay_cmd_stdin_is_text(d)) {
		printf("      %sstdin: %" PRIu64 " bytes (%s; export --format json "
		    "has them)\n", mark, d->in_total, d->in_total > d->in_len ?
		    "more than " "4096 bytes" : "not text");
		return;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		printf("      %s%s%.*s\n", mark, first ? "stdin: " : "       ",
		    (int)n, (const char *)p);
		first = 0;
		p = nl != NULL ? nl + 1 : end;
	}
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
	if (d->in_exec && d->in_total > 0)
		audit_print_stdin(mark, d);
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
audit_session(const char *store, const struct replay_audit_head *s,
    struct audit_totals *tot, int json)
{
	struct audit_totals one;
	struct replay_end end;
	struct replay_cmdlog log = { .want_stdin = 1 };
	struct audit_lines ls = { 0 };
	uint64_t end_t = 0, acked, stored;
	char t[32], t2[32];
	const uint8_t *v;
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
			    rec_strerror(x), NULL, NULL);
		else
			printf("  %ssession %s: cannot be read\n", mark,
			    replay_esc(s->id));
		return x;
	}
	tot->sessions++;
	replay_time(s->start, t, sizeof(t));
	if (!json) {
		printf("  %ssession %s on %s from %s", mark, replay_esc(s->id),
		    s->target[0] ? s->target : "-", t);
		if (*mark)
			printf(" (does not verify: %s)",
			    replay_check_problem(s->id));
		else
			printf(" (integrity: %s)",
			    replay_vstate_name(replay_check_state(s->id)));
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
		    ev_fields_find(e.data, e.len, EVF_CONTENT, &v, &len) != REC_OK) {
			mem |= audit_file_line(&ls, &one, mark, t2, &e);
		}
	}
	for (i = 0; i < xs.n; i++)	/* transfers whose end was never recorded */
		if (xs.v[i].started && !xs.v[i].ended && (strcmp(xs.v[i].dir,
		    "upload") == 0 || strcmp(xs.v[i].dir, "download") == 0)) {
			replay_time(tr_start_wall_ns(r) + xs.v[i].t_ns, t2, sizeof(t2));
			if (strcmp(xs.v[i].dir, "upload") == 0)
				one.uploads++;
			else
				one.downloads++;
			mem |= audit_line_add(&ls, 0, "    %s%s %-7s %s incomplete "
			    "(its end was not recorded)\n", mark, t2, xs.v[i].dir,
			    xs.v[i].path);
		}
	replay_end_done(&end, r);
	if (!json)
		audit_lines_print(&ls, &log, mark, tr_start_wall_ns(r));
	audit_lines_free(&ls);
	tot->commands += one.commands;
	tot->denied += one.denied;
	tot->approved += one.approved;
	tot->uploads += one.uploads;
	tot->downloads += one.downloads;
	tot->operations += one.operations;
	if (mem && x >= 0)
		x = REC_ENOMEM;
	if (x < 0) {
		char problem[160];

		snprintf(problem, sizeof(problem), "unreadable after offset "
		    "%llu: %s", (unsigned long long)tr_error_offset(r),
		    rec_strerror(x));
		if (json)
			audit_json_session(s, "damaged", NULL, &one, problem, &log,
			    &xs);
		else
			printf("    (%s)\n", problem);
		replay_err("audit: %s: %s at offset %llu", replay_esc(s->id),
		    rec_strerror(x), (unsigned long long)tr_error_offset(r));
	} else if (json) {
		audit_json_session(s, end.finished ? "closed" : "live", &end,
		    &one, replay_check_problem(s->id), &log, &xs);
	} else {
		audit_print_end(mark, r, &end, end_t);
	}
	replay_xfers_free(&xs);
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
			struct replay_audit_head u = { ids[i], "", "", 0 };
			struct audit_totals none = { 0 };

			audit_json_session(&u, "unreadable", NULL, &none,
			    rec_strerror(err[i]), NULL, NULL);
		} else
			printf("  session %s: %s\n", replay_esc(ids[i]),
			    rec_strerror(err[i]));
		replay_err("audit: %s: %s: %s", replay_esc(ids[i]),
		    replay_esc(path), rec_strerror(err[i]));
		if (replay_rec_status(err[i]) > status)
			status = replay_rec_status(err[i]);
	}
	return status;
}

/* Lists the sessions pruned from the store (their files held in the
 * object store, escort-recorder(8), Pruning): whose they were is in the
 * files, so they are shown whatever the filters, with where they are.
 * Returns 0, or 2 when out of memory. */
static int
audit_pruned(const char *store, int json)
{
	struct replay_pruned *p = NULL;
	size_t n = 0, i;

	if (replay_pruned_list(store, &p, &n) != 0) {
		replay_err("audit: out of memory");
		return 2;
	}
	if (n > 0 && !json)
		printf("pruned sessions (their files are held in the object "
		    "store: audit them with escort-replay --store "
		    "s3://BUCKET/PREFIX audit)\n");
	for (i = 0; i < n; i++) {
		if (json) {
			struct replay_audit_head u = { p[i].id, "", "",
			    p[i].open_ns };
			struct audit_totals none = { 0 };

			audit_json_session(&u, "pruned", NULL, &none, NULL,
			    NULL, NULL);
		} else
			printf("  session %s: pruned, held in %s (verify: %s)\n",
			    p[i].id, p[i].url,
			    replay_vstate_name(replay_check_state(p[i].id)));
	}
	free(p);
	return 0;
}

#define AUDIT_USAGE "usage: escort-replay [--store DIR] audit [--user U] " \
    "[--attr K=V] [--target T] [--since TIME] [--until TIME] [--no-index] " \
    "[--json|--html]\n"

/* Which sessions audit shows. */
struct audit_filter {
	const char *user, *attr, *target;
	uint64_t since, until;
};

/* search_index_each: 1 when the attribute is the one asked for. */
static int
audit_idx_attr(void *arg, const char *v)
{
	return strcmp(v, arg) == 0;
}

/* Whether a session passes the filters (its head's facts). */
static int
audit_pass(const struct audit_filter *fl, const struct replay_audit_head *s,
    int has_attr)
{
	return (fl->user == NULL || strcmp(fl->user, s->user) == 0) &&
	    (fl->target == NULL || fnmatch(fl->target, s->target, 0) == 0) &&
	    (fl->attr == NULL || has_attr) && s->start >= fl->since &&
	    s->start <= fl->until;
}

/* Chooses the sessions of ids[0..n) that pass fl into ss[0..*k), from the
 * index's record where it holds one for the file as it is (ix may be
 * NULL), else from the session's head; err[i] is the error opening
 * session i (REC_OK when it was not opened). */
static void
audit_select(const char *store, const struct search_index *ix, char **ids,
    size_t n, const struct audit_filter *fl, struct replay_audit_head *ss,
    int *err, size_t *k)
{
	const struct search_index_rec *rec;
	char path[4096];
	struct stat st;
	struct tr *r;
	size_t i;
	int has, dfd = -1;

	*k = 0;
	snprintf(path, sizeof(path), "%s/%s", store, TR_SESSIONS_DIR);
	if (ix != NULL)
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < n; i++) {
		err[i] = REC_OK;
		rec = NULL;
		if (dfd >= 0 && snprintf(path, sizeof(path), "%s%s", ids[i],
		    TR_SUFFIX) < (int)sizeof(path) && fstatat(dfd, path, &st, 0) == 0)
			rec = search_index_find(ix, ids[i], (uint64_t)st.st_size,
			    (uint64_t)st.st_ctim.tv_sec * 1000000000u +
			    (uint64_t)st.st_ctim.tv_nsec);
		if (rec != NULL) {
			search_index_get(rec, 'u', ss[*k].user, sizeof(ss[*k].user));
			search_index_get(rec, 't', ss[*k].target,
			    sizeof(ss[*k].target));
			ss[*k].start = rec->start;
			has = fl->attr != NULL && search_index_each(rec, 'a',
			    audit_idx_attr, (void *)fl->attr);
		} else {
			if ((err[i] = replay_open_quiet(store, ids[i], &r)) != REC_OK)
				continue;
			replay_meta(r, ss[*k].user, sizeof(ss[*k].user),
			    ss[*k].target, sizeof(ss[*k].target));
			ss[*k].start = tr_start_wall_ns(r);
			has = fl->attr != NULL && replay_audit_has_attr(r, fl->attr);
			tr_free(r);
		}
		ss[*k].id = ids[i];
		if (audit_pass(fl, &ss[*k], has))
			(*k)++;
	}
	if (dfd >= 0)
		close(dfd);
}

int
replay_audit(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "attr", required_argument, NULL, 'a' },
		{ "target", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'U' },
		{ "no-index", no_argument, NULL, 'N' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_filter fl = { NULL, NULL, NULL, 0, UINT64_MAX };
	struct replay_audit_head *ss = NULL;
	struct search_index *ix = NULL;
	struct audit_totals tot;
	size_t n, i, k = 0;
	char **ids, note[4400];
	const char **sel = NULL;
	int c, x, status = 0, json = 0, html = 0, no_index = 0, *err = NULL;

	while ((c = getopt_long(argc, argv, "u:a:t:s:U:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf(AUDIT_USAGE "Per person, the sessions with their "
			    "integrity, commands, stdin, transfers and file "
			    "operations.\nSee escort-replay(1).\n");
			return 0;
		case 'j':
			json = 1;
			break;
		case 'H':
			html = 1;
			break;
		case 'N':
			no_index = 1;
			break;
		case 'u':
			fl.user = optarg;
			break;
		case 't':
			fl.target = optarg;
			break;
		case 'a':
			if (strchr(optarg, '=') == NULL) {
				replay_err("audit: --attr wants KEY=VALUE, not \"%s\"",
				    optarg);
				return 2;
			}
			fl.attr = optarg;
			break;
		case 's':
		case 'U':
			if (replay_parse_time(optarg, c == 's' ? &fl.since :
			    &fl.until) != 0) {
				replay_err("audit: %s: bad time \"%s\" (YYYY-MM-DD"
				    "[THH:MM[:SS]] UTC or @SECONDS)", c == 's' ?
				    "--since" : "--until", optarg);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (json && html) {
		replay_err("audit: --json and --html cannot be given together");
		goto usage;
	}
	if (optind != argc) {
		replay_err("audit: unexpected argument \"%s\"",
		    replay_esc(argv[optind]));
		goto usage;
	}
	if (html)
		return replay_audit_html(store, fl.user, fl.attr, fl.target,
		    fl.since, fl.until);
	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("audit: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if (n > 0 && ((ss = calloc(n, sizeof(*ss))) == NULL ||
	    (err = calloc(n, sizeof(*err))) == NULL ||
	    (sel = calloc(n, sizeof(*sel))) == NULL)) {
		free(ss);
		free(err);
		replay_free_ids(ids, n);
		replay_err("audit: out of memory");
		return 2;
	}
	if (!no_index && search_index_open(store, &ix, note, sizeof(note)) == 0 &&
	    note[0] != '\0')
		replay_err("audit: index %s: not used", note);
	audit_select(store, ix, ids, n, &fl, ss, err, &k);
	search_index_free(ix);
	for (i = 0; i < k; i++)
		sel[i] = ss[i].id;
	/* what is shown is verified: the sessions chosen (and the journal) */
	if ((status = no_index ? replay_check_all(store) :
	    replay_check_ids(store, sel, k)) != 0)
		goto out;
	if (k > 0)
		qsort(ss, k, sizeof(*ss), replay_audit_head_cmp);
	for (i = 0; i < k; i++) {
		if (replay_audit_head_first(ss, i)) {
			memset(&tot, 0, sizeof(tot));
			if (!json)
				printf("user %s\n", ss[i].user[0] ? ss[i].user :
				    "-");
		}
		if ((x = audit_session(store, &ss[i], &tot, json)) > status)
			status = x;
		if (!json && replay_audit_head_last(ss, i, k))
			printf("  total: %u session%s, %u command%s, %u denied, "
			    "%u approved, %u upload%s, %u download%s, %u other "
			    "file operation%s\n", tot.sessions,
			    tot.sessions == 1 ? "" : "s", tot.commands,
			    tot.commands == 1 ? "" : "s", tot.denied, tot.approved,
			    tot.uploads, tot.uploads == 1 ? "" : "s", tot.downloads,
			    tot.downloads == 1 ? "" : "s", tot.operations,
			    tot.operations == 1 ? "" : "s");
	}
	if ((x = audit_damaged(store, ids, err, n, json)) > status)
		status = x;
	if ((x = audit_pruned(store, json)) > status)
		status = x;
	fflush(stdout);
	if (replay_check_report() && status == 0)
		status = 1;
out:
	free(ss);
	free(err);
	free(sel);
	replay_free_ids(ids, n);
	return status;
usage:
	fputs(AUDIT_USAGE, stderr);
	return 2;
}
