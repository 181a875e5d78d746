/*
 * test_pol_errors: each kind of mistake in a policy file is reported at the
 * right line and column, with a message naming the problem; loading goes on
 * so that every error is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"

#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0lCqBN4wOk9OlTHvbLs2VdrUk8Zqvm4n31Ayj9lKb"
/* A valid prelude so that each case has one mistake. */
#define PRE "user u {\n}\ntarget t {\n address h\n}\n"	/* 5 lines */

struct row {
	const char *text;
	int line, col;
	const char *msg;	/* substring of the message */
};

static const struct row rows[] = {
	{ PRE "frobnicate x\n", 6, 1, "unknown keyword 'frobnicate'" },
	{ PRE "widget x {\n}\n", 6, 1, "unknown block 'widget'" },
	{ PRE "user v\n", 6, 7, "expected '{' after user v" },
	{ PRE "user a b {\n}\n", 6, 6, "expected one name" },
	{ PRE "user v {\n key \"" KEY "\n}\n", 7, 6, "unterminated string" },
	{ PRE "user v {\n attr x \"a\\qb\"\n}\n", 7, 11, "unknown escape" },
	{ PRE "user v {\n", 6, 1, "missing '}'" },
	{ PRE "}\n", 6, 1, "unexpected '}'" },
	{ PRE "user u {\n}\n", 6, 6, "duplicate user 'u'" },
	{ PRE "target t {\n address h2\n}\n", 6, 8, "duplicate target 't'" },
	{ PRE "user v {\n  colour red\n}\n", 7, 3, "unknown keyword 'colour' in user 'v'" },
	{ PRE "user v {\n key \"ssh-foo AAAA\"\n}\n", 7, 6, "unknown key type" },
	{ PRE "user v {\n key \"ssh-ed25519 AAAA!!!\"\n}\n", 7, 6, "not base64" },
	{ PRE "user v {\n key \"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGJ0lCqBN4wOk9OlTHvbLs2VdrUk8Zqvm4n31Ayj9lKb\"\n}\n", 7, 6, "does not match its type" },
	{ PRE "user v {\n attr onlykey\n}\n", 7, 2, "attr: usage" },
	{ PRE "group g u nobody\n", 6, 11, "unknown user 'nobody' in group 'g'" },
	{ PRE "target w {\n address h:99999\n}\n", 7, 12, "bad port '99999'" },
	{ PRE "target w {\n address fe80::1:22\n}\n", 7, 10, "write IPv6 as [ADDR]:PORT" },
	{ PRE "target w {\n login ops\n}\n", 6, 8, "target 'w' has no address" },
	{ PRE "target w {\n address h\n hostkey \"nope\"\n}\n", 8, 10, "bad hostkey" },
	{ PRE "rule r {\n who user:u\n}\n", 6, 6, "rule 'r' has no 'where' line" },
	{ PRE "rule r {\n where *\n}\n", 6, 6, "rule 'r' has no 'who' line" },
	{ PRE "rule r {\n who user:nobody\n where *\n}\n", 7, 6, "unknown user 'nobody'" },
	{ PRE "rule r {\n who group:staff\n where *\n}\n", 7, 6, "unknown group 'staff'" },
	{ PRE "rule r {\n who role:admin\n where *\n}\n", 7, 6, "unknown who kind 'role'" },
	{ PRE "rule r {\n who attr:x\n where *\n}\n", 7, 6, "bad attribute 'attr:x'" },
	{ PRE "rule r {\n who *\n where host:x\n}\n", 8, 8, "unknown where kind 'host'" },
	{ PRE "rule r {\n who *\n where label:env\n}\n", 8, 8, "bad label" },
	{ PRE "rule r {\n who *\n where *\n when Mon-Fry 08:00-18:00 UTC\n}\n", 9, 7, "bad days 'Mon-Fry'" },
	{ PRE "rule r {\n who *\n where *\n when Mon-Fri 8-18 UTC\n}\n", 9, 15, "bad time range '8-18'" },
	{ PRE "rule r {\n who *\n where *\n when Mon-Fri 08:00-18:00 CEST\n}\n", 9, 27, "bad time zone 'CEST'" },
	{ PRE "rule r {\n who *\n where *\n shell bash\n}\n", 9, 8, "bad shell 'bash'" },
	{ PRE "rule r {\n who *\n where *\n exec maybe\n}\n", 9, 7, "bad exec 'maybe'" },
	{ PRE "rule r {\n who *\n where *\n sftp all\n}\n", 9, 7, "bad sftp 'all'" },
	{ PRE "rule r {\n who *\n where *\n forward remote\n}\n", 9, 10, "bad forward 'remote'" },
	{ PRE "rule r {\n who *\n where *\n max-session 2 hours\n}\n", 9, 16, "max-session: usage" },
	{ PRE "rule r {\n who *\n where *\n max-session 2y\n}\n", 9, 14, "bad duration '2y'" },
	{ PRE "rule r {\n who *\n where *\n allow \"\"\n}\n", 9, 8, "empty pattern" },
	{ PRE "rule r {\n who *\n where *\n allow \"ls foo...\"\n}\n", 9, 12, "'...' must be a word of its own" },
	{ PRE "rule r {\n who *\n where *\n construct magic\n}\n", 9, 12, "unknown construct 'magic'" },
	{ PRE "rule r {\n who *\n where *\n allow\n}\n", 9, 2, "allow: usage" },
	{ PRE "rule r {\n who *\n where *\n}\nrule r {\n who *\n where *\n}\n", 10, 6, "duplicate rule name 'r'" },
	{ PRE "forbid f {\n who *\n where *\n allow \"ls\"\n}\n", 9, 2, "not allowed in a forbid block" },
	{ PRE "rule r {\n who *\n where *\n rule s {\n}\n", 9, 2, "blocks do not nest" },
	{ PRE "expect maybe u t \"ls\"\n", 6, 8, "bad expectation 'maybe'" },
	{ PRE "expect allow nobody t \"ls\"\n", 6, 1, "expect: unknown user 'nobody'" },
	{ PRE "expect allow u nowhere \"ls\"\n", 6, 1, "expect: unknown target 'nowhere'" },
	{ PRE "expect allow u t\n", 6, 1, "expect: usage" },
	{ PRE "include /nonexistent/escort-policy.conf\n", 6, 9, "no such file" },
	{ PRE "\"alone\"\n", 6, 1, "expected a keyword, found a string" },
};

