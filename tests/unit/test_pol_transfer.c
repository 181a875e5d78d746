/*
 * test_pol_transfer: transfer decisions (policy_decide_transfer), table-
 * driven.  Each row is a user, an operation with its paths as a client
 * sends them, the decision an admin expects and a piece of the reason.
 * Grouped by: direction per operation, denied paths after lexical
 * normalisation, relative paths, symlinks, approve, start-up files, the
 * allowlist a rule's "sftp ..." allow pattern turns on, and explain's
 * by-name form agreeing with the session form.
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

static const char policy_text[] =
"user both {\n}\n"
"user down {\n}\n"
"user up {\n}\n"
"user none {\n}\n"
"user listed {\n}\n"
"target web01 {\n"
"    address 10.0.0.5:22\n"
"    home /home/ops\n"
"}\n"
"rule vendors {\n"
"    who user:both user:down user:up user:none\n"
"    where target:web01\n"
"    exec yes\n"
"    allow \"cat ...\"\n"
"    deny \"... /etc/shadow ...\"\n"
"    deny \"... /etc/ssh/* ...\"\n"
"    deny \"... /home/ops/secret ...\"\n"
"    approve \"... /srv/release/* ...\"\n"
"    deny \"sftp get /srv/ro/*\"\n"
"}\n"
"rule d-both {\n    who user:both\n    where *\n    sftp both\n}\n"
"rule d-down {\n    who user:down\n    where *\n    sftp download\n}\n"
"rule d-up {\n    who user:up\n    where *\n    sftp upload\n}\n"
"rule d-none {\n    who user:none\n    where *\n}\n"
"rule allowlisted {\n"
"    who user:listed\n"
"    where *\n"
"    sftp both\n"
"    allow \"sftp get /data/*\"\n"
"    allow \"sftp * /data ...\"\n"
"    allow \"sftp put /home/ops/.bashrc\"\n"
"    allow \"sftp put /home/ops/.b*\"\n"
"    allow \"sftp put ~/.profile\"\n"
"    deny \"... /data/private ...\"\n"
"}\n";

static struct policy *P;

static int
setup(void **state)
{
	struct pol_diags d = { 0 };
	(void)state;
	int r = policy_load_buffer("transfer.conf", policy_text, sizeof(policy_text) - 1, 0, &P, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
	pol_diags_free(&d);
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	policy_unref(P);
	return 0;
}

struct row {
	const char *user;
	enum pol_xfer_op op;
	const char *path, *path2;
	enum pol_verdict want;
	const char *reason;		/* a piece of the reason, or NULL */
};

static void
run_rows(const struct row *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pol_session *s;
		struct pol_decision d, e;
		assert_int_equal(policy_admit(P, t[i].user, "web01", POL_ANYTIME, &s, NULL), 0);
		assert_int_equal(policy_decide_transfer(s, t[i].op, t[i].path, t[i].path2,
		    POL_ANYTIME, &d), 0);
		if (d.verdict != t[i].want || (t[i].reason && strstr(d.reason, t[i].reason) == NULL))
			fail_msg("%s %s %s%s%s: %s (%s), want %s (%s)", t[i].user,
			    pol_xfer_op_name(t[i].op), t[i].path, t[i].path2 ? " " : "",
			    t[i].path2 ? t[i].path2 : "", pol_verdict_name(d.verdict), d.reason,
			    pol_verdict_name(t[i].want), t[i].reason ? t[i].reason : "");
		/* explain's form gives the same answer */
		assert_int_equal(policy_decide_transfer_for(P, t[i].user, "web01", t[i].op,
		    t[i].path, t[i].path2, POL_ANYTIME, &e), 0);
		assert_int_equal(e.verdict, d.verdict);
		assert_string_equal(e.reason, d.reason);
		assert_null(d.cmd);
		assert_null(d.rendered);
		pol_decision_free(&d);
		pol_decision_free(&e);
		pol_session_free(s);
	}
}

#define RUN(t) run_rows(t, sizeof(t) / sizeof(t[0]))

