/* Unit tests for common/buf: the bounded byte buffer every library uses
 * (the recorder's transcript and wire bytes, the proxy's transfer parsers,
 * the policy's command-line words and rendered lines). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/esc_error.h"

/* An append past max fails, says so, and leaves the buffer as it was. */
static void
test_bounded_append(void **state)
{
	struct buf b;
	size_t n;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_room(&b), 8);
	assert_int_equal(buf_put(&b, "abcdef", 6), ESC_OK);
	assert_int_equal(buf_room(&b), 2);
	assert_int_equal(buf_put(&b, "xyz", 3), ESC_ETOOBIG);
	assert_int_equal(buf_len(&b), 6);
	assert_memory_equal(buf_peek(&b, &n), "abcdef", 6);
	assert_int_equal(n, 6);
	assert_int_equal(buf_put(&b, "gh", 2), ESC_OK);
	assert_int_equal(buf_room(&b), 0);
	/* consuming makes room again */
	assert_int_equal(buf_consume(&b, 3), ESC_OK);
	assert_int_equal(buf_room(&b), 3);
	assert_int_equal(buf_put(&b, "ijk", 3), ESC_OK);
	assert_memory_equal(buf_peek(&b, &n), "defghijk", 8);
	assert_int_equal(buf_consume(&b, 9), ESC_ETRUNC);
	assert_int_equal(buf_len(&b), 8);
	buf_free(&b);
	/* no limit */
	buf_init(&b, 0);
	assert_true(buf_room(&b) == SIZE_MAX);
	buf_free(&b);
}

/* buf_peek never returns NULL; a buffer read to its end starts over. */
static void
test_peek_and_consume(void **state)
{
	struct buf b;
	const uint8_t *p;
	size_t n;

	(void)state;
	buf_init(&b, 0);
	p = buf_peek(&b, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(buf_put(&b, "hello", 5), ESC_OK);
	assert_int_equal(buf_consume(&b, 5), ESC_OK);
	p = buf_peek(&b, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(b.rpos, 0);
	assert_int_equal(b.wpos, 0);
	buf_reset(&b);
	assert_int_equal(buf_put_u32(&b, 0x01020304), ESC_OK);
	assert_int_equal(buf_ld32(buf_ptr(&b)), 0x01020304);
	buf_free(&b);
}

/* C strings: buf_cstr terminates without counting the NUL (even at max);
 * buf_take_str hands the block over and leaves an empty buffer. */
static void
test_strings(void **state)
{
	struct buf b, v;
	char *s;
	size_t n;

	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_put(&b, "abcd", 4), ESC_OK);
	assert_string_equal(buf_cstr(&b), "abcd");
	assert_int_equal(buf_len(&b), 4);
	assert_int_equal(buf_consume(&b, 1), ESC_OK);
	assert_string_equal(buf_cstr(&b), "bcd");
	s = buf_take_str(&b, &n);
	assert_non_null(s);
	assert_string_equal(s, "bcd");
	assert_int_equal(n, 3);
	free(s);
	assert_int_equal(buf_len(&b), 0);
	assert_null(b.data);
	assert_int_equal(b.max, 4);
	/* an empty buffer gives an allocated "" */
	s = buf_take_str(&b, NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	/* a view is read-only */
	buf_view(&v, "xy", 2);
	assert_null(buf_cstr(&v));
	assert_null(buf_take_str(&v, NULL));
	assert_int_equal(buf_room(&v), 0);
	assert_int_equal(buf_put(&v, "z", 1), ESC_ESTATE);
	buf_free(&v);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded_append),
		cmocka_unit_test(test_peek_and_consume),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
