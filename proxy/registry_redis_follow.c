/* registry_redis_follow: an escort's side of joining a session that runs
 * on another proxy (registry.h's px__reg_follow; registry_redis.h,
 * "Remote joins").  A thread per join, on its own connection, registers a
 * remote watcher under the nonce that the join action named (the owning
 * proxy streams to it only once it accepted that join, and no more after
 * the leave that names it) and reads its stream into a copy of the
 * session's watch (watch.h), which the escort's join view (join.h) reads
 * as it reads a local one: the worker's loop never waits for Redis.
 *
 * The thread refreshes the watcher's key every PX_RR_BEAT_MS (so that the
 * owning proxy drops it within PX_RR_TTL_MS when this proxy dies), reads
 * the session's entry in the registry (the status line's state and pending
 * command) and the owning proxy's membership.  It ends the copy (and so
 * the view) when the stream says the session ended, when the owning proxy
 * left the registry (the reason the registry gives), when the session left
 * the registry for FOLLOW_GONE_BEATS heartbeats, or when Redis did not
 * answer for PX_RR_TTL_MS, or when the owner wrote nothing within
 * FOLLOW_FIRST_MS (a proxy that cannot serve remote joins).  Entries lost (a gap in their numbers: the
 * stream was cut while this proxy fell behind) ask the owner for the
 * screen again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/registry_redis.h"
#include "proxy/registry_redis_int.h"
#include "proxy/registry_redis_wire.h"
#include "proxy/watch.h"

#define FOLLOW_BLOCK_MS 300     /* an XREAD waits this long for entries */
#define FOLLOW_COUNT 64         /* entries read at a time */
#define FOLLOW_GONE_BEATS 3     /* the session missing from the registry */
#define FOLLOW_FIRST_MS 10000   /* the owner's first entry at the latest */

struct px_rr_follow {
	struct px_rr *rr;
	pthread_mutex_t mu;             /* guards refs, closing, s */
	int refs;                       /* the thread's and the view's */
	int closing;                    /* the view closed */
	struct px_reg_session s;        /* as last read; ENDED once ended */
	char nonce[PX_RR_NONCE_MAX];
	/* the thread's own */
	struct px_watches table;        /* holds only the copy */
	struct px_watch *copy;          /* the "technician's" reference */
	unsigned long gen;              /* redraws asked for */
	unsigned long long expect;      /* the next entry's number */
	char last[64];                  /* the last entry's id */
	int rows, cols;                 /* the copy's screen */
	int gone;                       /* heartbeats without the session */
	int64_t next_beat, answered, started;
	int ended;
};

