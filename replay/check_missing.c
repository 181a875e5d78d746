/* check_missing.c: the sessions the journal names whose file is gone
 * (replay.h, replay_check_missing), so that a reader verifying only some
 * sessions (replay_check_ids) still names a deleted one. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/transcript.h"
#include "replay/replay.h"

struct cm {
	const char *store;
	char **v;		/* ids found missing, malloc'd */
	size_t n, cap;
	char last[SEAL_ID_MAX + 1];
	int oom;
};

/* journal_cb: an entry's session, when its file is absent. */
static int
cm_entry(void *arg, const struct journal_entry *e, uint32_t index,
    uint64_t offset)
{
	struct cm *c = arg;
	char path[4096], **nv;
	struct stat st;
	size_t i;

	(void)index;
	(void)offset;
	if (strcmp(e->id, "journal") == 0 || strcmp(e->id, c->last) == 0)
		return 0;
	memcpy(c->last, e->id, sizeof(c->last));
	if (tw_path(c->store, e->id, path, sizeof(path)) != REC_OK ||
	    stat(path, &st) == 0)
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
	/* unverified: the verification that follows checks the journal */
	(void)journal_read(store, NULL, cm_entry, &c, &bad, &torn);
	*ids = c.v;
	*n = c.n;
	return c.oom ? REC_ENOMEM : 0;
}
