"""Local port forwarding (`forward local`, escort-policy(5)): a technician's
`ssh -L` is relayed through the target, and the recording names the forward
and holds its bytes; with `forward none` the same -L is refused, as before."""
import base64, json, os, re, socket, threading
from harness.core import Env, free_port, port_open, wait_for
from harness.core import bin_path
from harness.proxy import ProxyWorld, replay

# enough to fill the channel windows several times (flow control), less
# under the sanitizers
SIZE = (64 if "san" in bin_path("escort-proxy") else 1024) * 1024

RULES = """
rule fwd-alice {
    who user:alice
    where target:web*
    forward local
}
rule no-fwd-bob {
    who user:bob
    where target:web*
    forward none
}
"""


class EchoServer:
    """A TCP echo server on 127.0.0.1 (a free port) in a thread; close() stops it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.received = 0  # bytes the server was given, all connections
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(10)
                try:
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        self.received += len(data)
                        conn.sendall(data)
                except OSError:
                    pass

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def forward_argv(w, user, key, lport, eport, more=()):
    return w.ssh_argv(user, "web01", None, key=key, extra=(
        "-N", "-o", "ExitOnForwardFailure=yes", "-L", "%d:127.0.0.1:%d" % (lport, eport)) + more)


def through(lport, payload):
    """Sends payload through the forward and reads until as many bytes came
    back or the connection closed.  Returns the bytes read."""
    got = b""
    with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
        # sent from a thread: the echo comes back while the rest still goes
        sender = threading.Thread(target=lambda: _send(s, payload), daemon=True)
        sender.start()
        while len(got) < len(payload):
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            got += b
        sender.join(10)
    return got


def _send(s, payload):
    try:
        s.sendall(payload)
    except OSError:
        pass


def events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def summary(evs):
    return [(e["type"], e["channel"], fields(e) if "fields" in e else len(e.get("data_base64", "")))
            for e in evs if e["type"].lower() not in ("input", "output")]


def fields(e):
    return {x.get("name"): x.get("value") for x in e.get("fields", [])}


def test_forward_local_relayed_and_recorded_none_refused():
    with Env() as env:
        bob_key, bob_pub = env.keygen("bob")
        bob = 'user bob {\n    key "%s"\n}\n' % " ".join(bob_pub.split()[:2])
        w = ProxyWorld(env, rules=RULES, extra_targets=bob)
        echo = EchoServer()
        try:
            # alice: forward local
            lport = free_port()
            # and a second forward to a port where nothing listens: the
            # target refuses that one
            dead, lport_dead = free_port(), free_port()
            ssh = env.start("ssh-alice", forward_argv(w, "alice", w.alice_key, lport, echo.port,
                                                      ("-L", "%d:127.0.0.1:%d" % (lport_dead, dead))))
            wait_for(lambda: port_open(lport) or not ssh.alive(), 20, what="ssh -L to listen")
            assert ssh.alive(), ssh.log()
            payload = b"hello through the target\n" + os.urandom(SIZE)
            got = through(lport, payload)
            assert got == payload, (len(got), len(payload), w.proxy.log()[-2000:])
            assert through(lport, b"second\n") == b"second\n"
            wait_for(lambda: re.search(r"escort: session (\S+) is recorded", ssh.log()), 10,
                     what="the banner")
            sid = re.search(r"escort: session (\S+) is recorded", ssh.log()).group(1)
            assert through(lport_dead, b"to nowhere\n") == b""
            wait_for(lambda: "port forwarding to 127.0.0.1:%d refused by the target" % dead
                     in w.proxy.log(), 10, what="the proxy to log the target's refusal")
            ssh.stop()
            wait_for(lambda: any(e["type"].lower() == "end" for e in events(w, sid)), 15,
                     what="the closed recording")
            evs = events(w, sid)
            # every connection to LPORT is a forward (the listen probe's too)
            opens = [e for e in evs if e["type"].lower() == "channel"
                     and fields(e).get("channel_type") == "direct-tcpip"]
            assert len(opens) >= 2, summary(evs)

            def data(kind, ch):
                return b"".join(base64.b64decode(e["data_base64"]) for e in evs
                                if e["type"].lower() == kind and e["channel"] == ch)
            ch = [e["channel"] for e in opens if data("input", e["channel"]) == payload]
            assert len(ch) == 1, summary(evs)
            ch = ch[0]
            assert data("output", ch) == payload
            op = fields([e for e in opens if e["channel"] == ch][0])
            assert op["action"] == "open" and op["target_addr"] == "127.0.0.1:%d" % echo.port, op
            assert re.fullmatch(r"127\.0\.0\.1:\d+", op.get("client_addr", "")), op
            dec = [fields(e) for e in evs if e["type"].lower() == "decision" and e["channel"] == ch]
            assert len(dec) == 1 and dec[0]["verdict"] == "allow", summary(evs)
            assert dec[0]["command"] == "direct-tcpip 127.0.0.1:%d" % echo.port, dec
            assert dec[0]["rule"] == "fwd-alice" and dec[0]["reason"] == "forward local", dec
            # the refused one: decided, recorded as open-failed and closed, no bytes
            dch = [e["channel"] for e in evs if e["type"].lower() == "decision"
                   and fields(e).get("command") == "direct-tcpip 127.0.0.1:%d" % dead]
            assert len(dch) == 1, summary(evs)
            assert [fields(e)["action"] for e in evs if e["type"].lower() == "channel"
                    and e["channel"] == dch[0]] == ["open-failed", "close"], summary(evs)
            assert data("input", dch[0]) == b"" and data("output", dch[0]) == b""
            assert "port forwarding (direct-tcpip) to 127.0.0.1:%d" % echo.port in w.proxy.log()

            # bob: forward none; the same -L is refused, bytes go nowhere
            lport2 = free_port()
            ssh2 = env.start("ssh-bob", forward_argv(w, "bob", bob_key, lport2, echo.port))
            wait_for(lambda: port_open(lport2) or not ssh2.alive(), 20, what="ssh -L to listen")
            assert ssh2.alive(), ssh2.log()
            assert through(lport2, b"must not pass\n") == b""
            wait_for(lambda: "refused port forwarding (direct-tcpip)" in w.proxy.log(), 10,
                     what="the proxy to log the refusal")
            wait_for(lambda: "open failed" in ssh2.log() or "prohibited" in ssh2.log(), 10,
                     what="ssh to report the refused open")
            # SIGKILL: an ssh -N sent SIGTERM just after it logged the refused
            # open was seen to stay in its poll loop until the stop timeout
            ssh2.kill()
        finally:
            echo.close()


def test_forward_waits_for_the_recorder():
    """Recorder gone mid-forward: no byte reaches the target's side until the
    recorder is back (escort-proxy(8): never forwarded unrecorded); then the
    held bytes go on, recorded."""
    import select
    with Env() as env:
        w = ProxyWorld(env, rules=RULES.split("rule no-fwd-bob")[0])
        echo = EchoServer()
        try:
            lport = free_port()
            ssh = env.start("ssh-alice", forward_argv(w, "alice", w.alice_key, lport, echo.port))
            wait_for(lambda: port_open(lport) or not ssh.alive(), 20, what="ssh -L to listen")
            assert ssh.alive(), ssh.log()
            with socket.create_connection(("127.0.0.1", lport), timeout=10) as s:
                s.sendall(b"before\n")
                assert s.recv(100) == b"before\n"
                before = echo.received
                w.recorder.kill()
                wait_for(lambda: "forwarding paused" in w.proxy.log(), 10,
                         what="the proxy to pause forwarding")
                s.sendall(b"while the recorder is away\n")
                # bounded look: nothing comes back, and the echo server got nothing
                assert select.select([s], [], [], 1.0)[0] == []
                assert echo.received == before
                w.start_recorder()
                got = b""
                while len(got) < len(b"while the recorder is away\n"):
                    b = s.recv(100)
                    assert b, got
                    got += b
                assert got == b"while the recorder is away\n"
            assert "forwarding resumes" in w.proxy.log()
            sid = re.search(r"escort: session (\S+) is recorded", ssh.log()).group(1)
            ssh.stop()
            wait_for(lambda: any(e["type"].lower() == "end" for e in events(w, sid)), 15,
                     what="the closed recording")
            evs = events(w, sid)
            for kind in ("input", "output"):
                got = b"".join(base64.b64decode(e["data_base64"]) for e in evs
                               if e["type"].lower() == kind and e["channel"] > 0)
                assert got.endswith(b"before\nwhile the recorder is away\n"), (kind, got)
        finally:
            echo.close()
