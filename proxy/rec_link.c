/* rec_link: a recorder sender driven over a libuv unix-socket stream, with
 * reconnect (backoff 100 ms doubling to 2 s) and resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"
#include "proxy/config.h"
#include "proxy/px_error.h"
#include "proxy/rec_link.h"

/* Spool room kept for control events past the data limit. */
#define CONTROL_RESERVE (256 * 1024)
#define WRITE_MAX (1024 * 1024)
/* After rec_link_close: the longest the recorder may stay silent (no ACK,
 * no CLOSED) before the close is given up.  Every answer restarts it, so a
 * recorder still working through a full spool is waited for. */
#define CLOSE_WAIT_MS 3000

enum link_state { L_CONNECTING, L_HELLO, L_OPEN, L_DOWN, L_CLOSING, L_DONE };

struct rec_link {
	uv_loop_t *loop;
	struct sender *snd;
	struct rec_link_cbs cbs;
	void *ud;
	char path[108];
	size_t data_limit;
	enum link_state st;
	int ever_open;
	int freed;
	int nhandles;
	uv_pipe_t *pipe;                /* current stream, NULL while down */
	uv_connect_t creq;
	uv_write_t wreq;
	uint8_t *wbuf;
	size_t wlen;
	int writing;
	uv_timer_t timer;               /* reconnect backoff, close deadline */
	int backoff_ms;
	char rbuf[64 * 1024];
	int rbuf_busy;
	size_t last_spooled;
};

static void link_connect(struct rec_link *l);

static void
maybe_release(struct rec_link *l)
{
	if (l->freed && l->nhandles == 0 && !l->writing) {
		sender_free(l->snd);
		free(l->wbuf);
		free(l);
	}
}

static void
handle_closed(uv_handle_t *h)
{
	struct rec_link *l = h->data;

	if (h != (uv_handle_t *)&l->timer)
		free(h);
	l->nhandles--;
	maybe_release(l);
}

static void
drop_pipe(struct rec_link *l)
{
	if (l->pipe != NULL) {
		uv_pipe_t *p = l->pipe;
		l->pipe = NULL;
		uv_read_stop((uv_stream_t *)p);
		uv_close((uv_handle_t *)p, handle_closed);
	}
}

static void
fail(struct rec_link *l, const char *why)
{
	enum link_state was = l->st;

	l->st = L_DONE;
	drop_pipe(l);
	uv_timer_stop(&l->timer);
	if (l->freed)
		return;
	if (was == L_CLOSING)
		l->cbs.on_closed(l->ud, 0);
	else
		l->cbs.on_fail(l->ud, why);
}

static void
reconnect_timer(uv_timer_t *t)
{
	struct rec_link *l = t->data;

	if (l->freed || l->st != L_DOWN)
		return;
	link_connect(l);
}

static void
lost(struct rec_link *l, const char *why)
{
	if (l->st == L_DONE)
		return;
	drop_pipe(l);
	if (!l->ever_open) {
		fail(l, why);
		return;
	}
	sender_on_disconnect(l->snd);
	if (l->st == L_CLOSING) {
		/* Keep trying within the close deadline. */
		l->backoff_ms = l->backoff_ms ? l->backoff_ms : 100;
		return;
	}
	if (l->st != L_DOWN) {
		l->st = L_DOWN;
		l->backoff_ms = 100;
		if (!l->freed)
			l->cbs.on_stalled(l->ud, why);
	} else if (l->backoff_ms < 2000) {
		l->backoff_ms *= 2;
	}
	if (!l->freed)
		uv_timer_start(&l->timer, reconnect_timer, (uint64_t)l->backoff_ms, 0);
}

static void flush(struct rec_link *l);

static void
on_written(uv_write_t *req, int status)
{
	struct rec_link *l = req->data;
	size_t n = l->wlen;

	l->writing = 0;
	l->wlen = 0;
	if (l->freed) {
		maybe_release(l);
		return;
	}
	if (status < 0) {
		lost(l, uv_strerror(status));
		return;
	}
	sender_consume_output(l->snd, n);
	flush(l);
}

