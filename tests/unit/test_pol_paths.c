/*
 * test_pol_paths: paths in command decisions, table-driven.  One policy has
 * a tight allowlist (user bob on web01), the other a deny list over
 * `allow "* ..."` (user dave on dev01); each row is a command line as typed
 * and the decision an admin expects.  Rows are grouped by trick: "..",
 * "//" and "/./", trailing '/', cd / pushd / popd before a relative path,
 * globs that could reach a denied path, '~', quoting; then the allowed
 * cases that must keep working.  A second table checks the normaliser
 * itself (pol_path_clean / pol_path_normalise).
 */
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/pathnorm.h"
#include "policy/policy.h"

static const char policy_text[] =
"user bob {\n"
"}\n"
"user dave {\n"
"}\n"
"target web01 {\n"
"    address 10.0.0.5:22\n"
"}\n"
"target dev01 {\n"
"    address 10.0.0.7:22\n"
"}\n"
"rule tight {\n"
"    who user:bob\n"
"    where target:web01\n"
"    exec yes\n"
"    allow \"cat /var/log/*\"\n"
"    allow \"tail -n * /var/log/*\"\n"
"    allow \"ls /tmp/\"\n"
"    allow \"ls -la\"\n"
"    allow \"ls /srv/./data//\"\n"
"    allow \"cd *\"\n"
"    allow \"pushd *\"\n"
"    allow \"popd\"\n"
"    allow \"/usr/local/bin/report\"\n"
"    allow \"uptime\"\n"
"    deny \"... /etc/shadow ...\"\n"
"}\n"
"rule guard {\n"
"    who user:dave\n"
"    where target:dev01\n"
"    exec yes\n"
"    allow \"* ...\"\n"
"    deny \"... /etc/shadow ...\"\n"
"    deny \"... /etc/ssh/* ...\"\n"
"    deny \"... /root/* ...\"\n"
"    deny \"rm ...\"\n"
"    deny \"systemctl restart sshd\"\n"
"    approve \"... /srv/secret/* ...\"\n"
"    construct redirect\n"
"}\n";

struct row {
	const char *user, *target, *cmd;
	enum pol_verdict want;
};

#define A POL_ALLOW
#define D POL_DENY
#define P POL_APPROVE
#define T(cmd, want) { "bob", "web01", cmd, want }	/* tight allowlist */
#define G(cmd, want) { "dave", "dev01", cmd, want }	/* deny list over "* ..." */