static void
follow_unref(struct px_rr_follow *f)
{
	int last;

	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (!last)
		return;
	px__watches_free(&f->table);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* The session ended (why): the copy ends, and so the view. */
static void
follow_end(struct px_rr_follow *f, const char *why)
{
	pthread_mutex_lock(&f->mu);
	f->s.state = PX_REG_ENDED;
	f->s.pending[0] = '\0';
	snprintf(f->s.ended, sizeof(f->s.ended), "%s", why);
	pthread_mutex_unlock(&f->mu);
	px_log(PX_LOG_INFO, f->s.id, "remote join (stream %.8s): %s", f->nonce, why);
	px__watch_close(&f->table, f->copy);
	f->copy = NULL;
	f->ended = 1;
}

/* One heartbeat: the watcher's key and membership refreshed, the session
 * and its proxy read.  0, or -1 (the connection failed). */
static int
follow_beat(struct px_rr_follow *f, redisContext *c)
{
	struct px_rr *rr = f->rr;
	redisReply *r[5] = { NULL };
	char val[PX_REG_ID_MAX + 32], why[PX_REG_REASON_MAX];
	int rc = 0;

	snprintf(val, sizeof(val), "%s %lu", f->s.id, f->gen);
	/* the key first: the owner drops a watcher whose key it cannot find */
	redisAppendCommand(c, "SET escort:rwatch:%s %s PX %d", f->nonce, val, PX_RR_TTL_MS);
	redisAppendCommand(c, "SADD escort:rwatchers:%s %s", f->s.proxy, f->nonce);
	redisAppendCommand(c, "EXISTS escort:alive:%s", f->s.proxy);
	redisAppendCommand(c, "HGET escort:sessions:%s %s", f->s.proxy, f->s.id);
	redisAppendCommand(c, "HGET escort:ended:why %s", f->s.id);
	for (int i = 0; i < 5; i++)
		if (redisGetReply(c, (void **)&r[i]) != REDIS_OK) {
			px__rr_down(rr, "remote join", c->errstr);
			rc = -1;
			goto out;
		}
	if (r[2]->type == REDIS_REPLY_INTEGER && r[2]->integer == 0) {
		if (r[4]->type == REDIS_REPLY_STRING)
			snprintf(why, sizeof(why), "the session ended: %s", r[4]->str);
		else
			snprintf(why, sizeof(why), "the session ended: proxy %s stopped answering (no heartbeat "
			    "for %d s)", f->s.proxy, PX_RR_TTL_MS / 1000);
		follow_end(f, why);
		goto out;
	}
	if (r[3]->type == REDIS_REPLY_STRING) {
		struct px_reg_session s;
		f->gone = 0;
		if (px__rrw_session_decode(r[3]->str, r[3]->len, &s) == PX_OK && strcmp(s.id, f->s.id) == 0) {
			snprintf(s.proxy, sizeof(s.proxy), "%s", f->s.proxy);
			pthread_mutex_lock(&f->mu);
			f->s = s;
			pthread_mutex_unlock(&f->mu);
		}
	} else if (++f->gone >= FOLLOW_GONE_BEATS) {
		follow_end(f, "the session ended");
	}
out:
	for (int i = 0; i < 5; i++)
		if (r[i] != NULL)
			freeReplyObject(r[i]);
	return rc;
}

/* Applies one entry of the stream. */
static void
follow_apply(struct px_rr_follow *f, const struct px_rrwe *e)
{
	if (e->seq != f->expect) {
		px_log(PX_LOG_INFO, f->s.id, "remote join (stream %.8s): entries %llu to %llu lost; the screen "
		    "asked for again", f->nonce, f->expect, e->seq - 1);
		f->gen++;
		f->next_beat = 0;	/* asked at once */
	}
	f->expect = e->seq + 1;
	switch (e->kind) {
	case PX_RRWE_SCREEN:
		f->rows = e->rows, f->cols = e->cols;
		px__watch_reset(f->copy, e->rows, e->cols, (const uint8_t *)e->data, e->len);
		break;
	case PX_RRWE_OUT:
		if (e->rows > 0 && e->cols > 0 && (e->rows != f->rows || e->cols != f->cols)) {
			f->rows = e->rows, f->cols = e->cols;
			px__watch_resize(f->copy, e->rows, e->cols);
		}
		px__watch_feed(f->copy, (const uint8_t *)e->data, e->len);
		break;
	case PX_RRWE_END:
		follow_end(f, e->why[0] != '\0' ? e->why : "the session ended");
		break;
	}
}

/* Reads what the stream holds after the last entry (waiting up to
 * FOLLOW_BLOCK_MS).  0, or -1 (the connection failed). */
static int
follow_read(struct px_rr_follow *f, redisContext *c)
{
	redisReply *r, *entries;

	r = redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS escort:rwstream:%s %s", FOLLOW_COUNT,
	    FOLLOW_BLOCK_MS, f->nonce, f->last);
	if (r == NULL) {
		px__rr_down(f->rr, "remote join", c->errstr);
		return -1;
	}
	/* [[key, [[id, [field, value, ...]], ...]]], or nil after the wait */
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2 || r->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return 0;
	}
	entries = r->element[0]->element[1];
	for (size_t i = 0; i < entries->elements && !f->ended; i++) {
		const redisReply *en = entries->element[i], *kv;
		const char *names[16], *vals[16];
		size_t nlens[16], vlens[16], n;
		struct px_rrwe e;

		if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 || en->element[0]->type != REDIS_REPLY_STRING ||
		    en->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		snprintf(f->last, sizeof(f->last), "%s", en->element[0]->str);
		kv = en->element[1];
		for (n = 0; 2 * n + 1 < kv->elements && n < 16; n++) {
			if (kv->element[2 * n]->type != REDIS_REPLY_STRING ||
			    kv->element[2 * n + 1]->type != REDIS_REPLY_STRING)
				break;
			names[n] = kv->element[2 * n]->str, nlens[n] = kv->element[2 * n]->len;
			vals[n] = kv->element[2 * n + 1]->str, vlens[n] = kv->element[2 * n + 1]->len;
		}
		if (px__rrwe_decode(n, names, nlens, vals, vlens, &e) != PX_OK) {
			px_log(PX_LOG_WARN, f->s.id, "remote join (stream %.8s): a malformed entry skipped", f->nonce);
			continue;	/* the gap it leaves asks for the screen again */
		}
		follow_apply(f, &e);
	}
	freeReplyObject(r);
	return 0;
}

/* Whether to stop: the view closed, or the proxy stops. */
static int
follow_stopping(struct px_rr_follow *f)
{
	int stop;

	pthread_mutex_lock(&f->mu);
	stop = f->closing;
	pthread_mutex_unlock(&f->mu);
	pthread_mutex_lock(&f->rr->mu);
	stop |= f->rr->stop;
	pthread_mutex_unlock(&f->rr->mu);
	return stop;
}