static void
test_direction(void **state)
{
	static const struct row t[] = {
		{ "both", POL_XFER_READ, "/tmp/a", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, "/tmp/a", NULL, POL_ALLOW, NULL },
		{ "down", POL_XFER_READ, "/tmp/a", NULL, POL_ALLOW, NULL },
		{ "down", POL_XFER_WRITE, "/tmp/a", NULL, POL_DENY, "(sftp download)" },
		{ "down", POL_XFER_REMOVE, "/tmp/a", NULL, POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_RENAME, "/tmp/a", "/tmp/b", POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_MKDIR, "/tmp/d", NULL, POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_RMDIR, "/tmp/d", NULL, POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_SETSTAT, "/tmp/a", NULL, POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_SYMLINK, "/tmp/a", "/tmp/b", POL_DENY, "uploads and changes" },
		{ "down", POL_XFER_LINK, "/tmp/a", "/tmp/b", POL_DENY, "uploads and changes" },
		{ "up", POL_XFER_READ, "/tmp/a", NULL, POL_DENY, "downloads are not allowed" },
		{ "up", POL_XFER_WRITE, "/tmp/a", NULL, POL_ALLOW, NULL },
		/* listing and stat only reveal: either direction may */
		{ "up", POL_XFER_LIST, "/tmp", NULL, POL_ALLOW, NULL },
		{ "up", POL_XFER_STAT, "/tmp/a", NULL, POL_ALLOW, NULL },
		{ "down", POL_XFER_LIST, "/tmp", NULL, POL_ALLOW, NULL },
		{ "up", POL_XFER_READLINK, "/tmp/l", NULL, POL_ALLOW, NULL },
		{ "up", POL_XFER_REALPATH, ".", NULL, POL_ALLOW, NULL },
		{ "none", POL_XFER_LIST, "/tmp", NULL, POL_DENY, "(sftp none)" },
		{ "none", POL_XFER_READ, "/tmp/a", NULL, POL_DENY, "(sftp none)" },
	};
	(void)state;
	RUN(t);
}

