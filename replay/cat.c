/* cat.c: "escort-replay cat ID": the bytes the technician's terminal
 * received (OUTPUT and STDERR events, in order), written unchanged, once
 * the session verified (replay_open).  The check reads the compressed
 * file (CRCs, chain, signatures); the page cache then serves the reading,
 * so it costs about a fifth of the decompression and writing. */
#include <errno.h>
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
	int x;

	if (argc != 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] cat ID\n");
		return 2;
	}
	if ((x = replay_open(store, "cat", argv[1], &r)) != 0)
		return x;
	while ((x = tr_next(r, &e)) == 1) {
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
