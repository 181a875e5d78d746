/* check_missing.c: the sessions the journal names whose file is gone
 * (replay.h, replay_check_missing), so that a reader verifying only some
 * sessions (replay_check_ids) still names a deleted one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/journal.h"
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
