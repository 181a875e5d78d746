"""Keystroke round trip: the real ssh client runs under a pty of ours with
`-tt` and the remote login shell; one byte is written to the client's
terminal and the time until the shell's echo of it comes back is measured,
then the byte is erased (DEL, its echo awaited, not timed) so the line stays
short.  Two sessions (direct and through the proxy) are driven alternately,
one key at a time, so both see the same load."""
import os, pty, select, signal, subprocess, time


class EchoSession:
    """An ssh client under a fresh pty.  Stopped by pid with close()."""

    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                  start_new_session=True)
        os.close(slave)
        self.buf = b""

    def _read_until(self, want, deadline):
        while want not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                return False
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    b = os.read(self.master, 65536)
                except OSError:
                    return False
                if not b:
                    return False
                self.buf += b
        return True

    def ready(self, timeout=30.0):
        """Types a marker until its echo is seen (the session is up)."""
        deadline = time.monotonic() + timeout
        os.write(self.master, b"#@")
        ok = self._read_until(b"#@", deadline)
        self.buf = b""
        return ok

    def settle(self, quiet=0.3, timeout=5.0):
        """Clears the line (Ctrl-U) and reads until the session has been quiet
        for `quiet` seconds (prompt redraws, banners), bounded by timeout."""
        os.write(self.master, b"\x15")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], quiet)
            if not r:
                break
            try:
                if not os.read(self.master, 65536):
                    break
            except OSError:
                break
        self.buf = b""

    def erase(self, timeout=5.0):
        """Deletes the last typed byte and waits for the shell's backspace."""
        self.buf = b""
        os.write(self.master, b"\x7f")
        ok = self._read_until(b"\x08", time.monotonic() + timeout)
        self.buf = b""
        return ok

    def roundtrip(self, ch, timeout=5.0):
        """Writes one byte and returns the seconds until its echo, or None."""
        self.buf = b""
        t0 = time.perf_counter()
        os.write(self.master, ch)
        if not self._read_until(ch, time.monotonic() + timeout):
            return None
        return time.perf_counter() - t0

    def tail(self):
        return self.buf[-300:].decode("utf-8", "replace")

    def close(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        os.close(self.master)


def percentile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(q / 100.0 * (len(s) - 1))))]


def compare(argvs, n, gap=0.003):
    """Opens one session per argv (dict name -> argv; each a remote shell),
    then n keystrokes in each, alternating.  Returns {name: [seconds...]} or
    raises RuntimeError naming the session that failed first."""
    sessions = {}
    try:
        for name, argv in argvs.items():
            s = EchoSession(argv)
            sessions[name] = s
            if not s.ready():
                raise RuntimeError("%s session never echoed: %s" % (name, s.tail()))
            s.settle()
        out = {name: [] for name in argvs}
        letters = b"abcdefghijklmnopqrstuvwxyz"
        for i in range(n):
            ch = letters[i % 26:i % 26 + 1]
            for name, s in sessions.items():
                dt = s.roundtrip(ch)
                if dt is None:
                    raise RuntimeError("%s: no echo of keystroke %d: %s" % (name, i, s.tail()))
                out[name].append(dt)
                if not s.erase():
                    raise RuntimeError("%s: no echo of erasing keystroke %d: %s"
                                       % (name, i, s.tail()))
                time.sleep(gap)
        return out
    finally:
        for s in sessions.values():
            s.close()
