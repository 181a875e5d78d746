/*
 * test_pol_admit: admission and session settings (combined to the most
 * restrictive), time windows, forbids, escorts, target listing, reference
 * counting across a reload, and the warnings of check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"

static const char text[] =
"user alice {\n attr citizenship CN\n}\n"
"user bob {\n attr citizenship US\n}\n"
"user erin {\n}\nuser frank {\n}\n"
"group technicians alice bob\ngroup escorts erin frank\ngroup seniors frank\n"
"target web01 {\n address 10.0.0.5:22\n label env prod\n}\n"
"target db01 {\n address [::1]:2222\n label env prod\n label impact il5\n}\n"
"target dev01 {\n address dev\n label env dev\n}\n"
"rule prod-hours {\n"
" who group:technicians\n where label:env=prod\n"
" when Mon-Fri 08:00-18:00 UTC\n"
" escort group:escorts\n shell strict\n exec yes\n sftp both\n forward local\n max-session 4h\n"
" allow \"uptime\"\n}\n"
"rule foreigners {\n"
" who attr:citizenship=CN\n where label:env=prod\n"
" escort group:seniors\n sftp download\n max-session 1h\n forward none\n"
" allow \"ls ...\"\n}\n"
"rule dev {\n who *\n where target:dev*\n shell observe\n}\n"
"forbid cn-il5 {\n who attr:citizenship=CN\n where label:impact=il5\n reason \"export control\"\n}\n"
"expect allow bob web01 \"uptime\"\n";

/* 2026-11-27 is a Friday. */
#define FRI_10 ((time_t)1795773600)	/* 2026-11-27T10:00:00Z */
#define FRI_20 (FRI_10 + 10 * 3600)
#define SAT_10 (FRI_10 + 24 * 3600)

static struct policy *pol;

static int
setup(void **state)
{
	(void)state;
	struct pol_diags d = { 0 };
	int r = policy_load_buffer("a.conf", text, sizeof(text) - 1, 0, &pol, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%d:%d: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	pol_diags_free(&d);
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	policy_unref(pol);
	return 0;
}

static void
test_settings_narrowed(void **state)
{
	(void)state;
	struct pol_session *s;
	struct pol_refusal why;
	/* bob: one rule */
	assert_int_equal(policy_admit(pol, "bob", "web01", FRI_10, &s, &why), 0);
	assert_true(s->escort_required);
	assert_int_equal(s->shell, POL_SHELL_STRICT);
	assert_true(s->exec);
	assert_int_equal(s->sftp, POL_SFTP_BOTH);
	assert_int_equal(s->forward, POL_FORWARD_LOCAL);
	assert_int_equal(s->max_session, 4 * 3600);
	assert_string_equal(s->rule_names, "prod-hours");
	assert_true(pol_session_may_escort(s, "erin"));
	assert_true(pol_session_may_escort(s, "frank"));
	assert_false(pol_session_may_escort(s, "bob"));
	assert_false(pol_session_may_escort(s, "alice"));
	assert_false(pol_session_may_escort(s, "nobody"));
	pol_session_free(s);
	/* alice: both rules; the most restrictive of each setting */
	assert_int_equal(policy_admit(pol, "alice", "web01", FRI_10, &s, &why), 0);
	assert_int_equal(s->nrules, 2);
	assert_string_equal(s->rule_names, "prod-hours, foreigners");
	assert_int_equal(s->sftp, POL_SFTP_DOWNLOAD);
	assert_int_equal(s->forward, POL_FORWARD_NONE);
	assert_int_equal(s->max_session, 3600);
	assert_int_equal(s->shell, POL_SHELL_STRICT);
	assert_true(pol_session_may_escort(s, "frank"));	/* escorts and seniors */
	assert_false(pol_session_may_escort(s, "erin"));	/* not a senior */
	struct pol_decision d;
	assert_int_equal(policy_decide(s, "ls -l", 5, FRI_10, &d), 0);
	assert_int_equal(d.verdict, POL_ALLOW);
	pol_decision_free(&d);
	/* after hours, only the rule without a window applies */
	assert_int_equal(policy_decide(s, "uptime", 6, FRI_20, &d), 0);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	pol_session_free(s);
	/* alice after hours: still admitted by the rule without a window */
	assert_int_equal(policy_admit(pol, "alice", "web01", FRI_20, &s, &why), 0);
	assert_int_equal(s->shell, POL_SHELL_NONE);
	assert_int_equal(s->nrules, 1);
	pol_session_free(s);
}

static void
test_refusals(void **state)
{
	(void)state;
	struct pol_session *s;
	struct pol_refusal why;
	assert_int_equal(policy_admit(pol, "bob", "web01", FRI_20, &s, &why), POL_E_REFUSED);
	assert_null(s);
	assert_non_null(strstr(why.user_msg, "not permitted at this time"));
	assert_non_null(strstr(why.log_msg, "prod-hours"));
	assert_int_equal(policy_admit(pol, "bob", "web01", SAT_10, &s, &why), POL_E_REFUSED);
	assert_int_equal(policy_admit(pol, "alice", "db01", FRI_10, &s, &why), POL_E_REFUSED);
	assert_null(strstr(why.user_msg, "cn-il5"));	/* no policy internals for the user */
	assert_non_null(strstr(why.log_msg, "cn-il5"));
	assert_non_null(strstr(why.log_msg, "export control"));
	assert_int_equal(policy_admit(pol, "erin", "web01", FRI_10, &s, &why), POL_E_REFUSED);
	assert_non_null(strstr(why.log_msg, "no rule"));
	assert_int_equal(policy_admit(pol, "zed", "web01", FRI_10, &s, &why), POL_E_NOUSER);
	assert_int_equal(policy_admit(pol, "bob", "zz", FRI_10, &s, &why), POL_E_NOTARGET);
	assert_int_equal(policy_admit(pol, "erin", "dev01", SAT_10, &s, &why), 0);
	assert_int_equal(s->shell, POL_SHELL_OBSERVE);
	assert_false(s->escort_required);
	assert_int_equal(s->max_session, 0);
	pol_session_free(s);
	assert_string_equal(policy_forbidden(pol, "alice", "db01"), "cn-il5");
	assert_null(policy_forbidden(pol, "bob", "db01"));
	assert_true(policy_may_escort(pol, "erin", "bob", "web01", FRI_10));
	assert_false(policy_may_escort(pol, "erin", "bob", "dev01", FRI_10));
}

static void
test_targets_for(void **state)
{
	(void)state;
	const struct pol_target **v;
	long n = policy_targets_for(pol, "alice", FRI_10, &v);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "dev01");
	assert_string_equal(v[1]->name, "web01");
	free(v);
	n = policy_targets_for(pol, "bob", FRI_10, &v);
	assert_int_equal(n, 3);
	free(v);
	n = policy_targets_for(pol, "bob", SAT_10, &v);
	assert_int_equal(n, 1);
	free(v);
	assert_int_equal(policy_targets_for(pol, "nobody", FRI_10, &v), POL_E_NOUSER);
	const struct pol_target *t = policy_target(pol, "db01");
	assert_string_equal(t->host, "::1");
	assert_int_equal(t->port, 2222);
	assert_string_equal(pol_target_label(t, "impact"), "il5");
}