static const struct row rows[] = {
	/* ".." out of an allowed directory */
	T("cat /var/log/../../etc/shadow", D),
	T("cat /var/log/../../../../../etc/shadow", D),
	T("cat /var/log/../../etc/passwd", D),
	T("cat /var/log/nginx/../../../etc/passwd", D),
	T("cat /var/log/..", D),
	T("tail -n 5 /var/log/../../etc/shadow", D),
	/* a '..' after a directory name is not trusted: a symlink may lead
	 * elsewhere (/var/run/../etc is /etc where /var/run links to /run) */
	T("cat /var/log/nginx/../syslog", D),
	G("cat /var/run/../etc/shadow", D),
	G("cat /var/log/../../etc/shadow", D),
	G("cat /../etc/shadow", D),
	G("cat /../../../etc/shadow", D),
	G("cat /tmp/../etc/shadow", D),
	G("cat /etc/ssh/../shadow", D),
	G("cat /etc/../root/.ssh/id_rsa", D),
	G("ls /srv/secret/./key", P),
	G("ls /srv//secret/key/", P),
	G("ls /srv/x/../secret/key", D),	/* x may link into /root */
	/* '..' at the root stays at the root: nothing to distrust */
	G("cat /../etc/hostname", A),
	G("cat /../../tmp/x", A),
	T("cat /../var/log/syslog", A),
	/* "//" and "/./" */
	T("cat /var/log//../../etc/shadow", D),
	G("cat //etc/shadow", D),
	G("cat /etc//shadow", D),
	G("cat /etc/./shadow", D),
	G("cat /./etc/././shadow", D),
	G("cat /etc/ssh//sshd_config", D),
	G("cat ///root///.bashrc", D),
	T("cat /var//log/syslog", A),
	T("cat /var/./log/./syslog", A),
	T("cat //var/log/syslog", A),
	/* trailing '/' */
	G("cat /etc/shadow/", D),
	G("cat /etc/shadow/.", D),
	G("ls /root", A),		/* /root itself is not /root/STAR */
	G("ls /root/", D),		/* ... but as written, it matches */
	G("ls /root/.ssh/", D),
	T("ls /tmp/", A),
	T("ls /tmp", A),
	T("ls /tmp//", A),
	T("ls /tmp/.", A),
	T("ls /srv/data", A),		/* the pattern word is normalised too */
	T("ls /srv/./data/", A),
	/* relative paths after cd, pushd, popd on the same line */
	G("cd /etc && cat shadow", D),
	G("cd /etc; cat ./shadow", D),
	G("cd /etc\ncat shadow", D),
	G("cd /etc || cat shadow", D),
	G("cd / && cat etc/shadow", D),
	G("cd /etc/ssh && cat sshd_config", D),
	G("cd /root && cat .ssh/id_rsa", D),
	G("pushd /etc && cat shadow", D),
	G("pushd /etc >/dev/null; cat shadow", D),
	G("popd && cat shadow", D),
	G("cd -P /etc && cat shadow", D),
	G("builtin cd /etc; cat shadow", D),
	G("command cd /etc; cat shadow", D),
	G("cd /etc && cat /tmp/x", A),	/* an absolute path stays known */
	G("cd /etc && ls -la", A),		/* options are not paths */
	G("cd /root && cat -- -x/.bashrc", D),	/* ... but a '-' word with a '/' may be */
	G("cat shadow; cd /etc", A),		/* before the cd: the login's directory */
	G("cat shadow", A),
	T("cd /var/log && cat syslog", D),	/* no allow names a relative path */
	T("cd /tmp && ls -la", A),
	T("cd /etc && cat /var/log/syslog", A),
	T("pushd /etc && cat shadow", D),
	T("cd /etc && bash -c 'cat shadow'", D),
	G("cd /etc && bash -c 'cat shadow'", D),
	G("bash -c 'cd /etc; cat shadow'", D),
	/* wrappers that run the command in another directory */
	G("env -C /etc cat shadow", D),
	G("env --chdir=/etc cat shadow", D),
	G("env --chdir /etc/ssh cat sshd_config", D),
	G("env -iC/etc cat shadow", D),
	G("sudo -D /etc cat shadow", D),
	G("sudo --chdir=/root cat .bashrc", D),
	G("sudo -i cat .ssh/id_rsa", D),
	G("sudo -i -u root cat .ssh/id_rsa", D),
	G("su - -c 'cat .ssh/id_rsa'", D),
	G("su -l root -c 'cat .bashrc'", D),
	G("chroot / cat etc/shadow", D),
	G("systemd-run cat etc/shadow", D),
	G("nsenter -t 1 -w cat shadow", D),
	G("unshare --wd=/etc cat shadow", D),
	G("find /etc -name shadow -execdir cat shadow \\;", D),
	G("env -C /etc cat /tmp/x", A),
	G("env -C /tmp ls -la", A),
	G("env -i cat notes", A),
	G("sudo -u bob cat notes", A),
	G("su -c 'cat notes'", A),
	G("find /tmp -name x -exec cat notes \\;", A),
	/* relative ".." from an unknown directory */
	G("cat ../../../../etc/shadow", D),
	G("cat ../../etc/ssh/sshd_config", D),
	G("cat x/../../../../../root/.bashrc", D),
	G("cat ../notes.txt", D),		/* could be /etc/ssh/notes.txt */
	T("cat ../../../../var/log/syslog", D),
	/* globs that could name a denied path */
	G("cat /etc/ss?/sshd_config", D),
	G("cat /etc/ss*/sshd_config", D),
	G("cat /etc/[s]sh/sshd_config", D),
	G("cat /e*/shadow", D),
	G("cat /e?c/sha*", D),
	G("cat /etc/[s]hadow", D),
	G("cat /etc/[!x]hadow", D),
	G("cat /*/shadow", D),
	G("cat /*/*/id_rsa", D),
	G("cat /r*/.ssh/id_rsa", D),
	G("cat /etc/sh[a-z]dow", D),
	G("ls /srv/secr?t/key", P),
	G("cat /etc/.?/etc/shadow", D),	/* '.?' may be '..' */
	G("cat /tmp/.*/etc/shadow", D),
	G("cat /etc/*/../shadow", D),
	G("cat /e[/]tc/shadow", A),	/* a bracket with '/' is sent quoted: the literal
					 * file /e[/]tc/shadow, as bash reads it too */
	G("cat /etc/*.conf", A),		/* cannot be /etc/shadow or /etc/ssh/... */
	G("cat /tmp/*", A),
	G("ls /var/log/*.log", A),
	T("cat /var/log/*", A),
	T("cat /var/log/*.log", A),
	T("cat /var/log/sys?og", A),
	T("cat /var/log/[s]yslog", A),
	T("cat /var/*/syslog", D),
	T("cat /var/log/.?/.?/etc/shadow", D),
	T("cat /var/log/*/../../../etc/shadow", D),
	/* shell options the line may set: globstar, nocaseglob, nullglob */
	G("shopt -s globstar; cat /etc/**/shadow", D),
	G("cat /**/shadow", D),
	G("cat /etc/**/sshd_config", D),
	G("shopt -s nocaseglob; cat /etc/SHADO?", D),
	G("cat /etc/S[S]H/sshd_config", D),
	G("systemctl restart /nothing* sshd", D),	/* nullglob: the glob may vanish */
	G("systemctl restart $EMPTY sshd", D),
	G("systemctl restart nginx", A),
	G("systemctl restart nginx sshd", A),
	T("cat /var/log/**/x", A),
	/* redirection targets are paths too */
	G("cat < /etc/shadow", D),
	G("cat < /etc//shadow", D),
	G("cat 0< /etc/./shadow", D),
	G("cat </var/log/../../etc/shadow", D),
	G("echo x > /etc/ssh/sshd_config", D),
	G("echo x >> /root/.bashrc", D),
	G("echo x >& /root/.bashrc", D),
	G("> /etc/shadow", D),
	G("cd /etc && cat < shadow", D),
	G("cat < /etc/sha*", D),
	G("cat < ~/../../etc/shadow", D),
	G("ls > /srv/secret/list", P),
	G("cat < /tmp/x", A),
	G("echo x > /tmp/out", A),
	G("ls >/dev/null 2>&1", A),
	/* '~' is some home directory */
	G("cat ~root/.ssh/id_rsa", D),
	G("cat ~/.ssh/id_rsa", D),
	G("cat ~/../../etc/shadow", D),
	G("cat ~/notes.txt", D),		/* ~ could be /root */
	G("cat ~/notes.txt ~/a/../b", D),
	T("cat ~/../../var/log/syslog", D),
	/* quoted forms are normalised too */
	G("cat \"/etc/../etc/shadow\"", D),
	G("cat '/etc/./shadow'", D),
	G("cat '/etc//shadow'", D),
	G("cat /etc/'ss'h/sshd_config", D),
	G("cat '/etc/ss?/sshd_config'", A),	/* quoted: a literal '?' */
	G("cat \"/etc/[s]hadow\"", A),
	T("cat '/var/log/../../etc/shadow'", D),
	T("cat \"/var/log/*\"", A),
	/* the command name: paths to the same program, normalised */
	G("/bin/../bin/rm x", D),
	G("/usr//bin/rm x", D),
	G("cd /bin && ./rm x", D),
	T("/usr/local/bin/./report", A),
	T("/usr/local//bin/report", A),
	T("/usr/local/bin/../bin/report", D),
	T("cd /usr/local/bin && ./report", D),
	/* what must keep working */
	T("cat /var/log/syslog", A),
	T("cat /var/log/nginx/access.log", A),
	T("tail -n 50 /var/log/syslog", A),
	T("uptime", A),
	T("cat /etc/shadow", D),
	T("cat /etc/passwd", D),
	G("cat /etc/hostname", A),
	G("cat /etc/sshd_config", A),
	G("cat /etc/ssh", A),
	G("ls /etc/ssh/", D),
	G("cat /etc/shadowx", A),
	G("cat /etc/ssh/sshd_config", D),
	G("cat /etc/shadow", D),
	G("ls -la /tmp/", A),
	G("make -C build all", D),	/* -C: its words are read as after cd (DIR-star denies catch them) */
	G("git log HEAD..main", A),
	/* paths inside words, and options that change the directory */
	G("dd if=/etc/shadow status=none", D),
	G("dd if=/etc/./shadow", D),
	G("diff --from-file=/etc/shadow x", D),
	G("curl -s file:///etc/shadow", D),
	G("curl -s FILE://localhost/etc/shadow", D),
	G("tar -C /etc -cf - shadow", D),
	G("tar --directory=/etc -cf - shadow", D),
	G("git -C /etc diff --no-index /dev/null shadow", D),
	G("dd if=/tmp/x of=/tmp/y", A),
	G("echo a=b", A),
	G("echo a/b/c", A),
	G("ls ..", D),		/* '..' from an unknown directory: anything */
	G("ls .", A),
};

