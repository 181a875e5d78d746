/* Unit tests for common/sessid: the one session-id rule, as the recorder
 * protocol (wire_id_valid) and the store (tw_id_valid) now both apply it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/sessid.h"

static void
test_rule(void **state)
{
	static const struct {
		const char *id;
		int ok;
	} t[] = {
		{ "20261205-104150-112261bf", 1 },
		{ "abc-1_2.x", 1 },
		{ "S1", 1 },
		{ "a.", 1 },
		{ "journalx", 1 },
		{ "Journal", 1 },
		{ "", 0 },
		{ ".hidden", 0 },
		{ "..", 0 },
		{ "../etc", 0 },
		{ "a/b", 0 },
		{ "a b", 0 },
		{ "journal", 0 },	/* the journal's own chain id */
		{ "caf\xc3\xa9", 0 },
		{ "tab\t", 0 },
	};
	char longest[SESSID_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sessid_valid(t[i].id, strlen(t[i].id)) != t[i].ok)
			fail_msg("\"%s\": want %d", t[i].id, t[i].ok);
	memset(longest, 'a', sizeof(longest));
	assert_int_equal(sessid_valid(longest, SESSID_MAX), 1);
	assert_int_equal(sessid_valid(longest, SESSID_MAX + 1), 0);
	/* length-delimited: a NUL inside is not allowed, bytes after are not read */
	assert_int_equal(sessid_valid("ab\0cd", 5), 0);
	assert_int_equal(sessid_valid("journal-2", 7), 0);
	assert_int_equal(sessid_valid("abc/def", 3), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
