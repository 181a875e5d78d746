"""Fixtures for escort-recorder tests: a recorder on a private unix socket
(and optionally mutual TLS on a free loopback port) with a temp store and a
fresh Ed25519 signing key, the escort-rec-send tool, escort-replay, a test
CA made with openssl, and raw protocol frames for bad-input tests.

    with Env("rec") as env:
        rec = Recorder(env)                # started, socket ready
        r = rec.send(data=b"...")          # escort-rec-send, returns Sent
        assert rec.cat(r.id) == b"..."     # escort-replay cat
        rec.verify_ok()                    # escort-replay verify --all
"""
import os, socket, struct, subprocess, time

from harness.core import bin_path, free_port, tool_path, unix_socket_open, wait_for

WIRE_VERSION = 2
TOKEN_LEN = 64
T_HELLO, T_ACCEPT, T_REJECT, T_DATA, T_ACK, T_CLOSE, T_CLOSED, T_ABORT, T_PING, T_PONG = range(1, 11)
EV_META, EV_INPUT, EV_OUTPUT = 1, 2, 3


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class TestCA:
    """A CA in DIR/NAME with leaf certificates signed by it (EC P-256)."""

    def __init__(self, env, name):
        self.env, self.name = env, name
        self.key = env.path("pki", name + "-ca.key")
        self.cert = env.path("pki", name + "-ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                "-subj", "/CN=%s test CA" % name)

    def issue(self, cn, ip=None):
        """Returns (cert_path, key_path) for CN (with an IP SAN if ip)."""
        base = self.env.path("pki", "%s-%s" % (self.name, cn.replace("/", "_")))
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn)
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            if ip:
                f.write("subjectAltName=IP:%s\n" % ip)
        openssl("x509", "-req", "-in", base + ".csr", "-CA", self.cert, "-CAkey", self.key,
                "-CAcreateserial", "-out", base + ".pem", "-days", "2", "-extfile", ext)
        return base + ".pem", base + ".key"


class Sent:
    """Result of one escort-rec-send run."""

    def __init__(self, proc_result):
        self.rc = proc_result.returncode
        self.out = proc_result.stdout.decode("utf-8", "replace")
        self.err = proc_result.stderr.decode("utf-8", "replace")
        self.id = None
        self.closed = None
        for line in self.out.splitlines():
            w = line.split()
            if w and w[0] in ("accepted", "acked", "closed"):
                self.id = w[1]
            if w and w[0] == "closed":
                self.closed = {"seq": int(w[2]), "head": w[3], "seal": w[4]}

    def __repr__(self):
        return "Sent(rc=%d, out=%r, err=%r)" % (self.rc, self.out[-500:], self.err[-1500:])


