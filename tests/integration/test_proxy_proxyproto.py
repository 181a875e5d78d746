"""escort-proxy behind Debian's haproxy in TCP mode with send-proxy-v2
(ProxyProtocol in escort-proxy.conf(5)): the recording, the audit stream and
the proxy's log name the technician's own address, not haproxy's; a PROXY
header from an address not listed is refused and logged; a plain SSH
connection from an address not listed still works."""
import json, os, re, shutil, socket, struct, subprocess, time
from harness.core import Env, free_port, port_open, ssh_base, wait_for
from harness.proxy import ProxyWorld, replay, session_id

TIMEOUT = 120
CLIENT = "127.0.0.2"            # the technician's address (ssh -b)
SIG = b"\r\n\r\n\0\r\nQUIT\n"


def start_haproxy(env, proxy_port):
    """haproxy in the foreground (-db) on a free loopback port, forwarding
    to the proxy with a PROXY v2 header; returns (Proc, port)."""
    exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert os.path.exists(exe), "haproxy is missing: scripts/deps.sh installs it"
    port = free_port()
    cfg = env.write("haproxy.cfg", """global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend ssh_in
    bind 127.0.0.1:%d
    default_backend escort
backend escort
    server proxy1 127.0.0.1:%d send-proxy-v2 check inter 300
""" % (port, proxy_port))
    hp = env.start("haproxy", [exe, "-db", "-f", cfg])
    wait_for(lambda: port_open(port) or not hp.alive(), 10, what="haproxy to listen")
    assert hp.alive(), "haproxy died:\n" + hp.log()
    return hp, port


