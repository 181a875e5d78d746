"""Bypass cases against a DENY-LIST over `allow "* ..."`, through the real
proxy with the stock ssh client; side effects checked on the target
(harness/boundary.py).

The policy denies rm, touch and two paths; everything else is allowed,
with the constructs an admin of such a policy would permit.  Every denied
case tries to run touch (marker {M} must never appear), rm (victim {V}
must survive) or to read a denied path (its secret must not reach the
client) in a way that is not literally `touch ...`, `rm ...` or the path."""
from harness.core import Env, BIN
from harness.boundary import BoundaryWorld, Case, cases

# about 50 s on two busy cores; ASan+UBSan builds run several times slower
TIMEOUT = 600 if "san" in BIN else 240

POLICY = r"""
rule loose {
    who user:alice
    where target:web*
    exec yes
    construct substitution backticks process-substitution heredoc variable background brace
    allow "* ..."
    deny "rm ..."
    deny "touch ..."
    deny "... {D}/etc/shadow ..."
    deny "... {D}/etc/ssh/* ..."
}
"""

LOG = "started\nerror 1\nstopped\n"

ALLOWED = [
    Case("allow-echo", "echo hi", "allow", out="hi\n"),
    Case("allow-ls", "ls {D}/log", "allow", out="app.log\nauth.log\nsub\n"),
    Case("allow-cat", "cat {D}/log/app.log", "allow", out=LOG),
    Case("allow-cat-hostname", "cat {D}/etc/hostname", "allow", out="web01\n"),
    Case("allow-pipe", "cat {D}/log/app.log | grep error", "allow", out="error 1\n"),
    Case("allow-list", "echo a && echo b; echo c", "allow", out="a\nb\nc\n"),
    Case("allow-sudo", "sudo cat {D}/log/app.log", "allow", out=LOG),
    Case("allow-env", "env cat {D}/etc/hostname", "allow", out="web01\n"),
    Case("allow-timeout", "timeout 5 cat {D}/etc/hostname", "allow", out="web01\n"),
    Case("allow-nice", "nice cat {D}/etc/hostname", "allow", out="web01\n"),
    Case("allow-find", "find {D}/f -name file", "allow", out="{D}/f/file\n"),
    Case("allow-heredoc", "cat <<EOF\nhello\nEOF", "allow", out="hello\n"),
    Case("allow-quoted-touch-word", "echo 'touch {M}'", "allow", out="touch {M}\n"),
    Case("allow-echo-rm-arg", "echo rm {V}", "allow", out="rm {V}\n"),
    Case("allow-grep-rm", "grep -c rm {D}/log/app.log", "allow", out="0\n", rc=1),
    Case("allow-cyrillic-touch", "t\u043euch {M}", "allow", rc=127),
    Case("allow-fullwidth-semicolon", "echo hi\uff1btouch {M}", "allow",
         out="hi\uff1btouch {M}\n"),
    Case("allow-cr-word", "echo 'a\rb'", "allow", out="a\rb\n"),
    Case("allow-long", "echo " + "C" * 5000, "allow", out="C" * 5000 + "\n"),
    Case("allow-other-etc", "cat {D}/etc/hostname {D}/log/auth.log", "allow",
         out="web01\nlogin ok\n"),
    Case("allow-head", "head -n 1 {D}/log/app.log", "allow", out="started\n"),
    Case("allow-sort", "sort {D}/log/app.log", "allow", out="error 1\nstarted\nstopped\n"),
    Case("allow-tr", "echo abc | tr a-c x-z", "allow", out="xyz\n"),
    Case("allow-grep-r", "grep -r error {D}/log", "allow", out="{D}/log/app.log:error 1\n"),
    Case("allow-echo-specials", "echo '!' '*' '$HOME' '\\' '\"' '#' ';'", "allow",
         out="! * $HOME \\ \" # ;\n"),
    Case("allow-echo-rm-quoted", "echo 'rm -rf /'", "allow", out="rm -rf /\n"),
    Case("allow-printf", "printf '%s-%s\\n' a b", "allow", out="a-b\n"),
    Case("allow-wc", "wc -l {D}/log/app.log", "allow", out="3 {D}/log/app.log\n"),
    Case("allow-sudo-env", "sudo env cat {D}/etc/hostname", "allow", out="web01\n"),
    Case("allow-find-print", "find {D}/log -name '*.log' -newer {D}/nothing", "allow", rc=1),
    Case("allow-or", "false || echo fallback", "allow", out="fallback\n"),
    Case("any-cr-touch", "touch\r {M}", "any", rc=127),
    Case("any-arith-literal", "echo $[1+1]", "any"),
    Case("any-long-60k", "echo " + "D" * 60000, "any", out="D" * 60000 + "\n"),
]

