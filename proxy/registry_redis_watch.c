/* registry_redis_watch: this proxy's side of escorts on other proxies who
 * join its sessions (registry_redis.h, "Remote joins"): a thread that
 * finds their watchers in Redis, attaches one watcher (watch.h) per remote
 * watcher to the session's watch, and writes what each is due to its
 * stream: the screen first, then the output, an end when the session
 * ended.
 *
 * Only to a remote watcher whose id has a grant for the session its key
 * names (registry_redis_int.h, "Grants": a join this proxy accepted and
 * so recorded under the escort's name).  A key without one (written by
 * hand by anyone who can write to Redis, or left after the leave) is
 * refused, logged once naming the id, and gets nothing; a watcher whose
 * grant the leave took back gets nothing more and its stream is deleted.
 * The grant ends when the watcher's end was written (the session ended),
 * and PX_RR_GRANT_CLAIM_MS after its key went (its proxy stopped
 * refreshing it) unless the key comes back.
 *
 * The technician's worker only puts output in the watcher's bounded ring
 * and signals this thread (px__watch_feed); it never waits for Redis.  A
 * Redis slower than the output makes the ring overflow, and the watcher
 * gets the screen again from the model, as a local escort who falls
 * behind does.  The streams are capped (XADD MAXLEN ~ RW_MAXLEN) and
 * expire RW_STREAM_KEEP_MS after their last entry; a remote watcher whose
 * key expired (its proxy stopped refreshing it) is dropped. */
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

#define RW_SYNC_MS 300          /* remote watchers looked up this often */
#define RW_RETRY_MS 500         /* Redis connected again after a failure */
#define RW_MAXLEN "256"         /* entries a stream keeps, about */
#define RW_STREAM_KEEP_MS 10000 /* a stream nobody writes to expires */
#define RW_CHUNK (32 * 1024)    /* output bytes per entry at most */
#define RW_ENTRIES 16           /* entries per watcher per round */
#define RW_REVOKED_MS PX_RR_TTL_MS /* a left watcher's key is gone by then */

struct rw_watcher {
	struct rw_watcher *next;
	char nonce[PX_RR_NONCE_MAX];
	char id[PX_REG_ID_MAX];
	unsigned long gen;              /* the redraws it asked for */
	struct px_watch *w;             /* referenced while attached */
	struct px_watcher x;
	int attached;
	unsigned long long seq;         /* entries written */
	int done;                       /* its end was written, or it is refused */
	int refused;                    /* no grant (any more): nothing written */
	int64_t revoked;                /* when a leave took its grant back; 0: not */
	int seen;                       /* listed in this round's lookup */
	char escort[PX_REG_NAME_MAX];   /* its grant's */
};

struct px_rr_pubw {
	pthread_t th;
	int started;
	pthread_mutex_t mu;             /* guards stop and due */
	pthread_cond_t cv;
	int stop;
	int due;                        /* a watcher has output */
	struct rw_watcher *head;        /* the thread's own */
};

/* The watch's wake function: under the watch's mutex, only signals. */
static void
rw_wake(void *ud)
{
	struct px_rr_pubw *p = ud;

	pthread_mutex_lock(&p->mu);
	p->due = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void
rw_drop(struct rw_watcher *x)
{
	if (x->attached)
		px__watch_detach(x->w, &x->x);
	px__watch_unref(x->w);
	free(x);
}

/* Appends XADD of e to x's stream.  Returns the commands appended (1). */
static int
rw_append(redisContext *c, struct rw_watcher *x, struct px_rrwe *e)
{
	const char *argv[6 + 2 * PX_RRWE_FIELDS], *names[PX_RRWE_FIELDS], *vals[PX_RRWE_FIELDS];
	size_t lens[6 + 2 * PX_RRWE_FIELDS], vlens[PX_RRWE_FIELDS], n;
	char key[160], nums[3][24];
	int argc = 0;

	e->seq = ++x->seq;
	snprintf(key, sizeof(key), "escort:rwstream:%s", x->nonce);
	n = px__rrwe_encode(e, names, vals, vlens, nums);
	argv[argc++] = "XADD";
	argv[argc++] = key;
	argv[argc++] = "MAXLEN";
	argv[argc++] = "~";
	argv[argc++] = RW_MAXLEN;
	argv[argc++] = "*";
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < n; i++) {
		argv[argc] = names[i];
		lens[argc++] = strlen(names[i]);
		argv[argc] = vals[i];
		lens[argc++] = vlens[i];
	}
	redisAppendCommandArgv(c, argc, argv, lens);
	return 1;
}

