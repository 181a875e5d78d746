"""escort-replay's reading commands verify what they show: on sessions written
through the transcript library (tests/tools/rec-mkstore: every event type, a
command, an upload), by the real recorder, and by the real proxy, every reader refuses (one session) or marks (many) a session that does
not verify, with exit 1 and the session named; --no-verify shows it; the key
comes from --key, ESCORT_KEY or STORE/public-key.pem; a store that cannot be
opened is exit 2 for every command."""
import json, os, shutil, struct, subprocess

from harness.core import Env, bin_path, tool_path, wait_for
from harness.recorder import terminal_text, openssl

TIMEOUT = 180
TEXT = terminal_text(300 << 10)
WARNING = b"warning\r\n"   # the STDERR event rec-mkstore --events writes first
A, B = "alpha-1", "bravo-2"

# One session: the commands that read a single session, with their arguments.
SINGLE = [("cat",), ("play", "--max-wait", "0"), ("screen", "--at", "0.04"),
          ("export", "--format", "json"), ("extract", "@", "1"), ("follow",),
          ("commands", "@"), ("files", "@")]
# Many sessions.
MULTI = [("list",), ("list", "--json"), ("commands",), ("commands", "--json"), ("files",),
         ("files", "--json"), ("audit",), ("search", "user alice or user bob")]


def single_argv(cmd, sid):
    """A SINGLE entry with the session id put in (at "@", else after the name)."""
    if "@" in cmd:
        return [sid if a == "@" else a for a in cmd]
    return [cmd[0], sid, *cmd[1:]]


def replay(store, *args, key=None, env_key=None):
    """escort-replay with ESCORT_KEY=env_key (unset when None)."""
    e = dict(os.environ)
    e.pop("ESCORT_KEY", None)
    if env_key is not None:
        e["ESCORT_KEY"] = env_key
    argv = [bin_path("escort-replay"), "--store", store, *args]
    if key is not None:
        argv[3:3] = ["--key", key]
    return subprocess.run(argv, capture_output=True, timeout=60, env=e)


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli), as escort-transcript(5) uses it."""
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def segments(path):
    """[(offset, type, payload length)] of a session file (segment.h layout,
    big-endian)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 20 <= len(data):
        assert data[off:off + 4] == b"ESG1", (path, off)
        typ, = struct.unpack_from(">B", data, off + 5)
        length, = struct.unpack_from(">I", data, off + 12)
        out.append((off, typ, length))
        off += 20 + length
    return out


SEG_HEAD, SEG_DATA, SEG_FINAL = 1, 2, 5


def forge_head(path, old, new):
    """Rewrites a string in the HEAD segment (the session's META: user,
    target) and fixes the segment's CRC, as someone who can write the store
    would: the framing is intact, only the hash chain and the signatures
    can tell."""
    assert len(old) == len(new)
    off, typ, length = segments(path)[0]
    assert typ == SEG_HEAD
    with open(path, "r+b") as f:
        f.seek(off)
        seg = bytearray(f.read(20 + length))
        i = seg.index(old, 20)
        seg[i:i + len(old)] = new
        seg[16:20] = struct.pack(">I", crc32c(bytes(seg[:16]) + bytes(seg[20:])))
        f.seek(off)
        f.write(seg)


def flip_data_byte(path):
    """Flips one byte in the middle of a sealed DATA segment's payload."""
    segs = [s for s in segments(path) if s[1] == SEG_DATA and s[2] > 100]
    off, _, length = segs[len(segs) // 2]
    at = off + 20 + length // 2
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x20]))


def cut_final(path):
    """Truncates a closed session right before its FINAL segment."""
    off, typ, _ = segments(path)[-1]
    assert typ == SEG_FINAL
    os.truncate(path, off)


class Store:
    """A store of two closed sessions made with rec-mkstore: A (alice on
    web01, every event type: the command "uptime", an upload of "abc", the
    output WARNING + TEXT) and B (bob on db01)."""

    def __init__(self, env):
        key = env.path("signing.pem")
        self.pub = env.path("signing.pub.pem")
        openssl("genpkey", "-algorithm", "ed25519", "-out", key)
        openssl("pkey", "-in", key, "-pubout", "-out", self.pub)
        self.store = env.path("store")
        text = env.path("text.out")
        with open(text, "wb") as f:
            f.write(TEXT)
        bob = env.write("bob.out", "bob was here\r\n")
        mk = tool_path("rec-mkstore")
        for argv in (["--id", A, "--events", text],
                     ["--id", B, "--user", "bob", "--target", "db01", bob]):
            subprocess.run([mk, "--store", self.store, "--key", key, *argv], check=True,
                           capture_output=True, timeout=60)

    def verify(self, *ids):
        return replay(self.store, "verify", *(ids or ("--all",)), "--key", self.pub)


