/* registry_redis: this proxy's side of a registry shared through Redis: the
 * heartbeat and inbox threads (registry_redis.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"
#include "proxy/registry_redis_wire.h"

#define INBOX_BLOCK "0.5"       /* seconds a BRPOP of the inbox waits */
#define REPLY_KEEP_MS 10000     /* an answer nobody took expires */

/* Moves the sessions of every proxy whose alive key expired to ended (with
 * why and when), forgets that proxy, and drops ended sessions older than
 * ARGV[3] seconds.  ARGV: now (seconds), the TTL in seconds (for the
 * reason), how long ended sessions stay.  Returns how many it moved. */
static const char reap_script[] =
	"local now, ttl, keep = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])\n"
	"local moved = 0\n"
	"for _, name in ipairs(redis.call('SMEMBERS', 'escort:proxies')) do\n"
	"  if redis.call('EXISTS', 'escort:alive:' .. name) == 0 then\n"
	"    local kv = redis.call('HGETALL', 'escort:sessions:' .. name)\n"
	"    for i = 1, #kv, 2 do\n"
	"      redis.call('HSET', 'escort:ended', kv[i], kv[i + 1])\n"
	"      redis.call('HSET', 'escort:ended:why', kv[i], 'proxy ' .. name ..\n"
	"        ' stopped answering (no heartbeat for ' .. ttl .. ' s)')\n"
	"      redis.call('ZADD', 'escort:ended:at', now, kv[i])\n"
	"      moved = moved + 1\n"
	"    end\n"
	"    redis.call('DEL', 'escort:sessions:' .. name, 'escort:inbox:' .. name)\n"
	"    redis.call('SREM', 'escort:proxies', name)\n"
	"  end\n"
	"end\n"
	"for _, id in ipairs(redis.call('ZRANGEBYSCORE', 'escort:ended:at', '-inf', now - keep)) do\n"
	"  redis.call('HDEL', 'escort:ended', id)\n"
	"  redis.call('HDEL', 'escort:ended:why', id)\n"
	"  redis.call('ZREM', 'escort:ended:at', id)\n"
	"end\n"
	"return moved\n";

int
px__rr_parse_url(const char *url, char *host, size_t hostlen, int *port)
{
	const char *h, *colon, *end;
	size_t n;
	long p;
	char *pe;

	if (strncmp(url, "redis://", 8) != 0)
		return PX_EINVAL;
	h = url + 8;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return PX_EINVAL;
		h++;
		colon = end + 1;
	} else {
		if ((colon = strrchr(h, ':')) == NULL || memchr(h, ':', (size_t)(colon - h)) != NULL)
			return PX_EINVAL;
		end = colon;
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= hostlen || memchr(h, '@', n) != NULL || memchr(h, '/', n) != NULL)
		return PX_EINVAL;
	errno = 0;
	p = strtol(colon + 1, &pe, 10);
	if (errno != 0 || pe == colon + 1 || *pe != '\0' || p < 1 || p > 65535)
		return PX_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (int)p;
	return PX_OK;
}

int
px__rr_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PX_RR_NAME_MAX)
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

void
px__rr_down(struct px_rr *rr, const char *what, const char *why)
{
	int log;

	pthread_mutex_lock(&rr->mu);
	log = !rr->down_logged;
	rr->down_logged = 1;
	pthread_mutex_unlock(&rr->mu);
	if (log)
		px_log(PX_LOG_WARN, NULL, "registry redis://%s:%d does not answer (%s: %s): escorts see only "
		    "this proxy's sessions, and other proxies do not see them, until it does", rr->host,
		    rr->port, what, why);
}

void
px__rr_up(struct px_rr *rr)
{
	int log;

	pthread_mutex_lock(&rr->mu);
	log = rr->down_logged;
	rr->down_logged = 0;
	pthread_mutex_unlock(&rr->mu);
	if (log)
		px_log(PX_LOG_INFO, NULL, "registry redis://%s:%d answers again", rr->host, rr->port);
}

