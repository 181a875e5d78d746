/* segment.c: segment framing (see segment.h). */
#include <string.h>

#include "common/crc32c.h"
#include "recorder/rec_error.h"
#include "recorder/segment.h"

int
rec__seg_begin(struct buf *out, uint8_t type, uint16_t flags, uint32_t index,
    size_t *start)
{
	uint8_t *p;
	int r;

	*start = buf_len(out);
	if ((r = buf_reserve(out, SEG_HDR_LEN, &p)) != REC_OK)
		return r;
	memcpy(p, SEG_MAGIC, 4);
	p[4] = SEG_VERSION;
	p[5] = type;
	buf_be16(p + 6, flags);
	buf_be32(p + 8, index);
	buf_be32(p + 12, 0);
	buf_be32(p + 16, 0);
	return REC_OK;
}

int
rec__seg_end(struct buf *out, size_t start)
{
	uint8_t *p = buf_mutable_ptr(out) + start;
	size_t len = buf_len(out) - start - SEG_HDR_LEN;
	uint32_t crc;

	if (len > SEG_PAYLOAD_MAX)
		return REC_ETOOBIG;
	buf_be32(p + 12, (uint32_t)len);
	crc = crc32c(0, p, 16);
	crc = crc32c(crc, p + SEG_HDR_LEN, len);
	buf_be32(p + 16, crc);
	return REC_OK;
}

int
rec__seg_encode(struct buf *out, uint8_t type, uint16_t flags, uint32_t index,
    const void *payload, size_t len)
{
	size_t start;
	int r;

	if (len > SEG_PAYLOAD_MAX)
		return REC_ETOOBIG;
	if ((r = buf_ensure(out, SEG_HDR_LEN + len)) != REC_OK ||
	    (r = rec__seg_begin(out, type, flags, index, &start)) != REC_OK ||
	    (r = buf_put(out, payload, len)) != REC_OK)
		return r;
	return rec__seg_end(out, start);
}

int
rec__seg_decode_header(const uint8_t *p, size_t n, struct seg *s)
{
	if (n < SEG_HDR_LEN)
		return REC_ETRUNC;
	if (memcmp(p, SEG_MAGIC, 4) != 0)
		return REC_EFORMAT;
	if (p[4] != SEG_VERSION)
		return REC_EVERSION;
	if (p[5] < SEG_HEAD || p[5] > SEG_JOURNAL)
		return REC_EFORMAT;
	s->type = p[5];
	s->flags = buf_ld16(p + 6);
	s->index = buf_ld32(p + 8);
	s->len = buf_ld32(p + 12);
	s->payload = NULL;
	if (s->len > SEG_PAYLOAD_MAX)
		return REC_ETOOBIG;
	return REC_OK;
}

int
rec__seg_decode_nocrc(const uint8_t *p, size_t n, struct seg *s, size_t *used)
{
	int r;

	if ((r = rec__seg_decode_header(p, n, s)) != REC_OK)
		return r;
	if (n - SEG_HDR_LEN < s->len)
		return REC_ETRUNC;
	s->payload = p + SEG_HDR_LEN;
	*used = SEG_HDR_LEN + (size_t)s->len;
	return REC_OK;
}

int
seg_decode(const uint8_t *p, size_t n, struct seg *s, size_t *used)
{
	uint32_t crc;
	int r;

	if ((r = rec__seg_decode_nocrc(p, n, s, used)) != REC_OK)
		return r;
	crc = crc32c(0, p, 16);
	crc = crc32c(crc, p + SEG_HDR_LEN, s->len);
#ifndef ESCORT_FUZZING
	/* Fuzzing builds skip the check so mutations reach the payload parsers. */
	if (crc != buf_ld32(p + 16))
		return REC_ECRC;
#else
	(void)crc;
#endif
	return REC_OK;
}

void
rec__seg_data_put(uint8_t *p, const struct seg_data *d)
{
	buf_be64(p, d->first_seq);
	buf_be64(p + 8, d->last_seq);
	buf_be64(p + 16, d->first_t_ns);
	buf_be64(p + 24, d->last_t_ns);
	buf_be64(p + 32, d->wall_ns);
	buf_be32(p + 40, d->raw_len);
}

