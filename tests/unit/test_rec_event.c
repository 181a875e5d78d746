/* Unit tests: bounded buffer, CRC32C, event records and TLV fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"

static void
test_buf_bounds(void **state)
{
	struct buf b;
	uint32_t v32;
	uint64_t v64;
	uint8_t big[100];

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_put_u32(&b, 0xdeadbeef), REC_OK);
	assert_int_equal(buf_put_u64(&b, 0x0102030405060708ull), REC_OK);
	assert_int_equal(buf_len(&b), 12);
	memset(big, 'x', sizeof(big));
	assert_int_equal(buf_put(&b, big, 5), REC_ETOOBIG);
	assert_int_equal(buf_len(&b), 12);
	assert_int_equal(buf_ptr(&b)[0], 0xde);
	assert_int_equal(buf_get_u32(&b, &v32), REC_OK);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(buf_get_u64(&b, &v64), REC_OK);
	assert_true(v64 == 0x0102030405060708ull);
	assert_int_equal(buf_get_u8(&b, (uint8_t *)&v32), REC_ETRUNC);
	/* Consumed room is reusable up to max. */
	assert_int_equal(buf_put(&b, big, 16), REC_OK);
	assert_int_equal(buf_put_u8(&b, 1), REC_ETOOBIG);
	buf_free(&b);

	buf_view(&b, big, 10);
	assert_int_equal(buf_put_u8(&b, 1), REC_ESTATE);
	assert_int_equal(buf_consume(&b, 11), REC_ETRUNC);
	assert_int_equal(buf_consume(&b, 10), REC_OK);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

static void
test_crc32c(void **state)
{
	uint8_t data[1000];
	size_t i;

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(data); i += 37)
		assert_int_equal(crc32c(0, data, i), crc32c_sw(0, data, i));
	/* Incremental equals one-shot. */
	assert_int_equal(crc32c(crc32c(0, data, 333), data + 333, 667),
	    crc32c(0, data, 1000));
}

static void
test_event_roundtrip(void **state)
{
	struct buf b;
	struct ev e, d;
	size_t used, count, off = 0;
	uint64_t t = 0;
	uint16_t type;
	char payload[64];

	(void)state;
	buf_init(&b, 0);
	for (type = 1; type <= EV_TYPE_MAX; type++) {
		snprintf(payload, sizeof(payload), "payload of %s", ev_type_name(type));
		e = (struct ev){ .seq = type, .t_ns = 1000u * type, .type = type,
		    .channel = type * 3, .data = (const uint8_t *)payload,
		    .len = (uint32_t)strlen(payload) };
		assert_int_equal(ev_encode(&b, &e), REC_OK);
	}
	assert_int_equal(ev_validate(buf_ptr(&b), buf_len(&b), 1, &t, &count), REC_OK);
	assert_int_equal(count, EV_TYPE_MAX);
	for (type = 1; type <= EV_TYPE_MAX; type++) {
		assert_int_equal(ev_decode(buf_ptr(&b) + off, buf_len(&b) - off, &d,
		    &used), REC_OK);
		snprintf(payload, sizeof(payload), "payload of %s", ev_type_name(type));
		assert_int_equal(d.type, type);
		assert_true(d.seq == type && d.t_ns == 1000u * type);
		assert_int_equal(d.channel, type * 3);
		assert_int_equal(d.len, strlen(payload));
		assert_memory_equal(d.data, payload, d.len);
		off += used;
	}
	/* Every strict prefix of a record is "need more". */
	for (used = 0; used < EV_HDR_LEN + 10; used++)
		assert_int_equal(ev_decode(buf_ptr(&b), used, &d, &off), REC_ETRUNC);
	/* Gaps and wrong first seq are refused. */
	t = 0;
	assert_int_equal(ev_validate(buf_ptr(&b), buf_len(&b), 2, &t, &count), REC_ESEQ);
	assert_int_equal(count, 0);
	buf_free(&b);
}

static void
test_event_limits(void **state)
{
	struct buf b;
	struct ev d;
	size_t used;
	uint8_t *big;

	(void)state;
	buf_init(&b, 0);
	big = calloc(1, EV_PAYLOAD_MAX + 1);
	assert_non_null(big);
	assert_int_equal(ev_encode_parts(&b, 1, 0, EV_OUTPUT, 0, big, EV_PAYLOAD_MAX + 1),
	    REC_ETOOBIG);
	assert_int_equal(ev_encode_parts(&b, 1, 0, 0, 0, big, 1), REC_EINVAL);
	assert_int_equal(ev_encode_parts(&b, 1, 0, EV_OUTPUT, 0, big, EV_PAYLOAD_MAX),
	    REC_OK);
	assert_int_equal(ev_decode(buf_ptr(&b), buf_len(&b), &d, &used), REC_OK);
	assert_int_equal(used, EV_HDR_LEN + EV_PAYLOAD_MAX);
	/* Corrupt the length over the cap, then the type. */
	buf_mutable_ptr(&b)[0] = 0x7f;
	assert_int_equal(ev_decode(buf_ptr(&b), buf_len(&b), &d, &used), REC_ETOOBIG);
	buf_mutable_ptr(&b)[0] = 0;
	buf_mutable_ptr(&b)[5] = 99;
	assert_int_equal(ev_decode(buf_ptr(&b), buf_len(&b), &d, &used), REC_EFORMAT);
	free(big);
	buf_free(&b);
}

static void
test_fields(void **state)
{
	struct buf b;
	char s[8];
	uint64_t v;
	const uint8_t *val;
	size_t len;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(ev_fields_put_str(&b, EVF_USER, "alice"), REC_OK);
	assert_int_equal(ev_fields_put_str(&b, EVF_ATTR, "citizenship=FR"), REC_OK);
	assert_int_equal(ev_fields_put_u64(&b, EVF_COLS, 132), REC_OK);
	assert_true(ev_fields_valid(buf_ptr(&b), buf_len(&b)));
	assert_int_equal(ev_fields_get_str(buf_ptr(&b), buf_len(&b), EVF_USER, s,
	    sizeof(s)), REC_OK);
	assert_string_equal(s, "alice");
	assert_int_equal(ev_fields_get_str(buf_ptr(&b), buf_len(&b), EVF_ATTR, s,
	    sizeof(s)), REC_OK);
	assert_string_equal(s, "citizen");	/* truncated to fit */
	assert_int_equal(ev_fields_get_u64(buf_ptr(&b), buf_len(&b), EVF_COLS, &v), REC_OK);
	assert_true(v == 132);
	assert_int_equal(ev_fields_find(buf_ptr(&b), buf_len(&b), EVF_ROWS, &val, &len),
	    REC_ENOENT);
	assert_int_equal(ev_fields_get_u64(buf_ptr(&b), buf_len(&b), EVF_USER, &v),
	    REC_EFORMAT);
	/* A cut field sequence is invalid. */
	assert_false(ev_fields_valid(buf_ptr(&b), buf_len(&b) - 1));
	assert_int_equal(ev_fields_find(buf_ptr(&b), buf_len(&b) - 1, EVF_ROWS, &val,
	    &len), REC_EFORMAT);
	buf_free(&b);
	assert_string_equal(rec_strerror(REC_ECRC), "CRC32C mismatch");
	assert_string_equal(rec_strerror(1), "unknown error");
	/* A common code passing through is named; a gap is not a code. */
	assert_string_equal(rec_strerror(ESC_ECONFIG), "configuration error");
	assert_string_equal(rec_strerror(-23), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounds),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_event_roundtrip),
		cmocka_unit_test(test_event_limits),
		cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
