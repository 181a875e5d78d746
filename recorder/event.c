/* event.c: event record encoding and TLV fields (see event.h). */
#include <string.h>

#include "recorder/event.h"
#include "recorder/rec_error.h"

static const char *const ev_names[] = {
	"unknown", "meta", "input", "output", "stderr", "resize", "channel",
	"decision", "escort", "file", "marker", "exit", "recovery", "end",
};

const char *
ev_type_name(uint16_t type)
{
	return type <= EV_TYPE_MAX ? ev_names[type] : "unknown";
}

int
ev_encode_parts(struct buf *out, uint64_t seq, uint64_t t_ns, uint16_t type,
    uint32_t channel, const void *data, size_t len)
{
	uint8_t *p;
	int r;

	if (type == 0 || type > EV_TYPE_MAX)
		return REC_EINVAL;
	if (len > EV_PAYLOAD_MAX)
		return REC_ETOOBIG;
	if ((r = buf_reserve(out, EV_HDR_LEN + len, &p)) != REC_OK)
		return r;
	buf_be32(p, (uint32_t)len);
	buf_be16(p + 4, type);
	buf_be32(p + 6, channel);
	buf_be64(p + 10, seq);
	buf_be64(p + 18, t_ns);
	if (len > 0)
		memcpy(p + EV_HDR_LEN, data, len);
	return REC_OK;
}

int
ev_encode(struct buf *out, const struct ev *e)
{
	return ev_encode_parts(out, e->seq, e->t_ns, e->type, e->channel,
	    e->data, e->len);
}

int
ev_decode(const uint8_t *p, size_t n, struct ev *e, size_t *used)
{
	uint32_t len;

	if (n < EV_HDR_LEN)
		return REC_ETRUNC;
	len = buf_ld32(p);
	if (len > EV_PAYLOAD_MAX)
		return REC_ETOOBIG;
	e->type = buf_ld16(p + 4);
	if (e->type == 0 || e->type > EV_TYPE_MAX)
		return REC_EFORMAT;
	if (n - EV_HDR_LEN < len)
		return REC_ETRUNC;
	e->channel = buf_ld32(p + 6);
	e->seq = buf_ld64(p + 10);
	e->t_ns = buf_ld64(p + 18);
	e->len = len;
	e->data = p + EV_HDR_LEN;
	*used = EV_HDR_LEN + (size_t)len;
	return REC_OK;
}

int
ev_validate(const uint8_t *p, size_t n, uint64_t next_seq, uint64_t *last_t_ns,
    size_t *count)
{
	struct ev e;
	size_t off = 0, used, c = 0;
	uint64_t t = *last_t_ns;
	int r;

	while (off < n) {
		if ((r = ev_decode(p + off, n - off, &e, &used)) != REC_OK)
			goto out;
		if (next_seq == 0 && c == 0)
			next_seq = e.seq;
		if (e.seq != next_seq || e.seq == 0 || e.t_ns < t) {
			r = REC_ESEQ;
			goto out;
		}
		next_seq++;
		t = e.t_ns;
		off += used;
		c++;
	}
	r = REC_OK;
	*last_t_ns = t;
out:
	*count = c;
	return r;
}

int
ev_fields_put(struct buf *b, uint16_t tag, const void *p, size_t n)
{
	uint8_t *d;
	int r;

	if (n > EV_PAYLOAD_MAX)
		return REC_ETOOBIG;
	if ((r = buf_reserve(b, 6 + n, &d)) != REC_OK)
		return r;
	buf_be16(d, tag);
	buf_be32(d + 2, (uint32_t)n);
	if (n > 0)
		memcpy(d + 6, p, n);
	return REC_OK;
}

int
ev_fields_put_str(struct buf *b, uint16_t tag, const char *s)
{
	return ev_fields_put(b, tag, s, s ? strlen(s) : 0);
}

int
ev_fields_put_u64(struct buf *b, uint16_t tag, uint64_t v)
{
	uint8_t t[8];

	buf_be64(t, v);
	return ev_fields_put(b, tag, t, 8);
}

void
ev_fields_begin(struct ev_fields_iter *it, const uint8_t *p, size_t n)
{
	it->p = p;
	it->n = n;
	it->off = 0;
}

int
ev_fields_next(struct ev_fields_iter *it, uint16_t *tag, const uint8_t **val,
    size_t *len)
{
	uint32_t l;

	if (it->off == it->n)
		return 0;
	if (it->n - it->off < 6)
		return REC_EFORMAT;
	l = buf_ld32(it->p + it->off + 2);
	if (it->n - it->off - 6 < l)
		return REC_EFORMAT;
	*tag = buf_ld16(it->p + it->off);
	*val = it->p + it->off + 6;
	*len = l;
	it->off += 6 + (size_t)l;
	return 1;
}

int
ev_fields_find(const uint8_t *p, size_t n, uint16_t tag, const uint8_t **val,
    size_t *len)
{
	struct ev_fields_iter it;
	uint16_t t;
	int r;

	ev_fields_begin(&it, p, n);
	while ((r = ev_fields_next(&it, &t, val, len)) == 1)
		if (t == tag)
			return REC_OK;
	return r == 0 ? REC_ENOENT : r;
}

int
ev_fields_get_u64(const uint8_t *p, size_t n, uint16_t tag, uint64_t *v)
{
	const uint8_t *val;
	size_t len;
	int r;

	if ((r = ev_fields_find(p, n, tag, &val, &len)) != REC_OK)
		return r;
	if (len != 8)
		return REC_EFORMAT;
	*v = buf_ld64(val);
	return REC_OK;
}

int
ev_fields_get_str(const uint8_t *p, size_t n, uint16_t tag, char *out,
    size_t outsz)
{
	const uint8_t *val;
	size_t len;
	int r;

	if (outsz == 0)
		return REC_EINVAL;
	if ((r = ev_fields_find(p, n, tag, &val, &len)) != REC_OK)
		return r;
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, val, len);
	out[len] = '\0';
	return REC_OK;
}

int
ev_fields_valid(const uint8_t *p, size_t n)
{
	struct ev_fields_iter it;
	const uint8_t *v;
	size_t l;
	uint16_t t;
	int r;

	ev_fields_begin(&it, p, n);
	while ((r = ev_fields_next(&it, &t, &v, &l)) == 1)
		;
	return r == 0;
}
