/* Unit tests: the END event's payload (ev_end.h): every kind has a distinct
 * name and sentence, a payload reads back as written, a missing reason
 * takes the kind's sentence, an END without fields reads as empty, and an
 * unknown kind is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "recorder/ev_end.h"
#include "recorder/event.h"
#include "recorder/rec_error.h"

static void
test_kind_table(void **state)
{
	(void)state;
	for (int i = 0; i < EV_END_KIND_COUNT; i++) {
		const char *n = ev_end_kind_name((enum ev_end_kind)i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		assert_true(strlen(ev_end_kind_text((enum ev_end_kind)i)) > 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n,
			    ev_end_kind_name((enum ev_end_kind)j));
	}
	assert_string_equal(ev_end_kind_name(EV_END_NORMAL), "normal");
	assert_string_equal(ev_end_kind_name(EV_END_CLIENT_LOST), "client-lost");
	assert_string_equal(ev_end_kind_name(EV_END_PROXY_LOST), "proxy-lost");
	assert_string_equal(ev_end_kind_name(EV_END_KIND_COUNT), "unknown");
}

static void
test_payload_roundtrip(void **state)
{
	struct ev_end_info in;
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(ev_end_payload(&b, EV_END_TARGET_LOST,
	    "the target stopped answering keepalives", "proxy"), REC_OK);
	assert_true(ev_fields_valid(buf_ptr(&b), buf_len(&b)));
	ev_end_parse(buf_ptr(&b), buf_len(&b), &in);
	assert_string_equal(in.kind, "target-lost");
	assert_string_equal(in.reason, "the target stopped answering keepalives");
	assert_string_equal(in.by, "proxy");
	buf_free(&b);

	buf_init(&b, 4096);
	assert_int_equal(ev_end_payload(&b, EV_END_POLICY, NULL, "recorder"),
	    REC_OK);
	ev_end_parse(buf_ptr(&b), buf_len(&b), &in);
	assert_string_equal(in.reason, ev_end_kind_text(EV_END_POLICY));
	assert_string_equal(in.by, "recorder");
	assert_int_equal(ev_end_payload(&b, EV_END_KIND_COUNT, NULL, "proxy"),
	    REC_EINVAL);
	buf_free(&b);

	/* an END of an older proxy: no fields */
	ev_end_parse(NULL, 0, &in);
	assert_string_equal(in.kind, "");
	assert_string_equal(in.reason, "");
	assert_string_equal(in.by, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_table),
		cmocka_unit_test(test_payload_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
