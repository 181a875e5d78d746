/*
 * test_pol_wrap: wrappers and commands that evaluate strings as code,
 * table-driven through policy_decide_for.  Four users see the same
 * commands: `tight` has an allowlist that allows each wrapper ("env ...")
 * but not what it wraps except `uptime`, `ls` and `echo`; `loose` has the
 * deny-list policy `allow "* ..."` with `deny "rm ..."`; `appr` has
 * `approve "* ..."`; `named` has rules that name each evaluating command
 * literally.  Every wrapper form is tried with a denied inner command, an
 * allowed one, and with an option its manual page does not list.
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
#include "policy/wrap_int.h"

static const char policy_text[] =
"user tight {\n}\nuser loose {\n}\nuser appr {\n}\nuser named {\n}\n"
"target t {\n    address h\n}\n"
"rule tight {\n"
"    who user:tight\n"
"    where *\n"
"    allow \"uptime\"\n"
"    allow \"ls ...\"\n"
"    allow \"echo ...\"\n"
"    allow \"env ...\"\n"
"    allow \"xargs ...\"\n"
"    allow \"bash ...\"\n"
"    allow \"sh ...\"\n"
"    allow \"script ...\"\n"
"    allow \"sg ...\"\n"
"    allow \"su ...\"\n"
"    allow \"runuser ...\"\n"
"    allow \"watch ...\"\n"
"    allow \"find ...\"\n"
"    allow \"find . -name * -delete\"\n"
"    allow \"time ...\"\n"
"    allow \"timeout ...\"\n"
"    allow \"nice ...\"\n"
"    allow \"stdbuf ...\"\n"
"    allow \"flock ...\"\n"
"    allow \"taskset ...\"\n"
"    allow \"chroot ...\"\n"
"    allow \"doas ...\"\n"
"    allow \"sudo ...\"\n"
"    allow \"setsid ...\"\n"
"    allow \"ionice ...\"\n"
"    allow \"nohup ...\"\n"
"    allow \"chrt ...\"\n"
"    allow \"command ...\"\n"
"    deny \"rm ...\"\n"
"}\n"
"rule loose {\n"
"    who user:loose\n"
"    where *\n"
"    allow \"* ...\"\n"
"    allow \"pr* ...\"\n"
"    allow \"*/* ...\"\n"
"    deny \"rm ...\"\n"
"    construct variable\n"
"}\n"
"rule appr {\n"
"    who user:appr\n"
"    where *\n"
"    approve \"* ...\"\n"
"}\n"
"rule named {\n"
"    who user:named\n"
"    where *\n"
"    allow \"eval ...\"\n"
"    allow \"let ...\"\n"
"    allow \"printf ...\"\n"
"    allow \"test ...\"\n"
"    allow \"[ ...\"\n"
"    allow \"declare ...\"\n"
"    allow \"typeset ...\"\n"
"    allow \"local ...\"\n"
"    allow \"readonly ...\"\n"
"    allow \"export ...\"\n"
"    allow \"export PATH=/usr/bin\"\n"
"    allow \"read ...\"\n"
"    allow \"mapfile ...\"\n"
"    allow \"readarray ...\"\n"
"    allow \"unset ...\"\n"
"    allow \"source ...\"\n"
"    allow \". ...\"\n"
"    allow \"trap ...\"\n"
"    allow \"compgen ...\"\n"
"    allow \"complete ...\"\n"
"    allow \"hash ...\"\n"
"    allow \"alias ...\"\n"
"    allow \"enable ...\"\n"
"    allow \"exec ...\"\n"
"    allow \"getopts ...\"\n"
"    allow \"python3 ...\"\n"
"    allow \"perl ...\"\n"
"    allow \"ruby ...\"\n"
"    allow \"node ...\"\n"
"    allow \"php ...\"\n"
"    allow \"awk ...\"\n"
"    allow \"gawk ...\"\n"
"    allow \"sed ...\"\n"
"    allow \"lua ...\"\n"
"    allow \"tclsh ...\"\n"
"    allow \"expect ...\"\n"
"    allow \"gdb ...\"\n"
"    allow \"vim ...\"\n"
"    allow \"less ...\"\n"
"    allow \"command ...\"\n"
"    allow \"builtin ...\"\n"
"    allow \"ls ...\"\n"
"    approve \"sudo -s\"\n"
"    allow \"su - postgres\"\n"
"}\n";

struct row {
	const char *user, *cmd;
	enum pol_verdict want;
	const char *why;	/* a piece of the reason, or NULL */
};

#define A POL_ALLOW
#define D POL_DENY
#define P POL_APPROVE

