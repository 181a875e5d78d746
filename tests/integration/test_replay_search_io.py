"""escort-replay search input and search output match across event
boundaries: a command typed one key per event, with a correction, is found
as the line that ran; a word of output split over two events, or with
escape sequences inside it, is found; each match names its session, channel
and offset (which screen --at takes), in text and --json; a session that
does not verify is marked.  Sessions written through the transcript library
(tests/tools/rec-mksession), and one typed key by key into a real bash
through the real proxy and recorder, read by the real escort-replay."""
import json, os, re, struct, subprocess, time

from harness.core import Env, bin_path, tool_path
from harness.term import Term
from harness.proxy import ProxyWorld, replay as world_replay

TIMEOUT = 180


def keys(t0, chan, text, step=0.05):
    """One INPUT event per key of text (bytes escaped as rec-mksession
    wants them), from t0 on; returns (lines, next time)."""
    out, t = [], t0
    for k in text:
        out.append("%.3f\tinput\t%d\t%s" % (t, chan, k))
        t += step
    return out, t


# alice types "crpntab -l", corrects it to "crontab -l" (two DELs), Enter;
# the shell echoes each key in its own OUTPUT event (DEL as "\b\e[K").
TYPED, t = keys(1.0, 0, ["c", "r", "p", "n", "\\x7f", "\\x7f", "o", "n", "t", "a", "b",
                         " ", "-", "l"])
ECHO = []
for line in TYPED:
    tt, _, ch, k = line.split("\t")
    ECHO.append(line)
    ECHO.append("%s\toutput\t%s\t%s" % (tt, ch, "\\x08\\e[K" if k == "\\x7f" else k))
CRONTAB = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tchannel\t0\taction=shell",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops",
    "0.5\toutput\t0\t$ ",
    *ECHO,
    "2.0\tinput\t0\t\\r",
    "2.0\toutput\t0\t\\r\\n",
    # the output of crontab -l: "@reboot" split over two events, and a word
    # with SGR sequences inside it
    "2.1\toutput\t0\t# m h dom mon dow command\\r\\n@reb",
    "2.3\toutput\t0\toot /usr/local/bin/sync.sh\\r\\n",
    "2.4\toutput\t0\tstatus: \\e[1mfai\\e[31mled\\e[0m\\r\\n$ ",
    # ^U forgets a line, ^W a word; an arrow key leaves nothing
    "3.0\tinput\t0\tsecret-line\\x15ls /etc",
    "3.1\tinput\t0\t \\x17\\e[A/tmp\\r",
    "3.2\toutput\t0\tls /tmp\\r\\n$ ",
]
# bob's session: nothing of the above
OTHER = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.5\toutput\t0\t$ ",
    "1.0\tinput\t0\tuptime\\r",
    "1.1\toutput\t0\tuptime\\r\\n up 3 days\\r\\n",
]


def replay(store, *args, **kw):
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                          capture_output=True, timeout=30, **kw)


def make_store(env):
    key = env.path("recorder-ed25519.pem")
    pub = env.path("recorder-ed25519.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    store = env.path("store")
    for sid, user, lines in (("s1-alice", "alice", CRONTAB), ("s2-bob", "bob", OTHER)):
        script = env.write(sid + ".txt", "\n".join(lines) + "\n")
        r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                            "--id", sid, "--user", user, script],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r
        time.sleep(0.01)
    with open(os.path.join(store, "public-key.pem"), "wb") as f, open(pub, "rb") as g:
        f.write(g.read())
    return store


def found(r):
    """The result lines of a search, as (id, offset, channel, predicate, context)."""
    out = []
    for line in r.stdout.decode().splitlines():
        m = re.match(r"(\S+) \S+ \S+ \S+(?: \+(\S+) ch(\d+) (\w+): (.*))?$", line)
        assert m, line
        out.append((m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)))
    return out


