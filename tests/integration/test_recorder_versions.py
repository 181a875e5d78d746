"""Protocol versions on a real escort-recorder: a version 3 proxy gets, in
CLOSED, the signed tree head that covers the session's close; a version 2
proxy is answered in version 2, without it; other versions, and a change of
version within a connection, are refused with the reason."""
import os, socket, struct
from harness.core import Env
from harness.recorder import (Recorder, T_ACCEPT, T_CLOSE, T_CLOSED, T_PING, T_REJECT,
                              EV_OUTPUT, accept_fields, closed_fields, connect_unix, data,
                              frame, hello, read_frame, reason, record)

TIMEOUT = 120


def in_version(frames, v):
    b = bytearray(frames)
    off = 0
    while off < len(b):      # every frame's version byte
        (n,) = struct.unpack(">I", b[off:off + 4])
        b[off + 4] = v
        off += 6 + n
    return bytes(b)


def session(rec, v, text):
    """A whole session spoken in version v; returns (version byte of every
    answer, CLOSED body)."""
    s = connect_unix(rec.sock)
    s.sendall(in_version(hello(), v))
    hdr_versions = []
    t, body = read_frame(s)
    assert t == T_ACCEPT, (t, body)
    s.sendall(in_version(data([record(2, EV_OUTPUT, text, 5), record(3, 13, b"", 6)]) +
                         frame(T_CLOSE, b""), v))
    while True:
        s.settimeout(10)
        hdr = s.recv(6, socket.MSG_WAITALL)
        assert len(hdr) == 6, hdr
        n, ver, t = struct.unpack(">IBB", hdr)
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
        hdr_versions.append(ver)
        if t == T_CLOSED:
            s.close()
            return hdr_versions, body


def test_closed_carries_the_tree_head_in_version_3_only():
    with Env("rec-versions") as env:
        rec = Recorder(env, fsync="always")
        vers, body = session(rec, 3, b"three\n")
        assert set(vers) == {3}, vers
        c = closed_fields(body)
        rest = body[1 + len(c["id"]) + 8 + 32 + 2 + 116:]
        (n,) = struct.unpack(">H", rest[:2])
        line = rest[2:2 + n].decode()
        assert len(rest) == 2 + n and line.startswith("escort-head v1 "), rest
        heads = open(os.path.join(rec.store, "heads.esh")).read().splitlines()
        assert line in heads, (line, heads)
        r = rec.replay("verify", "--all", "--key", rec.pub, "--anchor",
                       env.write("anchor.txt", line + "\n"))
        assert r.returncode == 0 and b"anchor: ok" in r.stdout, r
        # version 2: the same CLOSED as before version 3, nothing after the seal
        vers, body = session(rec, 2, b"two\n")
        assert set(vers) == {2}, vers
        c = closed_fields(body)
        assert len(body) == 1 + len(c["id"]) + 8 + 32 + 2 + 116, len(body)


def test_other_versions_and_a_change_of_version_are_refused():
    with Env("rec-versions-bad") as env:
        rec = Recorder(env)
        s = connect_unix(rec.sock)
        s.sendall(in_version(hello(), 4))
        t, body = read_frame(s)
        assert t == T_REJECT and "unsupported protocol version 4 (this recorder speaks 2 " \
            "to 3)" in reason(body), (t, body)
        s.close()
        s = connect_unix(rec.sock)
        s.sendall(in_version(hello(), 3))
        t, body = read_frame(s)
        assert t == T_ACCEPT and accept_fields(body)["id"], (t, body)
        s.sendall(frame(T_PING, b"\0" * 8, version=2))
        t, body = read_frame(s)
        assert t == T_REJECT and "PING in protocol version 2 after a HELLO in version 3" in \
            reason(body), (t, body)
        s.close()
