"""The parts of the benchmark suite, each reporting through ctx.rep.  A part
whose prerequisite is missing reports its figures as n/a with the reason."""
import os, shutil, statistics

import throughput
from target import tree_size


class Context:
    def __init__(self, env, rep, sshd, key, pub, data, size, log):
        self.env, self.rep, self.sshd, self.key, self.pub = env, rep, sshd, key, pub
        self.data, self.size, self.log = data, size, log


MB = 1e6


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


# ---- bench programs -----------------------------------------------------------
# Programs written beside the libraries (tests/bench/bench_*.c, built into
# ESCORT_BENCHES) and scripts (tests/bench/bench_*.sh); each prints its own
# `bench:` lines.  Those expected by name are reported n/a when missing.
EXPECTED_PROGRAMS = ("bench_transcript", "bench_recorder", "bench_policy")
PROGRAM_TIMEOUT = 240


def bench_programs(ctx):
    import glob, subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    bdir = os.environ.get("ESCORT_BENCHES", os.path.join(os.path.dirname(os.path.dirname(here)),
                                                          "build", "release", "bench"))
    found = {}
    for p in sorted(glob.glob(os.path.join(bdir, "bench_*"))):
        if os.access(p, os.X_OK) and os.path.isfile(p):
            found[os.path.basename(p)] = [p]
    for p in sorted(glob.glob(os.path.join(here, "bench_*.sh"))):
        found.setdefault(os.path.basename(p)[:-3], ["bash", p])
    env = dict(os.environ, ESCORT_BENCH_DATA=os.path.abspath(ctx.data),
               ESCORT_BENCH_TMP=ctx.env.path("programs", "x")[:-2])
    for name in EXPECTED_PROGRAMS:
        if name not in found:
            ctx.rep.na(name, "not built (%s/%s or tests/bench/%s.sh)" % (bdir, name, name))
    for name, argv in found.items():
        ctx.log("   running %s" % " ".join(argv))
        try:
            r = subprocess.run(argv,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=PROGRAM_TIMEOUT, env=env, start_new_session=True)
        except subprocess.TimeoutExpired:
            ctx.rep.na(name, "timed out after %ds" % PROGRAM_TIMEOUT)
            continue
        out = r.stdout.decode("utf-8", "replace")
        n = ctx.rep.passthrough(out)
        if r.returncode != 0 or n == 0:
            err = (r.stderr.decode("utf-8", "replace") or out).strip().splitlines()
            ctx.rep.na(name, "exit %d, %d figures: %s" % (r.returncode, n,
                                                       err[-1] if err else "no output"))


# ---- escort daemons ------------------------------------------------------------
def start_escort(ctx):
    from escort_stack import Stack
    s = Stack(ctx)
    if s.ok:
        ctx.log("   recorder pid %d, proxy pid %d on 127.0.0.1:%d"
                % (s.recorder.pid, s.proxy.pid, s.port))
    else:
        ctx.log("   escort not available: %s" % s.reason)
    return s


def _record_via_sender(ctx, stack, direct):
    """When the proxy cannot record the bulk session: the same terminal output
    (captured once from `ssh -tt cat` direct) sent as OUTPUT events in 16 KiB
    pieces by escort-rec-send to the same recorder.  Returns (bytes the store
    grew by, None) or (None, reason)."""
    import subprocess
    from harness.core import tool_path
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


def replay_verify(ctx, stack):
    """escort-replay verify --all over the store the bulk runs filled: MB/s."""
    import subprocess, time
    from harness.core import bin_path
    rep = ctx.rep
    replay = bin_path("escort-replay")
    if not stack.rec_ok:
        return rep.na("replay_verify_throughput", stack.rec_reason)
    if not os.access(replay, os.X_OK):
        return rep.na("replay_verify_throughput", "escort-replay not built")
    stored = stack.store_bytes()
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        r = subprocess.run([replay, "--store", stack.store, "verify", "--all", "--key",
                            stack.recorder_pub], capture_output=True, timeout=300)
        times.append(time.monotonic() - t0)
        if r.returncode != 0:
            msg = (r.stderr or r.stdout).decode("utf-8", "replace").strip().splitlines()
            return rep.na("replay_verify_throughput", "verify exit %d: %s" % (
                r.returncode, msg[-1] if msg else ""))
    verify = stored / statistics.median(times) / MB
    rep.add("replay_verify_throughput", verify, "MB/s")
    rep.add("replay_verify_stored_bytes", stored, "bytes")
    # Baseline: plain SHA-256 of the same files (the floor of any integrity
    # check over every stored byte), in one process, median of 3.
    files = [os.path.join(dp, n) for dp, _, fs in os.walk(stack.store) for n in fs]
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        r = subprocess.run(["sha256sum", "--"] + files, capture_output=True, timeout=300)
        times.append(time.monotonic() - t0)
    if r.returncode == 0:
        sha = stored / statistics.median(times) / MB
        rep.add("sha256sum_store_throughput", sha, "MB/s")
        rep.add("replay_verify_vs_sha256sum", verify / sha, "x")