class Recorder:
    def __init__(self, env, fsync="interval 1000", tls=None, extra="", name="recorder",
                 start=True, preexec_fn=None):
        """tls: None, or a dict with cert, key, client_ca (a tls listener
        on a free port is added)."""
        self.env, self.name = env, name
        d = os.path.dirname(env.path(name, "x"))
        self.dir = d
        self.store = os.path.join(d, "store")
        self.key = os.path.join(d, "signing.pem")
        self.pub = os.path.join(d, "signing.pub.pem")
        self.sock = os.path.join(d, "rec.sock")
        self.conf = os.path.join(d, "recorder.conf")
        self.preexec_fn = preexec_fn
        self.proc = None
        if not os.path.exists(self.key):
            openssl("genpkey", "-algorithm", "ed25519", "-out", self.key)
            openssl("pkey", "-in", self.key, "-pubout", "-out", self.pub)
        self.port = None
        lines = ["Listen unix:" + self.sock, "Store " + self.store, "SigningKey " + self.key,
                 "Fsync " + fsync]
        if tls:
            self.port = free_port()
            lines += ["Listen tls://127.0.0.1:%d" % self.port, "TLSCertificate " + tls["cert"],
                      "TLSKey " + tls["key"], "TLSClientCA " + tls["client_ca"]]
        self.write_conf("\n".join(lines) + "\n" + extra)
        if start:
            self.start()

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self):
        kw = {"preexec_fn": self.preexec_fn} if self.preexec_fn else {}
        self.proc = self.env.start(self.name, [bin_path("escort-recorder"), "-d", "-f", self.conf],
                                   **kw)
        wait_for(lambda: unix_socket_open(self.sock) or not self.proc.alive(), 20,
                 what="escort-recorder to listen on " + self.sock)
        if not self.proc.alive():
            raise AssertionError("escort-recorder did not start:\n" + self.proc.log())
        if self.port:
            wait_for(lambda: self._tcp_open(), 10, what="recorder TLS port")
        return self.proc

    def _tcp_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def log(self):
        return self.proc.log() if self.proc else ""

    def wait_log(self, text, timeout=10):
        wait_for(lambda: text in self.log(), timeout, what="%r in the recorder log" % text)

    def send_argv(self, *args, server=None):
        return [tool_path("escort-rec-send"), "-s", server or "unix:" + self.sock, *args]

    def send(self, *args, data=b"", server=None, timeout=60):
        """Runs escort-rec-send with data on stdin; returns a Sent."""
        r = subprocess.run(self.send_argv(*args, server=server), input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return Sent(r)

    def replay(self, *args, timeout=60):
        """escort-replay on the store; its readers verify with the signing
        key's public half (ESCORT_KEY)."""
        env = dict(os.environ, ESCORT_KEY=self.pub)
        return subprocess.run([bin_path("escort-replay"), "--store", self.store, *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              env=env)

    def cat(self, sid):
        r = self.replay("cat", sid)
        assert r.returncode == 0, "escort-replay cat %s failed: %s" % (sid, r.stderr.decode())
        return r.stdout

    def verify(self, *ids):
        return self.replay("verify", *(ids or ("--all",)), "--key", self.pub)

    def verify_ok(self):
        r = self.verify()
        assert r.returncode == 0, "verify --all failed (%d):\n%s\n%s" % (
            r.returncode, r.stdout.decode()[-3000:], r.stderr.decode()[-3000:])
        return r

    def session_files(self):
        d = os.path.join(self.store, "sessions")
        return sorted(f for f in os.listdir(d) if f.endswith(".est")) if os.path.isdir(d) else []


def terminal_text(nbytes):
    """Realistic terminal output (a long listing), repeated to nbytes."""
    out = subprocess.run(["ls", "-lR", "--color=always", "/usr/share/doc", "/usr/include"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    out = out.replace(b"\n", b"\r\n")
    if not out:
        out = b"drwxr-xr-x 2 root root 4096 Nov 28 17:00 \x1b[01;34mdir\x1b[0m\r\n"
    reps = nbytes // len(out) + 1
    return (out * reps)[:nbytes]


# ---- raw protocol frames, for bad-input tests ------------------------------

def frame(mtype, body, version=WIRE_VERSION):
    return struct.pack(">IBB", len(body), version, mtype) + body


def record(seq, etype, payload, t_ns=0, channel=0):
    return struct.pack(">IHIQQ", len(payload), etype, channel, seq, t_ns) + payload


def field(tag, value):
    return struct.pack(">HI", tag, len(value)) + value


def hello(name=b"raw-test"):
    meta = record(1, EV_META, field(1, b"mallory") + field(3, b"web01"))
    return frame(T_HELLO, bytes([0, len(name)]) + name + bytes([0]) + struct.pack(">QI", 0, 1) + meta)


def data(records, flags=0, count=None):
    body = b"".join(records)
    return frame(T_DATA, bytes([flags]) + struct.pack(">I", len(records) if count is None else count) + body)


def read_frame(sock, timeout=10.0):
    """Reads one frame: (type, body), or None at EOF."""
    sock.settimeout(timeout)
    hdr = b""
    while len(hdr) < 6:
        b = sock.recv(6 - len(hdr))
        if not b:
            return None
        hdr += b
    n, _, t = struct.unpack(">IBB", hdr)
    body = b""
    while len(body) < n:
        b = sock.recv(n - len(body))
        if not b:
            return None
        body += b
    return t, body


def reason(body):
    n = struct.unpack(">H", body[:2])[0]
    return body[2:2 + n].decode("utf-8", "replace")


def connect_unix(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def wait_eof(sock, timeout=10.0):
    """True when the peer closes within timeout (reading and dropping data)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def closed_fields(body):
    """Decodes a CLOSED body: dict with id, seq, head, seg_index, wall_ns,
    offset, keyid, sig (bytes)."""
    n = body[0]
    sid = body[1:1 + n].decode()
    p = 1 + n
    seq = struct.unpack(">Q", body[p:p + 8])[0]
    head = body[p + 8:p + 40]
    sl = struct.unpack(">H", body[p + 40:p + 42])[0]
    seal = body[p + 42:p + 42 + sl]
    idx, wall, off = struct.unpack(">IQQ", seal[:20])
    return {"id": sid, "seq": seq, "head": head, "seg_index": idx, "wall_ns": wall,
            "offset": off, "keyid": seal[20:52], "sig": seal[52:116]}


def receipt_verifies(env, pub, c, kind=2):
    """Checks a receipt's Ed25519 signature with `openssl pkeyutl` over the
    signed checkpoint message of escort-transcript(5)."""
    msg = (b"escort-checkpoint-v1\0" + bytes([kind, len(c["id"])]) + c["id"].encode() +
           struct.pack(">IQ", c["seg_index"], c["seq"]) + c["head"] +
           struct.pack(">QQ", c["wall_ns"], c["offset"]))
    m, s = env.path("receipt.msg"), env.path("receipt.sig")
    with open(m, "wb") as f:
        f.write(msg)
    with open(s, "wb") as f:
        f.write(c["sig"])
    r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                        "-in", m, "-sigfile", s], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode == 0


def resume_hello(sid, acked, token, name=b"raw-test"):
    """HELLO resuming session sid; token: the resume token from its ACCEPT."""
    sid = sid.encode()
    assert len(token) == TOKEN_LEN
    return frame(T_HELLO, bytes([1, len(name)]) + name + bytes([len(sid)]) + sid +
                 struct.pack(">QI", acked, 0) + token)


def accept_fields(body):
    """Decodes an ACCEPT body: dict with id, seq, token."""
    n = body[0]
    seq = struct.unpack(">Q", body[1 + n:9 + n])[0]
    return {"id": body[1:1 + n].decode(), "seq": seq, "token": body[9 + n:9 + n + TOKEN_LEN]}
