/* follow.c: "escort-replay follow ID": the terminal output of a session as
 * it is recorded, like tail -f; ends when the session is closed.  What is
 * recorded when it starts is verified first (refused when it does not
 * verify); the whole session is verified again once it is closed (exit 1
 * when that fails: the output was shown, the problem is on stderr). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

#define FOLLOW_POLL_NS 100000000	/* 100 ms */

int
replay_follow(const char *store, int argc, char **argv)
{
	const struct timespec poll = { 0, FOLLOW_POLL_NS };
	struct tr *r;
	struct ev e;
	int x;

	if (argc != 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] follow ID\n");
		return 2;
	}
	if ((x = replay_open(store, "follow", argv[1], &r)) != 0)
		return x;
	for (;;) {
		x = tr_next(r, &e);
		if (x < 0) {
			replay_err("follow: %s: %s at offset %llu", argv[1],
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
	if ((x = replay_check_closed(store, argv[1])) == 1)
		replay_err("follow: %s: the closed session does not verify: the "
		    "output above cannot be trusted", argv[1]);
	return x;
}
