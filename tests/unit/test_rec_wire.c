/* Unit tests for recorder/wire: every message round-trips, and malformed
 * frames are refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/rec_error.h"
#include "recorder/wire.h"

static const uint8_t head[WIRE_HEAD_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static void
roundtrip(const struct wire_msg *in)
{
	uint8_t buf[4096];
	struct wire_msg out;
	char why[256] = "";
	size_t flen;
	long n;

	n = wire_encode(in, buf, sizeof(buf));
	assert_true(n >= WIRE_HDR_LEN);
	assert_int_equal(n, wire_size(in));
	/* every strict prefix is incomplete, never an error */
	for (long i = 0; i < n; i++) {
		assert_int_equal(wire_frame(buf, (size_t)i, &flen, why,
		    sizeof(why)), REC_OK);
		assert_int_equal(flen, 0);
	}
	assert_int_equal(wire_frame(buf, (size_t)n, &flen, why, sizeof(why)),
	    REC_OK);
	assert_int_equal(flen, n);
	assert_int_equal(wire_decode(buf, (size_t)n, &out, why, sizeof(why)),
	    REC_OK);
	assert_int_equal(out.type, in->type);
	assert_int_equal(out.flags, in->flags);
	assert_int_equal(out.seq, in->seq);
	assert_int_equal(out.count, in->count);
	assert_int_equal(out.id_len, in->id_len);
	if (in->id_len)
		assert_memory_equal(out.id, in->id, in->id_len);
	assert_int_equal(out.text_len, in->text_len);
	if (in->text_len)
		assert_memory_equal(out.text, in->text, in->text_len);
	assert_int_equal(out.data_len, in->data_len);
	if (in->data_len)
		assert_memory_equal(out.data, in->data, in->data_len);
	if (in->head)
		assert_memory_equal(out.head, in->head, WIRE_HEAD_LEN);
	assert_int_equal(out.version, in->version ? in->version : WIRE_VERSION);
	assert_int_equal(out.line_len, in->line_len);
	if (in->line_len)
		assert_memory_equal(out.line, in->line, in->line_len);
	/* one byte less in the body is refused as too short */
	buf[3]--;
	assert_int_equal(wire_decode(buf, (size_t)n - 1, &out, why,
	    sizeof(why)) == REC_OK, in->type == WIRE_DATA ||
	    in->type == WIRE_HELLO ? (in->data_len > 1) : 0);
}

