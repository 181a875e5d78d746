#!/usr/bin/env python3
"""CPU seconds per GiB that escort-proxy and escort-recorder spend on bulk
exec transfers, measured from /proc/PID/stat (user + system of every thread),
so that the figure means something on a shared, loaded machine where wall
time is mostly waiting for a core.  Not run by `make bench`.

One OpenSSH sshd is started on loopback; then one recorder + proxy stack per
--bin directory (two builds compare side by side).  Each round runs, for every
stack in turn, `ssh -T proxy cat FILE...` (--down GiB of output, SHA-256
checked) and `ssh -T proxy sha256sum` fed --up MiB on stdin (remote hash
checked).  The target sshd's CPU (its finished sessions: the privilege-
separated sshd processes and the remote command, from the cutime and cstime
of the listening sshd) is given per transfer, and the sum of every process
of the pipe ("all"): on a machine whose cores are all busy, the wall-time
ratio of proxy to direct cannot beat the ratio of those sums.
The ssh client's own CPU is given for the same transfer direct
(straight to sshd) as the reference of what one end of an SSH pipe costs.

With --perf DIR, each stack's proxy and recorder are recorded with
`perf record -g` during the first round's download (DIR/NAME-proxy.data,
DIR/NAME-recorder.data).

Usage: tests/bench/cpu_transfer.py --data build/bench/data \\
           --bin before=/tmp/escort-before --bin after=bin [--rounds 3] [--perf DIR]
Every process started is stopped by pid when the run ends."""
import argparse, hashlib, os, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from harness.core import Env, ssh_base                      # noqa: E402
import escort_stack                                          # noqa: E402
from target import BenchSshd                                 # noqa: E402
import parts                                                 # noqa: E402
from part_transfer import _stream, _data_blocks, _sha_of_repeats   # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid):
    """User + system seconds of pid (all threads), or 0.0 when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0.0
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def reaped_cpu_of(pid):
    """User + system seconds of pid's children that it has waited for (for
    the target sshd: every finished session, its privilege-separated
    processes and the command it ran), or 0.0 when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0.0
    fields = st[st.rindex(")") + 2:].split()
    return (int(fields[13]) + int(fields[14])) / TICK


def settle_reaped(pid, limit=10.0):
    """Waits until pid's reaped-children CPU stops growing (sshd reaps a
    session's process after the client saw its end), at most limit seconds."""
    t0, last = time.monotonic(), -1.0
    while time.monotonic() - t0 < limit:
        now = reaped_cpu_of(pid)
        if now == last:
            return now
        last = now
        time.sleep(0.5)
    return last