static void
flush(struct rec_link *l)
{
	const uint8_t *p;
	size_t n;
	uv_buf_t b;

	if (l->writing || l->pipe == NULL || l->freed)
		return;
	n = sender_pending_output(l->snd, &p);
	if (n == 0)
		return;
	if (n > WRITE_MAX)
		n = WRITE_MAX;
	if (l->wbuf == NULL && (l->wbuf = malloc(WRITE_MAX)) == NULL) {
		lost(l, "out of memory");
		return;
	}
	memcpy(l->wbuf, p, n);
	l->wlen = n;
	b = uv_buf_init((char *)l->wbuf, (unsigned)n);
	l->wreq.data = l;
	if (uv_write(&l->wreq, (uv_stream_t *)l->pipe, &b, 1, on_written) != 0) {
		l->wlen = 0;
		lost(l, "write failed");
		return;
	}
	l->writing = 1;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct rec_link *l = h->data;

	(void)suggested;
	*b = uv_buf_init(l->rbuf, sizeof(l->rbuf));
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct rec_link *l = s->data;
	enum sender_state ss;
	size_t spooled;
	int rc;

	if (l->freed || (uv_pipe_t *)s != l->pipe)
		return;
	if (nread == 0)
		return;
	if (nread < 0) {
		lost(l, nread == UV_EOF ? "recorder closed the connection" : uv_strerror((int)nread));
		return;
	}
	if (l->st == L_CLOSING)
		uv_timer_again(&l->timer);
	rc = sender_feed(l->snd, b->base, (size_t)nread);
	ss = sender_state(l->snd);
	if (rc != REC_OK || ss == SENDER_FAILED) {
		char why[1200];
		snprintf(why, sizeof(why), "recorder refused the session: %s",
		    sender_reason(l->snd)[0] ? sender_reason(l->snd) : rec_strerror(rc));
		fail(l, why);
		return;
	}
	if (ss == SENDER_CLOSED) {
		l->st = L_DONE;
		uv_timer_stop(&l->timer);
		drop_pipe(l);
		l->cbs.on_closed(l->ud, 1);
		return;
	}
	if (ss == SENDER_OPEN && (l->st == L_HELLO || l->st == L_DOWN || l->st == L_CONNECTING)) {
		int first = !l->ever_open;
		l->st = L_OPEN;
		l->ever_open = 1;
		l->backoff_ms = 0;
		if (first)
			l->cbs.on_ready(l->ud, sender_session_id(l->snd));
		else
			l->cbs.on_writable(l->ud);
		if (l->freed)
			return;
	}
	spooled = sender_spooled(l->snd);
	if (spooled < l->last_spooled && l->st == L_OPEN) {
		l->last_spooled = spooled;
		l->cbs.on_writable(l->ud);
		if (l->freed)
			return;
	}
	l->last_spooled = spooled;
	flush(l);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct rec_link *l = req->data;

	if (l->freed || (uv_pipe_t *)req->handle != l->pipe)
		return;
	if (status < 0) {
		char why[300];
		snprintf(why, sizeof(why), "cannot connect to %s: %s", l->path, uv_strerror(status));
		lost(l, why);
		return;
	}
	if (l->st == L_CONNECTING || l->st == L_DOWN)
		l->st = l->ever_open ? L_DOWN : L_HELLO;
	uv_read_start((uv_stream_t *)l->pipe, on_alloc, on_read);
	flush(l);
}

static void
link_connect(struct rec_link *l)
{
	uv_pipe_t *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		lost(l, "out of memory");
		return;
	}
	uv_pipe_init(l->loop, p, 0);
	p->data = l;
	l->nhandles++;
	l->pipe = p;
	l->creq.data = l;
	uv_pipe_connect(&l->creq, p, l->path, on_connect);
}

int
rec_link_open(uv_loop_t *loop, const struct px_config *cfg, const void *meta,
    size_t metalen, const struct rec_link_cbs *cbs, void *ud, struct rec_link **out)
{
	struct rec_link *l;
	char host[256];

	*out = NULL;
	if (strncmp(cfg->recorder, "unix:", 5) != 0)
		return PX_ERECORDER; /* tls:// is not available in this build */
	if (strlen(cfg->recorder + 5) >= sizeof(l->path))
		return PX_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return PX_ENOMEM;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "escort-proxy");
	host[sizeof(host) - 1] = '\0';
	l->snd = sender_new(meta, metalen, cfg->spool_limit + CONTROL_RESERVE, host);
	if (l->snd == NULL) {
		free(l);
		return PX_ENOMEM;
	}
	l->loop = loop;
	l->cbs = *cbs;
	l->ud = ud;
	l->data_limit = cfg->spool_limit;
	snprintf(l->path, sizeof(l->path), "%s", cfg->recorder + 5);
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	l->nhandles = 1;
	l->st = L_CONNECTING;
	link_connect(l);
	*out = l;
	return PX_OK;
}

static int
is_data(uint16_t type)
{
	return type == EV_INPUT || type == EV_OUTPUT || type == EV_STDERR;
}

int
rec_link_event(struct rec_link *l, uint16_t type, uint32_t channel, const void *p, size_t n)
{
	int rc;

	if (l->st == L_DONE || l->st == L_CLOSING || l->freed)
		return PX_ERECORDER;
	if (is_data(type) && !rec_link_can_take(l, n))
		return PX_EFULL;
	rc = sender_event(l->snd, type, channel, p, n);
	if (rc == REC_EFULL)
		return PX_EFULL;
	if (rc != REC_OK)
		return PX_ERECORDER;
	l->last_spooled = sender_spooled(l->snd);
	flush(l);
	return PX_OK;
}

int
rec_link_can_take(const struct rec_link *l, size_t n)
{
	return l != NULL && l->st == L_OPEN && !l->freed &&
	    sender_spooled(l->snd) + n + EV_HDR_LEN <= l->data_limit;
}

size_t
rec_link_spooled(const struct rec_link *l)
{
	return l ? sender_spooled(l->snd) : 0;
}

static void
close_deadline(uv_timer_t *t)
{
	struct rec_link *l = t->data;

	if (l->st == L_CLOSING)
		fail(l, "recorder did not confirm the end of the session");
}

void
rec_link_close(struct rec_link *l)
{
	if (l->st == L_DONE || l->st == L_CLOSING || l->freed)
		return;
	if (sender_close(l->snd) != REC_OK) {
		l->st = L_CLOSING;
		fail(l, "cannot close");
		return;
	}
	l->st = L_CLOSING;
	uv_timer_start(&l->timer, close_deadline, CLOSE_WAIT_MS, CLOSE_WAIT_MS);
	flush(l);
}

void
rec_link_free(struct rec_link *l)
{
	if (l == NULL || l->freed)
		return;
	l->freed = 1;
	uv_timer_stop(&l->timer);
	drop_pipe(l);
	uv_close((uv_handle_t *)&l->timer, handle_closed);
}
