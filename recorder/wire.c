/* wire: escort-recorder protocol frames, strict decode and encode. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/sessid.h"
#include "recorder/rec_error.h"
#include "recorder/wire.h"

static const char *const type_names[] = {
	[WIRE_HELLO] = "HELLO", [WIRE_ACCEPT] = "ACCEPT",
	[WIRE_REJECT] = "REJECT", [WIRE_DATA] = "DATA", [WIRE_ACK] = "ACK",
	[WIRE_CLOSE] = "CLOSE", [WIRE_CLOSED] = "CLOSED",
	[WIRE_ABORT] = "ABORT", [WIRE_PING] = "PING", [WIRE_PONG] = "PONG",
};

const char *
wire_type_name(int type)
{
	if (type >= WIRE_HELLO && type <= WIRE_PONG)
		return type_names[type];
	return "unknown";
}

/* Writes a reason to why and returns REC_EPROTO. */
static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return REC_EPROTO;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
	return p + 2;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	p = put32(p, v >> 32);
	return put32(p, (uint32_t)v);
}

/* Copies n bytes to p; returns the end. */
static uint8_t *
putn(uint8_t *p, const void *src, size_t n)
{
	if (n > 0)
		memcpy(p, src, n);
	return p + n;
}

int
wire_id_valid(const char *id, size_t len)
{
	_Static_assert(WIRE_ID_MAX == SESSID_MAX, "one session-id length");
	return sessid_valid(id, len);
}

