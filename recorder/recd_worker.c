/* recd_worker: escort-recorder's worker threads (see recd_worker.h). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/tlsl.h"
#include "recorder/recd_audit.h"
#include "recorder/recd_conn.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/recd_witness.h"
#include "recorder/recd_worker.h"

/* What a worker is told through its queue besides connections. */
enum wk_flags { WK_RELOAD = 1, WK_STOP = 2 };

struct recd_worker {
	struct recd	 d;		/* its loop, sessions, connections */
	uv_loop_t	 loop;
	uv_async_t	 wake;
	pthread_t	 thread;
	int		 started;
	pthread_mutex_t	 lock;		/* guards the three below */
	struct recd_conn_move *moves;	/* connections to adopt, LIFO */
	unsigned	 flags;		/* enum wk_flags */
	struct recd_config cfg;		/* WK_RELOAD: the new one */
	atomic_uint	 load;		/* sessions, and new ones on the way */
};

/* A tree head waiting for the main loop's Witness. */
struct wline {
	struct wline	*next;
	char		 line[];
};

struct recd_pool {
	unsigned	 n;
	struct recd_worker *w;		/* [n] */
	uv_async_t	 witness_wake;	/* on the main loop */
	pthread_mutex_t	 witness_lock;
	struct wline	*witness_q;
	pthread_t	 main_thread;
	int		 witness_open;
};

/* FNV-1a: a session id's worker, the same in every process and run. */
static uint32_t
id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id != '\0'; id++) {
		h ^= (unsigned char)*id;
		h *= 16777619u;
	}
	return h;
}

unsigned
recd_pool_size(const struct recd *d)
{
	return d->pool != NULL ? d->pool->n : 1;
}

unsigned
recd_pool_index(const struct recd *d, const char *id)
{
	return d->pool != NULL ? id_hash(id) % d->pool->n : 0;
}

struct recd *
recd_pool_home(struct recd *d, const char *id)
{
	if (d->pool == NULL)
		return d;
	return &d->pool->w[recd_pool_index(d, id)].d;
}

int
recd_pool_mine(const struct recd *d, const char *id)
{
	return d->pool == NULL || !d->is_worker ||
	    recd_pool_index(d, id) == d->worker;
}

unsigned
recd_pool_pick(struct recd *d)
{
	unsigned best = 0, min = ~0u, l;

	for (unsigned i = 0; i < d->pool->n; i++) {
		l = atomic_load(&d->pool->w[i].load);
		if (l < min) {
			min = l;
			best = i;
		}
	}
	atomic_fetch_add(&d->pool->w[best].load, 1);
	return best;
}

void
recd_pool_unreserve(struct recd *d, unsigned w)
{
	if (d->pool != NULL && w < d->pool->n)
		atomic_fetch_sub(&d->pool->w[w].load, 1);
}

void
recd_pool_count(struct recd *d, int delta)
{
	if (d->pool == NULL || !d->is_worker) {
		d->nsessions += (unsigned)delta;
		return;
	}
	if (delta > 0)
		atomic_fetch_add(&d->pool->w[d->worker].load, (unsigned)delta);
	else
		atomic_fetch_sub(&d->pool->w[d->worker].load,
		    (unsigned)-delta);
}

unsigned
recd_pool_sessions(const struct recd *d)
{
	unsigned t = 0;

	if (d->pool == NULL)
		return d->nsessions;
	for (unsigned i = 0; i < d->pool->n; i++)
		t += atomic_load(&d->pool->w[i].load);
	return t;
}

void
recd_move_free(struct recd_conn_move *mv)
{
	if (mv->fd >= 0)
		close(mv->fd);
	tlsl_free(mv->tls);
	free(mv->tlsbuf);
	free(mv->in);
	free(mv);
}

/* Worker thread: the queue was written to. */
static void
on_wake(uv_async_t *a)
{
	struct recd_worker *w = a->data;
	struct recd_conn_move *mv, *next, *rev = NULL;
	unsigned flags;

	pthread_mutex_lock(&w->lock);
	mv = w->moves;
	w->moves = NULL;
	flags = w->flags;
	w->flags = 0;
	if (flags & WK_RELOAD)
		w->d.cfg = w->cfg;
	pthread_mutex_unlock(&w->lock);
	for (; mv != NULL; mv = next) {		/* back into arrival order */
		next = mv->next;
		mv->next = rev;
		rev = mv;
	}
	for (mv = rev; mv != NULL; mv = next) {
		next = mv->next;
		if (w->d.stopping) {
			if (mv->reserved)
				atomic_fetch_sub(&w->load, 1);
			recd_move_free(mv);
			continue;
		}
		recd_conn_adopt(&w->d, mv);	/* mv is freed */
	}
	if (flags & WK_RELOAD)
		recd_audit_reopen(&w->d);
	if ((flags & WK_STOP) && !w->d.stopping) {
		w->d.stopping = 1;
		recd_sess_close_all(&w->d);
		recd_conn_close_all(&w->d);
		uv_timer_stop(&w->d.tick);
		uv_close((uv_handle_t *)&w->d.tick, NULL);
		uv_close((uv_handle_t *)&w->wake, NULL);
	}
}