/* A session keeps its policy alive across a reload; the new policy's
 * forbid ends it. */
static void
test_reload_keeps_old(void **state)
{
	(void)state;
	struct policy *old;
	assert_int_equal(policy_load_buffer("a.conf", text, sizeof(text) - 1, 0, &old, NULL), 0);
	struct pol_session *s;
	assert_int_equal(policy_admit(old, "bob", "db01", FRI_10, &s, NULL), 0);
	static const char next[] =
	    "user bob {\n}\ntarget db01 {\n address h\n}\n"
	    "forbid all {\n who *\n where *\n}\n";
	struct policy *nw;
	assert_int_equal(policy_load_buffer("b.conf", next, sizeof(next) - 1, 0, &nw, NULL), 0);
	policy_unref(old);	/* the live session still holds it */
	struct pol_decision d;
	assert_int_equal(policy_decide(s, "uptime", 6, FRI_10, &d), 0);
	assert_int_equal(d.verdict, POL_ALLOW);
	assert_string_not_equal(d.policy_hash, policy_hash(nw));
	pol_decision_free(&d);
	assert_string_equal(policy_forbidden(nw, "bob", "db01"), "all");
	pol_session_free(s);
	policy_unref(nw);
}

static void
test_lint_warnings(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n allow \"vim *\"\n allow \"rm -rf /tmp/*\"\n"
	    " deny \"rm ...\"\n allow \"ls ...\"\n deny \"ls /root\"\n allow \"python3 ...\"\n}\n"
	    "rule empty {\n who user:ghost*\n where *\n allow \"ls\"\n}\n"
	    "forbid f {\n who *\n where target:t\n}\n"
	    "rule narrow {\n who user:u\n where target:t\n allow \"rm -rf /tmp/x\"\n}\n";
	struct policy *p;
	assert_int_equal(policy_load_buffer("l.conf", t, sizeof(t) - 1, 0, &p, NULL), 0);
	struct pol_diags d = { 0 };
	assert_true(policy_lint(p, &d) > 0);
	const struct { int line; const char *msg; } want[] = {
		{ 9, "hands out an editor (vim)" },
		{ 10, "can never decide" },
		{ 12, "overlaps deny" },
		{ 14, "hands out an interpreter (python3)" },
		{ 6, "has no expect line" },
		{ 16, "matches no user" },
		{ 21, "overrides rule 'r'" },
		{ 25, "can never apply: forbid 'f'" },
		{ 28, "covers it wherever this rule applies" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			if (d.v[k].line == want[i].line && strstr(d.v[k].msg, want[i].msg) &&
			    d.v[k].sev == POL_SEV_WARNING)
				found = true;
		if (!found)
			fprintf(stderr, "missing warning at line %d: %s\n", want[i].line, want[i].msg);
		assert_true(found);
	}
	assert_int_equal(d.nerrors, 0);
	pol_diags_free(&d);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_narrowed),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_targets_for),
		cmocka_unit_test(test_reload_keeps_old),
		cmocka_unit_test(test_lint_warnings),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
