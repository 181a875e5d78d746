"""What every part of the benchmark suite shares: the run's context and the
Escort daemons under test.  Each part lives in part_*.py, reports through
ctx.rep, and reports its figures as n/a with the reason when a prerequisite
is missing."""

from escort_stack import Stack

MB = 1e6


class Context:
    """env: the run's harness.core.Env; rep: report.Report; sshd: the
    target.BenchSshd; key/pub: the technician's key; identity: the key the
    proxy uses on the target; data/size: the 128 MiB file; log: progress."""

    def __init__(self, env, rep, sshd, key, pub, data, size, log):
        self.env, self.rep, self.sshd, self.key, self.pub = env, rep, sshd, key, pub
        self.data, self.size, self.log = data, size, log
        self.identity = None


def start_escort(ctx):
    s = Stack(ctx)
    if s.ok:
        ctx.log("   recorder pid %d, proxy pid %d on 127.0.0.1:%d"
                % (s.recorder.pid, s.proxy.pid, s.port))
    else:
        ctx.log("   escort not available: %s" % s.reason)
    return s