static const struct row rows[] = {
	/* env: -, -i, -u, -C, NAME=VALUE; -S and --split-string denied */
	{ "tight", "env - rm x", D, "rm ..." },
	{ "tight", "env - uptime", A, NULL },
	{ "tight", "env -i rm x", D, "rm ..." },
	{ "tight", "env -i LANG=C uptime", A, NULL },
	{ "tight", "env -u HOME rm x", D, "rm ..." },
	{ "tight", "env -uHOME uptime", A, NULL },
	{ "tight", "env -C /tmp rm x", D, "rm ..." },
	{ "tight", "env --chdir=/tmp uptime", A, NULL },
	{ "tight", "env -S 'uptime'", D, "-S splits" },
	{ "tight", "env --split-string='uptime'", D, "-S splits" },
	{ "tight", "env --split='uptime'", D, "-S splits" },
	{ "tight", "env -iS 'uptime'", D, "-S splits" },
	{ "tight", "env -0 -v uptime", A, NULL },
	{ "tight", "env --bogus uptime", D, "'--bogus' is not an option" },
	{ "tight", "env -Z uptime", D, "'-Z' is not an option" },
	{ "loose", "env - rm x", D, NULL },
	/* assignments before the command: harmless names pass, names that
	 * change what runs do not */
	{ "tight", "env A=1 B=2 rm x", D, "rm ..." },
	{ "tight", "env A=1 uptime", A, NULL },
	{ "loose", "env $V=1 uptime", D, "'$V=1' is not known until it runs" },
	{ "loose", "sg $G uptime", D, "not known until it runs" },
	{ "loose", "env -u $V uptime", D, "not known until it runs" },
	{ "loose", "timeout $T uptime", D, "not known until it runs" },
	{ "loose", "env uptime $V", A, NULL },
	{ "loose", "sh -c \"$V\"", D, "not known until it runs" },
	{ "tight", "env PATH=/tmp uptime", D, "sets PATH" },
	{ "loose", "env LD_PRELOAD=/tmp/x.so ls", D, "sets LD_PRELOAD" },
	{ "loose", "env -i BASH_ENV=/tmp/x bash s.sh", D, NULL },
	{ "tight", "sudo X=1 rm x", D, "rm ..." },
	{ "tight", "sudo X=1 uptime", A, NULL },
	{ "loose", "sudo X=1 rm x", D, NULL },
	{ "loose", "sudo PAGER=sh ls", D, "sets PAGER" },
	{ "tight", "time ! X=1 rm x", D, "shell keyword 'time'" },
	{ "tight", "/usr/bin/time X=1 rm x", D, "rm ..." },
	{ "loose", "env -u X rm x", D, NULL },
	/* a glob or expansion as the wrapped command name: not known */
	{ "tight", "env /usr/bin/r[m] x", D, "not known until it runs" },
	{ "loose", "env /usr/bin/r[m] x", D, "not known until it runs" },
	{ "loose", "env /usr/bin/r? x", D, NULL },
	{ "loose", "nice /bin/r* x", D, NULL },
	{ "loose", "timeout 5 /bin/r[m] x", D, "not known until it runs" },
	/* xargs: -i -I -l -L --replace -0 -a -E */
	{ "tight", "xargs -i rm {}", D, "rm ..." },
	{ "tight", "xargs -i echo {}", A, NULL },
	{ "tight", "xargs -I{} rm {}", D, "rm ..." },
	{ "tight", "xargs -I X sh -c X", D, "not known" },
	{ "tight", "xargs -I X echo X", A, NULL },
	{ "tight", "xargs -iX sh -c X", D, "not known" },
	{ "tight", "xargs --replace sh -c {}", D, "not known" },
	{ "tight", "xargs --replace=Y sh -c Y", D, "not known" },
	{ "tight", "xargs -I{} {} x", D, "not known until it runs" },
	{ "tight", "xargs -l rm", D, "rm ..." },
	{ "tight", "xargs -l1 echo", A, NULL },
	{ "tight", "xargs -L 1 rm", D, "rm ..." },
	{ "tight", "xargs -L 1 echo", A, NULL },
	{ "tight", "xargs -0 rm", D, "rm ..." },
	{ "tight", "xargs -0 ls", A, NULL },
	{ "tight", "xargs -a list rm", D, "rm ..." },
	{ "tight", "xargs -E END rm", D, "rm ..." },
	{ "tight", "xargs -E END echo", A, NULL },
	{ "tight", "xargs -e rm", D, "rm ..." },
	{ "tight", "xargs", A, NULL },
	{ "tight", "xargs -Z echo", D, "'-Z' is not an option" },
	{ "tight", "xargs uptime", D, NULL },	/* input words appended */
	{ "loose", "xargs -I{} rm {}", D, NULL },
	/* appended input words must not supply a wrapper's command or options */
	{ "tight", "xargs env", D, "xargs appends" },
	{ "tight", "xargs env -i", D, "xargs appends" },
	{ "tight", "xargs sh", D, "xargs appends" },
	{ "tight", "xargs timeout 5", D, "xargs appends" },
	{ "tight", "xargs find .", D, "xargs appends" },
	{ "tight", "xargs watch ls", D, "xargs appends" },
	{ "tight", "xargs su -c ls", D, "xargs appends" },
	{ "tight", "xargs xargs", D, "xargs appends" },
	{ "tight", "xargs sudo -s ls", D, "xargs appends" },
	{ "tight", "xargs env ls", A, NULL },
	{ "tight", "xargs nice -n 5 ls", A, NULL },
	{ "tight", "xargs sh -c 'ls \"$@\"' sh", D, NULL },	/* $@: variable */
	{ "tight", "xargs sh -c ls sh", A, NULL },
	{ "tight", "xargs sudo -l", A, NULL },
	{ "tight", "xargs env uptime", D, "no rule allows" },	/* uptime + words */
	{ "loose", "xargs env", D, NULL },
	{ "loose", "xargs bash", D, NULL },
	/* shells: -c TEXT, -c -- TEXT, -c TEXT NAME ARGS, clusters */
	{ "tight", "bash -c -- 'rm x'", D, "rm ..." },
	{ "tight", "bash -c -- 'uptime'", A, NULL },
	{ "tight", "bash -c 'rm x' name a b", D, "rm ..." },
	{ "tight", "bash -c 'uptime' name a b", A, NULL },
	{ "tight", "sh -ec 'rm x'", D, "rm ..." },
	{ "tight", "sh -ec 'uptime; ls'", A, NULL },
	{ "tight", "sh -c -e 'rm x'", D, "rm ..." },
	{ "tight", "sh +o posix -c 'rm x'", D, "rm ..." },
	{ "tight", "bash --norc -c 'rm x'", D, "rm ..." },
	{ "tight", "bash --bogus -c 'uptime'", D, "not an option" },
	{ "tight", "bash -Z -c 'uptime'", D, "not an option" },
	{ "tight", "bash -c", D, "without a command" },
	{ "tight", "bash -s", D, "without '*' or '...'" },	/* "bash ..." is not enough */
	{ "tight", "bash", D, "starts an interactive shell" },
	{ "tight", "sudo -s", D, "without '*' or '...'" },
	{ "tight", "su", D, NULL },
	{ "named", "su - postgres", A, NULL },	/* spelled out */
	{ "named", "su - root", D, NULL },
	{ "loose", "bash", D, "starts an interactive shell" },
	{ "loose", "bash -s", D, "reads commands" },
	{ "loose", "bash -i", D, NULL },
	{ "loose", "sh -", D, NULL },
	{ "loose", "bash script.sh", A, NULL },
	{ "loose", "bash -c -- 'rm x'", D, NULL },
	/* script: -c, --command, -qc, extra operands */
	{ "tight", "script -c 'rm x'", D, "rm ..." },
	{ "tight", "script -c 'uptime'", A, NULL },
	{ "tight", "script --command 'rm x'", D, "rm ..." },
	{ "tight", "script --command=uptime", A, NULL },
	{ "tight", "script -qc 'rm x' /dev/null", D, "rm ..." },
	{ "tight", "script -qc uptime /dev/null", A, NULL },
	{ "tight", "script /dev/null -qc 'rm x'", D, "rm ..." },
	{ "tight", "script -c uptime a b", D, "one file name" },
	{ "tight", "script -Z -c uptime", D, "not an option" },
	{ "loose", "script", D, "starts an interactive shell" },
	{ "loose", "script -q /dev/null", D, NULL },
	/* sg */
	{ "tight", "sg wheel -c 'rm x'", D, "rm ..." },
	{ "tight", "sg wheel -c uptime", A, NULL },
	{ "tight", "sg wheel 'rm x'", D, "rm ..." },
	{ "tight", "sg - wheel 'uptime'", A, NULL },
	{ "tight", "sg wheel rm x", D, "one word" },
	{ "loose", "sg wheel", D, "starts an interactive shell" },
	/* su, runuser */
	{ "tight", "su -c 'rm x'", D, "rm ..." },
	{ "tight", "su -c uptime", A, NULL },
	{ "tight", "su - root -c 'rm x'", D, "rm ..." },
	{ "tight", "su root -c 'rm x'", D, "rm ..." },
	{ "tight", "su -c'rm x' root", D, "rm ..." },
	{ "tight", "su --command='rm x'", D, "rm ..." },
	{ "tight", "su --session-command 'rm x'", D, "rm ..." },
	{ "tight", "su -s /usr/bin/python3 -c x", D, "chooses the program" },
	{ "tight", "su root -- -c 'rm x'", D, "passed to the shell" },
	{ "tight", "su -Z -c uptime", D, "not an option" },
	{ "loose", "su", D, "starts an interactive shell" },
	{ "loose", "su - root", D, NULL },
	{ "tight", "runuser -u root -- rm x", D, "rm ..." },
	{ "tight", "runuser -u root -- uptime", A, NULL },
	{ "tight", "runuser -u root uptime", A, NULL },
	{ "tight", "runuser -u root ls -l", D, "write '--'" },
	{ "tight", "runuser -c 'rm x' root", D, "rm ..." },
	{ "loose", "runuser -u root -- rm x", D, NULL },
	{ "loose", "runuser -u root", D, "starts an interactive shell" },
	/* watch runs its operands through sh -c */
	{ "tight", "watch rm x", D, "rm ..." },
	{ "tight", "watch uptime", A, NULL },
	{ "tight", "watch -n 1 rm x", D, "rm ..." },
	{ "tight", "watch -n 1 'uptime; ls'", A, NULL },
	{ "tight", "watch 'uptime; rm x'", D, "rm ..." },
	{ "tight", "watch -x rm x", D, "rm ..." },
	{ "tight", "watch -d=permanent -n1 ls", A, NULL },
	{ "tight", "watch -Z uptime", D, "not an option" },
	{ "loose", "watch -n 1 rm x", D, NULL },
	/* find: the five -exec forms, writes and deletes */
	{ "tight", "find . -exec rm {} \\;", D, "rm ..." },
	{ "tight", "find . -exec ls {} \\;", A, NULL },
	{ "tight", "find . -execdir rm {} \\;", D, "rm ..." },
	{ "tight", "find . -ok rm {} \\;", D, "rm ..." },
	{ "tight", "find . -okdir rm {} \\;", D, "rm ..." },
	{ "tight", "find . -exec rm {} +", D, "rm ..." },
	{ "tight", "find . -exec ls {} +", A, NULL },
	{ "tight", "find . -exec echo + rm {} \\;", A, NULL },	/* echo runs, with "+" */
	{ "tight", "find . -exec ls {} \\; -exec rm {} \\;", D, "rm ..." },
	{ "tight", "find . -exec {} \\;", D, "not known until it runs" },
	{ "tight", "find . -exec ls", D, "without its" },
	{ "tight", "find . -delete", D, "'-delete' literally" },
	{ "tight", "find . -name x -delete", A, NULL },
	{ "tight", "find . -fprint /tmp/x", D, "writes or deletes" },
	{ "tight", "find . -fprintf /tmp/x %p", D, NULL },
	{ "tight", "find . -fls /tmp/x", D, NULL },
	{ "tight", "find . -fprint0 /tmp/x", D, NULL },
	{ "loose", "find . -delete", D, NULL },
	{ "loose", "xargs -I{} find {} -name x", D, "not known until it runs" },
	{ "loose", "find . -name *.log", D, "not known until it runs" },
	{ "loose", "find . -name '*.log'", A, NULL },
	{ "loose", "find . -exec rm {} +", D, NULL },
	{ "loose", "find . -name x", A, NULL },
	/* the time keyword is refused (bash reads "time ! CMD" and "time -p
	 * CMD" itself); the time program is a wrapper */
	{ "tight", "time rm x", D, "shell keyword 'time'" },
	{ "tight", "time ! rm x", D, "shell keyword 'time'" },
	{ "tight", "time ! uptime", D, "shell keyword 'time'" },
	{ "tight", "\\time rm x", D, "rm ..." },
	{ "tight", "/usr/bin/time -p rm x", D, "rm ..." },
	{ "tight", "\\time -f %e uptime", A, NULL },
	{ "tight", "'time' -f %e uptime", A, NULL },
	{ "tight", "/usr/bin/time -Z uptime", D, "not an option" },
	{ "loose", "time ! rm x", D, NULL },
	/* timeout, nice, stdbuf, flock, taskset, chroot, setsid, ionice, nohup, chrt */
	{ "tight", "timeout -s KILL 5 rm x", D, "rm ..." },
	{ "tight", "timeout -s KILL 5 uptime", A, NULL },
	{ "tight", "timeout --signal=KILL -k 1 5 rm x", D, "rm ..." },
	{ "tight", "timeout -Z 5 uptime", D, "not an option" },
	{ "tight", "nice -n 5 rm x", D, "rm ..." },
	{ "tight", "nice -n 5 uptime", A, NULL },
	{ "tight", "nice -5 rm x", D, "rm ..." },
	{ "tight", "nice --5 uptime", A, NULL },
	{ "tight", "nice -q uptime", D, "not an option" },
	{ "tight", "stdbuf -oL rm x", D, "rm ..." },
	{ "tight", "stdbuf -o L -e 0 uptime", A, NULL },
	{ "tight", "stdbuf -Z uptime", D, "not an option" },
	{ "tight", "flock /tmp/l rm x", D, "rm ..." },
	{ "tight", "flock /tmp/l uptime", A, NULL },
	{ "tight", "flock -n /tmp/l -c 'rm x'", D, "rm ..." },
	{ "tight", "flock /tmp/l -c uptime", A, NULL },
	{ "tight", "flock -c 'rm x' /tmp/l", D, "not an option" },
	{ "tight", "flock 9", A, NULL },
	{ "tight", "taskset -c 0 rm x", D, "rm ..." },
	{ "tight", "taskset -c 0 uptime", A, NULL },
	{ "tight", "taskset 0x1 rm x", D, "rm ..." },
	{ "tight", "taskset -p 0x1 1234", A, NULL },
	{ "tight", "chroot /srv rm x", D, "rm ..." },
	{ "tight", "chroot --userspec=a:b /srv uptime", A, NULL },
	{ "loose", "chroot /srv", D, "starts an interactive shell" },
	{ "tight", "setsid -f rm x", D, "rm ..." },
	{ "tight", "setsid -w uptime", A, NULL },
	{ "tight", "ionice -c 3 rm x", D, "rm ..." },
	{ "tight", "ionice -c3 -n7 uptime", A, NULL },
	{ "tight", "ionice -p 1234", A, NULL },
	{ "tight", "nohup rm x", D, "rm ..." },
	{ "tight", "nohup -x uptime", D, "not an option" },
	{ "tight", "chrt -r 5 rm x", D, "rm ..." },
	{ "tight", "chrt -b 0 uptime", A, NULL },
	/* sudo, doas */
	{ "tight", "sudo -u root -- rm x", D, "rm ..." },
	{ "tight", "sudo -u root -- uptime", A, NULL },
	{ "tight", "sudo --user=root -H uptime", A, NULL },
	{ "tight", "sudo -E -n rm x", D, "rm ..." },
	{ "tight", "sudo -s rm x", D, "rm ..." },
	{ "tight", "sudo -i 'uptime; ls'", A, NULL },
	{ "tight", "sudo -e /etc/hosts", D, "edits files" },
	{ "tight", "sudoedit /etc/hosts", D, "edits files" },
	{ "tight", "sudo -Z uptime", D, "not an option" },
	{ "tight", "sudo -l rm x", A, NULL },	/* lists, runs nothing */
	{ "tight", "sudo -h rm x", D, "no rule allows 'x'" },	/* -h HOST: x runs */
	{ "loose", "sudo -s", D, "starts an interactive shell" },
	{ "loose", "sudo -i", D, NULL },
	{ "loose", "sudo -u root -- rm x", D, NULL },
	{ "named", "sudo -s", P, NULL },
	{ "tight", "doas rm x", D, "rm ..." },
	{ "tight", "doas -u root uptime", A, NULL },
	{ "loose", "doas -s", D, "starts an interactive shell" },
	/* wrappers inside wrappers */
	{ "tight", "sudo nice env -i timeout 5 rm x", D, "rm ..." },
	{ "tight", "sudo nice env -i timeout 5 uptime", A, NULL },
	{ "tight", "env sh -c 'xargs -I{} sh -c {}'", D, NULL },
	{ "loose", "command eval ls", D, "evaluates" },
	{ "loose", "builtin eval ls", D, "evaluates" },
	{ "named", "command eval ls", A, NULL },
	{ "loose", "env awk 1", D, "evaluates" },
	{ "loose", "sudo python3 -c 1", D, "evaluates" },

	/* evaluating builtins: denied under "* ...", allowed by a literal rule */
	{ "loose", "eval ls", D, "'eval' evaluates its arguments as code; a rule must name it literally" },
	{ "named", "eval ls", A, NULL },
	{ "named", "eval rm x", D, "no rule allows 'rm x'" },	/* the text is checked too */
	{ "named", "eval 'ls;' rm x", D, "no rule allows" },
	{ "appr", "eval ls", D, "evaluates" },
	{ "loose", "let 'a[0]=1'", D, "evaluates" },
	{ "named", "let 'a[0]=1'", A, NULL },
	{ "loose", "printf -v 'a[0]' x", D, "evaluates" },
	{ "named", "printf -v 'a[0]' x", A, NULL },
	{ "loose", "printf '%s\\n' x", A, NULL },
	{ "loose", "test -v 'a[0]'", D, "evaluates" },
	{ "named", "test -v 'a[0]'", A, NULL },
	{ "loose", "[ -v 'a[0]' ]", D, "evaluates" },
	{ "loose", "[ 1 -eq 1 -a -v x ]", D, NULL },
	{ "named", "[ -v x ]", A, NULL },
	{ "loose", "[ -f x ]", A, NULL },
	{ "loose", "declare -i n", D, "evaluates" },
	{ "loose", "declare -a arr", D, NULL },
	{ "loose", "declare -A m", D, NULL },
	{ "loose", "declare 'a[0]=1'", D, NULL },
	{ "named", "declare -i n", A, NULL },
	{ "loose", "declare -p", A, NULL },
	{ "loose", "typeset -i n", D, NULL },
	{ "loose", "local -a x", D, NULL },
	{ "loose", "readonly -a x", D, NULL },
	{ "loose", "export 'a[0]'", D, NULL },
	{ "named", "export 'a[0]'", A, NULL },
	{ "loose", "read 'a[0]'", D, "evaluates" },
	{ "loose", "read -r x 'a[$i]'", D, NULL },
	{ "named", "read 'a[0]'", A, NULL },
	{ "loose", "read -r line", A, NULL },
	{ "loose", "getopts ab 'a[0]'", D, NULL },
	{ "loose", "mapfile -C cb x", D, "evaluates" },
	{ "loose", "readarray -C cb -c 1 x", D, NULL },
	{ "named", "mapfile -C cb x", A, NULL },
	{ "loose", "mapfile -t lines", A, NULL },
	{ "loose", "unset 'a[0]'", D, "evaluates" },
	{ "named", "unset 'a[0]'", A, NULL },
	{ "loose", "unset x", A, NULL },
	/* variables the shell runs or searches with */
	{ "loose", "export PROMPT_COMMAND=ls", D, "changes what runs" },
	{ "loose", "declare PS1='$(ls)'", D, NULL },
	{ "loose", "typeset -x PATH=/tmp", D, NULL },
	{ "loose", "read IFS", D, NULL },
	{ "loose", "readonly BASH_ENV", D, NULL },
	{ "loose", "export EDITOR_FONT=x", A, NULL },
	{ "named", "export PATH=/usr/bin", A, NULL },	/* a pattern names the word */
	/* a builtin named with "..." may not set a variable that changes
	 * what runs: the pattern must name that word too */
	{ "named", "export PATH=/tmp", D, "'export' sets PATH=/tmp, which changes what runs" },
	{ "named", "printf -v PATH %s /tmp", D, "'printf' sets PATH" },
	{ "named", "read IFS", D, "'read' sets IFS" },
	{ "named", "read -r -a BASH_ENV", D, NULL },
	{ "named", "mapfile PATH", D, NULL },
	{ "named", "unset LESSSECURE", D, "'unset' sets LESSSECURE" },
	{ "named", "declare -x LD_PRELOAD=/tmp/x.so", D, NULL },
	{ "named", "readonly PS4=x", D, NULL },
	{ "named", "export LANG=C", A, NULL },
	{ "named", "declare -n x=PATH", D, "changes what runs" },
	{ "named", "printf -v x %s y", A, NULL },
	{ "loose", "source /tmp/x.sh", D, "evaluates" },
	{ "named", "source /tmp/x.sh", A, NULL },
	{ "loose", ". /tmp/x.sh", D, "evaluates" },
	{ "named", ". /tmp/x.sh", A, NULL },
	{ "loose", "trap 'ls' EXIT", D, "evaluates" },
	{ "named", "trap 'ls' EXIT", A, NULL },
	{ "named", "trap 'rm x' EXIT", D, "no rule allows 'rm x'" },
	{ "named", "trap -- 'ls; rm x' INT", D, "no rule allows" },
	{ "named", "trap - INT", A, NULL },
	{ "loose", "trap -p", A, NULL },
	{ "loose", "compgen -C ls x", D, "evaluates" },
	{ "loose", "compgen -F f x", D, NULL },
	{ "loose", "compgen -W x y", D, NULL },
	{ "named", "compgen -C ls x", A, NULL },
	{ "loose", "compgen -c", A, NULL },
	{ "loose", "complete -F f ls", D, "evaluates" },
	{ "named", "complete -F f ls", A, NULL },
	{ "loose", "hash -p /bin/rm ls", D, "redefines" },
	{ "named", "hash -p /bin/rm ls", A, NULL },
	{ "loose", "hash -r", A, NULL },
	{ "loose", "alias ls=rm", D, "redefines" },
	{ "named", "alias ls=rm", A, NULL },
	{ "loose", "enable -n echo", D, "changes builtins" },
	{ "named", "enable -n echo", A, NULL },
	{ "loose", "exec ls", D, "replaces the shell" },
	{ "named", "exec ls", A, NULL },
	{ "loose", "fc -s", D, NULL },
	{ "loose", "bind -x '\"\\C-a\": ls'", D, NULL },
	{ "loose", "coproc ls", D, NULL },
	{ "loose", "(( 1 ))", D, NULL },
	{ "loose", "[[ -v x ]]", D, NULL },
	/* an expanded argument may become an evaluating form */
	{ "loose", "python3 $X", D, "evaluates" },
	{ "loose", "test \"$a\" \"$b\"", D, "evaluates" },
	{ "loose", "sed $S f", D, NULL },
	{ "loose", "printf $F x", D, NULL },
	{ "loose", "printf '%s\\n' \"$x\"", A, NULL },
	{ "loose", "ls $X", A, NULL },
	/* pattern words with '*' never name a command */
	{ "loose", "printf -v x y", D, "evaluates" },
	{ "loose", "/usr/bin/awk 1", D, "evaluates" },

	/* interpreters with inline code */
	{ "loose", "python3 -c 'import os'", D, "evaluates" },
	{ "named", "python3 -c 'import os'", A, NULL },
	{ "loose", "python3 -W ignore -c 1", D, NULL },
	{ "loose", "python3 -Ic 1", D, NULL },
	{ "loose", "python3 -m timeit 1", D, NULL },
	{ "loose", "python3", D, NULL },
	{ "loose", "python3 script.py -c x", D, "can run other commands" },
	{ "named", "python3 script.py -c x", A, NULL },
	{ "loose", "python3.11 -c 1", D, NULL },
	{ "loose", "perl -e 'system(1)'", D, "evaluates" },
	{ "loose", "perl -lne 1 f", D, NULL },
	{ "loose", "perl -MPOSIX script.pl", D, NULL },
	{ "named", "perl -e 1", A, NULL },
	{ "loose", "perl script.pl", D, "perl can run other commands; a rule must name it" },
	{ "named", "perl script.pl", A, NULL },
	{ "loose", "ruby -e 1", D, "evaluates" },
	{ "named", "ruby -e 1", A, NULL },
	{ "loose", "node -e 1", D, "evaluates" },
	{ "loose", "node -p 1", D, NULL },
	{ "loose", "node --eval=1", D, NULL },
	{ "named", "node -e 1", A, NULL },
	{ "loose", "node app.js", D, "can run other commands" },
	{ "named", "node app.js", A, NULL },
	{ "loose", "php -r 1", D, "evaluates" },
	{ "named", "php -r 1", A, NULL },
	{ "loose", "awk '{print}' f", D, "evaluates" },
	{ "loose", "gawk -f prog.awk f", D, NULL },
	{ "loose", "mawk 1", D, NULL },
	{ "named", "awk '{print}' f", A, NULL },
	{ "loose", "lua -e 1", D, "evaluates" },
	{ "named", "lua -e 1", A, NULL },
	{ "loose", "tclsh", D, NULL },
	{ "named", "tclsh x.tcl", A, NULL },
	{ "loose", "expect -c 'spawn sh'", D, NULL },
	{ "named", "expect -c 'spawn ls'", A, NULL },
	{ "loose", "gdb -ex r ./a.out", D, NULL },
	{ "named", "gdb -ex r ./a.out", A, NULL },
	{ "loose", "vim -c '!sh' f", D, "evaluates" },
	{ "loose", "vim '+!sh' f", D, NULL },
	{ "loose", "vim --cmd x f", D, NULL },
	{ "loose", "vim +10 f", D, "vim can run other commands; a rule must name it to allow it" },
	{ "named", "vim +10 f", A, NULL },
	{ "named", "vim -c '!ls' f", A, NULL },
	{ "loose", "less '+!sh' f", D, "evaluates" },
	{ "loose", "less '+|ls' f", D, NULL },
	{ "loose", "less +10 f", D, "less: ! runs a shell" },
	{ "named", "less +10 f", A, NULL },
	{ "loose", "less +G f", D, NULL },
	{ "named", "less +G f", A, NULL },
	{ "loose", "less +/error f", D, NULL },
	{ "named", "less +/error f", A, NULL },
	{ "named", "less '+!ls' f", A, NULL },
	/* ssh and its kin run local programs named in options */
	{ "loose", "ssh -o ProxyCommand='sh -c x' h", D, "runs a program" },
	{ "loose", "ssh -oproxycommand=x h", D, NULL },
	{ "loose", "ssh -F /tmp/cfg h", D, NULL },
	{ "loose", "scp -S /tmp/prog a h:b", D, NULL },
	{ "loose", "sftp -D /tmp/prog h", D, NULL },
	{ "loose", "ssh -o StrictHostKeyChecking=no -p 22 h", D, "can run other commands" },
	{ "loose", "ssh -S /tmp/ctl h", D, NULL },
	{ "loose", "newgrp wheel", D, "starts a shell" },
	/* programs that take over the screen and run commands: only where a
	 * rule names them, also inside wrappers and under `approve "* ..."` */
	{ "loose", "less f", D, "less can run other commands; a rule must name it to allow it" },
	{ "loose", "/usr/bin/vim f", D, "vim can run other commands" },
	{ "loose", "man ls", D, "man can run other commands" },
	{ "loose", "python3.11 x.py", D, "python3.11 can run other commands" },
	{ "loose", "emacs f", D, NULL },
	{ "loose", "nano f", D, NULL },
	{ "loose", "tmux", D, NULL },
	{ "loose", "psql -h db", D, NULL },
	{ "loose", "ftp h", D, NULL },
	{ "loose", "nice -n 5 vim f", D, "vim can run other commands" },
	{ "loose", "sudo less /var/log/syslog", D, "less can run other commands" },
	{ "loose", "env TERM=xterm less f", D, "less can run other commands" },
	{ "appr", "less f", D, "less can run other commands" },
	{ "appr", "sudo -u ops vim f", D, "vim can run other commands" },
	{ "tight", "sudo less f", D, "no rule allows 'less f'" },
	{ "tight", "nice vim f", D, "no rule allows" },
	{ "named", "less f", A, NULL },
	{ "named", "less -N f", A, NULL },
	{ "named", "vim /etc/hosts", A, NULL },
	/* the switches that keep pagers of allowed commands from shelling out */
	{ "loose", "env LESSSECURE=0 systemctl status x", D, "sets LESSSECURE" },
	{ "loose", "env SYSTEMD_PAGERSECURE=0 journalctl", D, "sets SYSTEMD_PAGERSECURE" },
	{ "loose", "export LESSSECURE=", D, NULL },
	{ "loose", "unset LESSSECURE", D, NULL },
	{ "loose", "env LESS=-R journalctl", D, "sets LESS" },
	{ "loose", "env LESSHISTFILE=- journalctl", A, NULL },
	/* names that only start like one */
	{ "loose", "lessecho x", A, NULL },
	{ "loose", "vim2html f", A, NULL },
	{ "loose", "manpath", A, NULL },
	/* sed: the e and w commands and flags, -i, -f */
	{ "loose", "sed 's/a/b/e' f", D, "may execute or write files" },
	{ "loose", "sed 's/a/b/w /tmp/x' f", D, NULL },
	{ "loose", "sed 'w /tmp/x' f", D, NULL },
	{ "loose", "sed '1e ls' f", D, NULL },
	{ "loose", "sed -n '/x/{p;e ls\n}' f", D, NULL },
	{ "loose", "sed -i 's/a/b/' f", D, NULL },
	{ "loose", "sed -f prog.sed f", D, NULL },
	{ "loose", "sed -e 's/a/b/' -e 'e ls' f", D, NULL },
	{ "loose", "sed --expression='1w x' f", D, NULL },
	{ "named", "sed 's/a/b/e' f", A, NULL },
	{ "loose", "sed 's/a/b/g' f", A, NULL },
	{ "loose", "sed --i 's/a/b/' f", D, NULL },	/* --in-place abbreviated */
	{ "loose", "ex f", D, NULL },
	{ "loose", "sed -n '1,5p' f", A, NULL },
	{ "loose", "sed -E 's|/x|/y|2; /^#/d; y/abc/xyz/' f", A, NULL },
	{ "loose", "sed '/start/,/end/{s/e/E/g;p}' f", A, NULL },
	{ "loose", "sed -e 's/a/b/' -e '$d' f", A, NULL },
	{ "loose", "sed 's/w/e/' f", A, NULL },
	{ "loose", "sed 'a\\\nappended' f", A, NULL },
};

