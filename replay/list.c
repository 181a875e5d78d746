/* list.c: "escort-replay list": one line (or JSON object) per session,
 * with its status (closed, live, resume-refused, damaged, unreadable, or
 * pruned: its file removed once the object store held it), the
 * verdict of verification
 * (ok, chain-only, FAILED, skipped) and how it ended (the END event's kind:
 * normal, client-lost, target-lost, ..., or open / no-end; replay_end_label). */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

struct replay_row {
	char id[SEAL_ID_MAX + 1];
	char user[128], target[128], login[128];
	uint64_t start, end;
	uint64_t size, events;
	uint32_t resumes_refused;	/* the recorder's MARKERs (flagged) */
	const char *status;
	const char *verify;
	char problem[320];	/* why it does not verify or cannot be read */
	struct replay_end ended;
	int ended_known;	/* the last event could be read */
	char held[600];		/* pruned: the object's address */
};

static int
replay_row_cmp(const void *a, const void *b)
{
	const struct replay_row *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
replay_row_load(const char *store, const char *id, struct replay_row *row)
{
	char path[4096];
	struct tr *r;
	struct tr_summary s;
	struct ev e;
	const uint8_t *meta;
	size_t mlen, used;
	int x;

	memset(row, 0, sizeof(*row));
	if (strlen(id) >= sizeof(row->id))
		return REC_EINVAL;
	memcpy(row->id, id, strlen(id) + 1);
	row->status = "damaged";
	if ((x = tw_path(store, id, path, sizeof(path))) != REC_OK ||
	    (x = replay_tr_open(path, &r)) != REC_OK)
		return x;
	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) == REC_OK && e.type == EV_META) {
		ev_fields_get_str(e.data, e.len, EVF_USER, row->user, sizeof(row->user));
		ev_fields_get_str(e.data, e.len, EVF_TARGET, row->target,
		    sizeof(row->target));
		ev_fields_get_str(e.data, e.len, EVF_LOGIN, row->login,
		    sizeof(row->login));
	}
	if ((x = tr_summarize(r, &s)) == REC_OK) {
		row->start = s.start_wall_ns;
		row->end = s.end_wall_ns;
		row->size = s.size;
		row->events = s.last_seq;
		row->resumes_refused = s.resumes_refused;
		/* a refused resume outranks closed/live: acknowledged events
		 * are missing (the end column still says how it ended) */
		row->status = s.damaged ? "damaged" : s.resumes_refused > 0 ?
		    "resume-refused" : s.finished ? "closed" : "live";
		if (!s.damaged)
			row->ended_known = replay_end_read(r, s.last_seq,
			    s.finished, &row->ended) == REC_OK;
	}
	tr_free(r);
	return x;
}

static void
replay_row_print(const struct replay_row *row, int json)
{
	char start[32], end[32];

	replay_time(row->start, start, sizeof(start));
	replay_time(row->end, end, sizeof(end));
	if (!row->start)
		snprintf(start, sizeof(start), "-");
	if (!json) {
		printf("%-28s %-12s %-12s %-20s %-20s %-7s %-10s %-7" PRIu64 " %s\n",
		    replay_esc(row->id), row->user[0] ? row->user : "-",
		    row->target[0] ? row->target : "-", start,
		    row->end ? end : "-", row->status, row->verify, row->events,
		    row->ended_known ? replay_end_label(&row->ended) :
		    row->held[0] ? row->held : "-");
		return;
	}
	printf("{\"id\":");
	replay_json_str(stdout, row->id);
	printf(",\"user\":");
	replay_json_str(stdout, row->user);
	printf(",\"target\":");
	replay_json_str(stdout, row->target);
	printf(",\"login\":");
	replay_json_str(stdout, row->login);
	printf(",\"start\":");
	if (row->start)
		printf("\"%s\"", start);
	else
		printf("null");
	printf(",\"end\":");
	if (row->end)
		printf("\"%s\"", end);
	else
		printf("null");
	printf(",\"status\":\"%s\",\"verify\":\"%s\",\"events\":%" PRIu64
	    ",\"size\":%" PRIu64 ",\"resumes_refused\":%" PRIu32, row->status,
	    row->verify, row->events, row->size, row->resumes_refused);
	printf(",\"ended\":");
	if (row->ended_known)
		printf("\"%s\"", replay_end_label(&row->ended));
	else
		printf("null");
	printf(",\"end_kind\":");
	replay_json_str_or_null(row->ended_known && row->ended.has_end ?
	    row->ended.info.kind : NULL);
	printf(",\"end_reason\":");
	replay_json_str_or_null(row->ended_known && row->ended.has_end ?
	    row->ended.info.reason : NULL);
	printf(",\"end_by\":");
	replay_json_str_or_null(row->ended_known && row->ended.has_end ?
	    row->ended.info.by : NULL);
	if (row->held[0]) {
		printf(",\"held_in\":");
		replay_json_str(stdout, row->held);
	}
	if (row->problem[0]) {
		printf(",\"problem\":");
		replay_json_str(stdout, row->problem);
	}
	printf("}\n");
}

