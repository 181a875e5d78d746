"""escort-proxy gives back what a finished session held: the connection to
the target is closed (the target's sshd sees the proxy leave), so the
proxy's open descriptors do not grow with the sessions it has served."""
import os
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, sftp

TIMEOUT = 60


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def target_conns(w):
    """TCP connections the proxy holds to the target's port, from its
    /proc/PID/net/tcp view and the inodes of its descriptors."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % w.proxy.pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (w.proxy.pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    port = "%04X" % w.target.port
    n = 0
    with open("/proc/%d/net/tcp" % w.proxy.pid) as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[2].endswith(":" + port) and cols[9] in inodes:
                n += 1
    return n


def sessions(w):
    """An allowed exec, a denied one, one that fails, an sftp session."""
    for cmd in ("echo one", "rm -rf /nonexistent", "false"):
        w.ssh("alice", "web01", cmd)
    r = sftp(w, "ls /\n")
    assert r.returncode == 0, r


def test_sessions_leave_no_target_connection_open():
    with Env() as env:
        w = ProxyWorld(env)
        # the same sessions twice first (one per worker): what the proxy
        # opens once and keeps is open by then
        for _ in range(2):
            sessions(w)
        wait_for(lambda: target_conns(w) == 0, 10, 0.05,
                 what="the first sessions' target connections to close")
        base = open_fds(w.proxy.pid)
        for _ in range(2):
            sessions(w)
        try:
            wait_for(lambda: target_conns(w) == 0 and open_fds(w.proxy.pid) <= base, 10, 0.05,
                     what="the proxy to close its target connections")
        except AssertionError:
            raise AssertionError("after 8 more sessions the proxy holds %d descriptors (%d before) "
                                 "and %d connections to the target: %s" % (
                                     open_fds(w.proxy.pid), base, target_conns(w),
                                     sorted(os.readlink("/proc/%d/fd/%s" % (w.proxy.pid, fd))
                                            for fd in os.listdir("/proc/%d/fd" % w.proxy.pid))))
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
