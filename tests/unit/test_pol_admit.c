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
#include <sys/stat.h>
#include <unistd.h>
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
	char who[128];
	assert_string_equal(pol_session_escort_text(s, who, sizeof(who)), "group:escorts");
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
	assert_string_equal(pol_session_escort_text(s, who, sizeof(who)),
	    "group:escorts; and group:seniors");
	assert_string_equal(pol_session_escort_text(s, who, 10), "group:esc");	/* cut to fit */
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


/* check warns about an `escort` rule whose sessions nobody could join: the
 * only user it names to escort is the one it admits (nobody escorts their
 * own session); two named users, or another one, are fine. */
static void
test_lint_escort_nobody(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\nuser v {\n}\ntarget t {\n address h\n}\n"
	    "rule self {\n who user:u\n where *\n exec yes\n escort user:u\n allow \"ls\"\n}\n"
	    "rule other {\n who user:u\n where *\n exec yes\n escort user:v\n allow \"ls\"\n}\n"
	    "rule both {\n who *\n where *\n exec yes\n escort user:u\n supervised-by user:v\n"
	    " allow \"ls\"\n}\n";
	struct policy *p;
	assert_int_equal(policy_load_buffer("e.conf", t, sizeof(t) - 1, 0, &p, NULL), 0);
	struct pol_diags d = { 0 };
	assert_true(policy_lint(p, &d) > 0);
	int n = 0;
	for (size_t k = 0; k < d.n; k++)
		if (strstr(d.v[k].msg, "no user can escort") != NULL) {
			n++;
			assert_int_equal(d.v[k].line, 12);
			assert_int_equal(d.v[k].col, 2);
			assert_non_null(strstr(d.v[k].msg, "rule 'self': no user can escort u's sessions"));
		}
	assert_int_equal(n, 1);
	pol_diags_free(&d);
	policy_unref(p);
}

/* check's warnings for interactive shells: deny/approve patterns under
 * shell observe, and allow patterns naming a program that takes over the
 * screen and runs commands (with the rule and the program named). */
