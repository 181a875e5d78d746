"""escort-replay on a store written through the transcript library
(tests/tools/rec-mkstore): verify with the public key from the command line,
list --json, cat byte for byte, and the failures a security team must see."""
import base64, hashlib, json, os, subprocess
from harness.core import Env, bin_path, tool_path

TIMEOUT = 60


def replay(store, *args):
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                          capture_output=True, timeout=30)


def make_store(env):
    key = env.path("recorder-ed25519.pem")
    pub = env.path("recorder-ed25519.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    text = env.path("screen.txt")
    with open(text, "wb") as f:
        for i in range(3000):
            f.write(b"\x1b[1;32m-rw-r--r-- 1 root root %6d Nov 28 file%05d\x1b[0m\r\n" % (i * 7, i))
        f.write(bytes(range(256)))  # every byte value reaches the terminal unchanged
    store = env.path("store")
    mk = tool_path("rec-mkstore")
    subprocess.run([mk, "--store", store, "--key", key, "--id", "s-closed", "--events", text],
                   check=True, capture_output=True, timeout=30)
    subprocess.run([mk, "--store", store, "--key", key, "--id", "s-live", "--open",
                    "--user", "bob", "--target", "db01", text],
                   check=True, capture_output=True, timeout=30)
    with open(text, "rb") as f:
        content = f.read()
    return store, key, pub, content


def session_file(store, sid):
    return os.path.join(store, "sessions", sid + ".est")


def test_untouched_store_verifies_and_lists():
    with Env() as env:
        store, key, pub, content = make_store(env)
        r = replay(store, "verify", "--all", "--key", pub)
        assert r.returncode == 0, r
        assert b"s-closed: ok" in r.stdout and b"s-live: ok" in r.stdout, r.stdout
        r = replay(store, "verify", "s-closed", "--key", pub, "--deep")
        assert r.returncode == 0, r
        r = replay(store, "list", "--json")
        assert r.returncode == 0, r
        rows = {o["id"]: o for o in map(json.loads, r.stdout.decode().splitlines())}
        assert rows["s-closed"]["user"] == "alice" and rows["s-closed"]["target"] == "web01"
        assert rows["s-closed"]["status"] == "closed" and rows["s-closed"]["end"]
        assert rows["s-live"]["end"] is None and rows["s-live"]["user"] == "bob"
        r = replay(store, "list", "--user", "bob")
        assert b"s-live" in r.stdout and b"s-closed" not in r.stdout, r.stdout
        r = replay(store, "commands", "--json")
        assert r.returncode == 0, r
        cmds = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(c["id"], c["command"], c["decision"], c["rule"]) for c in cmds] == \
            [("s-closed", "uptime", "allow", "ops")], cmds
        assert cmds[0]["time"].startswith(rows["s-closed"]["start"][:10])
        r = replay(store, "files", "--json")
        assert r.returncode == 0, r
        files = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(f["id"], f["n"], f["path"], f["direction"], f["size"], f["sha256"])
                for f in files] == \
            [("s-closed", 1, "/tmp/f", "upload", 3, hashlib.sha256(b"abc").hexdigest())], files
        r = replay(store, "extract", "s-closed", "1")
        assert r.returncode == 0 and r.stdout == b"abc", r
        r = replay(store, "extract", "s-closed", "2")
        assert r.returncode == 1 and b"no transfer number 2" in r.stderr, r
        r = replay(store, "commands", "--user", "bob")
        assert r.returncode == 0 and r.stdout == b"", r
        r = replay(store, "cat", "s-live")
        assert r.returncode == 0 and r.stdout == content
        r = replay(store, "cat", "s-closed")
        assert r.returncode == 0 and r.stdout == b"warning\r\n" + content


