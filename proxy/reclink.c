/* reclink: a recorder sender driven over a libuv stream (a unix socket, or
 * TCP with mutual TLS through recorder/tlsl), with reconnect (backoff 100 ms
 * doubling to 2 s) and resume, and the choice among several recorders: until
 * one has opened the session, a failure moves it to the next one (recpick.h
 * gives the order); once open, it stays on that recorder for its life. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"
#include "common/tlsl.h"
#include "common/clock.h"
#include "proxy/config.h"
#include "proxy/log.h"
#include "proxy/px_error.h"
#include "proxy/reclink.h"
#include "proxy/receipts.h"
#include "proxy/recpick.h"

/* Spool room kept for control events past the data limit. */
#define CONTROL_RESERVE (256 * 1024)
#define WRITE_MAX (1024 * 1024)
/* After px__reclink_close: the longest the recorder may stay silent (no ACK,
 * no CLOSED) before the close is given up.  Every answer restarts it, so a
 * recorder still working through a full spool is waited for. */
#define CLOSE_WAIT_MS 3000
/* With another recorder still to try: the longest one may take to open the
 * session before the next is tried. */
#define OPEN_WAIT_MS 5000

/* Events handed in go to the network at the next loop iteration once
 * FLUSH_NOW bytes wait (bulk output keeps the recorder fed); fewer wait up
 * to FLUSH_DELAY_MS for company, so that a keystroke and its echo, or the
 * small events of a burst, reach the recorder in one write and one DATA
 * frame instead of one each.  Only the write waits: every event is in the
 * spool before its bytes are forwarded (reclink.h). */
#define FLUSH_NOW (16 * 1024)
#define FLUSH_DELAY_MS 5

enum link_state { L_CONNECTING, L_HELLO, L_OPEN, L_DOWN, L_CLOSING, L_DONE };

union link_stream {
	uv_handle_t h;
	uv_stream_t s;
	uv_pipe_t pipe;
	uv_tcp_t tcp;
};

struct px_reclink {
	uv_loop_t *loop;
	const struct px_config *cfg;    /* its recorders, recpick, tls context (kept
	                                 * until exit: daemon.h) */
	int order[PX_MAX_RECORDERS];    /* recorders to try, as recpick ordered them */
	int ncand, cand;                /* how many; the one tried now */
	int rec;                        /* its index in cfg->recorders */
	unsigned gen;                   /* attempt number: stale resolutions ignored */
	char why[1024];                 /* the failures of the recorders tried */
	uint8_t *meta;                  /* for a new sender on the next recorder */
	size_t metalen;
	char client[256];               /* this host's name, for the recorder's log */
	struct sender *snd;
	struct px_reclink_cbs cbs;
	void *ud;
	char path[108];                 /* unix: socket path */
	char host[256], port[16];       /* tls: */
	char *statedir;                 /* StateDir (copied), NULL: none */
	struct tlsl_ctx *tctx;          /* tls: shared, owned by the config */
	struct tlsl *tls;               /* tls: this connection's session */
	size_t data_limit;
	enum link_state st;
	int ever_open;
	int freed;
	int nhandles;                   /* open handles and pending requests */
	union link_stream *stream;      /* current stream, NULL while down */
	uv_write_t wreq;
	union link_stream *wstream;     /* the stream wreq writes to */
	uint8_t *wbuf;
	size_t wlen;
	int writing;
	uv_timer_t timer;               /* reconnect backoff, close deadline */
	uv_idle_t idle;                 /* flush at the next iteration (FLUSH_NOW) */
	uv_timer_t ftimer;              /* flush after FLUSH_DELAY_MS */
	int flush_armed;                /* idle running */
	int delay_armed;                /* ftimer running */
	size_t unflushed;               /* event bytes handed in since the last flush */
	int backoff_ms;
	char rbuf[64 * 1024];
	char pbuf[64 * 1024];           /* tls: decrypted bytes */
	size_t last_spooled;
	uint64_t linger_until;          /* loop ms: a close while down retries until then */
};

