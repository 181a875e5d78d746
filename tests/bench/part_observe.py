"""Observe mode on bulk output through the proxy: `cat` of the 128 MiB file
typed in a `shell observe` session (ssh -tt to the proxy, the line given on
stdin; every byte of output goes through the screen model) beside
`ssh -tt PROXY cat FILE` (an exec request: the same pseudo-terminal,
encryption and recording, no screen model), in interleaved rounds of the
same run.  A session's fixed cost (login, shell start-up, exit) is measured
apart with an empty command of each kind and taken out of both, so that the
ratio compares the path of the bytes; the raw ratio is printed beside it.
The proxy's CPU seconds per run (all its threads, from /proc) give the same
comparison with little sensitivity to other load on the machine."""
import os, statistics

import escort_stack
import throughput
from parts import MB

NAMES = ("bulk_proxy_exec_pty_throughput", "bulk_proxy_observe_throughput",
         "bulk_observe_vs_exec", "bulk_observe_vs_exec_raw", "bulk_observe_vs_exec_proxy_cpu",
         "bulk_proxy_strict_throughput", "bulk_observe_vs_strict", "bulk_observe_vs_strict_proxy_cpu")


def proxy_cpu(pid):
    """CPU seconds (user + system, every thread) escort-proxy used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def observe(ctx, stack, nrounds):
    rep = ctx.rep
    if not stack or not stack.ok:
        for n in NAMES:
            rep.na(n, stack.reason if stack else "proxy not started")
        return
    line = b"cat %s; exit\r" % ctx.data.encode()
    strict = "%s:%s" % (escort_stack.USER, escort_stack.STRICT_TARGET)
    runs = (
        ("exec", lambda: stack.ssh(["-tt"], "cat", ctx.data), None, ctx.size),
        ("observe", lambda: stack.ssh(["-tt"]), line, ctx.size),
        ("exec_empty", lambda: stack.ssh(["-tt"], "true"), None, 0),
        ("observe_empty", lambda: stack.ssh(["-tt"]), b"exit\r", 0),
        # the same line typed at a strict-mode prompt: the output passes the
        # marker scanner instead of the screen model
        ("strict", lambda: stack.ssh(["-tt"], user=strict), line, ctx.size),
        ("strict_empty", lambda: stack.ssh(["-tt"], user=strict), b"exit\r", 0),
    )
    times = {name: [] for name, _, _, _ in runs}
    cpu = {name: [] for name, _, _, _ in runs}
    for i in range(nrounds):
        for name, argv, line_in, size in runs:
            try:
                c0 = proxy_cpu(stack.pid())
                dt, got = throughput.timed_cat(argv(), size, 120, input=line_in)
                cpu[name].append(proxy_cpu(stack.pid()) - c0)
            except (throughput.RunError, OSError) as e:
                for n in NAMES:
                    rep.na(n, "%s run failed: %s" % (name, e))
                return
            times[name].append(dt)
            ctx.log("   round %d %-14s %.2f s  %d bytes, proxy %.2f CPU s" % (
                i + 1, name, dt, got, cpu[name][-1]))
    med = {k: statistics.median(v) for k, v in times.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    t_exec = max(med["exec"] - med["exec_empty"], 1e-3)
    t_obs = max(med["observe"] - med["observe_empty"], 1e-3)
    rep.add("bulk_proxy_exec_pty_throughput", ctx.size / t_exec / MB, "MB/s")
    rep.add("bulk_proxy_observe_throughput", ctx.size / t_obs / MB, "MB/s")
    rep.add("bulk_observe_vs_exec", t_exec / t_obs, "x")
    rep.add("bulk_observe_vs_exec_raw", med["exec"] / med["observe"], "x")
    c_exec = max(mcpu["exec"] - mcpu["exec_empty"], 1e-3)
    c_obs = max(mcpu["observe"] - mcpu["observe_empty"], 1e-3)
    rep.add("bulk_proxy_exec_pty_cpu", c_exec, "s")
    rep.add("bulk_proxy_observe_cpu", c_obs, "s")
    rep.add("bulk_observe_vs_exec_proxy_cpu", c_exec / c_obs, "x")
    t_str = max(med["strict"] - med["strict_empty"], 1e-3)
    c_str = max(mcpu["strict"] - mcpu["strict_empty"], 1e-3)
    rep.add("bulk_proxy_strict_throughput", ctx.size / t_str / MB, "MB/s")
    rep.add("bulk_observe_vs_strict", t_str / t_obs, "x")
    rep.add("bulk_observe_vs_strict_proxy_cpu", c_str / c_obs, "x")
    rep.add("session_fixed_exec_pty", med["exec_empty"], "s")
    rep.add("session_fixed_observe_shell", med["observe_empty"], "s")
