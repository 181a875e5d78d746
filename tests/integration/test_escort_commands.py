"""Escorts' commands over SSH to the proxy itself (no target), with real ssh
clients through the real proxy, recorder and target sshd: `sessions`
lists alice's live session for bob (named by `supervised-by`) and not for
carol (no rule names her as an escort), `pause` drops alice's typing and
tells her, `resume` lets it through again, `kill` ends the session with the
reason shown to her, and the recording holds the ESCORT events and an END
of kind escort-kill.  Nobody acts on their own session; an unknown id is
refused; join without a terminal says it needs one; approve and deny with
nothing pending say so (test_escort_approve.py has approvals)."""
import base64, json, os, select, subprocess, time
from harness.core import Env, wait_for
from harness.term import Term
from harness.proxy import ProxyWorld, replay

RULES = """
user bob {
    key "%(bob)s"
}
user carol {
    key "%(carol)s"
}
rule techs {
    who user:alice
    where target:web*
    shell observe
    exec yes
    supervised-by user:bob
    allow "echo ..."
    allow "sleep ..."
    allow "cat"
    allow "true"
}
rule carols-work {
    who user:carol
    where target:web*
    exec yes
    supervised-by user:alice
    allow "sleep ..."
}
"""


def world(env):
    bob_key, bob_pub = env.keygen("bob")
    carol_key, carol_pub = env.keygen("carol")
    keys = {"bob": " ".join(bob_pub.split()[:2]), "carol": " ".join(carol_pub.split()[:2])}
    w = ProxyWorld(env, rules=RULES % keys)
    w.bob_key, w.carol_key = bob_key, carol_key
    return w