/* Printable ASCII or UTF-8 continuation bytes, tabs allowed; no controls. */
static int
text_valid(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

void
wire_put_header(uint8_t *out, int type, uint32_t body_len)
{
	put32(out, body_len);
	out[4] = WIRE_VERSION;
	out[5] = (uint8_t)type;
}

int
wire_frame(const uint8_t *p, size_t avail, size_t *frame_len, char *why,
    size_t whylen)
{
	uint32_t body;

	*frame_len = 0;
	if (avail >= 5 && (p[4] < WIRE_VERSION_MIN || p[4] > WIRE_VERSION)) {
		fail(why, whylen, "unsupported protocol version %u "
		    "(this recorder speaks %u to %u)", p[4], WIRE_VERSION_MIN,
		    WIRE_VERSION);
		return REC_EVERSION;
	}
	if (avail < 4)
		return REC_OK;
	body = get32(p);
	if (body > WIRE_BODY_MAX) {
		fail(why, whylen, "frame of %lu bytes exceeds the limit of %u",
		    (unsigned long)body + WIRE_HDR_LEN, WIRE_FRAME_MAX);
		return REC_ETOOBIG;
	}
	if (avail < WIRE_HDR_LEN)
		return REC_OK;
	if (p[5] < WIRE_HELLO || p[5] > WIRE_PONG)
		return fail(why, whylen, "unknown message type %u", p[5]);
	if (avail - WIRE_HDR_LEN < body)
		return REC_OK;
	*frame_len = WIRE_HDR_LEN + (size_t)body;
	return REC_OK;
}

/* A bounded reader over a frame body. */
struct cur {
	const uint8_t	*p;
	size_t		 left;
	int		 short_read;
};

/* Consumes n bytes of the body, or marks the read short (NULL). */
static const uint8_t *
take(struct cur *c, size_t n)
{
	const uint8_t *r;

	if (c->short_read || c->left < n) {
		c->short_read = 1;
		return NULL;
	}
	r = c->p;
	c->p += n;
	c->left -= n;
	return r;
}

static uint8_t
take8(struct cur *c)
{
	const uint8_t *p = take(c, 1);
	return p ? p[0] : 0;
}

static uint32_t
take32(struct cur *c)
{
	const uint8_t *p = take(c, 4);
	return p ? get32(p) : 0;
}

static uint64_t
take64(struct cur *c)
{
	const uint8_t *p = take(c, 8);
	return p ? get64(p) : 0;
}

/* Consumes a str8 (wide: str16); NULL with *len 0 when short. */
static const char *
take_str(struct cur *c, int wide, size_t *len)
{
	const uint8_t *p = take(c, wide ? 2 : 1);

	*len = 0;
	if (p == NULL)
		return NULL;
	*len = wide ? ((size_t)p[0] << 8 | p[1]) : p[0];
	p = take(c, *len);
	if (p == NULL)
		*len = 0;
	return (const char *)p;
}

int
wire_decode(const uint8_t *frame, size_t len, struct wire_msg *m, char *why,
    size_t whylen)
{
	struct cur c;
	size_t flen;
	const char *tn;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = wire_frame(frame, len, &flen, why, whylen)) != REC_OK)
		return r;
	if (flen == 0 || flen != len)
		return fail(why, whylen, "frame length %zu does not match the "
		    "%zu bytes given", flen, len);
	m->version = frame[4];
	m->type = frame[5];
	tn = wire_type_name(m->type);
	c.p = frame + WIRE_HDR_LEN;
	c.left = len - WIRE_HDR_LEN;
	c.short_read = 0;

	switch (m->type) {
	case WIRE_HELLO:
		m->flags = take8(&c);
		m->text = take_str(&c, 0, &m->text_len);
		m->id = take_str(&c, 0, &m->id_len);
		m->seq = take64(&c);
		m->count = take32(&c);
		if (m->flags & WIRE_F_RESUME)
			m->token = take(&c, WIRE_TOKEN_LEN);
		if (c.short_read)
			break;
		m->data = c.p;
		m->data_len = c.left;
		c.left = 0;
		if (m->flags & ~WIRE_F_RESUME)
			return fail(why, whylen, "HELLO: unknown flags 0x%02x",
			    m->flags);
		if ((m->flags & WIRE_F_RESUME) &&
		    !wire_id_valid(m->id, m->id_len))
			return fail(why, whylen, "HELLO: resume without a "
			    "valid session id");
		if (!(m->flags & WIRE_F_RESUME) && (m->id_len != 0 ||
		    m->seq != 0))
			return fail(why, whylen, "HELLO: session id or seq "
			    "without the resume flag");
		if ((m->flags & WIRE_F_RESUME) && m->count != 0)
			return fail(why, whylen, "HELLO: resume carries "
			    "metadata records");
		if (!(m->flags & WIRE_F_RESUME) && m->count == 0)
			return fail(why, whylen, "HELLO: new session without "
			    "metadata");
		if ((m->count == 0) != (m->data_len == 0))
			return fail(why, whylen, "HELLO: record count %u with "
			    "%zu bytes of records", m->count, m->data_len);
		if (!text_valid(m->text, m->text_len))
			return fail(why, whylen, "HELLO: client name is not "
			    "printable text");
		break;
	case WIRE_ACCEPT:
		m->id = take_str(&c, 0, &m->id_len);
		m->seq = take64(&c);
		m->token = take(&c, WIRE_TOKEN_LEN);
		if (!c.short_read && !wire_id_valid(m->id, m->id_len))
			return fail(why, whylen, "ACCEPT: invalid session id");
		break;
	case WIRE_REJECT:
	case WIRE_ABORT:
		m->text = take_str(&c, 1, &m->text_len);
		if (c.short_read)
			break;
		if (m->text_len > WIRE_REASON_MAX ||
		    !text_valid(m->text, m->text_len))
			return fail(why, whylen, "%s: reason is not printable "
			    "text of at most %d bytes", tn, WIRE_REASON_MAX);
		break;
	case WIRE_DATA:
		m->flags = take8(&c);
		m->count = take32(&c);
		if (c.short_read)
			break;
		m->data = c.p;
		m->data_len = c.left;
		c.left = 0;
		if (m->flags & ~WIRE_F_SYNC)
			return fail(why, whylen, "DATA: unknown flags 0x%02x",
			    m->flags);
		if ((m->count == 0) != (m->data_len == 0))
			return fail(why, whylen, "DATA: record count %u with "
			    "%zu bytes of records", m->count, m->data_len);
		break;
	case WIRE_ACK:
		m->seq = take64(&c);
		m->head = take(&c, WIRE_HEAD_LEN);
		break;
	case WIRE_CLOSE:
		break;
	case WIRE_CLOSED:
		m->id = take_str(&c, 0, &m->id_len);
		m->seq = take64(&c);
		m->head = take(&c, WIRE_HEAD_LEN);
		m->data = (const uint8_t *)take_str(&c, 1, &m->data_len);
		if (m->version >= 3)
			m->line = take_str(&c, 1, &m->line_len);
		if (c.short_read)
			break;
		if (!wire_id_valid(m->id, m->id_len))
			return fail(why, whylen, "CLOSED: invalid session id");
		if (m->data_len > WIRE_SIG_MAX)
			return fail(why, whylen, "CLOSED: signature too long");
		if (m->line_len > WIRE_HEADLINE_MAX ||
		    !text_valid(m->line, m->line_len))
			return fail(why, whylen, "CLOSED: tree head is not "
			    "printable text of at most %d bytes",
			    WIRE_HEADLINE_MAX);
		break;
	case WIRE_PING:
	case WIRE_PONG:
		m->seq = take64(&c);
		break;
	}
	if (c.short_read)
		return fail(why, whylen, "%s: body of %zu bytes is too short",
		    tn, len - WIRE_HDR_LEN);
	if (c.left != 0)
		return fail(why, whylen, "%s: %zu unexpected trailing bytes",
		    tn, c.left);
	return REC_OK;
}

