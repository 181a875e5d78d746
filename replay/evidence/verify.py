#!/usr/bin/env python3
"""verify.py: checks an Escort evidence bundle offline (README.txt says
what each check proves, and how to do the same by hand).

    python3 verify.py [BUNDLE] [--key-id HEX] [--anchor FILE]
    python3 verify.py [BUNDLE] --zstd ID OUTDIR

BUNDLE is the bundle's directory (default: the one holding this script).
--key-id: the recorder's key id as you got it from the key's owner by
another way; without it, compare the key id printed here yourself.
--anchor FILE: tree heads you hold (from a witness, or saved by someone
else with "escort-replay anchor"): each must be signed, and proven by the
bundle to be extended by its tree head.
--zstd ID OUTDIR: writes the zstd frames of session ID (its recorded
events) to OUTDIR/ID.NNNNNN.zst, for zstd -dc, and checks nothing.

Needs Python 3.6 or later (standard library only) and the openssl command
(1.1.1 or later, for Ed25519).  Prints one line per problem, naming the
file and the place, and exits 0 when every check passed, 1 when one
failed, 2 when the check could not run.  Nothing here trusts Escort's
programs: it reads the bytes as README.txt and escort-transcript(5)
describe them.
"""
import base64, hashlib, os, re, struct, subprocess, sys, tempfile, time

SEG_HEAD, SEG_DATA, SEG_CHECKPOINT, SEG_RECOVERY, SEG_FINAL, SEG_JOURNAL = 1, 2, 3, 4, 5, 6
SEG_NAMES = {1: "HEAD", 2: "DATA", 3: "CHECKPOINT", 4: "RECOVERY", 5: "FINAL", 6: "JOURNAL"}
J_OPEN, J_CHECKPOINT, J_CLOSE, J_RECOVER, J_ALTERED, J_PRUNE = 1, 2, 3, 4, 7, 8
J_NAMES = {1: "open", 2: "checkpoint", 3: "close", 4: "recover", 5: "create", 6: "rebuild",
           7: "altered", 8: "prune"}
ED25519_SPKI = bytes.fromhex("302a300506032b6570032100")  # DER prefix of a raw public key


class Problems:
    """Every failed check, as "FILE: what"."""

    def __init__(self):
        self.lines = []

    def add(self, where, what):
        self.lines.append("%s: %s" % (where, what))
        print("FAILED: %s: %s" % (where, what))


# ---- primitives ---------------------------------------------------------------

def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


CRC_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli): crc32c(b"123456789") == 0xE3069283."""
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def sha256(b):
    return hashlib.sha256(b).digest()


def iso(ns):
    """ns since the epoch as YYYY-MM-DDTHH:MM:SSZ (the index's form)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // 1000000000))


class Openssl:
    """Ed25519 signatures checked by the openssl command (pkeyutl -rawin)."""

    def __init__(self, pubkey_path):
        self.key = pubkey_path
        self.tmp = tempfile.mkdtemp(prefix="escort-evidence-")
        self.n = 0

    def verify(self, msg, sig):
        self.n += 1
        m, s = os.path.join(self.tmp, "m"), os.path.join(self.tmp, "s")
        with open(m, "wb") as f:
            f.write(msg)
        with open(s, "wb") as f:
            f.write(sig)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", self.key,
                            "-rawin", "-in", m, "-sigfile", s],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return r.returncode == 0

    def close(self):
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)


def read_segment(data, off):
    """The segment at data[off:]: (type, flags, index, payload, end) or a
    string saying why there is none."""
    if len(data) - off < 20:
        return "the file ends inside a segment header at offset %d (truncated?)" % off
    magic, ver, typ, flags, index, length, crc = struct.unpack_from(">4sBBHIII", data, off)
    if magic != b"ESG1":
        return "no segment at offset %d (bad magic)" % off
    if ver != 1:
        return "segment at offset %d: unknown version %d" % (off, ver)
    if typ not in SEG_NAMES:
        return "segment at offset %d: unknown type %d" % (off, typ)
    if length > 64 << 20 or off + 20 + length > len(data):
        return "the file ends inside segment %d at offset %d (truncated?)" % (index, off)
    payload = data[off + 20:off + 20 + length]
    if crc32c(data[off:off + 16] + payload) != crc:
        return "segment %d at offset %d: CRC32C does not match (changed bytes)" % (index, off)
    return typ, flags, index, payload, off + 20 + length


