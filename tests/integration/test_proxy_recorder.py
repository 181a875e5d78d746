"""escort-proxy when the recorder goes away mid-session: nothing passes
while it is gone; the session resumes when it comes back, or ends with a
message after RecorderTimeout."""
import os, signal, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, session_id

TIMEOUT = 120


def counter_script(env, n):
    return env.write("count.sh", "i=0; while [ $i -lt %d ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n" % n)


def first_lines(p, n):
    """The first n lines the client printed: the session is live and has
    forwarded output (however loaded the machine) before the recorder goes."""
    got = b""
    for _ in range(n):
        got += p.stdout.readline()
    return got


def test_recorder_killed_then_back_resumes():
    with Env() as env:
        w = ProxyWorld(env)
        script = counter_script(env, 80)
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = first_lines(p, 6)
        w.recorder.kill()
        time.sleep(1.5)
        w.start_recorder()
        out, err = p.communicate(timeout=60)
        lines = (first + out).decode().split()
        assert lines == ["line-%d" % i for i in range(1, 81)], (lines, err)
        assert p.returncode == 0, err
        assert "forwarding paused" in w.proxy.log()
        assert "forwarding resumes" in w.proxy.log()


def test_recorder_gone_ends_session():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="")
        script = counter_script(env, 400)
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = first_lines(p, 6)
        w.recorder.kill()
        t0 = time.monotonic()
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
        assert b"recorder did not come back" in err, err
        assert p.returncode != 0
        assert took < 20, took
        n = len((first + out).split())
        assert 5 < n < 400, n


def _mux_world(env):
    from harness.proxy import DEFAULT_RULES
    w = ProxyWorld(env, rules=DEFAULT_RULES.replace('allow "true"', 'allow "true"\n    allow "touch ..."'))
    ctl = env.path("ctl", "m")
    mux = ("-o", "ControlPath=" + ctl)
    master = env.start("ssh-master", w.ssh_argv("alice", "web01",
                                                extra=("-N", "-o", "ControlMaster=yes") + mux))
    wait_for(lambda: os.path.exists(ctl) or not master.alive(), 15, what="control socket")
    assert master.alive(), master.log()
    r = w.ssh("alice", "web01", "echo first", extra=("-o", "ControlMaster=no") + mux)
    assert r.returncode == 0 and r.stdout == b"first\n", r
    return w, mux, master


def _decisions(w):
    import json
    r = subprocess.run([os.path.join(os.path.dirname(__file__), "..", "..", "bin", "escort-replay"),
                        "--store", w.store, "commands", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def test_new_exec_on_a_live_connection_waits_for_the_recorder():
    """ssh ControlMaster: with the recorder gone, a new exec on the open
    connection is neither decided nor run; when the recorder returns it is
    decided, recorded, then run."""
    with Env() as env:
        w, mux, master = _mux_world(env)
        marker = env.path("target-files", "ran-while-unrecorded")
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        w.recorder.kill()
        wait_for(lambda: "forwarding paused" in w.proxy.log(), 10, what="proxy to notice")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "touch %s; echo done" % marker,
                                        extra=("-o", "ControlMaster=no") + mux),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(2.0)
        assert not os.path.exists(marker), "the exec ran while the recorder was down"
        assert "touch" not in w.proxy.log().split("forwarding paused", 1)[1], \
            "decided while the recorder was down"
        w.start_recorder()
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and out == b"done\n", (out, err)
        assert os.path.exists(marker)
        subprocess.run(w.ssh_argv("alice", "web01", extra=("-O", "exit") + mux),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=15)
        master.p.wait(15)
        cmds = [d["command"] for d in _decisions(w)]
        assert any(marker in c for c in cmds), cmds


def test_new_exec_never_runs_when_the_recorder_does_not_return():
    with Env() as env:
        w, mux, master = _mux_world(env)
        marker = env.path("target-files", "ran-unrecorded")
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        w.recorder.kill()
        wait_for(lambda: "forwarding paused" in w.proxy.log(), 10, what="proxy to notice")
        r = subprocess.run(w.ssh_argv("alice", "web01", "touch %s" % marker,
                                      extra=("-o", "ControlMaster=no") + mux),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=60)
        assert r.returncode != 0, r
        assert b"recorder did not come back" in r.stderr, r.stderr
        assert not os.path.exists(marker)
        assert "touch" not in w.proxy.log().split("forwarding paused", 1)[1]
        master.p.wait(30)
