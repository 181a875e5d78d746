"""An independent reader of escort-transcript(5), written from the man page
with the Python standard library only: it checks every segment's CRC32C,
the SHA-256 chain, the DATA headers, the checkpoint and final records
against the chain (signatures need Ed25519, which the standard library
lacks: escort-replay verify checks those), and the journal's entries
against the session files.  A store written through the real library must
pass, and a flipped byte must not."""
import hashlib, os, struct, subprocess
from harness.core import Env, bin_path, tool_path

TIMEOUT = 60


def crc32c(data, crc=0):
    table = crc32c.table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


crc32c.table = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ (0x82F63B78 if _c & 1 else 0)
    crc32c.table.append(_c)


def segments(data):
    """Yields (index, offset, type, flags, payload, raw) per the SEGMENTS section."""
    off, index = 0, 0
    while off < len(data):
        assert len(data) - off >= 20, "incomplete header at %d" % off
        magic, ver, typ, flags, idx, length, crc = struct.unpack(">4sBBHIII", data[off:off + 20])
        assert magic == b"ESG1" and ver == 1, "bad magic/version at %d" % off
        assert idx == index, "index %d at %d, expected %d" % (idx, off, index)
        payload = data[off + 20:off + 20 + length]
        assert len(payload) == length, "incomplete payload at %d" % off
        assert crc32c(data[off:off + 16] + payload) == crc, "CRC at %d" % off
        yield index, off, typ, flags, payload, data[off:off + 20 + length]
        off += 20 + length
        index += 1


def check_session(path, sid):
    data = open(path, "rb").read()
    head = hashlib.sha256(b"escort-transcript-v1\0" + sid.encode()).digest()
    last_seq, finished, heads, info = 0, False, {}, {}
    for index, off, typ, flags, p, raw in segments(data):
        assert not finished, "data after FINAL at %d" % off
        before = head
        if index == 0:
            assert typ == 1
            n = p[0]
            assert p[1:1 + n].decode() == sid
            (mlen,) = struct.unpack(">I", p[1 + n + 8:1 + n + 12])
            meta = p[1 + n + 12:]
            assert len(meta) == mlen
            off2 = 0
            while off2 < mlen:   # EVENT RECORDS: 26-byte header
                plen, etype, chan, seq, t = struct.unpack(">IHIQQ", meta[off2:off2 + 26])
                assert seq == last_seq + 1 and etype == 1
                last_seq = seq
                off2 += 26 + plen
        elif typ == 2:
            first, last, t0, t1, wall, rawlen = struct.unpack(">QQQQQI", p[:44])
            if rawlen:
                assert first == last_seq + 1 and last >= first, "seq gap at %d" % off
                last_seq = last
            if flags & 1:
                assert p[44:48] == b"\x28\xb5\x2f\xfd", "zstd frame magic at %d" % off
        elif typ in (3, 5):
            kind, sidx, lseq = struct.unpack(">BIQ", p[:13])
            chead = p[13:45]
            wall, coff = struct.unpack(">QQ", p[45:61])
            assert len(p) == 157
            assert (kind == 2) == (typ == 5)
            assert sidx == index and coff == off and lseq == last_seq and chead == before, \
                "checkpoint at %d does not match" % off
            finished = typ == 5
        elif typ == 4:
            plen, etype, chan, seq, t = struct.unpack(">IHIQQ", p[:26])
            assert etype == 12 and seq == 0
        else:
            raise AssertionError("unknown type %d at %d" % (typ, off))
        head = hashlib.sha256(before + raw).digest()
        heads[index] = (off, off + len(raw), typ, before, head)
    info.update(finished=finished, heads=heads, last_seq=last_seq)
    return info


def check_store(store):
    sessions = {}
    for name in os.listdir(os.path.join(store, "sessions")):
        if name.endswith(".est"):
            sid = name[:-4]
            sessions[sid] = check_session(os.path.join(store, "sessions", name), sid)
    data = open(os.path.join(store, "journal.esj"), "rb").read()
    jhead = hashlib.sha256(b"escort-transcript-v1\0journal").digest()
    seen = set()
    for index, off, typ, flags, p, raw in segments(data):
        assert typ == 6
        kind, n = p[0], p[1]
        sid = p[2:2 + n].decode()
        sidx, soff, lseq = struct.unpack(">IQQ", p[2 + n:22 + n])
        h = p[22 + n:54 + n]
        assert len(p) == 54 + n + 8 + 32 + 64
        jhead = hashlib.sha256(jhead + raw).digest()
        if sid == "journal":
            continue
        seen.add(sid)
        s = sessions[sid]["heads"]
        if kind == 1:
            assert sidx == 0 and s[0][1] == soff and s[0][4] == h
        elif kind in (2, 3):
            assert s[sidx][0] == soff and s[sidx][3] == h and s[sidx][2] == (5 if kind == 3 else 3)
    assert seen == set(sessions), (seen, set(sessions))
    return sessions


def test_store_matches_the_man_page():
    with Env() as env:
        key = env.path("k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                       check=True, capture_output=True)
        text = env.path("t.txt")
        with open(text, "wb") as f:
            for i in range(20000):
                f.write(b"drwxr-xr-x 2 root root 4096 Nov 28 /usr/share/doc/pkg%05d\r\n" % i)
        store = env.path("store")
        for sid, extra in (("a", ["--events"]), ("b", ["--open"])):
            subprocess.run([tool_path("rec-mkstore"), "--store", store, "--key", key,
                            "--id", sid, *extra, text], check=True, capture_output=True,
                           timeout=30)
        sessions = check_store(store)
        assert sessions["a"]["finished"] and not sessions["b"]["finished"]
        assert sessions["a"]["last_seq"] > 10
        # A flipped byte in a DATA payload: this reader and escort-replay both object.
        path = os.path.join(store, "sessions", "a.est")
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0x20
        open(path, "wb").write(bytes(data))
        try:
            check_store(store)
            raise RuntimeError("flipped byte not detected by the independent reader")
        except AssertionError:
            pass
        pub = env.path("p.pem")
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "verify", "a",
                            "--key", pub], capture_output=True, timeout=30)
        assert r.returncode == 1 and b"a: FAILED at segment" in r.stdout, r
