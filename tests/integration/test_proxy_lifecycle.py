"""escort-proxy as a daemon: SIGTERM closes live sessions cleanly (the
technician is told, the recording is closed and verifies) and the proxy exits
0; SIGTERM right after sessions end exits 0 as well; SIGHUP reloads the
policy for the next command and ends live sessions a new forbid matches."""
import json, signal, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, session_id, replay

TIMEOUT = 120


def listed(w, sid):
    r = replay(w, "list", "--json")
    for line in r.stdout.decode().splitlines():
        o = json.loads(line)
        if o["id"] == sid:
            return o
    return None


def verify(w, env, sid):
    return replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))


def test_sigterm_during_live_session():
    with Env() as env:
        w = ProxyWorld(env)
        script = env.write("count.sh", "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = p.stdout.readline()
        assert first == b"line-1\n", first
        w.proxy.send(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert b"escort-proxy is shutting down" in err, err
        assert p.returncode == 255, (p.returncode, err)
        n = len((first + out).split())
        assert 1 <= n < 600, n
        rc = w.proxy.stop()
        assert rc == 0, (rc, w.proxy.log()[-3000:])
        log = w.proxy.log()
        assert "recording not closed" not in log, log[-3000:]
        sid = session_id(err)
        row = wait_for(lambda: listed(w, sid), 10, 0.2, what="session %s listed" % sid)
        assert row["status"] == "closed", row
        v = verify(w, env, sid)
        assert v.returncode == 0, v
        # the recording ends with what the technician saw
        c = replay(w, "cat", sid)
        assert c.returncode == 0, c
        assert c.stdout.endswith(out[-20:]) or out == b"", (c.stdout[-200:], out[-200:])


def test_sigterm_right_after_sessions_end():
    with Env() as env:
        w = ProxyWorld(env)
        sids = []
        for i in range(3):
            r = w.ssh("alice", "web01", "echo run-%d" % i)
            assert r.returncode == 0 and r.stdout == b"run-%d\n" % i, r
            sids.append(session_id(r.stderr))
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        for sid in sids:
            assert verify(w, env, sid).returncode == 0, sid


def test_sigterm_idle_proxy_and_half_open_connection():
    import socket
    with Env() as env:
        w = ProxyWorld(env)
        s = socket.create_connection(("127.0.0.1", w.port), timeout=5)
        try:
            assert s.recv(64).startswith(b"SSH-2.0-")
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        finally:
            s.close()
