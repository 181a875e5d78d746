"""Bulk terminal output: `ssh -tt HOST COMMAND FILE` with the client's output
read and counted, timed from spawn to exit.  Several methods (direct, sudo
I/O log, tlog-rec, escort proxy) run in interleaved rounds in the same run so
that their ratios share the machine's load; the median of each is kept."""
import os, select, statistics, subprocess, time


class RunError(Exception):
    pass


def timed_cat(argv, min_bytes, timeout, input=None):
    """Runs argv (an ssh client printing a file), reads all of its output and
    returns (seconds, bytes).  input: bytes written to its stdin at once (a
    line typed in a shell); stdin stays open until the client exits.  Raises
    RunError when it fails, prints less than min_bytes, or runs past timeout
    (then it is killed by pid)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    if input:
        p.stdin.write(input)
        p.stdin.flush()
    got, err, head = 0, b"", b""
    fds = [p.stdout.fileno(), p.stderr.fileno()]
    try:
        while fds:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise RunError("timed out after %ds" % timeout)
            r, _, _ = select.select(fds, [], [], left)
            for fd in r:
                b = os.read(fd, 1 << 20)
                if not b:
                    fds.remove(fd)
                elif fd == p.stdout.fileno():
                    if got < 512:
                        head += b[:512]
                    got += len(b)
                elif len(err) < 4096:
                    err += b
        rc = p.wait(max(1, timeout - (time.monotonic() - t0)))
    except (RunError, subprocess.TimeoutExpired) as e:
        p.kill()
        p.wait(5)
        raise RunError(str(e))
    except BaseException:       # interrupted: never leave the client running
        p.kill()
        p.wait(5)
        raise
    finally:
        p.stdin.close()
        p.stdout.close()
        p.stderr.close()
    dt = time.monotonic() - t0
    if rc != 0 or got < min_bytes:
        raise RunError("exit %s after %d of %d bytes: %s" % (
            rc, got, min_bytes, (err + head[:300]).decode("utf-8", "replace").strip()[-300:]))
    return dt, got


class Method:
    """One way of showing the file: name, argv factory, hooks around a run."""

    def __init__(self, name, argv, before=None, after=None):
        self.name, self.argv, self.before, self.after = name, argv, before, after
        self.times, self.error = [], None


def rounds(methods, size, nrounds, timeout=120, log=print):
    """Runs every method once per round, in order, nrounds times. A method that
    fails once is dropped (its error kept). Returns {name: median seconds}."""
    for i in range(nrounds):
        for m in methods:
            if m.error:
                continue
            try:
                if m.before:
                    m.before()
                dt, got = timed_cat(m.argv(), size, timeout)
                if m.after:
                    m.after()
                m.times.append(dt)
                log("   round %d %-10s %.2f s  %.1f MB/s" % (i + 1, m.name, dt, size / dt / 1e6))
            except RunError as e:
                m.error = str(e)
                log("   round %d %-10s failed: %s" % (i + 1, m.name, m.error))
    return {m.name: statistics.median(m.times) for m in methods if m.times and not m.error}