/* Appends what x is due (at most RW_ENTRIES entries); *more when more is.
 * Returns the commands appended. */
static int
rw_pump_one(struct px_rr *rr, redisContext *c, struct rw_watcher *x, int *more)
{
	static __thread uint8_t buf[RW_CHUNK];
	int sent = 0, entries = 0;

	/* a leave took the grant back: nothing more (rw_sync ends it) */
	if (x->done || !x->attached || !px__rr_grant_has(&rr->grants, x->nonce))
		return 0;
	while (!x->done && x->attached) {
		struct px_rrwe e;
		char *redraw;
		size_t rlen, k;
		int ended, rows, cols;

		if (entries == RW_ENTRIES) {
			*more = 1;
			break;
		}
		memset(&e, 0, sizeof(e));
		k = px__watch_take(x->w, &x->x, buf, sizeof(buf), 0, &redraw, &rlen, &ended, &rows, &cols);
		e.rows = rows, e.cols = cols;
		if (redraw != NULL) {
			e.kind = PX_RRWE_SCREEN;
			e.data = redraw, e.len = rlen;
			sent += rw_append(c, x, &e);
			free(redraw);
		} else if (k > 0) {
			e.kind = PX_RRWE_OUT;
			e.data = (const char *)buf, e.len = k;
			sent += rw_append(c, x, &e);
		} else if (ended) {
			e.kind = PX_RRWE_END;
			snprintf(e.why, sizeof(e.why), "the session ended");
			sent += rw_append(c, x, &e);
			px__watch_detach(x->w, &x->x);
			x->attached = 0;
			x->done = 1;
			(void)px__rr_grant_drop(&rr->grants, x->nonce, NULL);
		} else {
			break;
		}
		entries++;
	}
	if (sent > 0) {
		redisAppendCommand(c, "PEXPIRE escort:rwstream:%s %d", x->nonce, RW_STREAM_KEEP_MS);
		sent++;
	}
	return sent;
}

/* Reads n replies; 0, or -1 when the connection failed. */
static int
rw_replies(struct px_rr *rr, redisContext *c, int n, const char *what)
{
	for (int i = 0; i < n; i++) {
		void *r = NULL;
		if (redisGetReply(c, &r) != REDIS_OK) {
			px__rr_down(rr, what, c->errstr);
			return -1;
		}
		if (((redisReply *)r)->type == REDIS_REPLY_ERROR)
			px_log(PX_LOG_WARN, NULL, "registry: %s: %s", what, ((redisReply *)r)->str);
		freeReplyObject(r);
	}
	return 0;
}

/* Writes what every remote watcher is due.  *more: some have more.  0 or
 * -1 (the connection failed). */
static int
rw_pump(struct px_rr *rr, redisContext *c, int *more)
{
	int sent = 0;

	*more = 0;
	for (struct rw_watcher *x = rr->pubw->head; x != NULL; x = x->next)
		sent += rw_pump_one(rr, c, x, more);
	return rw_replies(rr, c, sent, "remote join");
}

/* A remote watcher without a grant for session id: kept (so refused once
 * while its key lives), never attached, nothing written. */
