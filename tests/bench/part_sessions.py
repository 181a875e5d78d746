"""Hundreds of concurrent interactive sessions through one proxy: memory per
session against what OpenSSH's sshd spends on the same sessions, and the
echo times of a key typed in every session at once against the same number
of sessions straight to sshd (opened and closed just before)."""
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
    try:
        r = ss.hold(stack.ssh(["-tt"], "cat"), n, stack.pid(), tree_pid=ctx.sshd.proc.pid,
                    log=ctx.log)
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
    else:
        rep.na("sessions_direct_echo_p50", "the direct sessions did not all open")
    rep.add("sessions_proxy_rss_base", r["base_kib"], "KiB")
    rep.add("sessions_proxy_rss_full", r["full_kib"], "KiB")
    rep.add("sessions_rss_per_session", (r["full_kib"] - r["base_kib"]) / n, "KiB")
    if r["tree_base_kib"] is not None and r["tree_full_kib"] is not None:
        sshd_per = (r["tree_full_kib"] - r["tree_base_kib"]) / n
        rep.add("sessions_sshd_rss_per_session", sshd_per, "KiB")
        if sshd_per > 0:
            rep.add("sessions_proxy_vs_sshd_memory", (r["full_kib"] - r["base_kib"]) / n
                    / sshd_per, "x")
