/* registry_redis_query: escorts' lookups of other proxies' sessions in a
 * registry shared through Redis (registry_redis.h): list, get, and an
 * action handed to the owning proxy's inbox with its answer awaited.  Each
 * call opens its own connection on the caller's (worker) thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"
#include "proxy/registry_redis_wire.h"

/* Appends s to *v (count *n) unless a session with its id is there. */
static int
append(struct px_reg_session **v, long *n, const struct px_reg_session *s)
{
	struct px_reg_session *nv;

	for (long i = 0; i < *n; i++)
		if (strcmp((*v)[i].id, s->id) == 0)
			return PX_OK;
	if ((nv = realloc(*v, ((size_t)*n + 1) * sizeof(*nv))) == NULL)
		return PX_ENOMEM;
	nv[(*n)++] = *s;
	*v = nv;
	return PX_OK;
}

/* Shows s as ended, why. */
static void
mark_ended(struct px_reg_session *s, const char *why)
{
	s->state = PX_REG_ENDED;
	s->pending[0] = '\0';
	s->joined = 0;
	snprintf(s->ended, sizeof(s->ended), "%s", why);
}

/* The value of field in a HGETALL reply, or NULL. */
static const char *
hash_get(const redisReply *h, const char *field)
{
	for (size_t i = 0; h != NULL && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
		if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, field) == 0)
			return h->element[i + 1]->type == REDIS_REPLY_STRING ? h->element[i + 1]->str : NULL;
	return NULL;
}

/* Appends the sessions of the HGETALL reply h (from proxy, alive or not;
 * ended: the ended hash, why from whys). */
static int
append_hash(struct px_rr *rr, const redisReply *h, const char *proxy, int alive, const redisReply *whys,
    struct px_reg_session **v, long *n)
{
	struct px_reg_session s;
	char why[PX_REG_REASON_MAX];

	if (h == NULL || h->type != REDIS_REPLY_ARRAY)
		return PX_OK;
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		const redisReply *val = h->element[i + 1];
		if (val->type != REDIS_REPLY_STRING || px__rrw_session_decode(val->str, val->len, &s) != PX_OK) {
			px_log(PX_LOG_WARN, NULL, "registry: a malformed session in redis://%s:%d skipped",
			    rr->host, rr->port);
			continue;
		}
		if (proxy != NULL)
			snprintf(s.proxy, sizeof(s.proxy), "%s", proxy);
		if (whys != NULL) {
			const char *w = hash_get(whys, s.id);
			mark_ended(&s, w != NULL ? w : "its proxy stopped answering");
		} else if (!alive) {
			snprintf(why, sizeof(why), "proxy %s stopped answering (no heartbeat for %d s)", s.proxy,
			    PX_RR_TTL_MS / 1000);
			mark_ended(&s, why);
		}
		if (append(v, n, &s) != PX_OK)
			return PX_ENOMEM;
	}
	return PX_OK;
}

/* Appends every other proxy's sessions, then the ended ones.  PX_OK,
 * PX_ENOMEM, or PX_ETIMEDOUT (Redis did not answer: logged). */
static int
collect(struct px_rr *rr, redisContext *c, struct px_reg_session **v, long *n)
{
	redisReply *names, **r = NULL;
	size_t nn, sent = 0;
	int rc = PX_OK;

	if ((names = redisCommand(c, "SMEMBERS escort:proxies")) == NULL || names->type != REDIS_REPLY_ARRAY) {
		px__rr_down(rr, "list", names == NULL ? c->errstr : "SMEMBERS");
		if (names != NULL)
			freeReplyObject(names);
		return PX_ETIMEDOUT;
	}
	nn = names->elements;
	for (size_t i = 0; i < nn; i++) {
		redisAppendCommand(c, "EXISTS escort:alive:%s", names->element[i]->str);
		redisAppendCommand(c, "HGETALL escort:sessions:%s", names->element[i]->str);
	}
	redisAppendCommand(c, "HGETALL escort:ended");
	redisAppendCommand(c, "HGETALL escort:ended:why");
	if ((r = calloc(2 * nn + 2, sizeof(*r))) == NULL) {
		freeReplyObject(names);
		return PX_ENOMEM;	/* the connection is dropped by the caller */
	}
	for (sent = 0; sent < 2 * nn + 2; sent++)
		if (redisGetReply(c, (void **)&r[sent]) != REDIS_OK) {
			px__rr_down(rr, "list", c->errstr);
			rc = PX_ETIMEDOUT;
			break;
		}
	for (size_t i = 0; rc == PX_OK && i < nn; i++) {
		const char *name = names->element[i]->str;
		if (strcmp(name, rr->name) == 0)
			continue;	/* ours are in the local registry */
		rc = append_hash(rr, r[2 * i + 1], name, r[2 * i]->type == REDIS_REPLY_INTEGER &&
		    r[2 * i]->integer == 1, NULL, v, n);
	}
	if (rc == PX_OK)
		rc = append_hash(rr, r[2 * nn], NULL, 0, r[2 * nn + 1], v, n);
	if (rc == PX_OK)
		px__rr_up(rr);
	for (size_t i = 0; i < sent; i++)
		freeReplyObject(r[i]);
	free(r);
	freeReplyObject(names);
	return rc;
}