static void
rw_refuse(struct rw_watcher *x, const char *id)
{
	char shown[PX_REG_ID_MAX];

	/* the id is Redis's, not this proxy's: no control bytes in the log */
	snprintf(shown, sizeof(shown), "%s", id);
	for (char *p = shown; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	x->refused = 1;
	x->done = 1;
	px_log(PX_LOG_WARN, NULL, "registry: remote watcher refused (stream %s): no join of session %s "
	    "naming it was accepted by this proxy; nothing is streamed to it", x->nonce, shown);
}

/* A new remote watcher of session id: refused without a grant; else
 * attached to its watch, or, when this proxy has no watch of it (it
 * ended, or escorts cannot join it), told so in its stream at once. */
static struct rw_watcher *
rw_new(struct px_rr *rr, redisContext *c, const char *nonce, const char *id, int *sent)
{
	struct rw_watcher *x = calloc(1, sizeof(*x));
	struct px_rrwe e;

	if (x == NULL)
		return NULL;
	snprintf(x->nonce, sizeof(x->nonce), "%s", nonce);
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->x.wake = rw_wake;
	x->x.ud = rr->pubw;
	if (px__rr_grant_claim(&rr->grants, nonce, id, x->escort, sizeof(x->escort)) != PX_OK) {
		rw_refuse(x, id);
		return x;
	}
	if ((x->w = px__watch_find(rr->watches, id)) != NULL && px__watch_attach(x->w, &x->x) == 0) {
		x->attached = 1;
		px_log(PX_LOG_INFO, id, "escort %s on another proxy watches this session (stream %.8s)",
		    x->escort, nonce);
		return x;
	}
	memset(&e, 0, sizeof(e));
	e.kind = PX_RRWE_END;
	snprintf(e.why, sizeof(e.why), "the view ended: session %.63s cannot be watched on proxy %s", id,
	    rr->name);
	*sent += rw_append(c, x, &e);
	x->done = 1;
	(void)px__rr_grant_drop(&rr->grants, nonce, NULL);
	return x;
}

/* x's grant was taken back (its escort left): no more entries, and its
 * stream deleted (appended).  x is forgotten when its key goes, as the
 * escort's proxy deletes it after the leave, or RW_REVOKED_MS later: a key
 * still there then is refused as any key without a grant. */
static int
rw_revoke(redisContext *c, struct rw_watcher *x)
{
	if (x->attached) {
		px__watch_detach(x->w, &x->x);
		x->attached = 0;
	}
	x->refused = 1;
	x->done = 1;
	x->revoked = px__rr_now_ms();
	px_log(PX_LOG_INFO, x->id, "escort %s on another proxy left: nothing more is streamed "
	    "(stream %.8s)", x->escort, x->nonce);
	redisAppendCommand(c, "DEL escort:rwstream:%s", x->nonce);
	return 1;
}

/* Grants no remote watcher claimed in time, or of sessions that ended,
 * are forgotten. */
static void
rw_expire(struct px_rr *rr)
{
	struct px_reg_session *live = NULL;
	long n;

	if (px__rr_grant_unclaimed(&rr->grants) == 0)
		return;
	if ((n = px__reg_list_local(rr->reg, &live)) < 0)
		return;	/* no memory: next round */
	if (px__rr_grant_expire(&rr->grants, px__rr_now_ms(), live, n) > 0)
		px_log(PX_LOG_DEBUG, NULL, "registry: grants of joins no remote watcher followed forgotten");
	free(live);
}

/* Looks the remote watchers of this proxy's sessions up: new ones
 * attached, gone ones dropped, redraws asked for given.  0 or -1. */
static int
rw_sync(struct px_rr *rr, redisContext *c)
{
	struct px_rr_pubw *p = rr->pubw;
	redisReply *m, *r;
	size_t n;
	int sent = 0, rc = 0;

	rw_expire(rr);
	if ((m = redisCommand(c, "SMEMBERS escort:rwatchers:%s", rr->name)) == NULL) {
		px__rr_down(rr, "remote join", c->errstr);
		return -1;
	}
	n = m->type == REDIS_REPLY_ARRAY ? m->elements : 0;
	for (size_t i = 0; i < n; i++)
		if (m->element[i]->type == REDIS_REPLY_STRING &&
		    px__reg_watcher_ok(m->element[i]->str, m->element[i]->len))
			redisAppendCommand(c, "GET escort:rwatch:%s", m->element[i]->str);
	for (struct rw_watcher *x = p->head; x != NULL; x = x->next)
		x->seen = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const redisReply *e = m->element[i];
		struct rw_watcher *x;
		char id[PX_REG_ID_MAX];
		unsigned long gen = 0;

		if (e->type != REDIS_REPLY_STRING || !px__reg_watcher_ok(e->str, e->len))
			continue;
		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			px__rr_down(rr, "remote join", c->errstr);
			rc = -1;
			break;
		}
		for (x = p->head; x != NULL; x = x->next)
			if (strcmp(x->nonce, e->str) == 0)
				break;
		if (r->type != REDIS_REPLY_STRING || sscanf(r->str, "%63s %lu", id, &gen) != 2) {
			/* its key expired: the escort's proxy stopped following */
			redisAppendCommand(c, "SREM escort:rwatchers:%s %s", rr->name, e->str);
			redisAppendCommand(c, "DEL escort:rwstream:%s", e->str);
			sent += 2;
			freeReplyObject(r);
			continue;
		}
		freeReplyObject(r);
		if (x == NULL && (x = rw_new(rr, c, e->str, id, &sent)) != NULL) {
			x->gen = gen;
			x->next = p->head;
			p->head = x;
		}
		if (x == NULL)
			continue;
		x->seen = 1;
		if (!x->done && !px__rr_grant_has(&rr->grants, x->nonce))
			sent += rw_revoke(c, x);
		if (gen != x->gen && x->attached) {
			px_log(PX_LOG_DEBUG, x->id, "an escort on another proxy fell behind: the screen again");
			px__watch_redraw(x->w, &x->x);
			rw_wake(p);
		}
		x->gen = gen;
	}
	freeReplyObject(m);
	for (struct rw_watcher **pp = &p->head; *pp != NULL;) {
		struct rw_watcher *x = *pp;
		int stale = x->revoked != 0 && px__rr_now_ms() - x->revoked > RW_REVOKED_MS;
		if ((x->seen && !stale) || rc != 0) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		if (x->attached)
			px_log(PX_LOG_INFO, x->id, "escort %s on another proxy no longer watches (stream %.8s)",
			    x->escort, x->nonce);
		if (!x->refused)
			px__rr_grant_release(&rr->grants, x->nonce, px__rr_now_ms());
		rw_drop(x);
	}
	if (rc == 0)
		rc = rw_replies(rr, c, sent, "remote join");
	return rc;
}

