/*
 * test_pol_decide: command decisions, table-driven.  Each row is a user, a
 * target, a command line as typed, and the decision an admin expects; the
 * rows are grouped by bypass class (word tricks, combination, wrappers,
 * shell state, constructs, escapes from allowed programs, forbids).
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
"user alice {\n"
"    attr citizenship CN\n"
"}\n"
"user bob {\n"
"    attr citizenship US\n"
"}\n"
"user erin {\n"
"}\n"
"user dave {\n"
"}\n"
"group technicians alice bob\n"
"group escorts erin\n"
"target web01 {\n"
"    address 10.0.0.5:22\n"
"    label env prod\n"
"}\n"
"target db01 {\n"
"    address 10.0.0.6\n"
"    label env prod\n"
"    label impact il5\n"
"}\n"
"target dev01 {\n"
"    address dev.example:2200\n"
"    label env dev\n"
"}\n"
"rule ops {\n"
"    who group:technicians\n"
"    where label:env=prod\n"
"    escort group:escorts\n"
"    shell strict\n"
"    exec yes\n"
"    allow \"systemctl status *\"\n"
"    allow \"journalctl -u * ...\"\n"
"    allow \"ls ...\"\n"
"    allow \"cat /var/log/*\"\n"
"    allow \"echo ...\"\n"
"    allow \"grep ...\"\n"
"    allow \"uptime\"\n"
"    allow \"df -h\"\n"
"    allow \"sudo systemctl ...\"\n"
"    allow \"sudo -u postgres psql -c *\"\n"
"    allow \"nice ...\"\n"
"    allow \"env ...\"\n"
"    allow \"timeout ...\"\n"
"    allow \"nohup ...\"\n"
"    allow \"xargs ...\"\n"
"    allow \"find ...\"\n"
"    allow \"bash -c *\"\n"
"    allow \"sh -c *\"\n"
"    allow \"less *\"\n"
"    allow \"git status\"\n"
"    allow \"/usr/local/bin/report\"\n"
"    approve \"systemctl restart *\"\n"
"    deny \"rm ...\"\n"
"    deny \"... /etc/shadow ...\"\n"
"    deny \"systemctl restart sshd\"\n"
"}\n"
"rule devs {\n"
"    who *\n"
"    where label:env=dev\n"
"    shell observe\n"
"    allow \"...\"\n"
"    deny \"shutdown ...\"\n"
"    construct redirect background substitution variable assignment heredoc\n"
"}\n"
"forbid cn-il5 {\n"
"    who attr:citizenship=CN\n"
"    where label:impact=il5\n"
"}\n";

struct row {
	const char *user, *target, *cmd;
	enum pol_verdict want;
};

#define A POL_ALLOW
#define D POL_DENY
#define P POL_APPROVE

static const struct row rows[] = {
	/* plain allow / approve / deny / default deny */
	{ "bob", "web01", "systemctl status nginx", A },
	{ "bob", "web01", "systemctl status", D },
	{ "bob", "web01", "systemctl status nginx sshd", D },
	{ "bob", "web01", "systemctl restart nginx", P },
	{ "bob", "web01", "systemctl restart sshd", D },
	{ "bob", "web01", "systemctl stop nginx", D },
	{ "bob", "web01", "journalctl -u nginx", A },
	{ "bob", "web01", "journalctl -u nginx --since today -n 50", A },
	{ "bob", "web01", "journalctl", D },
	{ "bob", "web01", "uptime", A },
	{ "bob", "web01", "uptime -p", D },
	{ "bob", "web01", "df -h", A },
	{ "bob", "web01", "df", D },
	{ "bob", "web01", "cat /var/log/syslog", A },
	{ "bob", "web01", "cat /var/log/nginx/access.log", A },
	{ "bob", "web01", "cat /etc/passwd", D },
	{ "bob", "web01", "cat /var/log/syslog /etc/passwd", D },
	{ "bob", "web01", "ls", A },
	{ "bob", "web01", "ls -la /tmp", A },
	{ "bob", "web01", "rm -rf /tmp/x", D },
	{ "bob", "web01", "rm", D },
	{ "bob", "web01", "vim init.py", D },
	{ "bob", "web01", "mv a b", D },
	{ "bob", "web01", "", A },
	{ "bob", "web01", "   ", A },
	{ "bob", "web01", "# just a comment", A },
	{ "bob", "web01", "uptime # and a comment", A },
	{ "bob", "web01", "uptime # ; rm -rf /", D },
	{ "bob", "web01", "uptime #; echo x", A },
	{ "bob", "web01", "echo a#b", A },
	{ "bob", "web01", "uptime # don't", A },
	/* '*' never spans words; ... spans words */
	{ "bob", "web01", "systemctl status 'nginx sshd'", A },
	{ "bob", "web01", "systemctl status nginx;", A },
	{ "bob", "web01", "echo hello world", A },
	{ "bob", "web01", "grep -r foo /var/log", A },
	{ "bob", "web01", "ls /etc/shadow", D },
	{ "bob", "web01", "grep root /etc/shadow", D },
	{ "bob", "web01", "echo /etc/shadow", D },
	/* word tricks: quoting and escaping in the command name */
	{ "bob", "web01", "\\rm -rf /tmp/x", D },
	{ "bob", "web01", "r''m -rf /tmp/x", D },
	{ "bob", "web01", "r\"\"m -rf /tmp/x", D },
	{ "bob", "web01", "'rm' -rf /tmp/x", D },
	{ "bob", "web01", "\"rm\" x", D },
	{ "bob", "web01", "r\\m x", D },
	{ "bob", "web01", "'systemctl' status nginx", A },
	{ "bob", "web01", "sys\\temctl status nginx", A },
	{ "bob", "web01", "systemctl st''atus nginx", A },
	{ "bob", "web01", "systemctl restart ssh''d", D },
	{ "bob", "web01", "systemctl restart \\sshd", D },
	{ "bob", "web01", "systemctl restart 'sshd'", D },
	/* paths to the same program */
	{ "bob", "web01", "/bin/rm -rf /tmp/x", D },
	{ "bob", "web01", "/usr/bin/rm x", D },
	{ "bob", "web01", "./rm x", D },
	{ "bob", "web01", "../../bin/rm x", D },
	{ "bob", "web01", "/bin/systemctl restart nginx", P },
	{ "bob", "web01", "/usr/bin/systemctl restart sshd", D },
	{ "bob", "web01", "/usr/bin/uptime", D },
	{ "bob", "web01", "/tmp/uptime", D },
	{ "bob", "web01", "/usr/local/bin/report", A },
	{ "bob", "web01", "report", D },
	/* globs and braces in command position */
	{ "bob", "web01", "/bin/r? x", D },
	{ "bob", "web01", "/bin/r* x", D },
	{ "bob", "web01", "r[m] x", D },
	{ "bob", "web01", "*", D },
	{ "bob", "web01", "{rm,ls} x", D },
	{ "bob", "web01", "u*time", D },
	/* globs in arguments against deny patterns */
	{ "bob", "web01", "cat /etc/shad*", D },
	{ "bob", "web01", "ls /etc/sh?dow", D },
	{ "bob", "web01", "ls /etc/[s]hadow", D },
	{ "bob", "web01", "cat /var/log/*", A },
	{ "bob", "web01", "cat /var/log/*.log", A },
	{ "bob", "web01", "cat /var/*/syslog", D },
	/* combination: lists, pipelines, newlines, background */
	{ "bob", "web01", "ls;rm x", D },
	{ "bob", "web01", "ls; rm x", D },
	{ "bob", "web01", "ls && rm x", D },
	{ "bob", "web01", "ls || rm x", D },
	{ "bob", "web01", "ls | rm x", D },
	{ "bob", "web01", "ls |& rm x", D },
	{ "bob", "web01", "ls & rm x", D },
	{ "bob", "web01", "ls\nrm x", D },
	{ "bob", "web01", "ls\n\nuptime", A },
	{ "bob", "web01", "ls && uptime", A },
	{ "bob", "web01", "ls | grep foo", A },
	{ "bob", "web01", "ls -l | grep foo | grep -v bar", A },
	{ "bob", "web01", "uptime; df -h; ls", A },
	{ "bob", "web01", "uptime; systemctl restart nginx", P },
	{ "bob", "web01", "systemctl restart nginx; rm x", D },
	{ "bob", "web01", "systemctl restart nginx && systemctl status nginx", P },
	{ "bob", "web01", "uptime &", D },
	{ "bob", "web01", "ls |", D },
	{ "bob", "web01", "ls &&", D },
	{ "bob", "web01", "| ls", D },
	{ "bob", "web01", "ls ;; ls", D },
	{ "bob", "web01", "ls\\\n; rm x", D },
	{ "bob", "web01", "ls && \\\nrm x", D },
	/* substitution, backticks, process substitution */
	{ "bob", "web01", "echo $(rm -rf /)", D },
	{ "bob", "web01", "echo `rm -rf /`", D },
	{ "bob", "web01", "echo \"$(rm x)\"", D },
	{ "bob", "web01", "echo $(uptime)", D },
	{ "bob", "web01", "$(echo rm) x", D },
	{ "bob", "web01", "`echo rm` x", D },
	{ "bob", "web01", "cat <(rm x)", D },
	{ "bob", "web01", "ls >(rm x)", D },
	{ "bob", "web01", "echo $((1+2))", D },
	{ "bob", "web01", "echo '$(rm x)'", A },
	{ "bob", "web01", "echo \\$\\(rm x\\)", A },
	{ "bob", "web01", "echo \"\\$(rm x)\"", A },
	/* redirections and here-docs */
	{ "bob", "web01", "echo x > /etc/passwd", D },
	{ "bob", "web01", "echo x >> /root/.ssh/authorized_keys", D },
	{ "bob", "web01", "ls >/tmp/out", D },
	{ "bob", "web01", "ls 2>/tmp/err", D },
	{ "bob", "web01", "ls &>/tmp/out", D },
	{ "bob", "web01", "ls >| /tmp/out", D },
	{ "bob", "web01", "grep x < /etc/shadow", D },
	{ "bob", "web01", "ls 2>&1", A },
	{ "bob", "web01", "ls >/dev/null 2>&1", A },
	{ "bob", "web01", "ls 2>/dev/null | grep x", A },
	{ "bob", "web01", "> /etc/passwd", D },
	{ "bob", "web01", "cat <<EOF\nhello\nEOF", D },
	{ "bob", "web01", "grep x <<< 'text'", D },
	{ "bob", "web01", "cat <<EOF", D },
	/* shell state: assignments, variables, functions, aliases */
	{ "bob", "web01", "PATH=/tmp uptime", D },
	{ "bob", "web01", "IFS=/ ls", D },
	{ "bob", "web01", "X=rm", D },
	{ "bob", "web01", "$X -rf /", D },
	{ "bob", "web01", "${X} x", D },
	{ "bob", "web01", "\"$X\" x", D },
	{ "bob", "web01", "ls $HOME", D },
	{ "bob", "web01", "echo ${PATH}", D },
	{ "bob", "web01", "alias ls=rm", D },
	{ "bob", "web01", "unalias -a", D },
	{ "bob", "web01", "f() { rm x; }", D },
	{ "bob", "web01", "function f { rm x; }", D },
	{ "bob", "web01", "export PATH=/tmp", D },
	{ "bob", "web01", "set -o vi", D },
	{ "bob", "web01", "shopt -s expand_aliases", D },
	{ "bob", "web01", "enable -n echo", D },
	{ "bob", "web01", "hash -p /bin/rm ls", D },
	{ "bob", "web01", "trap 'rm x' EXIT", D },
	{ "bob", "web01", "source /tmp/x.sh", D },
	{ "bob", "web01", ". /tmp/x.sh", D },
	{ "bob", "web01", "cd /tmp", D },
	/* compound commands: not understood, so denied */
	{ "bob", "web01", "(rm x)", D },
	{ "bob", "web01", "{ rm x; }", D },
	{ "bob", "web01", "if true; then rm x; fi", D },
	{ "bob", "web01", "for i in 1; do rm $i; done", D },
	{ "bob", "web01", "while true; do ls; done", D },
	{ "bob", "web01", "case x in x) rm;; esac", D },
	{ "bob", "web01", "! ls", D },
	{ "bob", "web01", "[[ -f x ]]", D },
	{ "bob", "web01", "coproc rm x", D },
	/* unterminated or odd input */
	{ "bob", "web01", "echo 'unterminated", D },
	{ "bob", "web01", "echo \"unterminated", D },
	{ "bob", "web01", "echo $'\\x72m'", D },
	{ "bob", "web01", "echo \\", D },
	{ "bob", "web01", "ls )", D },
	/* history expansion */
	{ "bob", "web01", "!!", D },
	{ "bob", "web01", "!rm", D },
	{ "bob", "web01", "echo !-1", D },
	{ "bob", "web01", "echo \"!!\"", D },
	{ "bob", "web01", "echo '!!'", A },
	{ "bob", "web01", "echo hi!", A },
	{ "bob", "web01", "^rm^ls", D },
	{ "dave", "dev01", "^shut^ls", D },
	{ "dave", "dev01", "echo ^x", A },
	/* brace expansion */
	{ "bob", "web01", "ls /etc/{passwd,shadow}", D },
	{ "bob", "web01", "echo {1..3}", D },
	{ "bob", "web01", "echo '{a,b}'", A },
	/* wrappers: looked through */
	{ "bob", "web01", "sudo systemctl status nginx", A },
	{ "bob", "web01", "sudo systemctl restart nginx", P },
	{ "bob", "web01", "sudo systemctl restart sshd", D },
	{ "bob", "web01", "sudo rm -rf /", D },
	{ "bob", "web01", "sudo -u root rm x", D },
	{ "bob", "web01", "sudo -uroot systemctl stop x", D },
	{ "bob", "web01", "sudo -- rm x", D },
	{ "bob", "web01", "sudo -i", D },
	{ "bob", "web01", "sudo -s", D },
	{ "bob", "web01", "sudo -e /etc/passwd", D },
	{ "bob", "web01", "sudoedit /etc/passwd", D },
	{ "bob", "web01", "sudo -u postgres psql -c x", D },
	{ "bob", "web01", "nice uptime", A },
	{ "bob", "web01", "nice rm x", D },
	{ "bob", "web01", "nice -n 10 rm x", D },
	{ "bob", "web01", "nice -n 10 uptime", A },
	{ "bob", "web01", "env uptime", A },
	{ "bob", "web01", "env rm x", D },
	{ "bob", "web01", "env -i PATH=/tmp rm x", D },
	{ "bob", "web01", "env -S 'rm x'", D },
	{ "bob", "web01", "env -u HOME rm x", D },
	{ "bob", "web01", "timeout 5 uptime", A },
	{ "bob", "web01", "timeout 5 rm x", D },
	{ "bob", "web01", "timeout -s KILL 5 rm x", D },
	{ "bob", "web01", "nohup rm x", D },
	{ "bob", "web01", "nohup uptime", A },
	{ "bob", "web01", "xargs rm", D },
	{ "bob", "web01", "ls | xargs rm -f", D },
	{ "bob", "web01", "ls | xargs -0 -n1 rm", D },
	/* xargs appends unknown words: a "... /etc/shadow ..." deny may match */
	{ "bob", "web01", "ls | xargs grep foo", D },
	{ "dave", "dev01", "ls | xargs grep foo", A },
	{ "dave", "dev01", "ls | xargs shutdown", D },
	{ "dave", "dev01", "ls | xargs -I{} sh -c '{}'", D },
	{ "dave", "dev01", "ls | xargs -I{} echo {}", A },
	{ "bob", "web01", "ls | xargs uptime", D },
	{ "bob", "web01", "find . -exec rm {} ;", D },
	{ "bob", "web01", "find . -exec rm {} \\;", D },
	{ "bob", "web01", "find / -name x -execdir rm {} +", D },
	{ "bob", "web01", "find . -ok rm {} \\;", D },
	{ "bob", "web01", "find . -name '*.log' -exec grep x {} \\;", D },
	{ "dave", "dev01", "find . -name '*.log' -exec grep x {} \\;", A },
	{ "dave", "dev01", "find . -exec shutdown {} \\;", D },
	{ "bob", "web01", "find . -fprint /tmp/x", D },
	{ "bob", "web01", "find . -name x", A },
	{ "bob", "web01", "bash -c 'rm -rf /'", D },
	{ "bob", "web01", "sh -c 'uptime; rm x'", D },
	{ "bob", "web01", "sh -c uptime", A },
	{ "bob", "web01", "bash -c 'ls | grep x'", A },
	{ "bob", "web01", "bash -ec 'rm x'", D },
	{ "bob", "web01", "bash -c \"$CMD\"", D },
	{ "bob", "web01", "/bin/sh -c 'rm x'", D },
	{ "bob", "web01", "sh -c 'sh -c \"rm x\"'", D },
	{ "bob", "web01", "bash", D },
	{ "bob", "web01", "bash script.sh", D },
	{ "bob", "web01", "eval rm x", D },
	{ "bob", "web01", "exec rm x", D },
	{ "bob", "web01", "command rm x", D },
	{ "bob", "web01", "builtin eval rm", D },
	{ "bob", "web01", "time rm x", D },
	{ "bob", "web01", "su -c 'rm x'", D },
	{ "bob", "web01", "watch rm x", D },
	{ "bob", "web01", "busybox rm x", D },
	{ "bob", "web01", "nice nice nice rm x", D },
	{ "bob", "web01", "sudo nice env rm x", D },
	{ "bob", "web01", "sudo nice systemctl status x", D },
	{ "dave", "dev01", "exec -a name shutdown now", D },
	{ "dave", "dev01", "ionice -c 3 shutdown", D },
	{ "dave", "dev01", "ionice -c 3 make", A },
	{ "dave", "dev01", "stdbuf -oL shutdown", D },
	{ "dave", "dev01", "stdbuf -o L make", A },
	{ "dave", "dev01", "chroot /mnt shutdown", D },
	{ "dave", "dev01", "taskset 0x1 shutdown", D },
	{ "dave", "dev01", "taskset -p 0x1 1234", A },
	{ "dave", "dev01", "chrt 5 shutdown", D },
	{ "dave", "dev01", "flock /tmp/l shutdown", D },
	{ "dave", "dev01", "flock /tmp/l -c 'shutdown now'", D },
	{ "dave", "dev01", "flock -c 'shutdown now' /tmp/l", D },
	{ "dave", "dev01", "su -c 'shutdown now' root", D },
	{ "dave", "dev01", "su - root -c shutdown", D },
	{ "dave", "dev01", "runuser -u root -- shutdown", D },
	{ "dave", "dev01", "runuser -c shutdown root", D },
	{ "dave", "dev01", "doas shutdown", D },
	{ "dave", "dev01", "doas -u root shutdown", D },
	{ "dave", "dev01", "setsid -f shutdown", D },
	{ "dave", "dev01", "watch -x shutdown", D },
	{ "dave", "dev01", "watch -n 1 'shutdown now'", D },
	{ "dave", "dev01", "watch -n 1 'uptime'", A },
	{ "dave", "dev01", "busybox sh -c shutdown", D },
	{ "dave", "dev01", "busybox shutdown", D },
	{ "dave", "dev01", "command -v shutdown", A },
	{ "dave", "dev01", "command -p shutdown", D },
	{ "dave", "dev01", "time -p shutdown", D },
	{ "dave", "dev01", "eval 'shutdown now'", D },
	{ "dave", "dev01", "eval make", D },	/* eval needs a rule naming it */
	{ "dave", "dev01", "env -i make", A },
	{ "dave", "dev01", "env --split-string='shutdown now'", D },
	{ "dave", "dev01", "sudo -- sh -c 'shutdown'", D },
	{ "dave", "dev01", "sudo -s shutdown", D },
	{ "dave", "dev01", "sudo --user=root shutdown", D },
	{ "dave", "dev01", "zsh -c shutdown", D },
	{ "dave", "dev01", "dash -c 'ls | shutdown'", D },
	{ "dave", "dev01", "bash -o posix -c shutdown", D },
	{ "dave", "dev01", "bash --norc -c 'shutdown'", D },
	{ "dave", "dev01", "sh -c", D },
	{ "dave", "dev01", "pkexec shutdown", D },
	{ "dave", "dev01", "strace -f -o /tmp/x shutdown -h now", D },
	{ "dave", "dev01", "strace -f make", A },
	{ "dave", "dev01", "nsenter -t 1 -m -u -i -n -p shutdown", D },
	{ "dave", "dev01", "unshare -r sudo shutdown", D },
	{ "dave", "dev01", "ip netns exec ns1 shutdown", D },
	{ "dave", "dev01", "systemd-run --scope shutdown", D },
	{ "dave", "dev01", "setpriv --reuid=0 sh -c 'shutdown'", D },
	{ "dave", "dev01", "sg wheel 'shutdown now'", D },
	{ "dave", "dev01", "script -q -c 'shutdown now' /dev/null", D },
	{ "dave", "dev01", "valgrind ./a.out", A },
	/* escapes from allowed programs: pagers, editors, interpreters */
	{ "bob", "web01", "less /var/log/syslog", A },
	{ "bob", "web01", "vi /etc/hosts", D },
	{ "bob", "web01", "python3 -c 'import os'", D },
	{ "bob", "web01", "perl -e 'system(1)'", D },
	{ "bob", "web01", "awk 'BEGIN{system(\"rm x\")}'", D },
	{ "bob", "web01", "git -c core.pager='rm x' log", D },
	{ "bob", "web01", "git status", A },
	{ "bob", "web01", "ssh other rm x", D },
	/* users, targets, forbids */
	{ "dave", "web01", "uptime", D },
	{ "erin", "web01", "uptime", D },
	{ "alice", "web01", "uptime", A },
	{ "alice", "db01", "uptime", D },
	{ "bob", "db01", "uptime", A },
	{ "nobody", "web01", "uptime", D },
	{ "bob", "nowhere", "uptime", D },
	/* a permissive rule still keeps its denies and constructs */
	{ "dave", "dev01", "make -j4 > build.log", A },
	{ "dave", "dev01", "shutdown -h now", D },
	{ "dave", "dev01", "sudo shutdown -h now", D },
	{ "dave", "dev01", "ls $HOME &", A },
	{ "dave", "dev01", "echo $(shutdown now)", D },
	{ "dave", "dev01", "X=1 make", A },
	{ "dave", "dev01", "$X", D },
	{ "dave", "dev01", "/sbin/shutdown -r", D },
	{ "dave", "dev01", "cat <<EOF\n$HOME\nEOF", A },
	{ "dave", "dev01", "cat <<EOF\n$(shutdown)\nEOF", D },
};

