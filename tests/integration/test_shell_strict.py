"""`shell strict` through escort-proxy with the real ssh client in a
pseudo-terminal and real bash behind the real sshd: the proxy owns the
command line.  Allowed lines run and their output shows; denied ones do not
run (a side-effect file on the target stays absent) and the technician sees
the rule; every bypass class of ../shared notes tried as an attacker would
through the interactive session; the line editor's keys; the recording
(DECISION and EXIT events with CMD_SEQ and SHELL_MODE, `cat` equal to what
the terminal received, no marker in it); a forged prompt marker ending the
session; no pty and a target where the bootstrap cannot run refused."""
import base64, json, os, re, select, time
from harness.core import Env, proc_ticks, wait_process
from harness.term import Term
from harness.proxy import ProxyWorld, replay

RULES = """
rule techs {
    who user:alice
    where target:web01
    shell strict
    exec yes
    allow "echo ..."
    allow "printf ..."
    allow "ls ..."
    allow "sleep ..."
    allow "stty size"
    allow "true"
    allow "false"
    allow "pwd"
    allow "cd ..."
    allow "tr ..."
    allow "read -s -p ..."
    allow "less /etc/hostname"
    approve "reboot ..."
    deny "touch ..."
    deny "rm ..."
}
"""

MARK = b"\x1b]5379;"
SECRET = b"Zebra-Quartz-8141"


def drain(t, secs):
    """Reads what the terminal gets for secs seconds (into t.out and t.log)."""
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([t.fd], [], [], left)
        if r:
            try:
                d = os.read(t.fd, 65536)
            except OSError:
                return
            if not d:
                return
            t.out += d
            t.log += d


def prompt(t):
    return t.expect(b"@web01:", timeout=20) + t.expect(b"$ ", timeout=5)


def stop(t):
    try:
        os.kill(t.pid, 9)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = []
    for l in r.stdout.decode().splitlines():
        if l.strip():
            e = json.loads(l)
            e["f"] = {}
            for f in e.get("fields", []):
                name, value = f.get("name"), f.get("value")
                if name is None and f.get("tag") in (102, 103):   # readers without the names
                    raw = base64.b64decode(f["value_base64"])
                    name = "cmd_seq" if f["tag"] == 102 else "shell_mode"
                    value = int.from_bytes(raw, "big") if f["tag"] == 102 else raw.decode()
                e["f"].setdefault(name, value)
            out.append(e)
    return out


