/* sessions.c: enumerating the sessions of a store and reading their
 * metadata, for the commands that work across sessions. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

static int
replay_id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
replay_session_ids(const char *store, char ***out, size_t *n)
{
	char dir[4096], **ids = NULL, **nids;
	size_t cap = 0, len, sl = strlen(TR_SUFFIX);
	struct dirent *d;
	DIR *dp;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/%s", store, TR_SESSIONS_DIR);
	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len <= sl || len - sl > SEAL_ID_MAX ||
		    strcmp(d->d_name + len - sl, TR_SUFFIX) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nids = realloc(ids, cap * sizeof(*ids))) == NULL)
				goto fail;
			ids = nids;
		}
		if ((ids[*n] = strndup(d->d_name, len - sl)) == NULL)
			goto fail;
		(*n)++;
	}
	closedir(dp);
	if (*n > 0)
		qsort(ids, *n, sizeof(*ids), replay_id_cmp);
	*out = ids;
	return 0;
fail:
	closedir(dp);
	replay_free_ids(ids, *n);
	*n = 0;
	errno = ENOMEM;
	return -1;
}

void
replay_free_ids(char **ids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
replay_each_session(const char *store, const char *cmd,
    int (*one)(const char *store, const char *id, void *arg), void *arg)
{
	char **ids;
	size_t n, i;
	int x, bad;

	if (replay_session_ids(store, &ids, &n) != 0) {
		replay_err("%s: %s/%s: %s", cmd, store, TR_SESSIONS_DIR,
		    strerror(errno));
		return 2;
	}
	if ((bad = replay_check_all(store)) != 0) {
		replay_free_ids(ids, n);
		return bad;
	}
	for (i = 0; i < n; i++)
		if ((x = one(store, ids[i], arg)) > bad)
			bad = x;
	replay_free_ids(ids, n);
	fflush(stdout);
	if (replay_check_report() && bad == 0)
		bad = 1;
	return bad;
}

void
replay_meta(struct tr *r, char *user, size_t usz, char *target, size_t tsz)
{
	const uint8_t *meta;
	size_t mlen, used;
	struct ev e;

	user[0] = target[0] = '\0';
	tr_meta(r, &meta, &mlen);
	if (ev_decode(meta, mlen, &e, &used) != REC_OK || e.type != EV_META)
		return;
	ev_fields_get_str(e.data, e.len, EVF_USER, user, usz);
	ev_fields_get_str(e.data, e.len, EVF_TARGET, target, tsz);
}

int
replay_tr_open(const char *path, struct tr **out)
{
	static const struct timespec again = { 0, 200 * 1000 * 1000 };
	int x;

	if ((x = tr_open(path, out)) != REC_EAGAIN)
		return x;
	nanosleep(&again, NULL);	/* a file being created: look again */
	if ((x = tr_open(path, out)) != REC_EAGAIN)
		return x;
	/* no longer a write in progress: a head cut short (as verify says) */
	return access(path, F_OK) == 0 ? REC_ETRUNC : REC_EAGAIN;
}

int
replay_open_quiet(const char *store, const char *id, struct tr **out)
{
	char path[4096];
	int x;

	if ((x = tw_path(store, id, path, sizeof(path))) != REC_OK)
		return x;
	return replay_tr_open(path, out);
}

/* Control bytes of a recorded string shown as '?' (it reaches terminals). */
static void
replay_end_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void
replay_end_note(struct replay_end *end, const struct ev *e)
{
	if (e->type != EV_END) {
		if (e->type != EV_RECOVERY)
			end->has_end = 0;
		return;
	}
	end->has_end = 1;
	ev_end_parse(e->data, e->len, &end->info);
	replay_end_clean(end->info.kind);
	replay_end_clean(end->info.reason);
	replay_end_clean(end->info.by);
}

void
replay_end_done(struct replay_end *end, struct tr *r)
{
	end->finished = tr_finished(r);
}

int
replay_end_read(struct tr *r, uint64_t last_seq, int finished,
    struct replay_end *end)
{
	struct ev e;
	int x;

	memset(end, 0, sizeof(*end));
	if (last_seq > 0 && (x = tr_seek_seq(r, last_seq)) != REC_OK)
		return x;
	while ((x = tr_next(r, &e)) == 1)
		replay_end_note(end, &e);
	if (x < 0) {
		memset(end, 0, sizeof(*end));
		return x;
	}
	end->finished = finished;
	return REC_OK;
}

const char *
replay_end_label(const struct replay_end *end)
{
	if (end->has_end)
		return end->info.kind[0] ? end->info.kind : "closed";
	return end->finished ? "no-end" : "open";
}

void
replay_json_str_or_null(const char *s)
{
	if (s == NULL || s[0] == '\0')
		printf("null");
	else
		replay_json_str(stdout, s);
}