static struct policy *pol;

static int
setup(void **state)
{
	(void)state;
	struct pol_diags d = { 0 };
	int r = policy_load_buffer("wrap.conf", policy_text, strlen(policy_text), 0, &pol, &d);
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
		policy_decide_for(pol, rows[i].user, "t", rows[i].cmd, strlen(rows[i].cmd),
		    POL_ANYTIME, &d);
		bool ok = d.verdict == rows[i].want;
		if (ok && rows[i].why != NULL && strstr(d.reason, rows[i].why) == NULL)
			ok = false;
		if (!ok) {
			fprintf(stderr, "row %zu: %s '%s': want %s%s%s, got %s (%s)\n", i,
			    rows[i].user, rows[i].cmd, pol_verdict_name(rows[i].want),
			    rows[i].why ? " with " : "", rows[i].why ? rows[i].why : "",
			    pol_verdict_name(d.verdict), d.reason);
			bad++;
		}
		pol_decision_free(&d);
	}
	fprintf(stderr, "%zu wrapper and evaluation rows\n", sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(bad, 0);
}

/* The models are found by bsearch: each list must stay sorted, and every
 * option string must be well formed (letters, ':' after a letter). */
static void
test_table_sorted(void **state)
{
	(void)state;
	size_t n = pol__wrap_model_count();
	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		const struct wrap_model *m = pol__wrap_model_at(i);
		assert_non_null(pol__wrap_model_find(m->name, strlen(m->name)));
		assert_ptr_equal(pol__wrap_model_find(m->name, strlen(m->name)), m);
		const char *os = m->optstring;
		if (os == NULL)
			continue;
		if (*os == '+')
			os++;
		for (size_t j = 0; os[j]; j++)
			if (os[j] == ':')
				assert_true(j > 0);
	}
	assert_null(pol__wrap_model_find("cat", 3));
	assert_true(pol__wrap_eval_table_sorted());
}

