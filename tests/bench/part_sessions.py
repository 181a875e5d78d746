"""Hundreds of concurrent interactive sessions through one proxy: memory per
session against what OpenSSH's sshd spends on the same sessions, and the
echo times of a key typed in every session at once against the same number
of sessions straight to sshd (opened and closed just before).

The same sessions then type three more times with the proxy's and the
recorder's autogroup at nice -10 (`weighted`): with autogroup scheduling
(kernel.sched_autogroup_enabled) every ssh client and every sshd session
leader is a scheduling group of its own, and the proxy, which serves all
the sessions from one process, gets the CPU share of one of them once the
cores are busy; -10 gives it the weight of about nine sessions."""
import subprocess

import sessions as ss


def sessions(ctx, stack, n, direct):
    rep = ctx.rep
    if not stack.ok:
        return rep.na("sessions_rss_per_session", stack.reason)
    try:
        d = ss.hold(direct("cat"), n, ctx.sshd.proc.pid, log=ctx.log)
    except RuntimeError as e:
        d = None
        ctx.log("   direct sessions failed: %s" % e)
    ss.wait_no_children(ctx.sshd.proc.pid)
    # A fresh proxy, so that the base is not the high-water mark of the bulk
    # parts (memory the allocator keeps or returns later would skew the growth).
    try:
        stack.start_proxy()
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return rep.na("sessions_rss_per_session", "proxy restart failed: %s" % e)
    pids = (stack.pid(), stack.recorder.pid)
    try:
        r = ss.hold(stack.ssh(["-tt"], "cat"), n, stack.pid(), tree_pid=ctx.sshd.proc.pid,
                    log=ctx.log, again=lambda on: _weight(pids, on))
    except RuntimeError as e:
        return rep.na("sessions_rss_per_session", str(e))
    if r["base_kib"] is None or r["full_kib"] is None:
        return rep.na("sessions_rss_per_session", "proxy exited during the run")
    rep.add("sessions_open", n, "sessions")
    rep.add("sessions_responsive", r["responsive"], "sessions")
    rep.add("sessions_open_time", r["open_s"], "s")
    rep.add("sessions_echo_p50", r["echo_p50"] * 1e3, "ms")
    rep.add("sessions_echo_max", r["echo_max"] * 1e3, "ms")
    if d:
        rep.add("sessions_direct_echo_p50", d["echo_p50"] * 1e3, "ms")
        rep.add("sessions_direct_echo_max", d["echo_max"] * 1e3, "ms")
        if d["echo_p50"] > 0:
            rep.add("sessions_echo_p50_vs_direct", r["echo_p50"] / d["echo_p50"], "x")
        if d["echo_max"] > 0:
            rep.add("sessions_echo_max_vs_direct", r["echo_max"] / d["echo_max"], "x")
    else:
        rep.na("sessions_direct_echo_p50", "the direct sessions did not all open")
    if r.get("again_na") is not None:
        rep.na("sessions_echo_p50_weighted", r["again_na"])
    else:
        rep.add("sessions_echo_p50_weighted", r["echo_p50_again"] * 1e3, "ms")
        rep.add("sessions_echo_max_weighted", r["echo_max_again"] * 1e3, "ms")
        if d and d["echo_p50"] > 0 and d["echo_max"] > 0:
            rep.add("sessions_echo_p50_weighted_vs_direct", r["echo_p50_again"] / d["echo_p50"],
                    "x")
            rep.add("sessions_echo_max_weighted_vs_direct", r["echo_max_again"] / d["echo_max"],
                    "x")
    rep.add("sessions_proxy_rss_base", r["base_kib"], "KiB")
    rep.add("sessions_proxy_rss_full", r["full_kib"], "KiB")
    rep.add("sessions_rss_per_session", (r["full_kib"] - r["base_kib"]) / n, "KiB")
    if r["tree_base_kib"] is not None and r["tree_full_kib"] is not None:
        sshd_per = (r["tree_full_kib"] - r["tree_base_kib"]) / n
        rep.add("sessions_sshd_rss_per_session", sshd_per, "KiB")
        if sshd_per > 0:
            rep.add("sessions_proxy_vs_sshd_memory", (r["full_kib"] - r["base_kib"]) / n
                    / sshd_per, "x")


AUTOGROUP_NICE = -10


def _weight(pids, on):
    """Sets (on) or resets the autogroup nice of pids; returns None, or why
    not (autogroups off, not permitted)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            if f.read().strip() != "1":
                return "autogroup scheduling is off"
    except OSError as e:
        return "autogroup scheduling unknown: %s" % e.strerror
    for pid in pids:
        try:
            with open("/proc/%d/autogroup" % pid, "w") as f:
                f.write(str(AUTOGROUP_NICE if on else 0))
        except OSError as e:
            if on:
                return "cannot set /proc/%d/autogroup: %s" % (pid, e.strerror)
    return None
