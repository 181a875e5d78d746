/* ppwait: the PROXY protocol v2 header of a load balancer's connection,
 * read before the SSH session starts (ppwait.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "proxy/conn.h"
#include "proxy/daemon.h"
#include "proxy/log.h"
#include "proxy/ppwait.h"
#include "proxy/proxyproto.h"
#include "proxy/worker.h"

struct px_ppwait {
	struct px_worker *w;
	struct px_ppwait *next, *prev;  /* w->ppwait */
	uv_poll_t poll;
	uv_timer_t timer;
	int handles_open;
	int fd;                         /* -1 once handed over or closed */
	char lb[64];                    /* "ADDR:PORT" of the load balancer */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t have;
	uint8_t buf[PXPP_MAX_LEN];
};

static void
addr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(out, outlen, "%s:%d", a, port);
}

static void
handle_closed(uv_handle_t *h)
{
	struct px_ppwait *p = h->data;

	if (--p->handles_open == 0)
		free(p);
}

/* Unlinks p and closes its handles; the poll handle first, so that fd is
 * out of the loop's watch before px__conn_accept polls it again. */
static void
finish(struct px_ppwait *p)
{
	struct px_worker *w = p->w;

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		w->ppwait = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	w->nppwait--;
	uv_close((uv_handle_t *)&p->poll, handle_closed);
	uv_close((uv_handle_t *)&p->timer, handle_closed);
}

/* Logs why, naming the load balancer, and closes the connection. */
static void
fail(struct px_ppwait *p, const char *why)
{
	px_log(PX_LOG_INFO, NULL, "load balancer %s: %s; connection closed", p->lb, why);
	finish(p);
	close(p->fd);
	p->fd = -1;
}

static void
on_timeout(uv_timer_t *t)
{
	fail(t->data, "no whole PROXY protocol header within 5 seconds");
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	struct px_ppwait *p = h->data;
	struct pxpp_hdr hdr;
	int rc, fd;

	(void)events;
	if (status < 0) {
		/* POLLERR: a reset, often a health check's (HAProxy's check
		 * sends a LOCAL header and resets the connection) */
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e == 0)
			e = EIO;
		if (p->have == 0) {
			px_log(PX_LOG_DEBUG, NULL, "load balancer %s: %s before a byte", p->lb, strerror(e));
			finish(p);
			close(p->fd);
			p->fd = -1;
		} else
			fail(p, strerror(e));
		return;
	}
	for (int i = 0; i < 4; i++) {
		size_t want;
		ssize_t n;

		rc = px__pxpp_parse(p->buf, p->have, &hdr);
		if (rc < 0) {
			char why[128];

			snprintf(why, sizeof(why), "malformed PROXY protocol header: %s", hdr.why);
			fail(p, why);
			return;
		}
		if (rc > 0)
			break;
		want = hdr.need - p->have;
		n = recv(p->fd, p->buf + p->have, want, MSG_DONTWAIT);
		if (n == 0 && p->have == 0) {
			/* nothing sent: a TCP health check (HAProxy's check) */
			px_log(PX_LOG_DEBUG, NULL, "load balancer %s: closed without a byte", p->lb);
			finish(p);
			close(p->fd);
			p->fd = -1;
			return;
		}
		if (n == 0) {
			fail(p, "it ended before a whole PROXY protocol header");
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			fail(p, strerror(errno));
			return;
		}
		p->have += (size_t)n;
	}
	if (rc == 0)
		return;
	fd = p->fd;
	p->fd = -1;
	finish(p);
	if (hdr.family == AF_UNSPEC) {
		px_log(PX_LOG_DEBUG, NULL, "load balancer %s: PROXY %s: its own connection", p->lb,
		    hdr.command == PXPP_LOCAL ? "LOCAL" : "UNSPEC");
		px__conn_accept(p->w, fd, (struct sockaddr *)&p->peer, p->peerlen);
	} else {
		char client[80];

		addr_str((struct sockaddr *)&hdr.src, client, sizeof(client));
		px_log(PX_LOG_DEBUG, NULL, "load balancer %s: client %s", p->lb, client);
		px__conn_accept(p->w, fd, (struct sockaddr *)&hdr.src, hdr.addrlen);
	}
}

void
px__ppwait_start(struct px_worker *w, int fd, const struct sockaddr *sa, socklen_t sl)
{
	const struct px_config *cfg = px__daemon_config(w->d);
	struct px_ppwait *p;
	char lb[64];

	addr_str(sa, lb, sizeof(lb));
	if (w->nppwait >= cfg->max_startups_full) {
		px_log(PX_LOG_INFO, NULL, "load balancer %s: connection dropped: %d already wait for "
		    "their PROXY protocol header", lb, w->nppwait);
		close(fd);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return;
	}
	p->w = w;
	p->fd = fd;
	snprintf(p->lb, sizeof(p->lb), "%s", lb);
	if (sl > sizeof(p->peer))
		sl = sizeof(p->peer);
	memcpy(&p->peer, sa, sl);
	p->peerlen = sl;
	if (uv_poll_init(&w->loop, &p->poll, fd) != 0) {
		px_log(PX_LOG_WARN, NULL, "load balancer %s: cannot poll its connection", lb);
		close(fd);
		free(p);
		return;
	}
	uv_timer_init(&w->loop, &p->timer);
	p->poll.data = p->timer.data = p;
	p->handles_open = 2;
	p->next = w->ppwait;
	if (w->ppwait != NULL)
		w->ppwait->prev = p;
	w->ppwait = p;
	w->nppwait++;
	uv_timer_start(&p->timer, on_timeout, PX_PPWAIT_MS, 0);
	uv_poll_start(&p->poll, UV_READABLE, on_readable);
}

void
px__ppwait_stop_all(struct px_worker *w)
{
	while (w->ppwait != NULL)
		fail(w->ppwait, "escort-proxy is shutting down");
}

int
px__ppwait_forged(int fd)
{
	uint8_t b[PXPP_SIG_LEN];
	ssize_t n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);

	if (n <= 0)
		return -1;
	return px__pxpp_looks_like(b, (size_t)n);
}
