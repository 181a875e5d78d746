"""How a session ended is a signed fact of its recording: the END event's
END_KIND, REASON and END_BY (escort-transcript(5)), shown by
`escort-replay list` (the ENDED column, "ended"/"end_kind"/"end_reason"/
"end_by" in --json) and `audit` (an "ended" line, and --json).  Each end
is caused with real processes: the technician's ssh killed, the target's
sshd killed, a policy reload that forbids the session or its max-session,
escort-proxy stopped or killed, escort-recorder stopped, or killed for
longer than RecorderTimeout (back in time for the proxy's END, or not).
Every store verifies afterwards."""
import json, os, signal, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, session_id, replay

TIMEOUT = 120


def counter(env, n=2000):
    return env.write("count.sh", "i=0; while [ $i -lt %d ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n" % n)


def rows(w, want_ok=False):
    r = replay(w, "list", "--json")
    if want_ok and r.returncode != 0:
        return {}
    return {o["id"]: o for o in map(json.loads, r.stdout.decode().splitlines())}


def closed_row(w, sid=None, timeout=20):
    """The list row of session sid (or of the only session) once closed and
    listed without a problem (the journal's close entry follows the file's
    final record by a moment)."""
    def get():
        rs = rows(w, want_ok=True)
        if sid is None and len(rs) == 1:
            row = next(iter(rs.values()))
        else:
            row = rs.get(sid)
        return row if row and row["status"] == "closed" and "problem" not in row else None
    return wait_for(get, timeout, 0.2, what="session closed in the store")


def audit_json(w, sid):
    r = replay(w, "audit", "--json")
    assert r.returncode == 0, r
    objs = {o["id"]: o for o in map(json.loads, r.stdout.decode().splitlines())}
    return objs[sid]


def check_end(w, row, kind, by, reason_has):
    """list, audit --json and audit's text agree on the end; verify passes."""
    assert row["ended"] == kind and row["end_kind"] == kind, row
    assert row["end_by"] == by, row
    assert reason_has in row["end_reason"], row
    a = audit_json(w, row["id"])
    assert (a["end_kind"], a["end_by"], a["status"]) == (kind, by, "closed"), a
    assert a["end_reason"] == row["end_reason"], a
    r = replay(w, "audit")
    assert r.returncode == 0, r
    out = r.stdout.decode()
    assert "ended   %s" % kind in out and row["end_reason"] in out, out
    r = replay(w, "list")
    line = [l for l in r.stdout.decode().splitlines() if l.startswith(row["id"])]
    assert len(line) == 1 and line[0].split()[-1] == kind, r.stdout
    r = replay(w, "verify", "--all", "--key", w.env.path("recorder-ed25519.pub.pem"))
    assert r.returncode == 0, r


def start_counting(w, env):
    p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + counter(env)), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert p.stdout.readline() == b"line-1\n"
    return p


def test_normal_exit_is_normal():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo hello")
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        row = closed_row(w, session_id(r.stderr))
        check_end(w, row, "normal", "proxy", "closed")


def test_technician_killed_is_client_lost():
    with Env() as env:
        w = ProxyWorld(env)
        p = start_counting(w, env)
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)
        row = closed_row(w)
        check_end(w, row, "client-lost", "proxy", "channel open")


