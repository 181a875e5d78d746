"""The harness itself: a real sshd starts on loopback and the real ssh client
runs a command through it; the process is stopped by pid afterwards."""
import subprocess
from harness.core import Env, ssh_base


def test_sshd_fixture_runs_commands():
    with Env() as env:
        key, pub = env.keygen("client")
        sshd = env.sshd(authorized=[pub])
        r = subprocess.run(ssh_base(sshd.port, key, sshd.login) + ["echo", "hello; exit 3"],
                           capture_output=True, timeout=30)
        assert r.stdout == b"hello\n", r
        assert r.returncode == 3, r  # the remote exit status comes back
        pid = sshd.proc.pid
    import os
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "sshd pid %d still running after the test" % pid


def test_runner_timeout_stops_the_tests_processes():
    """A test stopped by the runner's timeout still stops what it started."""
    import os, sys, tempfile
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as d:
        pidfile = os.path.join(d, "pid")
        r = subprocess.run([sys.executable, os.path.join(here, "run.py"),
                            os.path.join(here, "harness", "selftest", "hang_case.py")],
                           capture_output=True, timeout=60,
                           env=dict(os.environ, ESCORT_SELFTEST_PIDFILE=pidfile))
        assert r.returncode == 1 and b"TIMEOUT after 2s" in r.stdout, r
        with open(pidfile) as f:
            pid = int(f.read())
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "process %d of the timed-out test still runs" % pid