/* A name lookup of one attempt (freed by its callback). */
struct link_gai {
	uv_getaddrinfo_t req;
	struct px_reclink *l;
	unsigned gen;
};

static void link_connect(struct px_reclink *l);
static int link_next(struct px_reclink *l, const char *why);

static void
maybe_release(struct px_reclink *l)
{
	if (l->freed && l->nhandles == 0 && !l->writing) {
		tlsl_free(l->tls);
		sender_free(l->snd);
		free(l->statedir);
		free(l->wbuf);
		free(l->meta);
		free(l);
	}
}

static void
handle_closed(uv_handle_t *h)
{
	struct px_reclink *l = h->data;

	if (h != (uv_handle_t *)&l->timer && h != (uv_handle_t *)&l->idle && h != (uv_handle_t *)&l->ftimer)
		free(h);
	l->nhandles--;
	maybe_release(l);
}

static void
drop_stream(struct px_reclink *l)
{
	if (l->stream != NULL) {
		union link_stream *p = l->stream;
		l->stream = NULL;
		uv_read_stop(&p->s);
		uv_close(&p->h, handle_closed);
	}
	tlsl_free(l->tls);
	l->tls = NULL;
}

static void
fail(struct px_reclink *l, const char *why)
{
	enum link_state was = l->st;

	if (!l->ever_open && !l->freed && (was == L_CONNECTING || was == L_HELLO)) {
		if (link_next(l, why) == 0)
			return;
		if (l->ncand > 1)
			why = l->why;
	}
	l->st = L_DONE;
	drop_stream(l);
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
	struct px_reclink *l = t->data;

	if (l->freed || l->st != L_DOWN)
		return;
	link_connect(l);
}

