/* sender: proxy-side session state machine (spool, framing, acks, resume). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/clock.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"
#include "recorder/sender.h"

#define SPOOL_MIN	(64u << 10)
#define FRAME_TARGET	(256u << 10)	/* records per DATA frame, roughly */
#define SENDER_MERGE_MAX (64u << 10)	/* largest merged stream record */
#define SENDER_MERGE_NS	(5u * 1000 * 1000)	/* 5 ms: the time a merged record keeps */
#define IN_FRAME_MAX	(16u << 10)	/* nothing the recorder sends is larger */
#define DATA_PREFIX	(WIRE_HDR_LEN + 1 + 4)

struct sender {
	enum sender_state state;
	struct buf	 meta;		/* the META record (seq 1) */
	struct buf	 spool;		/* unacked records, in seq order */
	size_t		 sent;		/* bytes of spool already framed */
	size_t		 limit;
	struct buf	 out;		/* frames to write */
	struct buf	 in;		/* partial frame from the recorder */
	uint64_t	 next_seq;
	uint64_t	 last_t;
	uint64_t	 acked;
	uint8_t		 head[WIRE_HEAD_LEN];
	struct timespec	 start;
	int		 sync_wanted;
	uint64_t	 pressure_seq;	/* sync asked for up to this seq */
	int		 wait_accept;	/* HELLO queued on this connection */
	int		 end_added;	/* END event spooled (sender_close) */
	int		 close_queued;	/* CLOSE framed on this connection */
	int		 accepted;	/* an ACCEPT was ever received */
	/* The DATA frame being written (fr_on): its prefix, then the spool's
	 * bytes [fr_pos, fr_end) (offsets from the spool's first unacked byte)
	 * handed out in place, never copied.  Messages queued in out meanwhile
	 * follow the frame. */
	int		 fr_on;
	uint8_t		 fr_hdr[DATA_PREFIX];
	size_t		 fr_hdr_pos;
	size_t		 fr_pos, fr_end;
	/* The last spooled record, while it may still grow (see add_event). */
	int		 merge_ok;	/* never framed since it was added */
	uint16_t	 merge_type;
	uint32_t	 merge_chan;
	uint64_t	 merge_t;
	size_t		 merge_len;	/* its payload length */
	char		 id[WIRE_ID_MAX + 1];
	uint8_t		 token[WIRE_TOKEN_LEN];	/* from ACCEPT; shown to resume */
	char		 client[WIRE_NAME_MAX + 1];
	char		 reason[WIRE_REASON_MAX + 64];
	struct sender_receipt receipt;
};

/* Encodes m at the end of the output. */
static int
queue_msg(struct sender *s, const struct wire_msg *m)
{
	long n = wire_size(m);
	uint8_t *p;
	int r;

	if (n < 0)
		return (int)n;
	if ((r = buf_reserve(&s->out, (size_t)n, &p)) != REC_OK)
		return r;
	return wire_encode(m, p, (size_t)n) == n ? REC_OK : REC_EINVAL;
}

/* Queues HELLO: a resume once accepted, else a new session with META. */
static int
queue_hello(struct sender *s)
{
	struct wire_msg m = { .type = WIRE_HELLO, .text = s->client,
	    .text_len = strlen(s->client) };

	if (s->accepted) {
		m.flags = WIRE_F_RESUME;
		m.id = s->id;
		m.id_len = strlen(s->id);
		m.seq = s->acked;
		m.token = s->token;
	} else {
		m.count = 1;
		m.data = buf_ptr(&s->meta);
		m.data_len = buf_len(&s->meta);
	}
	return queue_msg(s, &m);
}

