"""Bulk terminal output beside sudo's I/O log and tlog-rec: throughput, the
size each stores, and how fast escort-replay verifies what was stored."""
import os, resource, shutil, statistics, subprocess, time

import throughput
from harness.core import bin_path, tool_path
from parts import MB
from target import tree_size


def bulk(ctx, stack, direct, nrounds):
    """128 MiB through `ssh -tt cat`: direct, sudo I/O log, tlog-rec, proxy."""
    rep, sshd, env = ctx.rep, ctx.sshd, ctx.env
    sizes = {}
    methods = [throughput.Method("direct", lambda: direct("cat", ctx.data))]

    if sshd.sudo_ok:
        def sudo_after():
            seq = os.path.join(sshd.iolog, "seq")
            sizes["sudo"] = tree_size(sshd.iolog) - (os.path.getsize(seq)
                                                      if os.path.exists(seq) else 0)
        methods.append(throughput.Method(
            "sudo", lambda: direct("sudo", "-n", "-u", "root", "cat", ctx.data),
            before=sshd.clear_iolog, after=sudo_after))
    tlog = shutil.which("tlog-rec")
    if tlog:
        tlog_file = env.path("tlog", "session.log")

        def tlog_before():
            if os.path.exists(tlog_file):
                os.unlink(tlog_file)

        def tlog_after():
            sizes["tlog"] = tree_size(tlog_file)
        methods.append(throughput.Method(
            "tlog", lambda: direct(tlog, "--writer=file", "--file-path=" + tlog_file,
                                   "cat", ctx.data),
            before=tlog_before, after=tlog_after))
    if stack and stack.ok:
        methods.append(throughput.Method(
            "proxy", lambda: stack.ssh(["-tt"], "cat", ctx.data),
            before=stack.mark_store, after=lambda: sizes.__setitem__(
                "escort", stack.new_recording_size())))

    med = throughput.rounds(methods, ctx.size, nrounds, log=ctx.log)
    byname = {m.name: m for m in methods}

    if "direct" not in med:
        reason = "direct ssh -tt cat failed: %s" % byname["direct"].error
        for n in ("bulk_direct_throughput", "bulk_sudo_iolog_vs_direct",
                  "bulk_tlog_vs_direct", "bulk_proxy_vs_direct"):
            rep.na(n, reason)
        return sizes
    d = med["direct"]
    rep.add("bulk_direct_throughput", ctx.size / d / MB, "MB/s")

    def ratio(name, method, missing):
        if method in med:
            rep.add(name, d / med[method], "x")
        elif method in byname:
            rep.na(name, "%s run failed: %s" % (method, byname[method].error))
        else:
            rep.na(name, missing)
    ratio("bulk_sudo_iolog_vs_direct", "sudo", sshd.sudo_reason or "sudo not available")
    ratio("bulk_tlog_vs_direct", "tlog", "tlog-rec not installed")
    ratio("bulk_proxy_vs_direct", "proxy", stack.reason if stack else "proxy not started")

    for k, label in (("sudo", "sudo_iolog"), ("tlog", "tlog")):
        if k in sizes:
            rep.add("size_%s" % label, sizes[k], "bytes")
            rep.add("size_%s_vs_raw" % label, sizes[k] / ctx.size, "x")
        else:
            rep.na("size_%s" % label, "no %s run completed" % k)
    return sizes


def _record_via_sender(ctx, stack, direct):
    """When the proxy cannot record the bulk session: the same terminal output
    (captured once from `ssh -tt cat` direct) sent as OUTPUT events in 16 KiB
    pieces by escort-rec-send to the same recorder.  Returns (bytes the store
    grew by, None) or (None, reason)."""
    send = tool_path("escort-rec-send")
    if not stack.rec_ok:
        return None, stack.rec_reason
    if not os.access(send, os.X_OK):
        return None, "proxy unavailable (%s) and escort-rec-send not built" % stack.reason
    capture = ctx.env.path("capture", "tty-output")
    try:
        with open(capture, "wb") as f:
            subprocess.run(direct("cat", ctx.data), stdin=subprocess.PIPE, stdout=f,
                           stderr=subprocess.DEVNULL, timeout=120, check=True)
        stack.mark_store()
        r = subprocess.run([send, "-s", "unix:" + stack.sock, "--chunk", "16384", capture],
                           capture_output=True, timeout=180)
    except (subprocess.SubprocessError, OSError) as e:
        return None, "capture or send failed: %s" % e
    if r.returncode != 0:
        return None, "escort-rec-send exit %d: %s" % (
            r.returncode, r.stderr.decode("utf-8", "replace").strip()[-200:])
    grown = stack.new_recording_size()
    os.unlink(capture)
    return grown, None


def sizes_vs_baselines(ctx, stack, sizes, direct):
    """The stored recording of the proxied bulk session against sudo's and
    tlog's (or, without a working proxy, the same output sent by
    escort-rec-send to the recorder)."""
    rep = ctx.rep
    names = ("size_escort", "size_escort_vs_sudo_iolog", "size_escort_vs_tlog")
    via = "proxy"
    if not sizes.get("escort"):
        e, reason = _record_via_sender(ctx, stack, direct)
        if e is None:
            for n in names:
                rep.na(n, reason)
            return
        sizes["escort"], via = e, "escort-rec-send"
    e = sizes["escort"]
    rep.add("size_escort", e, "bytes")
    rep.add("size_escort_via", via, "")
    rep.add("size_escort_vs_raw", e / ctx.size, "x")
    for k, label in (("sudo", "sudo_iolog"), ("tlog", "tlog")):
        if sizes.get(k):
            rep.add("size_escort_vs_%s" % label, e / sizes[k], "x")
        else:
            rep.na("size_escort_vs_%s" % label, "no %s size measured" % k)


