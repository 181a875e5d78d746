"""Interactive sessions through escort-proxy with the real ssh client in a
pseudo-terminal: typing, a window resize seen by the remote `stty size`,
Ctrl-C interrupting a remote sleep, the shell's exit status."""
import os, time
from harness.core import Env, proc_ticks, wait_process
from harness.term import Term
from harness.proxy import ProxyWorld

TIMEOUT = 120


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
            # the window change travels client -> proxy (recorded) -> target:
            # ask until the shell sees it, a bounded number of times
            for _ in range(20):
                t.send(b"stty size\r")
                seen = t.expect(b"PS> ")
                if b"40 100" in seen:
                    break
                time.sleep(0.25)
            assert b"40 100" in seen, seen
            since = proc_ticks()
            t.send(b"sleep 30; echo not-interrupted\r")
            wait_process(["sleep", "30"], since)
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