def test_tampering_is_named():
    with Env() as env:
        store, key, pub, content = make_store(env)
        path = session_file(store, "s-closed")
        with open(path, "r+b") as f:
            f.seek(1000)
            b = f.read(1)
            f.seek(1000)
            f.write(bytes([b[0] ^ 0x01]))
        r = replay(store, "verify", "--all", "--key", pub)
        assert r.returncode == 1, r
        assert b"s-closed: FAILED at segment " in r.stdout and b"offset" in r.stdout, r.stdout
        assert b"s-live: ok" in r.stdout, r.stdout


def test_truncation_deletion_and_wrong_key_fail():
    with Env() as env:
        store, key, pub, content = make_store(env)
        path = session_file(store, "s-closed")
        size = os.path.getsize(path)
        os.truncate(path, size - 10)
        r = replay(store, "verify", "s-closed", "--key", pub)
        assert r.returncode == 1 and b"s-closed: FAILED" in r.stdout, r
        os.unlink(path)
        r = replay(store, "verify", "--all", "--key", pub)
        assert r.returncode == 1 and b"s-closed: FAILED" in r.stdout, r
        assert b"missing" in r.stdout, r.stdout
        other = env.path("other.pem")
        otherpub = env.path("other.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", other, "-pubout", "-out", otherpub], check=True)
        r = replay(store, "verify", "s-live", "--key", otherpub)
        assert r.returncode == 1 and b"s-live: FAILED" in r.stdout, r
        r = replay(store, "verify", "--all")
        assert r.returncode == 2, r  # the key is required on the command line


def test_cli_basics():
    r = subprocess.run([bin_path("escort-replay"), "--version"], capture_output=True, timeout=10)
    assert r.returncode == 0 and r.stdout.startswith(b"escort-replay "), r
    r = subprocess.run([bin_path("escort-replay"), "--help"], capture_output=True, timeout=10)
    assert r.returncode == 0 and b"verify (ID... | --all) [--key PUBLIC.pem]" in r.stdout, r
    with Env() as env:
        # A store that does not exist, or a directory that is not a store,
        # is an error (exit 2) naming the path, never an empty listing.
        r = subprocess.run([bin_path("escort-replay"), "list", "--json"], capture_output=True,
                           env=dict(os.environ, ESCORT_STORE=env.path("empty")), timeout=10)
        assert r.returncode == 2 and r.stdout == b"", r
        assert env.path("empty").encode() in r.stderr and b"No such file" in r.stderr, r
        r = subprocess.run([bin_path("escort-replay"), "--store", env.dir, "cat", "nosuch"],
                           capture_output=True, timeout=10)
        assert r.returncode == 2 and b"not an escort store" in r.stderr, r
        # An empty store, as the recorder leaves it before the first session.
        store = env.path("store")
        os.makedirs(os.path.join(store, "sessions"))
        open(os.path.join(store, "journal.esj"), "wb").close()
        r = subprocess.run([bin_path("escort-replay"), "list", "--json"], capture_output=True,
                           env=dict(os.environ, ESCORT_STORE=store), timeout=10)
        assert r.returncode == 0 and r.stdout == b"", r
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "cat", "nosuch"],
                           capture_output=True, timeout=10)
        assert r.returncode == 1 and b"no such session" in r.stderr, r


def test_usage_errors_name_the_problem():
    """A command given the wrong arguments says what is wrong (exit 2,
    nothing on standard output), not only its usage; a word list does not
    take is never ignored."""
    with Env() as env:
        store = env.path("store")
        os.makedirs(os.path.join(store, "sessions"))
        open(os.path.join(store, "journal.esj"), "wb").close()
        for args, why in ((["list", "alice"], b'list: unexpected argument "alice"'),
                          (["list", "--json", "x", "y"], b'list: unexpected argument "x"'),
                          (["screen", "s-1"], b"screen: give --at SECONDS or --command N"),
                          (["screen", "s-1", "--at", "1", "--command", "2"],
                           b"screen: give --at SECONDS or --command N, not both"),
                          (["play", "s-1", "--command", "1", "--from", "1"],
                           b"play: give --command N or --from SECONDS, not both"),
                          (["export", "s-1"], b"export: --format is needed"),
                          (["extract", "s-1", "0"], b'extract: "0" is not a transfer number'),
                          (["audit", "--json", "--html"],
                           b"audit: --json and --html cannot be given together"),
                          (["verify"], b"verify: name the sessions (ID...) or give --all"),
                          (["verify", "--all", "s-1"], b"verify: give IDs or --all, not both")):
            r = subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                               capture_output=True, timeout=10)
            assert r.returncode == 2 and r.stdout == b"", (args, r)
            assert b"escort-replay: " + why in r.stderr, (args, r.stderr)


