"""Moderated sessions (a rule's `escort`), with real ssh clients through the
real proxy, recorder and target sshd: alice's session waits for an escort
before it reaches web01; she is told so and for whom; bob's `sessions`
lists it as waiting; nothing reaches the target while it waits (no login
on the target's sshd, her typed command has no side effect and is not in
the recording).  With EscortWaitTimeout 3 a session nobody joins ends, she
is told why and the recording's END says it; bob's `kill` ends a waiting
exec with his reason.  bob's `join` (ssh -tt bob@proxy join ID) connects
it and her commands run (side effect on the target); when he leaves (q)
she is paused and told, and EscortLeaveTimeout ends the session with its
reason recorded; a returning escort lets her go on, and an escort's own
pause outlasts the absence.  An exec waits for the join, then for bob's
approval of an `approve` command, and alice sees who approved.  A policy
reload that drops the `escort` line ends
the wait (the shell connects); one that adds it back pauses her at once,
nobody being joined."""
import base64, json, os, re, signal, subprocess
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
group escorts bob
rule moderated {
    who user:alice
    where target:web01
    escort group:escorts
    shell observe
    exec yes
    allow "echo ..."
    allow "touch ..."
    allow "true"
    approve "mkdir ..."
}
"""


def world(env, extra_conf=""):
    keys, paths = {}, {}
    for u in ("bob", "carol"):
        k, pub = env.keygen(u)
        keys[u], paths[u] = " ".join(pub.split()[:2]), k
    w = ProxyWorld(env, rules=RULES % keys, extra_conf=extra_conf)
    w.keys = paths
    w.keys["alice"] = w.alice_key
    d = os.path.dirname(w.marker("x"))
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o777)
    return w


def as_user(w, user, command):
    r = w.ssh(user, None, command, key=w.keys[user], timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def listed(w, sid):
    st, out, err = as_user(w, "bob", "sessions --json")
    assert st == 0, (st, out, err)
    return [r for r in (json.loads(l) for l in out.splitlines() if l.strip()) if r["id"] == sid]


def start_waiting_shell(w):
    """alice's shell on web01 (a real terminal); returns (Term, id) once she
    is told that it waits."""
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    banner = t.expect(b"is recorded")
    sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
    t.expect(b"escort: waiting for an escort to join: group:escorts; the session connects to web01 "
             b"when one does")
    return t, sid


def stop(t):
    try:
        os.kill(t.pid, 9)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def events(w, sid, need=b'"end"'):
    """The closed recording's events (JSON export), once it has an END."""
    r = wait_for(lambda: (lambda x: x if x.returncode == 0 and need in x.stdout else None)(
        replay(w, "export", sid, "--format", "json")), 15, what="the closed recording")
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def fields(e):
    return {f["name"]: f["value"] for f in e.get("fields", [])}


def target_logins(w):
    return w.target.proc.log().count("Accepted publickey")