struct sender *
sender_new(const void *meta, size_t meta_len, size_t spool_limit,
    const char *client)
{
	struct sender *s;

	if (meta_len > EV_PAYLOAD_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	buf_init(&s->meta, 0);
	buf_init(&s->spool, 0);
	buf_init(&s->out, 0);
	buf_init(&s->in, IN_FRAME_MAX);
	s->limit = spool_limit < SPOOL_MIN ? SPOOL_MIN : spool_limit;
	s->state = SENDER_HELLO;
	s->next_seq = 2;
	s->wait_accept = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	snprintf(s->client, sizeof(s->client), "%s", client ? client : "");
	if (ev_encode_parts(&s->meta, 1, 0, EV_META, 0, meta, meta_len) !=
	    REC_OK || queue_hello(s) != REC_OK) {
		sender_free(s);
		return NULL;
	}
	return s;
}

void
sender_free(struct sender *s)
{
	if (s == NULL)
		return;
	buf_free(&s->meta);
	buf_free(&s->spool);
	buf_free(&s->out);
	buf_free(&s->in);
	free(s);
}

/* Encodes one event into the spool unless it is over its limit. */
static int
add_event(struct sender *s, uint64_t t_ns, uint16_t type, uint32_t channel,
    const void *data, size_t len)
{
	size_t held;
	int r;

	if ((s->state != SENDER_HELLO && s->state != SENDER_OPEN) ||
	    s->end_added)
		return REC_ESTATE;
	if (len > EV_PAYLOAD_MAX)
		return REC_ETOOBIG;
	if (type == 0 || type > EV_TYPE_MAX || type == EV_META ||
	    type == EV_RECOVERY || type == EV_END)
		return REC_EINVAL;
	held = buf_len(&s->spool);
	if (t_ns < s->last_t)
		t_ns = s->last_t;
	/* Stream bytes that follow the previous record of the same kind on the
	 * same channel within SENDER_MERGE_NS, before it was framed, grow that
	 * record: one header per burst instead of one per read. */
	if (s->merge_ok && s->merge_type == type && s->merge_chan == channel &&
	    (type == EV_OUTPUT || type == EV_STDERR || type == EV_INPUT) &&
	    s->merge_len + len <= SENDER_MERGE_MAX &&
	    t_ns - s->merge_t <= SENDER_MERGE_NS && len > 0) {
		uint8_t *p;

		if (held + len > s->limit)
			return REC_EFULL;
		if ((r = buf_reserve(&s->spool, len, &p)) != REC_OK)
			return r;
		memcpy(p, data, len);
		s->merge_len += len;
		buf_be32(buf_mutable_ptr(&s->spool) + buf_len(&s->spool) -
		    EV_HDR_LEN - s->merge_len, (uint32_t)s->merge_len);
		s->last_t = t_ns;
		return REC_OK;
	}
	if (held > 0 && held + EV_HDR_LEN + len > s->limit)
		return REC_EFULL;
	r = ev_encode_parts(&s->spool, s->next_seq, t_ns, type, channel,
	    data, len);
	if (r != REC_OK)
		return r;
	s->merge_ok = 1;
	s->merge_type = type;
	s->merge_chan = channel;
	s->merge_t = t_ns;
	s->merge_len = len;
	s->last_t = t_ns;
	s->next_seq++;
	return REC_OK;
}

/* Monotonic ns since sender_new. */
static uint64_t
now_ns(const struct sender *s)
{
	uint64_t now = clock_mono_ns(), start = clock_ts_ns(&s->start);

	return now > start ? now - start : 0;
}

int
sender_event_at(struct sender *s, uint64_t t_ns, uint16_t type,
    uint32_t channel, const void *data, size_t len)
{
	return add_event(s, t_ns, type, channel, data, len);
}

int
sender_event(struct sender *s, uint16_t type, uint32_t channel,
    const void *data, size_t len)
{
	return add_event(s, now_ns(s), type, channel, data, len);
}

void
sender_sync(struct sender *s)
{
	s->sync_wanted = 1;
}

int
sender_close(struct sender *s)
{
	return sender_close_with(s, NULL, 0);
}

int
sender_close_with(struct sender *s, const void *payload, size_t len)
{
	uint64_t t = now_ns(s);
	int r;

	if ((s->state != SENDER_HELLO && s->state != SENDER_OPEN) ||
	    s->end_added)
		return REC_ESTATE;
	if (t < s->last_t)
		t = s->last_t;
	if ((r = ev_encode_parts(&s->spool, s->next_seq, t, EV_END, 0, payload,
	    len)) != REC_OK)
		return r;
	s->last_t = t;
	s->next_seq++;
	s->end_added = 1;
	s->state = SENDER_CLOSING;
	return REC_OK;
}

/* Starts the DATA frame of the unsent records (whole records, about
 * FRAME_TARGET): its prefix is built here, its records stay in the spool
 * and go out from there (sender_pending_output).  The records framed can no
 * longer grow (merge_ok), so the bytes handed out never change. */
static void
frame_start(struct sender *s)
{
	const uint8_t *base = buf_ptr(&s->spool);
	size_t total = buf_len(&s->spool), off = s->sent, n = 0;
	uint32_t count = 0;
	size_t last = 0;
	int sync;

	s->merge_ok = 0;	/* what is framed may already be stored */

	while (off + n < total && (n == 0 || n < FRAME_TARGET)) {
		uint32_t plen = buf_ld32(base + off + n);
		size_t rl = EV_HDR_LEN + (size_t)plen;

		if (n > 0 && n + rl > WIRE_BODY_MAX - 5)
			break;
		last = off + n;
		n += rl;
		count++;
	}
	if (n == 0 && !s->sync_wanted)
		return;
	/* Half the spool waits for acks: ask for a sync now instead of the
	 * recorder's next interval (one request outstanding at a time). */
	sync = s->sync_wanted && off + n == total;
	if (n > 0 && total >= s->limit / 2 && s->pressure_seq <= s->acked) {
		sync = 1;
		s->pressure_seq = buf_ld64(base + last + 10);
	}
	wire_put_header(s->fr_hdr, WIRE_DATA, (uint32_t)(1 + 4 + n));
	s->fr_hdr[WIRE_HDR_LEN] = sync ? WIRE_F_SYNC : 0;
	buf_be32(s->fr_hdr + WIRE_HDR_LEN + 1, count);
	if (sync && off + n == total)
		s->sync_wanted = 0;
	s->fr_on = 1;
	s->fr_hdr_pos = 0;
	s->fr_pos = off;
	s->fr_end = off + n;
	s->sent = off + n;
}

size_t
sender_pending_output(struct sender *s, const uint8_t **p)
{
	if (!s->fr_on && buf_len(&s->out) == 0 && !s->wait_accept &&
	    (s->state == SENDER_OPEN || s->state == SENDER_CLOSING)) {
		if (s->sent < buf_len(&s->spool) || s->sync_wanted)
			frame_start(s);
		if (!s->fr_on && s->end_added && !s->close_queued &&
		    s->sent == buf_len(&s->spool)) {
			struct wire_msg m = { .type = WIRE_CLOSE };

			if (queue_msg(s, &m) == REC_OK)
				s->close_queued = 1;
		}
	}
	if (s->fr_on && s->fr_hdr_pos < DATA_PREFIX) {
		*p = s->fr_hdr + s->fr_hdr_pos;
		return DATA_PREFIX - s->fr_hdr_pos;
	}
	if (s->fr_on) {
		*p = buf_ptr(&s->spool) + s->fr_pos;
		return s->fr_end - s->fr_pos;
	}
	*p = buf_ptr(&s->out);
	return buf_len(&s->out);
}

void
sender_consume_output(struct sender *s, size_t n)
{
	if (s->fr_on) {
		size_t k = s->fr_hdr_pos < DATA_PREFIX ? DATA_PREFIX - s->fr_hdr_pos :
		    s->fr_end - s->fr_pos;

		if (n > k)
			n = k;
		if (s->fr_hdr_pos < DATA_PREFIX)
			s->fr_hdr_pos += n;
		else
			s->fr_pos += n;
		if (s->fr_hdr_pos == DATA_PREFIX && s->fr_pos == s->fr_end)
			s->fr_on = 0;
		return;
	}
	if (n > buf_len(&s->out))
		n = buf_len(&s->out);
	buf_consume(&s->out, n);
	if (buf_len(&s->out) == 0)
		buf_reset(&s->out);
}

/* Drops spooled records with seq <= upto. */
static void
drop_acked(struct sender *s, uint64_t upto)
{
	const uint8_t *p = buf_ptr(&s->spool);
	size_t len = buf_len(&s->spool), off = 0;

	while (off + EV_HDR_LEN <= len && buf_ld64(p + off + 10) <= upto)
		off += EV_HDR_LEN + buf_ld32(p + off);
	if (off == 0)
		return;
	buf_consume(&s->spool, off);
	s->sent = s->sent > off ? s->sent - off : 0;
	if (s->fr_on) {	/* acks cover whole frames received: never this one */
		s->fr_pos = s->fr_pos > off ? s->fr_pos - off : 0;
		s->fr_end = s->fr_end > off ? s->fr_end - off : 0;
	}
	if (buf_len(&s->spool) == 0)
		buf_reset(&s->spool);
}

/* Enters SENDER_FAILED with a reason; returns code. */
static int
fail(struct sender *s, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	s->state = SENDER_FAILED;
	buf_reset(&s->out);
	s->fr_on = 0;
	return code;
}

/* ACCEPT: checks the id and seq, drops what is durable, rewinds. */
static int
on_accept(struct sender *s, const struct wire_msg *m)
{
	uint64_t last = s->next_seq - 1;

	if (!s->wait_accept)
		return fail(s, REC_EPROTO, "unexpected ACCEPT");
	if (s->accepted && (m->id_len != strlen(s->id) ||
	    memcmp(m->id, s->id, m->id_len) != 0))
		return fail(s, REC_EPROTO, "ACCEPT for session %.*s, not %s",
		    (int)m->id_len, m->id, s->id);
	if (m->seq < s->acked)
		return fail(s, REC_ESEQ, "recorder resumed session %s at seq "
		    "%llu but had acknowledged %llu", s->id,
		    (unsigned long long)m->seq, (unsigned long long)s->acked);
	if (m->seq > last)
		return fail(s, REC_EPROTO, "ACCEPT at seq %llu beyond the last "
		    "event %llu", (unsigned long long)m->seq,
		    (unsigned long long)last);
	if (s->accepted && CRYPTO_memcmp(s->token, m->token, WIRE_TOKEN_LEN) != 0)
		return fail(s, REC_EPROTO, "recorder resumed session %s with another "
		    "resume token", s->id);
	memcpy(s->id, m->id, m->id_len);
	s->id[m->id_len] = '\0';
	memcpy(s->token, m->token, WIRE_TOKEN_LEN);
	s->accepted = 1;
	s->wait_accept = 0;
	s->acked = m->seq;
	s->sent = 0;
	s->fr_on = 0;
	s->merge_ok = 0;
	drop_acked(s, m->seq);
	if (s->state == SENDER_HELLO)
		s->state = SENDER_OPEN;
	return REC_OK;
}

/* ACK: seqs only grow and never pass the last event. */
static int
on_ack(struct sender *s, const struct wire_msg *m)
{
	if (s->wait_accept || (s->state != SENDER_OPEN &&
	    s->state != SENDER_CLOSING))
		return fail(s, REC_EPROTO, "unexpected ACK");
	if (m->seq < s->acked)
		return fail(s, REC_ESEQ, "ACK for seq %llu after an ACK for "
		    "%llu", (unsigned long long)m->seq,
		    (unsigned long long)s->acked);
	if (m->seq >= s->next_seq)
		return fail(s, REC_EPROTO, "ACK for seq %llu beyond the last "
		    "event %llu", (unsigned long long)m->seq,
		    (unsigned long long)(s->next_seq - 1));
	s->acked = m->seq;
	memcpy(s->head, m->head, WIRE_HEAD_LEN);
	drop_acked(s, m->seq);
	return REC_OK;
}

/* CLOSED: keeps the receipt; the session is over. */
static int
on_closed(struct sender *s, const struct wire_msg *m)
{
	struct sender_receipt *rc = &s->receipt;

	if (s->state != SENDER_CLOSING || !s->close_queued)
		return fail(s, REC_EPROTO, "unexpected CLOSED");
	if (m->seq != s->next_seq - 1)
		return fail(s, REC_EPROTO, "CLOSED at seq %llu, but the last "
		    "event is %llu", (unsigned long long)m->seq,
		    (unsigned long long)(s->next_seq - 1));
	memcpy(rc->id, m->id, m->id_len);
	rc->id[m->id_len] = '\0';
	rc->seq = m->seq;
	memcpy(rc->head, m->head, WIRE_HEAD_LEN);
	memcpy(rc->sig, m->data, m->data_len);
	rc->sig_len = m->data_len;
	memcpy(rc->tree_head, m->line, m->line_len);
	rc->tree_head[m->line_len] = '\0';
	s->acked = m->seq;
	memcpy(s->head, m->head, WIRE_HEAD_LEN);
	drop_acked(s, m->seq);
	s->state = SENDER_CLOSED;
	return REC_OK;
}

/* Dispatches one decoded message from the recorder. */
static int
handle(struct sender *s, const struct wire_msg *m)
{
	struct wire_msg pong = { .type = WIRE_PONG };

	switch (m->type) {
	case WIRE_ACCEPT:
		return on_accept(s, m);
	case WIRE_ACK:
		return on_ack(s, m);
	case WIRE_CLOSED:
		return on_closed(s, m);
	case WIRE_REJECT:
		return fail(s, REC_EREJECTED, "recorder rejected the session: "
		    "%.*s", (int)m->text_len, m->text);
	case WIRE_ABORT:
		return fail(s, REC_EREJECTED, "recorder aborted the session: "
		    "%.*s", (int)m->text_len, m->text);
	case WIRE_PING:
		pong.seq = m->seq;
		return queue_msg(s, &pong);
	case WIRE_PONG:
		return REC_OK;
	default:
		return fail(s, REC_EPROTO, "unexpected %s from the recorder",
		    wire_type_name(m->type));
	}
}

int
sender_feed(struct sender *s, const void *data, size_t len)
{
	char why[256];
	struct wire_msg m;
	size_t flen;
	int r;

	if (s->state == SENDER_FAILED)
		return REC_ESTATE;
	if ((r = buf_put(&s->in, data, len)) != REC_OK)
		return fail(s, r, "out of memory for recorder input");
	while (s->state != SENDER_FAILED && buf_len(&s->in) > 0) {
		r = wire_frame(buf_ptr(&s->in), buf_len(&s->in), &flen, why,
		    sizeof(why));
		if (r != REC_OK)
			return fail(s, REC_EPROTO, "bad frame from the "
			    "recorder: %s", why);
		if (flen == 0) {
			if (buf_len(&s->in) >= WIRE_HDR_LEN &&
			    buf_ld32(buf_ptr(&s->in)) > IN_FRAME_MAX)
				return fail(s, REC_EPROTO, "frame of %u bytes "
				    "from the recorder is too large",
				    buf_ld32(buf_ptr(&s->in)));
			break;
		}
		r = wire_decode(buf_ptr(&s->in), flen, &m, why, sizeof(why));
		if (r != REC_OK)
			return fail(s, REC_EPROTO, "bad %s from the recorder: "
			    "%s", wire_type_name(buf_ptr(&s->in)[5]), why);
		r = handle(s, &m);
		buf_consume(&s->in, flen);
		if (r != REC_OK)
			return r;
	}
	if (buf_len(&s->in) == 0)
		buf_reset(&s->in);
	return REC_OK;
}

void
sender_on_disconnect(struct sender *s)
{
	if (s->state == SENDER_CLOSED || s->state == SENDER_FAILED)
		return;
	buf_reset(&s->in);
	buf_reset(&s->out);
	s->fr_on = 0;
	s->sent = 0;
	s->merge_ok = 0;
	s->close_queued = 0;
	s->pressure_seq = 0;
	s->wait_accept = 1;
	if (queue_hello(s) != REC_OK)
		fail(s, REC_ENOMEM, "out of memory");
}

enum sender_state
sender_state(const struct sender *s)
{
	return s->state;
}

const struct sender_receipt *
sender_receipt(const struct sender *s)
{
	return s->state == SENDER_CLOSED ? &s->receipt : NULL;
}

const char *
sender_reason(const struct sender *s)
{
	return s->reason;
}

const char *
sender_session_id(const struct sender *s)
{
	return s->id;
}

uint64_t
sender_acked_seq(const struct sender *s)
{
	return s->acked;
}

const uint8_t *
sender_acked_head(const struct sender *s)
{
	return s->head;
}

uint64_t
sender_last_seq(const struct sender *s)
{
	return s->next_seq - 1;
}

size_t
sender_spooled(const struct sender *s)
{
	return buf_len(&s->spool);
}