static struct policy *pol;

static int
setup(void **state)
{
	(void)state;
	struct pol_diags d = { 0 };
	int r = policy_load_buffer("paths.conf", policy_text, strlen(policy_text), 0, &pol, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
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
test_rows(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pol_decision d;
		policy_decide_for(pol, rows[i].user, rows[i].target, rows[i].cmd,
		    strlen(rows[i].cmd), POL_ANYTIME, &d);
		if (d.verdict != rows[i].want) {
			fprintf(stderr, "row %zu: %s@%s '%s': want %s, got %s (%s)\n", i,
			    rows[i].user, rows[i].target, rows[i].cmd,
			    pol_verdict_name(rows[i].want), pol_verdict_name(d.verdict), d.reason);
			bad++;
		}
		pol_decision_free(&d);
	}
	fprintf(stderr, "%zu path decision rows\n", sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(bad, 0);
}

/* A denied path names the deny that matched and how the word was read, so
 * the user sees why. */
static void
test_reason(void **state)
{
	(void)state;
	struct pol_decision d;
	const char *cmd = "cat /etc//./shadow";
	policy_decide_for(pol, "dave", "dev01", cmd, strlen(cmd), POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_string_equal(d.rule, "guard");
	assert_string_equal(d.pattern, "... /etc/shadow ...");
	assert_non_null(strstr(d.reason, "('/etc//./shadow' read as '/etc/shadow')"));
	pol_decision_free(&d);
	cmd = "cd /etc && cat shadow";
	policy_decide_for(pol, "dave", "dev01", cmd, strlen(cmd), POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_non_null(strstr(d.reason, "('shadow' read as '**/shadow')"));
	pol_decision_free(&d);
	cmd = "cat /etc/ss?/sshd_config";
	policy_decide_for(pol, "dave", "dev01", cmd, strlen(cmd), POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_string_equal(d.pattern, "... /etc/ssh/* ...");
	pol_decision_free(&d);
}

struct norm_row {
	const char *in, *out;
	unsigned flags;
	const char *tail;	/* what follows the last distrusted "..", or NULL */
};

static const struct norm_row norms[] = {
	{ "/etc/shadow", "/etc/shadow", 0, NULL },
	{ "/", "/", 0, NULL },
	{ "//", "/", 0, NULL },
	{ "///etc///shadow///", "/etc/shadow", 0, NULL },
	{ "/./etc/./shadow/.", "/etc/shadow", 0, NULL },
	{ "/..", "/", 0, NULL },
	{ "/../../etc", "/etc", 0, NULL },
	{ "/var/log/../../etc/shadow", "/etc/shadow", POL_PATH_POPPED, "etc/shadow" },
	{ "/var/log/nginx/../syslog", "/var/log/syslog", POL_PATH_POPPED, "/syslog" },
	{ "/var/log/../../../../etc", "/etc", POL_PATH_POPPED, "etc" },
	{ "/a/b/../c/../d", "/a/d", POL_PATH_POPPED, "/d" },
	{ "/a/..", "/", POL_PATH_POPPED, "" },
	{ "", ".", POL_PATH_RELATIVE, NULL },
	{ ".", ".", POL_PATH_RELATIVE, NULL },
	{ "./", ".", POL_PATH_RELATIVE, NULL },
	{ "./shadow", "shadow", POL_PATH_RELATIVE, NULL },
	{ "a//b/./c/", "a/b/c", POL_PATH_RELATIVE, NULL },
	{ "a/..", ".", POL_PATH_RELATIVE | POL_PATH_POPPED, "" },
	{ "..", "..", POL_PATH_RELATIVE | POL_PATH_ABOVE, "" },
	{ "../../etc/shadow", "../../etc/shadow", POL_PATH_RELATIVE | POL_PATH_ABOVE, "/etc/shadow" },
	{ "x/../../y", "../y", POL_PATH_RELATIVE | POL_PATH_POPPED | POL_PATH_ABOVE, "/y" },
	{ "a/b/../../..", "..", POL_PATH_RELATIVE | POL_PATH_POPPED | POL_PATH_ABOVE, "" },
	{ "...", "...", POL_PATH_RELATIVE, NULL },
	{ "/a/.../b", "/a/.../b", 0, NULL },
	{ "/a/..b/.c", "/a/..b/.c", 0, NULL },
	{ "~/x/", "~/x", POL_PATH_RELATIVE, NULL },
};

static void
test_normalise(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		const struct norm_row *r = &norms[i];
		size_t len = strlen(r->in);
		char buf[64];
		unsigned f = 0xff;
		size_t tail = 99;
		size_t n = pol_path_clean(r->in, len, buf, &f, &tail);
		if (strcmp(buf, r->out) != 0 || n != strlen(r->out) || f != r->flags)
			fprintf(stderr, "norm %zu: '%s' -> '%s' flags %#x, want '%s' %#x\n", i,
			    r->in, buf, f, r->out, r->flags);
		assert_string_equal(buf, r->out);
		assert_int_equal(n, strlen(r->out));
		assert_int_equal(f, r->flags);
		assert_true(n <= (len > 0 ? len : 1));
		if (r->tail != NULL)
			assert_string_equal(buf + tail, r->tail);
		else
			assert_int_equal(tail, 0);
		char *m;
		unsigned mf;
		assert_int_equal(pol_path_normalise(r->in, len, &m, &mf), 0);
		assert_string_equal(m, r->out);
		assert_int_equal(mf, r->flags);
		free(m);
	}
	/* flags and tail are optional; NUL bytes are refused by the allocating form */
	char buf[16];
	assert_int_equal(pol_path_clean("/a/../b", 7, buf, NULL, NULL), 2);
	assert_string_equal(buf, "/b");
	char *m = (char *)1;
	assert_int_equal(pol_path_normalise("/etc\0/x", 7, &m, NULL), POL_E_INVAL);
	assert_null(m);
	assert_int_equal(pol_path_normalise(NULL, 0, &m, NULL), POL_E_INVAL);
	/* idempotent: the normal form of a normal form is itself */
	for (size_t i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
		char a[64], b[64];
		size_t n = pol_path_clean(norms[i].in, strlen(norms[i].in), a, NULL, NULL);
		pol_path_clean(a, n, b, NULL, NULL);
		assert_string_equal(a, b);
	}
}

/* A long path: no fixed buffer inside, one byte of slack is enough. */
static void
test_long_path(void **state)
{
	(void)state;
	size_t n = 100000;
	char *in = malloc(n), *out = malloc(n + 2);
	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < n; i += 2) {
		in[i] = '/';
		in[i + 1] = 'a';
	}
	size_t k = pol_path_clean(in, n, out, NULL, NULL);
	assert_int_equal(k, n);
	memcpy(in + n - 6, "/../..", 6);
	k = pol_path_clean(in, n, out, NULL, NULL);
	assert_int_equal(k, n - 10);	/* three components fewer: "/a" and two popped */
	free(in);
	free(out);
}

/*
 * Globs against pattern words, checked against brute force: for random
 * globs G (over a b / * ?) and pattern words P (over a b / *), every path
 * S of up to 7 bytes that G can expand to (component by component, as in
 * pathname expansion: a file name is never empty) is tried.  If some S, in normal form, matches P, then
 * deny "cat P" must deny "cat G" (a deny never misses); if allow "cat P"
 * allows "cat G", every such S must match P (an allow never overreaches).
 */
static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

static void
rnd_word(char *out, const char *alpha)
{
	size_t n = 1 + rnd(6), a = strlen(alpha);
	for (size_t i = 0; i < n; i++)
		out[i] = alpha[rnd((uint32_t)a)];
	out[n] = '\0';
}

static enum pol_verdict
decide_one(const char *rule, const char *cmd)
{
	char text[512];
	int n = snprintf(text, sizeof(text), "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n exec yes\n%s}\n", rule);
	struct policy *p;
	assert_int_equal(policy_load_buffer("g.conf", text, (size_t)n, 0, &p, NULL), 0);
	struct pol_decision d;
	policy_decide_for(p, "u", "t", cmd, strlen(cmd), POL_ANYTIME, &d);
	enum pol_verdict v = d.verdict;
	pol_decision_free(&d);
	policy_unref(p);
	return v;
}

/* Whether pathname expansion of G can give S: the same '/'s, each
 * component matched by fnmatch, no component of G matching an empty name. */
static bool
expands_to(const char *g, const char *s)
{
	for (;;) {
		const char *ge = strchr(g, '/'), *se = strchr(s, '/');
		size_t gl = ge ? (size_t)(ge - g) : strlen(g), sl = se ? (size_t)(se - s) : strlen(s);
		if ((ge == NULL) != (se == NULL) || (gl == 0) != (sl == 0))
			return false;
		char gc[8], sc[8];
		memcpy(gc, g, gl);
		gc[gl] = '\0';
		memcpy(sc, s, sl);
		sc[sl] = '\0';
		if (fnmatch(gc, sc, FNM_PERIOD) != 0)	/* '.?' may match ".." */
			return false;
		if (ge == NULL)
			return true;
		g = ge + 1;
		s = se + 1;
	}
}

/* Whether some path S of G matches P in normal form (any = true) or every
 * one does (any = false). */
struct brute {
	const char *galpha, *palpha;	/* letters of globs and pattern words */
	const char *salpha;		/* letters of paths */
	size_t maxlen;			/* longest path tried */
	int cases;
};

static bool
paths_of_glob(const struct brute *b, const char *g, const char *p, bool any)
{
	char np[16], s[8], ns[16];
	size_t pl = strlen(p);
	/* an allow pattern word ending in "STAR/" is kept as written */
	if (!any && pl >= 2 && p[pl - 1] == '/' && p[pl - 2] == '*')
		memcpy(np, p, pl + 1);
	else
		pol_path_clean(p, pl, np, NULL, NULL);
	size_t na = strlen(b->salpha);
	for (size_t len = 0; len <= b->maxlen; len++) {
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total *= na;
		for (size_t k = 0; k < total; k++) {
			size_t x = k;
			for (size_t i = 0; i < len; i++, x /= na)
				s[i] = b->salpha[x % na];
			s[len] = '\0';
			if (!expands_to(g, s))
				continue;
			pol_path_clean(s, len, ns, NULL, NULL);
			bool m = fnmatch(np, ns, 0) == 0;
			if (any && m)
				return true;
			if (!any && !m)
				return false;
		}
	}
	return !any;
}

static void
brute_run(const struct brute *b)
{
	int denies = 0, allows = 0, false_denies = 0;
	for (int i = 0; i < b->cases; i++) {
		char g[8], p[8], rule[96], cmd[32];
		rnd_word(g, b->galpha);
		do	/* "..." is not a path */
			rnd_word(p, b->palpha);
		while (strstr(p, "...") != NULL);
		snprintf(cmd, sizeof(cmd), "cat %s", g);
		snprintf(rule, sizeof(rule), " allow \"* ...\"\n deny \"cat %s\"\n", p);
		enum pol_verdict v = decide_one(rule, cmd);
		bool reach = paths_of_glob(b, g, p, true);
		if (reach && v != POL_DENY)
			fprintf(stderr, "deny \"cat %s\" misses \"%s\"\n", p, cmd);
		assert_false(reach && v != POL_DENY);
		denies += v == POL_DENY;
		false_denies += v == POL_DENY && !reach;
		snprintf(rule, sizeof(rule), " allow \"cat %s\"\n", p);
		v = decide_one(rule, cmd);
		bool all = paths_of_glob(b, g, p, false);
		if (v == POL_ALLOW && !all)
			fprintf(stderr, "allow \"cat %s\" overreaches on \"%s\"\n", p, cmd);
		assert_false(v == POL_ALLOW && !all);
		allows += v == POL_ALLOW;
	}
	fprintf(stderr, "%d random globs over '%s': %d denied (%d without a reachable path of "
	    "<= %zu bytes), %d allowed\n", b->cases, b->galpha, denies, false_denies, b->maxlen,
	    allows);
	assert_true(denies > b->cases / 10 && allows > b->cases / 30);	/* not trivial */
}

static void
test_glob_against_brute_force(void **state)
{
	(void)state;
	static const struct brute runs[] = {
		{ "ab/*?", "ab/*", "ab/", 7, 600 },
		{ "ab/*?..", "ab/*.", "ab/.", 6, 300 },	/* with '.' and ".." */
	};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		brute_run(&runs[r]);
}

/* A word read as "any directory" + "/x" names a file x: it does not reach
 * a denied path that merely ends in x.  A deny pattern word with ".."
 * after a '*' is widened to "*"; an allow keeps it (matching nothing). */
static void
test_any_directory(void **state)
{
	(void)state;
	static const char nginx[] = " allow \"* ...\"\n deny \"... /etc/nginx ...\"\n";
	assert_int_equal(decide_one(nginx, "cd /tmp && cat x"), POL_ALLOW);
	assert_int_equal(decide_one(nginx, "cat ~/x"), POL_ALLOW);
	assert_int_equal(decide_one(nginx, "cat ../../x"), POL_ALLOW);
	assert_int_equal(decide_one(nginx, "cd /etc && cat nginx"), POL_DENY);
	assert_int_equal(decide_one(nginx, "cat ~/../nginx"), POL_DENY);
	assert_int_equal(decide_one(nginx, "cat /etc/**/nginx"), POL_DENY);	/* globstar: no dir */
	static const char wide[] = " allow \"* ...\"\n deny \"cat /srv/*/../key\"\n";
	assert_int_equal(decide_one(wide, "cat /srv/key"), POL_DENY);
	assert_int_equal(decide_one(wide, "cat anything"), POL_DENY);
	assert_int_equal(decide_one(wide, "ls /srv/key"), POL_ALLOW);
	static const char narrow[] = " allow \"cat /srv/*/../key\"\n";
	assert_int_equal(decide_one(narrow, "cat /srv/key"), POL_DENY);
	assert_int_equal(decide_one(narrow, "cat /srv/a/../key"), POL_DENY);
}

/*
 * The real kernel on a real tree with symbolic links: a deny on
 * ROOT/c/secret must stop every word that reaches it through "..", a glob,
 * "//" or "." (links followed by more than ".." are the documented limit:
 * a link leads where it points).  Tree: a/ a/b/ c/ c/secret a/f,
 * a/l -> ../c, a/b/up -> ../.., m -> a/b.  Words are random paths from
 * ROOT, and relative paths after "cd ROOT/a &&".
 */
enum reach { REACH_NO, REACH_SECRET, REACH_LINK };

/* Where the kernel takes path e (absolute), given the physical secret. */
static enum reach
kernel_reach(const char *e, const char *secret)
{
	char q[PATH_MAX] = "", comp[PATH_MAX];
	const char *p = e;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t cl = (size_t)(end - p);
		memcpy(comp, p, cl);
		comp[cl] = '\0';
		p = end;
		if (cl == 0 || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *sl = strrchr(q, '/');
			if (sl != NULL)
				*sl = '\0';
			continue;
		}
		char cand[2 * PATH_MAX + 2];
		snprintf(cand, sizeof(cand), "%s/%s", q, comp);
		if (strlen(cand) >= sizeof(q))
			return REACH_NO;
		struct stat st;
		if (lstat(cand, &st) != 0)
			return REACH_NO;
		if (S_ISLNK(st.st_mode)) {
			/* the next real component: only ".." keeps us in scope */
			const char *n = p;
			for (;;) {
				while (*n == '/')
					n++;
				if (n[0] == '.' && (n[1] == '/' || n[1] == '\0'))
					n++;
				else
					break;
			}
			if (*n != '\0' && !(n[0] == '.' && n[1] == '.' && (n[2] == '/' || n[2] == '\0')))
				return REACH_LINK;
			if (realpath(cand, q) == NULL)
				return REACH_NO;
		} else {
			memcpy(q, cand, strlen(cand) + 1);
		}
	}
	return strcmp(q, secret) == 0 ? REACH_SECRET : REACH_NO;
}

/* Whether some expansion of the path pattern a reaches the secret (and
 * none only through a link). */
static enum reach
word_reach(const char *a, const char *secret)
{
	glob_t g;
	enum reach r = REACH_NO;
	if (strpbrk(a, "*?[") != NULL && glob(a, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			enum reach x = kernel_reach(g.gl_pathv[i], secret);
			if (x > r)
				r = x;
		}
		globfree(&g);
		return r;
	}
	return kernel_reach(a, secret);
}

static void
mkpath(const char *root, const char *rel, int kind, const char *target)
{
	char p[2 * PATH_MAX + 2];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (kind == 'd')
		assert_int_equal(mkdir(p, 0700), 0);
	else if (kind == 'l')
		assert_int_equal(symlink(target, p), 0);
	else {
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
	}
}

static void
test_symlink_tree(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/test_pol_paths.XXXXXX", root[PATH_MAX], secret[PATH_MAX + 16];
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, root));
	mkpath(root, "a", 'd', NULL);
	mkpath(root, "a/b", 'd', NULL);
	mkpath(root, "c", 'd', NULL);
	mkpath(root, "c/secret", 'f', NULL);
	mkpath(root, "a/f", 'f', NULL);
	mkpath(root, "a/l", 'l', "../c");
	mkpath(root, "a/b/up", 'l', "../..");
	mkpath(root, "m", 'l', "a/b");
	snprintf(secret, sizeof(secret), "%s/c/secret", root);
	char text[2 * PATH_MAX];
	int tl = snprintf(text, sizeof(text), "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n exec yes\n allow \"* ...\"\n"
	    " deny \"... %s ...\"\n}\n", secret);
	struct policy *p;
	assert_int_equal(policy_load_buffer("s.conf", text, (size_t)tl, 0, &p, NULL), 0);
	/* components, the useful ones more often */
	static const char *const comps[] = { "a", "b", "c", "c", "l", "l", "up", "m", ".",
		"..", "..", "..", "secret", "secret", "f", "", "s*", "se?ret", "[s]ecret", "*",
		".?" };
	int hits = 0, links = 0;
	for (int i = 0; i < 4000; i++) {
		char w[256] = "";
		size_t nc = 2 + rnd(5);
		for (size_t k = 0; k < nc; k++)
			snprintf(w + strlen(w), sizeof(w) - strlen(w), "%s%s", k ? "/" : "",
			    comps[rnd(sizeof(comps) / sizeof(comps[0]))]);
		for (int form = 0; form < 2; form++) {
			char a[PATH_MAX + 300], cmd[2 * PATH_MAX + 300];
			if (form == 0) {
				snprintf(a, sizeof(a), "%s/%s", root, w);
				snprintf(cmd, sizeof(cmd), "cat %s", a);
			} else {
				if (w[0] == '\0' || w[0] == '/')	/* relative words only */
					continue;
				snprintf(a, sizeof(a), "%s/a/%s", root, w);
				snprintf(cmd, sizeof(cmd), "cd %s/a && cat %s", root, w);
			}
			enum reach r = word_reach(a, secret);
			links += r == REACH_LINK;
			if (r != REACH_SECRET)
				continue;
			hits++;
			struct pol_decision d;
			policy_decide_for(p, "u", "t", cmd, strlen(cmd), POL_ANYTIME, &d);
			if (d.verdict != POL_DENY)
				fprintf(stderr, "'%s' reaches the secret but is %s\n", cmd,
				    pol_verdict_name(d.verdict));
			assert_int_equal(d.verdict, POL_DENY);
			pol_decision_free(&d);
		}
	}
	fprintf(stderr, "symlink tree: %d words reach the secret, all denied (%d only through "
	    "a link, not counted)\n", hits, links);
	policy_unref(p);
	static const char *const rm[] = { "a/b/up", "a/l", "m", "a/f", "c/secret", "a/b", "a",
		"c", "" };
	for (size_t k = 0; k < sizeof(rm) / sizeof(rm[0]); k++) {
		char q[PATH_MAX + 16];
		snprintf(q, sizeof(q), "%s/%s", root, rm[k]);
		assert_int_equal(remove(q), 0);
	}
	assert_true(hits > 30);	/* the random words do reach it */
}