def test_input_is_the_line_as_typed_key_by_key():
    with Env() as env:
        store = make_store(env)
        r = replay(store, "search", "input crontab")
        assert r.returncode == 0, r
        assert found(r) == [("s1-alice", "2.000", "0", "input", "crontab -l")], r.stdout
        # the keys before the correction are not the line
        r = replay(store, "search", "input crp")
        assert r.returncode == 1 and r.stdout == b"", r
        # ^U and ^W applied, the arrow key's sequence gone
        r = replay(store, "search", "input", "ls /tmp")
        assert found(r) == [("s1-alice", "3.100", "0", "input", "ls /tmp")], r.stdout
        for gone in ("secret-line", "/etc", "[A"):
            r = replay(store, "search", "input", gone)
            assert r.returncode == 1 and r.stdout == b"", (gone, r)
        # the offset is where screen --at shows the line as it ran
        s = replay(store, "screen", "s1-alice", "--at", "2.000")
        assert s.returncode == 0 and b"$ crontab -l\n" in s.stdout, s
        # what the other session typed
        r = replay(store, "search", "input uptime")
        assert [x[0] for x in found(r)] == ["s2-bob"], r.stdout


def test_output_matches_across_events_and_escape_sequences():
    with Env() as env:
        store = make_store(env)
        # "@reb" + "oot": two OUTPUT events
        r = replay(store, "search", "output '@reboot /usr'")
        assert found(r) == [("s1-alice", "2.300", "0", "output",
                             "@reboot /usr/local/bin/sync.sh")], r.stdout
        # SGR sequences inside the word
        r = replay(store, "search", "output failed")
        assert found(r) == [("s1-alice", "2.400", "0", "output", "status: failed")], r.stdout
        # the echo of the typed line, one key per event, the correction applied
        r = replay(store, "search", "output", "$ crontab -l")
        assert found(r) == [("s1-alice", "1.650", "0", "output", "$ crontab -l")], r.stdout
        s = replay(store, "screen", "s1-alice", "--at", "2.300")
        assert b"@reboot /usr/local/bin/sync.sh" in s.stdout, s
        # within one event, as before
        r = replay(store, "search", "output 'up 3 days'")
        assert [x[0] for x in found(r)] == ["s2-bob"], r.stdout
        # combined with the other predicates; "not" lists no match
        r = replay(store, "search", "output reboot and input crontab and user alice")
        got = found(r)
        assert [(x[0], x[3]) for x in got] == [("s1-alice", "input")], got
        r = replay(store, "search", "--matches", "5",
                   "output reboot and input crontab and user alice")
        assert [(x[0], x[3], x[1]) for x in found(r)] == [("s1-alice", "input", "2.000"),
                                                          ("s1-alice", "output", "2.300")], r.stdout
        r = replay(store, "search", "not output reboot")
        assert found(r) == [("s2-bob", None, None, None, None)], r.stdout
        r = replay(store, "search", "output no-such-text")
        assert r.returncode == 1 and r.stdout == b"", r
        r = replay(store, "search", "input ''")
        assert r.returncode == 2 and b"input and output want a text" in r.stderr, r


def test_json_names_session_time_offset_predicate_and_line():
    with Env() as env:
        store = make_store(env)
        r = replay(store, "search", "--json", "input crontab or output sync.sh")
        assert r.returncode == 0, r
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert len(rows) == 1, rows           # --matches 1: the first in time
        o = rows[0]
        assert (o["id"], o["user"], o["predicate"], o["value"], o["channel"], o["offset"],
                o["match"], o["verify"]) == ("s1-alice", "alice", "input", "crontab", 0, 2.0,
                                             "crontab -l", "ok"), o
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", o["time"]), o
        assert o["start"] <= o["time"], o
        r = replay(store, "search", "--matches=10", "--json", "input crontab or output sync.sh")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(o["predicate"], o["offset"], o["match"]) for o in rows] == [
            ("input", 2.0, "crontab -l"),
            ("output", 2.3, "@reboot /usr/local/bin/sync.sh")], rows
        # a session matched by what it says about itself: no place
        r = replay(store, "search", "--json", "user bob")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(o["id"], o["offset"], o["predicate"], o["match"]) for o in rows] == \
            [("s2-bob", None, None, None)], rows
        # command matches are listed too
        r = replay(store, "search", "--json", "command '(shell)'")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(o["id"], o["predicate"], o["offset"], o["match"]) for o in rows] == \
            [("s1-alice", "command", 0.2, "(shell)")], rows
        r = replay(store, "search", "--matches", "0", "user bob")
        assert r.returncode == 2 and b"--matches" in r.stderr, r