def test_a_double_dash_may_stand_before_the_id():
    """Options stand before a --; every command that takes an ID takes it
    after one, cat and extract as the others."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        for args in (["cat", "--", "s-closed"], ["extract", "--", "s-closed", "1"],
                     ["export", "--format", "text", "--", "s-closed"],
                     ["commands", "--", "s-closed"]):
            r = replay(store, "--key", pub, *args)
            assert r.returncode in (0, 1) and b"usage:" not in r.stderr, (args, r)
        r = replay(store, "--key", pub, "cat", "--", "s-closed")
        assert r.returncode == 0 and r.stdout.endswith(content), r


def test_a_damaged_journal_is_named_when_no_session_is_selected():
    """audit and search through the index check the journal as well as the
    sessions they read: also when the filters select none."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        r = replay(store, "--key", pub, "search", "user alice")   # builds the index
        assert r.returncode == 0, r
        path = os.path.join(store, "journal.esj")
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 4
        open(path, "wb").write(bytes(data))
        for args in (["audit", "--user", "nobody"], ["audit", "--json", "--user", "nobody"],
                     ["search", "user nobody"]):
            r = replay(store, "--key", pub, *args)
            assert r.returncode == 1 and r.stdout == b"", (args, r)
            assert b"journal: does not verify" in r.stderr, (args, r.stderr)


def test_list_target_is_a_glob_as_for_audit_and_search():
    with Env() as env:
        store, key, pub, content = make_store(env)
        for t, want in (("db*", ["s-live"]), ("web01", ["s-closed"]), ("*", ["s-closed", "s-live"]),
                        ("nosuch*", [])):
            got = {}
            for cmd in (["list", "--json", "--target", t], ["audit", "--json", "--target", t]):
                r = replay(store, "--key", pub, *cmd)
                assert r.returncode == 0, (cmd, r)
                got[cmd[0]] = sorted(json.loads(l)["id"] for l in r.stdout.splitlines())
            assert got["list"] == got["audit"] == want, (t, got)


def test_every_command_takes_help():
    """escort-replay COMMAND --help prints that command's usage on standard
    output, exit 0, whatever the store (none is needed)."""
    with Env() as env:
        for cmd in ("list", "cat", "verify", "commands", "play", "follow", "screen", "search",
                    "files", "extract", "export", "audit", "anchor", "evidence"):
            r = replay(env.path("no-store"), cmd, "--help")
            assert r.returncode == 0 and r.stderr == b"", (cmd, r)
            assert r.stdout.startswith(b"usage: escort-replay [--store DIR] " +
                                       cmd.encode() + b" "), (cmd, r.stdout)


