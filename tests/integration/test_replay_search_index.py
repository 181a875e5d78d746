"""escort-replay search predicates (file by path and by SHA-256, decision,
target, user, attr, time range, command, input, output) each find what they
should and nothing else, with the index and without; the index
(STORE/.index/search-v1) deleted is rebuilt with the same answers, damaged
is noted and rebuilt, and made to lie (checksum and all) never shows a
session that does not match; a session added after indexing, or still
live, is found.  audit --target/--until, the integrity of each session,
and the stdin of an exec request as text.  Sessions written through the
transcript library (tests/tools/rec-mksession) and, for stdin and files,
recorded through the real proxy and recorder from real ssh and sftp."""
import hashlib, json, os, re, struct, subprocess, time

from harness.core import SAN, Env, bin_path, tool_path
from harness.proxy import ProxyWorld, replay as world_replay, sftp, session_id

SCRIPT_HASH = hashlib.sha256(b"v2\n").hexdigest()
OTHER_HASH = hashlib.sha256(b"nothing\n").hexdigest()

# many escort-replay runs over one store: minutes under ASan on a busy machine
TIMEOUT = 240


def esc_bytes(h):
    return "".join("\\x%s" % h[i:i + 2] for i in range(0, len(h), 2))


def keys(t0, text):
    out = []
    for k in text:
        out.append("%.3f\tinput\t0\t%s" % (t0, k))
        t0 += 0.05
    return out


ALICE = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tchannel\t0\taction=shell",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops",
    "0.5\toutput\t0\t$ ",
    *keys(1.0, "crontab -e"),
    "1.9\tinput\t0\t\\r",
    "2.0\tdecision\t0\tverdict=allow\tcommand=crontab -e\trule=ops\tshell_mode=strict\tcmd_seq=1",
    "2.1\toutput\t0\tno crontab for ops\\r\\n$ ",
    "3.0\tdecision\t0\tverdict=deny\tcommand=rm -rf /srv\trule=nodelete\tshell_mode=strict\tcmd_seq=2",
    "4.0\tfile\t1\tpath=/srv/app/run.sh\tdirection=upload\tsize=3\tverdict=ok\tsha256="
    + esc_bytes(SCRIPT_HASH),
    "5.0\tfile\t1\tpath=/etc/shadow-copy\tdirection=download\tsize=12\tverdict=ok",
    "5.5\tfile\t1\taction=rename\tpath=/srv/app/run.sh\tpath=/srv/app/run.old\tverdict=ok",
    "5.6\tfile\t1\taction=remove\tpath=/srv/old\tdirection=upload\tverdict=denied",
]
BOB = [
    "0.1\tchannel\t0\taction=exec\tcommand=tee -a /etc/crontab",
    "0.2\tdecision\t0\tverdict=approve\tcommand=tee -a /etc/crontab\trule=cron\tapprover=eve",
    "0.3\tinput\t0\t@reboot /tmp/sync.sh\\n",
    "0.4\toutput\t0\t@reboot /tmp/sync.sh\\ndone\\n",
    "0.5\texit\t0\texit_status=0",
]
CAROL = [
    "0.1\tchannel\t0\taction=exec\tcommand=uptime",
    "0.2\tdecision\t0\tverdict=allow\tcommand=uptime\trule=ops",
    "0.3\toutput\t0\t up 3 days\\n",
]


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def forge_head(path, old, new):
    """Rewrites a string of the session's HEAD segment (its META) and fixes
    the segment's CRC: only the hash chain and signatures can tell."""
    with open(path, "r+b") as f:
        head = f.read(20)
        assert head[:4] == b"ESG1" and head[5] == 1, head
        length, = struct.unpack_from(">I", head, 12)
        seg = bytearray(head + f.read(length))
        i = seg.index(old, 20)
        seg[i:i + len(old)] = new
        seg[16:20] = struct.pack(">I", crc32c(bytes(seg[:16]) + bytes(seg[20:])))
        f.seek(0)
        f.write(seg)