int
rec__seg_data_get(const struct seg *s, struct seg_data *d)
{
	const uint8_t *p = s->payload;

	if (s->type != SEG_DATA || s->len < SEG_DATA_PREFIX)
		return REC_EFORMAT;
	d->first_seq = buf_ld64(p);
	d->last_seq = buf_ld64(p + 8);
	d->first_t_ns = buf_ld64(p + 16);
	d->last_t_ns = buf_ld64(p + 24);
	d->wall_ns = buf_ld64(p + 32);
	d->raw_len = buf_ld32(p + 40);
	if (d->raw_len > SEG_RAW_MAX)
		return REC_ETOOBIG;
	if (d->raw_len == 0 ? d->first_seq != d->last_seq :
	    (d->first_seq == 0 || d->last_seq < d->first_seq ||
	    d->last_t_ns < d->first_t_ns))
		return REC_EFORMAT;
	return REC_OK;
}

int
rec__seg_seal_put(struct buf *out, const struct seal_receipt *rc)
{
	int r;

	if ((r = buf_put_u8(out, rc->cp.kind)) != REC_OK ||
	    (r = buf_put_u32(out, rc->cp.seg_index)) != REC_OK ||
	    (r = buf_put_u64(out, rc->cp.last_seq)) != REC_OK ||
	    (r = buf_put(out, rc->cp.head, SEAL_HASH_LEN)) != REC_OK ||
	    (r = buf_put_u64(out, rc->cp.wall_ns)) != REC_OK ||
	    (r = buf_put_u64(out, rc->cp.offset)) != REC_OK ||
	    (r = buf_put(out, rc->keyid, SEAL_KEYID_LEN)) != REC_OK ||
	    (r = buf_put(out, rc->sig, SEAL_SIG_LEN)) != REC_OK)
		return r;
	return REC_OK;
}

int
seg_seal_get(const struct seg *s, struct seal_receipt *rc)
{
	const uint8_t *p = s->payload;

	if ((s->type != SEG_CHECKPOINT && s->type != SEG_FINAL) ||
	    s->len != SEG_SEAL_LEN)
		return REC_EFORMAT;
	memset(rc, 0, sizeof(*rc));
	rc->cp.kind = p[0];
	rc->cp.seg_index = buf_ld32(p + 1);
	rc->cp.last_seq = buf_ld64(p + 5);
	memcpy(rc->cp.head, p + 13, SEAL_HASH_LEN);
	rc->cp.wall_ns = buf_ld64(p + 45);
	rc->cp.offset = buf_ld64(p + 53);
	memcpy(rc->keyid, p + 61, SEAL_KEYID_LEN);
	memcpy(rc->sig, p + 93, SEAL_SIG_LEN);
	return REC_OK;
}

int
seg_head_get(const struct seg *s, char id[SEAL_ID_MAX + 1], uint64_t *wall_ns,
    const uint8_t **meta, size_t *meta_len)
{
	struct buf b;
	uint8_t idlen;
	const uint8_t *p;
	uint32_t mlen;

	if (s->type != SEG_HEAD)
		return REC_EFORMAT;
	buf_view(&b, s->payload, s->len);
	if (buf_get_u8(&b, &idlen) != REC_OK || idlen == 0 ||
	    idlen > SEAL_ID_MAX || buf_get_bytes(&b, idlen, &p) != REC_OK)
		return REC_EFORMAT;
	memcpy(id, p, idlen);
	id[idlen] = '\0';
	if (strlen(id) != idlen || buf_get_u64(&b, wall_ns) != REC_OK ||
	    buf_get_u32(&b, &mlen) != REC_OK ||
	    buf_get_bytes(&b, mlen, meta) != REC_OK || buf_len(&b) != 0)
		return REC_EFORMAT;
	*meta_len = mlen;
	return REC_OK;
}