def test_output_that_cannot_be_written_is_exit_2():
    """Standard output on a full disk (/dev/full) is an I/O error: exit 2,
    said on standard error, never a silent success with a cut file."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        for args in (["export", "s-closed", "--format", "json"], ["list"], ["list", "--json"],
                     ["audit"], ["commands"], ["search", "user alice"], ["verify", "--all"],
                     ["cat", "s-closed"], ["anchor"]):
            with open("/dev/full", "wb") as full:
                r = subprocess.run([bin_path("escort-replay"), "--store", store, *args,
                                    "--key", pub], stdout=full, stderr=subprocess.PIPE,
                                   timeout=30)
            assert r.returncode == 2, (args, r)
            assert b"No space left on device" in r.stderr, (args, r.stderr)


def test_an_anchor_file_that_cannot_be_read_is_exit_2():
    """verify --anchor FILE with a FILE that cannot be read is an error
    (exit 2, naming it), as for a key that cannot be loaded and as evidence
    --anchor does: not a FAILED check, which reads as tampering."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        missing = env.path("no-such-anchors.txt")
        r = replay(store, "verify", "--all", "--key", pub, "--anchor", missing)
        assert r.returncode == 2 and r.stdout == b"", r
        assert missing.encode() in r.stderr and b"No such file or directory" in r.stderr, r