def as_user(w, user, command):
    """`ssh USER@proxy COMMAND` (no target) as user; (status, stdout, stderr)."""
    key = {"alice": w.alice_key, "bob": w.bob_key, "carol": w.carol_key}[user]
    r = w.ssh(user, None, command, key=key, timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def start_shell(w):
    """alice's interactive shell on web01 through the proxy; (Term, id)."""
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    seen = t.expect(b"is recorded")
    sid = seen.split(b"escort: session ")[-1].split()[0].decode()
    t.send(b"PS1='P''S> '; echo ready-$((6*7))\r")
    t.expect(b"ready-42")
    t.expect(b"PS> ")
    return t, sid


def fields(event):
    """An exported event's fields as a dict, by name."""
    return {f["name"]: f["value"] for f in event.get("fields", [])}


def listed_ids(w, user):
    st, out, err = as_user(w, user, "sessions --json")
    assert st == 0, (st, out, err)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def test_sessions_lists_for_escorts_only():
    with Env() as env:
        w = world(env)
        t, sid = start_shell(w)
        try:
            rows = wait_for(lambda: [r for r in listed_ids(w, "bob") if r["id"] == sid], 10,
                            what="bob to see alice's session")
            r = rows[0]
            assert r["user"] == "alice" and r["target"] == "web01" and r["state"] == "running", r
            assert r["start"].endswith("Z") and "T" in r["start"], r
            st, out, err = as_user(w, "bob", "sessions")
            assert st == 0 and sid in out and "alice" in out and "running" in out, (st, out, err)
            assert out.splitlines()[0].split()[:3] == ["ID", "USER", "TARGET"], out
            # carol is no escort: told so plainly, and sees nothing
            st, out, err = as_user(w, "carol", "sessions")
            assert st == 1 and sid not in out + err, (st, out, err)
            assert "carol is not an escort" in err, err
            st, out, err = as_user(w, "carol", "kill %s" % sid)
            assert st == 1 and "not an escort" in err, (st, out, err)
            # alice is an escort (of carol's sessions), but not of her own
            assert [r for r in listed_ids(w, "alice") if r["id"] == sid] == []
            st, out, err = as_user(w, "alice", "kill %s because" % sid)
            assert st == 1 and "your own" in err, (st, out, err)
            st, out, err = as_user(w, "alice", "pause %s" % sid)
            assert st == 1 and "your own" in err, (st, out, err)
            # alice can see that her sessions on web01 are supervised
            st, out, err = as_user(w, "alice", "rules web01")
            assert st == 0 and "supervised: yes (rule techs" in out, (st, out, err)
            # an unknown id
            st, out, err = as_user(w, "bob", "pause no-such-id")
            assert st == 1 and "no such session" in err, (st, out, err)
            # one with control bytes comes back with '?' in their place
            st, out, err = as_user(w, "bob", "pause no\x1b[2J\x07\x7fid")
            assert st == 1 and "no such session: no?[2J??id\n" in err, (st, out, err)
            # join needs a terminal (test_escort_join.py has the view)
            st, out, err = as_user(w, "bob", "join %s" % sid)
            assert st == 2 and "needs a terminal" in err, (st, out, err)
            # nothing waits for approval (observe mode holds no command)
            for cmd in ("approve %s" % sid, "deny %s too risky" % sid):
                st, out, err = as_user(w, "bob", cmd)
                assert st == 1 and "nothing pending" in err, (cmd, st, out, err)
            # the session was never touched by any of that
            t.send(b"echo still-$((2+3))\r")
            t.expect(b"still-5")
            t.send(b"exit 0\r")
            assert t.wait() == 0
            wait_for(lambda: not [r for r in listed_ids(w, "bob") if r["id"] == sid], 10,
                     what="the ended session to leave the list")
        finally:
            try:
                os.kill(t.pid, 9)
            except ProcessLookupError:
                pass
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_pause_resume_kill():
    with Env() as env:
        w = world(env)
        t, sid = start_shell(w)
        dropped, passed = w.marker("typed-while-paused"), w.marker("typed-after-resume")
        os.makedirs(os.path.dirname(dropped), exist_ok=True)
        os.chmod(os.path.dirname(dropped), 0o777)
        try:
            st, out, err = as_user(w, "bob", "pause %s" % sid)
            assert st == 0 and "paused" in out, (st, out, err)
            t.expect(b"escort: session paused by bob; your input is ignored")
            assert [r["state"] for r in listed_ids(w, "bob") if r["id"] == sid] == ["paused"]
            st, out, err = as_user(w, "bob", "pause %s" % sid)
            assert st == 1 and "already" not in out and "paused by bob" in err, (st, out, err)
            t.send(("echo X > %s; echo typed-$((3*5))\r" % dropped).encode())
            # what would have run is given time to run, and did not
            time.sleep(1.5)
            assert b"typed-15" not in t.out
            assert not os.path.exists(dropped)
            st, out, err = as_user(w, "bob", "resume %s" % sid)
            assert st == 0 and "resumed" in out, (st, out, err)
            t.expect(b"escort: session resumed by bob")
            t.send(("echo Y > %s; echo typed-$((4*5))\r" % passed).encode())
            t.expect(b"typed-20")
            assert os.path.exists(passed)
            assert not os.path.exists(dropped)
            assert b"typed-15" not in t.out
            st, out, err = as_user(w, "bob", "kill %s maintenance window is over" % sid)
            assert st == 0, (st, out, err)
            t.expect(b"escort: session ended by escort bob: maintenance window is over")
            assert t.wait() != 0
            # the recording: ESCORT events for each action, and the END
            r = wait_for(lambda: (lambda x: x if x.returncode == 0 and b'"escort-kill"' in x.stdout
                                  else None)(replay(w, "export", sid, "--format", "json")), 15,
                         what="the closed recording")
            text = r.stdout.decode()
            events = [json.loads(l) for l in text.splitlines() if l.strip()]
            escorts = [fields(e) for e in events if e.get("type") == "escort"]
            assert [e.get("escort_action") for e in escorts] == ["pause", "resume", "kill"], text[-3000:]
            assert all(e.get("escort") == "bob" for e in escorts), escorts
            assert escorts[-1].get("reason") == "maintenance window is over", escorts[-1]
            ends = [fields(e) for e in events if e.get("type") == "end"]
            assert ends and ends[-1].get("end_kind") == "escort-kill", ends
            assert "ended by escort bob" in ends[-1].get("reason", ""), ends
            # each action was recorded before the technician was told of it
            kinds = [e["type"] for e in events]
            for i, e in enumerate(events):
                if e["type"] == "escort" and fields(e)["escort_action"] in ("pause", "resume"):
                    assert [k for k in kinds[i + 1:] if k != "marker"][0] == "stderr", kinds
            # what was typed while paused is not in the recording; that it was, is
            typed = b"".join(base64.b64decode(e["data_base64"]) for e in events
                             if e["type"] == "input")
            assert b"typed-while-paused" not in typed and b"typed-after-resume" in typed
            markers = [fields(e).get("text", "") for e in events if e["type"] == "marker"]
            assert any("typed while the session was paused were dropped" in m for m in markers), markers
            # the ended session is gone from the list, and cannot be acted on
            st, out, err = as_user(w, "bob", "resume %s" % sid)
            assert st == 1 and "no such session" in err, (st, out, err)
            log = w.proxy.log()
            assert "escort bob: pause of alice's session on web01" in log, log[-3000:]
            assert "escort bob: kill of alice's session on web01" in log, log[-3000:]
        finally:
            try:
                os.kill(t.pid, 9)
            except ProcessLookupError:
                pass
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def read_until(f, needle, timeout):
    """Reads the pipe f until needle arrives; what was read (bounded)."""
    got, deadline = b"", time.monotonic() + timeout
    while needle not in got:
        left = deadline - time.monotonic()
        assert left > 0, "timed out waiting for %r; got %r" % (needle, got)
        r, _, _ = select.select([f], [], [], min(left, 0.5))
        if r:
            d = os.read(f.fileno(), 65536)
            assert d, "closed waiting for %r; got %r" % (needle, got)
            got += d
    return got


def test_pause_holds_exec_input():
    """Without a pty (an exec, a transfer) paused input is held, not dropped:
    it arrives, in order, after resume."""
    with Env() as env:
        w = world(env)
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "cat"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            err = read_until(p.stderr, b" is recorded", 20)
            sid = err.split(b"escort: session ")[-1].split()[0].decode()
            p.stdin.write(b"one\n")
            p.stdin.flush()
            read_until(p.stdout, b"one\n", 10)
            st, out, e = as_user(w, "bob", "pause %s" % sid)
            assert st == 0, (st, out, e)
            read_until(p.stderr, b"escort: session paused by bob; your input is held until it resumes", 10)
            p.stdin.write(b"two\n")
            p.stdin.flush()
            r, _, _ = select.select([p.stdout], [], [], 1.5)
            assert not r, "input went through while paused"
            st, out, e = as_user(w, "bob", "resume %s" % sid)
            assert st == 0, (st, out, e)
            read_until(p.stderr, b"escort: session resumed by bob", 10)
            read_until(p.stdout, b"two\n", 10)
            p.stdin.close()
            assert p.wait(timeout=20) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_command_without_its_argument_gets_its_usage():
    """`rules`, `approve`, `kill` ... typed without the argument they need
    (or with too many): exit 2 with that command's usage, not "unknown
    command"."""
    with Env() as env:
        w = ProxyWorld(env)
        for cmd, usage in (("rules", "rules TARGET"), ("approve", "approve ID"),
                           ("kill", "kill ID [REASON]"), ("join", "join ID"),
                           ("rules web01 extra", "rules TARGET"), ("targets x", "targets")):
            r = w.ssh("alice", None, cmd)
            err = r.stderr.decode()
            assert r.returncode == 2, (cmd, r)
            assert "usage: %s" % usage in err and "unknown command" not in err, (cmd, err)
        r = w.ssh("alice", None, "frobnicate")
        assert r.returncode == 2 and b"unknown command" in r.stderr, r