def session_file(store, sid):
    return os.path.join(store, "sessions", sid + ".est")


def assert_refused(r, sid, what):
    """A single-session reader refused sid: exit 1, nothing shown, named."""
    assert r.returncode == 1, (what, r)
    assert r.stdout == b"", (what, r.stdout[:300])
    assert sid.encode() in r.stderr and b"does not verify" in r.stderr, (what, r.stderr)


def assert_marked(r, bad, good, what):
    """A many-session reader marked bad and not good: exit 1, named."""
    assert r.returncode == 1, (what, r)
    err = r.stderr.decode()
    assert bad in err and "does not verify" in err, (what, err)
    assert good not in err, (what, err)
    out = r.stdout.decode()
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            if o.get("id") == bad:
                assert o["verify"] == "FAILED", (what, line)
            elif o.get("id") == good:
                assert o["verify"] == "ok", (what, line)
        elif bad in line and what[0] == "list":
            assert " FAILED " in line, (what, line)     # the VERIFY column
        elif bad in line:
            assert line.lstrip().startswith("[FAILED]"), (what, line)
        elif good in line:
            assert "FAILED" not in line, (what, line)


def test_intact_sessions_read_with_the_key_from_anywhere():
    with Env("rd-intact") as env:
        rec, a, b = Store(env), A, B
        want = WARNING + TEXT
        # --key, ESCORT_KEY, and the store's own public-key.pem
        r = replay(rec.store, "cat", a, key=rec.pub)
        assert r.returncode == 0 and r.stdout == want and r.stderr == b"", r.stderr
        r = replay(rec.store, "cat", a, env_key=rec.pub)
        assert r.returncode == 0 and r.stdout == want and r.stderr == b"", r.stderr
        shutil.copy(rec.pub, os.path.join(rec.store, "public-key.pem"))
        r = replay(rec.store, "cat", a)
        assert r.returncode == 0 and r.stdout == want and r.stderr == b"", r.stderr
        os.unlink(os.path.join(rec.store, "public-key.pem"))
        # every reader, one session and many: exit 0, rows not marked
        for cmd in SINGLE:
            r = replay(rec.store, *single_argv(cmd, a), env_key=rec.pub)
            assert r.returncode == 0 and r.stdout, (cmd, r)
            assert b"FAILED" not in r.stdout and r.stderr == b"", (cmd, r)
        for cmd in MULTI:
            r = replay(rec.store, *cmd, env_key=rec.pub)
            assert r.returncode == 0 and a.encode() in r.stdout, (cmd, r)
            assert b"FAILED" not in r.stdout and r.stderr == b"", (cmd, r)
        rows = [json.loads(l) for l in replay(rec.store, "list", "--json",
                                              env_key=rec.pub).stdout.splitlines()]
        assert {o["id"]: o["verify"] for o in rows} == {a: "ok", b: "ok"}, rows
        # without any key: chains and CRCs are checked, and it says so
        r = replay(rec.store, "list", "--json")
        assert r.returncode == 0, r
        assert b"signatures NOT checked" in r.stderr, r.stderr
        assert {json.loads(l)["verify"] for l in r.stdout.splitlines()} == {"chain-only"}
        # a key file that is not a key: exit 2, named
        bad = env.write("not-a-key.pem", "hello\n")
        r = replay(rec.store, "cat", a, env_key=bad)
        assert r.returncode == 2 and b"not-a-key.pem" in r.stderr and r.stdout == b"", r
        r = replay(rec.store, "cat", a, key=env.path("nowhere.pem"))
        assert r.returncode == 2 and b"nowhere.pem" in r.stderr, r


