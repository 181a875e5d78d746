/* cat.c: "escort-replay cat ID": the bytes the technician's terminal
 * received (OUTPUT and STDERR events, in order), written unchanged, once
 * the session verified (replay_open).  The check reads the compressed
 * file (CRCs, chain, signatures); the page cache then serves the reading,
 * so it costs about a fifth of the decompression and writing.  A resume the
 * recorder refused (its MARKER: acknowledged events are missing) is noted
 * on stderr where it comes, not in the bytes shown. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

int
replay_cat(const char *store, int argc, char **argv)
{
	struct tr *r;
	struct ev e;
	uint64_t acked, stored;
	int x;

	if (argc == 3 && strcmp(argv[1], "--") == 0) {	/* cat -- ID */
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] cat ID\n");
		return 2;
	}
	if ((x = replay_open(store, "cat", argv[1], &r)) != 0)
		return x;
	while ((x = tr_next(r, &e)) == 1) {
		if (replay_resume_refused(&e, &acked, &stored))
			replay_err("cat: %s: note: event %" PRIu64 ": the recorder "
			    "refused a resume: the proxy held an acknowledgement "
			    "for seq %" PRIu64 ", the store had events up to seq "
			    "%" PRIu64 " (acknowledged events are missing)",
			    argv[1], e.seq, acked, stored);
		if ((e.type == EV_OUTPUT || e.type == EV_STDERR) &&
		    replay_write_all(e.data, e.len) != 0) {
			replay_err("cat: write: %s", strerror(errno));
			tr_free(r);
			return 2;
		}
	}
	if (x < 0) {
		replay_err("cat: %s: %s at offset %llu", argv[1], rec_strerror(x),
		    (unsigned long long)tr_error_offset(r));
		tr_free(r);
		return replay_rec_status(x);
	}
	tr_free(r);
	return 0;
}
