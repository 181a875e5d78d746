/* worker: listening sockets, accept, and the per-thread loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/conn_int.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/ppwait.h"
#include "proxy/proxyproto.h"
#include "proxy/px_error.h"
#include "proxy/registry.h"
#include "proxy/worker.h"

/* One queued escort action (px__worker_post). */
struct px_worker_msg {
	struct px_worker_msg *next;
	struct px_reg_action a;
};

static int
open_listener(const char *file, const struct px_listen *l, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[16];
	int fd = -1, one = 1, rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", l->port);
	if ((rc = getaddrinfo(l->host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s:%d: Listen %s:%d: %s", file, l->line, l->host, l->port,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		snprintf(err, errlen, "%s:%d: Listen %s:%d: %s", file, l->line, l->host, l->port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void
on_accept(uv_poll_t *h, int status, int events)
{
	struct px_worker *w = h->loop->data;
	const struct px_config *cfg = px__daemon_config(w->d);
	int lfd = (int)(intptr_t)h->data;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	(void)events;
	if (status < 0 || w->stopping)
		return;
	/* A bounded batch per readiness keeps other handles served. */
	for (int i = 0; i < 32; i++) {
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				px_log(PX_LOG_WARN, NULL, "accept: %s", strerror(errno));
			return;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (cfg->nlb > 0 && px__pxpp_net_match(cfg->lb, cfg->nlb, (struct sockaddr *)&ss))
			px__ppwait_start(w, fd, (struct sockaddr *)&ss, sl);
		else
			px__conn_accept(w, fd, (struct sockaddr *)&ss, sl);
	}
}

/* Frees retired connections; once stopping and empty, closes the worker's
 * own handles so that uv_run returns.  An idle handle: while it is active
 * the loop polls without blocking, so this runs right after the close
 * callbacks that retired the last connection. */
static void
reap(uv_idle_t *h)
{
	struct px_worker *w = h->data;

	while (w->dead != NULL) {
		struct px_conn *c = w->dead;
		w->dead = c->next;
		px__conn_free(c);
	}
	uv_idle_stop(&w->reaper);
	if (w->stopping && w->conns == NULL && w->nlive == 0 && !uv_is_closing((uv_handle_t *)&w->async)) {
		uv_timer_stop(&w->stop_timer);
		uv_close((uv_handle_t *)&w->stop_timer, NULL);
		uv_close((uv_handle_t *)&w->reaper, NULL);
		uv_close((uv_handle_t *)&w->async, NULL);
	}
}

/* The shutdown grace period is over: sessions still open are abandoned
 * (first with their recordings closed, then outright). */
static void
stop_deadline(uv_timer_t *t)
{
	struct px_worker *w = t->data;
	int hard = w->stop_rounds++ > 0;

	px_log(PX_LOG_WARN, NULL, "worker %d: %s sessions still open at shutdown", w->idx,
	    hard ? "closing" : "abandoning");
	for (struct px_conn *c = w->conns, *n; c != NULL; c = n) {
		n = c->next;
		px__conn_abandon(c, hard);
	}
}

void
px__worker_post(void *ud, const struct px_reg_action *a)
{
	struct px_worker *w = ud;
	struct px_worker_msg *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		px_log(PX_LOG_ERR, a->id, "escort %s: %s not delivered: out of memory", a->escort,
		    px__reg_verb_name(a->verb));
		return;
	}
	m->a = *a;
	pthread_mutex_lock(&w->mbox_mu);
	*w->mbox_tail = m;
	w->mbox_tail = &m->next;
	pthread_mutex_unlock(&w->mbox_mu);
	uv_async_send(&w->async);
}

/* Hands the queued escort actions to their sessions, in the order posted.
 * A session that ended since is not found: its action is dropped. */
static void
drain_mbox(struct px_worker *w)
{
	struct px_worker_msg *m;

	pthread_mutex_lock(&w->mbox_mu);
	m = w->mbox;
	w->mbox = NULL;
	w->mbox_tail = &w->mbox;
	pthread_mutex_unlock(&w->mbox_mu);
	while (m != NULL) {
		struct px_worker_msg *next = m->next;
		struct px_conn *c;

		for (c = w->conns; c != NULL; c = c->next)
			if (c->state != CONN_DEAD && strcmp(c->id, m->a.id) == 0)
				break;
		if (c != NULL)
			px__conn_escort_apply(c, &m->a);
		else
			px_log(PX_LOG_INFO, m->a.id, "escort %s: %s dropped: the session ended", m->a.escort,
			    px__reg_verb_name(m->a.verb));
		free(m);
		m = next;
	}
}

static void
on_async(uv_async_t *h)
{
	struct px_worker *w = h->data;

	drain_mbox(w);

	if (__atomic_exchange_n(&w->req_reload, 0, __ATOMIC_ACQ_REL))
		for (struct px_conn *c = w->conns, *n; c != NULL; c = n) {
			n = c->next;
			px__conn_reload(c);
		}
	if (__atomic_load_n(&w->req_stop, __ATOMIC_ACQUIRE) && !w->stopping) {
		w->stopping = 1;
		for (int i = 0; i < w->nlisten; i++) {
			uv_poll_stop(&w->lpoll[i]);
			uv_close((uv_handle_t *)&w->lpoll[i], NULL);
		}
		px__ppwait_stop_all(w);
		for (struct px_conn *c = w->conns, *n; c != NULL; c = n) {
			n = c->next;
			px__conn_shutdown(c, "escort-proxy is shutting down");
		}
		uv_timer_start(&w->stop_timer, stop_deadline, PX_STOP_GRACE_MS, PX_STOP_GRACE_MS);
		uv_idle_start(&w->reaper, reap);
	}
}

static void *
run(void *arg)
{
	struct px_worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	return NULL;
}

int
px_worker_start(struct px_worker *w, struct px_daemon *d, int idx, char *err, size_t errlen)
{
	const struct px_config *cfg = px__daemon_config(d);
	int f = 0, v = SSH_LOG_NOLOG;

	memset(w, 0, sizeof(*w));
	w->idx = idx;
	pthread_mutex_init(&w->mbox_mu, NULL);
	w->mbox_tail = &w->mbox;
	w->d = d;
	for (int i = 0; i < cfg->nlisten; i++) {
		if ((w->lfd[i] = open_listener(cfg->path, &cfg->listen[i], err, errlen)) < 0) {
			for (int j = 0; j < i; j++)
				close(w->lfd[j]);
			return PX_EIO;
		}
		w->nlisten++;
	}
	w->bind = ssh_bind_new();
	if (w->bind == NULL ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &f) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &v) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_HOSTKEY, cfg->hostkey) != SSH_OK) {
		snprintf(err, errlen, "%s:%d: HostKey %s: %s", cfg->path, cfg->hostkey_line, cfg->hostkey,
		    w->bind ? ssh_get_error(w->bind) : "out of memory");
		goto fail;
	}
	if (px__algo_apply(w->bind, cfg->algos, err, errlen) != PX_OK)
		goto fail;
	uv_loop_init(&w->loop);
	w->loop.data = w;
	uv_async_init(&w->loop, &w->async, on_async);
	w->async.data = w;
	uv_idle_init(&w->loop, &w->reaper);
	w->reaper.data = w;
	uv_timer_init(&w->loop, &w->stop_timer);
	w->stop_timer.data = w;
	for (int i = 0; i < w->nlisten; i++) {
		uv_poll_init(&w->loop, &w->lpoll[i], w->lfd[i]);
		w->lpoll[i].data = (void *)(intptr_t)w->lfd[i];
		uv_poll_start(&w->lpoll[i], UV_READABLE, on_accept);
	}
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		snprintf(err, errlen, "cannot start worker thread");
		goto fail;
	}
	return PX_OK;