def test_verify_finds_the_key_as_the_readers_do():
    """verify takes the key from --key, else ESCORT_KEY, else the store's
    public-key.pem, as every reader does; without any it says what is
    missing and how to give it (exit 2), not just the usage."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        other = env.path("other.pem")
        other_pub = env.path("other.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", other, "-pubout", "-out", other_pub], check=True)
        base = dict(os.environ)
        base.pop("ESCORT_KEY", None)

        def run(*args, env_key=None):
            e = dict(base)
            if env_key is not None:
                e["ESCORT_KEY"] = env_key
            return subprocess.run([bin_path("escort-replay"), "--store", store, "verify", *args],
                                  capture_output=True, timeout=30, env=e)
        # no key anywhere: exit 2, naming the three ways, no usage dump
        r = run("--all")
        err = r.stderr.decode()
        assert r.returncode == 2 and r.stdout == b"", r
        assert "no public key" in err and "--key PUBLIC.pem" in err and "ESCORT_KEY" in err \
            and os.path.join(store, "public-key.pem") in err, err
        assert "usage" not in err, err
        # ESCORT_KEY: the right key verifies, another key's fails
        r = run("--all", env_key=pub)
        assert r.returncode == 0 and b"2 sessions intact" in r.stdout and r.stderr == b"", r
        r = run("s-closed", env_key=other_pub)
        assert r.returncode == 1 and b"s-closed: FAILED" in r.stdout, r
        # --key wins over ESCORT_KEY, after the command or before it
        r = run("--all", "--key", pub, env_key=other_pub)
        assert r.returncode == 0 and b"2 sessions intact" in r.stdout, r
        r = subprocess.run([bin_path("escort-replay"), "--key", pub, "--store", store, "verify",
                            "--all"], capture_output=True, timeout=30, env=base)
        assert r.returncode == 0 and b"2 sessions intact" in r.stdout, r
        # a file that is not a key, from ESCORT_KEY: exit 2, named with its source
        bad = env.path("bad.pem")
        with open(bad, "w") as f:
            f.write("hello\n")
        r = run("--all", env_key=bad)
        assert r.returncode == 2 and bad.encode() in r.stderr and b"ESCORT_KEY" in r.stderr, r
        # the store's own public-key.pem: used, and said to prove only self-agreement
        with open(pub, "rb") as f, open(os.path.join(store, "public-key.pem"), "wb") as g:
            g.write(f.read())
        r = run("--all")
        assert r.returncode == 0 and b"2 sessions intact" in r.stdout, r
        assert b"the store's own" in r.stderr and b"--key" in r.stderr, r


def test_follow_live_session_until_it_closes():
    import time
    from harness.core import wait_for
    with Env() as env:
        store, key, pub, content = make_store(env)
        out = env.path("follow.out")
        f = open(out, "wb")
        p = subprocess.Popen([bin_path("escort-replay"), "--store", store, "follow", "s-live"],
                             stdout=f, stderr=subprocess.PIPE, start_new_session=True)
        f.close()
        try:
            wait_for(lambda: os.path.getsize(out) >= len(content), 20, what="follow output")
            assert p.poll() is None  # still following: the session is open
            more = env.path("more.txt")
            with open(more, "wb") as m:
                m.write(b"second part\r\n" * 1000)
            subprocess.run([tool_path("rec-mkstore"), "--store", store, "--key", key,
                            "--id", "s-live", "--append", more], check=True,
                           capture_output=True, timeout=30)
            p.wait(20)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, 9)
                p.wait(5)
        assert p.returncode == 0, p.stderr.read()
        with open(out, "rb") as f:
            assert f.read() == content + b"second part\r\n" * 1000
        r = replay(store, "verify", "--all", "--key", pub)
        assert r.returncode == 0, r
        r = replay(store, "play", "s-live", "--max-wait", "0")
        assert r.returncode == 0 and r.stdout == content + b"second part\r\n" * 1000


def test_export_formats():
    with Env() as env:
        store, key, pub, content = make_store(env)
        r = replay(store, "export", "s-closed", "--format", "json")
        assert r.returncode == 0, r
        evs = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
        assert evs[0]["type"] == "meta" and evs[-1]["type"] == "end"
        out = b"".join(base64.b64decode(e["data_base64"]) for e in evs
                       if e["type"] in ("output", "stderr"))
        assert out == b"warning\r\n" + content
        dec = [e for e in evs if e["type"] == "decision"][0]
        assert {f["name"]: f["value"] for f in dec["fields"]}["command"] == "uptime"
        r = replay(store, "export", "s-closed", "--format", "asciicast")
        assert r.returncode == 0, r
        lines = r.stdout.decode().splitlines()
        head = json.loads(lines[0])
        assert head["version"] == 2 and (head["width"], head["height"]) == (120, 40), head
        frames = [json.loads(l) for l in lines[1:]]
        assert [f[2] for f in frames if f[1] == "r"] == ["120x40"]
        times = [f[0] for f in frames]
        assert times == sorted(times)
        assert "".join(f[2] for f in frames if f[1] == "o").startswith("warning\r\n\x1b[1;32m")
        r = replay(store, "export", "s-closed", "--format", "text")
        assert r.returncode == 0, r
        assert b"\x1b" not in r.stdout and b"\r" not in r.stdout
        assert b"-rw-r--r-- 1 root root      7 Nov 28 file00001\n" in r.stdout
        r = replay(store, "export", "s-closed")
        assert r.returncode == 2, r


def test_screen_at_a_moment():
    with Env() as env:
        store, key, pub, content = make_store(env)
        evs = [json.loads(l) for l in
               replay(store, "export", "s-closed", "--format", "json").stdout.splitlines()]
        end = max(e["t"] for e in evs)
        r = replay(store, "screen", "s-closed", "--at", "%.9f" % end)
        assert r.returncode == 0, r
        rows = r.stdout.decode("utf-8", "replace").splitlines()
        assert len(rows) <= 40, rows   # the recorded window: 120x40
        assert any(l.endswith("file02999") for l in rows), rows
        assert not any("file02900" in l for l in rows), rows  # scrolled away
        r = replay(store, "screen", "s-closed", "--at", "1000")
        assert r.returncode == 1 and b"past the end of the session" in r.stderr, r
        t_warn = [e["t"] for e in evs if e["type"] == "stderr"][0]
        t_next = min(e["t"] for e in evs if e["type"] == "output")
        r = replay(store, "screen", "s-closed", "--at", "%.6f" % ((t_warn + t_next) / 2))
        assert r.returncode == 0 and r.stdout == b"warning\n", r
        r = replay(store, "screen", "s-closed")
        assert r.returncode == 2, r


def test_audit_per_person():
    with Env() as env:
        store, key, pub, content = make_store(env)
        r = replay(store, "audit")
        assert r.returncode == 0, r
        out = r.stdout.decode()
        assert out.index("user alice") < out.index("user bob"), out
        assert "session s-closed on web01" in out and "session s-live on db01" in out, out
        assert "allow   ops: uptime" in out, out
        assert "upload  /tmp/f 3 bytes sha256 " + hashlib.sha256(b"abc").hexdigest() in out, out
        assert "total: 1 session, 1 command, 0 denied, 0 approved, 1 upload" in out, out
        r = replay(store, "audit", "--user", "bob", "--attr", "citizenship=FR")
        assert r.returncode == 0 and b"user bob" in r.stdout and b"alice" not in r.stdout, r
        r = replay(store, "audit", "--attr", "citizenship=CN")
        assert r.returncode == 0 and r.stdout == b"", r
        r = replay(store, "audit", "--since", "2999-01-01")
        assert r.returncode == 0 and r.stdout == b"", r


def test_search_expressions():
    with Env() as env:
        store, key, pub, content = make_store(env)

        def ids(*expr):
            r = replay(store, "search", *expr)
            assert r.returncode in (0, 1), r
            return sorted(l.split()[0] for l in r.stdout.decode().splitlines())

        assert ids("user", "alice") == ["s-closed"]
        assert ids("user bob or (target 'web*' and command 'upt*')") == ["s-closed", "s-live"]
        assert ids("not user alice") == ["s-live"]
        assert ids("output file02999 and verdict allow") == ["s-closed"]
        assert ids("attr citizenship=FR and ! target db01") == ["s-closed"]
        assert ids("output no-such-text") == []
        assert ids("since 2999-01-01") == []
        r = replay(store, "search", "(user bob")
        assert r.returncode == 2 and b"missing )" in r.stderr, r
        r = replay(store, "search", "colour red")
        assert r.returncode == 2 and b"unknown predicate" in r.stderr, r
        # a value outside the documented sets is a bad expression (exit 2,
        # naming it), not a search that finds nothing
        for expr, what in (("decision denied", b"allow, deny or approve near denied"),
                           ("verdict Allow", b"allow, deny or approve near Allow"),
                           ("mode shell", b"strict, observe or exec near shell")):
            r = replay(store, "search", expr)
            assert r.returncode == 2 and what in r.stderr and r.stdout == b"", (expr, r)
        assert ids("mode exec") == ids("mode exec or decision approve")
        # a word left over is named itself
        r = replay(store, "search", "user alice )")
        assert r.returncode == 2 and b"unexpected word near )" in r.stderr, r


def test_store_named_anywhere():
    """--store may follow the command (--store DIR or --store=DIR), and
    ESCORT_STORE is used when no option names one; the option wins over it."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        rb = bin_path("escort-replay")
        for argv in (["list", "--store", store], ["list", "--store=" + store],
                     ["verify", "--all", "--store", store, "--key", pub]):
            r = subprocess.run([rb, *argv], capture_output=True, timeout=30)
            assert r.returncode == 0, (argv, r)
            assert b"s-closed" in r.stdout, (argv, r.stdout)
        e = dict(os.environ, ESCORT_STORE=store)
        r = subprocess.run([rb, "list"], capture_output=True, timeout=30, env=e)
        assert r.returncode == 0 and b"s-live" in r.stdout, r
        e["ESCORT_STORE"] = env.path("nowhere")
        r = subprocess.run([rb, "list", "--store", store], capture_output=True, timeout=30, env=e)
        assert r.returncode == 0 and b"s-live" in r.stdout, r
        r = subprocess.run([rb, "list", "--store"], capture_output=True, timeout=30)
        assert r.returncode == 2 and b"--store needs a directory" in r.stderr, r


