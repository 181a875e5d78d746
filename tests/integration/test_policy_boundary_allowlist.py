"""Bypass cases against a TIGHT ALLOWLIST, through the real proxy with the
stock ssh client; side effects checked on the target (harness/boundary.py).

Every denied case hides `touch {M}` (or a read of a denied file) inside a
command the allowlist might be fooled into reading as allowed; {M} must never
appear.  Every allowed case must run exactly the words the policy checked."""
from harness.core import Env, BIN
from harness.boundary import BoundaryWorld, Case, cases

# about 50 s on two busy cores; ASan+UBSan builds run several times slower
TIMEOUT = 600 if "san" in BIN else 240

# `test * *` and `printf * *` are what an admin writes for `test -f FILE` and
# `printf FORMAT ARG`: a `*` must not reach their forms that run code
# (`test -v 'a[$(CMD)]'`, `printf -v'a[$(CMD)]' x`).
POLICY = r"""
rule tight {
    who user:alice
    where target:web*
    exec yes
    allow "cat {D}/log/*"
    allow "grep * {D}/log/*"
    allow "wc -l {D}/log/*"
    allow "ls"
    allow "ls *"
    allow "ls -l *"
    allow "echo ..."
    allow "printf * *"
    allow "test * *"
    allow "env"
    allow "id"
    allow "true"
    allow "systemctl status *"
}
"""

LOG = "started\nerror 1\nstopped\n"
LONG = "A" * 5000