static void
test_roundtrip_all_types(void **state)
{
	(void)state;
	const uint8_t recs[] = "records-bytes";
	struct wire_msg t[] = {
		{ .type = WIRE_HELLO, .text = "proxy-1", .text_len = 7,
		  .count = 1, .data = recs, .data_len = 13 },
		{ .type = WIRE_HELLO, .flags = WIRE_F_RESUME, .text = "p",
		  .text_len = 1, .id = "20261128-abc", .id_len = 12,
		  .seq = 77 },
		{ .type = WIRE_ACCEPT, .id = "S1", .id_len = 2, .seq = 5 },
		{ .type = WIRE_REJECT, .text = "store full", .text_len = 10 },
		{ .type = WIRE_DATA, .flags = WIRE_F_SYNC, .count = 2,
		  .data = recs, .data_len = 13 },
		{ .type = WIRE_DATA, .flags = WIRE_F_SYNC },
		{ .type = WIRE_ACK, .seq = UINT64_MAX, .head = head },
		{ .type = WIRE_CLOSE },
		{ .type = WIRE_CLOSED, .id = "S1", .id_len = 2, .seq = 9,
		  .head = head, .data = recs, .data_len = 13 },
		{ .type = WIRE_CLOSED, .id = "S1", .id_len = 2, .seq = 9,
		  .head = head, .data = recs, .data_len = 13,
		  .line = "escort-head v1 3 ab 5 c", .line_len = 23 },
		/* version 2 peers: CLOSED without the tree head */
		{ .version = 2, .type = WIRE_CLOSED, .id = "S1", .id_len = 2,
		  .seq = 9, .head = head, .data = recs, .data_len = 13 },
		{ .version = 2, .type = WIRE_ACK, .seq = 3, .head = head },
		{ .type = WIRE_ABORT, .text = "bye", .text_len = 3 },
		{ .type = WIRE_PING, .seq = 42 },
		{ .type = WIRE_PONG, .seq = 42 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		roundtrip(&t[i]);
}

struct bad {
	const char	*name;
	uint8_t		 bytes[96];	/* the rest zero */
	size_t		 len;
	int		 code;
	const char	*why;
};

static void
test_rejects_malformed(void **state)
{
	(void)state;
	static const struct bad t[] = {
		{ "version 4", { 0, 0, 0, 8, 4, WIRE_PING }, 14,
		  REC_EVERSION, "unsupported protocol version 4" },
		{ "version 1", { 0, 0, 0, 8, 1, WIRE_PING }, 14,
		  REC_EVERSION, "unsupported protocol version 1" },
		{ "closed head not text",
		  { 0, 0, 0, 47, WIRE_VERSION, WIRE_CLOSED, 1, 'a',
		    [48] = 0, 0, 0, 1, '\n' }, 53,
		  REC_EPROTO, "CLOSED: tree head is not printable" },
		{ "oversized", { 0, 0x40, 0, 0, WIRE_VERSION, WIRE_DATA }, 6,
		  REC_ETOOBIG, "exceeds the limit" },
		{ "unknown type", { 0, 0, 0, 0, WIRE_VERSION, 99 }, 6,
		  REC_EPROTO, "unknown message type 99" },
		{ "type zero", { 0, 0, 0, 0, WIRE_VERSION, 0 }, 6,
		  REC_EPROTO, "unknown message type 0" },
		{ "ping short", { 0, 0, 0, 4, WIRE_VERSION, WIRE_PING, 0, 0, 0, 0 }, 10,
		  REC_EPROTO, "PING: body of 4 bytes is too short" },
		{ "close trailing", { 0, 0, 0, 1, WIRE_VERSION, WIRE_CLOSE, 7 }, 7,
		  REC_EPROTO, "CLOSE: 1 unexpected trailing bytes" },
		{ "data bad flags", { 0, 0, 0, 5, WIRE_VERSION, WIRE_DATA, 0x80 }, 11,
		  REC_EPROTO, "DATA: unknown flags" },
		{ "data count without records",
		  { 0, 0, 0, 5, WIRE_VERSION, WIRE_DATA, 0, 0, 0, 0, 3 }, 11,
		  REC_EPROTO, "record count 3 with 0 bytes" },
		{ "accept bad id", { 0, 0, 0, 11 + WIRE_TOKEN_LEN, WIRE_VERSION, WIRE_ACCEPT, 2, '.',
		  '/' }, 17 + WIRE_TOKEN_LEN, REC_EPROTO, "ACCEPT: invalid session id" },
		{ "accept without token", { 0, 0, 0, 11, WIRE_VERSION, WIRE_ACCEPT, 1, 'a' },
		  17, REC_EPROTO, "ACCEPT: body of 11 bytes is too short" },
		{ "reject control chars",
		  { 0, 0, 0, 4, WIRE_VERSION, WIRE_REJECT, 0, 2, 'a', '\n' }, 10,
		  REC_EPROTO, "reason is not printable" },
		{ "hello new without meta",
		  { 0, 0, 0, 16, WIRE_VERSION, WIRE_HELLO, 0, 0, 0 }, 22,
		  REC_EPROTO, "new session without metadata" },
		{ "hello resume bad id",
		  { 0, 0, 0, 16 + WIRE_TOKEN_LEN, WIRE_VERSION, WIRE_HELLO, WIRE_F_RESUME, 0, 0 },
		  22 + WIRE_TOKEN_LEN, REC_EPROTO, "resume without a valid session id" },
		{ "hello resume without token",
		  { 0, 0, 0, 18, WIRE_VERSION, WIRE_HELLO, WIRE_F_RESUME, 0, 1, 'a' }, 24,
		  REC_EPROTO, "HELLO: body of 18 bytes is too short" },
		{ "hello string overruns",
		  { 0, 0, 0, 3, WIRE_VERSION, WIRE_HELLO, 0, 200, 'x' }, 9,
		  REC_EPROTO, "HELLO: body of 3 bytes is too short" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct wire_msg m;
		char why[256] = "";
		size_t flen;
		int r;

		r = wire_frame(t[i].bytes, t[i].len, &flen, why, sizeof(why));
		if (r == REC_OK) {
			assert_int_equal(flen, t[i].len);
			r = wire_decode(t[i].bytes, t[i].len, &m, why,
			    sizeof(why));
		}
		if (r != t[i].code || strstr(why, t[i].why) == NULL)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"",
			    t[i].name, r, why, t[i].code, t[i].why);
	}
}

static void
test_encode_limits(void **state)
{
	(void)state;
	uint8_t small[8];
	char name[300];
	struct wire_msg m = { .type = WIRE_PING, .seq = 1 };

	assert_int_equal(wire_encode(&m, small, 8), REC_EFULL);
	memset(name, 'a', sizeof(name));
	m = (struct wire_msg){ .type = WIRE_HELLO, .text = name,
	    .text_len = sizeof(name) };
	assert_int_equal(wire_size(&m), REC_EINVAL);
	m = (struct wire_msg){ .type = 42 };
	assert_int_equal(wire_size(&m), REC_EINVAL);
	m = (struct wire_msg){ .version = 1, .type = WIRE_PING };
	assert_int_equal(wire_size(&m), REC_EINVAL);
	m = (struct wire_msg){ .type = WIRE_CLOSED, .id = "a", .id_len = 1,
	    .line = name, .line_len = WIRE_HEADLINE_MAX + 1 };
	assert_int_equal(wire_size(&m), REC_EINVAL);
	m = (struct wire_msg){ .type = WIRE_DATA, .data_len = WIRE_BODY_MAX };
	assert_int_equal(wire_size(&m), REC_EINVAL);
	assert_true(wire_id_valid("abc-1_2.x", 9));
	assert_false(wire_id_valid("../etc", 6));
	assert_false(wire_id_valid("", 0));
	assert_string_equal(wire_type_name(WIRE_CLOSED), "CLOSED");
	assert_string_equal(wire_type_name(0), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_types),
		cmocka_unit_test(test_rejects_malformed),
		cmocka_unit_test(test_encode_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
