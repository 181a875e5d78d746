/* registry_redis_beat: the heartbeat thread of a registry shared through
 * Redis (registry_redis.h): membership, this proxy's sessions published
 * when they change, and dead proxies' sessions moved to ended. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"
#include "proxy/registry_redis_wire.h"

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

void
px__rr_pub_free(struct px_rr_pub *p, size_t n)
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
			px__rr_pub_free(now, (size_t)n);
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
		px__rr_pub_free(rr->pub, rr->npub);
		rr->pub = now;
		rr->npub = (size_t)n;
	} else {
		px__rr_pub_free(now, (size_t)n);
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

void *
px__rr_beat_main(void *arg)
{
	struct px_rr *rr = arg;
	redisContext *c = NULL;
	int64_t next = 0;
	int first = 1, full = 1, dirty;

	for (;;) {
		px__rr_wait_until(rr, next, c != NULL);
		dirty = rr->dirty;
		rr->dirty = 0;
		if (rr->stop) {
			pthread_mutex_unlock(&rr->mu);
			break;
		}
		pthread_mutex_unlock(&rr->mu);
		if (c == NULL) {
			if ((c = px__rr_connect(rr, PX_RR_CALL_MS)) == NULL) {
				next = px__rr_now_ms() + PX_RR_BEAT_MS;
				continue;
			}
			full = 1;
			next = 0;
		}
		if (px__rr_now_ms() >= next) {
			int hb = heartbeat(rr, c, first);
			if (hb < 0)
				goto drop;
			if (hb == 1)
				full = 1;
			first = 0;
			next = px__rr_now_ms() + PX_RR_BEAT_MS;
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
		next = px__rr_now_ms() + PX_RR_BEAT_MS;
	}
	if (c == NULL)
		c = px__rr_connect(rr, PX_RR_CALL_MS);
	if (c != NULL) {
		leave(rr, c);
		redisFree(c);
	}
	return NULL;
}
