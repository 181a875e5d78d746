"""An escort's `join ID`, with real ssh clients in real terminals through
the real proxy, recorder and target sshd: bob joins alice's strict session
and first sees what her screen showed before he joined, then what she
types, live, with a status line naming her, the target and a command
waiting for approval; his typing never reaches her session; `a` approves
her pending command (it runs: its file appears on the target); `p` pauses
and resumes her; `q` leaves; a view ends with the session it shows; the
recording holds the join and leave ESCORT events with bob's name.
Without a terminal, join says it needs one.  A watcher whose ssh client is
stopped (SIGSTOP) does not hold the session: alice gets every byte of
about 20 MB of output, then the stopped client is killed by pid."""
import json, os, re, select, signal, time
from harness.core import Env, wait_for
from harness.term import Term
from harness.proxy import ProxyWorld, replay

RULES = """
user bob {
    key "%(bob)s"
}
rule techs {
    who user:alice
    where target:web01
    shell strict
    exec yes
    supervised-by user:bob
    allow "echo ..."
    approve "touch ..."
}
"""

BULK_RULES = """
user bob {
    key "%(bob)s"
}
rule bulk {
    who user:alice
    where target:web01
    shell observe
    supervised-by user:bob
    allow "echo ..."
    allow "seq ..."
}
"""


def world(env, rules=RULES):
    k, pub = env.keygen("bob")
    w = ProxyWorld(env, rules=rules % {"bob": " ".join(pub.split()[:2])})
    w.bob_key = k
    d = os.path.dirname(w.marker("x"))
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    return w


def start_shell(w, target):
    t = Term(w.ssh_argv("alice", target, None, extra=("-tt",)))
    banner = t.expect(b"is recorded")
    sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
    return t, sid


def join(w, sid, rows=25, cols=80):
    return Term(w.ssh_argv("bob", None, "join %s" % sid, key=w.bob_key, extra=("-tt",)),
                rows=rows, cols=cols)


def listed(w, sid):
    r = w.ssh("bob", None, "sessions --json", key=w.bob_key, timeout=30)
    rows = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    return [x for x in rows if x["id"] == sid]


def stop(t):
    try:
        os.kill(t.pid, signal.SIGKILL)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def escort_events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = []
    for l in r.stdout.decode().splitlines():
        e = json.loads(l) if l.strip() else {}
        f = {x.get("name"): x.get("value") for x in e.get("fields", [])}
        if f.get("escort_action"):
            out.append(f)
    return out