def test_strict_shell_boundary():
    with Env() as env:
        w = ProxyWorld(env, rules=RULES)
        x = w.marker("X")
        os.makedirs(os.path.dirname(x), exist_ok=True)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            prompt(t)

            # allowed: runs, its output shows (printf: the output differs from the echo)
            t.send(b"printf 'x%sy\\n' 1\r")
            t.expect(b"x1y")
            prompt(t)
            # denied: nothing runs, the rule is named
            t.send(b"touch %s\r" % x.encode())
            with open(w.policy_path) as f:
                n = [i for i, l in enumerate(f, 1) if 'deny "touch ..."' in l][0]
            t.expect(b'escort: denied by rule techs (line %d): "touch ..."' % n)
            prompt(t)
            assert not os.path.exists(x)

            # attacks, each tried as typed; none may create X
            attacks = [
                b"ls; touch %s",                 # chaining
                b"true && touch %s",
                b"echo $(touch %s)",             # substitution
                b"echo `touch %s`",
                b"t''ouch %s",                   # quoting tricks
                b"\\touch %s",
                b"/usr/bin/touch %s",
                b"alias ls='touch %s'",          # aliases and functions
                b"f() { touch %s; }",
                b"echo hi > %s",                 # redirection
                b"c=touch; $c %s",               # variables in command position
                b"eval touch %s",
                b"bash -c 'touch %s'",
            ]
            for a in attacks:
                t.send(a % x.encode() + b"\r")
                t.expect(b"escort: denied", timeout=10)
                prompt(t)
                assert not os.path.exists(x), a
            # history expansion and ^old^new: the loop has no history, the
            # proxy decides the literal text
            t.send(b"echo %s\r" % x.encode())
            prompt(t)
            t.send(b"!!\r")
            t.expect(b"escort: denied")
            prompt(t)
            t.send(b"^echo^touch\r")
            t.expect(b"escort: denied")
            prompt(t)
            # Up recalls an allowed line; edited into a denied one it is decided again
            t.send(b"\x1b[A\x1b[H\x1b[3~\x1b[3~\x1b[3~\x1b[3~touch\r")
            t.expect(b"escort: denied by rule techs")
            prompt(t)
            assert not os.path.exists(x)
            # a paste of several lines with a denied one in the middle: nothing runs
            t.send(b"\x1b[200~printf 'p%sq\\n' 1\ntouch " + x.encode() + b"\nprintf 'p%sq\\n' 2\x1b[201~\r")
            t.expect(b"nothing of this entry was run")
            prompt(t)
            t.send(b"printf 'u%sv\\n' 1\rtouch " + x.encode() + b"\rprintf 'u%sv\\n' 2\r")
            t.expect(b"nothing of this entry was run")
            prompt(t)
            assert b"p1q" not in t.log and b"u1v" not in t.log and b"u2v" not in t.log
            assert not os.path.exists(x)
            # a paste of allowed lines: they run one after the other
            t.send(b"\x1b[200~printf 'm%sn\\n' 1\nprintf 'm%sn\\n' 2\x1b[201~\r")
            t.expect(b"m1n")
            t.expect(b"m2n")
            prompt(t)
            # while a command runs, keystrokes (Ctrl-D too) go to it
            t.send(b"tr a-z A-Z\r")
            time.sleep(0.5)
            t.send(b"abc\r\x04")
            t.expect(b"ABC")
            prompt(t)
            # Ctrl-C while a command runs interrupts it (and the rest of its entry)
            since = proc_ticks()
            t.send(b"\x1b[200~sleep 30\nprintf 'q%sz\\n' 1\x1b[201~\r")
            wait_process(["sleep", "30"], since)
            t0 = time.monotonic()
            t.send(b"\x03")
            t.expect(b"the 1 line(s) left of this entry were not run")
            prompt(t)
            assert time.monotonic() - t0 < 5 and b"q1z" not in t.log
            # a password typed into a running command is masked in the recording
            t.send(b"read -s -p 'Password: ' pw\r")
            t.expect(b"Password: ")
            time.sleep(0.3)
            t.send(SECRET + b"\r")
            prompt(t)
            # an allowed pager's shell escape does not run (LESSSECURE)
            t.send(b"less /etc/hostname\r")
            time.sleep(0.8)
            t.send(b"!touch " + x.encode() + b"\r")
            time.sleep(0.5)
            for _ in range(4):      # the rest of the line were less commands (help...)
                t.send(b"q")
                time.sleep(0.3)
            prompt(t)
            t.send(b"\x15")        # a q typed after less ended, at the proxy's prompt
            assert not os.path.exists(x)
            # Ctrl-V with a newline: a line of its own, decided
            t.send(b"echo a\x16\ntouch " + x.encode() + b"\r")
            t.expect(b"escort: denied")
            prompt(t)
            # Tab never sends a line
            t.send(b"touch " + x.encode() + b"\t")
            drain(t, 0.5)
            assert b"denied" not in t.out
            t.send(b"\x03")
            prompt(t)
            assert not os.path.exists(x)
            # typeahead while an allowed command runs never reaches the next prompt
            t.send(b"sleep 2\r")
            time.sleep(0.7)
            t.send(b"touch " + x.encode() + b"\r")
            t.expect(b"typed while the last command ran were discarded", timeout=10)
            drain(t, 0.5)
            assert not os.path.exists(x)
            # a very long line is refused whole
            t.send(b"\x15echo " + b"a" * 4000 + b"\r")
            t.expect(b"escort: denied")
            prompt(t)
            # approval needed: not run, said so
            t.send(b"reboot now\r")
            t.expect(b"needs an escort's approval (rule techs")
            prompt(t)

            # line editing: backspace, Home then insert, Ctrl-U, history recall
            t.send(b"printf 'b%sX\x7fc\\n' 1\r")
            t.expect(b"b1c")
            prompt(t)
            t.send(b"rintf 'h%si\\n' 1\x1b[Hp\r")
            t.expect(b"h1i")
            prompt(t)
            t.send(b"touch " + x.encode() + b"\x15printf 'c%sr\\n' 1\r")
            t.expect(b"c1r")
            prompt(t)
            t.send(b"\x1b[A\r")
            t.expect(b"c1r")
            prompt(t)
            # window resize during editing: the target gets it, the line is kept
            t.send(b"stty ")
            t.resize(40, 100)
            time.sleep(0.3)
            t.send(b"size\r")
            t.expect(b"40 100")
            prompt(t)
            # Ctrl-C at the prompt: the line is dropped, a new prompt
            t.send(b"printf 'n%so\\n' 1\x03")
            prompt(t)
            # cd persists and shows in the prompt
            t.send(b"cd /tmp\r")
            assert b":/tmp$ " in prompt(t)
            t.send(b"false\r")
            prompt(t)
            # Ctrl-D on an empty line: the shell exits with the last status
            t.send(b"\x04")
            assert t.wait() == 1
        finally:
            stop(t)
        assert not os.path.exists(x)
        assert b"n1o" not in t.log

        # the recording: every typed line with its decision, the markers out
        def closed():
            return any(e["type"] == "end" for e in events(w, sid))
        deadline = time.monotonic() + 20
        while not closed() and time.monotonic() < deadline:
            time.sleep(0.3)
        ev = events(w, sid)
        dec = [e["f"] for e in ev if e["type"] == "decision" and e["f"].get("shell_mode") == "strict"]
        shell = [e["f"] for e in ev if e["type"] == "decision" and e["f"].get("command") == "(shell)"]
        assert len(shell) == 1 and shell[0]["verdict"] == "allow" and "strict" in shell[0]["reason"], shell
        cmds = [d.get("command") for d in dec]
        assert "printf 'x%sy\\n' 1" in cmds and "touch " + x in cmds, cmds
        for d in dec:
            assert d.get("cmd_seq") is not None, d
        first = dec[[d.get("command") for d in dec].index("printf 'x%sy\\n' 1")]
        assert first["verdict"] == "allow" and first.get("rendered"), first
        den = dec[cmds.index("touch " + x)]
        assert den["verdict"] == "deny" and den.get("rule") == "techs", den
        # a DECISION comes after the output that echoed its line
        shown = b""
        for e in ev:
            if e["type"] == "output":
                shown += base64.b64decode(e.get("data_base64", ""))
            if e["type"] == "decision" and e["f"].get("command") == "touch " + x:
                assert shown.replace(b"\x1b[?2004l", b"").endswith(b"touch " + x.encode() + b"\r\n"), \
                    shown[-200:]
                break
        # an allowed line of a refused paste: not run, and no rule denied it
        held = dec[cmds.index("printf 'p%sq\\n' 1")]
        assert held["verdict"] == "deny" and "rule" not in held and "rendered" not in held, held
        assert "another line of the same entry was refused" in held["reason"], held
        exits = [e["f"] for e in ev if e["type"] == "exit" and e["f"].get("shell_mode") == "strict"]
        assert any(str(e.get("cmd_seq")) == str(first["cmd_seq"]) and str(e.get("exit_status")) == "0"
                   for e in exits), exits
        cat = replay(w, "cat", sid)
        assert cat.returncode == 0, cat.stderr
        assert MARK not in cat.stdout and MARK not in t.log
        assert b"x1y" in cat.stdout and b"escort: denied by rule techs" in cat.stdout
        # what the terminal received is what the recording shows, byte for
        # byte, but for the client's own lines: the proxy's userauth banner
        # and ssh's "Connection to ... closed."
        seen = re.sub(rb"\Aescort: session \S+ is recorded\r?\n", b"", t.log)
        seen = re.sub(rb"Connection to \S+ closed\.\r\r\n\Z", b"", seen)
        assert cat.stdout == seen, (cat.stdout[-500:], seen[-500:])
        assert SECRET not in cat.stdout
        for fmt in ("text", "json"):
            r = replay(w, "export", sid, "--format", fmt)
            assert r.returncode == 0 and SECRET not in r.stdout, r.stderr
            assert base64.b64encode(SECRET)[:12] not in r.stdout
        marks = [e["f"].get("text", "") for e in ev if e["type"] == "marker"]
        assert any("input masked at a password prompt (%d bytes)" % len(SECRET) in m for m in marks), marks
        c = replay(w, "commands", sid)
        assert c.returncode == 0, c.stderr
        assert b"touch " + x.encode() in c.stdout and b"printf" in c.stdout, c.stdout
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_forged_prompt_marker_ends_the_session():
    """An allowed printf that prints a prompt marker: the session ends, and
    the line typed after it never runs; the recording says why.  An allowed
    command that prints the loop's nonce ends the session too."""
    with Env() as env:
        w = ProxyWorld(env, rules=RULES.replace('    allow "pwd"', '    allow "pwd"\n    allow "declare -p ..."'))
        x = w.marker("X")
        os.makedirs(os.path.dirname(x), exist_ok=True)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            t.expect(b"is recorded")
            prompt(t)
            t.send(b"declare -p _sb_nonce\r")
            t.expect(b"secret nonce appeared in the target's output", timeout=10)
            assert t.wait() == 255
        finally:
            stop(t)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            banner = t.expect(b"is recorded")
            sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
            prompt(t)
            t.send(b"printf '\\033]5379;p;%s;1;0;2f\\007' 00000000000000000000000000000000\r")
            time.sleep(0.2)
            t.send(b"touch " + x.encode() + b"\r")
            t.expect(b"this session is ended", timeout=10)
            assert t.wait() == 255
        finally:
            stop(t)
        assert not os.path.exists(x)
        log = w.proxy.log()
        assert "prompt marker with a wrong nonce" in log, log[-2000:]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ev = events(w, sid)
            if any(e["type"] == "end" for e in ev):
                break
            time.sleep(0.3)
        marks = [e["f"].get("text", "") for e in ev if e["type"] == "marker"]
        assert any("prompt marker with a wrong nonce" in m for m in marks), marks
        ends = [e["f"] for e in ev if e["type"] == "end"]
        assert ends and ends[0].get("end_kind") == "policy", ends
        assert MARK not in replay(w, "cat", sid).stdout
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_strict_needs_a_pty_and_a_bootstrap():
    with Env() as env:
        w = ProxyWorld(env, rules=RULES, sshd_extra="ForceCommand echo no-bash-here\n")
        r = w.ssh("alice", "web01", None, extra=("-T",), input=b"touch /tmp/never\n", timeout=30)
        assert r.returncode == 1 and b"needs a terminal" in r.stderr, r
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            t.expect(b"strict mode could not be set up on web01", timeout=20)
            t.expect(b"refused")
            assert t.wait() == 255
        finally:
            stop(t)
        assert b"no-bash-here" in t.log
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_strict_boot_deadline():
    """A target whose shell never answers (a forced command that hangs): the
    session is refused after 15 seconds, never given a shell."""
    with Env() as env:
        w = ProxyWorld(env, rules=RULES, sshd_extra="ForceCommand sleep 60\n")
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            t.expect(b"is recorded")
            t0 = time.monotonic()
            t.expect(b"strict mode could not be set up on web01 (no answer from its shell within 15 "
                     b"seconds); this session is refused", timeout=30)
            assert 13 < time.monotonic() - t0 < 25
            assert t.wait() == 255
        finally:
            stop(t)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_control_character_typed_with_ctrl_v_is_refused_not_fatal():
    """Ctrl-V ESC puts a literal escape in an allowed line: the line cannot
    go through the target's terminal as typed, so it is refused with the
    reason, and the session goes on (it used to end with a proxy error)."""
    with Env() as env:
        w = ProxyWorld(env, rules=RULES)
        t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
        try:
            t.expect(b"is recorded")
            prompt(t)
            t.send(b"echo a\x16\x1b[31mb\r")
            t.expect(b"escort: denied", timeout=10)
            out = t.expect(b"control character", timeout=5)
            # no rule denied it: none is named
            assert out == b": the line holds a control character", out[-300:]
            prompt(t)
            t.send(b"echo still-here\r")
            t.expect(b"echo still-here\r\n", timeout=10)   # the echo, then the output
            t.expect(b"still-here\r\n", timeout=10)
            prompt(t)
            assert b"proxy error" not in t.log, t.log[-2000:]
        finally:
            stop(t)