def as_unprivileged(argv):
    """argv run without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so that a
    mode-000 file is unreadable even when the tests run as root."""
    return ["setpriv", "--inh-caps=-all",
            "--bounding-set=-dac_override,-dac_read_search", *argv]


def test_an_unreadable_session_is_an_io_error_not_tampering():
    """verify ID and verify --all on a session file that cannot be read:
    exit 2, the file and the reason named on stderr, not FAILED; the other
    session is still checked; the readers say exit 2 as well."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        path = session_file(store, "s-closed")
        os.chmod(path, 0)
        rb = bin_path("escort-replay")
        for args in (["verify", "s-closed"], ["verify", "--all"]):
            r = subprocess.run(as_unprivileged([rb, "--store", store, *args, "--key", pub]),
                               capture_output=True, timeout=30)
            assert r.returncode == 2, (args, r)
            assert b"FAILED" not in r.stdout and b"tamper" not in r.stdout + r.stderr, (args, r)
            assert (b"s-closed: cannot read " + path.encode() + b": Permission denied") \
                in r.stderr, (args, r)
            assert b"1 not readable" in r.stdout, (args, r)
        assert b"s-live: ok" in r.stdout, r
        r = subprocess.run(as_unprivileged([rb, "--store", store, "cat", "s-closed",
                                            "--key", pub]), capture_output=True, timeout=30)
        assert r.returncode == 2 and b"Permission denied" in r.stderr, r
        # tampering found beside the unreadable file is exit 1: never hidden
        live = session_file(store, "s-live")
        os.truncate(live, os.path.getsize(live) - 10)
        r = subprocess.run(as_unprivileged([rb, "--store", store, "verify", "--all",
                                            "--key", pub]), capture_output=True, timeout=30)
        assert r.returncode == 1 and b"s-live: FAILED" in r.stdout, r
        assert b"1 not readable" in r.stdout, r


def test_a_directory_named_as_a_session_is_said_to_be_one():
    """sessions/X.est a directory: every command says "is a directory" (the
    real reason, not "input/output error"), exit 2, never FAILED."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        os.mkdir(session_file(store, "s-dir"))
        for args in (["verify", "s-dir", "--key", pub], ["verify", "--all", "--key", pub],
                     ["cat", "s-dir", "--key", pub], ["list", "--key", pub],
                     ["commands", "--key", pub], ["audit", "--key", pub]):
            r = replay(store, *args)
            assert r.returncode == 2, (args, r)
            err = r.stderr.lower()
            assert b"s-dir" in err and b"is a directory" in err, (args, r)
            assert b"input/output error" not in err + r.stdout.lower(), (args, r)
            if args[0] == "verify":
                assert b"FAILED" not in r.stdout, (args, r)
        r = replay(store, "list", "--json", "--key", pub)
        rows = {o["id"]: o for o in map(json.loads, r.stdout.decode().splitlines())}
        assert r.returncode == 2 and rows["s-dir"]["verify"] == "unreadable", r
        assert rows["s-dir"]["problem"] == "is a directory", rows["s-dir"]
        assert rows["s-closed"]["verify"] == "ok", rows