/* The table of programs that take over the screen: sorted, each entry
 * found by its name, with a kind and a reason; versions only where said. */
static void
test_screenprog_table(void **state)
{
	(void)state;
	assert_true(pol__screenprog_table_sorted());
	size_t n = pol__screenprog_count();
	assert_true(n > 30);
	for (size_t i = 0; i < n; i++) {
		const struct screenprog *e = pol__screenprog_at(i);
		assert_non_null(e);
		assert_ptr_equal(pol__screenprog_find(e->name, strlen(e->name)), e);
		assert_true(e->kind[0] != '\0' && e->reason[0] != '\0');
		char v[64];
		snprintf(v, sizeof(v), "%s3.11", e->name);
		assert_true((pol__screenprog_find(v, strlen(v)) == e) == e->versioned);
	}
	assert_null(pol__screenprog_at(n));
	static const char *const listed[] = { "vi", "vim", "nvim", "view", "ex", "emacs", "nano",
		"ed", "less", "more", "most", "man", "python3", "perl", "ruby", "irb", "node", "lua",
		"php", "tclsh", "wish", "gdb", "ftp", "sftp", "ssh", "telnet", "screen", "tmux",
		"script", "awk", "gawk", NULL };
	for (size_t i = 0; listed[i]; i++)
		assert_non_null(pol__screenprog_find(listed[i], strlen(listed[i])));
	static const char *const not_listed[] = { "cat", "lessecho", "vim2html", "python-config",
		"perlbug-x", "manpath", "sshd", "top", "", NULL };
	for (size_t i = 0; not_listed[i]; i++)
		assert_null(pol__screenprog_find(not_listed[i], strlen(not_listed[i])));
}

