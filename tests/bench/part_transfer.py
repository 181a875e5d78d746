"""1 GiB of exec output and 256 MiB of exec stdin through the proxy, compared
by SHA-256 and timed against the same transfers direct."""
import hashlib, os, selectors, subprocess, time

from harness.core import ssh_base


def _stream(argv, feed_blocks, timeout):
    """Runs argv, writes feed_blocks (an iterable of bytes) to its stdin while
    hashing its stdout.  Returns (seconds, exit code, sha256 hex of stdout,
    bytes of stdout, its first 4 KiB)."""
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
    except BaseException:       # timed out or interrupted: never leave the client running
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
        for way, what, argv, feed, tmo in (
                ("down", "1 GiB exec output", argv_of("cat", *[ctx.data] * down_times),
                 lambda: [], INTACT_DOWN_TIMEOUT),
                ("up", "256 MiB upload", argv_of("sha256sum"),
                 lambda: _data_blocks(ctx.data, up_times), INTACT_UP_TIMEOUT)):
            for attempt in (1, 2):
                try:
                    dt, rc, sha, got, head = _stream(argv, feed(), tmo)
                except (TimeoutError, subprocess.TimeoutExpired) as e:
                    res[label, way] = "%s: %s" % (what, e)
                    ctx.log("   %s: %s" % (label, res[label, way]))
                    break
                if rc == 255 and got == 0 and attempt == 1 and \
                        "kex_exchange_identification" in getattr(_stream, "last_stderr", ""):
                    # Refused before any session began: not a transfer result.
                    ctx.log("   %s: %s: connection refused%s; retrying once"
                            % (label, what, _errtail(rc)))
                    time.sleep(1)
                    continue
                if way == "down":
                    ok = rc == 0 and sha == want_down
                    ctx.log("   %s: %s %.1f s, exit %d, %d bytes, SHA-256 %s%s" % (
                        label, what, dt, rc, got, "equal" if ok else "DIFFERENT", _errtail(rc)))
                else:
                    ok = rc == 0 and head.split()[:1] == [want_up.encode()]
                    ctx.log("   %s: %s %.1f s, exit %d, remote SHA-256 %s%s" % (
                        label, what, dt, rc, "equal" if ok else "DIFFERENT", _errtail(rc)))
                if rc == 255 and got == 0:
                    res[label, way] = "%s: no session%s" % (what, _errtail(rc))
                else:
                    res[label, way] = (dt, ok, got)
                break
    for way, name in (("down", "exec_1g"), ("up", "upload_256m")):
        p, d = res["proxy", way], res["direct", way]
        if isinstance(p, str):
            rep.na("proxy_%s_intact" % name, p)
            continue
        rep.add("proxy_%s_intact" % name, "yes" if p[1] else "no", "")
        if way == "down" and not p[1]:
            rep.add("proxy_%s_received" % name, p[2], "bytes",
                    "of %d" % (down_times * ctx.size))
        if isinstance(d, str) or not d[1]:
            rep.na("proxy_%s_vs_direct" % name, "the direct transfer failed: %s" % (d,))
        elif p[1]:
            rep.add("proxy_%s_vs_direct" % name, d[0] / p[0], "x")


SFTP_TIMEOUT = 240            # seconds for one 256 MiB put or get (1 MB/s at least)


def _sftp_argv(ctx, stack, batch):
    """argv of the real sftp client running batch: straight to sshd when stack
    is None, else through the proxy as bench:t1."""
    if stack is None:
        base = ssh_base(ctx.sshd.port, ctx.key, ctx.sshd.login)
    else:
        base = stack.ssh([])
    # ssh_base's options, without the program name and the trailing host;
    # sftp takes the port as -P.
    opts, i = [], 1
    while i < len(base) - 1:
        if base[i] == "-p":
            i += 2
            continue
        if base[i] == "-l":
            opts += ["-o", "User=" + base[i + 1]]
            i += 2
            continue
        opts.append(base[i])
        i += 1
    port = ctx.sshd.port if stack is None else stack.port
    return ["sftp", *opts, "-P", str(port), "-b", batch, "127.0.0.1"]


def _file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def sftp(ctx, stack, rounds=1):
    """sftp put and get of 256 MiB through the proxy (recorded, file content
    logged as the policy says) beside the same transfers straight to sshd, in
    turn, each checked by SHA-256 of the file that arrived.  The best of
    rounds per way (the machine is shared: the least disturbed run of each)."""
    rep = ctx.rep
    names = ("proxy_sftp_put_256m_vs_direct", "proxy_sftp_get_256m_vs_direct")
    if not stack.ok:
        for n in names:
            rep.na(n, stack.reason)
        return
    times = max(1, (256 << 20) // ctx.size)
    src = ctx.env.path("sftp", "src.bin")
    with open(src, "wb") as f:
        for b in _data_blocks(ctx.data, times):
            f.write(b)
    want = _file_sha(src)
    best = {}   # (label, way) -> seconds, or an error string
    for rnd in range(rounds):
        for label, st in (("direct", None), ("proxy", stack)):
            for way in ("put", "get"):
                dst = ctx.env.path("sftp", "%s-%s-%d.bin" % (label, way, rnd))
                batch = ctx.env.path("sftp", "%s-%s-%d.batch" % (label, way, rnd))
                with open(batch, "w") as f:
                    f.write("%s %s %s\n" % (way, src, dst))
                t0 = time.monotonic()
                try:
                    p = subprocess.run(_sftp_argv(ctx, st, batch), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       timeout=SFTP_TIMEOUT)
                    dt = time.monotonic() - t0
                    ok = p.returncode == 0 and os.path.exists(dst) and _file_sha(dst) == want
                    err = p.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                except subprocess.TimeoutExpired:
                    dt, ok, err = time.monotonic() - t0, False, ["timed out"]
                ctx.log("   %s: sftp %s 256 MiB %.1f s, %s%s" % (
                    label, way, dt, "SHA-256 equal" if ok else "FAILED",
                    "" if ok or not err else " (%s)" % err[0][:200]))
                try:
                    os.unlink(dst)
                except OSError:
                    pass
                if not ok:
                    best.setdefault((label, way), "sftp %s failed" % way)
                elif not isinstance(best.get((label, way)), float) or dt < best[label, way]:
                    best[label, way] = dt
    os.unlink(src)
    for way, name in zip(("put", "get"), names):
        p, d = best.get(("proxy", way)), best.get(("direct", way))
        if isinstance(p, str) or p is None:
            rep.na(name, p or "not run")
        elif isinstance(d, str) or d is None:
            rep.na(name, "the direct transfer failed: %s" % d)
        else:
            rep.add(name, d / p, "x", "direct %.1f s, proxy %.1f s" % (d, p))
