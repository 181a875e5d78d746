"""Interactive sessions through escort-proxy with the real ssh client in a
pseudo-terminal: typing, a window resize seen by the remote `stty size`,
Ctrl-C interrupting a remote sleep, the shell's exit status."""
import fcntl, os, pty, select, struct, termios, time
from harness.core import Env
from harness.proxy import ProxyWorld

TIMEOUT = 120


class Term:
    def __init__(self, argv, rows=24, cols=80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        self.resize(rows, cols)
        self.out = b""

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
        i = self.out.index(needle) + len(needle)
        seen, self.out = self.out[:i], self.out[i:]
        return seen

    def wait(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.2)
                if r:
                    os.read(self.fd, 65536)
            except OSError:
                pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(st)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError("ssh did not exit")


def test_interactive_shell():
    with Env() as env:
        w = ProxyWorld(env, extra_conf=os.environ.get("ESCORT_TEST_PROXY_CONF", ""))
        argv = w.ssh_argv("alice", "web01", None, extra=("-tt",))
        t = Term(argv)
        try:
            t.expect(b"is recorded")
            t.send(b"PS1='P''S> '; echo typed-$((6*7))\r")
            t.expect(b"typed-42")
            t.expect(b"PS> ")
            t.send(b"stty size\r")
            t.expect(b"24 80")
            t.resize(40, 100)
            time.sleep(0.3)
            t.send(b"stty size\r")
            t.expect(b"40 100")
            t.send(b"sleep 30; echo not-interrupted\r")
            time.sleep(0.5)
            t0 = time.monotonic()
            t.send(b"\x03")
            t.expect(b"PS> ", timeout=10)
            assert time.monotonic() - t0 < 10
            t.send(b"echo after-$((1+1))\r")
            t.expect(b"after-2")
            assert b"not-interrupted" not in t.out
            t.send(b"exit 7\r")
            assert t.wait() == 7
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        finally:
            try:
                os.kill(t.pid, 9)
                os.waitpid(t.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