def segments(path):
    """[(offset, type, payload length)] of a session file (segment.h layout)."""
    out, off = [], 0
    data = open(path, "rb").read()
    while off + 20 <= len(data):
        assert data[off:off + 4] == b"ESG1", (path, off)
        length, = struct.unpack_from(">I", data, off + 12)
        out.append((off, data[off + 5], length))
        off += 20 + length
    return out


def test_a_session_that_does_not_verify_is_marked():
    with Env() as env:
        store = make_store(env)
        path = os.path.join(store, "sessions", "s1-alice.est")
        off, _, length = [s for s in segments(path) if s[1] == 2][0]   # first DATA
        with open(path, "r+b") as f:
            f.seek(off + 20 + length // 2)
            b = f.read(1)
            f.seek(off + 20 + length // 2)
            f.write(bytes([b[0] ^ 0x01]))
        r = replay(store, "search", "input uptime or input crontab or output failed")
        assert r.returncode == 1, r
        err = r.stderr.decode()
        assert "s1-alice" in err and "does not verify" in err and "s2-bob" not in err, err
        for line in r.stdout.decode().splitlines():
            assert line.startswith("[FAILED] s1-alice") or line.startswith("s2-bob"), line
        assert any(l.startswith("s2-bob") for l in r.stdout.decode().splitlines()), r.stdout
        r = replay(store, "search", "--json", "input uptime or user alice")
        rows = {json.loads(l)["id"]: json.loads(l) for l in r.stdout.decode().splitlines()}
        assert rows["s1-alice"]["verify"] == "FAILED" and rows["s2-bob"]["verify"] == "ok", rows
        assert r.returncode == 1, r


def test_typed_through_the_proxy_one_key_at_a_time():
    """ssh -tt through the real proxy to a real bash: a command typed key by
    key with a correction is found by search input as it ran, and its echo
    and output by search output."""
    with Env() as env:
        w = ProxyWorld(env)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            seen = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
            t.send(b"PS1='P''S> '\r")
            t.expect(b"PS> ")
            for k in b"echo abx\x7fc-typed-$((6*7))":
                t.send(bytes([k]))
                time.sleep(0.03)            # one key per packet, so per event
            t.send(b"\r")
            t.expect(b"abc-typed-42")
            t.expect(b"PS> ")
            t.send(b"exit 0\r")
            assert t.wait() == 0
        finally:
            try:
                os.kill(t.pid, 9)
                os.waitpid(t.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        ev = world_replay(w, "export", sid, "--format", "json")
        inputs = [l for l in ev.stdout.decode().splitlines() if '"type":"input"' in l]
        assert len(inputs) >= 10, inputs          # typed key by key indeed
        r = world_replay(w, "search", "input 'echo abc-typed'")
        assert r.returncode == 0, r
        got = found(r)
        assert got == [(sid, got[0][1], got[0][2], "input", "echo abc-typed-$((6*7))")], got
        r = world_replay(w, "search", "input abx")
        assert r.returncode == 1 and r.stdout == b"", r
        r = world_replay(w, "search", "output", "PS> echo abc-typed-$((6*7))")
        assert r.returncode == 0 and found(r)[0][3] == "output", r
        r = world_replay(w, "search", "output abc-typed-42 and input 'exit 0'")
        assert r.returncode == 0 and found(r)[0][4] == "abc-typed-42", r.stdout
        # the offset of the typed line: screen shows it entered
        off = got[0][1]
        s = world_replay(w, "screen", sid, "--at", off)
        assert s.returncode == 0 and b"PS> echo abc-typed-$((6*7))" in s.stdout, s
