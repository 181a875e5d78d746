/* recd_conn: a connection to escort-recorder and its protocol state
 * machine (see recd_conn.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "recorder/event.h"
#include "recorder/journal.h"
#include "recorder/rec_error.h"
#include "recorder/recd_conn.h"
#include "recorder/recd_log.h"
#include "recorder/recd_session.h"
#include "recorder/recd_worker.h"
#include "recorder/seal.h"
#include "recorder/segment.h"
#include "common/tlsl.h"
#include "recorder/wire.h"

#define READ_CHUNK	(256u << 10)
#define TLS_READ_CHUNK	(64u << 10)
#define WRITES_MAX	4096		/* answers the peer has not read */

enum conn_state {
	CONN_HELLO,	/* waiting for HELLO */
	CONN_OPEN,	/* session attached */
	CONN_CLOSING,	/* CLOSE received */
	CONN_FINISHED,	/* resume of a session already closed: waits for
			   CLOSE to send its CLOSED again */
	CONN_DRAIN,	/* last frame queued; close when written */
};

static const char *const state_names[] = { "HELLO", "OPEN", "CLOSING",
	"FINISHED", "DRAIN" };

struct recd_conn {
	struct recd	*d;
	struct recd_conn *next;
	struct recd_conn *prev;
	union {
		uv_handle_t	handle;
		uv_stream_t	stream;
		uv_pipe_t	pipe;
		uv_tcp_t	tcp;
	} h;
	struct tlsl	*tls;
	char		 name[192];
	enum conn_state	 state;
	uint8_t		 version;	/* the HELLO's protocol version: every
					   later frame both ways uses it */
	struct buf	 in;		/* plaintext bytes not yet parsed */
	size_t		 reserved;	/* bytes of `in` lent to libuv */
	uint8_t		*tlsbuf;	/* ciphertext read buffer */
	struct recd_sess *sess;
	uint64_t	 opened_at;	/* ms */
	uint64_t	 frame_since;	/* ms a partial frame waits, 0: none */
	unsigned	 writes;	/* uv_write requests in flight */
	int		 closing;	/* uv_close called */
	int		 tls_logged;
	int		 is_tcp;
	unsigned	 move_to;	/* worker index + 1: hand over once the
					   writes in flight are done */
	unsigned	 reserved_w;	/* worker index + 1 counting this new
					   session (recd_pool_pick) */
	struct seal_receipt final;	/* CONN_FINISHED */
};

struct wreq {
	uv_write_t	 req;
	struct recd_conn *c;
	uint8_t		 data[];
};

static void conn_close_now(struct recd_conn *c);
static void conn_move_now(struct recd_conn *c);
static void process(struct recd_conn *c);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

const char *
recd_conn_name(const struct recd_conn *c)
{
	return c->name;
}

/* Last step of a connection: unlinks and frees it. */
static void
on_handle_closed(uv_handle_t *h)
{
	struct recd_conn *c = h->data;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->d->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->reserved_w != 0)		/* never handed over */
		recd_pool_unreserve(c->d, c->reserved_w - 1);
	tlsl_free(c->tls);
	buf_free(&c->in);
	free(c->tlsbuf);
	free(c);
}

/* Detaches the session and closes the handle (freed in its callback). */
static void
conn_close_now(struct recd_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->sess != NULL) {
		struct recd_sess *s = c->sess;

		c->sess = NULL;
		recd_sess_detach(s);
	}
	uv_read_stop(&c->h.stream);
	uv_close(&c->h.handle, on_handle_closed);
}

/* A write finished: a DRAIN connection closes after its last one. */
static void
on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct recd_conn *c = w->c;

	free(w);
	c->writes--;
	if (status < 0 && !c->closing) {
		recd_log(LOG_INFO, "conn %s: write failed: %s", c->name,
		    uv_strerror(status));
		conn_close_now(c);
		return;
	}
	if (c->state == CONN_DRAIN && c->writes == 0)
		conn_close_now(c);
	else if (c->move_to != 0 && c->writes == 0 && !c->closing)
		conn_move_now(c);
}