def sshd_children(pid):
    """Pids of the processes whose parent is pid (the target's sshd serving
    one connection each)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


def test_target_sshd_killed_is_target_lost():
    with Env() as env:
        w = ProxyWorld(env)
        p = start_counting(w, env)
        kids = sshd_children(w.target.proc.pid)
        assert kids, "no sshd serving the session"
        for k in kids:
            os.kill(k, signal.SIGKILL)
        out, err = p.communicate(timeout=30)
        assert b"connection to the target lost" in err, err
        row = closed_row(w, session_id(err))
        check_end(w, row, "target-lost", "proxy", "target")


def test_policy_reload_forbid_is_policy():
    with Env() as env:
        w = ProxyWorld(env)
        p = start_counting(w, env)
        n = w.proxy.log().count("reloaded; policy")
        with open(w.policy_path, "a") as f:
            f.write("forbid ops-off-web {\n    who attr:team=ops\n    where target:web01\n}\n")
        w.proxy.send(signal.SIGHUP)
        out, err = p.communicate(timeout=30)
        assert w.proxy.log().count("reloaded; policy") > n
        assert b"policy changed (forbid ops-off-web)" in err, err
        row = closed_row(w, session_id(err))
        check_end(w, row, "policy", "proxy", "forbid ops-off-web")


def test_proxy_stopped_is_proxy_shutdown():
    with Env() as env:
        w = ProxyWorld(env)
        p = start_counting(w, env)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        out, err = p.communicate(timeout=30)
        row = closed_row(w, session_id(err))
        check_end(w, row, "proxy-shutdown", "proxy", "shutting down")


def test_proxy_killed_is_proxy_lost_after_resume_timeout():
    with Env() as env:
        w = ProxyWorld(env, start_recorder=False)
        with open(w.rec_conf, "a") as f:
            f.write("ResumeTimeout 2\n")
        w.start_recorder()
        p = start_counting(w, env)
        w.proxy.kill()
        p.communicate(timeout=30)
        t0 = time.monotonic()
        rs = rows(w)
        assert len(rs) == 1 and next(iter(rs.values()))["ended"] == "open", rs
        row = closed_row(w, timeout=30)
        assert time.monotonic() - t0 >= 1.0
        check_end(w, row, "proxy-lost", "recorder", "within 2 s (ResumeTimeout)")
        assert "ends: proxy-lost" in w.recorder.log()


def recorder_gone(env, resume_timeout):
    """A session whose recorder is killed for longer than RecorderTimeout
    (5 s): the technician is told; returns (world, session id)."""
    w = ProxyWorld(env, start_recorder=False)
    with open(w.rec_conf, "a") as f:
        f.write("ResumeTimeout %d\n" % resume_timeout)
    w.start_recorder()
    p = start_counting(w, env)
    w.recorder.kill()
    out, err = p.communicate(timeout=60)
    assert b"recorder did not come back" in err, err
    sid = session_id(err)
    assert rows(w)[sid]["ended"] == "open"
    return w, sid


def test_recorder_back_after_the_session_ended_gets_the_proxys_end():
    """The proxy ended the session without its recorder; the END saying so
    waits RecorderTimeout more, and reaches the recorder that comes back."""
    with Env() as env:
        w, sid = recorder_gone(env, 30)
        w.start_recorder()
        row = closed_row(w, sid, timeout=20)
        check_end(w, row, "recorder-lost", "proxy", "did not come back within 5 s")
        assert "final record not acknowledged" not in w.proxy.log()


def test_recorder_back_too_late_writes_recorder_lost_itself():
    """The recorder comes back after the proxy gave up on it: it closes the
    session it recovered, saying what it can know."""
    with Env() as env:
        w, sid = recorder_gone(env, 2)
        wait_for(lambda: "final record not acknowledged" in w.proxy.log(), 20, 0.1,
                 what="proxy to give up the session's END")
        w.start_recorder()
        row = closed_row(w, sid, timeout=30)
        check_end(w, row, "recorder-lost", "recorder", "no proxy resumed it")


def test_max_session_time_is_policy():
    from harness.proxy import DEFAULT_RULES
    with Env() as env:
        w = ProxyWorld(env, rules=DEFAULT_RULES.replace("    exec yes\n", "    exec yes\n    max-session 3s\n"))
        p = start_counting(w, env)
        out, err = p.communicate(timeout=30)
        assert b"maximum session time reached" in err, err
        row = closed_row(w, session_id(err))
        check_end(w, row, "policy", "proxy", "maximum session time")


def test_recorder_stopped_is_recorder_shutdown():
    with Env() as env:
        w = ProxyWorld(env)
        p = start_counting(w, env)
        assert w.recorder.stop() == 0, w.recorder.log()
        out, err = p.communicate(timeout=30)
        assert p.returncode != 0
        row = closed_row(w, session_id(err))
        check_end(w, row, "recorder-shutdown", "recorder", "was stopped while the session was recording")
