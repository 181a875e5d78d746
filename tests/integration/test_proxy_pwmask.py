"""Input typed at a password prompt is masked in the recording: the real ssh
client in a pseudo-terminal, through the real proxy and recorder, to a real
bash whose `read -s -p "Password: "` asks for a secret.  The target gets the
secret; escort-replay cat, export --format json (base64 fields decoded) and
search do not show it, the session still verifies, and a marker says how
many bytes were masked.  With `passwords record` in the policy the secret is
in the recording as typed."""
import base64, json, os, re, time
from harness.core import Env
from harness.term import Term
from harness.proxy import ProxyWorld, replay

SECRET = b"Zebra-Quartz-8141"
OTHER = b"Otter-Mango-5530"     # typed at a prompt, then abandoned with Ctrl-C

RULES = """
rule techs {
    who user:alice
    where target:web*
    shell observe
    exec yes
    %s
    allow "read ..."
    allow "echo ..."
    allow "exit ..."
}
"""


def interactive_session(w):
    """Types a secret at bash's `read -s` prompt, abandons a second prompt
    with Ctrl-C, runs one plain command; returns the session id."""
    argv = w.ssh_argv("alice", "web01", None, extra=("-tt",))
    t = Term(argv)
    try:
        seen = t.expect(b"is recorded")
        sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
        t.send(b"PS1='P''S> '\r")
        t.expect(b"PS> ")
        t.send(b"read -s -p 'Pass''word: ' x; echo got-${#x}\r")
        t.expect(b"Password: ")
        time.sleep(0.3)
        for i in range(0, len(SECRET), 4):      # typed in bursts, as a person does
            t.send(SECRET[i:i + 4])
            time.sleep(0.05)
        t.send(b"\r")
        t.expect(b"got-%d" % len(SECRET))
        t.expect(b"PS> ")
        t.send(b"read -s -p 'Pass''word: ' y; echo got-y\r")
        t.expect(b"Password: ")
        time.sleep(0.3)
        t.send(OTHER)
        time.sleep(0.2)
        t.send(b"\x03")
        t.expect(b"PS> ")
        assert b"got-y" not in t.out
        t.send(b"echo plain-$((40+2))\r")
        t.expect(b"plain-42")
        t.send(b"exit 0\r")
        assert t.wait() == 0
        return sid
    finally:
        try:
            os.kill(t.pid, 9)
            os.waitpid(t.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def export_json(w, sid):
    """The session's events (export --format json), each with its raw and
    base64 fields decoded into one bytes value 'blob'."""
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    out = []
    for e in events:
        blob = b""
        for k, v in e.items():
            if isinstance(v, str) and k.endswith("base64"):
                blob += base64.b64decode(v)
            elif isinstance(v, str):
                blob += v.encode()
        for f in e.get("fields", []):
            name = f.get("name") or ""
            for k, v in f.items():
                if not isinstance(v, str) or k == "name":
                    continue
                if k.endswith("base64") or name.endswith("base64"):
                    blob += base64.b64decode(v)
                else:
                    blob += v.encode()
        out.append((e, blob))
    return out


def input_bytes(events):
    """Every INPUT event's bytes, in order."""
    return b"".join(base64.b64decode(e["data_base64"]) for e, _ in events if e.get("type") == "input")


def test_password_masked_in_recording():
    with Env() as env:
        w = ProxyWorld(env, rules=RULES % "")
        sid = interactive_session(w)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]

        v = replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))
        assert v.returncode == 0, v.stdout + v.stderr

        cat = replay(w, "cat", sid)
        assert cat.returncode == 0, cat.stderr
        assert b"got-%d" % len(SECRET) in cat.stdout
        assert SECRET not in cat.stdout and OTHER not in cat.stdout

        events = export_json(w, sid)
        everything = b"".join(b for _, b in events)
        assert SECRET not in everything and OTHER not in everything
        typed = input_bytes(events)
        # same number of bytes, each '*', the Enter kept; what follows as typed
        assert b"*" * len(SECRET) + b"\r" in typed, typed
        assert b"\x03" in typed
        assert b"echo plain-$((40+2))\r" in typed
        markers = [e for e, b in events if e.get("type") == "marker"]
        texts = [b for e, b in events if e.get("type") == "marker"]
        assert any(b"input masked at a password prompt (%d bytes)" % len(SECRET) in t for t in texts), markers
        assert any(b"input masked at a password prompt (%d bytes)" % len(OTHER) in t for t in texts), markers

        for fmt in ("text", "asciicast"):
            r = replay(w, "export", sid, "--format", fmt)
            assert r.returncode == 0, r.stderr
            assert SECRET not in r.stdout and OTHER not in r.stdout

        # search finds the session by what was typed plainly, never by the secret
        for key in ("input", "output"):
            probe = replay(w, "search", key, "plain-")
            if probe.returncode == 2 and b"input" in probe.stderr:
                continue        # escort-replay without the input predicate
            assert probe.returncode == 0 and sid.encode() in probe.stdout, probe.stdout + probe.stderr
            s = replay(w, "search", key, SECRET.decode())
            assert s.returncode == 1 and sid.encode() not in s.stdout, s.stdout + s.stderr

        log = w.proxy.log()
        assert "input masked at a password prompt (%d bytes)" % len(SECRET) in log
        assert SECRET.decode() not in log and OTHER.decode() not in log


def test_passwords_record_keeps_input():
    with Env() as env:
        w = ProxyWorld(env, rules=RULES % "passwords record")
        sid = interactive_session(w)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        v = replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))
        assert v.returncode == 0, v.stdout + v.stderr
        events = export_json(w, sid)
        typed = input_bytes(events)
        assert SECRET + b"\r" in typed, typed
        assert not any(e.get("type") == "marker" and b"masked" in b for e, b in events)
        assert "input masked" not in w.proxy.log()


def test_password_masked_in_exec_with_pty():
    """ssh -t host COMMAND (as with sudo): the command's prompt is watched too."""
    with Env() as env:
        w = ProxyWorld(env, rules=RULES % "")
        t = Term(w.ssh_argv("alice", "web01", "read -s -p 'Enter passphrase for key /k: ' x; echo read-done",
                            extra=("-tt",)))
        try:
            seen = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
            t.expect(b"Enter passphrase for key /k: ")
            time.sleep(0.3)
            t.send(SECRET + b"\r")
            t.expect(b"read-done")
            assert t.wait() == 0
        finally:
            try:
                os.kill(t.pid, 9)
                os.waitpid(t.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        v = replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))
        assert v.returncode == 0, v.stdout + v.stderr
        events = export_json(w, sid)
        assert SECRET not in b"".join(b for _, b in events)
        assert input_bytes(events) == b"*" * len(SECRET) + b"\r"
        assert any(e.get("type") == "marker" and b"(%d bytes)" % len(SECRET) in b for e, b in events)


def test_passwords_record_needs_every_rule():
    """Two admitting rules, one saying `passwords record`: input stays masked."""
    with Env() as env:
        w = ProxyWorld(env, rules=RULES % "passwords record" + (RULES % "").replace("rule techs", "rule oncall"))
        sid = interactive_session(w)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        assert "admitted to web01 by techs, oncall" in w.proxy.log()
        events = export_json(w, sid)
        assert SECRET not in b"".join(b for _, b in events)
        assert b"*" * len(SECRET) + b"\r" in input_bytes(events)