/* Queues bytes on the socket (copied). */
static void
write_raw(struct recd_conn *c, const uint8_t *p, size_t n)
{
	struct wreq *w;
	uv_buf_t b;

	if (c->closing || n == 0)
		return;
	if ((w = malloc(sizeof(*w) + n)) == NULL) {
		conn_close_now(c);
		return;
	}
	memcpy(w->data, p, n);
	w->c = c;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if (uv_write(&w->req, &c->h.stream, &b, 1, on_written) != 0) {
		free(w);
		conn_close_now(c);
		return;
	}
	c->writes++;
}

/* Sends what TLS has queued for the network. */
static void
flush_tls(struct recd_conn *c)
{
	const uint8_t *p;
	size_t n;

	if (c->tls == NULL)
		return;
	if ((n = tlsl_pending(c->tls, &p)) > 0) {
		write_raw(c, p, n);
		tlsl_consume(c->tls, n);
	}
}

/* Encodes and sends one message, through TLS when used. */
static void
send_msg(struct recd_conn *c, const struct wire_msg *m)
{
	uint8_t small[2048];
	struct wire_msg v = *m;
	long n;

	if (c->closing)
		return;
	v.version = c->version;		/* 0 before HELLO: WIRE_VERSION */
	n = wire_encode(&v, small, sizeof(small));
	if (n < 0) {
		recd_log(LOG_ERR, "conn %s: cannot encode %s: %s", c->name,
		    wire_type_name(m->type), rec_strerror((int)n));
		return;
	}
	if (c->tls != NULL) {
		if (tlsl_write(c->tls, small, (size_t)n) != REC_OK) {
			conn_close_now(c);
			return;
		}
		flush_tls(c);
	} else
		write_raw(c, small, (size_t)n);
}

/* Queues the last frame; the connection closes once it is written. */
static void
drain(struct recd_conn *c)
{
	c->state = CONN_DRAIN;
	uv_read_stop(&c->h.stream);
	if (c->sess != NULL) {
		struct recd_sess *s = c->sess;

		c->sess = NULL;
		recd_sess_detach(s);
	}
	if (c->writes == 0)
		conn_close_now(c);
}

