"""escort-proxy when the recorder goes away mid-session: nothing passes
while it is gone; the session resumes when it comes back, or ends with a
message after RecorderTimeout."""
import os, signal, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, session_id

TIMEOUT = 120


def counter_script(env, n):
    return env.write("count.sh", "i=0; while [ $i -lt %d ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n" % n)


def test_recorder_killed_then_back_resumes():
    with Env() as env:
        w = ProxyWorld(env)
        script = counter_script(env, 80)
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(1.0)
        w.recorder.kill()
        time.sleep(1.5)
        w.start_recorder()
        out, err = p.communicate(timeout=60)
        lines = out.decode().split()
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
        time.sleep(1.0)
        w.recorder.kill()
        t0 = time.monotonic()
        out, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
        assert b"recorder did not come back" in err, err
        assert p.returncode != 0
        assert took < 20, took
        n = len(out.split())
        assert 5 < n < 400, n