def audit_events(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def recorded_client(w, sid):
    """The client_addr field of the recording's meta event, from
    `escort-replay export ID --format json` (None until it is readable)."""
    r = replay(w, "export", sid, "--format", "json")
    if r.returncode != 0:
        return None
    for line in r.stdout.decode().splitlines():
        ev = json.loads(line)
        if ev["type"] == "meta":
            return next((f["value"] for f in ev["fields"] if f["name"] == "client_addr"), None)
    return None


def client_port(hport):
    """The source port of the ssh client's connection from CLIENT to
    haproxy, as the kernel shows it (ss)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "src", CLIENT,
                          "dst", "127.0.0.1:%d" % hport], capture_output=True, text=True).stdout
    for line in out.splitlines():
        local = line.split()[-2]
        if local.startswith(CLIENT + ":"):
            return int(local.rsplit(":", 1)[1])
    return None


def test_session_through_haproxy_records_the_client_address():
    with Env() as env:
        audit = env.path("audit.jsonl")
        w = ProxyWorld(env, extra_conf="ProxyProtocol 127.0.0.1\nLogLevel debug\n",
                       recorder_extra="AuditLog %s\n" % audit)
        hp, hport = start_haproxy(env, w.port)
        argv = ssh_base(hport, w.alice_key, "alice:web01", extra=("-b", CLIENT),
                        loglevel="INFO") + ["sleep 2; echo through-haproxy"]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        port = wait_for(lambda: client_port(hport), 10, 0.05, what="ssh's connection to haproxy")
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        assert out == b"through-haproxy\n", (out, err)
        sid = session_id(err)
        want = "%s:%d" % (CLIENT, port)
        got = wait_for(lambda: recorded_client(w, sid), 10, 0.1, what="the recording's client")
        assert got == want, (got, want)
        ev = wait_for(lambda: next((e for e in audit_events(audit)
                                    if e.get("session") == sid and e["event"] == "session.start"),
                                   None), 20, 0.2, what="session.start in the audit stream")
        assert ev["client_addr"] == want, (ev, want)
        log = w.proxy.log()
        assert "load balancer 127.0.0.1:" in log and "client " + want in log, log
        assert "from %s admitted" % CLIENT in log, log
        # haproxy's health checks (a LOCAL header, a reset) are no complaint
        assert "malformed" not in log and "ended before a whole PROXY" not in log, log
        assert hp.alive()


def test_forged_header_from_unlisted_peer_is_refused_and_plain_ssh_works():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="ProxyProtocol 127.0.0.9\n")
        # a PROXY v2 header claiming 10.9.8.7 from 127.0.0.2, not listed
        body = socket.inet_aton("10.9.8.7") + socket.inet_aton("127.0.0.1") + \
            struct.pack(">HH", 4242, 22)
        forged = SIG + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body
        s = socket.create_connection(("127.0.0.1", w.port), timeout=10, source_address=(CLIENT, 0))
        s.sendall(forged + b"SSH-2.0-OpenSSH_9.2\r\n")
        got, deadline = b"", time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            got += chunk
        s.close()
        assert time.monotonic() < deadline, "the proxy kept the connection open"
        wait_for(lambda: "sent a PROXY protocol header but is not listed" in w.proxy.log(), 10,
                 what="the refusal logged")
        log = w.proxy.log()
        assert "%s:" % CLIENT in log and "10.9.8.7" not in log, log
        # plain SSH from the same address, not listed, works and is recorded as itself
        argv = ssh_base(w.port, w.alice_key, "alice:web01", extra=("-b", CLIENT),
                        loglevel="INFO") + ["echo plain"]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        assert r.returncode == 0 and r.stdout == b"plain\n", r
        got = wait_for(lambda: recorded_client(w, session_id(r.stderr)), 10, 0.1,
                       what="the recording's client")
        assert got.startswith(CLIENT + ":"), got


def test_malformed_header_from_load_balancer_is_closed_and_logged():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="ProxyProtocol 127.0.0.0/30\n")
        # from 127.0.0.2, listed: version 3, then a plain SSH banner with no header
        for payload, why in ((SIG + bytes([0x31, 0x11, 0, 12]) + bytes(12),
                              "PROXY protocol version is not 2"),
                             (b"SSH-2.0-OpenSSH_9.2\r\n", "no PROXY protocol v2 signature")):
            s = socket.create_connection(("127.0.0.1", w.port), timeout=10,
                                         source_address=(CLIENT, 0))
            s.sendall(payload)
            try:
                got = s.recv(4096)
            except ConnectionResetError:    # closed with our bytes unread
                got = b""
            assert got == b"", "the proxy answered before a PROXY header: %r" % got
            s.close()
            wait_for(lambda: why in w.proxy.log(), 10, what="the malformed header logged")
        log = w.proxy.log()
        assert "load balancer %s:" % CLIENT in log and "malformed PROXY protocol header" in log, log
        # a plain ssh from a listed address is not taken as SSH either
        argv = ssh_base(w.port, w.alice_key, "alice:web01", extra=("-b", CLIENT)) + ["echo no"]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        assert r.returncode == 255 and r.stdout == b"", r
        assert w.proxy.alive()


def test_throttles_see_the_client_address_behind_haproxy():
    """PerSourceMaxFailures counts each technician behind haproxy on its
    own: failures from 127.0.0.2 penalise 127.0.0.2, not haproxy's address
    and so not 127.0.0.3 behind the same haproxy."""
    with Env() as env:
        w = ProxyWorld(env, extra_conf="ProxyProtocol 127.0.0.1\nPerSourceMaxFailures 2\n"
                                       "PerSourcePenalty 60\n")
        hp, hport = start_haproxy(env, w.port)

        def through(src, key, cmd):
            argv = ssh_base(hport, key, "alice:web01", extra=("-b", src)) + [cmd]
            return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        for _ in range(2):
            r = through(CLIENT, w.mallory_key, "echo no")
            assert r.returncode == 255, r
        r = through(CLIENT, w.alice_key, "echo penalised")
        assert r.returncode == 255 and r.stdout == b"", r
        wait_for(lambda: "connection from %s:" % CLIENT in w.proxy.log()
                 and "source penalised" in w.proxy.log(), 10, what="the penalty logged")
        r = through("127.0.0.3", w.alice_key, "echo other")
        assert r.returncode == 0 and r.stdout == b"other\n", r
        assert not re.search(r"connection from 127\.0\.0\.1:\d+ dropped", w.proxy.log())


def test_load_balancer_silent_is_closed_after_5_seconds():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="ProxyProtocol 127.0.0.2\n")
        s = socket.create_connection(("127.0.0.1", w.port), timeout=15, source_address=(CLIENT, 0))
        s.sendall(SIG[:7])                  # a header begun, never finished
        t0 = time.monotonic()
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        took = time.monotonic() - t0
        s.close()
        assert got == b"" and 4 < took < 10, (got, took)
        wait_for(lambda: "no whole PROXY protocol header within 5 seconds" in w.proxy.log(), 10,
                 what="the timeout logged")
        assert "load balancer %s:" % CLIENT in w.proxy.log()