/* Logs, sends REJECT or ABORT with the reason, then drains. */
static void
conn_vfail(struct recd_conn *c, int type, const char *fmt, va_list ap)
{
	char reason[WIRE_REASON_MAX];
	struct wire_msg m;

	if (c->closing || c->state == CONN_DRAIN)
		return;
	vsnprintf(reason, sizeof(reason), fmt, ap);
	for (char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	recd_log(LOG_WARNING, "conn %s: %s: %s", c->name,
	    type == WIRE_REJECT ? "rejected" : "aborted", reason);
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.text = reason;
	m.text_len = strlen(reason);
	if (c->tls == NULL || tlsl_ready(c->tls))
		send_msg(c, &m);
	drain(c);
}

void
recd_conn_reject(struct recd_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vfail(c, WIRE_REJECT, fmt, ap);
	va_end(ap);
}

void
recd_conn_fail(struct recd_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vfail(c, c->state == CONN_HELLO ? WIRE_REJECT : WIRE_ABORT, fmt,
	    ap);
	va_end(ap);
}

void
recd_conn_unlink(struct recd_conn *c)
{
	c->sess = NULL;
}

void
recd_conn_send_ack(struct recd_conn *c, uint64_t seq, const uint8_t *head)
{
	struct wire_msg m = { .type = WIRE_ACK, .seq = seq, .head = head };

	if (c->writes >= WRITES_MAX) {
		recd_conn_reject(c, "%u answers not read by the peer",
		    c->writes);
		return;
	}
	if (c->state == CONN_OPEN || c->state == CONN_CLOSING)
		send_msg(c, &m);
}

void
recd_conn_send_closed(struct recd_conn *c, const char *id, uint64_t seq,
    const uint8_t *head, const uint8_t *seal, size_t seal_len)
{
	struct wire_msg m = { .type = WIRE_CLOSED, .id = id,
	    .id_len = strlen(id), .seq = seq, .head = head, .data = seal,
	    .data_len = seal_len };
	struct tree_head th;
	char line[TREEHEAD_LINE_MAX];
	int r;

	c->sess = NULL;
	/* Version 3: the signed tree head that covers the close entry, for
	 * the proxy to keep outside the store. */
	if (c->version >= 3 && c->d->journal != NULL) {
		if ((r = journal_head_last(c->d->journal, &th)) == REC_OK) {
			treehead_format(&th, line, sizeof(line));
			m.line = line;
			m.line_len = strlen(line);
		} else
			recd_log(LOG_ERR, "conn %s: session %s: no tree head "
			    "for its CLOSED: %s", c->name, id, rec_strerror(r));
	}
	send_msg(c, &m);
	drain(c);
}

/*
 * The resume token of session `id`: the recorder's Ed25519 signature over
 * "escort-resume-v1" 0x00 id.  Only the holder of the signing key can make
 * it, it is the same after a restart, and it is stored nowhere: the recorder
 * hands it to the proxy that opened the session, and a resume must show it.
 */
static int
resume_token(struct recd *d, const char *id, uint8_t tok[WIRE_TOKEN_LEN])
{
	static const char dom[] = "escort-resume-v1";
	uint8_t msg[sizeof(dom) + WIRE_ID_MAX];
	size_t n = strlen(id);

	if (n > WIRE_ID_MAX)
		return REC_EINVAL;
	memcpy(msg, dom, sizeof(dom));		/* with its NUL */
	memcpy(msg + sizeof(dom), id, n);
	return seal_sign(d->signer, msg, sizeof(dom) + n, tok);
}

/*
 * A resume whose HELLO holds an ACK for a seq beyond what the store holds:
 * acknowledged events are missing (the session file was cut back, or the
 * peer claims what it never got).  The recorder writes it into the session
 * as a MARKER of its own (TEXT, ACKED_SEQ, STORED_SEQ; signed and durable
 * like any event), logs it and refuses the resume: nothing may follow the
 * gap as if it were not there.
 */
static void
resume_disagrees(struct recd_conn *c, struct recd_sess *s,
    const struct wire_msg *m)
{
	char text[512], err[512], id[WIRE_ID_MAX + 1];
	uint64_t stored = recd_sess_durable(s);
	struct buf f;
	int r;

	/* s may be freed by recd_sess_note (a write error breaks it) */
	snprintf(id, sizeof(id), "%s", recd_sess_id(s));

	snprintf(text, sizeof(text), "recorder: resume refused: the proxy "
	    "%.*s holds an acknowledgement for seq %llu, the store holds "
	    "events up to seq %llu (acknowledged events are missing)",
	    (int)m->text_len, m->text, (unsigned long long)m->seq,
	    (unsigned long long)stored);
	recd_log(LOG_ERR, "conn %s: session %s: %s", c->name, id, text);
	buf_init(&f, 0);
	r = ev_fields_put_str(&f, EVF_TEXT, text);
	if (r == REC_OK)
		r = ev_fields_put_u64(&f, EVF_ACKED_SEQ, m->seq);
	if (r == REC_OK)
		r = ev_fields_put_u64(&f, EVF_STORED_SEQ, stored);
	if (r == REC_OK)
		r = recd_sess_note(s, EV_MARKER, SEGF_RESUME_REFUSED,
		    buf_ptr(&f), buf_len(&f), err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", rec_strerror(r));
	buf_free(&f);
	if (r != REC_OK)
		recd_log(LOG_ERR, "session %s: cannot record the disagreement: "
		    "%s", id, err);
	recd_conn_fail(c, "cannot resume session %s: the proxy holds an "
	    "acknowledgement for seq %llu, the store holds events up to seq "
	    "%llu%s", id, (unsigned long long)m->seq,
	    (unsigned long long)stored, r == REC_OK ? " (recorded in the "
	    "session)" : "");
}

/* HELLO: a new session or a resume; ACCEPT or REJECT. */
static void
on_hello(struct recd_conn *c, const struct wire_msg *m)
{
	struct recd *d = c->d;
	struct recd_sess *s;
	char err[512], id[WIRE_ID_MAX + 1];
	uint8_t tok[WIRE_TOKEN_LEN];
	struct wire_msg a = { .type = WIRE_ACCEPT, .token = tok };
	int r;

	if (d->stopping) {
		recd_conn_fail(c, "recorder shutting down");
		return;
	}
	if (m->flags & WIRE_F_RESUME) {
		memcpy(id, m->id, m->id_len);
		id[m->id_len] = '\0';
		if (resume_token(d, id, tok) != REC_OK || m->token == NULL ||
		    CRYPTO_memcmp(tok, m->token, WIRE_TOKEN_LEN) != 0) {
			recd_log(LOG_WARNING, "conn %s: resume of session %s "
			    "refused: wrong resume token", c->name, id);
			recd_conn_fail(c, "cannot resume session %s: wrong "
			    "resume token", id);
			return;
		}
		r = recd_sess_resume(d, id, &s, err, sizeof(err));
		if (r == REC_ECLOSED && recd_sess_final(d, id, &c->final, err,
		    sizeof(err)) == REC_OK) {
			recd_log(LOG_INFO, "conn %s: session %s was closed at "
			    "seq %llu; sending its final record again",
			    c->name, id,
			    (unsigned long long)c->final.cp.last_seq);
			c->state = CONN_FINISHED;
			a.id = id;
			a.id_len = strlen(id);
			a.seq = c->final.cp.last_seq;
			send_msg(c, &a);
			return;
		}
		if (r != REC_OK) {
			recd_conn_fail(c, "cannot resume session %s: %s", id,
			    err);
			return;
		}
		if (recd_sess_durable(s) < m->seq) {
			resume_disagrees(c, s, m);
			return;
		}
		char on[32] = "";

		if (d->is_worker)
			snprintf(on, sizeof(on), " on worker %u", d->worker);
		recd_log(LOG_INFO, "conn %s: %.*s resumes session %s at seq "
		    "%llu%s", c->name, (int)m->text_len, m->text, id,
		    (unsigned long long)recd_sess_durable(s), on);
	} else {
		r = recd_sess_create(d, m->data, m->data_len, &s, err,
		    sizeof(err));
		if (r != REC_OK) {
			recd_conn_fail(c, "cannot start a session: %s", err);
			return;
		}
		recd_log(LOG_INFO, "conn %s: %.*s starts session %s", c->name,
		    (int)m->text_len, m->text, recd_sess_id(s));
	}
	c->sess = s;
	c->state = CONN_OPEN;
	recd_sess_attach(s, c);
	a.id = recd_sess_id(s);
	a.id_len = strlen(a.id);
	a.seq = recd_sess_durable(s);
	if (!(m->flags & WIRE_F_RESUME) && resume_token(d, a.id, tok) != REC_OK) {
		recd_conn_fail(c, "cannot sign the session's resume token");
		return;
	}
	send_msg(c, &a);
}

/* Dispatches one decoded message per the connection state. */
static void
handle(struct recd_conn *c, const struct wire_msg *m)
{
	char err[512];
	struct wire_msg pong = { .type = WIRE_PONG };

	switch (m->type) {
	case WIRE_HELLO:
		if (c->state != CONN_HELLO)
			break;
		c->version = m->version;
		on_hello(c, m);
		return;
	case WIRE_DATA:
		if (c->state == CONN_FINISHED && m->count == 0)
			return;		/* a sync request: all is durable */
		if (c->state == CONN_FINISHED) {
			recd_conn_reject(c, "session %s was closed at seq %llu",
			    c->final.cp.id,
			    (unsigned long long)c->final.cp.last_seq);
			return;
		}
		if (c->state != CONN_OPEN || c->sess == NULL)
			break;
		if (recd_sess_data(c->sess, m->data, m->data_len, m->count,
		    m->flags & WIRE_F_SYNC, err, sizeof(err)) != REC_OK)
			recd_conn_reject(c, "%s", err);
		return;
	case WIRE_CLOSE:
		if (c->state == CONN_FINISHED) {
			uint8_t seal[WIRE_SEAL_LEN];

			recd_conn_send_closed(c, c->final.cp.id,
			    c->final.cp.last_seq, c->final.cp.head, seal,
			    recd_seal_field(&c->final, seal));
			return;
		}
		if (c->state != CONN_OPEN || c->sess == NULL)
			break;
		c->state = CONN_CLOSING;
		recd_sess_close(c->sess);
		return;
	case WIRE_PING:
		if (c->state == CONN_HELLO)
			break;
		pong.seq = m->seq;
		send_msg(c, &pong);
		return;
	case WIRE_PONG:
		if (c->state == CONN_HELLO)
			break;
		return;
	default:
		break;
	}
	recd_conn_reject(c, "unexpected %s in state %s",
	    wire_type_name(m->type), state_names[c->state]);
}

/*
 * Hands the socket, its TLS state and the unread bytes to worker
 * c->move_to - 1 (recd_worker.h), and closes this side (the worker holds a
 * descriptor of its own).  On failure the peer gets REJECT.
 */
static void
conn_move_now(struct recd_conn *c)
{
	unsigned w = c->move_to - 1;
	struct recd_conn_move *mv;
	uv_os_fd_t fd;

	c->move_to = 0;
	if ((mv = calloc(1, sizeof(*mv))) == NULL) {
		recd_conn_fail(c, "recorder out of memory");
		return;
	}
	mv->fd = -1;
	if (uv_fileno(&c->h.handle, &fd) != 0 ||
	    (mv->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    (buf_len(&c->in) > 0 &&
	    (mv->in = malloc(buf_len(&c->in))) == NULL)) {
		if (mv->fd >= 0)
			close(mv->fd);
		free(mv);
		recd_conn_fail(c, "cannot hand the connection to a worker");
		return;
	}
	mv->in_len = buf_len(&c->in);
	if (mv->in_len > 0)
		memcpy(mv->in, buf_ptr(&c->in), mv->in_len);
	mv->is_tcp = c->is_tcp;
	mv->tls = c->tls;
	mv->tlsbuf = c->tlsbuf;
	snprintf(mv->name, sizeof(mv->name), "%s", c->name);
	mv->reserved = c->reserved_w != 0;	/* the count goes along */
	c->frame_since = 0;
	/* from here on mv is the worker's (another thread) */
	if (recd_pool_handoff(c->d, w, mv) < 0) {
		close(mv->fd);
		free(mv->in);
		free(mv);
		recd_conn_fail(c, "recorder shutting down");
		return;
	}
	c->tls = NULL;			/* the worker's now */
	c->tlsbuf = NULL;
	c->reserved_w = 0;
	recd_log(LOG_DEBUG, "conn %s: handed to worker %u", c->name, w);
	conn_close_now(c);
}

/* Main loop with workers: the first frame is a HELLO; its session's worker
 * takes the connection (a resume: the session's; new: the least busy). */
static void
conn_move(struct recd_conn *c, const struct wire_msg *m)
{
	char id[WIRE_ID_MAX + 1];
	unsigned w;

	if (c->d->stopping) {
		recd_conn_fail(c, "recorder shutting down");
		return;
	}
	if (m->flags & WIRE_F_RESUME) {
		size_t n = m->id_len < WIRE_ID_MAX ? m->id_len : WIRE_ID_MAX;

		memcpy(id, m->id, n);
		id[n] = '\0';
		w = recd_pool_index(c->d, id);
	} else {
		if (recd_pool_sessions(c->d) >= c->d->cfg.max_sessions) {
			recd_conn_fail(c, "cannot start a session: too many "
			    "sessions (MaxSessions %u)",
			    c->d->cfg.max_sessions);
			return;
		}
		w = recd_pool_pick(c->d);
		c->reserved_w = w + 1;
	}
	uv_read_stop(&c->h.stream);
	c->move_to = w + 1;
	if (c->writes == 0)
		conn_move_now(c);
}

void
recd_conn_adopt(struct recd *d, struct recd_conn_move *mv)
{
	struct recd_conn *c;
	int r, reserved = mv->reserved;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		recd_log(LOG_ERR, "conn %s: out of memory in a worker",
		    mv->name);
		goto fail;
	}
	c->d = d;
	c->is_tcp = mv->is_tcp;
	buf_init(&c->in, WIRE_FRAME_MAX + READ_CHUNK);
	if ((mv->in_len > 0 && buf_put(&c->in, mv->in, mv->in_len) !=
	    REC_OK) || (c->is_tcp ? uv_tcp_init(d->loop, &c->h.tcp) :
	    uv_pipe_init(d->loop, &c->h.pipe, 0)) != 0) {
		buf_free(&c->in);
		free(c);
		goto fail;
	}
	c->h.handle.data = c;
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	snprintf(c->name, sizeof(c->name), "%s", mv->name);
	c->tls = mv->tls;
	c->tlsbuf = mv->tlsbuf;
	c->tls_logged = c->tls != NULL && tlsl_ready(c->tls);
	mv->tls = NULL;
	mv->tlsbuf = NULL;
	c->opened_at = uv_now(d->loop);
	r = c->is_tcp ? uv_tcp_open(&c->h.tcp, mv->fd) :
	    uv_pipe_open(&c->h.pipe, mv->fd);
	if (r != 0) {
		recd_log(LOG_WARNING, "conn %s: a worker cannot take it: %s",
		    c->name, uv_strerror(r));
		close(mv->fd);
		conn_close_now(c);
	} else if ((r = uv_read_start(&c->h.stream, on_alloc, on_read)) != 0) {
		recd_log(LOG_WARNING, "conn %s: read: %s", c->name,
		    uv_strerror(r));
		conn_close_now(c);
	} else {
		/* the HELLO: a session it creates takes the main thread's count
		 * over at once (never counted twice, never not at all) */
		d->held_count = reserved;
		process(c);
		reserved = d->held_count;
		d->held_count = 0;
	}
	mv->fd = -1;
	free(mv->in);
	free(mv);
	if (reserved)		/* no session was created: the count goes */
		recd_pool_count(d, -1);
	recd_kick(d);
	return;
fail:
	recd_move_free(mv);
	if (reserved)
		recd_pool_count(d, -1);
}

/* Decodes and handles every complete frame in the input. */
static void
process(struct recd_conn *c)
{
	char why[256];
	struct wire_msg m;
	size_t flen;
	int r;

	while (!c->closing && (c->state == CONN_HELLO ||
	    c->state == CONN_OPEN || c->state == CONN_FINISHED)) {
		if (buf_len(&c->in) == 0) {
			c->frame_since = 0;
			buf_reset(&c->in);
			return;
		}
		r = wire_frame(buf_ptr(&c->in), buf_len(&c->in), &flen, why,
		    sizeof(why));
		if (r != REC_OK) {
			recd_conn_reject(c, "%s", why);
			return;
		}
		if (flen == 0) {
			if (c->frame_since == 0) {
				c->frame_since = uv_now(c->d->loop);
				recd_kick(c->d);
			}
			return;
		}
		c->frame_since = 0;
		r = wire_decode(buf_ptr(&c->in), flen, &m, why, sizeof(why));
		if (r != REC_OK) {
			recd_conn_reject(c, "%s", why);
			return;
		}
		if (c->d->pool != NULL && !c->d->is_worker &&
		    c->state == CONN_HELLO && m.type == WIRE_HELLO) {
			conn_move(c, &m);	/* the HELLO stays in c->in */
			return;
		}
		if (c->version != 0 && m.version != c->version) {
			recd_conn_reject(c, "%s in protocol version %u after a "
			    "HELLO in version %u", wire_type_name(m.type),
			    m.version, c->version);
			return;
		}
		handle(c, &m);
		buf_consume(&c->in, flen);
	}
}

/* Read buffers: straight into the input buffer (plain) or a TLS one. */
static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct recd_conn *c = h->data;
	uint8_t *p;

	(void)hint;
	if (c->tls != NULL) {
		*b = uv_buf_init((char *)c->tlsbuf, TLS_READ_CHUNK);
		return;
	}
	if (buf_reserve(&c->in, READ_CHUNK, &p) != REC_OK) {
		*b = uv_buf_init(NULL, 0);
		return;
	}
	c->reserved = READ_CHUNK;
	*b = uv_buf_init((char *)p, READ_CHUNK);
}

/* Moves decrypted bytes into c->in. */
static int
tls_in(struct recd_conn *c, const uint8_t *p, size_t n)
{
	uint8_t *dst;
	long got;

	if (tlsl_feed(c->tls, p, n) != REC_OK) {
		flush_tls(c);
		recd_log(LOG_WARNING, "conn %s: %s", c->name,
		    tlsl_error(c->tls));
		drain(c);
		return -1;
	}
	for (;;) {
		if (buf_reserve(&c->in, TLS_READ_CHUNK, &dst) != REC_OK) {
			recd_conn_reject(c, "input buffer full");
			return -1;
		}
		got = tlsl_read(c->tls, dst, TLS_READ_CHUNK);
		buf_unput(&c->in, got > 0 ? TLS_READ_CHUNK - (size_t)got :
		    TLS_READ_CHUNK);
		if (got == 0)
			break;
		if (got < 0) {
			flush_tls(c);
			if (got != REC_ECLOSED)
				recd_log(LOG_WARNING, "conn %s: %s", c->name,
				    tlsl_error(c->tls));
			drain(c);
			return -1;
		}
	}
	if (tlsl_ready(c->tls) && !c->tls_logged) {
		size_t l = strlen(c->name);

		c->tls_logged = 1;
		snprintf(c->name + l, sizeof(c->name) - l, " CN=%s",
		    tlsl_peer_name(c->tls));
		recd_log(LOG_INFO, "conn %s: TLS client verified", c->name);
	}
	flush_tls(c);
	return 0;
}

/* Socket bytes in; EOF and errors close the connection. */
static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct recd_conn *c = st->data;

	if (c->tls == NULL) {
		buf_unput(&c->in, c->reserved - (nread > 0 ? (size_t)nread :
		    0));
		c->reserved = 0;
	}
	if (nread == 0)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			recd_log(LOG_INFO, "conn %s: read: %s", c->name,
			    uv_strerror((int)nread));
		if (nread == UV_ENOBUFS)
			recd_conn_reject(c, "input buffer full");
		else {
			if (buf_len(&c->in) > 0 && c->state != CONN_DRAIN)
				recd_log(LOG_WARNING, "conn %s: closed in the "
				    "middle of a frame (%zu bytes)", c->name,
				    buf_len(&c->in));
			else
				recd_log(LOG_INFO, "conn %s: closed by the "
				    "peer", c->name);
			conn_close_now(c);
		}
		return;
	}
	if (c->tls != NULL && tls_in(c, (const uint8_t *)b->base,
	    (size_t)nread) < 0)
		return;
	process(c);
}