ALLOWED = [
    Case("allow-ls", "ls", "allow"),
    Case("allow-ls-dir", "ls {D}/log", "allow", out="app.log\nauth.log\nsub\n"),
    Case("allow-ls-l", "ls -l {D}/f", "allow"),
    Case("allow-cat", "cat {D}/log/app.log", "allow", out=LOG),
    Case("allow-cat-glob", "cat {D}/log/a*.log", "allow", out=LOG + "login ok\n"),
    Case("allow-grep", "grep error {D}/log/app.log", "allow", out="error 1\n"),
    Case("allow-wc", "wc -l {D}/log/app.log", "allow", out="3 {D}/log/app.log\n"),
    Case("allow-echo", "echo hello world", "allow", out="hello world\n"),
    Case("allow-echo-quotes", "echo 'a  b' \"c d\"", "allow", out="a  b c d\n"),
    Case("allow-echo-dq-literal-subst", "echo \"\\$(touch {M})\"", "allow", out="$(touch {M})\n"),
    Case("allow-echo-sq-subst", "echo '$(touch {M})'", "allow", out="$(touch {M})\n"),
    Case("allow-echo-escaped-subst", "echo \\$\\(touch {M}\\)", "allow", out="$(touch {M})\n"),
    Case("allow-echo-sq-backticks", "echo '`touch {M}`'", "allow", out="`touch {M}`\n"),
    Case("allow-echo-sq-list", "echo 'a;touch {M}'", "allow", out="a;touch {M}\n"),
    Case("allow-echo-sq-arith", "echo '$[$(touch {M})]'", "allow", out="$[$(touch {M})]\n"),
    Case("allow-echo-sq-hash", "echo x '#' y", "allow", out="x # y\n"),
    # a line continuation inside a word: joined as bash joins it, or refused
    Case("any-echo-dq-bsnl", "echo \"a\\\nb\"", "any", out="ab\n"),
    Case("any-echo-bsnl", "echo a\\\nb", "any", out="ab\n"),
    Case("allow-echo-sq-bsnl", "echo 'a\\\nb'", "allow", out="a\\\nb\n"),
    Case("allow-echo-apostrophe", "echo \"it's\"", "allow", out="it's\n"),
    Case("allow-echo-fd-dup", "echo a 2>&1", "allow", out="a\n"),
    Case("allow-echo-devnull", "echo a >/dev/null", "allow", out=""),
    Case("allow-test-f", "test -f {D}/log/app.log", "allow"),
    Case("allow-printf", "printf '%s\\n' ab", "allow", out="ab\n"),
    Case("allow-env", "env", "allow"),
    Case("allow-id", "id", "allow"),
    Case("allow-true", "true", "allow"),
    Case("allow-unicode", "echo \uff41\uff42\uff43", "allow", out="\uff41\uff42\uff43\n"),
    Case("allow-unicode-dollar", "echo \uff04\uff08touch {M}\uff09", "allow",
         out="\uff04\uff08touch {M}\uff09\n"),
    Case("allow-unicode-semicolon", "echo hi\uff1btouch {M}", "allow", out="hi\uff1btouch {M}\n"),
    Case("allow-greek-question-mark", "echo hi\u037e touch {M}", "allow", out="hi\u037e touch {M}\n"),
    Case("allow-cr-in-word", "echo 'a\rb'", "allow", out="a\rb\n"),
    Case("allow-long", "echo " + LONG, "allow", out=LONG + "\n"),
    Case("allow-cat-dot", "cat {D}/log/./app.log", "allow", out=LOG),
    Case("allow-cat-slashes", "cat {D}/log//app.log", "allow", out=LOG),
    Case("allow-echo-specials", "echo '!' '*' '?' '[a]' '~' '{a,b}' '$HOME' '\\' '\"' '#'", "allow",
         out="! * ? [a] ~ {a,b} $HOME \\ \" #\n"),
    Case("allow-echo-mixed-quotes", "echo \"a'b\" 'c\"d' a\\ b", "allow", out="a'b c\"d a b\n"),
    Case("allow-echo-empty", "echo '' x \"\"", "allow", out=" x \n"),
    Case("allow-echo-n", "echo -n x", "allow", out="x"),
    Case("allow-echo-e", "echo -e 'a\\tb'", "allow", out="a\tb\n"),
    Case("allow-echo-tab", "echo 'a\tb'", "allow", out="a\tb\n"),
    Case("allow-echo-dashdash", "echo -- -x", "allow", out="-- -x\n"),
    Case("allow-echo-emoji", "echo \U0001F600 caf\u00e9", "allow", out="\U0001F600 caf\u00e9\n"),
    Case("allow-test-d", "test -d {D}/log", "allow"),
    Case("allow-test-false", "test -d {D}/nothing", "allow", rc=1),
    Case("allow-cat-sq", "cat '{D}/log/app.log'", "allow", out=LOG),
    Case("allow-cat-dq", "cat \"{D}/log/app.log\"", "allow", out=LOG),
    Case("allow-cat-escaped-dot", "cat {D}/log/app\\.log", "allow", out=LOG),
    Case("allow-cat-class", "cat {D}/log/[a]pp.log", "allow", out=LOG),
    Case("allow-cat-question", "cat {D}/log/app.lo?", "allow", out=LOG),
    Case("allow-ls-glob", "ls {D}/log/*", "allow",
         out="{D}/log/app.log\n{D}/log/auth.log\n\n{D}/log/sub:\ndeep.log\n"),
    Case("allow-ls-l-file", "ls -l {D}/log/app.log", "allow"),
    Case("allow-grep-none", "grep nomatch {D}/log/app.log", "allow", rc=1, out=""),
    Case("allow-grep-quoted", "grep 'error 1' {D}/log/app.log", "allow", out="error 1\n"),
    Case("allow-echo-operators-quoted", "echo ';' '&&' '|' '>' '<' '&' '(' ')'", "allow",
         out="; && | > < & ( )\n"),
    Case("allow-cat-tilde-inside", "cat {D}/log/~", "allow", rc=1, out=""),
    Case("allow-test-str-eq", "test 'a[$(touch {M})]' -eq", "allow", rc=2),
    Case("any-test-v-plain", "test -v x", "any", rc=1),
    Case("any-ansi-c-literal", "echo $'\\x24(touch {M})'", "any", out="$(touch {M})\n"),
    Case("any-comment", "echo x #$(touch {M})", "any", out="x\n"),
    Case("any-arith", "echo $[1+1]", "any"),
    Case("any-arith-dq", "echo \"$[1+1]\"", "any"),
    Case("any-arith-subscript", "echo a[1+1]", "any"),
]

