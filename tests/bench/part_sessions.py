"""Hundreds of concurrent interactive sessions through one proxy: memory per
session against what OpenSSH's sshd spends on the same sessions."""
import subprocess

import sessions as ss


def sessions(ctx, stack, n):
    rep = ctx.rep
    if not stack.ok:
        return rep.na("sessions_rss_per_session", stack.reason)
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
    rep.add("sessions_proxy_rss_base", r["base_kib"], "KiB")
    rep.add("sessions_proxy_rss_full", r["full_kib"], "KiB")
    rep.add("sessions_rss_per_session", (r["full_kib"] - r["base_kib"]) / n, "KiB")
    if r["tree_base_kib"] is not None and r["tree_full_kib"] is not None:
        sshd_per = (r["tree_full_kib"] - r["tree_base_kib"]) / n
        rep.add("sessions_sshd_rss_per_session", sshd_per, "KiB")
        if sshd_per > 0:
            rep.add("sessions_proxy_vs_sshd_memory", (r["full_kib"] - r["base_kib"]) / n
                    / sshd_per, "x")
