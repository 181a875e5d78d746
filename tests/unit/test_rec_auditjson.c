/* Unit tests for recorder/auditjson: the JSON escaping of the audit-event
 * stream (escort-audit(5)) for the attacker-influenced strings of a
 * recording: quotes, backslashes, control bytes, DEL, invalid UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "recorder/auditjson.h"
#include "recorder/rec_error.h"

/* The escaped form of s[0..n), NUL-terminated in out. */
static const char *
esc(const void *s, size_t n, char *out, size_t outsz)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(rec__aj_escape(&b, s, n), REC_OK);
	assert_true(buf_len(&b) < outsz);
	memcpy(out, buf_ptr(&b), buf_len(&b));
	out[buf_len(&b)] = '\0';
	buf_free(&b);
	return out;
}

#define ESC(lit)	esc(lit, sizeof(lit) - 1, out, sizeof(out))

static void
test_escape(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(ESC("plain text"), "plain text");
	assert_string_equal(ESC("a\"b\\c"), "a\\\"b\\\\c");
	assert_string_equal(ESC("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
	assert_string_equal(ESC("\x01\x1f\x7f"), "\\u0001\\u001f\\u007f");
	assert_string_equal(ESC("nul\0byte"), "nul\\u0000byte");
	/* valid UTF-8 passes: é, €, U+1F600 */
	assert_string_equal(ESC("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* invalid: a lone continuation, a lone lead, overlong, surrogate,
	 * above U+10FFFF, truncated at the end: one U+FFFD per byte */
	assert_string_equal(ESC("\x80"), "\\ufffd");
	assert_string_equal(ESC("\xc3x"), "\\ufffdx");
	assert_string_equal(ESC("\xc0\xaf"), "\\ufffd\\ufffd");
	assert_string_equal(ESC("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(ESC("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(ESC("\xf4\x90\x80\x80"),
	    "\\ufffd\\ufffd\\ufffd\\ufffd");
	assert_string_equal(ESC("ok\xe2\x82"), "ok\\ufffd\\ufffd");
	assert_string_equal(ESC("\xff\xfe"), "\\ufffd\\ufffd");
}

static void
test_object(void **state)
{
	const uint8_t digest[3] = { 0x00, 0xab, 0xff };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(aj_begin(&b), REC_OK);
	assert_int_equal(aj_time(&b, "time", 1764944583123456789ull), REC_OK);
	assert_int_equal(aj_cstr(&b, "user", NULL), REC_OK);
	assert_int_equal(aj_str(&b, "cmd", "x\ny", 3), REC_OK);
	assert_int_equal(aj_u64(&b, "n", 18446744073709551615ull), REC_OK);
	assert_int_equal(aj_hex(&b, "h", digest, sizeof(digest)), REC_OK);
	assert_int_equal(aj_end(&b), REC_OK);
	assert_int_equal(buf_len(&b), strlen("{\"time\":\"2025-12-05T14:23:03."
	    "123Z\",\"user\":null,\"cmd\":\"x\\ny\",\"n\":18446744073709551615,"
	    "\"h\":\"00abff\"}\n"));
	assert_memory_equal(buf_ptr(&b), "{\"time\":\"2025-12-05T14:23:03."
	    "123Z\",\"user\":null,\"cmd\":\"x\\ny\",\"n\":18446744073709551615,"
	    "\"h\":\"00abff\"}\n", buf_len(&b));
	buf_free(&b);
}

static void
test_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(aj_begin(&b), REC_OK);
	assert_int_equal(aj_cstr(&b, "key", "a value too long"), REC_ETOOBIG);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