def replay(store, *args):
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                          capture_output=True, timeout=60)


def mksession(env, store, key, sid, user, target, lines, *extra):
    script = env.write(sid + ".txt", "\n".join(lines) + "\n")
    r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                        "--id", sid, "--user", user, "--target", target, *extra, script],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r


def make_store(env):
    """s1-alice and s2-bob, then (after a whole second, returned as
    boundary) s3-carol."""
    key = env.path("recorder-ed25519.pem")
    pub = env.path("recorder-ed25519.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    store = env.path("store")
    mksession(env, store, key, "s1-alice", "alice", "web01", ALICE, "--attr", "citizenship=CN")
    mksession(env, store, key, "s2-bob", "bob", "db01", BOB, "--attr", "citizenship=FR")
    boundary = int(time.time()) + 1
    while time.time() < boundary + 0.05:
        time.sleep(0.05)
    mksession(env, store, key, "s3-carol", "carol", "web02", CAROL)
    with open(os.path.join(store, "public-key.pem"), "wb") as f, open(pub, "rb") as g:
        f.write(g.read())
    return store, key, boundary


def ids(r):
    assert r.returncode in (0, 1), r
    return sorted({l.split()[0] for l in r.stdout.decode().splitlines()})


def index_path(store):
    return os.path.join(store, ".index", "search-v1")


def cases(boundary):
    """(expression argv, sessions it must find)."""
    return [
        (["file", "/srv/app/*"], ["s1-alice"]),
        (["file", "/srv/app/run.sh"], ["s1-alice"]),
        (["file", SCRIPT_HASH], ["s1-alice"]),
        (["file", SCRIPT_HASH.upper()], ["s1-alice"]),
        (["file", OTHER_HASH], []),
        (["file", "/etc/shadow*"], ["s1-alice"]),
        (["file", "/srv/app"], []),
        (["file", "/srv/app/run.old"], ["s1-alice"]),     # a rename's destination
        (["decision", "deny"], ["s1-alice"]),
        (["decision", "approve"], ["s2-bob"]),
        (["decision", "allow"], ["s1-alice", "s3-carol"]),
        (["decision allow and not decision deny"], ["s3-carol"]),
        (["target", "db01"], ["s2-bob"]),
        (["target 'web*'"], ["s1-alice", "s3-carol"]),
        (["user", "carol"], ["s3-carol"]),
        (["attr", "citizenship=CN"], ["s1-alice"]),
        (["since", "@%d" % boundary], ["s3-carol"]),
        (["until", "@%d" % boundary], ["s1-alice", "s2-bob"]),
        (["--since", "@%d" % boundary, "user carol or user bob"], ["s3-carol"]),
        (["--until", "@%d" % boundary, "decision allow"], ["s1-alice"]),
        (["command", "tee *"], ["s2-bob"]),
        (["command", "crontab*"], ["s1-alice"]),
        (["input", "crontab -e"], ["s1-alice"]),
        (["input", "ntab -"], ["s1-alice"]),
        (["input", "tab"], ["s1-alice"]),
        (["input", "crontab -l"], []),
        (["output", "done"], ["s2-bob"]),
        (["output", "3 da"], ["s3-carol"]),
        (["output", "no crontab for"], ["s1-alice"]),
        (["output", "no crontab for root"], []),
        (["not output crontab and not input crontab"], ["s2-bob", "s3-carol"]),
    ]


def run_cases(store, boundary, *opts):
    """Runs the cases; under ASan every third (the sanitizers need the code
    paths, not every pattern; the release stage runs the whole list)."""
    got = {}
    for expr, want in cases(boundary)[::3 if SAN else 1]:
        r = replay(store, "search", *opts, *expr)
        assert ids(r) == want, (opts, expr, r)
        got[tuple(expr)] = r.stdout
    return got


def test_predicates_find_what_they_should_with_and_without_the_index():
    with Env() as env:
        store, key, boundary = make_store(env)
        plain = run_cases(store, boundary, "--no-index")
        assert not os.path.exists(index_path(store))
        built = run_cases(store, boundary)          # the first search builds it
        assert os.path.exists(index_path(store))
        indexed = run_cases(store, boundary)        # then reads through it
        assert plain == built == indexed
        # a hit points at the session and the time of what matched
        r = replay(store, "search", "--json", "file", SCRIPT_HASH)
        o = json.loads(r.stdout.decode().splitlines()[0])
        assert o["id"] == "s1-alice" and o["predicate"] == "file" and o["offset"] == 4.0, o
        assert o["match"] == "upload /srv/app/run.sh sha256 " + SCRIPT_HASH, o
        r = replay(store, "search", "decision", "deny")
        assert re.search(r"^s1-alice alice web01 \S+ \+3\.000 ch0 decision: deny: rm -rf /srv$",
                         r.stdout.decode(), re.M), r.stdout
        for cmd in ("search", "audit"):
            r = replay(store, cmd, "--help")
            assert r.returncode == 0 and r.stdout.startswith(b"usage: escort-replay"), r
        r = replay(store, "search", "--since", "yesterday", "user bob")
        assert r.returncode == 2 and b"--since" in r.stderr, r


def test_index_deleted_is_rebuilt_with_the_same_answers():
    with Env() as env:
        store, key, boundary = make_store(env)
        first = run_cases(store, boundary)
        with open(index_path(store), "rb") as f:
            old = f.read()
        os.unlink(index_path(store))
        again = run_cases(store, boundary)
        assert first == again
        with open(index_path(store), "rb") as f:
            new = f.read()
        # the same facts (the change times of the files aside)
        strip = lambda b: re.sub(rb"^(@\S+ \d+) \d+", rb"\1", b, flags=re.M).split(b"# sha256")[0]
        assert strip(old) == strip(new)
        r = replay(store, "search", "--reindex", "user alice")
        assert ids(r) == ["s1-alice"] and r.stderr == b"", r


def rewrite_index(store, edit):
    """Applies edit to the index's records and writes a matching checksum,
    as a bug or an intruder could."""
    with open(index_path(store), "rb") as f:
        body = f.read().split(b"# sha256 ")[0]
    body = edit(body)
    with open(index_path(store), "wb") as f:
        f.write(body + b"# sha256 " + hashlib.sha256(body).hexdigest().encode() + b"\n")


def test_a_damaged_or_lying_index_gives_no_wrong_answer():
    with Env() as env:
        store, key, boundary = make_store(env)
        first = run_cases(store, boundary)
        # a flipped byte: noted, not used, rebuilt
        with open(index_path(store), "r+b") as f:
            f.seek(40)
            b = f.read(1)
            f.seek(40)
            f.write(bytes([b[0] ^ 0x20]))
        r = replay(store, "search", "input", "crontab -e")
        assert ids(r) == ["s1-alice"], r
        assert b"damaged" in r.stderr and b"rebuilt" in r.stderr, r.stderr
        r = replay(store, "search", "input", "crontab -e")
        assert r.stderr == b"", r.stderr               # rebuilt by the search before
        # cut short: the same
        with open(index_path(store), "r+b") as f:
            f.truncate(100)
        assert run_cases(store, boundary) == first
        # a record that claims what carol's session does not hold (with a
        # checksum to match): her session is read, and not shown
        rewrite_index(store, lambda b: b.replace(b"\nu carol\n",
                                                 b"\nu carol\nc tee -a /etc/crontab\nv deny\n"))
        r = replay(store, "search", "command", "tee *")
        assert ids(r) == ["s2-bob"], r
        r = replay(store, "search", "decision", "deny")
        assert ids(r) == ["s1-alice"], r
        # a session changed after it was indexed is read again (and verified)
        time.sleep(0.02)            # a change time the index did not see
        forge_head(os.path.join(store, "sessions", "s3-carol.est"), b"web02", b"web09")
        r = replay(store, "search", "target", "web09")
        assert r.returncode == 1 and r.stdout.startswith(b"[FAILED] s3-carol"), r
        assert b"does not verify" in r.stderr, r.stderr


def test_a_session_added_after_indexing_is_found_and_a_live_one_is_read():
    with Env() as env:
        store, key, boundary = make_store(env)
        assert ids(replay(store, "search", "input", "crontab")) == ["s1-alice"]
        mksession(env, store, key, "s4-dave", "dave", "web01",
                  ["0.1\tchannel\t0\taction=shell"] + keys(0.5, "crontab -r") +
                  ["1.5\tinput\t0\t\\r"])
        mksession(env, store, key, "s5-live", "erin", "web01",
                  ["0.1\tchannel\t0\taction=shell"] + keys(0.5, "crontab -l") +
                  ["1.5\tinput\t0\t\\r"], "--open")
        r = replay(store, "search", "input", "crontab")
        assert ids(r) == ["s1-alice", "s4-dave", "s5-live"], r
        with open(index_path(store), "rb") as f:
            idx = f.read()
        assert b"@s4-dave " in idx and b"@s5-live " not in idx, idx   # live: read directly
        r = replay(store, "search", "input", "crontab -r")
        assert ids(r) == ["s4-dave"], r


def test_audit_target_until_integrity_and_stdin():
    with Env() as env:
        store, key, boundary = make_store(env)
        r = replay(store, "audit")
        out = r.stdout.decode()
        assert r.returncode == 0, r
        assert "session s2-bob on db01 from " in out and "(integrity: ok)" in out, out
        assert re.search(r"approve cron, approved by eve: tee -a /etc/crontab \(exit 0\)\n"
                         r"      stdin: @reboot /tmp/sync\.sh\n", out), out
        assert "download /etc/shadow-copy 12 bytes sha256 -\n" in out, out
        assert "rename  /srv/app/run.sh -> /srv/app/run.old\n" in out, out
        assert "remove  /srv/old (denied)\n" in out and "upload  /srv/old" not in out, out
        assert ("upload  /srv/app/run.sh 3 bytes sha256 %s\n" % SCRIPT_HASH) in out, out
        assert "1 upload, 1 download, 2 other file operations" in out, out
        r = replay(store, "audit", "--target", "db01")
        assert r.returncode == 0 and "user bob" in r.stdout.decode(), r
        assert "alice" not in r.stdout.decode() and "carol" not in r.stdout.decode(), r
        r = replay(store, "audit", "--until", "@%d" % boundary)
        assert "user alice" in r.stdout.decode() and "user carol" not in r.stdout.decode(), r
        r = replay(store, "audit", "--since", "@%d" % boundary, "--json")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [o["id"] for o in rows] == ["s3-carol"] and rows[0]["verify"] == "ok", rows
        r = replay(store, "audit", "--user", "bob", "--json")
        cmd = json.loads(r.stdout.decode())["command_list"][0]
        assert cmd["stdin"] == "@reboot /tmp/sync.sh\n" and cmd["stdin_bytes"] == 21, cmd
        # the same through the index once search has built it
        replay(store, "search", "user bob")
        r2 = replay(store, "audit", "--user", "bob", "--json")
        assert r2.stdout == r.stdout, (r.stdout, r2.stdout)
        r = replay(store, "audit", "--html", "--target", "db*", "--until", "@%d" % boundary)
        page = r.stdout.decode()
        assert r.returncode == 0 and "tee -a /etc/crontab" in page, r
        assert "carol" not in page and "crontab -e" not in page, page
        r = replay(store, "audit", "--until", "tomorrow")
        assert r.returncode == 2 and b"--until" in r.stderr, r


def test_through_the_proxy_stdin_and_files_are_found():
    """Real ssh with a piped cron line, real sftp upload: audit shows the
    line as text, search finds the upload by path and by hash."""
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "head -c 200", input=b"@reboot /usr/local/bin/sync.sh\n")
        assert r.returncode == 0 and r.stdout == b"@reboot /usr/local/bin/sync.sh\n", r
        sid = session_id(r.stderr)
        src = env.write("run.sh", "echo v2\n")
        up = w.marker("run.sh")
        got = env.path("got.sh")
        r = sftp(w, "put %s %s\nrename %s %s.v2\nget %s.v2 %s\n" % (src, up, up, up, up, got))
        assert r.returncode == 0, r
        up_sid = session_id(r.stderr)
        digest = hashlib.sha256(b"echo v2\n").hexdigest()
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        a = world_replay(w, "audit", "--user", "alice")
        out = a.stdout.decode()
        assert a.returncode == 0, a
        assert re.search(r"head -c 200 \(exit 0\)\n +stdin: @reboot /usr/local/bin/sync\.sh\n",
                         out), out
        assert re.search(r"upload  %s 8 bytes sha256 %s\n" % (re.escape(up), digest), out), out
        assert re.search(r"rename  %s -> %s\.v2\n" % (re.escape(up), re.escape(up)), out), out
        assert re.search(r"download %s\.v2 8 bytes sha256 %s\n" % (re.escape(up), digest), out), out
        for expr in (["file", up], ["file", digest], ["file", "*/run.sh"]):
            r = world_replay(w, "search", *expr)
            assert ids(r) == [up_sid], (expr, r)
        r = world_replay(w, "search", "file", "*/run.sh", "and", "not", "file", digest)
        assert r.returncode == 1 and r.stdout == b"", r
        r = world_replay(w, "search", "command", "head *")
        assert ids(r) == [sid], r