def minflt_of(pid):
    """Minor page faults of pid so far (all threads), or 0 when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return 0
    return int(st[st.rindex(")") + 2:].split()[7])


def settle(pid, limit=10.0):
    """Waits until pid's CPU time stops growing (the recorder compresses and
    writes after the client saw its last byte), at most limit seconds."""
    t0, last = time.monotonic(), -1.0
    while time.monotonic() - t0 < limit:
        now = cpu_of(pid)
        if now == last:
            return
        last = now
        time.sleep(0.5)


def children_cpu():
    r = os.times()
    return r.children_user + r.children_system


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", action="append", required=True, help="NAME=DIR")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--down", type=int, default=1, help="GiB of exec output")
    ap.add_argument("--up", type=int, default=256, help="MiB of exec stdin")
    ap.add_argument("--perf", help="directory for perf record files (first round)")
    ap.add_argument("--perf-dwarf", type=int, default=0, metavar="SECONDS",
                    help="with --perf: DWARF call graphs for the first SECONDS only "
                         "(libssh and libc have no frame pointers)")
    ap.add_argument("--perf-event", help="with --perf: the event to sample (perf -e)")
    ap.add_argument("--no-direct", action="store_true")
    a = ap.parse_args()
    data = os.path.abspath(a.data)
    size = os.path.getsize(data)
    down_times = max(1, (a.down << 30) // size)
    up_times = max(1, (a.up << 20) // size)
    want_down = _sha_of_repeats(data, down_times)
    want_up = _sha_of_repeats(data, up_times)
    down_gib = down_times * size / (1 << 30)
    up_gib = up_times * size / (1 << 30)

    def log(m):
        print(m, flush=True)

    with Env("escort-cpu") as env:
        key, pub = env.keygen("tech")
        identity, identity_pub = env.keygen("proxy_ops")
        sshd = BenchSshd(env, [pub, identity_pub])
        stacks = []
        for spec in a.bin:
            name, d = spec.split("=", 1)
            d = os.path.abspath(d)
            escort_stack.bin_path = lambda n, d=d: os.path.join(d, n)
            sub = Env("escort-cpu-" + name)
            sub.__enter__()
            env_stop = sub
            ctx = parts.Context(sub, None, sshd, key, pub, data, size, log)
            ctx.identity = identity
            s = escort_stack.Stack(ctx)
            if not s.ok:
                env_stop.__exit__(None, None, None)
                raise SystemExit("%s: stack failed: %s" % (name, s.reason))
            log("%s: proxy pid %d, recorder pid %d (%s)" % (name, s.proxy.pid, s.recorder.pid, d))
            stacks.append((name, s, sub))
        try:
            ways = [(n, s) for n, s, _ in stacks]
            if not a.no_direct:
                ways.append(("direct", None))
            res = {}
            for rnd in range(a.rounds):
                for name, s in ways:
                    def argv(*c):
                        if s is None:
                            return ssh_base(sshd.port, key, sshd.login, extra=["-T"]) + list(c)
                        return s.ssh(["-T"], *c)
                    for way, cmd, feed, gib, want in (
                            ("down", argv("cat", *[data] * down_times), lambda: [], down_gib,
                             want_down),
                            ("up", argv("sha256sum"), lambda: _data_blocks(data, up_times),
                             up_gib, want_up)):
                        perf = []
                        if s is not None and a.perf and rnd == 0 and way == "down":
                            os.makedirs(a.perf, exist_ok=True)
                            for what, pid in (("proxy", s.proxy.pid), ("recorder", s.recorder.pid)):
                                out = os.path.join(a.perf, "%s-%s.data" % (name, what))
                                how = (["--call-graph", "dwarf,16384"] if a.perf_dwarf else ["-g"])
                                tail = (["--", "sleep", str(a.perf_dwarf)] if a.perf_dwarf else [])
                                perf.append(subprocess.Popen(
                                    ["perf", "record", *how, *(["-e", a.perf_event] if a.perf_event else []), "-q", "-o", out, "-p", str(pid), *tail],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                            time.sleep(1.0)
                        p0 = cpu_of(s.proxy.pid) if s else 0.0
                        r0 = cpu_of(s.recorder.pid) if s else 0.0
                        f0 = minflt_of(s.proxy.pid) if s else 0
                        c0 = children_cpu()
                        t0 = settle_reaped(sshd.proc.pid)
                        dt, rc, sha, got, head = _stream(cmd, feed(), 600)
                        c1 = children_cpu()
                        if s:
                            settle(s.recorder.pid)
                        t1 = settle_reaped(sshd.proc.pid)
                        p1 = cpu_of(s.proxy.pid) if s else 0.0
                        f1 = minflt_of(s.proxy.pid) if s else 0
                        r1 = cpu_of(s.recorder.pid) if s else 0.0
                        for pp in perf:
                            pp.send_signal(signal.SIGINT)
                            pp.wait(120)
                        ok = rc == 0 and (sha == want if way == "down"
                                          else head.split()[:1] == [want.encode()])
                        if not ok:
                            log("   %s %s: exit %d, %d bytes out, client said: %s" % (
                                name, way, rc, got, getattr(_stream, "last_stderr", "")[-300:]))
                        row = ((p1 - p0) / gib, (r1 - r0) / gib, (c1 - c0) / gib, dt,
                               (f1 - f0) / gib / 1000, (t1 - t0) / gib)
                        res.setdefault((name, way), []).append(row)
                        log("round %d %-8s %-4s %s  proxy %6.2f  recorder %6.2f  client %6.2f "
                            "CPU s/GiB  wall %5.1f s  proxy faults %.0fk/GiB  sshd %5.2f"
                            % (rnd + 1, name, way, "ok " if ok else "BAD", *row))
            log("\nmedians, CPU seconds per GiB (user+system, /proc/PID/stat):")
            for (name, way), rows in res.items():
                med = [sorted(r[i] for r in rows)[len(rows) // 2] for i in range(6)]
                log("  %-8s %-4s proxy %6.2f  recorder %6.2f  client %6.2f  wall %5.1f s  "
                    "proxy faults %.0fk/GiB  sshd %5.2f  all %5.2f CPU s/GiB"
                    % (name, way, *med, med[0] + med[1] + med[2] + med[5]))
        finally:
            for _, _, sub in stacks:
                sub.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