def derived(ctx):
    """Ratios of figures from different parts of this run."""
    rep = ctx.rep

    def num(name):
        t = rep.value(name)
        try:
            return float(t.split()[0]) if t and not t.startswith("n/a") else None
        except ValueError:
            return None
    direct = num("bulk_direct_throughput")
    for mode in ("interval", "always"):
        r = num("recorder_%s_mb_s_per_core" % mode)
        name = "recorder_%s_vs_ssh_direct" % mode
        if r is not None and direct:
            # how many sessions at full `ssh -tt cat` speed one recorder core absorbs
            rep.add(name, r / direct, "x")
        else:
            rep.na(name, "needs recorder_%s_mb_s_per_core and bulk_direct_throughput" % mode)


# ---- keystroke round trip --------------------------------------------------------
def keystroke(ctx, stack, direct, n):
    import keystroke as ks
    rep = ctx.rep
    argvs = {"direct": direct("cat")}
    if stack.ok:
        argvs["proxy"] = stack.ssh(["-tt"], "cat")
    try:
        res = ks.compare(argvs, n)
    except RuntimeError as e:
        if "proxy" in argvs and str(e).startswith("proxy"):
            ctx.log("   proxy keystrokes failed (%s); direct only" % e)
            res = ks.compare({"direct": argvs["direct"]}, n)
            stack_reason = str(e)
        else:
            for nm in ("keystroke_direct_p50", "keystroke_proxy_added_p99"):
                rep.na(nm, str(e))
            return
    else:
        stack_reason = stack.reason
    us = 1e6
    d50, d99 = ks.percentile(res["direct"], 50) * us, ks.percentile(res["direct"], 99) * us
    rep.add("keystroke_direct_p50", d50, "us")
    rep.add("keystroke_direct_p99", d99, "us")
    if "proxy" not in res:
        for nm in ("keystroke_proxy_p50", "keystroke_proxy_p99", "keystroke_proxy_added_p99"):
            rep.na(nm, stack_reason)
        return
    p50, p99 = ks.percentile(res["proxy"], 50) * us, ks.percentile(res["proxy"], 99) * us
    rep.add("keystroke_proxy_p50", p50, "us")
    rep.add("keystroke_proxy_p99", p99, "us")
    rep.add("keystroke_proxy_added_p50", p50 - d50, "us")
    rep.add("keystroke_proxy_added_p99", p99 - d99, "us")
    rep.add("keystroke_proxy_vs_direct_p99", p99 / d99, "x")


# ---- 1 GiB exec output and 256 MiB upload, SHA-256 compared ------------------------
def _stream(argv, feed_blocks, timeout):
    """Runs argv, writes feed_blocks (an iterable of bytes) to its stdin while
    hashing its stdout.  Returns (seconds, exit code, sha256 hex of stdout,
    bytes of stdout, its first 4 KiB)."""
    import hashlib, selectors, subprocess, time
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    h, got, head, err = hashlib.sha256(), 0, b"", b""
    sel = selectors.DefaultSelector()
    os.set_blocking(p.stdin.fileno(), False)
    sel.register(p.stdout, selectors.EVENT_READ)
    sel.register(p.stderr, selectors.EVENT_READ)
    blocks = iter(feed_blocks)
    pending = next(blocks, None)
    if pending is None:
        p.stdin.close()
    else:
        sel.register(p.stdin, selectors.EVENT_WRITE)
    try:
        while sel.get_map():
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("timed out after %ds" % timeout)
            for k, _ in sel.select(1.0):
                if k.fileobj is p.stderr:
                    b = os.read(p.stderr.fileno(), 4096)
                    if not b:
                        sel.unregister(p.stderr)
                    err = (err + b)[-2048:]
                elif k.fileobj is p.stdout:
                    b = os.read(p.stdout.fileno(), 1 << 20)
                    if not b:
                        sel.unregister(p.stdout)
                    else:
                        h.update(b)
                        if got < 4096:
                            head += b[:4096]
                        got += len(b)
                else:
                    try:
                        n = os.write(p.stdin.fileno(), pending)
                    except BrokenPipeError:
                        n, pending = 0, None
                    if pending is not None:
                        pending = pending[n:] or next(blocks, None)
                    if pending is None:
                        sel.unregister(p.stdin)
                        p.stdin.close()
        rc = p.wait(max(1, timeout - (time.monotonic() - t0)))
    except (TimeoutError, subprocess.TimeoutExpired):
        p.kill()
        p.wait(5)
        raise
    finally:
        p.stdout.close()
        p.stderr.close()
    _stream.last_stderr = err.decode("utf-8", "replace").strip()
    return time.monotonic() - t0, rc, h.hexdigest(), got, head


