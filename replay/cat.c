/* cat.c: "escort-replay cat ID": the bytes the technician's terminal
 * received (OUTPUT and STDERR events, in order), written unchanged. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

static int
replay_write_all(const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
replay_cat(const char *store, int argc, char **argv)
{
	char path[4096];
	struct tr *r;
	struct ev e;
	int x;

	if (argc != 2) {
		fprintf(stderr, "usage: escort-replay [--store DIR] cat ID\n");
		return 2;
	}
	if (tw_path(store, argv[1], path, sizeof(path)) != REC_OK) {
		replay_err("cat: invalid session id \"%s\"", argv[1]);
		return 2;
	}
	if ((x = tr_open(path, &r)) != REC_OK) {
		replay_err("cat: %s: %s", argv[1], x == REC_ENOENT ?
		    "no such session" : rec_strerror(x));
		return 1;
	}
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
		return 1;
	}
	tr_free(r);
	return 0;
}
