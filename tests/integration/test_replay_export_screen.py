"""escort-replay export of a session recorded through the real proxy from
a real bash in a terminal: --format text shows a line edited at the prompt
as it ran (the Backspace applied, readline's redraw not concatenated), and
the rows on screen before a clear; --format asciicast is titled USER@TARGET,
Debian's asciinema accepts it (asciinema cat writes exactly the recorded
output), and --no-input leaves the keystrokes out."""
import base64, json, os, pty, re, select, shutil, time, tty

from harness.core import Env
from harness.term import Term
from harness.proxy import ProxyWorld, replay


def record(env):
    """A shell session through the proxy; returns (world, session id)."""
    w = ProxyWorld(env)
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    try:
        seen = t.expect(b"is recorded")
        sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
        t.send(b"PS1='P''S> '\r")
        t.expect(b"PS> ")
        t.send(b"echo before-the-clear; clear\r")
        t.expect(b"PS> ")
        for k in b"echo abx\x7fc-typed-$((6*7))":
            t.send(bytes([k]))
            time.sleep(0.03)                # one key per event
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
    return w, sid


def asciinema_cat(path):
    """What asciinema cat writes, read from a raw pseudo-terminal."""
    pid, fd = pty.fork()
    if pid == 0:
        tty.setraw(0)
        os.execvp("asciinema", ["asciinema", "cat", path])
    out, end = b"", time.monotonic() + 60
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
            continue
        try:
            d = os.read(fd, 65536)
        except OSError:
            break
        if not d:
            break
        out += d
    try:
        _, st = os.waitpid(pid, 0)
    except ChildProcessError:
        st = 0
    return os.waitstatus_to_exitcode(st), out


def test_export_text_and_asciicast_of_a_real_shell_session():
    assert shutil.which("asciinema"), "asciinema missing: scripts/deps.sh installs it"
    with Env() as env:
        w, sid = record(env)
        r = replay(w, "export", sid, "--format", "text")
        assert r.returncode == 0, r
        text = r.stdout.decode()
        lines = text.splitlines()
        assert "PS> echo abc-typed-$((6*7))" in lines, text
        assert "abc-typed-42" in lines, text
        assert "abx" not in text and "\x1b" not in text and "\r" not in text, text
        # the screen before clear is there, once, before what followed it
        assert text.count("before-the-clear\n") == 1, text
        assert text.index("before-the-clear") < text.index("abc-typed-42"), text

        ev = [json.loads(l) for l in replay(w, "export", sid, "--format", "json")
              .stdout.decode().splitlines()]
        output = b"".join(base64.b64decode(e["data_base64"]) for e in ev
                          if e["type"] in ("output", "stderr"))
        r = replay(w, "export", sid, "--format", "asciicast")
        assert r.returncode == 0, r
        cast = r.stdout.decode().splitlines()
        head = json.loads(cast[0])
        assert head["version"] == 2 and head["title"] == "alice@web01 (%s)" % sid, head
        frames = [json.loads(l) for l in cast[1:]]
        assert any(f[1] == "i" for f in frames), frames[:5]
        path = env.path("s.cast")
        with open(path, "w") as f:
            f.write(r.stdout.decode())
        code, shown = asciinema_cat(path)
        assert code == 0, shown[-500:]
        assert shown == output, (shown[-300:], output[-300:])

        r = replay(w, "export", sid, "--format", "asciicast", "--no-input")
        frames = [json.loads(l) for l in r.stdout.decode().splitlines()[1:]]
        assert r.returncode == 0 and frames and all(f[1] != "i" for f in frames), frames
        assert "".join(f[2] for f in frames if f[1] == "o").encode() == output.decode(
            "utf-8", "replace").encode()
        r = replay(w, "export", sid, "--format", "json", "--no-input")
        assert r.returncode == 2 and b"--no-input is for --format asciicast" in r.stderr, r


def test_export_text_of_an_exec_session_without_a_pty():
    """Bare line feeds (no pseudo-terminal: the client's terminal added the
    carriage returns) are lines, not a staircase."""
    import subprocess
    from harness.core import bin_path, tool_path
    with Env() as env:
        key = env.path("k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                       check=True, capture_output=True)
        store = env.path("store")
        script = env.write("e.txt", "0.1\tchannel\t0\taction=exec\tcommand=ls\n"
                                    "0.5\toutput\t0\tfirst\\nsecond line\\n\n"
                                    "0.6\tstderr\t0\tthird\\n\n")
        r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                            "--id", "e1", script], capture_output=True, timeout=30)
        assert r.returncode == 0, r
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "--no-verify",
                            "export", "e1", "--format", "text"], capture_output=True, timeout=30)
        assert r.returncode == 0 and r.stdout == b"first\nsecond line\nthird\n", r