def test_control_bytes_in_a_session_id_are_shown_escaped():
    """An id with a newline or ESC, given on the command line or found as a
    file name in sessions/, is shown as \\n and \\x1b: a message cannot
    forge lines or drive the terminal."""
    with Env() as env:
        store, key, pub, content = make_store(env)
        raw = "x\ny\x1b[31m"
        for args in (["verify", raw, "--key", pub], ["cat", raw, "--key", pub],
                     ["list", raw]):
            r = replay(store, *args)
            assert r.returncode in (1, 2), (args, r)
            out = r.stdout + r.stderr
            assert b"\x1b" not in out and raw.encode() not in out, (args, r)
            assert b"x\\ny\\x1b[31m" in out, (args, r)
        with open(session_file(store, "s-closed"), "rb") as f:
            data = f.read()
        with open(session_file(store, "e\nv\x1bz"), "wb") as f:
            f.write(data)
        for args in (["verify", "--all", "--key", pub], ["list", "--key", pub],
                     ["commands", "--key", pub], ["audit", "--key", pub]):
            r = replay(store, *args)
            assert r.returncode != 0, (args, r)
            out = r.stdout + r.stderr
            assert b"\x1b" not in out and b"e\nv" not in out, (args, r)
            assert b"e\\nv\\x1bz" in out, (args, r)