static void
test_denied_paths(void **state)
{
	static const struct row t[] = {
		{ "both", POL_XFER_READ, "/etc/shadow", NULL, POL_DENY, "rule 'vendors' (line 20)" },
		{ "both", POL_XFER_READ, "/var/log/../../etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "//etc/./shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "/etc/shadow/", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "/../../etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "/etc/shadow.bak", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_STAT, "/etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_LIST, "/etc/ssh/../ssh/", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_READ, "/etc/ssh/sshd_config", NULL, POL_DENY, "/etc/ssh/*" },
		{ "both", POL_XFER_READ, "/etc/ssh//./sshd_config", NULL, POL_DENY, "/etc/ssh/*" },
		{ "both", POL_XFER_REMOVE, "/etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_SETSTAT, "/etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_MKDIR, "/etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		/* rename and links: both ends */
		{ "both", POL_XFER_RENAME, "/tmp/a", "/etc/shadow", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_RENAME, "/etc/shadow", "/tmp/a", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_LINK, "/etc/shadow", "/tmp/a", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_SYMLINK, "/etc/shadow", "/tmp/x", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_SYMLINK, "/tmp/x", "/etc/shadow", POL_DENY, "/etc/shadow" },
		/* a relative symlink end is read from the other end's folder */
		{ "both", POL_XFER_SYMLINK, "../etc/shadow", "/tmp/x", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_SYMLINK, "/tmp/x", "../etc/shadow", POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_SYMLINK, "../etc/passwd", "/tmp/x", POL_ALLOW, NULL },
		/* a link to, or a rename of, a folder above a denied path */
		{ "both", POL_XFER_SYMLINK, "/etc", "/tmp/e", POL_DENY, "leads to a path denied" },
		{ "both", POL_XFER_SYMLINK, "/", "/tmp/root", POL_DENY, "leads to a path denied" },
		{ "both", POL_XFER_SYMLINK, "..", "/tmp/up", POL_DENY, NULL },
		{ "both", POL_XFER_SYMLINK, "/etc/ssh", "/tmp/s", POL_DENY, "/etc/ssh/*" },
		{ "both", POL_XFER_RENAME, "/home/ops", "/tmp/h", POL_DENY, "/home/ops/secret" },
		{ "both", POL_XFER_LINK, "/etc/sh", "/tmp/x", POL_ALLOW, NULL },
		{ "both", POL_XFER_SYMLINK, "/var/log", "/tmp/logs", POL_ALLOW, NULL },
		{ "both", POL_XFER_RENAME, "/tmp/a", "/tmp/b", POL_ALLOW, NULL },
		/* a deny on one operation only */
		{ "both", POL_XFER_READ, "/srv/ro/f", NULL, POL_DENY, "sftp get /srv/ro/*" },
		{ "both", POL_XFER_LIST, "/srv/ro", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_STAT, "/srv/ro/f", NULL, POL_ALLOW, NULL },
		/* approve denies: no escort can approve a transfer here */
		{ "both", POL_XFER_WRITE, "/srv/release/app.tar", NULL, POL_DENY,
		  "needs an escort's approval, which this proxy cannot give" },
	};
	(void)state;
	RUN(t);
}

static void
test_relative_paths(void **state)
{
	static const struct row t[] = {
		/* the home is unknown: a relative name may sit under any folder */
		{ "both", POL_XFER_READ, "secret", NULL, POL_DENY, "/home/ops/secret" },
		{ "both", POL_XFER_READ, "./x/../secret", NULL, POL_DENY, "/home/ops/secret" },
		{ "both", POL_XFER_READ, "~/secret", NULL, POL_DENY, "/home/ops/secret" },
		{ "both", POL_XFER_READ, "../../etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "shadow", NULL, POL_ALLOW, NULL },	/* /home/ops/shadow */
		{ "both", POL_XFER_READ, "../../etc/shadow", NULL, POL_DENY, "/etc/shadow" },
		{ "both", POL_XFER_READ, "notes.txt", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_REALPATH, ".", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_LIST, "", NULL, POL_ALLOW, NULL },
		/* the home is known (home /home/ops): above it is /home */
		{ "both", POL_XFER_LIST, "..", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, "../x", NULL, POL_ALLOW, NULL },
	};
	(void)state;
	RUN(t);
}

static void
test_startup_files(void **state)
{
	static const struct row t[] = {
		{ "both", POL_XFER_WRITE, ".bashrc", NULL, POL_DENY, "start-up file" },
		{ "both", POL_XFER_WRITE, "./.ssh/rc", NULL, POL_DENY, "'~/.ssh/rc'" },
		{ "both", POL_XFER_WRITE, "foo/../.profile", NULL, POL_DENY, "'~/.profile'" },
		{ "both", POL_XFER_WRITE, "/home/ops/.ssh/authorized_keys", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/root/.bash_profile", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/profile.d/x.sh", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/profile", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/sudoers.d/x", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/cron.d/x", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/var/spool/cron/crontabs/root", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/ld.so.preload", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_WRITE, "/etc/pam.d/sshd", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_MKDIR, ".ssh", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_MKDIR, ".config", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_REMOVE, ".bashrc", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_SETSTAT, ".ssh", NULL, POL_DENY, "start-up" },
		{ "both", POL_XFER_RENAME, "up.txt", ".bashrc", POL_DENY, "start-up" },
		{ "both", POL_XFER_RENAME, ".bash_profile", "old", POL_DENY, "start-up" },
		{ "both", POL_XFER_SYMLINK, ".ssh/authorized_keys", "/tmp/ak", POL_DENY, "start-up" },
		{ "both", POL_XFER_SYMLINK, "/tmp/evil", ".bashrc", POL_DENY, "start-up" },
		/* reading them, and look-alikes, are fine */
		{ "both", POL_XFER_READ, ".bashrc", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, ".bashrc.bak", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, "/etc/profiles", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, ".config/app.conf", NULL, POL_ALLOW, NULL },
		{ "both", POL_XFER_WRITE, "/etc/sshd", NULL, POL_ALLOW, NULL },
	};
	(void)state;
	RUN(t);
}

static void
test_allowlist(void **state)
{
	static const struct row t[] = {
		{ "listed", POL_XFER_READ, "/data/a.csv", NULL, POL_ALLOW, "sftp get /data/*" },
		{ "listed", POL_XFER_READ, "/data/../etc/passwd", NULL, POL_DENY, "no rule allows" },
		{ "listed", POL_XFER_READ, "/tmp/a", NULL, POL_DENY, "no rule allows 'sftp get /tmp/a'" },
		{ "listed", POL_XFER_LIST, "/data", NULL, POL_ALLOW, NULL },
		{ "listed", POL_XFER_STAT, "/data", NULL, POL_ALLOW, NULL },
		{ "listed", POL_XFER_READ, "/data/private", NULL, POL_DENY, "/data/private" },
		/* realpath is exempt: sftp clients need it to start */
		{ "listed", POL_XFER_REALPATH, ".", NULL, POL_ALLOW, NULL },
		/* a start-up file opens only to a literal allow pattern */
		{ "listed", POL_XFER_WRITE, "/home/ops/.bashrc", NULL, POL_ALLOW, NULL },
		{ "listed", POL_XFER_WRITE, "/home/ops/.bash_profile", NULL, POL_DENY, "start-up" },
		{ "listed", POL_XFER_WRITE, ".profile", NULL, POL_ALLOW, NULL },
		{ "listed", POL_XFER_WRITE, "./.profile", NULL, POL_ALLOW, NULL },
		{ "listed", POL_XFER_WRITE, "/home/ops/.profile", NULL, POL_DENY, "no rule allows" },
	};
	(void)state;
	RUN(t);
}

static void
test_bad_input(void **state)
{
	struct pol_session *s;
	struct pol_decision d;
	static char longpath[5000];
	(void)state;
	assert_int_equal(policy_admit(P, "both", "web01", POL_ANYTIME, &s, NULL), 0);
	assert_int_equal(policy_decide_transfer(s, POL_XFER_RENAME, "/a", NULL, 0, &d), POL_E_INVAL);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	assert_int_equal(policy_decide_transfer(s, POL_XFER_NOPS, "/a", NULL, 0, &d), POL_E_INVAL);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	assert_int_equal(policy_decide_transfer(s, POL_XFER_READ, longpath, NULL, 0, &d), POL_E_INVAL);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	pol_session_free(s);
	assert_int_equal(policy_decide_transfer_for(P, "nobody", "web01", POL_XFER_READ, "/a", NULL,
	    POL_ANYTIME, &d), POL_E_NOUSER);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	for (int i = 0; i < POL_XFER_NOPS; i++)
		assert_int_equal(pol_xfer_op_parse(pol_xfer_op_name((enum pol_xfer_op)i)), i);
	assert_int_equal(pol_xfer_op_parse("cat"), -1);
}

/* Without `home` the login's home is unknown: a relative path may be under
 * any directory, so it matches every deny pattern that names a file of that
 * name anywhere (a false deny rather than a false allow). */
static void
test_unknown_home(void **state)
{
	(void)state;
	static const char text[] =
	    "user both {\n}\n"
	    "target nohome {\n    address 10.0.0.6:22\n}\n"
	    "rule r {\n    who user:both\n    where target:nohome\n    sftp both\n"
	    "    deny \"... /etc/shadow ...\"\n    deny \"... /etc/ssh/* ...\"\n}\n";
	struct policy *p = NULL;
	assert_int_equal(policy_load_buffer("nohome.conf", text, sizeof(text) - 1, 0, &p, NULL), 0);
	static const struct {
		enum pol_xfer_op op;
		const char *path;
		enum pol_verdict want;
	} t[] = {
		{ POL_XFER_READ, "shadow", POL_DENY },		/* the home may be /etc */
		{ POL_XFER_READ, "sshd_config", POL_DENY },	/* or /etc/ssh */
		{ POL_XFER_READ, "../../etc/shadow", POL_DENY },
		{ POL_XFER_READ, "/srv/x", POL_ALLOW },		/* absolute: exact */
		{ POL_XFER_LIST, "", POL_ALLOW },		/* the home itself */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pol_decision d;
		assert_int_equal(policy_decide_transfer_for(p, "both", "nohome", t[i].op, t[i].path,
		    NULL, POL_ANYTIME, &d), 0);
		if (d.verdict != t[i].want) {
			print_error("%s %s: %s (%s)\n", pol_xfer_op_name(t[i].op), t[i].path,
			    pol_verdict_name(d.verdict), d.reason);
			fail();
		}
		pol_decision_free(&d);
	}
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_denied_paths),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_startup_files),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_unknown_home),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