/* The deciding check names the wrapper and the option it did not know. */
static void
test_unknown_option_reason(void **state)
{
	(void)state;
	struct pol_decision d;
	const char *cmd = "timeout --frobnicate 5 uptime";
	policy_decide_for(pol, "tight", "t", cmd, strlen(cmd), POL_ANYTIME, &d);
	assert_int_equal(d.verdict, POL_DENY);
	assert_non_null(strstr(d.reason, "timeout"));
	assert_non_null(strstr(d.reason, "'--frobnicate' is not an option it knows"));
	pol_decision_free(&d);
}

/* The lint helper for `check`: glob first words that cannot reach the
 * evaluating commands they seem to cover. */
static void
test_lint_pattern(void **state)
{
	(void)state;
	int warned = 0, quiet = 0;
	for (size_t i = 0; i < pol->nrules; i++) {
		const struct pol_rule *r = pol->rules[i];
		for (size_t k = 0; k < r->npats; k++) {
			char msg[400] = "";
			int got = pol__wrap_lint_pattern(&r->pats[k], msg, sizeof(msg));
			const char *t = r->pats[k].text;
			if (strcmp(t, "* ...") == 0) {
				assert_int_equal(got, 1);
				assert_non_null(strstr(msg, "(eval, "));
				assert_non_null(strstr(msg, "name them literally"));
				warned++;
			} else if (strcmp(t, "pr* ...") == 0) {
				assert_int_equal(got, 1);
				assert_non_null(strstr(msg, "(printf"));
				assert_null(strstr(msg, "(eval"));
				warned++;
			} else if (strcmp(t, "eval ...") == 0 || strcmp(t, "uptime") == 0 ||
			    strcmp(t, "rm ...") == 0) {
				assert_int_equal(got, 0);
				quiet++;
			}
		}
	}
	assert_int_equal(warned, 3);	/* loose "* ...", loose "pr* ...", appr "* ..." */
	assert_true(quiet >= 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_table_sorted),
		cmocka_unit_test(test_screenprog_table),
		cmocka_unit_test(test_unknown_option_reason),
		cmocka_unit_test(test_lint_pattern),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