def test_forged_metadata_is_refused_or_marked_by_every_reader():
    """The insider's edit: alice's session made bob's, CRC fixed.  The file
    still reads (--no-verify shows the forgery); verification names it."""
    with Env("rd-forged") as env:
        rec, a, b = Store(env), A, B
        forge_head(session_file(rec.store, a), b"alice", b"mal0y")
        for cmd in SINGLE:
            assert_refused(replay(rec.store, *single_argv(cmd, a), env_key=rec.pub), a, cmd)
        # the other session still reads
        r = replay(rec.store, "cat", b, env_key=rec.pub)
        assert r.returncode == 0 and r.stdout == b"bob was here\r\n", r
        for cmd in MULTI:
            r = replay(rec.store, *cmd, env_key=rec.pub)
            assert_marked(r, a, b, cmd)
        r = replay(rec.store, "search", "user mal0y", env_key=rec.pub)
        assert r.returncode == 1 and r.stdout.startswith(b"[FAILED] " + a.encode()), r
        r = replay(rec.store, "audit", env_key=rec.pub)
        assert ("[FAILED] session %s" % a).encode() in r.stdout, r.stdout
        # --no-verify: shown as stored, forgery included, exit 0
        r = replay(rec.store, "cat", "--no-verify", a, env_key=rec.pub)
        assert r.returncode == 0 and r.stdout == WARNING + TEXT, r.stderr
        r = replay(rec.store, "--no-verify", "list", "--json", env_key=rec.pub)
        assert r.returncode == 0, r
        rows = {o["id"]: o for o in map(json.loads, r.stdout.splitlines())}
        assert rows[a]["user"] == "mal0y" and rows[a]["verify"] == "skipped", rows
        # verify agrees with the readers
        v = rec.verify(a)
        assert v.returncode == 1 and (a + ": FAILED").encode() in v.stdout, v


def test_flipped_byte_truncation_and_wrong_key():
    with Env("rd-tamper") as env:
        rec, a, b = Store(env), A, B
        path = session_file(rec.store, a)
        saved = open(path, "rb").read()
        # one byte flipped inside a sealed segment
        flip_data_byte(path)
        for cmd in SINGLE:
            assert_refused(replay(rec.store, *single_argv(cmd, a), env_key=rec.pub), a, cmd)
        for cmd in MULTI:
            assert_marked(replay(rec.store, *cmd, env_key=rec.pub), a, b, cmd)
        # cut right before its final record: every segment left is intact,
        # only the journal knows the session was closed
        with open(path, "wb") as f:
            f.write(saved)
        cut_final(path)
        for cmd in SINGLE:
            assert_refused(replay(rec.store, *single_argv(cmd, a), env_key=rec.pub), a, cmd)
        for cmd in MULTI:
            assert_marked(replay(rec.store, *cmd, env_key=rec.pub), a, b, cmd)
        r = replay(rec.store, "cat", a, env_key=rec.pub)
        assert b"close record of journal entry" in r.stderr, r.stderr
        r = replay(rec.store, "cat", a, "--no-verify")
        assert r.returncode == 0 and r.stdout == WARNING + TEXT, r.stderr
        # a key that did not sign the store, through ESCORT_KEY
        with open(path, "wb") as f:
            f.write(saved)
        other = env.path("other.pem")
        other_pub = env.path("other.pub.pem")
        openssl("genpkey", "-algorithm", "ed25519", "-out", other)
        openssl("pkey", "-in", other, "-pubout", "-out", other_pub)
        for cmd in SINGLE:
            assert_refused(replay(rec.store, *single_argv(cmd, a), env_key=other_pub), a, cmd)
        r = replay(rec.store, "list", "--json", env_key=other_pub)
        assert r.returncode == 1, r
        assert {json.loads(l)["verify"] for l in r.stdout.splitlines()} == {"FAILED"}, r
        assert a.encode() in r.stderr and b.encode() in r.stderr, r.stderr
        # --key wins over ESCORT_KEY
        r = replay(rec.store, "cat", a, key=rec.pub, env_key=other_pub)
        assert r.returncode == 0 and r.stdout == WARNING + TEXT, r.stderr