static void *
worker_main(void *arg)
{
	struct recd_worker *w = arg;

	recd_kick(&w->d);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* Main loop: heads queued by other threads go to the Witness. */
static void
on_witness(uv_async_t *a)
{
	struct recd *d = a->data;
	struct recd_pool *p = d->pool;
	struct wline *q, *next, *rev = NULL;

	pthread_mutex_lock(&p->witness_lock);
	q = p->witness_q;
	p->witness_q = NULL;
	pthread_mutex_unlock(&p->witness_lock);
	for (; q != NULL; q = next) {
		next = q->next;
		q->next = rev;
		rev = q;
	}
	for (q = rev; q != NULL; q = next) {
		next = q->next;
		recd_witness_head(d, q->line);
		free(q);
	}
}

void
recd_pool_witness(void *arg, const char *line)
{
	struct recd *d = arg;
	struct recd_pool *p = d->pool;
	struct wline *q;
	size_t n = strlen(line);

	if (p == NULL || pthread_equal(pthread_self(), p->main_thread)) {
		recd_witness_head(d, line);
		return;
	}
	if ((q = malloc(sizeof(*q) + n + 1)) == NULL) {
		recd_log(LOG_ERR, "Witness: out of memory; head %.40s... not "
		    "handed over", line);
		return;
	}
	memcpy(q->line, line, n + 1);
	pthread_mutex_lock(&p->witness_lock);
	q->next = p->witness_q;
	p->witness_q = q;
	pthread_mutex_unlock(&p->witness_lock);
	uv_async_send(&p->witness_wake);
}

int
recd_pool_init(struct recd *d, unsigned n, char *err, size_t errlen)
{
	struct recd_pool *p;
	char e2[512];

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->w = calloc(n, sizeof(*p->w))) == NULL) {
		free(p);
		snprintf(err, errlen, "Workers %u: out of memory", n);
		return -1;
	}
	p->n = n;
	p->main_thread = pthread_self();
	pthread_mutex_init(&p->witness_lock, NULL);
	uv_async_init(d->loop, &p->witness_wake, on_witness);
	p->witness_wake.data = d;
	p->witness_open = 1;
	d->pool = p;
	for (unsigned i = 0; i < n; i++) {
		struct recd_worker *w = &p->w[i];
		int r;

		if ((r = uv_loop_init(&w->loop)) != 0) {
			snprintf(err, errlen, "worker %u: %s", i,
			    uv_strerror(r));
			p->n = i;
			return -1;
		}
		pthread_mutex_init(&w->lock, NULL);
		atomic_init(&w->load, 0);
		w->d.loop = &w->loop;
		w->d.cfg = d->cfg;
		w->d.signer = d->signer;
		w->d.journal = d->journal;
		w->d.pool = p;
		w->d.worker = i;
		w->d.is_worker = 1;
		w->d.last_interval_sync = uv_now(&w->loop);
		uv_timer_init(&w->loop, &w->d.tick);
		w->d.tick.data = &w->d;
		uv_async_init(&w->loop, &w->wake, on_wake);
		w->wake.data = w;
		if (recd_audit_open(&w->d, e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "%s", e2);
			p->n = i + 1;
			return -1;
		}
	}
	return 0;
}

int
recd_pool_run(struct recd *d, char *err, size_t errlen)
{
	struct recd_pool *p = d->pool;
	sigset_t all, old;
	int r = 0;

	/* signals stay with the main thread's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < p->n && r == 0; i++) {
		if ((r = pthread_create(&p->w[i].thread, NULL, worker_main,
		    &p->w[i])) != 0)
			snprintf(err, errlen, "worker %u: pthread_create: %s",
			    i, strerror(r));
		else
			p->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r == 0 ? 0 : -1;
}

/* Sets flags on worker w and wakes it. */
static void
wk_tell(struct recd_worker *w, unsigned flags)
{
	pthread_mutex_lock(&w->lock);
	w->flags |= flags;
	pthread_mutex_unlock(&w->lock);
	uv_async_send(&w->wake);
}

int
recd_pool_handoff(struct recd *d, unsigned i, struct recd_conn_move *mv)
{
	struct recd_worker *w = &d->pool->w[i];

	if (!w->started || d->stopping)
		return -1;
	pthread_mutex_lock(&w->lock);
	mv->next = w->moves;
	w->moves = mv;
	pthread_mutex_unlock(&w->lock);
	uv_async_send(&w->wake);
	return 0;
}

void
recd_pool_reload(struct recd *d)
{
	struct recd_pool *p = d->pool;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->w[i].lock);
		p->w[i].cfg = d->cfg;
		p->w[i].flags |= WK_RELOAD;
		pthread_mutex_unlock(&p->w[i].lock);
		uv_async_send(&p->w[i].wake);
	}
}

void
recd_pool_stop(struct recd *d)
{
	struct recd_pool *p = d->pool;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].started)
			wk_tell(&p->w[i], WK_STOP);
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].started) {
			pthread_join(p->w[i].thread, NULL);
			p->w[i].started = 0;
		}
	/* heads the workers issued while closing go to the Witness now */
	on_witness(&p->witness_wake);
	if (p->witness_open) {
		p->witness_open = 0;
		uv_close((uv_handle_t *)&p->witness_wake, NULL);
	}
}

/* Closes what a worker that never ran still holds (start-up failed). */
static void
close_idle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void
recd_pool_free(struct recd *d)
{
	struct recd_pool *p = d->pool;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		struct recd_worker *w = &p->w[i];
		struct recd_conn_move *mv, *next;

		/* a worker that never ran (start-up failed; the process
		 * exits): its handles are closed, sessions reopened for it
		 * are left to the exit */
		uv_walk(&w->loop, close_idle, NULL);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		uv_loop_close(&w->loop);
		for (mv = w->moves; mv != NULL; mv = next) {
			next = mv->next;
			recd_move_free(mv);
		}
		recd_audit_close(&w->d);
		pthread_mutex_destroy(&w->lock);
	}
	pthread_mutex_destroy(&p->witness_lock);
	free(p->w);
	free(p);
	d->pool = NULL;
}
