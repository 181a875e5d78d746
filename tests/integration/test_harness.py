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
