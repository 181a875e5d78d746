"""What a technician's stock client sees of a refusal (escort-proxy(8),
EXIT STATUS and CONNECTING): a policy refusal exits 77 and says so on
stderr, a failing command keeps its own status."""
import os, subprocess
from harness.core import Env
from harness.proxy import ProxyWorld, sftp

DENIED = 77

NOTHING = """
rule nothing-but-sessions {
    who user:alice
    where target:web01
    shell none
}
"""


def shell_status(argv):
    """Runs argv as `CMD; echo $?` would, through sh: the status a shell
    user reads."""
    cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv) + ' 2>/dev/null; echo "$?"'
    r = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=60)
    return int(r.stdout.decode().split()[-1])


def test_policy_denial_exits_77():
    with Env() as env:
        w = ProxyWorld(env)
        mark = w.marker("never")
        # denied by a rule, and by default (no rule allows it)
        r = w.ssh("alice", "web01", "rm -rf " + mark)
        assert r.returncode == DENIED and b"escort: command denied" in r.stderr, r
        r = w.ssh("alice", "web01", "touch " + mark)
        assert r.returncode == DENIED and b"escort: command denied" in r.stderr, r
        assert shell_status(w.ssh_argv("alice", "web01", "touch " + mark)) == DENIED
        # a command that runs and fails keeps its own status
        r = w.ssh("alice", "web01", "false")
        assert r.returncode == 1 and b"escort: command denied" not in r.stderr, r
        r = w.ssh("alice", "web01", "sh -c 'exit 5'")
        assert r.returncode == 5, r
        # a target no rule admits
        r = w.ssh("alice", "db99", "true")
        assert r.returncode == DENIED and b"escort: access to db99 refused" in r.stderr, r
        assert not os.path.exists(mark)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_requests_a_target_does_not_allow_exit_77():
    with Env() as env:
        w = ProxyWorld(env, rules=NOTHING)
        r = w.ssh("alice", "web01", "true")
        assert r.returncode == DENIED and b"not allowed on this target" in r.stderr, r
        r = w.ssh("alice", "web01", None, extra=("-tt",), input=b"exit\n")
        assert r.returncode == DENIED and b"interactive shells are not allowed" in r.stderr, r
        # a subsystem the policy refuses: ssh -s passes the status on; sftp
        # itself exits 255 with the proxy's message
        r = w.ssh("alice", "web01", "sftp", extra=("-s",))
        assert r.returncode == DENIED and b'subsystem "sftp" is not allowed' in r.stderr, r
        r = sftp(w, "ls /\n")
        assert r.returncode == 255 and b'subsystem "sftp" is not allowed' in r.stderr, r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
