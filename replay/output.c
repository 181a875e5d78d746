/* output.c: writing recorded terminal bytes to standard output. */
#include <errno.h>
#include <string.h>
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
replay_rec_status(int rec)
{
	switch (rec) {
	case REC_EIO:
	case REC_EPERM:
	case REC_ENOMEM:
	case REC_ENOSPC:
		return 2;
	default:
		return 1;
	}
}

int
replay_open(const char *store, const char *cmd, const char *id, struct tr **out)
{
	char path[4096];
	int x, saved;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK) {
		replay_err("%s: invalid session id \"%s\"", cmd, id);
		return 2;
	}
	if ((x = tr_open(path, out)) != REC_OK) {
		saved = errno;
		if (x == REC_ENOENT) {
			replay_err("%s: %s: no such session", cmd, id);
			return 1;
		}
		if (replay_rec_status(x) == 2) {
			replay_err("%s: %s: %s", cmd, path, x == REC_ENOMEM ?
			    rec_strerror(x) : strerror(saved));
			return 2;
		}
		/* Damaged: say where, as verify would, when checks are on. */
		if (replay_check_session(store, id) == 0)
			replay_err("%s: %s: damaged: %s", cmd, id, rec_strerror(x));
		return 1;
	}
	if ((x = replay_check_session(store, id)) != 0) {
		if (x == 1)
			replay_err("%s: %s: refused: nothing of it is shown "
			    "(--no-verify shows it unchecked)", cmd, id);
		tr_free(*out);
		*out = NULL;
		return x;
	}
	return 0;
}
