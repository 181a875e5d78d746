"""`shell observe` through escort-proxy with the real ssh client in a
pseudo-terminal and a real bash behind the target's sshd: every command
typed is read back from the screen, decided and recorded before its Enter
reaches the target; a command the policy denies gets a warning on the
technician's terminal and an alert in the proxy's log, and still runs
(observe mode is not a boundary)."""
import base64, json, os, re, time
from harness.core import Env
from harness.term import Term
from harness.proxy import ProxyWorld, replay

SHELL_MODE, CMD_SEQ = 103, 102
WARNING = b"observe mode does not stop it; it is recorded"


def stop_term(t):
    try:
        os.kill(t.pid, 9)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def field(ev, tag):
    """A field's value; CMD_SEQ and SHELL_MODE also where the reader does
    not name them yet (value_base64)."""
    for f in ev.get("fields", []):
        if f["tag"] == tag:
            if "value" in f:
                return f["value"]
            raw = base64.b64decode(f["value_base64"])
            return int.from_bytes(raw, "big") if tag == CMD_SEQ else raw.decode()
    return None


def wait_prompt(t):
    """Waits for bash's prompt (bash turns bracketed paste on before it)."""
    t.expect(b"\x1b[?2004h", timeout=20)
    time.sleep(0.3)


def events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]


def type_slowly(t, text):
    """Types text key by key, each echoed before the next, as a person does."""
    for ch in text:
        t.send(ch.encode())
        t.expect(ch.encode())


def test_observe_denied_command_warns_is_recorded_and_runs():
    with Env() as env:
        w = ProxyWorld(env)
        victim = w.marker("victim")
        os.makedirs(os.path.dirname(victim), exist_ok=True)
        with open(victim, "w") as f:
            f.write("x")
        os.chmod(os.path.dirname(victim), 0o777)
        os.chmod(victim, 0o666)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            wait_prompt(t)
            # an allowed command, sent as one chunk (not echoed yet at Enter)
            t.send(b"printf 'a%sb\\n' -obs-\r")
            t.expect(b"a-obs-b")
            # the prompt first: keys typed before it are echoed by the tty
            # and then again by readline after the prompt, so the screen's
            # line would hold the prompt inside the command
            wait_prompt(t)
            # a denied one, typed key by key: the screen shows it at Enter
            type_slowly(t, "rm %s" % victim)
            t.send(b"\r")
            seen = t.expect(WARNING)
            assert b"escort: warning: rule techs (line" in seen, seen
            assert b"denies this command" in seen
            # it still ran: observe mode is not a boundary
            deadline = time.monotonic() + 10
            while os.path.exists(victim) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not os.path.exists(victim)
            # the terminal still works after the warning
            t.send(b"printf 'c%sd\\n' -after-\r")
            t.expect(b"c-after-d")
            t.send(b"exit\r")
            assert t.wait() == 0
        finally:
            stop_term(t)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        log = w.proxy.log()
        assert re.search(r"observe alert: alice on web01 typed command 2, which rule techs \(line \d+\) "
                         r"denies this command: rm " + re.escape(victim), log), log[-3000:]

        r = replay(w, "commands", sid)
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        rows = [l for l in out.splitlines() if "(shell)" not in l]
        assert any(" deny " in l and "techs" in l and l.endswith("rm " + victim) for l in rows), out
        assert any(" allow " in l and l.endswith("printf 'a%sb\\n' -obs-") for l in rows), out
        assert any(" allow " in l and l.endswith("exit") for l in rows), out

        r = replay(w, "audit")
        assert r.returncode == 0, r.stderr
        audit = r.stdout.decode()
        assert re.search(r"deny\s+techs.*: rm " + re.escape(victim), audit), audit

        # the decisions carry their number and mode, and each is recorded
        # before the Enter that ran its command
        evs = events(w, sid)
        decisions = [e for e in evs if e["type"] == "decision" and field(e, SHELL_MODE) == "observe"]
        assert [field(e, CMD_SEQ) for e in decisions] == [1, 2, 3, 4], decisions
        assert [field(e, 40) for e in decisions] == ["allow", "deny", "allow", "allow"]
        rm = decisions[1]
        typed = b""
        for e in evs:
            if e["type"] != "input":
                continue
            typed += base64.b64decode(e["data_base64"])
            if typed.endswith(("rm %s\r" % victim).encode()):
                assert e["seq"] > rm["seq"], (e, rm)
                break
        else:
            raise AssertionError("the Enter of the rm line is not in the recording")
        # the warning is in the recording as the technician saw it
        r = replay(w, "cat", sid)
        assert WARNING in r.stdout


