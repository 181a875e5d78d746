"""The target-side tracer the policy-boundary cases rely on
(harness/trace.py): it records the exact bytes each session received and
what bash ran, word for word, at the right level of nesting."""
import subprocess
from harness.core import Env, bin_path
from harness.proxy import ProxyWorld
from harness.boundary import parse_explain

TIMEOUT = 120

RULES = """
rule techs {
    who user:alice
    where target:web*
    exec yes
    construct substitution
    allow "printf ..."
    allow "echo ..."
    allow "cat"
    allow "cat *"
}
"""


def runs_as(w, line):
    """The line `escort-policy explain` says the proxy sends for `line`."""
    r = subprocess.run([bin_path("escort-policy"), "explain", w.policy_path, "alice", "web01",
                        line], stdout=subprocess.PIPE, timeout=30)
    verdict, _, rendered = parse_explain(r.stdout)
    assert verdict == "allow" and rendered, r.stdout
    return rendered


def test_tracer_records_the_line_and_the_words_bash_ran():
    with Env("tracer") as env:
        w = ProxyWorld(env, rules=RULES, trace=True)
        t = w.target.tracer
        line = "printf '%s|' 'a b' \"c'd\" 'tab\there' 'new\nline' ''"
        r = w.ssh("alice", "web01", line)
        assert r.returncode == 0, r
        assert r.stdout == b"a b|c'd|tab\there|new\nline||", r
        recs = t.records()
        assert [c for _, c in recs] == [runs_as(w, line)], recs
        ran = t.executed(recs[0][0])
        assert ran == [(1, [b"printf", b"%s|", b"a b", b"c'd", b"tab\there", b"new\nline", b""])], ran
        # a pipeline's commands are level 1, a substitution's level 2
        r = w.ssh("alice", "web01", "echo $(printf x) | cat")
        assert r.returncode == 0 and r.stdout == b"x\n", r
        pid, got = t.records()[-1]
        assert got == runs_as(w, "echo $(printf x) | cat"), got
        ran = sorted(t.executed(pid))
        assert ran == [(1, [b"cat"]), (1, [b"echo", b"x"]), (2, [b"printf", b"x"])], ran
        # the traced shell runs commands as bash -c would: status and stderr kept
        r = w.ssh("alice", "web01", "cat /nonexistent/x")
        assert r.returncode == 1 and b"/nonexistent/x" in r.stderr, r
        assert len(t.records()) == 3
