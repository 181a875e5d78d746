/* check_missing.c: the sessions the journal names whose file is gone
 * (replay.h, replay_check_missing), so that a reader verifying only some
 * sessions (replay_check_ids) still names a deleted one; and those of them
 * that were pruned (replay_pruned_list), for list and audit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/journal.h"
#include "recorder/journal_prune.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

struct cm {
	const char *store;
	char **dir;		/* the session files present, sorted */
	size_t ndir;
	char **v;		/* ids found missing, malloc'd */
	size_t n, cap;
	char last[SEAL_ID_MAX + 1];
	int oom;
};

static int
cm_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* journal_cb: an entry's session, when its file is absent. */
static int
cm_entry(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct cm *c = arg;
	char **nv;
	const char *id = e->id;
	size_t i;

	(void)index;
	(void)offset;
	if (strcmp(e->id, "journal") == 0 || strcmp(e->id, c->last) == 0)
		return 0;
	memcpy(c->last, e->id, sizeof(c->last));
	if (bsearch(&id, c->dir, c->ndir, sizeof(*c->dir), cm_cmp) != NULL)
		return 0;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i], e->id) == 0)
			return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		if ((nv = realloc(c->v, c->cap * sizeof(*nv))) == NULL) {
			c->oom = 1;
			return REC_ENOMEM;
		}
		c->v = nv;
	}
	if ((c->v[c->n] = strdup(e->id)) == NULL) {
		c->oom = 1;
		return REC_ENOMEM;
	}
	c->n++;
	return 0;
}

int
replay_check_missing(const char *store, char ***ids, size_t *n)
{
	struct cm c;
	uint64_t bad = 0;
	int torn = 0;

	memset(&c, 0, sizeof(c));
	c.store = store;
	if (replay_session_ids(store, &c.dir, &c.ndir) != 0)
		return errno == ENOMEM ? REC_ENOMEM : 0;	/* verify says */
	/* unverified: the verification that follows checks the journal */
	(void)journal_read(store, NULL, cm_entry, &c, &bad, &torn);
	replay_free_ids(c.dir, c.ndir);
	*ids = c.v;
	*n = c.n;
	return c.oom ? REC_ENOMEM : 0;
}

/* ---- sessions pruned (replay_pruned_list) --------------------------- */

struct pl {
	const char *store;
	struct replay_pruned *v;
	size_t n, cap;
	uint64_t open_ns;		/* of the session last opened, */
	char open_id[SEAL_ID_MAX + 1];	/* this one */
	int oom;
};

static struct replay_pruned *
pl_find(struct pl *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].id, id) == 0)
			return &l->v[i];
	return NULL;
}

/* journal_cb: prune entries whose file is absent; the times of the open
 * and close entries of every session are kept only for those. */
static int
pl_entry(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct pl *l = arg;
	struct replay_pruned *p;
	char path[4096];

	(void)index;
	(void)offset;
	if (e->kind != JOURNAL_PRUNE)
		return 0;
	if (tw_path(l->store, e->id, path, sizeof(path)) != REC_OK ||
	    access(path, F_OK) == 0 || pl_find(l, e->id) != NULL)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		if ((p = realloc(l->v, cap * sizeof(*p))) == NULL) {
			l->oom = 1;
			return REC_ENOMEM;
		}
		l->v = p;
		l->cap = cap;
	}
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", e->id);
	journal_prune_text_parse(e->text, p->url, sizeof(p->url), p->user,
	    sizeof(p->user), p->target, sizeof(p->target));
	return 0;
}

/* journal_cb, second pass: the open and close times of those sessions. */
static int
pl_times(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct pl *l = arg;
	struct replay_pruned *p;

	(void)index;
	(void)offset;
	if ((e->kind != JOURNAL_OPEN && e->kind != JOURNAL_CLOSE) ||
	    (p = pl_find(l, e->id)) == NULL)
		return 0;
	if (e->kind == JOURNAL_OPEN)
		p->open_ns = e->wall_ns;
	else
		p->close_ns = e->wall_ns;
	return 0;
}

int
replay_pruned_list(const char *store, struct replay_pruned **out, size_t *n)
{
	struct pl l;
	uint64_t bad = 0;
	int torn = 0;

	memset(&l, 0, sizeof(l));
	l.store = store;
	/* unverified: the verification that follows checks the journal */
	(void)journal_read(store, NULL, pl_entry, &l, &bad, &torn);
	if (l.n > 0 && !l.oom)
		(void)journal_read(store, NULL, pl_times, &l, &bad, &torn);
	if (l.oom) {
		free(l.v);
		l.v = NULL;
		l.n = 0;
	}
	*out = l.v;
	*n = l.n;
	return l.oom ? REC_ENOMEM : 0;
}