def test_observe_full_screen_and_password_prompt_not_read():
    """Nothing typed in a full-screen program (alternate screen) or at a
    password prompt becomes a command."""
    with Env() as env:
        w = ProxyWorld(env)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            wait_prompt(t)
            # a program that switches to the alternate screen and reads a line
            # (what is expected is split in the command, so that its echo
            # does not match)
            t.send(b"sh -c 'printf \"\\033[?1049hA\"\"LT>\"; read x; printf \"\\033[?1049l\"; echo done-$x'\r")
            t.expect(b"ALT>")
            type_slowly(t, "rm inside")
            t.send(b"\r")
            t.expect(b"done-rm")
            wait_prompt(t)
            # a password prompt, typed blind
            t.send(b"sh -c 'stty -echo; printf \"Pass\"\"word: \"; read p; stty echo; echo; echo got-${#p}'\r")
            t.expect(b"Password: ")
            for ch in b"rm-secret":
                t.send(bytes([ch]))
                time.sleep(0.02)
            t.send(b"\r")
            t.expect(b"got-9")
            wait_prompt(t)
            t.send(b"exit\r")
            assert t.wait() == 0
        finally:
            stop_term(t)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        cmds = [field(e, 35) for e in events(w, sid)
                if e["type"] == "decision" and field(e, SHELL_MODE) == "observe"]
        assert not any("inside" in c or "secret" in c for c in cmds), cmds
        assert len(cmds) == 3 and cmds[0].startswith("sh -c") and cmds[1].startswith("sh -c") \
            and cmds[2] == "exit", cmds


def test_observe_deny_end_ends_the_session_before_the_enter():
    """Under `observe-deny end` a denied command ends the session with a
    message, and its Enter never reaches the target: it does not run."""
    from harness.proxy import DEFAULT_RULES
    with Env() as env:
        w = ProxyWorld(env, rules=DEFAULT_RULES.replace("shell observe\n",
                                                        "shell observe\n    observe-deny end\n"))
        victim = w.marker("kept")
        os.makedirs(os.path.dirname(victim), exist_ok=True)
        with open(victim, "w") as f:
            f.write("x")
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            wait_prompt(t)
            t.send(b"printf 'e%sf\\n' -ok-\r")
            t.expect(b"e-ok-f")
            wait_prompt(t)
            type_slowly(t, "rm %s" % victim)
            t.send(b"\r")
            seen = t.expect(b"(observe-deny end)")
            assert re.search(rb"escort: rule techs \(line \d+\) denies this command; the session ends",
                             seen), seen
            assert t.wait() != 0
        finally:
            stop_term(t)
        time.sleep(0.5)
        assert os.path.exists(victim), "the denied command ran"
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        evs = events(w, sid)
        ends = [e for e in evs if e["type"] == "end"]
        assert ends and field(ends[-1], 100) == "policy", ends
        assert "observe-deny end" in field(ends[-1], 43), ends
        cmds = [(field(e, 40), field(e, 35)) for e in evs
                if e["type"] == "decision" and field(e, SHELL_MODE) == "observe"]
        assert cmds == [("allow", "printf 'e%sf\\n' -ok-"), ("deny", "rm " + victim)], cmds
        # nothing after the decision reached the target: no INPUT holds the Enter
        typed = b"".join(base64.b64decode(e["data_base64"]) for e in evs if e["type"] == "input")
        assert typed.endswith(("rm " + victim).encode()), typed[-80:]


def test_observe_reads_what_readline_drew():
    """Real bash's line editing: history recall, Backspace, cursor left and
    insert, and a line that wraps past the terminal's width are read as the
    screen shows them at Enter."""
    with Env() as env:
        w = ProxyWorld(env)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        long_word = "w" * 100
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            wait_prompt(t)
            type_slowly(t, "printf 'x%sy\\n' -one-")
            t.send(b"\r")
            t.expect(b"x-one-y")
            wait_prompt(t)
            t.send(b"\x1b[A")                      # history recall: bash redraws the line
            t.expect(b"-one-")
            time.sleep(0.2)
            t.send(b"\r")
            t.expect(b"x-one-y")
            wait_prompt(t)
            type_slowly(t, "printf 'q%sr\\n' -bsX")
            t.send(b"\x7f")                        # Backspace
            t.expect(b"\x08")
            time.sleep(0.2)
            type_slowly(t, "-")
            t.send(b"\r")
            t.expect(b"q-bs-r")
            wait_prompt(t)
            type_slowly(t, "printf 'm%sn\\n' -ac-")
            t.send(b"\x1b[D\x1b[D")                # cursor left twice, then insert
            time.sleep(0.3)
            t.send(b"b")
            time.sleep(0.3)
            t.send(b"\r")
            t.expect(b"m-abc-n")
            wait_prompt(t)
            t.send(("printf 'L%%sL\\n' %s" % long_word).encode())  # wraps at 80 columns
            t.expect(b"w" * 20)
            time.sleep(0.5)
            t.send(b"\r")
            t.expect(("L%sL" % long_word).encode())
            wait_prompt(t)
            t.send(b"exit\r")
            assert t.wait() == 0
        finally:
            stop_term(t)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        cmds = [field(e, 35) for e in events(w, sid)
                if e["type"] == "decision" and field(e, SHELL_MODE) == "observe"]
        assert cmds == ["printf 'x%sy\\n' -one-", "printf 'x%sy\\n' -one-", "printf 'q%sr\\n' -bs-",
                        "printf 'm%sn\\n' -abc-", "printf 'L%%sL\\n' %s" % long_word, "exit"], cmds
