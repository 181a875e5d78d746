/* output.c: writing recorded terminal bytes to standard output. */
#include <errno.h>
#include <unistd.h>

#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

int
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
replay_open(const char *store, const char *cmd, const char *id, struct tr **out)
{
	char path[4096];
	int x;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK) {
		replay_err("%s: invalid session id \"%s\"", cmd, id);
		return 2;
	}
	if ((x = tr_open(path, out)) != REC_OK) {
		replay_err("%s: %s: %s", cmd, id, x == REC_ENOENT ?
		    "no such session" : rec_strerror(x));
		return 1;
	}
	return 0;
}