static struct policy *pol;

static int
setup(void **state)
{
	(void)state;
	struct pol_diags d = { 0 };
	int r = policy_load_buffer("test.conf", policy_text, strlen(policy_text), 0, &pol, &d);
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
	fprintf(stderr, "%zu decision rows\n", sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(bad, 0);
}

/* The decision names the rule and line that decided and cites the policy. */
static void
test_deciding_rule(void **state)
{
	(void)state;
	struct pol_decision d;
	policy_decide_for(pol, "bob", "web01", "ls; sudo /bin/rm -rf /", 22, POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_string_equal(d.rule, "ops");
	assert_int_equal(d.line, 54);
	assert_string_equal(d.pattern, "rm ...");
	assert_non_null(strstr(d.reason, "ops"));
	assert_string_equal(d.policy_hash, policy_hash(pol));
	assert_int_equal(strlen(d.policy_hash), 64);
	pol_decision_free(&d);

	policy_decide_for(pol, "bob", "web01", "rm x", 4, POL_ANYTIME, &d);
	assert_int_equal(d.line, 54);
	pol_decision_free(&d);

	policy_decide_for(pol, "bob", "web01", "vim x", 5, POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_null(d.rule);
	assert_non_null(strstr(d.reason, "no rule allows"));
	pol_decision_free(&d);

	policy_decide_for(pol, "bob", "web01", "echo 'x", 7, POL_ANYTIME, &d);
	assert_non_null(strstr(d.reason, "unparsable"));
	pol_decision_free(&d);

	policy_decide_for(pol, "alice", "db01", "uptime", 6, POL_ANYTIME, &d);
	assert_string_equal(d.rule, "cn-il5");
	assert_non_null(strstr(d.reason, "forbidden"));
	pol_decision_free(&d);
}

/* Reordering the rules and patterns never changes a decision. */
static void
test_order_independent(void **state)
{
	(void)state;
	static const char a[] =
	    "user u {\n}\ntarget t {\n address h\n}\n"
	    "rule r1 {\n who *\n where *\n allow \"rm ...\"\n approve \"rm -r *\"\n}\n"
	    "rule r2 {\n who *\n where *\n deny \"rm -rf /\"\n}\n";
	static const char b[] =
	    "rule r2 {\n who *\n where *\n deny \"rm -rf /\"\n}\n"
	    "rule r1 {\n who *\n where *\n approve \"rm -r *\"\n allow \"rm ...\"\n}\n"
	    "target t {\n address h\n}\nuser u {\n}\n";
	struct policy *pa, *pb;
	assert_int_equal(policy_load_buffer("a", a, strlen(a), 0, &pa, NULL), 0);
	assert_int_equal(policy_load_buffer("b", b, strlen(b), 0, &pb, NULL), 0);
	const char *cmds[] = { "rm x", "rm -r x", "rm -rf /", "rm -r /", "ls" };
	const enum pol_verdict want[] = { POL_ALLOW, POL_APPROVE, POL_DENY, POL_APPROVE, POL_DENY };
	for (size_t i = 0; i < 5; i++) {
		struct pol_decision x, y;
		policy_decide_for(pa, "u", "t", cmds[i], strlen(cmds[i]), POL_ANYTIME, &x);
		policy_decide_for(pb, "u", "t", cmds[i], strlen(cmds[i]), POL_ANYTIME, &y);
		assert_int_equal(x.verdict, want[i]);
		assert_int_equal(y.verdict, want[i]);
		pol_decision_free(&x);
		pol_decision_free(&y);
	}
	assert_string_not_equal(policy_hash(pa), policy_hash(pb));
	policy_unref(pa);
	policy_unref(pb);
}

/* Terminal tricks: a very long line, or thousands of commands, is refused
 * as a whole, never checked in part. */
static void
test_long_lines(void **state)
{
	(void)state;
	size_t n = POL_CMDLINE_MAX + 100;
	char *line = malloc(n);
	assert_non_null(line);
	memset(line, ' ', n);
	memcpy(line, "uptime", 6);
	memcpy(line + n - 10, "; rm -rf /", 10);
	struct pol_decision d;
	policy_decide_for(pol, "bob", "web01", line, n, POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_non_null(strstr(d.reason, "longer than"));
	pol_decision_free(&d);
	/* 5000 x "ls;" then rm: too many commands */
	size_t k = 0;
	for (int i = 0; i < 5000; i++) {
		memcpy(line + k, "ls;", 3);
		k += 3;
	}
	memcpy(line + k, "uptime", 6);
	k += 6;
	policy_decide_for(pol, "bob", "web01", line, k, POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_non_null(strstr(d.reason, "too many commands"));
	pol_decision_free(&d);
	/* a NUL byte in the middle never hides what follows */
	policy_decide_for(pol, "bob", "web01", "uptime\0; rm -rf /", 18, POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	pol_decision_free(&d);
	free(line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_deciding_rule),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_long_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