redisContext *
px__rr_connect(struct px_rr *rr, int timeout_ms)
{
	struct timeval tv = { PX_RR_CALL_MS / 1000, (PX_RR_CALL_MS % 1000) * 1000 };
	struct timeval cmd = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(rr->host, rr->port, tv);

	if (c == NULL || c->err != 0 || redisSetTimeout(c, cmd) != REDIS_OK) {
		px__rr_down(rr, "connect", c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	return c;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until deadline (now_ms clock), a stop or, when wake_dirty, a change;
 * returns with mu held. */
static void
wait_until(struct px_rr *rr, int64_t deadline, int wake_dirty)
{
	pthread_mutex_lock(&rr->mu);
	while (!rr->stop && !(wake_dirty && rr->dirty)) {
		int64_t left = deadline - now_ms();
		struct timespec ts;
		if (left <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000;
		ts.tv_nsec += (left % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&rr->cv, &rr->mu, &ts);
	}
}

/* Runs one command; 0 when it was answered and not with an error (the
 * reply freed), -1 otherwise (logged as what). */
static int
run(struct px_rr *rr, redisContext *c, const char *what, redisReply *r)
{
	int ok = r != NULL && r->type != REDIS_REPLY_ERROR;

	if (r == NULL)
		px__rr_down(rr, what, c->errstr);
	else if (!ok)
		px_log(PX_LOG_WARN, NULL, "registry: %s: %s", what, r->str);
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

static void
pub_free(struct px_rr_pub *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
}

/* Writes this proxy's sessions to sessions:NAME: all of them (full, in one
 * MULTI: readers never see the hash empty), or only what changed since the
 * last publish.  0, or -1 (the connection is then unusable). */
static int
publish(struct px_rr *rr, redisContext *c, int full)
{
	struct px_reg_session *v = NULL;
	struct px_rr_pub *now = NULL;
	char key[128], buf[PX_RRW_MAX];
	long n = px__reg_list_local(rr->reg, &v);
	int sent = 0, rc = 0;

	snprintf(key, sizeof(key), "escort:sessions:%s", rr->name);
	if (n < 0 || (now = calloc((size_t)n + 1, sizeof(*now))) == NULL) {
		free(v);
		px_log(PX_LOG_WARN, NULL, "registry: out of memory publishing this proxy's sessions");
		return 0;	/* tried again at the next change */
	}
	for (long i = 0; i < n; i++) {
		snprintf(now[i].id, sizeof(now[i].id), "%s", v[i].id);
		if (px__rrw_session_encode(&v[i], buf, sizeof(buf)) < 0 || (now[i].text = strdup(buf)) == NULL) {
			pub_free(now, (size_t)n);
			free(v);
			return 0;
		}
	}
	free(v);
	if (full) {
		redisAppendCommand(c, "MULTI");
		redisAppendCommand(c, "DEL %s", key);
		sent += 2;
	}
	for (long i = 0; i < n; i++) {
		size_t k;
		for (k = 0; !full && k < rr->npub; k++)
			if (strcmp(rr->pub[k].id, now[i].id) == 0)
				break;
		if (full || k == rr->npub || strcmp(rr->pub[k].text, now[i].text) != 0) {
			redisAppendCommand(c, "HSET %s %s %s", key, now[i].id, now[i].text);
			sent++;
		}
	}
	for (size_t k = 0; !full && k < rr->npub; k++) {
		long i;
		for (i = 0; i < n; i++)
			if (strcmp(rr->pub[k].id, now[i].id) == 0)
				break;
		if (i == n) {
			redisAppendCommand(c, "HDEL %s %s", key, rr->pub[k].id);
			sent++;
		}
	}
	if (full) {
		redisAppendCommand(c, "EXEC");
		sent++;
	}
	for (int i = 0; i < sent; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK) {
			px__rr_down(rr, "publish", c->errstr);
			rc = -1;
			break;
		}
		if (((redisReply *)r)->type == REDIS_REPLY_ERROR) {
			px_log(PX_LOG_WARN, NULL, "registry: publish: %s", ((redisReply *)r)->str);
			rc = -1;
		}
		freeReplyObject(r);
	}
	if (rc == 0) {
		pub_free(rr->pub, rr->npub);
		rr->pub = now;
		rr->npub = (size_t)n;
	} else {
		pub_free(now, (size_t)n);
	}
	return rc;
}

/* Refreshes membership and moves dead proxies' sessions.  first: this
 * run's first heartbeat, which first forgets a previous run under the same
 * name (its sessions shown as ended).  0; 1 when this proxy had been taken
 * for dead (Redis did not see a heartbeat for PX_RR_TTL_MS: another proxy
 * moved its sessions to ended), so that all of them are published again;
 * -1 on a failure. */
static int
heartbeat(struct px_rr *rr, redisContext *c, int first)
{
	char alive[128], now[32], ttl[16], keep[16];
	long moved;
	redisReply *r;

	snprintf(alive, sizeof(alive), "escort:alive:%s", rr->name);
	snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
	snprintf(ttl, sizeof(ttl), "%d", PX_RR_TTL_MS / 1000);
	snprintf(keep, sizeof(keep), "%d", PX_RR_ENDED_KEEP);
	if (first && run(rr, c, "join", redisCommand(c, "DEL %s", alive)) != 0)
		return -1;
	if ((r = redisCommand(c, "EVAL %s 0 %s %s %s", reap_script, now, ttl, keep)) == NULL ||
	    r->type != REDIS_REPLY_INTEGER)
		return run(rr, c, "moving ended sessions", r), -1;
	moved = (long)r->integer;
	freeReplyObject(r);
	if (moved > 0)
		px_log(PX_LOG_INFO, NULL, "registry: %ld session%s of proxies that stopped answering shown "
		    "as ended", moved, moved == 1 ? "" : "s");
	if (run(rr, c, "heartbeat", redisCommand(c, "SET %s %s PX %d", alive, rr->run, PX_RR_TTL_MS)) != 0)
		return -1;
	if ((r = redisCommand(c, "SADD escort:proxies %s", rr->name)) == NULL || r->type != REDIS_REPLY_INTEGER)
		return run(rr, c, "join", r), -1;
	moved = (long)r->integer;	/* 1: it was not a member */
	freeReplyObject(r);
	if (moved == 1 && !first)
		px_log(PX_LOG_WARN, NULL, "registry: this proxy was taken for gone (no heartbeat reached "
		    "redis://%s:%d for %d s); its sessions are shared again", rr->host, rr->port,
		    PX_RR_TTL_MS / 1000);
	return moved == 1 && !first ? 1 : 0;
}

/* Deletes this proxy's keys (a clean stop: its sessions ended already). */
static void
leave(struct px_rr *rr, redisContext *c)
{
	(void)run(rr, c, "leave", redisCommand(c, "SREM escort:proxies %s", rr->name));
	(void)run(rr, c, "leave", redisCommand(c, "DEL escort:alive:%s escort:sessions:%s escort:inbox:%s",
	    rr->name, rr->name, rr->name));
}

static void *
beat_main(void *arg)
{
	struct px_rr *rr = arg;
	redisContext *c = NULL;
	int64_t next = 0;
	int first = 1, full = 1, dirty;

	for (;;) {
		wait_until(rr, next, c != NULL);
		dirty = rr->dirty;
		rr->dirty = 0;
		if (rr->stop) {
			pthread_mutex_unlock(&rr->mu);
			break;
		}
		pthread_mutex_unlock(&rr->mu);
		if (c == NULL) {
			if ((c = px__rr_connect(rr, PX_RR_CALL_MS)) == NULL) {
				next = now_ms() + PX_RR_BEAT_MS;
				continue;
			}
			full = 1;
			next = 0;
		}
		if (now_ms() >= next) {
			int hb = heartbeat(rr, c, first);
			if (hb < 0)
				goto drop;
			if (hb == 1)
				full = 1;
			first = 0;
			next = now_ms() + PX_RR_BEAT_MS;
		}
		if ((dirty || full) && publish(rr, c, full) != 0)
			goto drop;
		if (full)
			px__rr_up(rr);
		full = 0;
		continue;
drop:
		redisFree(c);
		c = NULL;
		next = now_ms() + PX_RR_BEAT_MS;
	}
	if (c == NULL)
		c = px__rr_connect(rr, PX_RR_CALL_MS);
	if (c != NULL) {
		leave(rr, c);
		redisFree(c);
	}
	return NULL;
}

/* Applies an action another proxy sent for a local session and answers. */
static void
inbox_handle(struct px_rr *rr, redisContext *c, const char *text, size_t len)
{
	struct px_reg_action a;
	struct px_reg_session now;
	char reply[PX_RRW_REPLY_MAX], buf[PX_RRW_MAX];
	int rc;

	if (px__rrw_action_decode(text, len, &a, reply) != PX_OK || strncmp(reply, "escort:reply:", 13) != 0) {
		px_log(PX_LOG_WARN, NULL, "registry: a malformed action in escort:inbox:%s ignored", rr->name);
		return;
	}
	memset(&now, 0, sizeof(now));
	rc = px__reg_post_local(rr->reg, &a, &now);
	px_log(PX_LOG_INFO, a.id, "escort %s on another proxy: %s: %s", a.escort, px__reg_verb_name(a.verb),
	    rc == PX_OK ? "handed to the session" : rc == PX_EPOLICY ? "no such session here" :
	    "refused by its state");
	if (px__rrw_answer_encode(rc, rc == PX_EPOLICY ? NULL : &now, buf, sizeof(buf)) < 0)
		return;
	redisAppendCommand(c, "LPUSH %s %s", reply, buf);
	redisAppendCommand(c, "PEXPIRE %s %d", reply, REPLY_KEEP_MS);
	for (int i = 0; i < 2; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK)
			break;
		freeReplyObject(r);
	}
}

static void *
inbox_main(void *arg)
{
	struct px_rr *rr = arg;
	redisContext *c = NULL;
	char key[128];

	snprintf(key, sizeof(key), "escort:inbox:%s", rr->name);
	for (;;) {
		redisReply *r;
		pthread_mutex_lock(&rr->mu);
		if (rr->stop) {
			pthread_mutex_unlock(&rr->mu);
			break;
		}
		pthread_mutex_unlock(&rr->mu);
		if (c == NULL && (c = px__rr_connect(rr, PX_RR_CALL_MS + 500)) == NULL) {
			wait_until(rr, now_ms() + 500, 0);
			pthread_mutex_unlock(&rr->mu);
			continue;
		}
		if ((r = redisCommand(c, "BRPOP %s " INBOX_BLOCK, key)) == NULL) {
			px__rr_down(rr, "inbox", c->errstr);
			redisFree(c);
			c = NULL;
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
			inbox_handle(rr, c, r->element[1]->str, r->element[1]->len);
		freeReplyObject(r);
	}
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* registry.h's changed: wakes the heartbeat thread to publish. */
static void
rr_changed(void *ud)
{
	struct px_rr *rr = ud;

	pthread_mutex_lock(&rr->mu);
	rr->dirty = 1;
	pthread_cond_signal(&rr->cv);
	pthread_mutex_unlock(&rr->mu);
}

/* What registry.c calls for other proxies' sessions. */
static const struct px_reg_remote rr_remote = {
	rr_changed, px__rr_list, px__rr_get, px__rr_post,
};

int
px_rr_start(struct px_rr **out, struct px_registry *reg, const char *url, const char *name, char *err,
    size_t errlen)
{
	struct px_rr *rr;
	pthread_condattr_t ca;
	char host[256];

	*out = NULL;
	if ((rr = calloc(1, sizeof(*rr))) == NULL)
		return PX_ENOMEM;
	if (px__rr_parse_url(url, rr->host, sizeof(rr->host), &rr->port) != PX_OK || !px__rr_name_ok(name)) {
		snprintf(err, errlen, "Registry %s / ProxyName %s: not redis://HOST:PORT and a name", url, name);
		free(rr);
		return PX_EINVAL;
	}
	rr->reg = reg;
	snprintf(rr->name, sizeof(rr->name), "%s", name);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(rr->run, sizeof(rr->run), "%ld@%.40s %lld", (long)getpid(), host, (long long)time(NULL));
	pthread_mutex_init(&rr->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rr->cv, &ca);
	pthread_condattr_destroy(&ca);
	px__reg_attach(reg, name, &rr_remote, rr);
	if (pthread_create(&rr->beat, NULL, beat_main, rr) == 0)
		rr->nthreads++;
	if (rr->nthreads == 1 && pthread_create(&rr->inbox, NULL, inbox_main, rr) == 0)
		rr->nthreads++;
	if (rr->nthreads < 2) {
		snprintf(err, errlen, "Registry %s: cannot start its threads", url);
		px_rr_stop(rr);
		return PX_EIO;
	}
	px_log(PX_LOG_INFO, NULL, "registry redis://%s:%d shared as proxy %s", rr->host, rr->port, rr->name);
	*out = rr;
	return PX_OK;
}

void
px_rr_stop(struct px_rr *rr)
{
	if (rr == NULL)
		return;
	pthread_mutex_lock(&rr->mu);
	rr->stop = 1;
	pthread_cond_broadcast(&rr->cv);
	pthread_mutex_unlock(&rr->mu);
	if (rr->nthreads >= 1)
		pthread_join(rr->beat, NULL);
	if (rr->nthreads >= 2)
		pthread_join(rr->inbox, NULL);
	rr->reg->remote = NULL;
	rr->reg->remote_ud = NULL;
	pub_free(rr->pub, rr->npub);
	pthread_cond_destroy(&rr->cv);
	pthread_mutex_destroy(&rr->mu);
	free(rr);
}