def test_the_index_never_rules_out_a_match_random_text():
    """Random typed keys and output (words, blanks, punctuation, backspaces,
    DEL, ^U, ^W, escape sequences, CR, split anywhere into events) in five
    sessions; random patterns, many of them pieces of what was sent: the
    sessions found through the index are those found reading every session."""
    import random
    rnd = random.Random(1205)
    alphabet = ["ab", "cd", "crontab", "x", "-", " ", " ", "/", ".", "@", "_1", "\u00e9t\u00e9",
                "\\x08", "\\x7f", "\\x15", "\\x17", "\\e[1m", "\\e[K", "\\r", "\\r\\n", "\\t"]
    with Env() as env:
        store, key, boundary = make_store(env)
        sent = []
        for n in range(5):
            lines, t = ["0.1\tchannel\t0\taction=shell"], 0.5
            for _ in range(60):
                piece = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6)))
                kind = rnd.choice(["input", "output", "output"])
                lines.append("%.3f\t%s\t0\t%s" % (t, kind, piece))
                t += 0.01
                sent.append(piece)
            mksession(env, store, key, "r%d" % n, "rnd", "web09", lines)
        unesc = lambda p: (p.replace("\\x08", "").replace("\\x7f", "").replace("\\x15", "")
                           .replace("\\x17", "").replace("\\e[1m", "").replace("\\e[K", "")
                           .replace("\\r\\n", " ").replace("\\r", "").replace("\\t", " "))
        pats = set()
        while len(pats) < (14 if SAN else 40):
            a = unesc("".join(rnd.choice(sent) for _ in range(3)))
            i = rnd.randrange(len(a) or 1)
            p = a[i:i + rnd.randint(1, 12)].strip("\0")
            if p:
                pats.add(p)
        # a backspace that joins a word to the next: "abc " was on the
        # screen (and matched) before "d" replaced the blank
        mksession(env, store, key, "r-join", "rnd", "web09",
                  ["0.1\tchannel\t0\taction=shell", "0.2\toutput\t0\tabc ",
                   "0.3\toutput\t0\t\\x08d\\r\\n"])
        pats |= {"abc ", "c d", "abcd"}
        replay(store, "search", "--reindex", "user rnd")
        hits = 0
        for p in sorted(pats):
            for kind in ("input", "output"):
                plain = replay(store, "search", "--no-index", "--", kind, p)
                indexed = replay(store, "search", "--", kind, p)
                assert ids(plain) == ids(indexed), (kind, p, plain, indexed)
                hits += bool(ids(plain))
        assert hits >= (6 if SAN else 20), hits     # the patterns do occur