void
recd_conn_accept(struct recd *d, uv_stream_t *server, int is_tcp,
    struct tlsl_ctx *tls)
{
	struct recd_conn *c;
	struct sockaddr_storage ss;
	int sl = sizeof(ss), r;
	char host[64] = "?";

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		recd_log(LOG_ERR, "accept: out of memory");
		return;
	}
	c->d = d;
	c->is_tcp = is_tcp;
	c->h.handle.data = c;
	buf_init(&c->in, WIRE_FRAME_MAX + READ_CHUNK);
	if (is_tcp)
		uv_tcp_init(d->loop, &c->h.tcp);
	else
		uv_pipe_init(d->loop, &c->h.pipe, 0);
	c->h.handle.data = c;
	c->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = c;
	d->conns = c;
	d->conn_seq++;
	snprintf(c->name, sizeof(c->name), "%s#%lu", is_tcp ? "tls" : "unix",
	    d->conn_seq);
	c->opened_at = uv_now(d->loop);
	if ((r = uv_accept(server, &c->h.stream)) != 0) {
		recd_log(LOG_WARNING, "accept: %s", uv_strerror(r));
		conn_close_now(c);
		return;
	}
	if (is_tcp) {
		uv_tcp_nodelay(&c->h.tcp, 1);
		uv_tcp_keepalive(&c->h.tcp, 1, 60);
		if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss,
		    &sl) == 0) {
			int port = 0;

			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *a = (void *)&ss;

				uv_ip4_name(a, host, sizeof(host));
				port = ntohs(a->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *a = (void *)&ss;

				uv_ip6_name(a, host, sizeof(host));
				port = ntohs(a->sin6_port);
			}
			snprintf(c->name + strlen(c->name),
			    sizeof(c->name) - strlen(c->name), " %s:%d", host,
			    port);
		}
	}
	if (!is_tcp) {
		struct ucred cr;
		socklen_t crl = sizeof(cr);
		uv_os_fd_t fd;

		if (uv_fileno(&c->h.handle, &fd) != 0 || getsockopt(fd,
		    SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0) {
			recd_log(LOG_WARNING, "conn %s: peer credentials "
			    "unknown; refused", c->name);
			conn_close_now(c);
			return;
		}
		snprintf(c->name + strlen(c->name),
		    sizeof(c->name) - strlen(c->name), " uid=%u pid=%d",
		    (unsigned)cr.uid, (int)cr.pid);
		if (!recd_config_peer_allowed(&d->cfg, (unsigned)cr.uid,
		    (unsigned)cr.gid)) {
			recd_log(LOG_WARNING, "conn %s: refused: uid %u is not "
			    "allowed (UnixClients)", c->name, (unsigned)cr.uid);
			conn_close_now(c);
			return;
		}
	}
	if (tls != NULL) {
		if ((c->tlsbuf = malloc(TLS_READ_CHUNK)) == NULL ||
		    tlsl_new(tls, NULL, &c->tls) != REC_OK) {
			recd_log(LOG_ERR, "conn %s: cannot start TLS", c->name);
			conn_close_now(c);
			return;
		}
	}
	recd_log(LOG_DEBUG, "conn %s: accepted", c->name);
	if ((r = uv_read_start(&c->h.stream, on_alloc, on_read)) != 0) {
		recd_log(LOG_WARNING, "conn %s: read: %s", c->name,
		    uv_strerror(r));
		conn_close_now(c);
		return;
	}
	recd_kick(d);
}