def fields(p):
    """{tag: [values]} of a fields payload (2-byte tag, 4-byte length)."""
    out, i = {}, 0
    while i < len(p):
        if i + 6 > len(p):
            raise ValueError("field header past the end")
        tag, n = struct.unpack_from(">HI", p, i)
        if i + 6 + n > len(p):
            raise ValueError("field past the end")
        out.setdefault(tag, []).append(p[i + 6:i + 6 + n])
        i += 6 + n
    return out


def clean(b):
    """A META string as the index shows it (control bytes as '?')."""
    s = b.decode("utf-8", "replace")
    return "".join("?" if ord(c) < 0x20 or ord(c) == 0x7f else c for c in s) or "-"


# ---- the index and the hashes --------------------------------------------------

def read_index(path):
    """(header {key: value}, [session {key: value}]) of index.txt."""
    head, sessions, cur = {}, [], None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines or lines[0] != "escort-evidence v1":
        raise ValueError("not an escort-evidence v1 index")
    for line in lines[1:]:
        if not line:
            continue
        key, _, value = line.partition(" ")
        if key == "session":
            cur = {"session": value}
            sessions.append(cur)
        elif cur is None:
            head[key] = value
        else:
            cur[key] = value
    return head, sessions


def check_sums(root, bad):
    """SHA256SUMS against every file; every file must be listed."""
    listed = set()
    with open(os.path.join(root, "SHA256SUMS"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.fullmatch(r"([0-9a-f]{64})  (\S+)\n?", line)
            if not m:
                bad.add("SHA256SUMS:%d" % n, "not a sha256sum line")
                continue
            rel = m.group(2)
            listed.add(rel)
            p = os.path.join(root, rel)
            if ".." in rel.split("/") or not os.path.isfile(p):
                bad.add(rel, "listed in SHA256SUMS but missing")
                continue
            with open(p, "rb") as g:
                if hashlib.sha256(g.read()).hexdigest() != m.group(1):
                    bad.add(rel, "SHA-256 differs from SHA256SUMS (the file was changed)")
    for d, _, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(d, name), root).replace(os.sep, "/")
            if rel != "SHA256SUMS" and rel not in listed and not rel.endswith(".pyc"):
                bad.add(rel, "not listed in SHA256SUMS")


def key_id(pem_path):
    """SHA-256 of the raw 32-byte Ed25519 public key of a PEM file."""
    with open(pem_path) as f:
        text = f.read()
    m = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", text, re.S)
    der = base64.b64decode("".join(m.group(1).split())) if m else b""
    if len(der) != 44 or not der.startswith(ED25519_SPKI):
        raise ValueError("not a PEM Ed25519 public key")
    return sha256(der[12:])


# ---- the tree head ---------------------------------------------------------------

def check_tree_head(root, ssl, head, bad):
    """log/tree-head.*: (size, root) as the line says (a signature that does
    not verify is reported, and the proofs are still checked against it),
    or None when the bundle has no tree head."""
    if head.get("tree-head") == "none":
        return None
    rel = "log/tree-head.txt"
    with open(os.path.join(root, rel)) as f:
        parts = f.read().split()
    if len(parts) != 6 or parts[:2] != ["escort-head", "v1"]:
        bad.add(rel, "not an escort-head v1 line")
        return None
    try:
        size, root_hex, t, sig_b64 = int(parts[2]), parts[3], int(parts[4]), parts[5]
        tree_root, sig = bytes.fromhex(root_hex), base64.b64decode(sig_b64, validate=True)
    except ValueError:
        bad.add(rel, "not an escort-head v1 line (a field is not a number, hex or base64)")
        return None
    if len(tree_root) != 32:
        bad.add(rel, "not an escort-head v1 line (the root is not 32 bytes)")
        return None
    msg = b"escort-tree-head-v1\0" + struct.pack(">Q", size) + tree_root + struct.pack(">Q", t)
    for name, want in (("log/tree-head.msg", msg), ("log/tree-head.sig", sig)):
        with open(os.path.join(root, name), "rb") as f:
            if f.read() != want:
                bad.add(name, "differs from log/tree-head.txt")
    if not ssl.verify(msg, sig):
        bad.add(rel, "the signature does not verify with public-key.pem")
    if head.get("tree-head") != "%d %s" % (size, iso(t)):
        bad.add("index.txt", "tree-head says %r, log/tree-head.txt %d %s"
                % (head.get("tree-head"), size, iso(t)))
    return size, tree_root


def merkle_included(leaf, index, size, path, root):
    """RFC 9162 2.1.3.2: does path prove leaf hash `leaf` at index in the
    tree of `size` leaves with `root`?"""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def merkle_consistent(m, old_root, n, new_root, proof):
    """RFC 9162 2.1.4.2: does proof show that the tree of m leaves with
    old_root is a prefix of the tree of n leaves with new_root?"""
    if m == 0 or m > n:
        return False
    if m == n:
        return not proof and old_root == new_root
    if (m & (m - 1)) == 0:  # m a power of two: old_root is the first node
        proof = [old_root] + proof
    if not proof:
        return False
    fn, sn, fr, sr = m - 1, n - 1, proof[0], proof[0]
    while fn & 1:
        fn >>= 1
        sn >>= 1
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = sha256(b"\x01" + c + fr), sha256(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def head_lines(path):
    """[(lineno, size, root, time, sig, line)] of the escort-head lines of a file."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            w = line.split()
            if len(w) == 6 and w[:2] == ["escort-head", "v1"]:
                out.append((n, int(w[2]), bytes.fromhex(w[3]), int(w[4]),
                            base64.b64decode(w[5]), line.strip()))
    return out


def head_signed(ssl, size, root, t, sig):
    return ssl.verify(b"escort-tree-head-v1\0" + struct.pack(">Q", size) + root +
                      struct.pack(">Q", t), sig)


def check_anchors(root, ssl, tree, anchor, bad):
    """log/anchors.txt and log/consistency.txt (a bundle made with
    --anchor): each head signed and extended by the tree head; then the
    heads of the auditor's own file (--anchor) must be among those proven.
    Returns how many heads of --anchor were proven."""
    proven = {}
    if tree:
        proven[tree[0]] = tree[1]
    heads = os.path.join(root, "log", "anchors.txt")
    if tree and os.path.isfile(heads):
        proofs = {}
        with open(os.path.join(root, "log", "consistency.txt")) as f:
            for n, line in enumerate(f, 1):
                w = line.split()
                if not w or w[0].startswith("#"):
                    continue
                try:
                    if w[:2] != ["escort-proof", "v1"] or int(w[4]) != tree[0]:
                        raise ValueError
                    proofs[int(w[2])] = (bytes.fromhex(w[3]), [bytes.fromhex(h) for h in w[5:]])
                except (ValueError, IndexError):
                    bad.add("log/consistency.txt:%d" % n, "not a proof to the bundle's tree head")
        for n, size, hroot, t, sig, _ in head_lines(heads):
            where = "log/anchors.txt:%d" % n
            if not head_signed(ssl, size, hroot, t, sig):
                bad.add(where, "the tree head's signature does not verify")
            elif size == tree[0]:
                if hroot != tree[1]:
                    bad.add(where, "a tree head of the bundle's size with another root: "
                            "the log was forked")
                else:
                    proven[size] = hroot
            elif size not in proofs or proofs[size][0] != hroot or \
                    not merkle_consistent(size, hroot, tree[0], tree[1], proofs[size][1]):
                bad.add(where, "no consistency proof leads from it to log/tree-head.txt")
            else:
                proven[size] = hroot
    if anchor is None:
        return 0
    count = 0
    for n, size, hroot, t, sig, _ in head_lines(anchor):
        where = "%s:%d" % (anchor, n)
        if not head_signed(ssl, size, hroot, t, sig):
            bad.add(where, "the tree head's signature does not verify with public-key.pem")
        elif size not in proven:
            bad.add(where, "the bundle does not prove that its tree head extends this one "
                    "(ask for a bundle made with --anchor holding it)")
        elif proven[size] != hroot:
            bad.add(where, "contradicted: the bundle's journal of that size has another root")
        else:
            count += 1
    return count


# ---- a session file -------------------------------------------------------------

def check_session_file(root, sid, kid, ssl, bad):
    """Walks sessions/ID.est segment by segment: framing, CRCs, the hash
    chain, event numbering, and every seal (fields, key id, signature,
    and its copy under seals/ID/).  Returns what the journal and the index
    are compared with, or None when the file cannot be walked."""
    rel = "sessions/%s.est" % sid
    with open(os.path.join(root, rel), "rb") as f:
        data = f.read()
    head = sha256(b"escort-transcript-v1\0" + sid.encode())
    info = {"segs": [], "meta": {}, "start": None, "end": None, "seals": 0,
            "finished": False, "size": len(data), "signed_end": 0}
    seal_files = set()
    sdir = os.path.join(root, "seals", sid)
    if os.path.isdir(sdir):
        seal_files = set(os.listdir(sdir))
    last_seq, last_t, off, index = 0, 0, 0, 0
    while off < len(data):
        seg = read_segment(data, off)
        if isinstance(seg, str):
            bad.add(rel, seg)
            return None
        typ, flags, idx, p, end = seg
        where = "%s: segment %d (%s) at offset %d" % (rel, index, SEG_NAMES[typ], off)
        if idx != index:
            bad.add(where, "index %d where %d was due (segments removed or reordered)"
                    % (idx, index))
            return None
        if info["finished"]:
            bad.add(where, "follows the FINAL record")
            return None
        before = head
        head = sha256(head + data[off:end])
        info["segs"].append((typ, off, end, before, head))
        try:
            if (typ == SEG_HEAD) != (index == 0) or typ == SEG_JOURNAL:
                raise ValueError("a %s segment cannot be segment %d" % (SEG_NAMES[typ], index))
            if typ == SEG_HEAD:
                n = p[0]
                if p[1:1 + n].decode() != sid:
                    raise ValueError("the session id inside is not %s" % sid)
                info["start"], mlen = struct.unpack_from(">QI", p, 1 + n)
                recs = p[13 + n:]
                if len(recs) != mlen:
                    raise ValueError("malformed HEAD")
                i = 0
                while i < len(recs):  # event records: length, type, channel, seq, t_ns
                    plen, etype, _, seq, t = struct.unpack_from(">IHIQQ", recs, i)
                    if seq != last_seq + 1 or t < last_t:
                        raise ValueError("event %d out of order" % seq)
                    if etype == 1:
                        info["meta"] = fields(recs[i + 26:i + 26 + plen])
                    last_seq, last_t, i = seq, t, i + 26 + plen
            elif typ == SEG_DATA:
                first, last, ft, lt, _, raw = struct.unpack_from(">QQQQQI", p, 0)
                if raw > 0 and (first != last_seq + 1 or last < first or ft < last_t or lt < ft):
                    raise ValueError("events %d..%d do not follow event %d" % (first, last, last_seq))
                if raw == 0 and first != last_seq:
                    raise ValueError("empty data segment out of place")
                if raw > 0:
                    last_seq, last_t = last, lt
            elif typ == SEG_RECOVERY:  # one RECOVERY record (type 12, seq 0)
                plen, etype, _, seq, _ = struct.unpack_from(">IHIQQ", p, 0)
                if etype != 12 or seq != 0 or 26 + plen != len(p):
                    raise ValueError("malformed RECOVERY record")
                f = fields(p[26:])
                cut, lost = (struct.unpack(">Q", f.get(tag, [bytes(8)])[0])[0] for tag in (90, 91))
                info["recovered"] = "%d bytes cut at offset %d" % (lost, cut)
            elif typ in (SEG_CHECKPOINT, SEG_FINAL):
                check_seal(root, sid, kid, ssl, bad, where, p, typ, index, off, last_seq, before,
                           seal_files, info)
                info["signed_end"] = end
        except (ValueError, struct.error, IndexError, UnicodeDecodeError) as e:
            bad.add(where, str(e))
            return None
        off, index = end, index + 1
    if not info["segs"]:
        bad.add(rel, "empty file")
        return None
    for name in sorted(seal_files):
        bad.add("seals/%s/%s" % (sid, name), "no such seal in %s" % rel)
    return info


def check_seal(root, sid, kid, ssl, bad, where, p, typ, index, off, last_seq, before,
               seal_files, info):
    """One CHECKPOINT or FINAL: its fields against the chain, its key id,
    its Ed25519 signature, and the copies seals/ID/NNNNNN.msg and .sig."""
    if len(p) != 157:
        raise ValueError("malformed seal")
    kind, s_index, s_seq, s_head, wall, s_off = struct.unpack_from(">BIQ32sQQ", p, 0)
    s_kid, sig = p[61:93], p[93:157]
    if kind != 2 if typ == SEG_FINAL else kind not in (1, 3):
        raise ValueError("a seal of kind %d in a %s segment" % (kind, SEG_NAMES[typ]))
    if (s_index, s_off, s_seq, s_head) != (index, off, last_seq, before):
        raise ValueError("the seal's index, offset, last event or chain head does not "
                         "match the file before it (bytes changed, removed or inserted)")
    if s_kid != kid:
        raise ValueError("sealed by another key (key id %s)" % s_kid.hex())
    msg = (b"escort-checkpoint-v1\0" + bytes([kind, len(sid)]) + sid.encode() +
           struct.pack(">IQ", s_index, s_seq) + s_head + struct.pack(">QQ", wall, s_off))
    if not ssl.verify(msg, sig):
        raise ValueError("the Ed25519 signature does not verify with public-key.pem")
    info["seals"] += 1
    if typ == SEG_FINAL:
        info["finished"], info["end"] = True, wall
    for ext, want in (("msg", msg), ("sig", sig)):
        name = "%06d.%s" % (index, ext)
        path = os.path.join(root, "seals", sid, name)
        seal_files.discard(name)
        if not os.path.isfile(path):
            bad.add("seals/%s/%s" % (sid, name), "missing")
            continue
        with open(path, "rb") as f:
            if f.read() != want:
                bad.add("seals/%s/%s" % (sid, name), "differs from the seal in the session file")


# ---- the journal entries and their proofs ---------------------------------------

def check_journal(root, sid, kid, ssl, tree, info, bad):
    """log/ID.proof: each journal entry (framing, signature, Merkle path to
    the tree head) and what it says against the session file.  Returns
    (entries, entries in the tree head, has close entry)."""
    rel = "log/%s.proof" % sid
    with open(os.path.join(root, rel)) as f:
        lines = [l for l in f.read().split("\n") if l and not l.startswith("#")]
    want = "escort-inclusion v1 %s %s" % (sid, tree[0] if tree else "none")
    if not lines or lines[0] != want:
        bad.add(rel, "first line is not %r" % want)
        return 0, 0, False
    entries, covered, last_leaf = [], 0, -1
    for n, line in enumerate(lines[1:], 2):
        where = "%s:%d" % (rel, n)
        w = line.split()
        try:
            if len(w) < 4 or w[0] != "entry":
                raise ValueError("not an entry line")
            leaf, prev, raw = int(w[1]), bytes.fromhex(w[2]), bytes.fromhex(w[3])
            if leaf <= last_leaf:
                raise ValueError("entries out of journal order")
            last_leaf = leaf
            seg = read_segment(raw, 0)
            if isinstance(seg, str) or seg[0] != SEG_JOURNAL or seg[2] != leaf or \
                    seg[4] != len(raw):
                raise ValueError("not journal entry %d: %s" % (leaf, seg if isinstance(seg, str)
                                                                 else "wrong type or index"))
            p = seg[3]
            kind, idlen = p[0], p[1]
            e_id = p[2:2 + idlen].decode()
            e_index, e_off, e_seq, e_head, e_wall = struct.unpack_from(">IQQ32sQ", p, 2 + idlen)
            body = 2 + idlen + 60
            e_text = b""
            if kind >= J_RECOVER:
                e_text = p[body + 2:body + 2 + struct.unpack_from(">H", p, body)[0]]
                body += 2 + len(e_text)
            if len(p) != body + 96:
                raise ValueError("malformed journal entry")
            if e_id != sid:
                raise ValueError("the entry is about session %s" % e_id)
            if p[body:body + 32] != kid:
                raise ValueError("signed by another key")
            if not ssl.verify(b"escort-journal-v1\0" + prev + p[:body], p[body + 32:]):
                raise ValueError("the entry's Ed25519 signature does not verify")
            if w[4:] == ["uncovered"]:
                if tree and leaf < tree[0]:
                    raise ValueError("entry %d is in the tree head but has no proof" % leaf)
            elif not tree or not merkle_included(sha256(b"\0" + raw), leaf, tree[0],
                                                 [bytes.fromhex(h) for h in w[4:]], tree[1]):
                # reported; what the entry says is still compared below
                bad.add(where, "the Merkle proof does not lead to the tree head's root "
                        "(the entry, the proof or the head was changed)")
            else:
                covered += 1
            entries.append((kind, e_index, e_off, e_head, where, e_seq, e_text))
        except (ValueError, struct.error, IndexError, UnicodeDecodeError) as e:
            bad.add(where, str(e))
    closed = False
    if info is not None:
        closed = match_journal(sid, entries, info, bad)
    return len(lines) - 1, covered, closed


def prune_names(text):
    """A prune entry's text: the object's address, then key=value lines
    (user, target; others ignored).  Returns (address, {key: value})."""
    lines = text.decode("utf-8", "replace").split("\n")
    return lines[0], dict(l.split("=", 1) for l in lines[1:] if "=" in l)


def check_prune_names(sid, e, info, bad):
    """The user and target a prune entry names are its session's (META)."""
    _, names = prune_names(e[6])
    for key, tag in (("user", 1), ("target", 3)):
        if key in names and names[key] != info["meta"].get(tag, [b""])[0].decode(
                "utf-8", "replace"):
            bad.add(e[4], "the prune entry names %s %r, sessions/%s.est's META %r: "
                    "tampering" % (key, names[key], sid, clean(info["meta"].get(tag, [b""])[0])))


def match_journal(sid, entries, info, bad):
    """What each journal entry says against the session file (the entries
    a later recover entry superseded left out)."""
    live, was_closed, close = [], False, None
    for e in entries:
        if e[0] == J_PRUNE:
            # the recorder's copy removed once the object store held it:
            # after the close, naming its FINAL segment and last seq, the
            # file's size (offset) and SHA-256 (head)
            if close is None:
                bad.add(e[4], "a prune entry for a session not closed: tampering")
            elif (e[1], e[5]) != (close[1], close[5]) or e[2] != close[2] + 177:
                bad.add(e[4], "the prune entry disagrees with the close entry (segment, "
                        "last seq or size): tampering")
            elif e[2] != info["size"] or e[3] != info.get("sha256"):
                bad.add(e[4], "sessions/%s.est is not the file the prune entry names "
                        "(size or SHA-256)" % sid)
            else:
                check_prune_names(sid, e, info, bad)
            continue
        if e[0] == J_CLOSE:
            close = e
        if e[0] == J_RECOVER:
            if was_closed:
                bad.add(e[4], "a recovery after the session's close (a closed session is "
                        "never reopened): tampering")
            live = [x for x in live if x[2] < e[2]]
        elif e[0] == J_ALTERED:
            bad.add(e[4], "the recorder found sessions/%s.est altered under it" % sid)
            continue
        was_closed = was_closed or e[0] == J_CLOSE
        live.append(e)
    segs, closed, opened = info["segs"], False, False
    for kind, index, off, head, where, _, _ in live:
        seg = segs[index] if index < len(segs) else None
        if kind == J_OPEN:
            ok = index == 0 and seg and seg[2] == off and seg[4] == head
            opened = True
        elif kind in (J_CHECKPOINT, J_CLOSE, J_RECOVER):
            typ = {J_CHECKPOINT: SEG_CHECKPOINT, J_CLOSE: SEG_FINAL, J_RECOVER: SEG_RECOVERY}[kind]
            ok = seg and seg[0] == typ and seg[1] == off and seg[3] == head
            if kind == J_CLOSE:
                closed = True
                ok = ok and index == len(segs) - 1
        else:
            ok = False
        if not ok:
            bad.add(where, "the journal's %s entry (segment %d, offset %d) does not match "
                    "sessions/%s.est (the file was cut, changed or replaced)"
                    % (J_NAMES.get(kind, kind), index, off, sid))
    if not opened:
        bad.add("log/%s.proof" % sid, "no open entry for the session")
    return closed


# ---- one session against the index --------------------------------------------

def check_index_session(sid, s, info, entries, covered, closed, bad):
    """The index's claims about a session against what was verified."""
    where = "index.txt: session %s" % sid
    meta = info["meta"]
    claims = {
        "user": clean(meta.get(1, [b""])[0]), "target": clean(meta.get(3, [b""])[0]),
        "login": clean(meta.get(4, [b""])[0]), "start": iso(info["start"]),
        "end": iso(info["end"]) if info["finished"] else "-",
        "status": "closed" if info["finished"] else "live",
        "size": str(info["size"]), "seals": str(info["seals"]),
        "journal-entries": str(entries), "covered-by-tree-head": str(covered),
        "recovered": info.get("recovered"),
    }
    for k, v in claims.items():
        if s.get(k) != v:
            bad.add(where, "%s is %r in the index, %r as checked" % (k, s.get(k), v))
    if s.get("store-check", "").startswith("FAILED"):
        bad.add(where, "escort-replay found it not verifying in the store: " + s["store-check"])
    if not info["finished"] and info["size"] > info["signed_end"]:
        print("note: session %s: live when the bundle was made; its last %d bytes are covered "
              "by the hash chain and CRCs but by no seal yet" % (sid, info["size"] - info["signed_end"]))
    if info["finished"] and not closed:
        print("note: session %s: its FINAL record is signed, but the bundle holds no journal "
              "close entry (it closed while the bundle was made)" % sid)


def dump_zstd(root, sid, outdir):
    """Writes each zstd frame of session sid's DATA segments to
    OUTDIR/ID.NNNNNN.zst (NNNNNN: the segment where it starts), for zstd
    -dc: the event records.  A frame without its end (a live session's
    last, or one a recovery cut) decodes up to where it stops.  Checks
    nothing: run the check first."""
    with open(os.path.join(root, "sessions", sid + ".est"), "rb") as f:
        data = f.read()
    os.makedirs(outdir, exist_ok=True)
    off, out, n = 0, None, 0
    while off < len(data):
        seg = read_segment(data, off)
        if isinstance(seg, str):
            print("verify.py: sessions/%s.est: %s" % (sid, seg), file=sys.stderr)
            return 1
        typ, flags, index, p, off = seg
        if typ == SEG_DATA:
            if flags & 1 or out is None:  # CHUNK_START
                if out is not None:
                    out.close()
                out = open(os.path.join(outdir, "%s.%06d.zst" % (sid, index)), "wb")
                n += 1
            out.write(p[44:])
            if flags & 2:  # CHUNK_END
                out.close()
                out = None
        elif typ == SEG_RECOVERY and out is not None:
            out.close()
            out = None
    if out is not None:
        out.close()
    print("verify.py: %d zstd frame(s) of session %s in %s" % (n, sid, outdir), file=sys.stderr)
    return 0


def main(argv):
    args, want_kid, zstd_id, anchor = [], None, None, None
    i = 0
    while i < len(argv):
        if argv[i] == "--key-id" and i + 1 < len(argv):
            want_kid, i = argv[i + 1].lower(), i + 2
        elif argv[i] == "--anchor" and i + 1 < len(argv):
            anchor, i = argv[i + 1], i + 2
        elif argv[i] == "--zstd" and i + 2 < len(argv):
            zstd_id, zstd_dir, i = argv[i + 1], argv[i + 2], i + 3
        elif argv[i] in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(argv[i])
            i += 1
    root = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    if zstd_id is not None:
        return dump_zstd(root, zstd_id, zstd_dir)
    bad = Problems()
    try:
        subprocess.run(["openssl", "version"], stdout=subprocess.PIPE, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("verify.py: the openssl command is needed", file=sys.stderr)
        return 2
    check_sums(root, bad)
    try:
        head, sessions = read_index(os.path.join(root, "index.txt"))
        kid = key_id(os.path.join(root, "public-key.pem"))
    except (OSError, ValueError) as e:
        bad.add("index.txt or public-key.pem", str(e))
        print("bundle NOT verified: %d problem(s)" % len(bad.lines))
        return 1
    print("key id %s (SHA-256 of the raw Ed25519 public key in public-key.pem)" % kid.hex())
    if head.get("key-id") != kid.hex():
        bad.add("index.txt", "key-id is not the id of public-key.pem")
    if want_kid is not None and want_kid != kid.hex():
        bad.add("public-key.pem", "its key id is not the one given with --key-id")
    ssl = Openssl(os.path.join(root, "public-key.pem"))
    try:
        tree = check_tree_head(root, ssl, head, bad)
        anchored = check_anchors(root, ssl, tree, anchor, bad)
        if anchor is not None and anchored:
            print("anchor: the bundle's tree head extends all %d tree head(s) of %s"
                  % (anchored, anchor))
        names = [s["session"] for s in sessions]
        if head.get("sessions") != str(len(names)) or len(set(names)) != len(names):
            bad.add("index.txt", "the sessions line does not count the session blocks")
        on_disk = sorted(n[:-4] for n in os.listdir(os.path.join(root, "sessions"))
                         if n.endswith(".est"))
        if on_disk != sorted(names):
            bad.add("sessions/", "holds %s, the index names %s" % (on_disk, sorted(names)))
        for s in sessions:
            sid = s["session"]
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", sid) or \
                    not os.path.isfile(os.path.join(root, "sessions", sid + ".est")):
                bad.add("index.txt", "session %r has no file" % sid)
                continue
            before = len(bad.lines)
            with open(os.path.join(root, "sessions", sid + ".est"), "rb") as f:
                digest = hashlib.sha256(f.read()).digest()
                if s.get("file") != "%s  sessions/%s.est" % (digest.hex(), sid):
                    bad.add("index.txt: session %s" % sid, "the file line's SHA-256 is not "
                            "that of sessions/%s.est" % sid)
            info = check_session_file(root, sid, kid, ssl, bad)
            if info is not None:
                info["sha256"] = digest
            entries, covered, closed = check_journal(root, sid, kid, ssl, tree, info, bad)
            if info is not None:
                check_index_session(sid, s, info, entries, covered, closed, bad)
            if len(bad.lines) == before:
                print("ok: session %s (%s, user %s, target %s): %d seal(s), %d journal "
                      "entr%s, %d in the tree head" % (sid, s.get("status"), s.get("user"),
                                                      s.get("target"), info["seals"], entries,
                                                      "y" if entries == 1 else "ies", covered))
    except OSError as e:
        bad.add(getattr(e, "filename", None) or "bundle", e.strerror or str(e))
    finally:
        ssl.close()
    if bad.lines:
        print("bundle NOT verified: %d problem(s)" % len(bad.lines))
        return 1
    print("bundle verified: %d session(s), %d signature(s) checked with openssl; tree head "
          "%s" % (len(sessions), ssl.n, "of %d entries" % tree[0] if tree else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