static void
lost(struct px_reclink *l, const char *why)
{
	if (l->st == L_DONE)
		return;
	drop_stream(l);
	if (!l->ever_open) {
		fail(l, why);
		return;
	}
	sender_on_disconnect(l->snd);
	px__recpick_down(l->cfg->recpick, l->rec, clock_mono_ns() / CLOCK_NS_PER_MS);
	if (l->st == L_CLOSING) {
		/* No reconnect: the close deadline decides. */
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

static void flush(struct px_reclink *l);

static void
on_written(uv_write_t *req, int status)
{
	struct px_reclink *l = req->data;
	size_t n = l->wlen;

	l->writing = 0;
	l->wlen = 0;
	if (l->freed) {
		maybe_release(l);
		return;
	}
	if (l->wstream != l->stream) {
		/* written to a stream since dropped (cancelled): nothing to account */
		flush(l);
		return;
	}
	if (status < 0) {
		lost(l, uv_strerror(status));
		return;
	}
	if (l->tls == NULL)
		sender_consume_output(l->snd, n);
	flush(l);
}

/* Points *p at the next bytes for the network and returns their count:
 * the sender's output itself, or through TLS its records (the sender's
 * output is handed to TLS while TLS holds less than WRITE_MAX). */
static size_t
next_bytes(struct px_reclink *l, const uint8_t **p)
{
	const uint8_t *q;
	size_t n;

	if (l->tls == NULL)
		return sender_pending_output(l->snd, p);
	while (tlsl_pending(l->tls, p) < WRITE_MAX && (n = sender_pending_output(l->snd, &q)) > 0) {
		if (tlsl_write(l->tls, q, n) != REC_OK)
			return 0;
		sender_consume_output(l->snd, n);
	}
	return tlsl_pending(l->tls, p);
}

/* Marks n bytes of next_bytes() as gone to the network. */
static void
consumed(struct px_reclink *l, size_t n)
{
	if (l->tls != NULL)
		tlsl_consume(l->tls, n);
	else
		sender_consume_output(l->snd, n);
}

/* Sends what is pending: first straight from the sender's (or TLS's) own
 * buffer with uv_try_write, as long as the socket takes it; the rest, when
 * the socket is full, is copied into wbuf (the sender's buffer may move while
 * a write is in flight) and queued with uv_write.  Errors are only ever
 * reported from the loop (on_written), never from inside this call, which
 * runs in the middle of forwarding. */
static void
flush(struct px_reclink *l)
{
	const uint8_t *p;
	size_t n;
	uv_buf_t b;
	int rc;

	if (l->writing || l->stream == NULL || l->freed)
		return;
	l->unflushed = 0;
	for (int i = 0; i < 16; i++) {
		if ((n = next_bytes(l, &p)) == 0)
			return;
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
		rc = uv_try_write(&l->stream->s, &b, 1);
		if (rc < 0)
			break;	/* full, or an error uv_write reports from the loop */
		consumed(l, (size_t)rc);
		if ((size_t)rc < n)
			break;
	}
	if ((n = next_bytes(l, &p)) == 0)
		return;
	if (n > WRITE_MAX)
		n = WRITE_MAX;
	if (l->wbuf == NULL && (l->wbuf = malloc(WRITE_MAX)) == NULL) {
		lost(l, "out of memory");
		return;
	}
	memcpy(l->wbuf, p, n);
	if (l->tls != NULL)
		tlsl_consume(l->tls, n);
	l->wlen = n;
	b = uv_buf_init((char *)l->wbuf, (unsigned)n);
	l->wreq.data = l;
	l->wstream = l->stream;
	if (uv_write(&l->wreq, &l->stream->s, &b, 1, on_written) != 0) {
		l->wlen = 0;
		lost(l, "write failed");
		return;
	}
	l->writing = 1;
}

/* The deferred flush is due (see FLUSH_NOW): whichever of the two fires
 * first writes everything handed in until then. */
static void
flush_due(struct px_reclink *l)
{
	if (l->flush_armed)
		uv_idle_stop(&l->idle);
	if (l->delay_armed)
		uv_timer_stop(&l->ftimer);
	l->flush_armed = l->delay_armed = 0;
	flush(l);
}

static void
on_idle(uv_idle_t *h)
{
	flush_due(h->data);
}

static void
on_delay(uv_timer_t *t)
{
	flush_due(t->data);
}

/* n more bytes of events wait for the network. */
static void
flush_soon(struct px_reclink *l, size_t n)
{
	if (l->freed)
		return;
	l->unflushed += n;
	if (l->unflushed >= FLUSH_NOW) {
		if (!l->flush_armed) {
			l->flush_armed = 1;
			uv_idle_start(&l->idle, on_idle);
		}
	} else if (!l->flush_armed && !l->delay_armed) {
		l->delay_armed = 1;
		uv_timer_start(&l->ftimer, on_delay, FLUSH_DELAY_MS, 0);
	}
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct px_reclink *l = h->data;

	(void)suggested;
	*b = uv_buf_init(l->rbuf, sizeof(l->rbuf));
}

/* Gives n bytes from the recorder to the sender and acts on its state.
 * Returns 0, or -1 when the link changed state (stop processing). */
static int
feed(struct px_reclink *l, const void *p, size_t n)
{
	enum sender_state ss;
	size_t spooled;
	int rc;

	rc = sender_feed(l->snd, p, n);
	ss = sender_state(l->snd);
	if (rc != REC_OK || ss == SENDER_FAILED) {
		char why[1200];
		snprintf(why, sizeof(why), "recorder refused the session: %s",
		    sender_reason(l->snd)[0] ? sender_reason(l->snd) : rec_strerror(rc));
		fail(l, why);
		return -1;
	}
	if (ss == SENDER_CLOSED) {
		/* Kept outside the store; a failure is logged there. */
		if (l->statedir != NULL)
			(void)px__receipts_store(l->statedir, l->cfg->nrecorders > 1 ?
			    l->cfg->recorders[l->rec] : NULL, sender_receipt(l->snd));
		l->st = L_DONE;
		uv_timer_stop(&l->timer);
		drop_stream(l);
		l->cbs.on_closed(l->ud, 1);
		return -1;
	}
	if (ss == SENDER_OPEN && (l->st == L_HELLO || l->st == L_DOWN || l->st == L_CONNECTING)) {
		int first = !l->ever_open;
		l->st = L_OPEN;
		l->ever_open = 1;
		l->backoff_ms = 0;
		px__recpick_up(l->cfg->recpick, l->rec);
		if (first && l->cfg->nrecorders > 1)
			px_log(l->cand > 0 ? PX_LOG_WARN : PX_LOG_INFO, sender_session_id(l->snd),
			    "recording on %s%s%s", l->cfg->recorders[l->rec], l->cand > 0 ? " after " : "",
			    l->cand > 0 ? l->why : "");
		if (first) {
			uv_timer_stop(&l->timer);	/* the open deadline */
			l->cbs.on_ready(l->ud, sender_session_id(l->snd));
		} else {
			l->cbs.on_writable(l->ud);
		}
		if (l->freed)
			return -1;
	}
	spooled = sender_spooled(l->snd);
	if (spooled < l->last_spooled && l->st == L_OPEN) {
		l->last_spooled = spooled;
		l->cbs.on_writable(l->ud);
		if (l->freed)
			return -1;
	}
	l->last_spooled = spooled;
	return 0;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct px_reclink *l = s->data;

	if (l->freed || l->stream == NULL || s != &l->stream->s)
		return;
	if (nread == 0)
		return;
	if (nread < 0) {
		lost(l, nread == UV_EOF ? "recorder closed the connection" : uv_strerror((int)nread));
		return;
	}
	if (l->st == L_CLOSING)
		uv_timer_again(&l->timer);
	if (l->tls == NULL) {
		if (feed(l, b->base, (size_t)nread) < 0)
			return;
	} else {
		long got;
		if (tlsl_feed(l->tls, b->base, (size_t)nread) != REC_OK) {
			char why[600];
			snprintf(why, sizeof(why), "TLS with %s:%s: %s", l->host, l->port, tlsl_error(l->tls));
			lost(l, why);
			return;
		}
		while ((got = tlsl_read(l->tls, l->pbuf, sizeof(l->pbuf))) > 0)
			if (feed(l, l->pbuf, (size_t)got) < 0)
				return;
		if (got < 0) {
			char why[600];
			snprintf(why, sizeof(why), "TLS with %s:%s: %s", l->host, l->port,
			    got == REC_ECLOSED ? "closed by the recorder" : tlsl_error(l->tls));
			lost(l, why);
			return;
		}
	}
	flush(l);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct px_reclink *l = req->data;
	uv_stream_t *h = req->handle;

	free(req);
	l->nhandles--;
	if (l->freed) {
		maybe_release(l);
		return;
	}
	if (l->stream == NULL || h != &l->stream->s)
		return;
	if (status < 0) {
		char why[400];
		if (l->tctx != NULL)
			snprintf(why, sizeof(why), "cannot connect to %s:%s: %s", l->host, l->port, uv_strerror(status));
		else
			snprintf(why, sizeof(why), "cannot connect to %s: %s", l->path, uv_strerror(status));
		lost(l, why);
		return;
	}
	if (l->tctx != NULL) {
		char tmp[16];
		if (tlsl_new(l->tctx, l->host, &l->tls) != REC_OK || tlsl_read(l->tls, tmp, sizeof(tmp)) < 0) {
			lost(l, "cannot start TLS");
			return;
		}
		uv_tcp_nodelay(&l->stream->tcp, 1);
	}
	if (l->st == L_CONNECTING || l->st == L_DOWN)
		l->st = l->ever_open ? L_DOWN : L_HELLO;
	uv_read_start(&l->stream->s, on_alloc, on_read);
	flush(l);
}

static union link_stream *
new_stream(struct px_reclink *l)
{
	union link_stream *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (l->tctx != NULL)
		uv_tcp_init(l->loop, &p->tcp);
	else
		uv_pipe_init(l->loop, &p->pipe, 0);
	p->h.data = l;
	l->nhandles++;
	l->stream = p;
	return p;
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct link_gai *g = (struct link_gai *)req;
	struct px_reclink *l = g->l;
	unsigned gen = g->gen;
	uv_connect_t *creq;
	union link_stream *p;
	int rc;

	free(g);
	l->nhandles--;
	if (l->freed || l->st == L_DONE || gen != l->gen || l->stream != NULL) {
		uv_freeaddrinfo(ai);
		maybe_release(l);
		return;
	}
	if (status < 0 || ai == NULL) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", l->host, uv_strerror(status));
		uv_freeaddrinfo(ai);
		lost(l, why);
		return;
	}
	if ((creq = malloc(sizeof(*creq))) == NULL || (p = new_stream(l)) == NULL) {
		free(creq);
		uv_freeaddrinfo(ai);
		lost(l, "out of memory");
		return;
	}
	creq->data = l;
	rc = uv_tcp_connect(creq, &p->tcp, ai->ai_addr, on_connect);
	uv_freeaddrinfo(ai);
	if (rc != 0) {
		char why[400];
		free(creq);
		snprintf(why, sizeof(why), "cannot connect to %s:%s: %s", l->host, l->port, uv_strerror(rc));
		lost(l, why);
		return;
	}
	l->nhandles++;
}

static void
link_connect(struct px_reclink *l)
{
	union link_stream *p;
	uv_connect_t *creq;

	if (l->tctx != NULL) {
		struct addrinfo hints = { 0 };
		struct link_gai *g;
		int rc;
		if ((g = calloc(1, sizeof(*g))) == NULL) {
			lost(l, "out of memory");
			return;
		}
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		g->l = l;
		g->gen = l->gen;
		rc = uv_getaddrinfo(l->loop, &g->req, on_resolved, l->host, l->port, &hints);
		if (rc != 0) {
			free(g);
			lost(l, uv_strerror(rc));
			return;
		}
		l->nhandles++;
		return;
	}
	if ((creq = malloc(sizeof(*creq))) == NULL || (p = new_stream(l)) == NULL) {
		free(creq);
		lost(l, "out of memory");
		return;
	}
	creq->data = l;
	l->nhandles++;
	uv_pipe_connect(creq, &p->pipe, l->path, on_connect);
}

/* Splits "tls://HOST:PORT" ("[V6]:PORT" too) into l->host and l->port. */
static int
parse_tls(struct px_reclink *l, const char *url)
{
	const char *hp = url + 6, *colon;
	size_t hl;

	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');
		if (rb == NULL || rb[1] != ':')
			return PX_EINVAL;
		hp++;
		hl = (size_t)(rb - hp);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(hp, ':')) == NULL)
			return PX_EINVAL;
		hl = (size_t)(colon - hp);
	}
	if (hl == 0 || hl >= sizeof(l->host) || strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(l->port))
		return PX_EINVAL;
	memcpy(l->host, hp, hl);
	l->host[hl] = '\0';
	snprintf(l->port, sizeof(l->port), "%s", colon + 1);
	return PX_OK;
}