def test_damaged_head_is_listed_never_left_out():
    with Env("rd-head") as env:
        rec, a, b = Store(env), A, B
        with open(session_file(rec.store, a), "r+b") as f:
            f.write(b"XXXX")   # the first segment's magic
        for nv in ([], ["--no-verify"]):
            r = replay(rec.store, "audit", *nv, env_key=rec.pub)
            assert r.returncode == 1, (nv, r)
            out = r.stdout.decode()
            assert "unreadable sessions" in out and "session %s:" % a in out, (nv, out)
            assert "session %s on db01" % b in out, (nv, out)
            assert a.encode() in r.stderr, (nv, r.stderr)
            r = replay(rec.store, "list", "--json", *nv, env_key=rec.pub)
            assert r.returncode == 1, (nv, r)
            rows = {o["id"]: o for o in map(json.loads, r.stdout.splitlines())}
            assert rows[a]["status"] == "damaged" and rows[b]["status"] == "closed", rows
            r = replay(rec.store, "cat", a, *nv, env_key=rec.pub)
            assert r.returncode == 1 and r.stdout == b"" and a.encode() in r.stderr, (nv, r)
        # a session the journal names, deleted: named by every many-session reader
        os.unlink(session_file(rec.store, b))
        for cmd in MULTI:
            r = replay(rec.store, *cmd, env_key=rec.pub)
            assert r.returncode == 1, (cmd, r)
            assert ("%s: does not verify: session file" % b).encode() in r.stderr, (cmd, r.stderr)
        # and by every one-session reader as deleted, not as a session that
        # never was
        for cmd in SINGLE:
            r = replay(rec.store, *single_argv(cmd, b), env_key=rec.pub)
            assert r.returncode == 1 and r.stdout == b"", (cmd, r)
            assert b"no such session" not in r.stderr, (cmd, r.stderr)
            assert ("%s: session file" % b).encode() in r.stderr and \
                b"is missing (deleted)" in r.stderr, (cmd, r.stderr)


def test_a_session_cut_inside_its_head_is_listed_never_left_out():
    """A closed session cut back into its first (head) segment is not a file
    being created: after the second look (200 ms) list, audit and search
    show it as damaged, as verify reports it, and exit 1."""
    with Env("rd-cuthead") as env:
        rec, a, b = Store(env), A, B
        with open(session_file(rec.store, a), "r+b") as f:
            f.truncate(100)
        r = replay(rec.store, "list", "--json", env_key=rec.pub)
        assert r.returncode == 1, r
        rows = {o["id"]: o for o in map(json.loads, r.stdout.splitlines())}
        assert rows.get(a, {}).get("status") == "damaged", rows
        assert rows[a]["verify"] == "FAILED", rows
        for nv in ([], ["--no-verify"]):
            r = replay(rec.store, "audit", *nv, env_key=rec.pub)
            assert r.returncode == 1, (nv, r)
            out = r.stdout.decode()
            assert "unreadable sessions" in out and "session %s:" % a in out, (nv, out)
        r = replay(rec.store, "search", "user alice or user bob", env_key=rec.pub)
        assert r.returncode == 1 and a.encode() in r.stderr, r
        # and a reader of it, or of every session, says it is cut, not to
        # try again
        for args in (["commands"], ["files"], ["cat", "--no-verify", a],
                     ["commands", "--no-verify", a]):
            r = replay(rec.store, *args, env_key=rec.pub)
            assert r.returncode == 1 and a.encode() in r.stderr, (args, r)
            assert b"try again" not in r.stderr, (args, r.stderr)


def test_a_journal_rolled_back_refuses_every_session():
    """The journal cut back at an entry boundary (the store rolled back) is
    seen by the tree heads: verify ID fails on it, and every one-session
    reader refuses even an intact session, naming the heads, as escort-
    replay(1) says for a problem of the journal."""
    with Env("rd-rollback") as env:
        rec, a, b = Store(env), A, B
        path = os.path.join(rec.store, "journal.esj")
        segs = segments(path)
        with open(path, "r+b") as f:
            f.truncate(segs[-1][0])                 # the last entry: B's close
        r = rec.verify(a)
        assert r.returncode == 1 and b"heads: FAILED" in r.stdout, r
        for cmd in SINGLE:
            r = replay(rec.store, *single_argv(cmd, a), env_key=rec.pub)
            assert r.returncode == 1 and r.stdout == b"", (cmd, r)
            assert b"heads: does not verify" in r.stderr, (cmd, r.stderr)


def test_a_store_that_cannot_be_opened_is_exit_2_for_every_command():
    with Env("rd-store") as env:
        rec, a, b = Store(env), A, B
        notdir = env.write("plain-file", "x\n")
        nostore = env.path("empty-dir")
        os.makedirs(nostore)
        cmds = [single_argv(c, a) for c in SINGLE] + [list(c) for c in MULTI] + \
            [["verify", "--all", "--key", rec.pub]]
        for store, why in ((env.path("missing"), b"No such file or directory"),
                           (notdir, b"Not a directory"),
                           (nostore, b"not an escort store")):
            for argv in cmds:
                r = replay(store, *argv, env_key=rec.pub)
                assert r.returncode == 2, (store, argv, r)
                assert store.encode() in r.stderr and why in r.stderr, (store, argv, r.stderr)
                assert r.stdout == b"", (store, argv, r.stdout)
        if os.geteuid() != 0:   # root reads whatever the mode says
            os.chmod(os.path.join(rec.store, "sessions"), 0)
            try:
                for argv in cmds:
                    r = replay(rec.store, *argv, env_key=rec.pub)
                    assert r.returncode == 2 and b"Permission denied" in r.stderr, (argv, r)
            finally:
                os.chmod(os.path.join(rec.store, "sessions"), 0o750)