static void
test_lint_shell_warnings(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule obs {\n who *\n where *\n shell observe\n exec yes\n allow \"uptime\"\n"
	    " deny \"rm ...\"\n approve \"reboot\"\n}\n"
	    "rule obs-allow-only {\n who *\n where *\n shell observe\n allow \"ls\"\n}\n"
	    "rule pagers {\n who *\n where *\n allow \"less /var/log/syslog\"\n"
	    " allow \"/usr/bin/man *\"\n allow \"l* ...\"\n allow \"lessecho ...\"\n"
	    " allow \"python3.11 ...\"\n}\n"
	    "expect allow u t \"uptime\"\n";
	struct policy *p;
	assert_int_equal(policy_load_buffer("s.conf", t, sizeof(t) - 1, 0, &p, NULL), 0);
	struct pol_diags d = { 0 };
	assert_true(policy_lint(p, &d) > 0);
	const struct { int line, col; const char *msg; } want[] = {
		{ 9, 2, "rule 'obs' has shell observe: its deny and approve patterns (deny \"rm ...\" "
		    "line 12 and 1 more) do not stop anything typed in that shell" },
		{ 9, 2, "they still apply to exec requests" },
		{ 24, 8, "allow pattern \"less /var/log/syslog\" hands out a pager (less) in rule "
		    "'pagers', which can run other commands once it runs: less: ! runs a shell" },
		{ 25, 8, "hands out a pager (man) in rule 'pagers'" },
		{ 28, 8, "hands out an interpreter (python3.11) in rule 'pagers'" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			found |= d.v[k].line == want[i].line && d.v[k].col == want[i].col &&
			    strstr(d.v[k].msg, want[i].msg) && d.v[k].sev == POL_SEV_WARNING;
		if (!found)
			fprintf(stderr, "missing warning at %d:%d: %s\n", want[i].line, want[i].col,
			    want[i].msg);
		assert_true(found);
	}
	/* nothing about the observe rule without deny patterns, the glob or lessecho */
	for (size_t k = 0; k < d.n; k++) {
		assert_false(d.v[k].line == 18 && strstr(d.v[k].msg, "shell observe"));
		assert_false(d.v[k].line == 26 || d.v[k].line == 27);
	}
	assert_int_equal(d.nerrors, 0);
	pol_diags_free(&d);
	policy_unref(p);
}


/* ---- env lines and environment requests ------------------------------------ */

static struct policy *
load_text(const char *t, struct pol_diags *d)
{
	struct policy *p = NULL;
	(void)policy_load_buffer("x.conf", t, strlen(t), 0, &p, d);
	return p;
}

/* supervised-by: who may supervise without the session waiting; every
 * admitting rule that names escorts must name the escort; nobody
 * supervises themselves; it validates. */
static void
test_supervised_by(void **state)
{
	(void)state;
	static const char t[] =
	    "user al {\n}\nuser bo {\n}\nuser cy {\n}\nuser di {\n}\n"
	    "group escorts bo cy\n"
	    "target t {\n address h\n}\ntarget u {\n address h\n}\n"
	    "rule techs {\n who user:al user:di\n where *\n exec yes\n supervised-by group:escorts user:al\n}\n"
	    "rule narrow {\n who user:al\n where target:u\n exec yes\n supervised-by user:cy\n}\n";
	struct pol_diags d = { 0 };
	struct policy *p = load_text(t, &d);
	struct pol_session *s;
	char who[64];
	assert_non_null(p);
	pol_diags_free(&d);
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, 0, &d), 0);
	pol_diags_free(&d);
	assert_int_equal(policy_admit(p, "al", "t", FRI_10, &s, NULL), 0);
	assert_false(s->escort_required);
	assert_string_equal(pol_session_escort_text(s, who, sizeof(who)), "");	/* not moderated */
	assert_true(pol_session_may_escort(s, "bo"));
	assert_true(pol_session_may_escort(s, "cy"));
	assert_false(pol_session_may_escort(s, "al"));	/* her own */
	assert_false(pol_session_may_escort(s, "di"));	/* not named */
	pol_session_free(s);
	/* on u both rules admit al: only cy is named by both */
	assert_false(policy_may_escort(p, "bo", "al", "u", FRI_10));
	assert_true(policy_may_escort(p, "cy", "al", "u", FRI_10));
	/* al supervises di's sessions */
	assert_true(policy_may_escort(p, "al", "di", "t", FRI_10));
	assert_true(policy_names_escort(p, "al"));
	assert_true(policy_names_escort(p, "bo"));
	assert_false(policy_names_escort(p, "di"));
	assert_false(policy_names_escort(p, "nobody"));
	policy_unref(p);
	/* an unknown user in supervised-by is an error at its place */
	static const char bad[] =
	    "user al {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n supervised-by user:zed\n}\n";
	memset(&d, 0, sizeof(d));
	p = load_text(bad, &d);
	assert_null(p);
	assert_true(d.nerrors >= 1);
	assert_non_null(strstr(d.v[0].msg, "zed"));
	assert_int_equal(d.v[0].line, 9);
	pol_diags_free(&d);
}