DENIED = (
    cases("combine", "deny",
          "echo a; touch {M}", "echo a;touch {M}", "echo a && touch {M}",
          "ls /nonexistent || touch {M}", "echo a | touch {M}", "echo a |& touch {M}",
          "touch {M} &", "echo a & touch {M}", "echo a\ntouch {M}", "echo a\r\ntouch {M}",
          "echo $(touch {M})", "echo `touch {M}`", "echo \"$(touch {M})\"",
          "echo \"`touch {M}`\"", "echo <(touch {M})", "echo >(touch {M})",
          "cat {D}/log/app.log <(touch {M})", "cat <<EOF\n$(touch {M})\nEOF",
          "echo <<EOF\n$(touch {M})\nEOF", "echo a <<< \"$(touch {M})\"",
          "{ touch {M}; }", "(touch {M})", "if true; then touch {M}; fi",
          "for i in 1; do touch {M}; done", "case x in x) touch {M};; esac",
          "f() { touch {M}; }; f", "function f { touch {M}; }; f",
          "echo ${x:-$(touch {M})}", "echo $(echo $(touch {M}))", "echo $((1))$(touch {M})",
          "systemctl status x; touch {M}", "echo a\n\ntouch {M}"),
    cases("arith", "deny",
          "echo $[$(touch {M})]", "echo $[a[$(touch {M})]]", "echo $(( $(touch {M}) ))",
          "echo $((a[$(touch {M})]))", "echo $[`touch {M}`]",
          "test -v 'a[$(touch {M})]'", "test -v a[\\$\\(touch\\ {M}\\)]",
          "printf -v 'a[$(touch {M})]' x", "printf -v'a[$(touch {M})]' x",
          "printf -va[\\$\\(touch\\ {M}\\)] x",
          "[ -v 'a[$(touch {M})]' ]", "[[ -v a[$(touch {M})] ]]",
          "let 'a[$(touch {M})]=1'", "declare 'a[$(touch {M})]=1'",
          "read 'a[$(touch {M})]' <<< x", "(( a[$(touch {M})] ))"),
    cases("bsnl", "deny",
          "echo a \\\n; touch {M}", "echo \"a\\\n\"; touch {M}", "echo a\\\n&& touch {M}",
          "echo \"\\\n$(touch {M})\"", "echo \\\n$(touch {M})", "echo $\\\n(touch {M})",
          "echo \"$\\\n(touch {M})\"", "echo a \\\n| touch {M}", "echo $\\\n[$(touch {M})]",
          "ec\\\nho x; touch {M}"),
    cases("fd-var", "deny",
          "echo hi {fd}>{M}", "echo hi {fd}>>{M}", "ls {x}<>{M}", "echo {a}>{M} hi",
          "echo hi {fd}>&2 $(touch {M})"),
    cases("time", "deny",
          "time ! touch {M}", "time touch {M}", "time -p touch {M}", "time coproc touch {M}",
          "! touch {M}", "time ! echo x; touch {M}", "time echo a | touch {M}",
          "time ! echo $(touch {M})"),
    cases("hash-in-subst", "deny",
          "echo $(echo x #)\ntouch {M}\n)", "echo $( #)\ntouch {M}\n)",
          "echo x #\ntouch {M}", "echo $(: #\ntouch {M})", "echo `: #`; touch {M}"),
    cases("wrap", "deny",
          "env touch {M}", "env - touch {M}", "env -i touch {M}", "env -u X touch {M}",
          "echo {M} | xargs touch", "echo {M} | xargs -i touch {}",
          "echo {M} | xargs -l touch", "echo {M} | xargs --replace touch {}",
          "bash -c 'touch {M}'", "bash -c -- 'touch {M}'", "sh -c 'touch {M}'",
          "script -qc 'touch {M}' /dev/null", "sg root -c 'touch {M}'",
          "watch -n 1 'touch {M}'", "find {D}/f -maxdepth 0 -exec touch {M} \\;",
          "find {D}/f -maxdepth 0 -exec touch {M} {} +",
          "find {D}/f -maxdepth 0 -execdir touch {M} \\;",
          "find {D}/f -maxdepth 0 -ok touch {M} \\;",
          "find {D}/f -maxdepth 0 -okdir touch {M} \\;",
          "find {D}/f -maxdepth 0 -fprint {M}", "sudo touch {M}", "timeout 5 touch {M}",
          "nice touch {M}", "nohup touch {M}", "command touch {M}",
          "builtin eval 'touch {M}'", "exec touch {M}", "env echo x; touch {M}"),
    cases("wrap-glob", "deny",
          "env /usr/bin/tou[c]h {M}", "/usr/bin/tou?h {M}", "/usr/bin/t*ch {M}",
          "ec?o $(touch {M})", "e[c]ho x; touch {M}"),
    cases("eval", "deny",
          "eval 'touch {M}'", "eval echo '$(touch {M})'", "source {P}", ". {P}",
          "trap 'touch {M}' EXIT", "alias ls='touch {M}'", "coproc touch {M}",
          "coproc { touch {M}; }", "compgen -C 'touch {M}' x", "hash -p /usr/bin/touch ls"),
    cases("interp", "deny",
          "python3 -c 'open(\"{M}\", \"w\")'", "perl -e 'open F, \">{M}\"'",
          "awk 'BEGIN{system(\"touch {M}\")}'", "sed -n '1e touch {M}' {D}/log/app.log",
          "grep -e x {D}/log/app.log; touch {M}"),
    cases("quote", "deny",
          "\\touch {M}", "t''ouch {M}", "\"t\"ouch {M}", "/usr/bin/touch {M}",
          "e\\cho a; touch {M}", "ec''ho $(touch {M})", "$'\\x74ouch' {M}"),
    cases("envvar", "deny",
          "IFS=x echo a", "PATH={B} ls", "BASH_ENV={P} true", "PATH={B}:/usr/bin id",
          "LC_ALL=C echo $(touch {M})"),
    cases("path", "deny",
          "cat {D}/log/../etc/shadow", "cat {D}/log//../etc/shadow",
          "cat {D}/log/./../etc/shadow", "cat {D}/log/.././etc/shadow",
          "cat {D}/log/sub/../../etc/shadow", "cat {D}/log/*/../../etc/shadow",
          "grep root {D}/log/../etc/shadow", "grep SECRET {D}/log/../etc/ssh/sshd_config",
          "wc -l {D}/log/../etc/shadow", "cat {D}/log/app.log {D}/etc/shadow",
          "cd {D}/log && cat ../etc/shadow", "cat {D}/log/..", "cat {D}/etc/shadow"),
    cases("more", "deny",
          "test -R 'a[$(touch {M})]'", "test -v'a[$(touch {M})]'",
          "cat {D}/log/app.log/../../etc/shadow", "cat {D}/log/$(echo x)",
          "cat {D}/log/`echo x`", "cat {D}/log/${x}", "cat {D}/log/../etc/sha*",
          "cat {D}/log/{app.log,../etc/shadow}", "ls $(touch {M})",
          "ls -l `touch {M}`", "ls {D}/log >{M}", "ls {D}/log 1>{M}", "ls {D}/log &>{M}",
          "ls {D}/log >>{M}", "ls {D}/log 2>{M}", "ls {D}/log >|{M}", "ls {D}/log 3>{M}",
          "echo x >{M}", "echo $(<{M})", "systemctl status x >{M}",
          "systemctl status $(touch {M})", "env >{M}", "id; touch {M}", "true && touch {M}"),
    cases("lookalike", "deny",
          "\uff45cho hi; touch {M}", "\u0435cho hi", "ech\u043e $(touch {M})"),
    cases("long", "deny",
          "echo " + "A" * 100000 + "; touch {M}", "echo " + "B" * 70000 + " $(touch {M})",
          "echo " + "x " * 20000 + "\ntouch {M}"),
    cases("cr", "deny",
          "echo hi\r; touch {M}", "ls\r {D}", "echo a\r&& touch {M}"),
)