/* Rows for the sessions pruned (no file: what the journal says of them,
 * and the verification's verdict), appended to *rows.  Returns 0 or 2. */
static int
list_pruned(const char *store, struct replay_row **rows, size_t *nrows)
{
	struct replay_pruned *p = NULL;
	struct replay_row *nr;
	size_t n = 0, i;

	if (replay_pruned_list(store, &p, &n) != 0) {
		replay_err("list: out of memory");
		return 2;
	}
	if (n == 0)
		return 0;
	if ((nr = realloc(*rows, (*nrows + n) * sizeof(*nr))) == NULL) {
		free(p);
		replay_err("list: out of memory");
		return 2;
	}
	*rows = nr;
	for (i = 0; i < n; i++) {
		struct replay_row *row = &nr[(*nrows)++];

		memset(row, 0, sizeof(*row));
		snprintf(row->id, sizeof(row->id), "%s", p[i].id);
		snprintf(row->held, sizeof(row->held), "%s", p[i].url);
		/* from the signed prune entry: the file is gone */
		snprintf(row->user, sizeof(row->user), "%s", p[i].user);
		snprintf(row->target, sizeof(row->target), "%s", p[i].target);
		row->start = p[i].open_ns;
		row->end = p[i].close_ns;
		row->status = "pruned";
		row->verify = replay_vstate_name(replay_check_state(p[i].id));
		snprintf(row->problem, sizeof(row->problem), "%s",
		    replay_check_problem(p[i].id));
	}
	free(p);
	return 0;
}

int
replay_list(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "target", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *target = NULL;
	uint64_t since = 0, until = UINT64_MAX;
	struct replay_row *rows = NULL;
	char **ids;
	size_t nrows = 0, nids, i;
	int json = 0, c, x, status = 0;

	while ((c = getopt_long(argc, argv, "ju:t:s:U:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 's':
		case 'U':
			if (replay_parse_time(optarg, c == 's' ? &since : &until) != 0) {
				replay_err("list: bad time \"%s\" (use YYYY-MM-DD[THH:MM[:SS]] "
				    "UTC or @SECONDS)", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: escort-replay list [--user U] [--target T] "
			    "[--since TIME] [--until TIME] [--json]\n");
			return 2;
		}
	}
	if (optind < argc) {
		replay_err("list: unexpected argument \"%s\" (filters are "
		    "--user U, --target T, --since TIME, --until TIME)",
		    replay_esc(argv[optind]));
		return 2;
	}
	if (replay_session_ids(store, &ids, &nids) != 0) {
		replay_err("list: %s/%s: %s", store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((x = replay_check_all(store)) != 0) {
		replay_free_ids(ids, nids);
		return x;
	}
	if (nids > 0 && (rows = calloc(nids, sizeof(*rows))) == NULL) {
		replay_err("list: out of memory");
		replay_free_ids(ids, nids);
		return 2;
	}
	for (i = 0; i < nids; i++) {
		x = replay_row_load(store, ids[i], &rows[nrows]);
		if (x == REC_EAGAIN)
			continue;	/* created this instant: no head yet */
		rows[nrows].verify = replay_vstate_name(replay_check_state(ids[i]));
		snprintf(rows[nrows].problem, sizeof(rows[nrows].problem), "%s",
		    replay_check_problem(ids[i]));
		if (x != REC_OK) {
			/* Listed, never left out: the head cannot be read. */
			replay_err("list: %s: %s", replay_esc(ids[i]),
			    rec_strerror(x));
			snprintf(rows[nrows].problem, sizeof(rows[nrows].problem),
			    "%s", rec_strerror(x));
			if (replay_rec_status(x) == 2)
				rows[nrows].status = "unreadable";
			status = status > replay_rec_status(x) ? status :
			    replay_rec_status(x);
		} else if (strcmp(rows[nrows].status, "damaged") == 0) {
			replay_err("list: %s: damaged (see escort-replay verify)",
			    ids[i]);
			status = status ? status : 1;
		}
		nrows++;
	}
	replay_free_ids(ids, nids);
	if ((x = list_pruned(store, &rows, &nrows)) != 0) {
		free(rows);
		return x;
	}
	if (nrows > 0)
		qsort(rows, nrows, sizeof(*rows), replay_row_cmp);
	if (!json && nrows > 0)
		printf("%-28s %-12s %-12s %-20s %-20s %-7s %-10s %-7s %s\n", "ID", "USER",
		    "TARGET", "START", "END", "STATUS", "VERIFY", "EVENTS", "ENDED");
	for (i = 0; i < nrows; i++) {
		/* A head that cannot be read matches no filter and is shown
		 * whatever they say. */
		if (rows[i].status[0] != 'd' && rows[i].status[0] != 'u' &&
		    ((user && strcmp(user, rows[i].user) != 0) ||
		    (target && fnmatch(target, rows[i].target, 0) != 0) ||
		    rows[i].start < since || rows[i].start > until))
			continue;
		replay_row_print(&rows[i], json);
	}
	free(rows);
	fflush(stdout);
	if (replay_check_report() && status == 0)
		status = 1;
	return status;
}