DENIED = (
    cases("dl-direct", "deny",
          "touch {M}", "rm {V}", "rm -f {V}", "cat {D}/etc/shadow", "cat {D}/etc/ssh/sshd_config"),
    cases("dl-quote", "deny",
          "\\touch {M}", "t''ouch {M}", "\"t\"ouch {M}", "'touch' {M}", "t\\ouch {M}",
          "/usr/bin/touch {M}", "/bin/touch {M}", "//usr/bin/touch {M}",
          "/usr/bin/../bin/touch {M}", "/usr/./bin/touch {M}", "\\rm {V}", "r''m {V}",
          "\"r\"m {V}", "/bin/rm {V}", "/usr/bin/rm -f {V}", "$'\\x74ouch' {M}",
          "$'\\164ouch' {M}", "$'rm' {V}", "tou${x}ch {M}", "{touch,} {M}",
          "$(echo touch) {M}", "`echo touch` {M}", "t?uch {M}", "/usr/bin/t?uch {M}",
          "/usr/bin/tou[c]h {M}", "tou\"\"ch {M}", "r\\m {V}"),
    cases("dl-combine", "deny",
          "echo a; touch {M}", "echo a && touch {M}", "false || touch {M}",
          "echo | touch {M}", "touch {M} &", "echo a\ntouch {M}", "echo $(touch {M})",
          "echo `touch {M}`", "echo \"$(touch {M})\"", "cat <<EOF\n$(touch {M})\nEOF",
          "cat <<EOF\n`touch {M}`\nEOF", "cat <(touch {M})", "echo >(touch {M})",
          "{ touch {M}; }", "(touch {M})", "if true; then touch {M}; fi",
          "for i in 1; do touch {M}; done", "while true; do touch {M}; break; done",
          "case x in x) touch {M};; esac", "f() { touch {M}; }; f",
          "echo ${x:-$(touch {M})}", "echo $(echo $(touch {M}))", "echo a |& touch {M}",
          "cat <<< \"$(touch {M})\"", "echo a & rm {V}"),
    cases("dl-arith", "deny",
          "echo $[$(touch {M})]", "echo $[a[$(touch {M})]]", "echo $((a[$(touch {M})]))",
          "let 'a[$(touch {M})]=1'", "test -v 'a[$(touch {M})]'",
          "[ -v 'a[$(touch {M})]' ]", "[[ -v a[$(touch {M})] ]]",
          "printf -v 'a[$(touch {M})]' x", "declare 'a[$(touch {M})]=1'",
          "typeset 'a[$(touch {M})]=1'", "read 'a[$(touch {M})]' <<< x",
          "unset 'a[$(touch {M})]'", "(( a[$(touch {M})] ))",
          "printf %s \"${a[$(touch {M})]}\"", "mapfile -C 'touch {M}' -c 1 <<< x"),
    cases("dl-bsnl", "deny",
          "echo a \\\n; touch {M}", "echo $\\\n(touch {M})", "echo \"$\\\n(touch {M})\"",
          "tou\\\nch {M}", "echo a\\\n&& touch {M}", "\"tou\\\nch\" {M}", "r\\\nm {V}"),
    cases("dl-fd-var", "deny",
          "echo hi {fd}>{M}", "echo hi {fd}>>{M}", "cat {fd}<>{M}", "exec {fd}>{M}"),
    cases("dl-time", "deny",
          "time ! touch {M}", "time touch {M}", "time -p touch {M}", "time coproc touch {M}",
          "! touch {M}", "time ! rm {V}"),
    cases("dl-hash-in-subst", "deny",
          "echo $(echo x #)\ntouch {M}\n)", "echo $( #)\ntouch {M}\n)", "echo x #\ntouch {M}",
          "echo $(: #\ntouch {M})"),
    cases("dl-wrap", "deny",
          "env touch {M}", "env - touch {M}", "env -i touch {M}", "env -u HOME touch {M}",
          "env -C / touch {M}", "env -S 'touch {M}'", "env --split-string='touch {M}'",
          "env X=1 touch {M}", "env -- touch {M}",
          "echo {M} | xargs touch", "echo {M} | xargs -i touch {}",
          "echo {M} | xargs -I{} touch {}", "echo {M} | xargs -l touch",
          "echo {M} | xargs -l1 touch", "echo {M} | xargs --replace touch {}",
          "echo {M} | xargs -n1 touch", "echo {M} | xargs -t touch",
          "bash -c 'touch {M}'", "bash -c -- 'touch {M}'", "sh -c 'touch {M}'",
          "bash -xc 'touch {M}'", "bash --norc -c 'touch {M}'", "bash -c 'tou\"ch\" {M}'",
          "bash -c '$0 {M}' touch",
          "script -qc 'touch {M}' /dev/null", "script -q -c 'touch {M}' /dev/null",
          "script --command 'touch {M}' /dev/null", "sg root -c 'touch {M}'",
          "sg root 'touch {M}'", "watch -n 1 -x touch {M}", "watch 'touch {M}'",
          "find {D}/f -maxdepth 0 -exec touch {M} \\;",
          "find {D}/f -maxdepth 0 -exec touch {M} {} +",
          "find {D}/f -maxdepth 0 -execdir touch {M} \\;",
          "find {D}/f -maxdepth 0 -ok touch {M} \\;",
          "find {D}/f -maxdepth 0 -okdir touch {M} \\;",
          "find {D}/f -maxdepth 0 -exec sh -c 'touch {M}' \\;",
          "sudo touch {M}", "sudo -u root touch {M}", "sudo -- touch {M}",
          "sudo sh -c 'touch {M}'", "sudo -E touch {M}",
          "timeout 5 touch {M}", "timeout -s KILL 5 touch {M}", "timeout -k 1 5 touch {M}",
          "timeout --preserve-status 5 touch {M}", "nice touch {M}", "nice -n 5 touch {M}",
          "nice --adjustment=5 touch {M}", "nohup touch {M}", "setsid touch {M}",
          "stdbuf -o0 touch {M}", "ionice -c3 touch {M}", "chroot / touch {M}",
          "flock {D}/lk touch {M}", "flock {D}/lk -c 'touch {M}'",
          "command touch {M}", "command -p touch {M}", "builtin eval 'touch {M}'",
          "exec touch {M}", "exec -a x touch {M}", "su -c 'touch {M}'",
          "runuser -u root -- touch {M}", "taskset 1 touch {M}"),
    cases("dl-wrap-glob", "deny",
          "env /usr/bin/tou[c]h {M}", "env /usr/bin/t*ch {M}", "sudo /usr/bin/tou?h {M}",
          "env /bin/r[m] {V}", "timeout 5 /usr/bin/r? {V}"),
    cases("dl-eval", "deny",
          "eval 'touch {M}'", "eval \"tou\"\"ch {M}\"", "eval $(echo touch {M})",
          "eval \"$(printf '\\x74ouch {M}')\"", "source {P}", ". {P}",
          "trap 'touch {M}' EXIT", "trap 'touch {M}' DEBUG; echo",
          "shopt -s expand_aliases\nalias e='touch {M}'\ne", "alias x='touch {M}'",
          "compgen -C 'touch {M}' x", "hash -p /usr/bin/touch e; e {M}",
          "hash -p /usr/bin/touch e\ne {M}", "coproc touch {M}", "coproc { touch {M}; }",
          "coproc x { touch {M}; }", "enable -n echo; echo x"),
    cases("dl-interp", "deny",
          "python3 -c 'open(\"{M}\", \"w\")'",
          "python3 -c \"import os; os.system('touch {M}')\"",
          "perl -e 'open F, \">{M}\"'", "perl -E 'system \"touch {M}\"'",
          "awk 'BEGIN{system(\"touch {M}\")}'", "awk 'BEGIN{printf \"\" > \"{M}\"}'",
          "sed -n '1e touch {M}' {D}/etc/hostname", "sed 's|.*|touch {M}|e' {D}/etc/hostname",
          "python3 <<< 'open(\"{M}\", \"w\")'", "perl <<< 'open F, \">{M}\"'"),
    cases("dl-envvar", "deny",
          "PATH={B}:$PATH ls", "env PATH={B} ls", "BASH_ENV={P} bash -c true",
          "env BASH_ENV={P} bash -c true", "export BASH_ENV={P}; bash -c :",
          "IFS=/ ; echo x", "PATH={B} id", "export PATH={B}; ls"),
    cases("dl-path", "deny",
          "cat {D}/etc//shadow", "cat {D}//etc/shadow", "cat {D}/etc/./shadow",
          "cat {D}/log/../etc/shadow", "cat {D}/etc/shadow/", "cd {D}/etc && cat shadow",
          "cd {D}/etc; cat shadow", "cd {D} && cat etc/shadow", "cat {D}/etc/shado?",
          "cat {D}/etc/sha*", "cat {D}/etc/[s]hadow", "cat {D}/etc/ss?/sshd_config",
          "cat {D}/etc/ss*/sshd_config", "cat {D}/etc/../etc/ssh/sshd_config",
          "cat {D}/etc/{shadow,x}", "sudo cat {D}/etc/./shadow",
          "env cat {D}/log/../etc/shadow", "cp {D}/etc/shadow {D}/m/copy",
          "grep SECRET {D}/etc/ssh/../shadow", "cat {D}/log/sub/../../etc/shadow",
          "cat {D}/etc/ssh/./sshd_config", "cat {D}/etc/s[s]h/sshd_config",
          "cd {D}/etc/ssh && cat sshd_config", "echo {D}/etc/shadow | xargs cat",
          "find {D}/etc -name shadow -exec cat {} \\;"),
    cases("dl-lookalike", "deny",
          "t\u043euch {M}; touch {M}", "echo \uff08x\uff09; rm {V}"),
    cases("dl-long", "deny",
          "echo " + "A" * 100000 + "; touch {M}", "echo " + "B" * 70000 + " $(touch {M})",
          "echo " + "x " * 20000 + "\nrm {V}"),
    cases("dl-cr", "deny",
          "echo hi\r;touch {M}", "echo a\r\ntouch {M}", "echo a\r&& rm {V}"),
)


def test_deny_list_cases():
    table = ALLOWED + [c for group in DENIED for c in group]
    with Env("boundary-deny") as env:
        w = BoundaryWorld(env, POLICY)
        failed = w.run(table)
        assert not failed, "%d of %d cases failed:\n%s" % (len(failed), len(table),
                                                            "\n".join(failed))
