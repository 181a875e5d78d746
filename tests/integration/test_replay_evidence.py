"""escort-replay evidence on sessions recorded through the real proxy and
recorder with the real ssh client: the bundle (a directory, or a tar
archive) is checked with ONLY what its README names (sha256sum, openssl,
python3 verify.py from the bundle, zstd), never with escort's programs; a
byte flipped in a session file (also with its CRC, SHA256SUMS and index
made to agree), in a signature, in the index or in the tree head, a
truncated session, and a session cut back to a checkpoint with every
unsigned file rewritten to match, each make that check fail with a line
naming what is wrong.  The command's errors (no key, an unknown session,
an output directory that is not empty) are clear and change nothing."""
import hashlib, json, os, re, shutil, struct, subprocess, tarfile

from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, replay

TIMEOUT = 240
COMMANDS = ["echo evidence-one", "printf 'evidence-two\\n'", "sha256sum /etc/hostname"]


def record_sessions(env):
    """Three exec sessions through the proxy; returns (world, their ids),
    once each is closed and a signed tree head covers its close."""
    w = ProxyWorld(env)
    for c in COMMANDS:
        r = w.ssh("alice", "web01", c)
        assert r.returncode == 0, r
    rows = []

    def closed():
        rows[:] = [json.loads(l) for l in replay(w, "list", "--json").stdout.splitlines()]
        return len(rows) == 3 and all(r["status"] == "closed" for r in rows)
    wait_for(closed, 20, what="three closed sessions")
    heads = os.path.join(w.store, "heads.esh")
    journal = os.path.join(w.store, "journal.esj")

    def covered():
        """The newest whole line of heads.esh covers the journal."""
        if not os.path.exists(heads):
            return False
        lines = [l for l in open(heads).read().split("\n")[:-1] if l.startswith("escort-head ")]
        return bool(lines) and int(lines[-1].split()[2]) >= journal_entries(journal)
    wait_for(covered, 20, what="a tree head over the whole journal")
    return w, sorted(r["id"] for r in rows)


def journal_entries(path):
    """Number of segments in the journal (header: 20 bytes, length at 12)."""
    with open(path, "rb") as f:
        data = f.read()
    n = off = 0
    while off + 20 <= len(data):
        off += 20 + struct.unpack_from(">I", data, off + 12)[0]
        n += 1
    return n


def key_id(world):
    """The recorder's key id, from its private key (as its owner would
    tell the auditor): SHA-256 of the raw public key."""
    der = subprocess.run(["openssl", "pkey", "-in", world.sign_key, "-pubout", "-outform", "DER"],
                         stdout=subprocess.PIPE, check=True).stdout
    return hashlib.sha256(der[-32:]).hexdigest()


def check(bundle, kid):
    """The bundle's own checker, as its README says to run it."""
    return subprocess.run(["python3", os.path.join(bundle, "verify.py"), "--key-id", kid],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                          cwd=bundle)


def failed_lines(r):
    return [l for l in r.stdout.decode().splitlines() if l.startswith("FAILED: ")]


def copy(bundle, env, name):
    dst = env.path(name)
    shutil.copytree(bundle, dst)
    return dst


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def segments(path):
    """[(offset, type, payload length)] of a session file."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 0
    while off + 20 <= len(data):
        typ, = struct.unpack_from(">B", data, off + 5)
        n, = struct.unpack_from(">I", data, off + 12)
        out.append((off, typ, n))
        off += 20 + n
    return out


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def rewrite_unsigned(bundle, sid, **fields):
    """What a forger without the key can do after changing a session file:
    make index.txt's block (and any fields given) and SHA256SUMS agree."""
    est = os.path.join(bundle, "sessions", sid + ".est")
    with open(est, "rb") as f:
        data = f.read()
    fields.setdefault("size", str(len(data)))
    fields["file"] = "%s  sessions/%s.est" % (hashlib.sha256(data).hexdigest(), sid)
    idx = os.path.join(bundle, "index.txt")
    out, cur = [], None
    for line in open(idx).read().split("\n"):
        k, _, v = line.partition(" ")
        if k == "session":
            cur = v
        if cur == sid and k in fields:
            line = "%s %s" % (k, fields[k])
        out.append(line)
    with open(idx, "w") as f:
        f.write("\n".join(out))
    sums = []
    for d, _, files in os.walk(bundle):
        for n in files:
            rel = os.path.relpath(os.path.join(d, n), bundle)
            if rel != "SHA256SUMS":
                with open(os.path.join(d, n), "rb") as f:
                    sums.append("%s  %s\n" % (hashlib.sha256(f.read()).hexdigest(), rel))
    with open(os.path.join(bundle, "SHA256SUMS"), "w") as f:
        f.write("".join(sorted(sums)))


