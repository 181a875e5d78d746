"""A real client in a pseudo-terminal, for interactive tests: Term starts
argv (usually ssh -tt through the proxy) under pty.fork, sends keys, waits
for output (bounded by a timeout) and for the client's exit status.  The
caller stops it: wait() kills the client by pid when it does not exit.
The child starts with the signals a terminal's program gets from a login
(INT, QUIT, TSTP, TTIN, TTOU, PIPE, HUP, XFSZ at their defaults), also when the test
runner itself was started with them ignored (in the background, by nohup)."""
import fcntl, os, pty, select, signal, struct, termios, time

DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN,
                   signal.SIGTTOU, signal.SIGPIPE, signal.SIGHUP, signal.SIGXFSZ)


class Term:
    def __init__(self, argv, rows=24, cols=80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            for sig in DEFAULT_SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        self.resize(rows, cols)
        self.out = b""
        self.log = b""      # every byte the terminal received, in order

    def resize(self, rows, cols):
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, b):
        os.write(self.fd, b)

    def expect(self, needle, timeout=15):
        deadline = time.monotonic() + timeout
        while needle not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got %r" % (needle, self.out[-2000:]))
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if r:
                try:
                    d = os.read(self.fd, 65536)
                except OSError:
                    d = b""
                if not d:
                    raise AssertionError("terminal closed waiting for %r; got %r" % (needle, self.out[-2000:]))
                self.out += d
                self.log += d
        i = self.out.index(needle) + len(needle)
        seen, self.out = self.out[:i], self.out[i:]
        return seen

    def wait(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.2)
                if r:
                    self.log += os.read(self.fd, 65536)
            except OSError:
                pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(st)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError("ssh did not exit")
