/* registry_redis_grant: the remote watchers this proxy may stream its
 * sessions to (registry_redis_int.h, "Grants").  A grant binds a remote
 * watcher's id to the join of one session by one escort that this proxy's
 * inbox thread accepted; a watcher registered in Redis without one gets
 * nothing (registry_redis_watch.c).  A list: grants live from a join to
 * its leave, a few per joined escort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/px_error.h"
#include "proxy/registry_redis_int.h"

struct px_rr_grant {
	struct px_rr_grant *next;
	char nonce[PX_RR_NONCE_MAX];
	char id[PX_REG_ID_MAX];
	char escort[PX_REG_NAME_MAX];
	int64_t at;                     /* when accepted (px__rr_now_ms) */
	int claimed;                    /* a watcher streams under it */
};

void
px__rr_grants_init(struct px_rr_grants *g)
{
	pthread_mutex_init(&g->mu, NULL);
	g->head = NULL;
	g->n = 0;
}

void
px__rr_grants_free(struct px_rr_grants *g)
{
	while (g->head != NULL) {
		struct px_rr_grant *x = g->head;
		g->head = x->next;
		free(x);
	}
	g->n = 0;
	pthread_mutex_destroy(&g->mu);
}

/* The grant of nonce, or NULL.  Under mu. */
static struct px_rr_grant **
grant_find(struct px_rr_grants *g, const char *nonce)
{
	for (struct px_rr_grant **pp = &g->head; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->nonce, nonce) == 0)
			return pp;
	return NULL;
}

int
px__rr_grant_add(struct px_rr_grants *g, const char *nonce, const char *id, const char *escort,
    int64_t now)
{
	struct px_rr_grant *x = NULL;
	int rc = PX_OK;

	if (!px__reg_watcher_ok(nonce, strlen(nonce)) || id[0] == '\0')
		return PX_EINVAL;
	pthread_mutex_lock(&g->mu);
	if (grant_find(g, nonce) != NULL)
		rc = PX_EINVAL;
	else if (g->n >= PX_RR_GRANTS_MAX || (x = calloc(1, sizeof(*x))) == NULL)
		rc = PX_ENOMEM;
	if (rc == PX_OK) {
		snprintf(x->nonce, sizeof(x->nonce), "%s", nonce);
		snprintf(x->id, sizeof(x->id), "%s", id);
		snprintf(x->escort, sizeof(x->escort), "%s", escort);
		x->at = now;
		x->next = g->head;
		g->head = x;
		g->n++;
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

int
px__rr_grant_drop(struct px_rr_grants *g, const char *nonce, const char *id)
{
	struct px_rr_grant **pp, *x = NULL;

	pthread_mutex_lock(&g->mu);
	if ((pp = grant_find(g, nonce)) != NULL && (id == NULL || strcmp((*pp)->id, id) == 0)) {
		x = *pp;
		*pp = x->next;
		g->n--;
	}
	pthread_mutex_unlock(&g->mu);
	free(x);
	return x != NULL;
}

int
px__rr_grant_claim(struct px_rr_grants *g, const char *nonce, const char *id, char *escort, size_t len)
{
	struct px_rr_grant **pp;
	int rc = PX_EPOLICY;

	pthread_mutex_lock(&g->mu);
	if ((pp = grant_find(g, nonce)) != NULL && strcmp((*pp)->id, id) == 0) {
		(*pp)->claimed = 1;
		snprintf(escort, len, "%s", (*pp)->escort);
		rc = PX_OK;
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void
px__rr_grant_release(struct px_rr_grants *g, const char *nonce, int64_t now)
{
	struct px_rr_grant **pp;

	pthread_mutex_lock(&g->mu);
	if ((pp = grant_find(g, nonce)) != NULL) {
		(*pp)->claimed = 0;
		(*pp)->at = now;
	}
	pthread_mutex_unlock(&g->mu);
}

int
px__rr_grant_has(struct px_rr_grants *g, const char *nonce)
{
	int has;

	pthread_mutex_lock(&g->mu);
	has = grant_find(g, nonce) != NULL;
	pthread_mutex_unlock(&g->mu);
	return has;
}

/* Whether session id is among the n sessions of live. */
static int
grant_live(const char *id, const struct px_reg_session *live, long n)
{
	for (long i = 0; i < n; i++)
		if (strcmp(live[i].id, id) == 0)
			return 1;
	return 0;
}

long
px__rr_grant_expire(struct px_rr_grants *g, int64_t now, const struct px_reg_session *live,
    long nlive)
{
	long dropped = 0;

	pthread_mutex_lock(&g->mu);
	for (struct px_rr_grant **pp = &g->head; *pp != NULL;) {
		struct px_rr_grant *x = *pp;
		if (x->claimed || (now - x->at <= PX_RR_GRANT_CLAIM_MS && grant_live(x->id, live, nlive))) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		g->n--;
		free(x);
		dropped++;
	}
	pthread_mutex_unlock(&g->mu);
	return dropped;
}

long
px__rr_grant_unclaimed(struct px_rr_grants *g)
{
	long n = 0;

	pthread_mutex_lock(&g->mu);
	for (const struct px_rr_grant *x = g->head; x != NULL; x = x->next)
		n += !x->claimed;
	pthread_mutex_unlock(&g->mu);
	return n;
}
