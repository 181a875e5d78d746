"""Approvals in strict mode, with real ssh clients through the real proxy,
recorder and target sshd: alice types a command the policy says `approve`
for in her strict shell (a real terminal); it waits, she is told so, and
escorts see it pending in `sessions`.  bob's `approve` runs it (its
side-effect file appears on the target) and the recording names bob as the
approver; his `deny` keeps it from running and alice sees his reason; alice
cannot approve her own session, carol (no escort) cannot approve at all;
alice's Ctrl-C cancels; bob and dave deciding at once make exactly one
decision; with ApprovalTimeout 2 an undecided command is denied.  An exec
request (`ssh alice:web01@proxy COMMAND`) waits the same way: approved it
runs, denied or timed out it exits 1 with the reason, and a client that
goes away leaves nothing pending."""
import json, os, re, threading, time
from harness.core import Env, wait_for
from harness.term import Term
from harness.proxy import ProxyWorld, replay

RULES = """
user bob {
    key "%(bob)s"
}
user dave {
    key "%(dave)s"
}
user carol {
    key "%(carol)s"
}
rule techs {
    who user:alice
    where target:web01
    shell strict
    exec yes
    supervised-by user:bob user:dave user:alice
    allow "echo ..."
    approve "touch ..."
}
rule carols {
    who user:carol
    where target:web01
    exec yes
    allow "true"
}
"""


def world(env, extra_conf=""):
    keys, paths = {}, {}
    for u in ("bob", "dave", "carol"):
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


def prompt(t):
    return t.expect(b"@web01:", timeout=20) + t.expect(b"$ ", timeout=5)


def start_shell(w):
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    banner = t.expect(b"is recorded")
    sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
    prompt(t)
    return t, sid


def ask(t, w, sid, path, seen=True):
    """alice types `touch PATH`; returns once escorts see it pending (seen)
    or once she is told it waits."""
    t.send(b"touch %s\r" % path.encode())
    t.expect(b"escort: waiting for an escort's approval of: touch %s (Ctrl-C cancels)" % path.encode())
    if not seen:
        return

    def pending():
        st, out, err = as_user(w, "bob", "sessions --json")
        rows = [json.loads(l) for l in out.splitlines() if l.strip()]
        return [r for r in rows if r["id"] == sid and r["pending"] == "touch %s" % path]
    wait_for(pending, 10, what="bob to see the pending command")


def stop(t):
    try:
        os.kill(t.pid, 9)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def decisions(w, sid):
    r = replay(w, "commands", sid, "--json")
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def escort_events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = []
    for l in r.stdout.decode().splitlines():
        e = json.loads(l) if l.strip() else {}
        f = {x.get("name"): x.get("value") for x in e.get("fields", [])}
        if e.get("type") in ("escort", "ESCORT") or f.get("escort_action"):
            out.append(f)
    return out


