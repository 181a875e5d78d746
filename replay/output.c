/* output.c: writing recorded terminal bytes to standard output. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
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
	case REC_EISDIR:
	case REC_EPERM:
	case REC_ENOMEM:
	case REC_ENOSPC:
		return 2;
	default:
		return 1;
	}
}

/* replay_open's verification on a second thread (replay_open_bg). */
static struct {
	pthread_t thread;
	int started;
	const char *store, *cmd, *id;
	int verdict;
} bg;

static void *
open_bg_check(void *arg)
{
	(void)arg;
	bg.verdict = replay_check_session(bg.store, bg.id);
	if (bg.verdict == 1)
		replay_err("%s: %s: refused: nothing of it is shown "
		    "(--no-verify shows it unchecked)", bg.cmd, bg.id);
	return NULL;
}

/* A session without a file: pruned (its prune entry names where it is
 * held), deleted (the journal names it, as verify reports it), or none. */
static void
open_missing(const char *store, const char *cmd, const char *id)
{
	struct replay_pruned *p = NULL;
	char **gone = NULL;
	size_t n = 0, ngone = 0, i, j;

	(void)replay_pruned_list(store, &p, &n);
	for (i = 0; i < n && strcmp(p[i].id, id) != 0; i++)
		;
	(void)replay_check_missing(store, &gone, &ngone);
	for (j = 0; j < ngone && strcmp(gone[j], id) != 0; j++)
		;
	if (i < n)
		replay_err("%s: %s: pruned from this store, held in %s (read it "
		    "with --store s3://BUCKET/PREFIX)", cmd, id, p[i].url);
	else if (j < ngone)
		replay_err("%s: %s: session file %s/sessions/%s.est is missing "
		    "(deleted): the journal names the session", cmd,
		    replay_esc(id), store, replay_esc(id));
	else
		replay_err("%s: %s: no such session", cmd, replay_esc(id));
	replay_free_ids(gone, ngone);
	free(p);
}

/* Opens the file; for a damaged one, says so (verifying it to say where).
 * Returns 0 or an exit status. */
static int
open_file(const char *store, const char *cmd, const char *id, struct tr **out)
{
	char path[4096];
	int x, saved;

	if (tw_path(store, id, path, sizeof(path)) != REC_OK) {
		replay_err("%s: invalid session id \"%s\"", cmd,
		    replay_esc(id));
		return 2;
	}
	if ((x = replay_tr_open(path, out)) != REC_OK) {
		saved = errno;
		if (x == REC_ENOENT) {
			open_missing(store, cmd, id);
			return 1;
		}
		if (replay_rec_status(x) == 2) {
			replay_err("%s: %s: %s", cmd, path, x == REC_ENOMEM ?
			    rec_strerror(x) : strerror(saved));
			return 2;
		}
		/* Damaged: say where, as verify would, when checks are on. */
		if (replay_check_session(store, id) == 0)
			replay_err("%s: %s: damaged: %s", cmd, replay_esc(id),
			    rec_strerror(x));
		return 1;
	}
	return 0;
}

int
replay_open(const char *store, const char *cmd, const char *id, struct tr **out)
{
	int x;

	if ((x = open_file(store, cmd, id, out)) != 0)
		return x;
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

int
replay_open_bg(const char *store, const char *cmd, const char *id,
    struct tr **out)
{
	int x;

	if ((x = open_file(store, cmd, id, out)) != 0)
		return x;
	bg.store = store;
	bg.cmd = cmd;
	bg.id = id;
	bg.verdict = 0;
	bg.started = pthread_create(&bg.thread, NULL, open_bg_check, NULL) == 0;
	if (!bg.started)	/* no thread: verify here, as replay_open does */
		open_bg_check(NULL);
	return 0;
}

int
replay_open_wait(void)
{
	if (bg.started)
		pthread_join(bg.thread, NULL);
	bg.started = 0;
	return bg.verdict;
}