static void
test_error_rows(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pol_diags d = { 0 };
		struct policy *p = NULL;
		int r = policy_load_buffer("e.conf", rows[i].text, strlen(rows[i].text), 0, &p, &d);
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			if (d.v[k].line == rows[i].line && d.v[k].col == rows[i].col &&
			    strstr(d.v[k].msg, rows[i].msg) != NULL && strcmp(d.v[k].file, "e.conf") == 0)
				found = true;
		if (r != POL_E_SYNTAX || p != NULL || !found) {
			fprintf(stderr, "row %zu: want %d:%d: %s; got r=%d:\n", i, rows[i].line,
			    rows[i].col, rows[i].msg, r);
			for (size_t k = 0; k < d.n; k++)
				fprintf(stderr, "    %s:%d:%d: %s\n", d.v[k].file, d.v[k].line,
				    d.v[k].col, d.v[k].msg);
			bad++;
		}
		policy_unref(p);
		pol_diags_free(&d);
	}
	fprintf(stderr, "%zu error rows\n", sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(bad, 0);
}

/* All errors of a file are reported, in order, not just the first. */
static void
test_every_error_reported(void **state)
{
	(void)state;
	static const char text[] =
	    "user a {\n  attr x\n}\n"
	    "target t {\n  address h:0\n}\n"
	    "rule r {\n  who group:none\n  where *\n  shell maybe\n}\n";
	struct pol_diags d = { 0 };
	struct policy *p;
	assert_int_equal(policy_load_buffer("m.conf", text, sizeof(text) - 1, 0, &p, &d), POL_E_SYNTAX);
	assert_null(p);
	pol_diags_sort(&d);
	assert_int_equal(d.nerrors, 5);
	assert_int_equal(d.v[0].line, 2);	/* attr: usage */
	assert_int_equal(d.v[1].line, 4);	/* target 't' has no address */
	assert_int_equal(d.v[2].line, 5);	/* bad port */
	assert_int_equal(d.v[3].line, 8);	/* unknown group */
	assert_int_equal(d.v[4].line, 10);	/* bad shell */
	pol_diags_free(&d);
}

/* A valid file loads; its hash changes with any byte. */
static void
test_valid_and_hash(void **state)
{
	(void)state;
	static const char ok[] = PRE "user v {\n key \"" KEY " v@laptop\"\n attr team blue\n}\n"
	    "group g u v\nrule r {\n who group:g attr:team=blue\n where target:t*\n"
	    " when Mon-Fri,Sun 22:00-06:00 +02:00\n allow \"ls ...\"\n}\n";
	struct policy *p, *q;
	struct pol_diags d = { 0 };
	assert_int_equal(policy_load_buffer("ok", ok, sizeof(ok) - 1, 0, &p, &d), 0);
	assert_int_equal(d.n, 0);
	char alt[sizeof(ok)];
	memcpy(alt, ok, sizeof(ok));
	alt[sizeof(ok) - 4] = 'S';
	assert_int_equal(policy_load_buffer("ok", alt, sizeof(ok) - 1, 0, &q, NULL), 0);
	assert_string_not_equal(policy_hash(p), policy_hash(q));
	const struct pol_user *v = policy_user(p, "v");
	assert_non_null(v);
	assert_true(pol_user_has_key(v, KEY));
	assert_true(pol_user_has_key(v, "  " KEY " other-comment"));
	assert_false(pol_user_has_key(v, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0lCqBN4wOk9OlTHvbLs2VdrUk8Zqvm4n31Ayj9lKc"));
	assert_false(pol_user_has_key(policy_user(p, "u"), KEY));
	assert_string_equal(pol_user_attr(v, "team"), "blue");
	const struct pol_target *t = policy_target(p, "t");
	assert_string_equal(t->host, "h");
	assert_int_equal(t->port, 22);
	policy_unref(p);
	policy_unref(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_rows),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_valid_and_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