def test_waits_for_an_escort_then_times_out():
    with Env() as env:
        w = world(env, extra_conf="EscortWaitTimeout 3\n")
        t, sid = start_waiting_shell(w)
        typed = w.marker("typed-while-waiting")
        try:
            rows = wait_for(lambda: listed(w, sid), 10, what="bob to see the waiting session")
            assert rows[0]["state"] == "waiting" and rows[0]["joined"] == 0, rows
            st, out, err = as_user(w, "bob", "sessions")
            assert st == 0 and sid in out and "waiting" in out, (st, out, err)
            # carol is no escort: she sees nothing
            st, out, err = as_user(w, "carol", "sessions")
            assert st == 1 and sid not in out + err, (st, out, err)
            # typing while waiting reaches nothing
            t.send(("touch %s\r" % typed).encode())
            # an escort cannot pause a session that waits (nothing runs)
            st, out, err = as_user(w, "bob", "pause %s" % sid)
            assert st == 1, (st, out, err)
            t.expect(b"escort: no escort joined within 3 s; session ended", timeout=15)
            assert t.wait() != 0
            assert not os.path.exists(typed)
            assert target_logins(w) == 0, w.target.proc.log()[-2000:]
            ev = events(w, sid)
            markers = [fields(e).get("text", "") for e in ev if e["type"] == "marker"]
            assert "waiting for an escort to join: group:escorts (EscortWaitTimeout 3 s)" in markers, markers
            # her typing was dropped, not kept for later; that it was, is recorded
            assert any("typed while the session was paused were dropped" in m for m in markers), markers
            typed_in = b"".join(base64.b64decode(e["data_base64"]) for e in ev
                                if e["type"] == "input")
            assert b"typed-while-waiting" not in typed_in
            ends = [fields(e) for e in ev if e["type"] == "end"]
            assert ends[-1]["end_kind"] == "policy", ends
            assert ends[-1]["reason"] == "no escort joined within 3 s (EscortWaitTimeout)", ends
            # what she was told is in the recording too
            said = b"".join(base64.b64decode(e["data_base64"]) for e in ev
                            if e["type"] == "stderr")
            assert b"waiting for an escort to join: group:escorts" in said, said
            assert not listed(w, sid)
            log = w.proxy.log()
            assert "waiting for an escort to join: group:escorts" in log, log[-3000:]
        finally:
            stop(t)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_kill_while_waiting():
    with Env() as env:
        w = world(env)
        marker = w.marker("exec-while-waiting")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "touch %s" % marker),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            rows = wait_for(lambda: [r for r in (json.loads(l) for l in as_user(w, "bob", "sessions --json")[1]
                                                 .splitlines() if l.strip()) if r["user"] == "alice"],
                            10, what="bob to see alice's waiting exec")
            sid = rows[0]["id"]
            assert rows[0]["state"] == "waiting", rows
            st, out, err = as_user(w, "bob", "kill %s not today" % sid)
            assert st == 0, (st, out, err)
            out, err = p.communicate(timeout=20)
            assert p.returncode != 0
            assert b"waiting for an escort to join: group:escorts" in err, err
            assert b"escort: session ended by escort bob: not today" in err, err
            assert not os.path.exists(marker)
            assert target_logins(w) == 0
            ev = events(w, sid)
            ends = [fields(e) for e in ev if e["type"] == "end"]
            assert ends[-1]["end_kind"] == "escort-kill", ends
            acts = [(fields(e).get("escort_action"), fields(e).get("escort")) for e in ev
                    if e["type"] == "escort"]
            assert acts == [("kill", "bob")], acts
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def shell_ready(t):
    """Once alice's observe shell on web01 answers."""
    t.send(b"PS1='P''S> '; echo ready-$((6*7))\r")
    t.expect(b"ready-42", timeout=20)
    t.expect(b"PS> ")


def reload_policy(w, old, new):
    with open(w.policy_path) as f:
        text = f.read()
    assert old in text
    with open(w.policy_path, "w") as f:
        f.write(text.replace(old, new))
    n = len(w.proxy.log())
    w.proxy.send(signal.SIGHUP)
    wait_for(lambda: "reloaded; policy" in w.proxy.log()[n:], 15, 0.1, what="reload")


def test_reload_follows_whether_an_escort_is_required():
    with Env() as env:
        w = world(env)
        t, sid = start_waiting_shell(w)
        try:
            wait_for(lambda: listed(w, sid), 10, what="bob to see the waiting session")
            # the policy no longer asks for an escort: the wait ends
            reload_policy(w, "    escort group:escorts\n", "    supervised-by group:escorts\n")
            t.expect(b"escort: the policy no longer requires an escort; connecting to web01")
            shell_ready(t)
            assert [r["state"] for r in listed(w, sid)] == ["running"]
            # it asks again: nobody is joined, so she is paused at once
            reload_policy(w, "    supervised-by group:escorts\n", "    escort group:escorts\n")
            t.expect(b"escort: no escort is present; your input is ignored until one joins")
            assert [r["state"] for r in listed(w, sid)] == ["waiting"]
            t.send(b"echo unseen-$((9*9))\r")
            st, out, err = as_user(w, "bob", "kill %s done" % sid)
            assert st == 0, (st, out, err)
            t.expect(b"escort: session ended by escort bob: done")
            assert t.wait() != 0
            assert b"unseen-81" not in t.log
            markers = [fields(e).get("text", "") for e in events(w, sid) if e["type"] == "marker"]
            assert "policy reload: no escort required any more; the wait ends" in markers, markers
        finally:
            stop(t)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def join(w, sid):
    """bob's `join ID` in a real terminal (ssh -tt)."""
    return Term(w.ssh_argv("bob", None, "join %s" % sid, key=w.keys["bob"], extra=("-tt",)))


