"""An independent reader of escort-transcript(5), written from the man page
with the Python standard library only: it checks every segment's CRC32C,
the SHA-256 chain, the DATA headers (and their flags: a refused resume's
segment), the checkpoint and final records
against the chain (signatures need Ed25519, which the standard library
lacks: escort-replay verify checks those), the journal's entries
against the session files, the journal as a Merkle log (RFC 9162) against
every tree head in heads.esh, prune entries (a session removed once the
object store held it: named, never missing), a consistency proof printed by
escort-replay anchor, and the receipts escort-proxy keeps (check_receipts,
used by test_proxy_receipts.py).  A store written through the real library must pass,
and a flipped byte must not."""
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
    last_seq, finished, heads, info, refused = 0, False, {}, {}, 0
    for index, off, typ, flags, p, raw in segments(data):
        assert not finished, "data after FINAL at %d" % off
        assert typ == 2 or flags == 0, "flags on a segment of type %d at %d" % (typ, off)
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
                if seq == 1:    # the META: its fields (2-byte tag, 4-byte length)
                    f, fend = off2 + 26, off2 + 26 + plen
                    while f < fend:
                        tag, flen = struct.unpack(">HI", meta[f:f + 6])
                        info.setdefault("meta", {})[tag] = meta[f + 6:f + 6 + flen]
                        f += 6 + flen
                last_seq = seq
                off2 += 26 + plen
        elif typ == 2:
            first, last, t0, t1, wall, rawlen = struct.unpack(">QQQQQI", p[:44])
            if rawlen:
                assert first == last_seq + 1 and last >= first, "seq gap at %d" % off
                last_seq = last
            if flags & 1:
                assert p[44:48] == b"\x28\xb5\x2f\xfd", "zstd frame magic at %d" % off
            if flags & 4:   # RESUME_REFUSED: one record, a frame of its own
                assert flags & 3 == 3 and rawlen > 0 and first == last, \
                    "resume-refused segment at %d is not a frame of its own" % off
                refused += 1
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
    info.update(finished=finished, heads=heads, last_seq=last_seq, resumes_refused=refused)
    return info


def mth(leaves):
    """RFC 9162 2.1.1: the Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def verify_consistency(m, old_root, n, new_root, proof):
    """RFC 9162 2.1.4.2, as written there."""
    if m == n:
        return not proof and old_root == new_root
    if m & (m - 1) == 0:
        proof = [old_root] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest()
            sr = hashlib.sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def read_heads(path):
    """Tree head lines: escort-head v1 SIZE ROOTHEX TIME SIGB64."""
    heads = []
    for line in open(path).read().splitlines():
        w = line.split()
        assert len(w) == 6 and w[:2] == ["escort-head", "v1"], line
        heads.append((int(w[2]), bytes.fromhex(w[3]), int(w[4])))
    return heads


def check_receipts(store, path):
    """Receipt lines (escort-proxy(8), FILES): escort-receipt v1 ID SEQ
    HEADHEX INDEX WALL_NS OFFSET SIGB64.  Each must name a session file whose
    segment INDEX at OFFSET is its FINAL record with that seq, chain head,
    time and signature, and a journal close entry with the same seq, offset
    and head.  Returns the receipts' session ids."""
    import base64
    closes = {}
    data = open(os.path.join(store, "journal.esj"), "rb").read()
    for index, off, typ, flags, p, raw in segments(data):
        kind, n = p[0], p[1]
        sidx, soff, lseq = struct.unpack(">IQQ", p[2 + n:22 + n])
        if kind == 3:
            closes[p[2:2 + n].decode()] = (sidx, soff, lseq, p[22 + n:54 + n])
    ids = []
    for line in open(path).read().splitlines():
        w = line.split()
        assert len(w) == 9 and w[:2] == ["escort-receipt", "v1"], line
        sid, seq, head, idx, wall, off = w[2], int(w[3]), bytes.fromhex(w[4]), int(w[5]), \
            int(w[6]), int(w[7])
        sig = base64.b64decode(w[8])
        assert closes.get(sid) == (idx, off, seq, head), "journal lacks the close of " + sid
        f = open(os.path.join(store, "sessions", sid + ".est"), "rb").read()
        magic, ver, typ, flags, sidx, length, crc = struct.unpack(">4sBBHIII", f[off:off + 20])
        p = f[off + 20:off + 20 + length]
        assert typ == 5 and sidx == idx and length == 157, "no FINAL of %s at %d" % (sid, off)
        kind, pidx, lseq = struct.unpack(">BIQ", p[:13])
        pwall, poff = struct.unpack(">QQ", p[45:61])
        assert (kind, pidx, lseq, p[13:45], pwall, poff, p[93:157]) == \
            (2, idx, seq, head, wall, off, sig), "the FINAL of %s is not its receipt" % sid
        ids.append(sid)
    return ids