static void *
rw_main(void *arg)
{
	struct px_rr *rr = arg;
	struct px_rr_pubw *p = rr->pubw;
	redisContext *c = NULL;
	int64_t next_sync = 0, retry = 0;
	int more = 0;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		for (;;) {
			int64_t now = px__rr_now_ms(), until = c == NULL ? retry : next_sync;
			struct timespec ts;

			if (p->stop || (c != NULL && (p->due || more)) || now >= until)
				break;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (until - now) / 1000;
			ts.tv_nsec += (until - now) % 1000 * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
		p->due = 0;
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_unlock(&p->mu);
		if (c == NULL && (c = px__rr_connect(rr, PX_RR_CALL_MS)) == NULL) {
			retry = px__rr_now_ms() + RW_RETRY_MS;
			continue;
		}
		if (px__rr_now_ms() >= next_sync) {
			if (rw_sync(rr, c) != 0)
				goto drop;
			next_sync = px__rr_now_ms() + RW_SYNC_MS;
		}
		if (rw_pump(rr, c, &more) != 0)
			goto drop;
		continue;
drop:
		redisFree(c);
		c = NULL;
		more = 0;
		retry = px__rr_now_ms() + RW_RETRY_MS;
	}
	while (p->head != NULL) {
		struct rw_watcher *x = p->head;
		p->head = x->next;
		if (c != NULL) {
			struct px_rrwe e;
			memset(&e, 0, sizeof(e));
			e.kind = PX_RRWE_END;
			snprintf(e.why, sizeof(e.why), "the session ended: proxy %s stops", rr->name);
			if (!x->done)
				(void)rw_replies(rr, c, rw_append(c, x, &e), "remote join");
		}
		rw_drop(x);
	}
	if (c != NULL)
		redisFree(c);
	return NULL;
}

int
px__rr_pubw_start(struct px_rr *rr)
{
	struct px_rr_pubw *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (p == NULL)
		return PX_ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	rr->pubw = p;
	if (rr->watches == NULL)
		return PX_OK;	/* no watches: nothing to publish, no thread */
	if (pthread_create(&p->th, NULL, rw_main, rr) != 0)
		return PX_EIO;
	p->started = 1;
	return PX_OK;
}

void
px__rr_pubw_stop(struct px_rr *rr)
{
	struct px_rr_pubw *p = rr->pubw;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->th, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	rr->pubw = NULL;
}
