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


def test_runner_runs_side_by_side_and_serial_alone():
    """tests/run.py -j 2 runs two plain tests at once and a module's SERIAL
    test with nothing beside it; every test still gets its PASS line."""
    import os, sys, tempfile
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.executable, os.path.join(here, "run.py"), "-j", "2",
                            os.path.join(here, "harness", "selftest", "parallel_case.py")],
                           capture_output=True, timeout=60,
                           env=dict(os.environ, ESCORT_SELFTEST_DIR=d))
        out = r.stdout.decode()
        assert r.returncode == 0 and "integration: 3 passed, 0 failed" in out, r
        for n in ("test_side_a", "test_side_b", "test_alone"):
            assert "PASS parallel_case.py::%s (" % n in out, out
        span = {}
        for n in ("a", "b", "alone"):
            with open(os.path.join(d, n)) as f:
                span[n] = [float(x) for x in f.read().split()]
    a, b, alone = span["a"], span["b"], span["alone"]
    assert a[0] < b[1] and b[0] < a[1], ("not side by side", span)
    for s in (a, b):
        assert s[1] <= alone[0] or alone[1] <= s[0], ("the serial test had company", span)