fail:
	for (int i = 0; i < w->nlisten; i++)
		close(w->lfd[i]);
	if (w->bind)
		ssh_bind_free(w->bind);
	w->bind = NULL;
	return PX_ESSH;
}

void
px_worker_reload(struct px_worker *w)
{
	__atomic_store_n(&w->req_reload, 1, __ATOMIC_RELEASE);
	uv_async_send(&w->async);
}

void
px_worker_stop(struct px_worker *w)
{
	__atomic_store_n(&w->req_stop, 1, __ATOMIC_RELEASE);
	uv_async_send(&w->async);
}

void
px_worker_join(struct px_worker *w)
{
	pthread_join(w->th, NULL);
	while (w->dead != NULL) {
		struct px_conn *c = w->dead;
		w->dead = c->next;
		px__conn_free(c);
	}
	uv_loop_close(&w->loop);
	while (w->mbox != NULL) {
		struct px_worker_msg *m = w->mbox;
		w->mbox = m->next;
		free(m);
	}
	pthread_mutex_destroy(&w->mbox_mu);
	for (int i = 0; i < w->nlisten; i++)
		close(w->lfd[i]);
	ssh_bind_free(w->bind);
}

unsigned long
px__worker_adopt(struct px_worker *w, struct px_conn *c)
{
	c->prev = NULL;
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nlive++;
	return ++w->nconns;
}

void
px__worker_closing(struct px_worker *w)
{
	w->nlive--;
}

void
px__worker_retire(struct px_worker *w, struct px_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (w->conns == c)
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = w->dead;
	w->dead = c;
	uv_idle_start(&w->reaper, reap);
}