/* check warns on DIR/STAR allow patterns (the sudoers(5) pitfall), and
 * only on allow patterns whose '*' follows a '/'; and on pattern words
 * with a '..' component. */
static void
test_lint_dir_star(void **state)
{
	(void)state;
	static const char t[] =
	    "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r {\n who *\n where *\n"
	    " allow \"cat /var/log/*\"\n"		/* line 9 */
	    " allow \"tail -n * /srv/app/*.log\"\n"	/* line 10 */
	    " allow \"ls *\"\n"			/* line 11: no '/' */
	    " allow \"ls /tmp/\"\n"			/* line 12: no '*' */
	    " deny \"... /etc/ssh/* ...\"\n"		/* line 13: a deny */
	    " allow \"echo *x/y\"\n"			/* line 14: '*' before the '/' */
	    " deny \"cat /var/log/../x\"\n"		/* line 15: '..' */
	    " allow \"ls a..b/c\"\n"			/* line 16: no '..' component */
	    "}\n"
	    "expect allow u t \"cat /var/log/syslog\"\n";
	struct policy *p;
	assert_int_equal(policy_load_buffer("l.conf", t, sizeof(t) - 1, 0, &p, NULL), 0);
	struct pol_diags d = { 0 };
	assert_true(policy_lint(p, &d) >= 2);
	int seen[20] = { 0 };
	for (size_t k = 0; k < d.n; k++)
		if (strstr(d.v[k].msg, "matches in every subdirectory") != NULL &&
		    d.v[k].line > 0 && d.v[k].line < 20)
			seen[d.v[k].line]++;
	assert_int_equal(seen[9], 1);
	assert_int_equal(seen[10], 1);
	assert_int_equal(seen[11] + seen[12] + seen[13] + seen[14] + seen[15], 0);
	int dotdot[20] = { 0 };
	for (size_t k = 0; k < d.n; k++)
		if (strstr(d.v[k].msg, "holds '..'") != NULL && d.v[k].line > 0 && d.v[k].line < 20)
			dotdot[d.v[k].line]++;
	assert_int_equal(dotdot[15], 1);
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].line == 15)
			assert_non_null(strstr(d.v[k].msg, "compared as '/var/x'"));
	assert_int_equal(dotdot[9] + dotdot[14] + dotdot[16], 0);
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].line == 10 && strstr(d.v[k].msg, "subdirectory") != NULL)
			assert_non_null(strstr(d.v[k].msg, "subdirectory of /srv/app too"));
	pol_diags_free(&d);
	policy_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_lint_dir_star),
		cmocka_unit_test(test_glob_against_brute_force),
		cmocka_unit_test(test_symlink_tree),
		cmocka_unit_test(test_any_directory),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