int
recd_conn_tick(struct recd *d, uint64_t now)
{
	struct recd_conn *c, *next;
	int busy = 0;

	for (c = d->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->state == CONN_DRAIN)
			continue;
		if (c->state == CONN_HELLO) {
			if (now - c->opened_at >= RECD_HELLO_TIMEOUT_MS) {
				if (c->tls != NULL && !tlsl_ready(c->tls)) {
					recd_log(LOG_WARNING, "conn %s: no TLS "
					    "handshake within %d ms", c->name,
					    RECD_HELLO_TIMEOUT_MS);
					conn_close_now(c);
				} else
					recd_conn_fail(c, "no HELLO within %d "
					    "ms", RECD_HELLO_TIMEOUT_MS);
				continue;
			}
			busy = 1;
		}
		if (c->frame_since != 0) {
			if (now - c->frame_since >= RECD_FRAME_TIMEOUT_MS) {
				recd_conn_reject(c, "frame incomplete after %d "
				    "ms (%zu bytes received)",
				    RECD_FRAME_TIMEOUT_MS, buf_len(&c->in));
				continue;
			}
			busy = 1;
		}
	}
	return busy;
}

void
recd_conn_close_all(struct recd *d)
{
	struct recd_conn *c;

	for (c = d->conns; c != NULL; c = c->next) {
		if (c->state == CONN_DRAIN)
			continue;
		recd_conn_fail(c, "recorder shutting down");
	}
}