/* Points the link at recorder idx of the configuration: l->path, or
 * l->host, l->port and l->tctx.  Returns PX_OK or PX_EINVAL. */
static int
link_target(struct px_reclink *l, int idx)
{
	const char *a = l->cfg->recorders[idx];

	l->rec = idx;
	l->tctx = NULL;
	l->path[0] = '\0';
	if (strncmp(a, "unix:", 5) == 0) {
		if (strlen(a + 5) >= sizeof(l->path))
			return PX_EINVAL;
		snprintf(l->path, sizeof(l->path), "%s", a + 5);
		return PX_OK;
	}
	if (strncmp(a, "tls://", 6) == 0 && l->cfg->recorder_tls != NULL && parse_tls(l, a) == PX_OK) {
		l->tctx = l->cfg->recorder_tls;
		return PX_OK;
	}
	return PX_EINVAL;
}

static void
open_deadline(uv_timer_t *t)
{
	struct px_reclink *l = t->data;
	char why[64];

	if (l->freed || l->ever_open || (l->st != L_CONNECTING && l->st != L_HELLO))
		return;
	snprintf(why, sizeof(why), "no answer within %d s", OPEN_WAIT_MS / 1000);
	fail(l, why);
}

/* Starts the attempt on l->order[l->cand]: a fresh sender (the META again),
 * and, when another recorder is left to try, the open deadline.  Returns
 * PX_OK or PX_ENOMEM / PX_EINVAL. */