def timed_run(argv, stdout=None, timeout=300):
    """Runs argv to its end; returns (wall seconds, CPU seconds of the child,
    user + system, from getrusage of the children, completed process)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=stdout if stdout is not None else subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, max(cpu, 1e-3), r


def spread(ctx, name, values, unit):
    """Adds the median of values as figure name; logs min and max."""
    med = statistics.median(values)
    ctx.rep.add(name, med, unit)
    ctx.log("   %s: min %.4g, median %.4g, max %.4g %s over %d runs" % (
        name, min(values), med, max(values), unit, len(values)))
    return med


def replay_verify(ctx, stack):
    """escort-replay verify --all over the store the bulk runs filled, with
    and without --anchor, beside sha256sum of the same files: 5 interleaved
    rounds, MB/s of stored data by wall time and by CPU time of the process
    (the CPU figures move little with other load on the machine)."""
    rep = ctx.rep
    replay = bin_path("escort-replay")
    if not stack.rec_ok:
        return rep.na("replay_verify_throughput", stack.rec_reason)
    if not os.access(replay, os.X_OK):
        return rep.na("replay_verify_throughput", "escort-replay not built")
    stored = stack.store_bytes()
    rep.add("replay_verify_stored_bytes", stored, "bytes")
    # The anchor: the store's current tree head, saved outside it, checked
    # against the journal's Merkle tree.
    anchor = os.path.join(os.path.dirname(stack.store), "anchor.txt")
    a = subprocess.run([replay, "--store", stack.store, "anchor", "--key", stack.recorder_pub],
                       capture_output=True, timeout=300)
    if a.returncode == 0:
        with open(anchor, "wb") as f:
            f.write(a.stdout)
    files = [os.path.join(dp, n) for dp, _, fs in os.walk(stack.store) for n in fs]
    verify = [replay, "--store", stack.store, "verify", "--all", "--key", stack.recorder_pub]
    runs = {"verify": verify, "sha256sum": ["sha256sum", "--"] + files}
    if a.returncode == 0:
        runs["anchor"] = verify + ["--anchor", anchor]
    else:
        rep.na("replay_verify_anchor_throughput", "anchor exit %d" % a.returncode)
    wall = {k: [] for k in runs}
    cpu = {k: [] for k in runs}
    for _ in range(5):
        for k, argv in runs.items():
            w, c, r = timed_run(argv)
            if r.returncode != 0:
                msg = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()
                name = {"anchor": "replay_verify_anchor_throughput",
                        "sha256sum": "sha256sum_store_throughput"}.get(k, "replay_verify_throughput")
                return rep.na(name, "%s exit %d: %s" % (k, r.returncode, msg[-1] if msg else ""))
            wall[k].append(stored / w / MB)
            cpu[k].append(stored / c / MB)
    names = {"verify": "replay_verify", "anchor": "replay_verify_anchor",
             "sha256sum": "sha256sum_store"}
    med = {}
    for k in runs:
        spread(ctx, names[k] + "_throughput", wall[k], "MB/s")
        med[k] = spread(ctx, names[k] + "_cpu_throughput", cpu[k], "MB/s")
    rep.add("replay_verify_vs_sha256sum", statistics.median(wall["verify"]) /
            statistics.median(wall["sha256sum"]), "x")
    rep.add("replay_verify_cpu_vs_sha256sum", med["verify"] / med["sha256sum"], "x")
    if "anchor" in runs:
        rep.add("replay_verify_anchor_cpu_vs_sha256sum", med["anchor"] / med["sha256sum"], "x")


def replay_cat_verify(ctx, stack):
    """escort-replay cat of the largest recording (a 128 MiB-output bulk
    session) with verification against `cat --no-verify`: the speed ratio,
    5 interleaved rounds, output to /dev/null; by wall time (the goal's
    figure) and by CPU time of the process, each the median of the ratios of
    the pairs of runs, with their spread."""
    rep = ctx.rep
    name = "replay_cat_verify_vs_no_verify"
    replay = bin_path("escort-replay")
    if not stack.rec_ok:
        return rep.na(name, stack.rec_reason)
    d = os.path.join(stack.store, "sessions")
    files = [f for f in os.listdir(d) if f.endswith(".est")] if os.path.isdir(d) else []
    if not files:
        return rep.na(name, "no recording in the store")
    sid = max(files, key=lambda f: os.path.getsize(os.path.join(d, f)))[:-len(".est")]
    wall, cpu = [], []
    for _ in range(5):
        got = {}
        for mode, extra in (("verify", ["--key", stack.recorder_pub]), ("no_verify", ["--no-verify"])):
            with open(os.devnull, "wb") as out:
                w, c, r = timed_run([replay, "--store", stack.store, "cat", *extra, sid], stdout=out)
            if r.returncode != 0:
                return rep.na(name, "cat %s exit %d: %s" % (
                    mode, r.returncode, r.stderr.decode("utf-8", "replace").strip()[-200:]))
            got[mode] = (w, c)
        wall.append(got["no_verify"][0] / got["verify"][0])
        cpu.append(got["no_verify"][1] / got["verify"][1])
    spread(ctx, name, wall, "x")
    spread(ctx, "replay_cat_verify_vs_no_verify_cpu", cpu, "x")