def test_join_sees_screen_then_live_and_acts():
    with Env() as env:
        w = world(env)
        t, sid = start_shell(w, "web01")
        b = None
        try:
            t.expect(b"@web01:", timeout=20)
            t.send(b"echo 'before'-42\r")
            t.expect(b"before-42")
            # without a terminal: said plainly, non-zero
            r = w.ssh("bob", None, "join %s" % sid, key=w.bob_key, timeout=30)
            assert r.returncode == 2 and b"needs a terminal" in r.stderr, r
            b = join(w, sid)
            # the screen as it was before the join, then the status line
            b.expect(b"before-42")
            b.expect(b"alice on web01")
            t.expect(b"escort: bob joined and watches your session")
            assert [x["joined"] for x in listed(w, sid)] == [1]
            # live: what alice types and what the target answers
            t.send(b"echo 'live'-25\r")
            t.expect(b"live-25")
            b.expect(b"live-25")
            # bob's typing goes nowhere (these keys are none of the view's)
            b.send(b"echo zz-$((3*3))\r")
            time.sleep(1)
            t.send(b"echo 'after'-4\r")
            t.expect(b"after-4")
            t.expect(b"@web01:")
            b.expect(b"after-4")
            assert b"zz-9" not in t.log and b"zz-" not in t.log, t.log[-500:]
            # a command waiting for approval is on bob's status line; `a` runs it
            marker = w.marker("approved-from-join")
            t.send(b"touch %s\r" % marker.encode())
            t.expect(b"waiting for an escort's approval")
            b.expect(b"PENDING a approve, d deny: touch /tmp/")
            b.send(b"a")
            wait_for(lambda: os.path.exists(marker), 10, what="the approved command to run")
            b.expect(b"approved in session")
            # p pauses and resumes her session, as the commands do
            b.send(b"p")
            t.expect(b"escort: session paused by bob")
            b.expect(b"PAUSED by bob")
            b.send(b"p")
            t.expect(b"escort: session resumed by bob")
            # q leaves: bob's ssh ends with status 0, alice is told
            b.send(b"q")
            b.expect(b"you left the session")
            assert b.wait() == 0
            t.expect(b"escort: bob left")
            wait_for(lambda: [x["joined"] for x in listed(w, sid)] == [0], 10,
                     what="the joined count to drop")
            # joined again, the view ends with her session
            b = join(w, sid)
            b.expect(b"alice on web01")
            t.expect(b"escort: bob joined")
            t.send(b"\x04")
            assert t.wait() == 0
            b.expect(b"the session ended")
            assert b.wait() == 0
            ev = escort_events(w, sid)
            acts = [(e.get("escort_action"), e.get("escort")) for e in ev]
            assert ("join", "bob") in acts and ("leave", "bob") in acts, ev
            assert ("approve", "bob") in acts and ("pause", "bob") in acts, ev
            assert acts.index(("join", "bob")) < acts.index(("approve", "bob")) < \
                acts.index(("pause", "bob")) < acts.index(("resume", "bob")) < \
                acts.index(("leave", "bob")), acts
            assert acts.count(("join", "bob")) == 2, acts
            # nothing bob typed is in the recording's commands
            r = replay(w, "commands", sid, "--json")
            assert r.returncode == 0 and b"zz-" not in r.stdout, r.stdout
        finally:
            stop(t)
            if b is not None:
                stop(b)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


N = 2500000                     # seq 1..N: about 22 MB on a terminal (CR LF)


def test_stopped_watcher_does_not_hold_the_session():
    with Env() as env:
        w = world(env, BULK_RULES)
        t, sid = start_shell(w, "web01")
        b = None
        try:
            t.send(b"PS1='P''S> '; echo ready-$((6*7))\r")
            t.expect(b"ready-42")
            b = join(w, sid)
            b.expect(b"alice on web01")
            t.expect(b"bob joined")
            os.kill(b.pid, signal.SIGSTOP)
            t.send(b"seq %d; echo done-$((1+1))\r" % N)
            # read everything alice's terminal gets, counting lines
            got, lines, tail = 0, 0, b""
            deadline = time.monotonic() + 300
            while b"done-2" not in tail:
                assert time.monotonic() < deadline, ("output stalled", got, tail[-200:])
                r, _, _ = select.select([t.fd], [], [], 1)
                if not r:
                    continue
                d = os.read(t.fd, 1 << 20)
                assert d, "alice's terminal closed"
                got += len(d)
                lines += d.count(b"\n")
                tail = (tail + d)[-4096:]
            expected = sum(len(str(i)) + 2 for i in range(1, N + 1))
            assert got >= expected and lines >= N, (got, expected, lines)
            assert b"%d\r\n" % N in tail, tail[-300:]
            # the stopped watcher is killed by pid; the session goes on
            stop(b)
            b = None
            t.out = b""
            t.send(b"echo alive-$((3+4))\r")
            t.expect(b"alive-7")
            wait_for(lambda: b"escort: bob left" in t.log, 30, what="alice to be told bob left")
            t.send(b"exit 0\r")
            assert t.wait() == 0
            acts = [(e.get("escort_action"), e.get("escort")) for e in escort_events(w, sid)]
            assert acts == [("join", "bob"), ("leave", "bob")], acts
        finally:
            stop(t)
            if b is not None:
                stop(b)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