static void
test_env_requests(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\nuser v {\n}\ntarget t {\n address h\n}\ntarget s {\n address h\n}\n"
	    "rule wide {\n who *\n where *\n exec yes\n env LANG LC_* FOO\n}\n"
	    "rule narrow {\n who user:u\n where target:t\n env LC_* FOO\n}\n"
	    "rule silent {\n who user:v\n where target:t\n exec yes\n}\n"
	    "rule closed {\n who user:v\n where target:s\n env none\n}\n";
	struct pol_diags d = { 0 };
	struct policy *p = load_text(t, &d);
	assert_non_null(p);
	pol_diags_free(&d);
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const struct {
		const char *user, *target, *name, *value;
		bool ok;
	} cases[] = {
		/* u on t: wide and narrow; a name passes only if both list it */
		{ "u", "t", "LC_ALL", "en_US.UTF-8", true },
		{ "u", "t", "LC_MESSAGES", "C", true },
		{ "u", "t", "LC_TIME", "de_DE@euro", true },
		{ "u", "t", "LC_X", "$(touch /tmp/m)", false },
		{ "u", "t", "LC_X", "en_US.UTF-8; touch /tmp/m", false },
		{ "u", "t", "LC_X", "", false },
		{ "u", "t", "LANG", "en_US.UTF-8", false },	/* narrow does not list LANG */
		{ "u", "t", "FOO", "hello world", true },
		{ "u", "t", "FOO", "$(id)", true },		/* printable: passed as a value */
		{ "u", "t", "FOO", "a\nb", false },
		{ "u", "t", "FOO", "caf\xc3\xa9", false },
		{ "u", "t", "FOO", big, false },
		{ "u", "t", "BAR", "x", false },
		{ "u", "t", "LD_PRELOAD", "/tmp/x.so", false },
		/* u on s: wide only */
		{ "u", "s", "LANG", "fr_FR.UTF-8", true },
		{ "u", "s", "LANG", "POSIX", true },
		{ "u", "s", "LANG", "C.UTF-8", true },
		{ "u", "s", "LANG", "../../x", false },
		{ "u", "s", "BASH_ENV", "/tmp/x", false },
		/* v on t: wide and silent; silent has no env line, wide decides */
		{ "v", "t", "LANG", "en_GB.UTF-8", true },
		/* v on s: wide and closed (env none) */
		{ "v", "s", "LANG", "en_GB.UTF-8", false },
		{ "v", "s", "FOO", "x", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pol_session *s;
		assert_int_equal(policy_admit(p, cases[i].user, cases[i].target, FRI_10, &s, NULL), 0);
		char why[200] = "";
		int r = pol_session_env(s, cases[i].name, cases[i].value, why, sizeof(why));
		if ((r == 0) != cases[i].ok)
			fprintf(stderr, "case %zu (%s=%s): got %d (%s)\n", i, cases[i].name,
			    cases[i].value, r, why);
		assert_int_equal(r == 0, cases[i].ok);
		if (!cases[i].ok)
			assert_true(why[0] != '\0');
		pol_session_free(s);
	}
	/* the text of the setting */
	struct pol_session *s;
	char text[256];
	assert_int_equal(policy_admit(p, "u", "t", FRI_10, &s, NULL), 0);
	assert_int_equal(pol_session_env_text(s, text, sizeof(text)), 0);
	assert_string_equal(text, "LANG LC_* FOO (rule wide) and LC_* FOO (rule narrow)");
	pol_session_free(s);
	assert_int_equal(policy_admit(p, "v", "s", FRI_10, &s, NULL), 0);
	char why[200];
	assert_int_equal(pol_session_env(s, "LANG", "C", why, sizeof(why)), POL_E_REFUSED);
	assert_non_null(strstr(why, "rule 'closed'"));
	pol_session_free(s);
	policy_unref(p);
	/* no rule with env: nothing passes */
	assert_int_equal(policy_admit(pol, "bob", "web01", FRI_10, &s, NULL), 0);
	assert_int_equal(pol_session_env(s, "LANG", "C", why, sizeof(why)), POL_E_REFUSED);
	assert_int_equal(pol_session_env_text(s, text, sizeof(text)), 0);
	assert_string_equal(text, "none");
	pol_session_free(s);
}

static void
test_env_line_errors(void **state)
{
	(void)state;
	const struct { const char *line, *msg; } cases[] = {
		{ " env LD_PRELOAD\n", "would pass LD_PRELOAD" },
		{ " env *\n", "would pass" },
		{ " env BASH_ENV\n", "would pass BASH_ENV" },
		{ " env PATH\n", "would pass PATH" },
		{ " env L*\n", "would pass LD_" },
		{ " env *_PRELOAD\n", "would pass LD_PRELOAD" },
		{ " env *OPT*\n", "would pass" },
		{ " env TERM\n", "pty request" },
		{ " env 9LIVES\n", "expected a variable name" },
		{ " env LC-ALL\n", "expected a variable name" },
		{ " env\n", "usage" },
		{ " env LC_*\n env LANG\n", "given twice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char t[512];
		snprintf(t, sizeof(t), "user u {\n}\ntarget t {\n address h\n}\n"
		    "rule r {\n who *\n where *\n%s}\n", cases[i].line);
		struct pol_diags d = { 0 };
		struct policy *p = load_text(t, &d);
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			found |= d.v[k].sev == POL_SEV_ERROR && d.v[k].line >= 9 && d.v[k].line <= 10 &&
			    strstr(d.v[k].msg, cases[i].msg) != NULL;
		if (!found)
			fprintf(stderr, "case %zu: no error '%s' at line 9 (%zu diags: %s)\n", i,
			    cases[i].msg, d.n, d.n ? d.v[0].msg : "");
		assert_null(p);
		assert_true(found);
		pol_diags_free(&d);
	}
	/* env in a forbid block */
	struct pol_diags d = { 0 };
	assert_null(load_text("user u {\n}\ntarget t {\n address h\n}\n"
	    "forbid f {\n who *\n where *\n env LANG\n}\n", &d));
	pol_diags_free(&d);
	assert_true(pol_env_locale_ok("en_US.UTF-8"));
	assert_true(pol_env_locale_ok("fil_PH"));
	assert_true(pol_env_locale_ok("sr_RS@latin"));
	assert_false(pol_env_locale_ok("e"));
	assert_false(pol_env_locale_ok("en_us"));
	assert_false(pol_env_locale_ok("en_US.UTF-8 x"));
	assert_false(pol_env_locale_ok("en_US."));
	assert_false(pol_env_locale_ok("/usr/lib/locale/x"));
	assert_true(pol_env_name_dangerous("LD_LIBRARY_PATH"));
	assert_true(pol_env_name_dangerous("BASH_FUNC_ls%%"));
	assert_false(pol_env_name_dangerous("LC_ALL"));
}

/* ---- passwords mask|record, observe-deny warn|end ------------------------- */

/* Admits u to t under a policy of rules built from `a` and `b` (the extra
 * lines of two rules that both admit u; b may be NULL) and returns the
 * session. */
static struct pol_session *
admit_two(const char *a, const char *b, struct policy **pp)
{
	char t[1024];
	snprintf(t, sizeof(t), "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule a {\n who *\n where *\n shell observe\n%s}\n"
	    "rule b {\n who *\n where %s\n%s}\n", a, b ? "*" : "target:elsewhere", b ? b : "");
	struct pol_diags d = { 0 };
	*pp = load_text(t, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%d:%d: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	pol_diags_free(&d);
	assert_non_null(*pp);
	struct pol_session *s;
	assert_int_equal(policy_admit(*pp, "u", "t", FRI_10, &s, NULL), 0);
	return s;
}

static void
test_session_switches(void **state)
{
	(void)state;
	const struct {
		const char *a, *b;
		bool record, end;
	} cases[] = {
		{ "", NULL, false, false },				/* defaults */
		{ " passwords record\n", NULL, true, false },
		{ " passwords mask\n", NULL, false, false },
		{ " passwords record\n", " passwords record\n", true, false },
		{ " passwords record\n", "", false, false },		/* every rule must say record */
		{ " passwords record\n", " passwords mask\n", false, false },
		{ " observe-deny end\n", NULL, false, true },
		{ " observe-deny warn\n", NULL, false, false },
		{ " observe-deny warn\n", " observe-deny end\n", false, true },	/* any rule */
		{ "", " observe-deny end\n", false, true },
		{ " observe-deny end\n passwords record\n", " passwords record\n", true, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p;
		struct pol_session *s = admit_two(cases[i].a, cases[i].b, &p);
		if (s->record_passwords != cases[i].record || s->observe_end_on_deny != cases[i].end)
			fprintf(stderr, "case %zu: record %d end %d\n", i, s->record_passwords,
			    s->observe_end_on_deny);
		assert_int_equal(s->record_passwords, cases[i].record);
		assert_int_equal(s->observe_end_on_deny, cases[i].end);
		/* what `rules` shows (escort-policy rules, and `rules` at the proxy) */
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		assert_non_null(f);
		assert_int_equal(policy_rules_for(p, "u", "t", POL_ANYTIME, 0, f), 0);
		fclose(f);
		assert_non_null(strstr(text, cases[i].record ? "\npasswords: record\n" :
		    "\npasswords: mask\n"));
		assert_non_null(strstr(text, cases[i].end ? "\nobserve-deny: end\n" :
		    "\nobserve-deny: warn\n"));
		free(text);
		pol_session_free(s);
		policy_unref(p);
	}
}

static void
test_session_switch_errors(void **state)
{
	(void)state;
	const struct {
		const char *lines, *msg;
		int line, col;
	} cases[] = {
		{ " passwords keep\n", "bad passwords 'keep': expected one of mask|record", 9, 12 },
		{ " passwords\n", "passwords: expected one of mask|record", 9, 2 },
		{ " passwords mask record\n", "passwords: expected one of mask|record", 9, 17 },
		{ " passwords mask\n passwords record\n", "'passwords' given twice in this block", 10, 2 },
		{ " observe-deny kill\n", "bad observe-deny 'kill': expected one of warn|end", 9, 15 },
		{ " observe-deny\n", "observe-deny: expected one of warn|end", 9, 2 },
		{ " observe-deny end\n observe-deny end\n", "'observe-deny' given twice in this block",
		    10, 2 },
		{ " Passwords mask\n", "unknown keyword 'Passwords'", 9, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char t[512];
		snprintf(t, sizeof(t), "user u {\n}\ntarget t {\n address h\n}\n"
		    "rule r {\n who *\n where *\n%s}\n", cases[i].lines);
		struct pol_diags d = { 0 };
		struct policy *p = load_text(t, &d);
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			found |= d.v[k].sev == POL_SEV_ERROR && d.v[k].line == cases[i].line &&
			    d.v[k].col == cases[i].col && strstr(d.v[k].msg, cases[i].msg) != NULL &&
			    strcmp(d.v[k].file, "x.conf") == 0;
		if (!found)
			fprintf(stderr, "case %zu: no error '%s' at %d:%d (%zu diags: %d:%d %s)\n", i,
			    cases[i].msg, cases[i].line, cases[i].col, d.n, d.n ? d.v[0].line : 0,
			    d.n ? d.v[0].col : 0, d.n ? d.v[0].msg : "");
		assert_null(p);
		assert_true(found);
		pol_diags_free(&d);
	}
	/* session settings have no place in a forbid block */
	const char *const forbidden[] = { " passwords record\n", " observe-deny end\n" };
	for (size_t i = 0; i < 2; i++) {
		char t[512];
		snprintf(t, sizeof(t), "user u {\n}\ntarget t {\n address h\n}\n"
		    "forbid f {\n who *\n where *\n%s}\n", forbidden[i]);
		struct pol_diags d = { 0 };
		assert_null(load_text(t, &d));
		assert_true(d.n >= 1 && d.v[0].line == 9 &&
		    strstr(d.v[0].msg, "not allowed in a forbid block") != NULL);
		pol_diags_free(&d);
	}
}

/* ---- IANA time zones in when ------------------------------------------------ */

static void
test_when_zones(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\ntarget ny {\n address h\n}\ntarget syd {\n address h\n}\n"
	    "target fixed {\n address h\n}\n"
	    "rule ny {\n who *\n where target:ny\n when Mon-Fri 09:00-17:00 America/New_York\n exec yes\n}\n"
	    "rule syd {\n who *\n where target:syd\n when 09:00-17:00 Australia/Sydney\n exec yes\n}\n"
	    "rule fixed {\n who *\n where target:fixed\n when 09:00-17:00 +05:30\n exec yes\n}\n";
	struct pol_diags d = { 0 };
	struct policy *p = load_text(t, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%d: %s\n", d.v[i].line, d.v[i].msg);
	assert_non_null(p);
	pol_diags_free(&d);
	/* Friday 2026-11-27 (EST, UTC-5; Sydney AEDT, UTC+11), Wednesday
	 * 2026-07-01 (EDT, UTC-4; AEST, UTC+10), and 2041 (after the last
	 * transition of the file: the footer rule decides). */
	const time_t nov = FRI_10;			/* 10:00Z */
	const time_t jul = (time_t)1782900000;		/* 2026-07-01T10:00:00Z */
	const time_t nov41 = (time_t)2268727200;	/* 2041-11-22T10:00:00Z, Friday */
	const time_t jul41 = (time_t)2256890400;	/* 2041-07-08T10:00:00Z, Monday */
	const struct { const char *target; time_t at; bool open; } real[] = {
		{ "ny", nov + 3 * 3600 + 1800, false },		/* 08:30 EST */
		{ "ny", nov + 4 * 3600 + 1800, true },		/* 09:30 EST */
		{ "ny", jul + 2 * 3600 + 1800, false },		/* 08:30 EDT */
		{ "ny", jul + 3 * 3600 + 1800, true },		/* 09:30 EDT */
		{ "ny", jul + 10 * 3600 + 1800, true },		/* 16:30 EDT */
		{ "ny", jul + 11 * 3600 + 1800, false },	/* 17:30 EDT */
		{ "ny", nov41 + 3 * 3600 + 1800, false },
		{ "ny", nov41 + 4 * 3600 + 1800, true },
		{ "ny", jul41 + 2 * 3600 + 1800, false },
		{ "ny", jul41 + 3 * 3600 + 1800, true },
		/* Sydney: 09:00-17:00 local is 22:00-06:00Z in AEDT (UTC+11),
		 * 23:00-07:00Z in AEST (UTC+10) */
		{ "syd", nov - 12 * 3600 + 1800, true },	/* 22:30Z: 09:30 AEDT */
		{ "syd", nov - 13 * 3600 + 1800, false },	/* 21:30Z: 08:30 AEDT */
		{ "syd", jul - 12 * 3600 + 1800, false },	/* 22:30Z: 08:30 AEST */
		{ "syd", jul - 11 * 3600 + 1800, true },	/* 23:30Z: 09:30 AEST */
		{ "syd", nov41 - 12 * 3600 + 1800, true },
		{ "syd", nov41 - 13 * 3600 + 1800, false },
		{ "syd", jul41 - 12 * 3600 + 1800, false },
		{ "syd", jul41 - 11 * 3600 + 1800, true },
		/* +05:30: 09:00 local is 03:30Z */
		{ "fixed", nov - 6 * 3600 - 1800 - 60, false },
		{ "fixed", nov - 6 * 3600 - 1800 + 60, true },
	};
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		struct pol_session *s = NULL;
		int r = policy_admit(p, "u", real[i].target, real[i].at, &s, NULL);
		if ((r == 0) != real[i].open)
			fprintf(stderr, "case %zu: %s at %lld: got %d\n", i, real[i].target,
			    (long long)real[i].at, r);
		assert_int_equal(r == 0, real[i].open);
		pol_session_free(s);
	}
	policy_unref(p);
	/* files that are not zones, from a private TZDIR */
	char dir[] = "/tmp/test_pol_tz.XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Bad", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	static const struct { const char *name; const char *bytes; size_t len; } files[] = {
		{ "Bad/Text", "not a zone at all\n", 18 },
		{ "Bad/V1", "TZif\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1"
		    "\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0\4\0\0\0\0\0\0UTC\0", 60 },
		{ "Bad/Empty", "", 0 },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(files[i].bytes, 1, files[i].len, f), files[i].len);
		fclose(f);
	}
	setenv("TZDIR", dir, 1);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char tx[256];
		snprintf(tx, sizeof(tx), "user u {\n}\ntarget t {\n address h\n}\n"
		    "rule r {\n who *\n where *\n when 09:00-17:00 %s\n}\n", files[i].name);
		struct pol_diags dd = { 0 };
		assert_null(load_text(tx, &dd));
		assert_int_equal(dd.n, 1);
		assert_non_null(strstr(dd.v[0].msg, "not a TZif file of version 2 or later"));
		pol_diags_free(&dd);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		unlink(path);
	}
	unsetenv("TZDIR");
	snprintf(path, sizeof(path), "%s/Bad", dir);
	rmdir(path);
	rmdir(dir);
	const struct { const char *zone, *msg; } bad[] = {
		{ "Mars/Olympus_Mons", "no such zone" },
		{ "../../etc/passwd", "Area/Location" },
		{ "/etc/passwd", "Area/Location" },
		{ "EST", "expected UTC" },
		{ "Europe/../../../etc/passwd", "Area/Location" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char tx[256];
		snprintf(tx, sizeof(tx), "user u {\n}\ntarget t {\n address h\n}\n"
		    "rule r {\n who *\n where *\n when 09:00-17:00 %s\n}\n", bad[i].zone);
		struct pol_diags dd = { 0 };
		assert_null(load_text(tx, &dd));
		bool found = false;
		for (size_t k = 0; k < dd.n; k++)
			found |= dd.v[k].line == 9 && dd.v[k].col == 19 &&
			    strstr(dd.v[k].msg, bad[i].msg) != NULL;
		if (!found)
			fprintf(stderr, "zone %s: %s\n", bad[i].zone, dd.n ? dd.v[0].msg : "no error");
		assert_true(found);
		pol_diags_free(&dd);
	}
}

/* ---- one validator ---------------------------------------------------------- */

static void
test_validate(void **state)
{
	(void)state;
	struct pol_diags d = { 0 };
	/* the shared policy: escort rules (moderated sessions) validate */
	assert_int_equal(policy_validate(pol, 0, &d), 0);
	assert_int_equal(d.nerrors, 0);
	pol_diags_free(&d);
	memset(&d, 0, sizeof(d));
	/* a failing expect is an error; a good policy validates */
	static const char t[] =
	    "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n exec yes\n allow \"ls ...\"\n}\n"
	    "expect allow u t \"ls -l\"\n"
	    "expect allow u t \"rm -rf /\"\n";
	struct policy *p = load_text(t, NULL);
	assert_non_null(p);
	assert_int_equal(policy_validate(p, POL_VALIDATE_LINT, &d), 1);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.v[0].line, 13);
	assert_non_null(strstr(d.v[0].msg, "expect allow u t \"rm -rf /\" failed: got deny"));
	pol_diags_free(&d);
	size_t total = 0;
	assert_int_equal(policy_check_expects(p, NULL, NULL, &total), 1);
	assert_int_equal(total, 2);
	policy_unref(p);
}

static void
test_ergonomics(void **state)
{
	(void)state;
	/* a forbid matching nobody is an error of the load */
	struct pol_diags d = { 0 };
	assert_null(load_text("user u {\n attr citizenship US\n}\ntarget t {\n address h\n label env prod\n}\n"
	    "rule r {\n who *\n where *\n exec yes\n}\n"
	    "forbid f {\n who attr:citizenship=CN\n where label:env=prod\n}\n"
	    "forbid g {\n who *\n where label:env=staging\n}\n", &d));
	assert_int_equal(d.nerrors, 2);
	pol_diags_sort(&d);
	assert_int_equal(d.v[0].line, 14);
	assert_non_null(strstr(d.v[0].msg, "forbid 'f' matches no user"));
	assert_int_equal(d.v[1].line, 19);
	assert_non_null(strstr(d.v[1].msg, "forbid 'g' matches no target"));
	pol_diags_free(&d);
	/* attribute and label typos are warnings; construct all says what it gives up */
	static const char t[] =
	    "user u {\n attr citizenship US\n}\ntarget t {\n address h\n label env prod\n}\n"
	    "rule r {\n who attr:citizenshp!=US attr:citizenship=FR\n where label:evn=prod *\n"
	    " exec yes\n construct all\n allow \"ls ...\"\n}\n"
	    "expect allow u t \"ls > /tmp/x\"\n";
	struct policy *p = load_text(t, NULL);
	assert_non_null(p);
	assert_true(policy_lint(p, &d) >= 4);
	const struct { int line, col; const char *msg; } want[] = {
		{ 9, 6, "no user carries attribute 'citizenshp': attr:citizenshp!=US matches every user" },
		{ 9, 26, "no user has citizenship=FR: attr:citizenship=FR matches no user" },
		{ 10, 8, "no target carries label 'evn'" },
		{ 12, 12, "construct all permits every shell construct" },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < d.n; k++)
			found |= d.v[k].sev == POL_SEV_WARNING && d.v[k].line == want[i].line &&
			    d.v[k].col == want[i].col && strstr(d.v[k].msg, want[i].msg) != NULL;
		if (!found)
			fprintf(stderr, "missing %d:%d: %s\n", want[i].line, want[i].col, want[i].msg);
		assert_true(found);
	}
	pol_diags_free(&d);
	/* construct all: a redirection is permitted, commands still checked */
	struct pol_decision dec;
	assert_int_equal(policy_decide_for(p, "u", "t", "ls > /tmp/x", 11, POL_ANYTIME, &dec), 0);
	assert_int_equal(dec.verdict, POL_ALLOW);
	pol_decision_free(&dec);
	assert_int_equal(policy_decide_for(p, "u", "t", "ls $(rm -rf /)", 14, POL_ANYTIME, &dec), 0);
	assert_int_equal(dec.verdict, POL_DENY);
	pol_decision_free(&dec);
	policy_unref(p);
}

/* ---- rules, like sudo -l ---------------------------------------------------- */

static char *
rules_text(struct policy *p, const char *user, const char *target, time_t now, unsigned flags,
    int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	*rc = policy_rules_for(p, user, target, now, flags, f);
	fclose(f);
	return text;
}

static void
test_rules_for(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\nuser v {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who user:u\n where *\n exec yes\n sftp download\n env LANG LC_*\n"
	    " max-session 1h30m\n allow \"systemctl status *\"\n deny \"... /etc/shadow ...\"\n"
	    " approve \"systemctl restart *\" \"needs a second pair of eyes\"\n construct redirect\n}\n";
	struct policy *p = load_text(t, NULL);
	assert_non_null(p);
	int rc;
	char *s = rules_text(p, "u", "t", POL_ANYTIME, 0, &rc);
	assert_int_equal(rc, 0);
	const char *want[] = {
		"u may open a session on t (rules: r)\n",
		"session: shell none, exec yes, sftp download, forward none\n",
		"env: LANG LC_*\n",
		"max-session: 1h30m00s\n",
		"escort: no\n",
		"  deny    \"... /etc/shadow ...\"  rule r, x.conf:16\n",
		"  approve \"systemctl restart *\"  rule r, x.conf:17: needs a second pair of eyes\n",
		"  allow   \"systemctl status *\"  rule r, x.conf:15\n",
		"rules:\n  rule r, x.conf:8: when always; constructs redirect\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(s, want[i]) == NULL)
			fprintf(stderr, "missing \"%s\" in:\n%s", want[i], s);
		assert_non_null(strstr(s, want[i]));
	}
	/* deny before approve before allow */
	assert_true(strstr(s, "deny    \"") < strstr(s, "approve \""));
	assert_true(strstr(s, "approve \"") < strstr(s, "allow   \""));
	free(s);
	/* approve: a warning of what this version cannot do, not an error */
	struct pol_diags d = { 0 };
	assert_int_equal(policy_check_enforceable(p, &d), 0);
	assert_int_equal(d.nwarnings, 1);
	assert_int_equal(d.v[0].line, 17);
	assert_non_null(strstr(d.v[0].msg, "approve pattern \"systemctl restart *\": escorts can "
	    "approve only in sessions a supervised-by or escort rule admits"));
	pol_diags_free(&d);
	s = rules_text(p, "v", "t", POL_ANYTIME, 0, &rc);
	assert_int_equal(rc, POL_E_REFUSED);
	assert_string_equal(s, "v may not open a session on t: access to this target is not permitted\n");
	free(s);
	s = rules_text(p, "v", "t", POL_ANYTIME, POL_RULES_DETAIL, &rc);
	assert_non_null(strstr(s, "no rule admits this user to this target"));
	free(s);
	s = rules_text(p, "u", "nosuch", POL_ANYTIME, 0, &rc);
	assert_int_equal(rc, POL_E_NOTARGET);
	free(s);
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
		cmocka_unit_test(test_lint_escort_nobody),
		cmocka_unit_test(test_lint_shell_warnings),
		cmocka_unit_test(test_env_requests),
		cmocka_unit_test(test_env_line_errors),
		cmocka_unit_test(test_session_switches),
		cmocka_unit_test(test_session_switch_errors),
		cmocka_unit_test(test_when_zones),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_supervised_by),
		cmocka_unit_test(test_ergonomics),
		cmocka_unit_test(test_rules_for),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