def test_join_connects_then_leave_pauses_and_times_out():
    with Env() as env:
        w = world(env, extra_conf="EscortLeaveTimeout 3\n")
        t, sid = start_waiting_shell(w)
        j = None
        ran, dropped = w.marker("ran-after-join"), w.marker("typed-without-escort")
        try:
            wait_for(lambda: listed(w, sid), 10, what="bob to see the waiting session")
            assert target_logins(w) == 0
            j = join(w, sid)
            t.expect(b"escort: bob joined; connecting to web01")
            shell_ready(t)
            t.send(("touch %s; echo ran-$((2*3))\r" % ran).encode())
            t.expect(b"ran-6")
            assert os.path.exists(ran)
            assert target_logins(w) == 1
            rows = listed(w, sid)
            assert rows[0]["state"] == "running" and rows[0]["joined"] == 1, rows
            j.send(b"q")
            j.wait()
            t.expect(b"escort: no escort is present; your input is ignored until one joins "
                     b"(the session ends in 3 s)")
            assert [r["state"] for r in listed(w, sid)] == ["waiting"]
            t.send(("touch %s; echo typed-$((3*5))\r" % dropped).encode())
            t.expect(b"escort: no escort was present for 3 s; session ended", timeout=15)
            assert t.wait() != 0
            assert b"typed-15" not in t.log and not os.path.exists(dropped)
            ev = events(w, sid)
            acts = [(fields(e).get("escort_action"), fields(e).get("escort")) for e in ev
                    if e["type"] == "escort"]
            assert acts == [("join", "bob"), ("leave", "bob")], acts
            markers = [fields(e).get("text", "") for e in ev if e["type"] == "marker"]
            assert any(m.startswith("no escort is present: the technician's input is paused")
                       for m in markers), markers
            ends = [fields(e) for e in ev if e["type"] == "end"]
            assert ends[-1]["end_kind"] == "policy", ends
            assert ends[-1]["reason"] == "no escort was present for 3 s (EscortLeaveTimeout)", ends
        finally:
            stop(t)
            if j is not None:
                stop(j)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_returning_escort_resumes_and_a_pause_stays_apart():
    with Env() as env:
        w = world(env, extra_conf="EscortLeaveTimeout 60\n")
        t, sid = start_waiting_shell(w)
        j = None
        try:
            wait_for(lambda: listed(w, sid), 10, what="bob to see the waiting session")
            j = join(w, sid)
            t.expect(b"escort: bob joined; connecting to web01")
            shell_ready(t)
            j.send(b"q")
            j.wait()
            t.expect(b"escort: no escort is present; your input is ignored until one joins")
            t.send(b"echo lost-$((4*4))\r")
            j = join(w, sid)
            t.expect(b"escort: bob is present; your input goes through again")
            t.send(b"echo back-$((5*5))\r")
            t.expect(b"back-25")
            assert b"lost-16" not in t.log
            # an escort's own pause outlasts an absence: leaving and joining
            # again does not lift it, only a resume does
            st, out, err = as_user(w, "bob", "pause %s" % sid)
            assert st == 0, (st, out, err)
            t.expect(b"escort: session paused by bob")
            j.send(b"q")
            j.wait()
            t.expect(b"escort: no escort is present")
            assert [r["state"] for r in listed(w, sid)] == ["paused"]
            j = join(w, sid)
            t.expect(b"escort: bob is present; the session stays paused until an escort resumes it")
            t.send(b"echo still-paused-$((7*7))\r")
            st, out, err = as_user(w, "bob", "resume %s" % sid)
            assert st == 0, (st, out, err)
            t.expect(b"escort: session resumed by bob; your input goes through again")
            t.send(b"echo resumed-$((8*8))\r")
            t.expect(b"resumed-64")
            assert b"still-paused-49" not in t.log
            t.send(b"exit\r")
            assert t.wait() == 0
        finally:
            stop(t)
            if j is not None:
                stop(j)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_exec_waits_for_join_then_for_approval():
    """An exec request in a moderated session waits twice: for an escort to
    join (the connection), then for an escort's decision of an `approve`
    command; alice sees who approved, and the command runs only then."""
    with Env() as env:
        w = world(env)
        d = w.marker("approved-dir")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "mkdir %s" % d),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        j = None
        try:
            rows = wait_for(lambda: [r for r in (json.loads(l) for l in as_user(w, "bob", "sessions --json")[1]
                                                 .splitlines() if l.strip()) if r["user"] == "alice"],
                            10, what="bob to see alice's waiting exec")
            sid = rows[0]["id"]
            j = join(w, sid)
            rows = wait_for(lambda: [r for r in listed(w, sid) if r["pending"] == "mkdir %s" % d], 15,
                            what="the command to wait for approval")
            assert rows[0]["state"] == "running" and not os.path.exists(d), rows
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 0, (st, out, err)
            out, err = p.communicate(timeout=20)
            assert p.returncode == 0, err
            assert b"escort: approved by bob" in err, err
            assert os.path.isdir(d)
            acts = [(fields(e).get("escort_action"), fields(e).get("escort")) for e in events(w, sid)
                    if e["type"] == "escort"]
            assert acts[:2] == [("join", "bob"), ("approve", "bob")], acts
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            if j is not None:
                stop(j)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_join_to_a_target_that_is_down():
    """The first join starts the connection; a target that does not answer
    ends the session as for any session (the technician is told, the END
    is target-lost) and it leaves the list."""
    with Env() as env:
        id_key, _ = env.keygen("proxy_to_target")
        _, web02_host = env.keygen("web02_host")
        web02 = 'target web02 {\n    address 127.0.0.1:1\n    login nobody\n' \
                '    identity %s\n    hostkey "%s"\n}\n' % (id_key, " ".join(web02_host.split()[:2]))
        keys = {}
        for u in ("bob", "carol"):
            k, pub = env.keygen(u)
            keys[u] = (k, " ".join(pub.split()[:2]))
        rules = RULES.replace("where target:web01", "where target:web*") % {
            "bob": keys["bob"][1], "carol": keys["carol"][1]}
        w = ProxyWorld(env, rules=rules, extra_targets=web02)
        w.keys = {"bob": keys["bob"][0], "carol": keys["carol"][0], "alice": w.alice_key}
        p = subprocess.Popen(w.ssh_argv("alice", "web02", "true"), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        j = None
        try:
            rows = wait_for(lambda: [r for r in (json.loads(l) for l in as_user(w, "bob", "sessions --json")[1]
                                                 .splitlines() if l.strip()) if r["target"] == "web02"],
                            10, what="bob to see alice's waiting exec")
            sid = rows[0]["id"]
            j = join(w, sid)
            out, err = p.communicate(timeout=30)
            assert p.returncode != 0, err
            assert b"escort: bob joined; connecting to web02" in err, err
            assert b"escort: cannot connect to target web02" in err, err
            wait_for(lambda: not listed(w, sid), 10, what="the session to leave the list")
            ends = [fields(e) for e in events(w, sid) if e["type"] == "end"]
            assert ends[-1]["end_kind"] == "target-lost", ends
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            if j is not None:
                stop(j)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