def test_bundle_verifies_offline_and_every_change_fails():
    with Env() as env:
        w, ids = record_sessions(env)
        kid = key_id(w)
        bundle = env.path("bundle")
        r = replay(w, "evidence", "--all", "--out", bundle)
        assert r.returncode == 0, r
        assert b"3 sessions written" in r.stdout, r.stdout

        # what the README says, with standard tools only
        s = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=bundle,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert s.returncode == 0, s
        ok = check(bundle, kid)
        assert ok.returncode == 0, ok.stdout.decode()
        out = ok.stdout.decode()
        assert "bundle verified: 3 session(s)" in out, out
        for sid in ids:
            assert re.search(r"ok: session %s \(closed, user alice, target web01\): \d+ seal\(s\), "
                             r"\d+ journal entries, \d+ in the tree head" % re.escape(sid), out), out
        seals = sorted(os.path.join(d, n) for d, _, fs in os.walk(os.path.join(bundle, "seals"))
                       for n in fs if n.endswith(".msg"))
        assert len(seals) >= 3, seals   # one FINAL each, and checkpoints
        for m in seals + [os.path.join(bundle, "log", "tree-head.msg")]:
            v = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                os.path.join(bundle, "public-key.pem"), "-rawin", "-in", m,
                                "-sigfile", m[:-4] + ".sig"], stdout=subprocess.PIPE)
            assert v.returncode == 0 and b"Signature Verified Successfully" in v.stdout, (m, v)
        index = open(os.path.join(bundle, "index.txt")).read()
        assert "key-id %s\n" % kid in index and "sessions 3\n" in index, index
        for sid in ids:
            with open(os.path.join(w.store, "sessions", sid + ".est"), "rb") as f:
                stored = f.read()
            with open(os.path.join(bundle, "sessions", sid + ".est"), "rb") as f:
                assert f.read() == stored, sid   # as stored, byte for byte
            assert "file %s  sessions/%s.est" % (hashlib.sha256(stored).hexdigest(), sid) in index
        # the README's way to read what was recorded: the output of a command
        events = b""
        for sid in ids:
            z = subprocess.run("python3 verify.py --zstd %s %s && "
                               "for f in %s/%s.*.zst; do zstd -dc \"$f\"; done"
                               % (sid, env.path("frames"), env.path("frames"), sid), shell=True,
                               cwd=bundle, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert z.returncode == 0, z
            events += z.stdout
        assert b"evidence-one\n" in events and b"evidence-two\n" in events, events[:400]

        sid = ids[0]
        est = os.path.join("sessions", sid + ".est")
        segs = segments(os.path.join(bundle, est))
        data_seg = next(s for s in segs if s[1] == 2)

        # 1. a flipped byte in a session file
        b = copy(bundle, env, "t1")
        flip(os.path.join(b, est), data_seg[0] + 20 + 50)
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert any(l.startswith("FAILED: %s: segment 1 at offset %d: CRC32C" % (est, data_seg[0]))
                   for l in failed_lines(r)), r.stdout

        # 2. the same with its CRC recomputed and the index and sums made to
        # agree: the hash chain and the seal's signature still tell
        b = copy(bundle, env, "t2")
        p = os.path.join(b, est)
        with open(p, "r+b") as f:
            data = bytearray(f.read())
            off, _, n = data_seg
            data[off + 20 + 50] ^= 0x01
            struct.pack_into(">I", data, off + 16,
                             crc32c(bytes(data[off:off + 16]) + bytes(data[off + 20:off + 20 + n])))
            f.seek(0)
            f.write(data)
        rewrite_unsigned(b, sid)
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert any(l.startswith("FAILED: %s: segment " % est) and
                   "does not match the file before it" in l for l in failed_lines(r)), r.stdout
        assert not any("SHA256SUMS" in l for l in failed_lines(r)), r.stdout

        # 3. a flipped byte in a signature
        b = copy(bundle, env, "t3")
        sig = os.path.relpath(seals[1][:-4] + ".sig", bundle)
        flip(os.path.join(b, sig), 10)
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert "FAILED: %s: differs from the seal in the session file" % sig in r.stdout.decode()

        # 4. a flipped byte in the index (a user name)
        b = copy(bundle, env, "t4")
        p = os.path.join(b, "index.txt")
        flip(p, open(p, "rb").read().index(b"user alice") + 5)
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert "FAILED: index.txt: SHA-256 differs from SHA256SUMS" in r.stdout.decode()
        assert re.search(r"FAILED: index.txt: session \S+: user is '\x60lice' in the index, "
                         r"'alice' as checked", r.stdout.decode()), r.stdout

        # 5. a flipped byte in the tree head (its root)
        b = copy(bundle, env, "t5")
        p = os.path.join(b, "log", "tree-head.txt")
        line = open(p).read()
        root_at = line.index(" ", len("escort-head v1 ")) + 1
        # a hex digit whose low bit flipped is still a hex digit
        flip(p, next(i for i in range(root_at, root_at + 64) if line[i] in "0123456789bcde"))
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert "FAILED: log/tree-head.txt: the signature does not verify" in r.stdout.decode()
        assert "the Merkle proof does not lead to the tree head's root" in r.stdout.decode()
        # a root that is no longer hex is named, not a crash of the checker
        b = copy(bundle, env, "t5b")
        p = os.path.join(b, "log", "tree-head.txt")
        line = open(p).read()
        root_at = line.index(" ", len("escort-head v1 ")) + 1
        with open(p, "w") as f:
            f.write(line[:root_at] + "g" + line[root_at + 1:])
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert "FAILED: log/tree-head.txt: not an escort-head v1 line" in r.stdout.decode(), r.stdout
        assert b"Traceback" not in r.stdout, r.stdout

        # 6. a truncated session
        b = copy(bundle, env, "t6")
        p = os.path.join(b, est)
        os.truncate(p, os.path.getsize(p) - 7)
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        assert any(l.startswith("FAILED: %s: the file ends inside segment" % est)
                   for l in failed_lines(r)), r.stdout

        # 7. cut back at a segment boundary, before its FINAL seal, with
        # every unsigned file rewritten to agree: the signed journal's close
        # entry names a FINAL that is gone
        b = copy(bundle, env, "t7")
        final_off, final_type, _ = segs[-1]
        assert final_type == 5
        os.truncate(os.path.join(b, est), final_off)
        for ext in ("msg", "sig"):
            os.unlink(os.path.join(b, "seals", sid, "%06d.%s" % (len(segs) - 1, ext)))
        left = len(os.listdir(os.path.join(b, "seals", sid))) // 2
        if left == 0:
            os.rmdir(os.path.join(b, "seals", sid))
        rewrite_unsigned(b, sid, status="live", end="-", seals=str(left))
        r = check(b, kid)
        assert r.returncode == 1, r.stdout
        lines = failed_lines(r)
        assert lines and all("log/%s.proof:" % sid in l for l in lines), r.stdout
        assert any("close entry" in l and "does not match sessions/%s.est" % sid in l
                   for l in lines), r.stdout

        # the tree heads the proxy kept at each close (outside the store):
        # the bundle proves its head extends them, and a bundle made
        # without them, or with a changed proof, does not
        heads = env.path("state", "heads")

        def proxy_heads():
            """The proxy wrote a whole head line at each close (after ssh ended)."""
            if not os.path.exists(heads):
                return 0
            return len([l for l in open(heads).read().split("\n")[:-1]
                        if l.startswith("escort-head ")])
        wait_for(lambda: proxy_heads() >= len(ids), 20, what="the proxy's heads of 3 closes")
        anchored = env.path("anchored")
        r = replay(w, "evidence", "--all", "--anchor", heads, "--out", anchored)
        assert r.returncode == 0, r
        r = subprocess.run(["python3", os.path.join(anchored, "verify.py"), "--key-id", kid,
                            "--anchor", heads], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 0, r.stdout
        assert re.search(rb"anchor: the bundle's tree head extends all \d+ tree head", r.stdout)
        r = subprocess.run(["python3", os.path.join(bundle, "verify.py"), "--key-id", kid,
                            "--anchor", heads], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 1, r.stdout
        assert re.search(rb"FAILED: \S+/heads:1: the bundle does not prove that its tree head "
                         rb"extends this one", r.stdout), r.stdout
        b = copy(anchored, env, "t8")
        p = os.path.join(b, "log", "consistency.txt")
        lines = open(p).read().splitlines()
        proof = next(i for i, l in enumerate(lines) if l.startswith("escort-proof v1 ") and
                     len(l.split()) > 5)
        w8 = lines[proof].split()
        w8[-1] = ("0" if w8[-1][0] != "0" else "1") + w8[-1][1:]
        lines[proof] = " ".join(w8)
        open(p, "w").write("\n".join(lines) + "\n")
        r = subprocess.run(["python3", os.path.join(b, "verify.py"), "--key-id", kid,
                            "--anchor", heads], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert r.returncode == 1, r.stdout
        assert b"no consistency proof leads from it to log/tree-head.txt" in r.stdout, r.stdout

        # the archive form, two sessions named
        tar = env.path("two.tar")
        r = replay(w, "evidence", ids[1], ids[2], "--out", tar)
        assert r.returncode == 0, r
        dst = env.path("untar")
        os.mkdir(dst)
        subprocess.run(["tar", "xf", tar, "-C", dst], check=True)
        r = check(os.path.join(dst, "two"), kid)
        assert r.returncode == 0 and b"bundle verified: 2 session(s)" in r.stdout, r.stdout
        with tarfile.open(tar) as t:
            assert sorted(n for n in t.getnames() if n.startswith("two/sessions/")) == \
                ["two/sessions/%s.est" % i for i in ids[1:]]


def test_evidence_errors_are_clear():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo hi")
        assert r.returncode == 0, r
        sid = None

        def closed():
            nonlocal sid
            rows = [json.loads(l) for l in replay(w, "list", "--json").stdout.splitlines()]
            sid = rows[0]["id"] if rows and rows[0]["status"] == "closed" else None
            return sid is not None
        wait_for(closed, 20, what="a closed session")
        out = env.path("out")
        # an unknown session: nothing written
        r = replay(w, "evidence", "nosuch-1", "--out", out)
        assert r.returncode == 1 and b"no session nosuch-1 in" in r.stderr, r
        assert not os.path.exists(out)
        # no key anywhere (no --key, no ESCORT_KEY, no STORE/public-key.pem)
        keep = os.path.join(w.store, "public-key.pem")
        os.rename(keep, keep + ".away")
        e = dict(os.environ)
        e.pop("ESCORT_KEY", None)
        from harness.core import bin_path
        r = subprocess.run([bin_path("escort-replay"), "--store", w.store, "evidence", sid,
                            "--out", out], capture_output=True, env=e, timeout=60)
        os.rename(keep + ".away", keep)
        assert r.returncode == 2 and b"no public key" in r.stderr and b"--key" in r.stderr, r
        assert not os.path.exists(out)
        # a directory that is not empty is never written into
        os.mkdir(out)
        with open(os.path.join(out, "notes.txt"), "w") as f:
            f.write("mine\n")
        r = replay(w, "evidence", sid, "--out", out)
        assert r.returncode == 2 and b"exists and is not empty" in r.stderr, r
        assert os.listdir(out) == ["notes.txt"]
        # nor is an existing archive
        tar = env.path("x.tar")
        open(tar, "w").close()
        r = replay(w, "evidence", sid, "--out", tar)
        assert r.returncode == 2 and b"exists" in r.stderr and os.path.getsize(tar) == 0, r
        # no sessions named, no --out: say what is missing
        r = replay(w, "evidence", "--out", env.path("o2"))
        assert r.returncode == 2 and b"name the sessions" in r.stderr, r
        r = replay(w, "evidence", sid)
        assert r.returncode == 2 and b"--out DIR or --out FILE.tar is needed" in r.stderr, r
        r = replay(w, "evidence", "--user", "nobody", "--out", env.path("o3"))
        assert r.returncode == 1 and b"no session in" in r.stderr, r
        assert not os.path.exists(env.path("o3"))
        # an empty directory is fine, and --user selects; given the private
        # key, the bundle holds its public half only
        os.mkdir(env.path("empty"))
        r = replay(w, "evidence", "--user", "alice", "--key", w.sign_key,
                   "--out", env.path("empty"))
        assert r.returncode == 0, r
        assert os.path.exists(env.path("empty", "sessions", sid + ".est"))
        pem = open(env.path("empty", "public-key.pem")).read()
        assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem, pem
        for d, _, files in os.walk(env.path("empty")):
            for n in files:
                assert b"PRIVATE KEY" not in open(os.path.join(d, n), "rb").read() or \
                    n in ("README.txt", "verify.py"), n


def test_live_session_exports_up_to_its_last_segment():
    with Env() as env:
        w = ProxyWorld(env)
        live = subprocess.Popen(w.ssh_argv("alice", "web01", "echo live-start; sleep 60"),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            rows = []

            def recording():
                rows[:] = [json.loads(l) for l in replay(w, "list", "--json").stdout.splitlines()]
                return len(rows) == 1 and rows[0]["status"] == "live"
            wait_for(recording, 20, what="a live session")
            sid = rows[0]["id"]
            est = os.path.join(w.store, "sessions", sid + ".est")
            wait_for(lambda: any(t == 2 for _, t, _ in segments(est)), 20,
                     what="recorded output")
            bundle = env.path("live")
            r = replay(w, "evidence", sid, "--out", bundle)
            assert r.returncode == 0, r
            ok = check(bundle, key_id(w))
            out = ok.stdout.decode()
            assert ok.returncode == 0, out
            assert "ok: session %s (live, user alice, target web01)" % sid in out, out
            assert "status live\nrecovered" not in open(os.path.join(bundle, "index.txt")).read()
            with open(os.path.join(bundle, "sessions", sid + ".est"), "rb") as f:
                copied = f.read()
            with open(est, "rb") as f:
                assert f.read().startswith(copied)   # a prefix of whole segments
            assert sum(20 + n for _, _, n in segments(os.path.join(bundle, "sessions",
                                                                   sid + ".est"))) == len(copied)
        finally:
            live.kill()
            live.wait(timeout=10)