int
px__rr_list(void *ud, struct px_reg_session **v, long *n)
{
	struct px_rr *rr = ud;
	redisContext *c = px__rr_connect(rr, PX_RR_CALL_MS);
	int rc;

	if (c == NULL)
		return PX_OK;	/* logged; only local sessions are listed */
	rc = collect(rr, c, v, n);
	redisFree(c);
	return rc == PX_ENOMEM ? PX_ENOMEM : PX_OK;
}

/* The session id of another proxy into *out: PX_OK, PX_EPOLICY (none has
 * it), PX_ETIMEDOUT, PX_ENOMEM. */
static int
find(struct px_rr *rr, redisContext *c, const char *id, struct px_reg_session *out)
{
	struct px_reg_session *v = NULL;
	long n = 0;
	int rc = collect(rr, c, &v, &n);

	if (rc == PX_OK) {
		rc = PX_EPOLICY;
		for (long i = 0; i < n; i++)
			if (strcmp(v[i].id, id) == 0) {
				*out = v[i];
				rc = PX_OK;
				break;
			}
	}
	free(v);
	return rc;
}

int
px__rr_get(void *ud, const char *id, struct px_reg_session *out)
{
	struct px_rr *rr = ud;
	redisContext *c = px__rr_connect(rr, PX_RR_CALL_MS);
	int rc;

	if (c == NULL)
		return PX_ETIMEDOUT;
	rc = find(rr, c, id, out);
	redisFree(c);
	return rc;
}

/* Hands a to the owning proxy's inbox and waits for its answer. */
static int
ask(struct px_rr *rr, redisContext *c, const struct px_reg_action *a, const struct px_reg_session *s,
    struct px_reg_session *now)
{
	struct timeval tv = { PX_RR_ANSWER_MS / 1000 + 1, 0 };
	unsigned char rnd[16];
	char reply[PX_RRW_REPLY_MAX], buf[PX_RRW_MAX];
	redisReply *r;
	int rc, arc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return PX_ETIMEDOUT;
	snprintf(reply, sizeof(reply), "escort:reply:");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(reply + strlen(reply), sizeof(reply) - strlen(reply), "%02x", rnd[i]);
	if (px__rrw_action_encode(a, reply, buf, sizeof(buf)) < 0)
		return PX_EINVAL;
	if ((r = redisCommand(c, "LPUSH escort:inbox:%s %s", s->proxy, buf)) == NULL) {
		px__rr_down(rr, "action", c->errstr);
		return PX_ETIMEDOUT;
	}
	freeReplyObject(r);
	redisSetTimeout(c, tv);
	r = redisCommand(c, "BRPOP %s %d", reply, PX_RR_ANSWER_MS / 1000);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		px_log(PX_LOG_WARN, a->id, "registry: proxy %s did not answer %s's %s within %d s", s->proxy,
		    a->escort, px__reg_verb_name(a->verb), PX_RR_ANSWER_MS / 1000);
		if (r != NULL)
			freeReplyObject(r);
		*now = *s;
		return PX_ETIMEDOUT;
	}
	rc = px__rrw_answer_decode(r->element[1]->str, r->element[1]->len, &arc, now);
	freeReplyObject(r);
	if (rc != PX_OK)
		return PX_ETIMEDOUT;
	snprintf(now->proxy, sizeof(now->proxy), "%s", s->proxy);
	return arc;
}

int
px__rr_post(void *ud, const struct px_reg_action *a, struct px_reg_session *now)
{
	struct px_rr *rr = ud;
	struct px_reg_session s, tmp;
	redisContext *c = px__rr_connect(rr, PX_RR_CALL_MS);
	int rc;

	if (now == NULL)
		now = &tmp;
	if (c == NULL)
		return PX_ETIMEDOUT;
	if ((rc = find(rr, c, a->id, &s)) == PX_OK && s.state == PX_REG_ENDED) {
		*now = s;
		rc = PX_EINVAL;
	} else if (rc == PX_OK) {
		rc = ask(rr, c, a, &s, now);
	}
	redisFree(c);
	return rc;
}