/* The version m is encoded in. */
static unsigned
wire_msg_version(const struct wire_msg *m)
{
	return m->version != 0 ? m->version : WIRE_VERSION;
}

long
wire_size(const struct wire_msg *m)
{
	size_t body = 0;

	if (wire_msg_version(m) < WIRE_VERSION_MIN ||
	    wire_msg_version(m) > WIRE_VERSION)
		return REC_EINVAL;

	switch (m->type) {
	case WIRE_HELLO:
		if (m->text_len > WIRE_NAME_MAX || m->id_len > WIRE_ID_MAX)
			return REC_EINVAL;
		body = 1 + 1 + m->text_len + 1 + m->id_len + 8 + 4 +
		    ((m->flags & WIRE_F_RESUME) ? WIRE_TOKEN_LEN : 0) + m->data_len;
		break;
	case WIRE_ACCEPT:
		if (m->id_len > WIRE_ID_MAX)
			return REC_EINVAL;
		body = 1 + m->id_len + 8 + WIRE_TOKEN_LEN;
		break;
	case WIRE_REJECT:
	case WIRE_ABORT:
		if (m->text_len > WIRE_REASON_MAX)
			return REC_EINVAL;
		body = 2 + m->text_len;
		break;
	case WIRE_DATA:
		body = 1 + 4 + m->data_len;
		break;
	case WIRE_ACK:
		body = 8 + WIRE_HEAD_LEN;
		break;
	case WIRE_CLOSE:
		body = 0;
		break;
	case WIRE_CLOSED:
		if (m->id_len > WIRE_ID_MAX || m->data_len > WIRE_SIG_MAX ||
		    m->line_len > WIRE_HEADLINE_MAX)
			return REC_EINVAL;
		body = 1 + m->id_len + 8 + WIRE_HEAD_LEN + 2 + m->data_len;
		if (wire_msg_version(m) >= 3)
			body += 2 + m->line_len;
		break;
	case WIRE_PING:
	case WIRE_PONG:
		body = 8;
		break;
	default:
		return REC_EINVAL;
	}
	if (body > WIRE_BODY_MAX)
		return REC_EINVAL;
	return (long)(WIRE_HDR_LEN + body);
}

static const uint8_t zero_head[WIRE_HEAD_LEN];
static const uint8_t zero_token[WIRE_TOKEN_LEN];

long
wire_encode(const struct wire_msg *m, uint8_t *out, size_t cap)
{
	long n = wire_size(m);
	uint8_t *p;
	const uint8_t *head = m->head ? m->head : zero_head;

	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return REC_EFULL;
	wire_put_header(out, m->type, (uint32_t)(n - WIRE_HDR_LEN));
	out[4] = (uint8_t)wire_msg_version(m);
	p = out + WIRE_HDR_LEN;
	switch (m->type) {
	case WIRE_HELLO:
		*p++ = m->flags;
		*p++ = (uint8_t)m->text_len;
		p = putn(p, m->text, m->text_len);
		*p++ = (uint8_t)m->id_len;
		p = putn(p, m->id, m->id_len);
		p = put64(p, m->seq);
		p = put32(p, m->count);
		if (m->flags & WIRE_F_RESUME)
			p = putn(p, m->token ? m->token : zero_token, WIRE_TOKEN_LEN);
		p = putn(p, m->data, m->data_len);
		break;
	case WIRE_ACCEPT:
		*p++ = (uint8_t)m->id_len;
		p = putn(p, m->id, m->id_len);
		p = put64(p, m->seq);
		p = putn(p, m->token ? m->token : zero_token, WIRE_TOKEN_LEN);
		break;
	case WIRE_REJECT:
	case WIRE_ABORT:
		p = put16(p, (uint16_t)m->text_len);
		p = putn(p, m->text, m->text_len);
		break;
	case WIRE_DATA:
		*p++ = m->flags;
		p = put32(p, m->count);
		p = putn(p, m->data, m->data_len);
		break;
	case WIRE_ACK:
		p = put64(p, m->seq);
		p = putn(p, head, WIRE_HEAD_LEN);
		break;
	case WIRE_CLOSE:
		break;
	case WIRE_CLOSED:
		*p++ = (uint8_t)m->id_len;
		p = putn(p, m->id, m->id_len);
		p = put64(p, m->seq);
		p = putn(p, head, WIRE_HEAD_LEN);
		p = put16(p, (uint16_t)m->data_len);
		p = putn(p, m->data, m->data_len);
		if (wire_msg_version(m) >= 3) {
			p = put16(p, (uint16_t)m->line_len);
			p = putn(p, m->line, m->line_len);
		}
		break;
	case WIRE_PING:
	case WIRE_PONG:
		p = put64(p, m->seq);
		break;
	}
	return (long)(p - out);
}