SENDENV = [
    Case("sendenv-shellshock", "env", "allow",
         sendenv={"LC_PAYLOAD": "() { :; }; touch {M}"}, absent=["touch {M}"]),
    Case("sendenv-lc-all-subst", "env", "allow",
         sendenv={"LC_ALL": "$(touch {M})"}, absent=["touch {M}"]),
    Case("sendenv-lang-list", "env", "allow",
         sendenv={"LANG": "C;touch {M}"}, absent=["touch {M}"]),
    Case("sendenv-lang-valid", "env", "allow", sendenv={"LANG": "C.UTF-8"},
         absent=["LANG=C.UTF-8"]),
    Case("sendenv-lc-unknown", "env", "allow",
         sendenv={"LC_EVIL": "payload-{M}"}, absent=["payload-{M}"]),
]


# the same decisions when the exec request follows a pty request (ssh -tt)
TTY = [
    Case("tty-allow-echo", "echo 'a  b' c", "allow", out="a  b c\r\n", tty=True),
    Case("tty-allow-cat", "cat {D}/log/auth.log", "allow", out="login ok\r\n", tty=True),
    Case("tty-deny-list", "echo a; touch {M}", "deny", tty=True),
    Case("tty-deny-subst", "echo $(touch {M})", "deny", tty=True),
    Case("tty-deny-path", "cat {D}/log/../etc/shadow", "deny", tty=True),
    Case("tty-deny-bsnl", "echo $\\\n(touch {M})", "deny", tty=True),
    Case("tty-deny-arith", "echo $[$(touch {M})]", "deny", tty=True),
]


def test_tight_allowlist_cases():
    table = ALLOWED + [c for group in DENIED for c in group] + SENDENV + TTY
    with Env("boundary-allow") as env:
        w = BoundaryWorld(env, POLICY, sshd_extra="AcceptEnv LANG LC_*\n")
        failed = w.run(table)
        assert not failed, "%d of %d cases failed:\n%s" % (len(failed), len(table),
                                                            "\n".join(failed))