static void *
follow_main(void *arg)
{
	struct px_rr_follow *f = arg;
	struct px_rr *rr = f->rr;
	redisContext *c = NULL;
	char why[PX_REG_REASON_MAX + 300];

	f->answered = f->started = px__rr_now_ms();
	while (!f->ended && !follow_stopping(f)) {
		if (f->expect == 1 && px__rr_now_ms() - f->started > FOLLOW_FIRST_MS) {
			snprintf(why, sizeof(why), "the view ended: proxy %s sent nothing of the session within "
			    "%d s (it may run an escort-proxy that cannot serve joins from other proxies)",
			    f->s.proxy, FOLLOW_FIRST_MS / 1000);
			follow_end(f, why);
			break;
		}
		if (c == NULL && (c = px__rr_connect(rr, FOLLOW_BLOCK_MS + PX_RR_CALL_MS)) == NULL) {
			if (px__rr_now_ms() - f->answered > PX_RR_TTL_MS) {
				snprintf(why, sizeof(why), "the view ended: the shared registry redis://%s:%d does "
				    "not answer", rr->host, rr->port);
				follow_end(f, why);
				break;
			}
			px__rr_wait_until(rr, px__rr_now_ms() + 300, 0);
			pthread_mutex_unlock(&rr->mu);
			continue;
		}
		if (px__rr_now_ms() >= f->next_beat) {
			if (follow_beat(f, c) != 0)
				goto drop;
			f->next_beat = px__rr_now_ms() + PX_RR_BEAT_MS;
			if (f->ended)
				break;
		}
		if (follow_read(f, c) != 0)
			goto drop;
		f->answered = px__rr_now_ms();
		continue;
drop:
		redisFree(c);
		c = NULL;
	}
	if (c == NULL)
		c = px__rr_connect(rr, PX_RR_CALL_MS);
	if (c != NULL) {
		redisAppendCommand(c, "SREM escort:rwatchers:%s %s", f->s.proxy, f->nonce);
		redisAppendCommand(c, "DEL escort:rwatch:%s escort:rwstream:%s", f->nonce, f->nonce);
		for (int i = 0; i < 2; i++) {
			void *r = NULL;
			if (redisGetReply(c, &r) != REDIS_OK)
				break;
			freeReplyObject(r);
		}
		redisFree(c);
	}
	if (!f->ended)
		follow_end(f, "the view ended: this proxy stops");
	pthread_mutex_lock(&rr->mu);
	rr->nfollow--;
	pthread_cond_broadcast(&rr->cv);
	pthread_mutex_unlock(&rr->mu);
	follow_unref(f);
	return NULL;
}

int
px__rr_follow(void *ud, const struct px_reg_session *s, const char *nonce, struct px_watch **w, void **h)
{
	struct px_rr *rr = ud;
	struct px_rr_follow *f;
	pthread_attr_t attr;
	pthread_t th;
	int stop, rc;

	*w = NULL;
	*h = NULL;
	if (s->proxy[0] == '\0' || !px__rr_name_ok(s->proxy))
		return PX_EINVAL;
	if (!px__reg_watcher_ok(nonce, strlen(nonce)))
		return PX_EINVAL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return PX_ENOMEM;
	snprintf(f->nonce, sizeof(f->nonce), "%s", nonce);
	f->rr = rr;
	f->s = *s;
	f->expect = 1;
	snprintf(f->last, sizeof(f->last), "0-0");
	pthread_mutex_init(&f->mu, NULL);
	px__watches_init(&f->table);
	/* an empty screen until the owner's first entry, its screen */
	if ((f->copy = px__watch_open(&f->table, s->id, 24, 80)) == NULL ||
	    (*w = px__watch_find(&f->table, s->id)) == NULL) {
		px__watch_close(&f->table, f->copy);
		px__watches_free(&f->table);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return PX_ENOMEM;
	}
	f->refs = 2;
	pthread_mutex_lock(&rr->mu);
	stop = rr->stop;
	if (!stop)
		rr->nfollow++;
	pthread_mutex_unlock(&rr->mu);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = stop ? -1 : pthread_create(&th, &attr, follow_main, f);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		if (!stop) {
			pthread_mutex_lock(&rr->mu);
			rr->nfollow--;
			pthread_mutex_unlock(&rr->mu);
		}
		px__watch_unref(*w);
		*w = NULL;
		px__watch_close(&f->table, f->copy);
		f->refs = 1;
		follow_unref(f);
		return PX_EIO;
	}
	*h = f;
	return PX_OK;
}

int
px__rr_follow_get(void *h, struct px_reg_session *out)
{
	struct px_rr_follow *f = h;

	pthread_mutex_lock(&f->mu);
	*out = f->s;
	pthread_mutex_unlock(&f->mu);
	return PX_OK;
}

void
px__rr_follow_close(void *h)
{
	struct px_rr_follow *f = h;

	pthread_mutex_lock(&f->mu);
	f->closing = 1;
	pthread_mutex_unlock(&f->mu);
	follow_unref(f);
}