def check_store(store):
    sessions = {}
    for name in os.listdir(os.path.join(store, "sessions")):
        if name.endswith(".est"):
            sid = name[:-4]
            sessions[sid] = check_session(os.path.join(store, "sessions", name), sid)
    data = open(os.path.join(store, "journal.esj"), "rb").read()
    jhead = hashlib.sha256(b"escort-transcript-v1\0journal").digest()
    seen, leaves, closes, pruned = set(), [], {}, {}
    for index, off, typ, flags, p, raw in segments(data):
        assert typ == 6
        kind, n = p[0], p[1]
        assert 1 <= kind <= 8
        sid = p[2:2 + n].decode()
        sidx, soff, lseq = struct.unpack(">IQQ", p[2 + n:22 + n])
        h = p[22 + n:54 + n]
        textlen = 0
        if kind >= 4:   # RECOVER and up carry u16 textlen | text
            (textlen,) = struct.unpack(">H", p[62 + n:64 + n])
            textlen += 2
        assert len(p) == 54 + n + 8 + textlen + 32 + 64
        jhead = hashlib.sha256(jhead + raw).digest()
        leaves.append(hashlib.sha256(b"\x00" + raw).digest())
        if kind == 5:
            assert index == 0 and sid == "journal"
        if kind == 8:
            # prune: the file removed once the object store held it; after
            # the close, same FINAL index and last seq, the file's size
            # (offset) and SHA-256 (head)
            c = closes.get(sid)
            assert c is not None and (sidx, lseq) == (c[0], c[2]) and soff == c[1] + 177, \
                "prune entry of %s disagrees with its close entry" % sid
            # its text: the object's address, then user= and target= lines
            # naming the session's META (others ignored)
            lines = p[64 + n:64 + n + textlen - 2].decode().split("\n")
            names = dict(l.split("=", 1) for l in lines[1:] if "=" in l)
            pruned[sid] = (soff, h, lines[0], names)
            continue
        if sid == "journal" or kind > 4:
            continue
        seen.add(sid)
        if kind == 3:
            closes[sid] = (sidx, soff, lseq)
        if sid not in sessions:
            continue    # pruned, checked below
        s = sessions[sid]["heads"]
        if kind == 1:
            assert sidx == 0 and s[0][1] == soff and s[0][4] == h
        elif kind in (2, 3):
            assert s[sidx][0] == soff and s[sidx][3] == h and s[sidx][2] == (5 if kind == 3 else 3)
    for sid, (size, h, url, names) in pruned.items():
        if sid in sessions:     # a copy from the object store: the file pruned
            f = open(os.path.join(store, "sessions", sid + ".est"), "rb").read()
            assert len(f) == size and hashlib.sha256(f).digest() == h, sid
            meta = sessions[sid].get("meta", {})
            for key, tag in (("user", 1), ("target", 3)):
                assert key not in names or names[key] == meta.get(tag, b"").decode(), \
                    "the prune entry of %s names %s %r, its META %r" % (
                        sid, key, names[key], meta.get(tag))
    assert seen - set(pruned) == set(sessions) - set(pruned) and \
        set(sessions) <= seen, (seen, set(sessions), set(pruned))
    # The journal extends every tree head the store holds.
    heads = read_heads(os.path.join(store, "heads.esh"))
    for size, root, t in heads:
        assert size <= len(leaves) and mth(leaves[:size]) == root, \
            "head of size %d contradicts the journal" % size
    sessions["_pruned"] = {sid: url for sid, (size, h, url, names) in pruned.items()}
    sessions["_pruned_names"] = {sid: names for sid, (size, h, url, names) in pruned.items()}
    sessions["_leaves"] = leaves
    sessions["_heads"] = heads
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
        assert sessions["_heads"], "no tree head in heads.esh"
        # A consistency proof from escort-replay anchor, checked here
        # against roots computed from the journal by this reader.
        pub = env.path("p.pem")
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        leaves = sessions["_leaves"]
        for m in range(1, sessions["_heads"][-1][0] + 1):
            r = subprocess.run([bin_path("escort-replay"), "--store", store, "anchor",
                                "--key", pub, "--proof-from", str(m)],
                               capture_output=True, timeout=30, text=True)
            assert r.returncode == 0, r
            head, proof = r.stdout.splitlines()
            w = proof.split()
            assert w[:3] == ["escort-proof", "v1", str(m)], proof
            n = int(w[4])
            assert bytes.fromhex(w[3]) == mth(leaves[:m])
            assert head.split()[2] == str(n) and bytes.fromhex(head.split()[3]) == mth(leaves[:n])
            hashes = [bytes.fromhex(x) for x in w[5:]]
            assert verify_consistency(m, mth(leaves[:m]), n, mth(leaves[:n]), hashes), proof
            if hashes:
                hashes[0] = bytes(32)
                assert not verify_consistency(m, mth(leaves[:m]), n, mth(leaves[:n]), hashes)
        # a size past the head's is exit 1 with nothing printed (no head
        # to append to an anchor file by mistake)
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "anchor",
                            "--key", pub, "--proof-from", str(sessions["_heads"][-1][0] + 1)],
                           capture_output=True, timeout=30)
        assert r.returncode == 1 and r.stdout == b"" and b"--proof-from" in r.stderr, r
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
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "verify", "a",
                            "--key", pub], capture_output=True, timeout=30)
        assert r.returncode == 1 and b"a: FAILED at segment" in r.stdout, r