def test_approve_deny_and_who_may():
    with Env() as env:
        w = world(env)
        t, sid = start_shell(w)
        ok, no, late = w.marker("approved"), w.marker("denied"), w.marker("after")
        try:
            # nothing pending yet: nothing to approve
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 1 and "nothing pending" in err, (st, out, err)

            ask(t, w, sid, ok)
            st, out, err = as_user(w, "bob", "sessions")
            assert st == 0 and "pending: touch %s" % ok in out, (st, out, err)
            # while it waits, her typing is ignored
            t.send(b"echo typed-while-waiting\r")
            # alice is named as an escort, but never of her own session
            st, out, err = as_user(w, "alice", "approve %s" % sid)
            assert st == 1 and "your own" in err, (st, out, err)
            # carol is no escort at all
            st, out, err = as_user(w, "carol", "approve %s" % sid)
            assert st == 1 and "not an escort" in err, (st, out, err)
            assert not os.path.exists(ok)
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 0 and "approved in session %s" % sid in out, (st, out, err)
            t.expect(b"escort: approved by bob")
            prompt(t)
            wait_for(lambda: os.path.exists(ok), 10, what="the approved command to run")
            assert b"typed-while-waiting" not in t.log
            # decided: a second decision finds nothing pending
            st, out, err = as_user(w, "dave", "deny %s" % sid)
            assert st == 1 and "nothing pending" in err, (st, out, err)

            ask(t, w, sid, no)
            st, out, err = as_user(w, "bob", "deny %s not during business hours" % sid)
            assert st == 0 and "denied in session %s" % sid in out, (st, out, err)
            t.expect(b"escort: denied by bob: not during business hours; the command was not run")
            prompt(t)
            t.send(b"echo after-\"done\"\r")
            t.expect(b"lafter-done\r\n")
            prompt(t)
            assert not os.path.exists(no)
            # a paste of several lines: approval is asked for one line at a time
            pasted = w.marker("pasted")
            t.send(b"echo one-line\rtouch %s\r" % pasted.encode())
            t.expect(b"approval is asked for one line at a time: enter it alone")
            t.expect(b"escort: nothing of this entry was run (2 lines)")
            prompt(t)
            assert not os.path.exists(pasted)
            t.send(b"\x04")
            t.wait()

            cmds = decisions(w, sid)
            mine = [c for c in cmds if c["command"].startswith("touch ")]
            assert [(c["command"], c["decision"], c["approver"]) for c in mine] == [
                ("touch %s" % ok, "allow", "bob"), ("touch %s" % no, "deny", "bob"),
                ("touch %s" % pasted, "approve", None)], cmds
            r = replay(w, "commands", sid)
            assert r.returncode == 0 and b"by bob" in r.stdout, r.stdout
            ev = escort_events(w, sid)
            assert [(e.get("escort_action"), e.get("escort")) for e in ev] == [
                ("approve", "bob"), ("deny", "bob")], ev
            r = replay(w, "audit", "--user", "alice")
            assert r.returncode == 0 and b"approved by bob: touch %s" % ok.encode() in r.stdout, r.stdout
            assert b"denied by bob: touch %s" % no.encode() in r.stdout, r.stdout
            assert b" 1 approved" in r.stdout, r.stdout
        finally:
            stop(t)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_ctrl_c_cancels_and_race():
    with Env() as env:
        w = world(env)
        t, sid = start_shell(w)
        cancelled, raced = w.marker("cancelled"), w.marker("raced")
        try:
            ask(t, w, sid, cancelled)
            t.send(b"\x03")
            t.expect(b"escort: cancelled; the command was not run")
            prompt(t)
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 1 and "nothing pending" in err, (st, out, err)
            assert not os.path.exists(cancelled)

            # bob and dave at once: one decision counts, the other finds nothing
            ask(t, w, sid, raced)
            res = {}

            def go(u, verb):
                res[u] = as_user(w, u, "%s %s" % (verb, sid))
            th = [threading.Thread(target=go, args=("bob", "approve")),
                  threading.Thread(target=go, args=("dave", "deny"))]
            for x in th:
                x.start()
            for x in th:
                x.join(60)
            codes = sorted(r[0] for r in res.values())
            assert codes == [0, 1], res
            loser = [u for u, r in res.items() if r[0] == 1][0]
            assert "nothing pending" in res[loser][2], res
            winner = "bob" if loser == "dave" else "dave"
            # the one who came second learns who decided
            assert "already %s by %s" % ("approved" if winner == "bob" else "denied", winner) \
                in res[loser][2], res
            prompt(t)
            if winner == "bob":
                wait_for(lambda: os.path.exists(raced), 10, what="the approved command to run")
            else:
                time.sleep(1)
                assert not os.path.exists(raced)
            t.send(b"\x04")
            t.wait()

            cmds = [c for c in decisions(w, sid) if c["command"].startswith("touch ")]
            assert [(c["command"], c["decision"], c["approver"]) for c in cmds] == [
                ("touch %s" % cancelled, "deny", None),
                ("touch %s" % raced, "allow" if winner == "bob" else "deny", winner)], cmds
            ev = escort_events(w, sid)
            assert [e.get("escort") for e in ev] == [winner], ev
        finally:
            stop(t)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_timeout_denies():
    with Env() as env:
        w = world(env, extra_conf="ApprovalTimeout 2\n")
        t, sid = start_shell(w)
        late = w.marker("late")
        try:
            ask(t, w, sid, late, seen=False)    # 2 s: a listing may come too late
            t.expect(b"escort: no escort decided within 2 seconds; the command was not run", timeout=15)
            prompt(t)
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 1 and "nothing pending" in err, (st, out, err)
            assert not os.path.exists(late)
            t.send(b"\x04")
            t.wait()
            cmds = [c for c in decisions(w, sid) if c["command"].startswith("touch ")]
            assert [(c["decision"], c["approver"]) for c in cmds] == [("deny", None)], cmds
            # an exec request times out the same way
            xlate = w.marker("exec-late")
            r = w.ssh("alice", "web01", "touch %s" % xlate, timeout=30)
            assert r.returncode == 77, r.stderr
            assert b"escort: no escort decided within 2 seconds; the command was not run" in r.stderr, r.stderr
            assert not os.path.exists(xlate)
        finally:
            stop(t)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_exec_approve_and_deny():
    """`ssh alice:web01@proxy COMMAND` with an approve verdict waits the same
    way: bob's approve runs it (exit 0, the file exists), his deny refuses
    it (exit 1, his reason on stderr); the DECISIONs name bob."""
    import subprocess
    with Env() as env:
        w = world(env)
        ok, no = w.marker("exec-approved"), w.marker("exec-denied")
        procs = []
        try:
            def run(path):
                p = subprocess.Popen(w.ssh_argv("alice", "web01", "touch %s" % path),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                procs.append(p)

                def pending():
                    st, out, err = as_user(w, "bob", "sessions --json")
                    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
                    return [r for r in rows if r["pending"] == "touch %s" % path]
                sid = wait_for(pending, 15, what="bob to see the pending exec")[0]["id"]
                return p, sid

            p, sid = run(ok)
            assert not os.path.exists(ok)
            st, out, err = as_user(w, "alice", "approve %s" % sid)
            assert st == 1 and "your own" in err, (st, out, err)
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 0, (st, out, err)
            _, perr = p.communicate(timeout=30)
            assert p.returncode == 0, perr
            assert b"escort: waiting for an escort's approval of: touch %s" % ok.encode() in perr, perr
            assert b"escort: approved by bob" in perr, perr
            assert os.path.exists(ok)
            st, out, err = as_user(w, "dave", "deny %s" % sid)
            assert st == 1 and ("nothing pending" in err or "no such session" in err), (st, out, err)
            cmds = decisions(w, sid)
            assert [(c["decision"], c["approver"]) for c in cmds] == [("allow", "bob")], cmds

            p, sid = run(no)
            st, out, err = as_user(w, "bob", "deny %s not now" % sid)
            assert st == 0, (st, out, err)
            _, perr = p.communicate(timeout=30)
            assert p.returncode == 77, perr
            assert b"escort: denied by bob: not now; the command was not run" in perr, perr
            assert not os.path.exists(no)
            cmds = decisions(w, sid)
            assert [(c["decision"], c["approver"], c["reason"]) for c in cmds] == [
                ("deny", "bob", "denied by escort bob: not now")], cmds

            # the client goes away while it waits: nothing is left to approve
            gone = w.marker("exec-gone")
            p, sid = run(gone)
            p.kill()
            p.wait()

            def withdrawn():
                st, out, err = as_user(w, "bob", "sessions --json")
                rows = [json.loads(l) for l in out.splitlines() if l.strip()]
                return not [r for r in rows if r["id"] == sid and r["pending"]]
            wait_for(withdrawn, 15, what="the pending exec to be withdrawn")
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 1 and ("nothing pending" in err or "no such session" in err), (st, out, err)
            assert not os.path.exists(gone)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