static int
link_attempt(struct px_reclink *l)
{
	int rc = link_target(l, l->order[l->cand]);

	if (rc != PX_OK)
		return rc;
	sender_free(l->snd);
	l->snd = sender_new(l->meta, l->metalen, l->cfg->spool_limit + CONTROL_RESERVE, l->client);
	if (l->snd == NULL)
		return PX_ENOMEM;
	l->gen++;
	l->st = L_CONNECTING;
	l->last_spooled = 0;
	if (l->cand + 1 < l->ncand)
		uv_timer_start(&l->timer, open_deadline, OPEN_WAIT_MS, 0);
	else
		uv_timer_stop(&l->timer);
	return PX_OK;
}

/* The session could not open on the recorder tried now (why): notes it,
 * and when another is left, starts on it.  Returns 0 when the session goes
 * on with another recorder, -1 when none is left (l->why then holds every
 * recorder's reason). */
static int
link_next(struct px_reclink *l, const char *why)
{
	size_t n = strlen(l->why);
	int rc;

	px__recpick_down(l->cfg->recpick, l->rec, clock_mono_ns() / CLOCK_NS_PER_MS);
	if (l->ncand > 1)
		snprintf(l->why + n, sizeof(l->why) - n, "%s%s: %s", n ? "; " : "", l->cfg->recorders[l->rec], why);
	while (l->cand + 1 < l->ncand) {
		l->cand++;
		px_log(PX_LOG_WARN, NULL, "recorder %s: %s; trying %s", l->cfg->recorders[l->rec], why,
		    l->cfg->recorders[l->order[l->cand]]);
		drop_stream(l);
		if ((rc = link_attempt(l)) == PX_OK) {
			link_connect(l);
			return 0;
		}
		n = strlen(l->why);
		snprintf(l->why + n, sizeof(l->why) - n, "; %s: %s", l->cfg->recorders[l->order[l->cand]],
		    px__strerror(rc));
	}
	return -1;
}

