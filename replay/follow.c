/* follow.c: "escort-replay follow (ID | --user U | --latest)": the terminal
 * output of a session as it is recorded, like tail -f; ends when the
 * session is closed.  --user U follows the newest session of user U that
 * is not closed yet, --latest the newest of anyone; when there is none yet,
 * it waits for one to start.  What is recorded when it starts is verified
 * first (refused when it does not verify); the whole session is verified
 * again once it is closed (exit 1 when that fails: the output was shown,
 * the problem is on stderr). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

#define FOLLOW_POLL_NS 100000000	/* 100 ms */
#define FOLLOW_SCAN_NS 250000000	/* 250 ms between looks for a session */

/* Finds the newest session not closed yet, of user (NULL: anyone), into
 * id.  Returns 1 found, 0 none, -1 the store could not be read. */
static int
follow_pick(const char *store, const char *user, char *id, size_t idsz)
{
	char **ids, u[256], t[256];
	uint64_t best = 0, w;
	struct tr_summary s;
	struct tr *r;
	size_t n, i;
	int found = 0;

	if (replay_session_ids(store, &ids, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (replay_open_quiet(store, ids[i], &r) != REC_OK)
			continue;
		replay_meta(r, u, sizeof(u), t, sizeof(t));
		w = tr_start_wall_ns(r);
		if ((user == NULL || strcmp(u, user) == 0) && (!found || w >= best) &&
		    tr_summarize(r, &s) == REC_OK && !s.finished && !s.damaged) {
			best = w;
			found = 1;
			snprintf(id, idsz, "%s", ids[i]);
		}
		tr_free(r);
	}
	replay_free_ids(ids, n);
	return found;
}

/* Follows session id to its close. */
static int
follow_one(const char *store, const char *id)
{
	const struct timespec poll = { 0, FOLLOW_POLL_NS };
	struct tr *r;
	struct ev e;
	int x;

	if ((x = replay_open(store, "follow", id, &r)) != 0)
		return x;
	for (;;) {
		x = tr_next(r, &e);
		if (x < 0) {
			replay_err("follow: %s: %s at offset %llu",
			    replay_esc(id),
			    rec_strerror(x), (unsigned long long)tr_error_offset(r));
			tr_free(r);
			return replay_rec_status(x);
		}
		if (x == 0) {
			if (tr_finished(r))
				break;
			nanosleep(&poll, NULL);
			continue;
		}
		if ((e.type == EV_OUTPUT || e.type == EV_STDERR) &&
		    replay_write_all(e.data, e.len) != 0) {
			replay_err("follow: write: %s", strerror(errno));
			tr_free(r);
			return 2;
		}
	}
	tr_free(r);
	if ((x = replay_check_closed(store, id)) == 1)
		replay_err("follow: %s: the closed session does not verify: the "
		    "output above cannot be trusted", id);
	return x;
}

int
replay_follow(const char *store, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "latest", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const struct timespec scan = { 0, FOLLOW_SCAN_NS };
	const char *user = NULL;
	char id[256];
	int c, latest = 0, x, said = 0;

	while ((c = getopt_long(argc, argv, "u:l", opts, NULL)) != -1) {
		if (c == 'u')
			user = optarg;
		else if (c == 'l')
			latest = 1;
		else
			goto usage;
	}
	if ((user != NULL) + latest + (argc - optind) != 1 || argc - optind > 1)
		goto usage;
	if (argc - optind == 1)
		return follow_one(store, argv[optind]);
	while ((x = follow_pick(store, user, id, sizeof(id))) == 0) {
		if (!said++)
			fprintf(stderr, "escort-replay: follow: no open session of %s"
			    " yet: waiting for one\n", user ? user : "anyone");
		nanosleep(&scan, NULL);
	}
	if (x < 0) {
		replay_err("follow: store %s: %s", store, strerror(errno));
		return 2;
	}
	fprintf(stderr, "escort-replay: follow: session %s\n", id);
	return follow_one(store, id);
usage:
	fprintf(stderr, "usage: escort-replay [--store DIR] follow "
	    "(ID | --user U | --latest)\n");
	return 2;
}