def test_live_session_is_verified_so_far_and_followed():
    """follow verifies what is recorded when it starts, then the whole
    session once it is closed; a forged live session is refused."""
    with Env("rd-live") as env:
        st = Store(env)
        key = env.path("signing.pem")
        first, more = env.path("first.out"), env.path("more.out")
        with open(first, "wb") as f:
            f.write(TEXT[:100000])
        with open(more, "wb") as f:
            f.write(TEXT[100000:])
        mk = tool_path("rec-mkstore")
        subprocess.run([mk, "--store", st.store, "--key", key, "--id", "live-3", "--open",
                        first], check=True, capture_output=True, timeout=60)
        r = replay(st.store, "list", "--json", env_key=st.pub)
        rows = {o["id"]: o for o in map(json.loads, r.stdout.splitlines())}
        assert r.returncode == 0, r
        assert (rows["live-3"]["status"], rows["live-3"]["verify"]) == ("live", "ok"), rows
        r = replay(st.store, "cat", "live-3", env_key=st.pub)
        assert r.returncode == 0 and r.stdout == TEXT[:100000], r.stderr
        out = env.path("follow.out")
        with open(out, "wb") as f:
            fp = subprocess.Popen([bin_path("escort-replay"), "--store", st.store, "follow",
                                   "live-3"], stdout=f, stderr=subprocess.PIPE,
                                  env=dict(os.environ, ESCORT_KEY=st.pub),
                                  start_new_session=True)
        try:
            wait_for(lambda: os.path.getsize(out) >= 100000, 20, what="follow output")
            assert fp.poll() is None   # still following: the session is open
            subprocess.run([mk, "--store", st.store, "--key", key, "--id", "live-3",
                            "--append", more], check=True, capture_output=True, timeout=60)
            assert fp.wait(30) == 0, fp.stderr.read()
        finally:
            if fp.poll() is None:
                os.killpg(fp.pid, 9)
                fp.wait(5)
        assert open(out, "rb").read() == TEXT
        # a live session forged: follow refuses it from the start
        subprocess.run([mk, "--store", st.store, "--key", key, "--id", "live-4", "--open",
                        first], check=True, capture_output=True, timeout=60)
        forge_head(session_file(st.store, "live-4"), b"alice", b"mal0y")
        r = subprocess.run([bin_path("escort-replay"), "--store", st.store, "follow", "live-4"],
                           capture_output=True, timeout=30, env=dict(os.environ, ESCORT_KEY=st.pub))
        assert_refused(r, "live-4", "follow")


def test_proxy_session_is_read_verified_and_a_forgery_refused():
    from harness.proxy import ProxyWorld, session_id
    with Env("rd-proxy") as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo readers-verify-this")
        assert r.returncode == 0 and r.stdout == b"readers-verify-this\n", r
        sid = session_id(r.stderr)
        pub = env.path("recorder-ed25519.pub.pem")

        def closed():
            c = replay(w.store, "cat", sid, env_key=pub)
            return c if c.returncode == 0 and b"readers-verify-this\n" in c.stdout else None
        wait_for(closed, 20, 0.3, what="the recording of %s, verified" % sid)
        r = replay(w.store, "commands", sid, "--json", env_key=pub)
        assert r.returncode == 0, r
        cmds = [json.loads(l) for l in r.stdout.splitlines()]
        assert [(c["command"], c["verify"]) for c in cmds] == \
            [("echo readers-verify-this", "ok")], cmds
        forge_head(session_file(w.store, sid), b"alice", b"mal0y")
        assert_refused(replay(w.store, "cat", sid, env_key=pub), sid, "cat")
        r = replay(w.store, "commands", "--json", env_key=pub)
        assert r.returncode == 1 and sid.encode() in r.stderr, r
        assert {json.loads(l)["verify"] for l in r.stdout.splitlines()} == {"FAILED"}, r