int
px__reclink_open(uv_loop_t *loop, const struct px_config *cfg, const void *meta,
    size_t metalen, const struct px_reclink_cbs *cbs, void *ud, struct px_reclink **out)
{
	struct px_reclink *l;
	int rc;

	*out = NULL;
	if (cfg->nrecorders < 1 || cfg->recpick == NULL)
		return PX_EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return PX_ENOMEM;
	l->cfg = cfg;
	l->ncand = px__recpick_order(cfg->recpick, clock_mono_ns() / CLOCK_NS_PER_MS, l->order);
	if ((l->meta = malloc(metalen ? metalen : 1)) == NULL) {
		free(l);
		return PX_ENOMEM;
	}
	if (metalen > 0)
		memcpy(l->meta, meta, metalen);
	l->metalen = metalen;
	if (gethostname(l->client, sizeof(l->client)) != 0)
		snprintf(l->client, sizeof(l->client), "escort-proxy");
	l->client[sizeof(l->client) - 1] = '\0';
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	uv_idle_init(loop, &l->idle);
	l->idle.data = l;
	uv_timer_init(loop, &l->ftimer);
	l->ftimer.data = l;
	l->nhandles = 3;
	l->loop = loop;
	/* the first recorder that can be addressed (the configuration checked
	 * them all, so the first) */
	while ((rc = link_attempt(l)) != PX_OK && rc != PX_ENOMEM && l->cand + 1 < l->ncand)
		l->cand++;
	if (rc != PX_OK) {
		l->freed = 1;
		uv_close((uv_handle_t *)&l->timer, handle_closed);
		uv_close((uv_handle_t *)&l->idle, handle_closed);
		uv_close((uv_handle_t *)&l->ftimer, handle_closed);
		return rc;
	}
	l->loop = loop;
	l->cbs = *cbs;
	l->ud = ud;
	l->data_limit = cfg->spool_limit;
	if (cfg->statedir != NULL && (l->statedir = strdup(cfg->statedir)) == NULL) {
		px__reclink_free(l);
		return PX_ENOMEM;
	}
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
px__reclink_event(struct px_reclink *l, uint16_t type, uint32_t channel, const void *p, size_t n)
{
	int rc;

	if (l->st == L_DONE || l->st == L_CLOSING || l->freed)
		return PX_ERECORDER;
	if (is_data(type) && !px__reclink_can_take(l, n))
		return PX_EFULL;
	rc = sender_event(l->snd, type, channel, p, n);
	if (rc == REC_EFULL)
		return PX_EFULL;
	if (rc != REC_OK)
		return PX_ERECORDER;
	l->last_spooled = sender_spooled(l->snd);
	flush_soon(l, n + EV_HDR_LEN);
	return PX_OK;
}

int
px__reclink_can_take(const struct px_reclink *l, size_t n)
{
	return l != NULL && l->st == L_OPEN && !l->freed &&
	    sender_spooled(l->snd) + n + EV_HDR_LEN <= l->data_limit;
}

size_t
px__reclink_spooled(const struct px_reclink *l)
{
	return l ? sender_spooled(l->snd) : 0;
}

static void
close_deadline(uv_timer_t *t)
{
	struct px_reclink *l = t->data;

	if (l->st != L_CLOSING)
		return;
	if (l->stream == NULL && uv_now(l->loop) < l->linger_until) {
		link_connect(l);	/* the END still waits for a recorder */
		return;
	}
	fail(l, "recorder did not confirm the end of the session");
}

void
px__reclink_close(struct px_reclink *l)
{
	px__reclink_close_with(l, NULL, 0);
}

void
px__reclink_close_with(struct px_reclink *l, const void *end, size_t len)
{
	if (l->st == L_DONE || l->st == L_CLOSING || l->freed)
		return;
	if (sender_close_with(l->snd, end, len) != REC_OK) {
		l->st = L_CLOSING;
		fail(l, "cannot close");
		return;
	}
	l->st = L_CLOSING;
	uv_timer_start(&l->timer, close_deadline, CLOSE_WAIT_MS, CLOSE_WAIT_MS);
	flush(l);
}

void
px__reclink_linger(struct px_reclink *l, unsigned ms)
{
	if (l != NULL && !l->freed)
		l->linger_until = uv_now(l->loop) + ms;
}

void
px__reclink_free(struct px_reclink *l)
{
	if (l == NULL || l->freed)
		return;
	l->freed = 1;
	uv_timer_stop(&l->timer);
	uv_idle_stop(&l->idle);
	uv_timer_stop(&l->ftimer);
	drop_stream(l);
	uv_close((uv_handle_t *)&l->timer, handle_closed);
	uv_close((uv_handle_t *)&l->idle, handle_closed);
	uv_close((uv_handle_t *)&l->ftimer, handle_closed);
}