def _data_blocks(path, times, bs=1 << 20):
    for _ in range(times):
        with open(path, "rb") as f:
            for b in iter(lambda: f.read(bs), b""):
                yield b


def _sha_of_repeats(path, times):
    import hashlib
    h = hashlib.sha256()
    for b in _data_blocks(path, times):
        h.update(b)
    return h.hexdigest()


INTACT_DOWN_TIMEOUT = 180     # seconds for 1 GiB (6 MB/s at least)


def _errtail(rc):
    """The client's last stderr line after a failed transfer, for the log."""
    e = getattr(_stream, "last_stderr", "")
    return "" if rc == 0 or not e else " (%s)" % e.splitlines()[-1][:200]
INTACT_UP_TIMEOUT = 120       # seconds for 256 MiB


def intact(ctx, stack):
    """1 GiB of exec output and 256 MiB of exec stdin through the proxy, each
    compared by SHA-256 and timed against the same transfer direct."""
    import subprocess
    from harness.core import ssh_base
    rep = ctx.rep
    if not stack.ok:
        for n in ("proxy_exec_1g_intact", "proxy_upload_256m_intact"):
            rep.na(n, stack.reason)
        return
    down_times = max(1, (1 << 30) // ctx.size)
    up_times = max(1, (256 << 20) // ctx.size)
    want_down = _sha_of_repeats(ctx.data, down_times)
    want_up = _sha_of_repeats(ctx.data, up_times)
    ways = (("direct", lambda *c: ssh_base(ctx.sshd.port, ctx.key, ctx.sshd.login,
                                           extra=["-T"]) + list(c)),
            ("proxy", lambda *c: stack.ssh(["-T"], *c)))
    res = {}   # (way, "down"|"up") -> (seconds, intact) or an error string
    for label, argv_of in ways:
        try:
            dt, rc, sha, got, _ = _stream(argv_of("cat", *[ctx.data] * down_times), [],
                                          INTACT_DOWN_TIMEOUT)
            ok = rc == 0 and sha == want_down
            res[label, "down"] = (dt, ok)
            ctx.log("   %s: 1 GiB exec output %.1f s, exit %d, %d bytes, SHA-256 %s%s"
                    % (label, dt, rc, got, "equal" if ok else "DIFFERENT", _errtail(rc)))
        except (TimeoutError, subprocess.TimeoutExpired) as e:
            res[label, "down"] = "1 GiB exec output: %s" % e
            ctx.log("   %s: %s" % (label, res[label, "down"]))
        try:
            dt, rc, _, _, head = _stream(argv_of("sha256sum"),
                                         _data_blocks(ctx.data, up_times), INTACT_UP_TIMEOUT)
            ok = rc == 0 and head.split()[:1] == [want_up.encode()]
            res[label, "up"] = (dt, ok)
            ctx.log("   %s: 256 MiB upload %.1f s, exit %d, remote SHA-256 %s%s"
                    % (label, dt, rc, "equal" if ok else "DIFFERENT", _errtail(rc)))
        except (TimeoutError, subprocess.TimeoutExpired) as e:
            res[label, "up"] = "256 MiB upload: %s" % e
            ctx.log("   %s: %s" % (label, res[label, "up"]))
    for way, name in (("down", "exec_1g"), ("up", "upload_256m")):
        p, d = res["proxy", way], res["direct", way]
        if isinstance(p, str):
            rep.na("proxy_%s_intact" % name, p)
            continue
        rep.add("proxy_%s_intact" % name, "yes" if p[1] else "no", "")
        if isinstance(d, str) or not d[1]:
            rep.na("proxy_%s_vs_direct" % name, "the direct transfer failed: %s" % (d,))
        elif p[1]:
            rep.add("proxy_%s_vs_direct" % name, d[0] / p[0], "x")


# ---- many concurrent sessions ----------------------------------------------------
def sessions(ctx, stack, n):
    import subprocess
    import sessions as ss
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
