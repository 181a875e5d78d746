"""The strict-mode loop on the target (proxy/strict_boot.c) under a real bash
in a real pseudo-terminal, without ssh: the exact px__sb_command() text (from
tests/tools/strict-boot-cmd) runs as `LOGIN_SHELL -c CMD` the way sshd runs
an exec request, and the test plays the proxy: it reads the markers, sends
the nonce line and the run lines (their bytes also from the tool, i.e.
px__sb_run_line), and types ahead like a technician would.

Every check is on what the target did: marker files a line would create,
the PROMPT marker's number, status and directory, the loop's exit status,
what a child process could see."""
import os, re, subprocess, time
from harness.core import Env, proc_ticks, tool_path, wait_process
from harness.term import Term

TIMEOUT = 90

HELLO = b"\x1b]5379;h;1\x07"
MARK = re.compile(rb"\x1b\]5379;([hpd]);([^\x07]*)\x07")


class Loop:
    """The loop in a pseudo-terminal.  env: the login environment (the
    variables sshd would set); shell: the login shell that runs the exec
    command.  stop() kills it by pid."""

    def __init__(self, env, shell="bash", extra_env=None, rows=24, cols=80, ssh=None):
        self.cmd = subprocess.run([tool_path("strict-boot-cmd")], check=True,
                                  capture_output=True).stdout.decode()
        self.home = env.path("home")
        os.makedirs(self.home, exist_ok=True)
        e = {"HOME": self.home, "USER": "tech", "LOGNAME": "tech", "SHELL": "/bin/bash",
             "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8"}
        e.update(extra_env or {})
        argv = ["env", "-i"] + ["%s=%s" % kv for kv in e.items()] + [shell, "-c", self.cmd]
        if ssh is not None:
            # ssh: the argv of a real ssh client to a real sshd; -tt asks
            # for the terminal, the command is the exec request
            argv = ssh + ["-tt", self.cmd]
        self.t = Term(argv, rows, cols)
        self.nonce = None
        self.seq = 0
        self.shown = b""        # output with the markers taken out
        self.discards = []      # DISCARD markers' fields seen by prompt()

    def stop(self):
        try:
            os.kill(self.t.pid, 9)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.t.pid, 0)
        except ChildProcessError:
            pass

    def marker(self, kind, timeout=15):
        """Waits for the next marker; returns (kind, fields).  Fails when a
        marker of another kind than `kind` (a string of kinds) comes."""
        deadline = time.monotonic() + timeout
        while True:
            m = MARK.search(self.t.out)
            if m:
                self.shown += self.t.out[:m.start()]
                self.t.out = self.t.out[m.end():]
                k = m.group(1).decode()
                f = m.group(2).decode().split(";")
                assert k in kind, "expected a %s marker, got %s %r" % (kind, k, f)
                return k, f
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s marker; output %r" % (kind, self.t.out[-2000:]))
            self._read(min(left, 0.5))

    def _read(self, t):
        import select
        r, _, _ = select.select([self.t.fd], [], [], t)
        if r:
            try:
                d = os.read(self.t.fd, 65536)
            except OSError:
                d = b""
            if not d:
                raise AssertionError("terminal closed; output %r" % self.t.out[-2000:])
            self.t.out += d

    def settle(self, secs):
        """Reads whatever comes for secs seconds."""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            try:
                self._read(max(0.0, min(0.1, end - time.monotonic())))
            except AssertionError:
                return

    def start(self):
        """HELLO, the nonce line, the first PROMPT; returns its fields."""
        self.marker("h")
        self.nonce = os.urandom(16).hex()
        self.t.send(b"\x15" + self.nonce.encode() + b"\n")
        return self.prompt(0)

    def prompt(self, seq, timeout=15):
        """The PROMPT for seq: (status, pwd bytes); DISCARDs before it are
        collected in self.discards."""
        while True:
            k, f = self.marker("pd", timeout)
            assert f[0] == self.nonce, f
            if k == "d":
                self.discards.append(f)
                continue
            assert int(f[1]) == seq, "prompt %s, expected %d" % (f[1], seq)
            return int(f[2]), bytes.fromhex(f[3])

    def line(self, seq, cmd):
        """The bytes of px__sb_run_line for (nonce, seq, cmd)."""
        return subprocess.run([tool_path("strict-boot-cmd"), self.nonce, str(seq), cmd],
                              check=True, capture_output=True).stdout

    def run(self, cmd, timeout=15):
        """Sends the next run line and waits for its PROMPT: (status, pwd)."""
        self.seq += 1
        self.t.send(self.line(self.seq, cmd))
        return self.prompt(self.seq, timeout)

    def exit(self):
        self.t.send(b"\x15" + ("%s %d\n" % (self.nonce, self.seq + 1)).encode())
        return self.t.wait(10)


def wait_child(pid, comm, timeout=10.0):
    """Waits (bounded) until a process named comm runs under pid: a signal
    typed before the command started would reach the loop alone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    st = f.read()
            except OSError:
                continue
            name = st[st.index("(") + 1:st.rindex(")")]
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if name == comm and ppid == pid:
                return
        time.sleep(0.05)
    raise AssertionError("no %s under pid %d after %.0f s" % (comm, pid, timeout))


def with_loop(fn, **kw):
    with Env("sboot") as env:
        lp = Loop(env, **kw)
        try:
            return fn(env, lp)
        finally:
            lp.stop()


def test_hello_nonce_run_and_exit():
    def body(env, lp):
        st, pwd = lp.start()
        assert st == 0 and pwd == os.getcwd().encode()
        ok = env.path("ok1")
        assert lp.run("touch %s && cd /tmp" % ok) == (0, b"/tmp")
        assert os.path.exists(ok)
        assert lp.run("( exit 3 )") == (3, b"/tmp")
        assert lp.run("echo out-$((6*7))")[0] == 0
        assert b"out-42" in lp.shown
        assert lp.run("false") == (1, b"/tmp")
        assert lp.exit() == 1
    with_loop(body)


def test_lines_without_the_right_nonce_and_number_never_run():
    def body(env, lp):
        lp.start()
        f = {n: env.path(n) for n in ("wrongnonce", "wrongseq", "replay", "zero", "bare", "noprefix")}
        bad_nonce = "f" * 32 if lp.nonce != "f" * 32 else "e" * 32
        real = lp.nonce
        lp.nonce = bad_nonce
        wrong = lp.line(1, "touch " + f["wrongnonce"])
        lp.nonce = real
        lp.t.send(wrong)
        lp.t.send(lp.line(2, "touch " + f["wrongseq"]))
        lp.t.send(lp.line(1, "touch " + f["zero"]).replace(b" 1 ", b" 01 ", 1))
        lp.t.send(b"touch %s\n" % f["bare"].encode())
        # the nonce alone is not a line; the nonce in the middle neither
        lp.t.send(b"\x15%s\n" % real.encode())
        lp.t.send(b"x %s 1 touch %s\n" % (real.encode(), f["noprefix"].encode()))
        for n in range(6):
            k, fl = lp.marker("d")
            assert fl[0] == real and fl[1] == "0", fl
        assert int(fl[2]) == len(b"x %s 1 touch %s" % (real.encode(), f["noprefix"].encode()))
        ok = env.path("ok")
        assert lp.run("touch " + ok)[0] == 0
        lp.t.send(lp.line(1, "touch " + f["replay"]))
        k, fl = lp.marker("d")
        assert fl[1] == "1"
        assert lp.run("true")[0] == 0
        assert os.path.exists(ok)
        for name, p in f.items():
            assert not os.path.exists(p), name + " ran"
        assert real.encode() not in lp.shown
    with_loop(body)


def test_typeahead_never_reaches_the_next_prompt():
    def body(env, lp):
        lp.start()
        t = {n: env.path(n) for n in ("line", "partial", "lnext", "eofline", "raw")}
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 1.5"))
        time.sleep(0.3)
        lp.t.send(b"touch %s\n" % t["line"].encode())             # a whole line
        lp.t.send(b"touch %s\x04" % t["eofline"].encode())         # ended by Ctrl-D
        lp.t.send(b"touch %s\x16" % t["lnext"].encode())           # Ctrl-V before the Ctrl-U
        lp.prompt(lp.seq)
        assert len(lp.discards) >= 2, (lp.discards, lp.shown)
        # typed ahead without an end, then the proxy's line
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 1"))
        time.sleep(0.3)
        lp.t.send(b"touch %s" % t["partial"].encode())
        lp.prompt(lp.seq)
        # a command that leaves the terminal raw; bytes typed then
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "stty raw -echo; sleep 1"))
        time.sleep(0.3)
        lp.t.send(b"touch %s\r" % t["raw"].encode())
        lp.prompt(lp.seq)
        ok = env.path("ok")
        assert lp.run("touch " + ok)[0] == 0
        assert os.path.exists(ok)
        for name, p in t.items():
            assert not os.path.exists(p), name + " ran"
    with_loop(body)


def test_ctrl_c_ends_the_command_line_not_the_loop():
    def body(env, lp):
        lp.start()
        after = env.path("after")
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 30; touch " + after))
        wait_child(lp.t.pid, "sleep")
        t0 = time.monotonic()
        lp.t.send(b"\x03")
        st, _ = lp.prompt(lp.seq, timeout=10)
        assert time.monotonic() - t0 < 5
        assert st == 130
        assert not os.path.exists(after)
        # Ctrl-\ does not kill the loop either
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 30"))
        wait_child(lp.t.pid, "sleep")
        lp.t.send(b"\x1c")
        st, _ = lp.prompt(lp.seq, timeout=10)
        assert st == 131
        ok = env.path("ok")
        assert lp.run("touch " + ok)[0] == 0 and os.path.exists(ok)
    with_loop(body)


def test_ctrl_z_does_not_stop_the_loop():
    def body(env, lp):
        lp.start()
        z = env.path("z")
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 1; touch " + z))
        time.sleep(0.3)
        lp.t.send(b"\x1a")
        st, _ = lp.prompt(lp.seq, timeout=10)
        assert st == 0 and os.path.exists(z)
        # a program that stops itself is not stopped either (SIGTSTP ignored)
        assert lp.run("kill -TSTP $$; kill -TSTP 0; echo still")[0] == 0
        assert b"still" in lp.shown
    with_loop(body)


def test_shell_state_persists_but_not_aliases_or_history():
    def body(env, lp):
        lp.start()
        d = env.path("work")
        os.makedirs(d)
        assert lp.run("cd " + d) == (0, d.encode())
        assert lp.run("X=kept")[0] == 0
        assert lp.run("touch ./in-$X")[0] == 0
        assert os.path.exists(os.path.join(d, "in-kept"))
        # an alias defined at one prompt is gone (and never expanded)
        assert lp.run("alias t1=\"touch alias-ran\"; t1")[0] == 127
        assert lp.run("t1")[0] == 127
        # history expansion is off: !! is a word, not the last line
        assert lp.run("touch hist1")[0] == 0
        os.unlink(os.path.join(d, "hist1"))
        assert lp.run("!!")[0] == 127
        assert lp.run("echo !! > bang")[0] == 0
        assert open(os.path.join(d, "bang")).read() == "!!\n"
        assert not os.path.exists(os.path.join(d, "alias-ran"))
        assert not os.path.exists(os.path.join(d, "hist1"))
        assert lp.run("shopt expand_aliases; set -o | grep -E \"^(history|histexpand) \"")[0] == 0
        out = lp.shown.decode("utf-8", "replace")
        assert re.search(r"expand_aliases\s+off", out), out
        assert re.search(r"history\s+off", out) and re.search(r"histexpand\s+off", out), out
    with_loop(body)


def test_shell_changes_do_not_outlive_their_line():
    """What a command leaves in the shell that could run code later without
    a line behind it is gone before the next prompt: functions (also named
    like the loop's builtins), traps (WINCH, ERR, EXIT; DEBUG and
    RETURN only right after their line), the integer
    attribute on the loop's line variable, disabled builtins, standard
    input and output moved away from the terminal."""
    def body(env, lp):
        lp.start()
        d = env.path("w")
        os.makedirs(d)
        assert lp.run("cd " + d)[0] == 0
        assert lp.run("f() { touch func-ran; }; printf() { touch printf-ran; }; "
                      "read() { touch read-ran; }; stty() { touch stty-ran; }")[0] == 0
        assert lp.run("f")[0] == 127
        assert lp.run("trap \"touch winch-ran\" WINCH; trap \"touch exit-ran\" EXIT; "
                      "trap \"touch err-ran\" ERR")[0] == 0
        lp.t.resize(30, 100)
        assert lp.run("false")[0] == 1
        # DEBUG and RETURN traps fire before the loop's next simple commands
        # and at the return of the function that ran the line: a few times
        # right after the line that set them, never after the next prompt
        assert lp.run("trap \"echo x >> debug-count\" DEBUG")[0] == 0
        assert lp.run("trap \"echo x >> return-count\" RETURN")[0] == 0
        for i in range(3):
            assert lp.run("true")[0] == 0
        for n in ("debug-count", "return-count"):
            p = os.path.join(d, n)
            assert not os.path.exists(p) or len(open(p).read().split()) <= 4, n
        # a line read into an integer variable would be evaluated
        assert lp.run("declare -i _sb_l _sb_e _sb_seq")[0] == 0
        lp.t.send(b"a[$(touch arith-ran)]\n")
        k, f = lp.marker("d")
        # the loop's terminal comes back after a command moved it away (fd 3
        # keeps the terminal open meanwhile: with no descriptor left on it
        # the terminal reports end of file, as sshd would see it)
        assert lp.run("exec 3</dev/tty >/dev/null 2>&1 </dev/null")[0] == 0
        assert lp.run("echo back-$((2+3))")[0] == 0
        assert b"back-5" in lp.shown
        assert lp.run("enable -n printf read kill")[0] == 0
        assert lp.run("type -t printf read kill > builtins")[0] == 0
        assert open(os.path.join(d, "builtins")).read().split() == ["builtin"] * 3
        for n in ("func-ran", "printf-ran", "read-ran", "stty-ran", "winch-ran",
                  "err-ran", "exit-ran", "arith-ran"):
            assert not os.path.exists(os.path.join(d, n)), n
        assert lp.exit() == 0
        assert not os.path.exists(os.path.join(d, "exit-ran"))
    with_loop(body)


def test_startup_files_and_environment_do_not_reach_the_loop():
    """A hostile login environment (BASH_ENV, ENV, an exported function,
    LESSOPEN, HISTFILE) and startup files in HOME: none of them acts in the
    loop or its commands; the pagers are the safe ones."""
    def body(env, lp):
        lp.start()
        out = env.path("env.txt")
        assert lp.run("env > %s; type echo ls; echo x" % out)[0] == 0
        seen = open(out).read()
        for bad in ("BASH_ENV", "ENV=", "BASH_FUNC", "LESSOPEN", "HISTFILE", "_sb_", "SECRET_VAR"):
            assert bad not in seen, bad
        for good in ("LESSSECURE=1", "SYSTEMD_PAGERSECURE=1", "PAGER=less", "MANPAGER=less",
                     "GIT_PAGER=less", "SYSTEMD_PAGER=less", "HOME=", "LANG=C.UTF-8",
                     "LC_TIME=C.UTF-8", "TERM=xterm"):
            assert good in seen, good
        assert "LESS=" not in seen.replace("LESSSECURE=", "")
        shown = lp.shown.decode()
        assert "echo is a shell builtin" in shown and "function" not in shown
        for f in ("bashenv-ran", "env-ran", "func-ran", "bashrc-ran", "profile-ran"):
            assert not os.path.exists(os.path.join(lp.home, f)), f
    with Env("sboot") as env:
        home = env.path("home")
        os.makedirs(home)
        for rc in (".bashrc", ".bash_profile", ".profile"):
            with open(os.path.join(home, rc), "w") as f:
                f.write("touch ~/%s-ran; alias echo=false\n" % ("bashrc" if rc == ".bashrc" else "profile"))
        with open(os.path.join(home, "bashenv"), "w") as f:
            f.write("[ -n \"$_sb_rg$_sb_s0\" ] && touch ~/bashenv-ran\n")
        hostile = {"BASH_ENV": os.path.join(home, "bashenv"), "ENV": os.path.join(home, "bashenv"),
                   "BASH_FUNC_echo%%": "() { touch ~/func-ran; }", "LESSOPEN": "|touch ~/lessopen %s",
                   "HISTFILE": os.path.join(home, "hist"), "SECRET_VAR": "x", "LC_TIME": "C.UTF-8",
                   "SSH_CLIENT": "127.0.0.1 1 22"}
        # dash as the login shell passes the environment on untouched
        lp = Loop(env, shell="sh", extra_env=hostile)
        try:
            body(env, lp)
        finally:
            lp.stop()


def test_nonce_not_in_any_child_or_echoed():
    """No child process gets the nonce in its arguments or environment; the
    loop's own command line and environment do not hold it; the terminal
    never echoes a line the proxy sent."""
    def body(env, lp):
        lp.start()
        files = {n: env.path(n) for n in ("loopenv", "loopargv", "childenv", "allargv")}
        assert lp.run("tr \"\\000\" \"\\n\" < /proc/$$/environ > %s; "
                      "tr \"\\000\" \"\\n\" < /proc/$$/cmdline > %s; env > %s; ps -eo args > %s"
                      % (files["loopenv"], files["loopargv"], files["childenv"], files["allargv"]))[0] == 0
        for n, p in files.items():
            text = open(p, errors="replace").read()
            assert len(text) > 10, n
            assert lp.nonce not in text, n
        assert "LESSSECURE=1" in open(files["childenv"]).read()
        assert lp.run("stty -a; echo done")[0] == 0
        assert b"done" in lp.shown
        assert lp.nonce.encode() not in lp.shown
    with_loop(body)


def test_terminal_settings_restored_after_a_raw_command():
    def body(env, lp):
        lp.start()
        assert lp.run("stty raw -echo -icanon")[0] == 0
        n0 = len(lp.shown)
        assert lp.run("stty -a")[0] == 0
        out = lp.shown[n0:].decode()
        assert re.search(r"(^|\s)icanon(\s|$)", out), out
        assert re.search(r"(^|\s)echo(\s|$)", out), out
        assert "susp = <undef>" in out, out
    with_loop(body)


def test_directory_markers_any_bytes():
    """The PROMPT's directory for a name with a newline and UTF-8, and empty
    for one longer than 1024 bytes."""
    def body(env, lp):
        lp.start()
        base = env.path("d")
        odd = os.path.join(base.encode(), b"a\nb \xc3\xa9;x")
        os.makedirs(odd)
        st, pwd = lp.run("cd \"$(printf \"%s/a\\nb \\303\\251;x\" " + base + ")\"")
        assert st == 0 and pwd == odd, pwd
        deep = base.encode()
        while len(deep) <= 1100:
            deep = os.path.join(deep, b"x" * 200)
        os.makedirs(deep)
        st, pwd = lp.run("cd " + deep.decode())
        assert st == 0 and pwd == b""
        st, pwd = lp.run("cd /")
        assert pwd == b"/"
    with_loop(body)


def test_longest_line_and_a_flood_of_typeahead():
    """A command of SB_LINE_MAX (3072) bytes reaches bash whole through the
    terminal's line discipline; 6000 bytes typed ahead without a newline
    (more than the terminal's line holds) and then the proxy's line: the
    typeahead never runs, the line does."""
    def body(env, lp):
        lp.start()
        ok = env.path("long-ok")
        head = "touch %s; : " % ok
        cmd = head + "x" * (3072 - len(head) - 4) + " end"
        assert len(cmd) == 3072
        assert lp.run(cmd)[0] == 0 and os.path.exists(ok)
        lp.shown = b""
        assert lp.run("echo \"%s\" | wc -c" % ("y" * 3000))[0] == 0
        assert b"3001" in lp.shown
        flood = env.path("flood")
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 1"))
        time.sleep(0.3)
        lp.t.send(b"touch %s; " % flood.encode() + b"z" * 6000)
        lp.prompt(lp.seq)
        ok2 = env.path("ok2")
        assert lp.run("touch " + ok2)[0] == 0
        assert os.path.exists(ok2) and not os.path.exists(flood)
    with_loop(body)


def test_fake_marker_printed_by_a_command():
    """A program printing a PROMPT marker of its own: the loop's real PROMPT
    still follows with the session's nonce and the right number; the fake
    one carries what the program knows (not the nonce), so the proxy can
    tell them apart."""
    def body(env, lp):
        lp.start()
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "printf \"\\033]5379;p;%s;1;0;2f\\a\" " + "0" * 32))
        k, f = lp.marker("p")
        assert f[0] == "0" * 32 and f[0] != lp.nonce
        assert lp.prompt(lp.seq)[0] == 0
    with_loop(body)


def test_background_readers_are_ended_before_the_next_line():
    """A process left behind by a command, reading the terminal, is ended
    before the loop prompts: it never reads the next line (and its nonce)."""
    def body(env, lp):
        lp.start()
        stolen = env.path("stolen")
        # (a background job's input is /dev/null unless redirected)
        assert lp.run("(sleep 0.5; exec cat > %s) < /dev/tty &" % stolen)[0] == 0
        time.sleep(1)
        assert lp.run("true")[0] == 0
        assert lp.run("true")[0] == 0
        data = open(stolen, "rb").read() if os.path.exists(stolen) else b""
        assert lp.nonce.encode() not in data, data
    with_loop(body)


def test_eof_is_bounded():
    """Ctrl-D typed while a command runs does not end or spin the loop;
    without a terminal, EOF ends it at once."""
    def body(env, lp):
        lp.start()
        lp.seq += 1
        lp.t.send(lp.line(lp.seq, "sleep 1"))
        time.sleep(0.3)
        lp.t.send(b"\x04" * 5)
        lp.prompt(lp.seq)
        ok = env.path("ok")
        assert lp.run("touch " + ok)[0] == 0 and os.path.exists(ok)
        assert lp.exit() == 0
    with_loop(body)
    with Env("sboot") as env:
        cmd = subprocess.run([tool_path("strict-boot-cmd")], check=True,
                             capture_output=True).stdout.decode()
        p = subprocess.Popen(["bash", "-c", cmd], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, _ = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # no terminal: stty fails and the loop never starts
        assert p.returncode != 0 and HELLO not in out


def test_through_a_real_sshd():
    """The same command as the exec request of a real ssh client to a real
    sshd with a terminal: HELLO, a command, the directory, Ctrl-C, the exit
    status at the client; the login's ~/.bashrc (which bash may read for
    commands sshd starts) does not reach the loop's commands."""
    from harness.core import ssh_base
    with Env("sboot") as env:
        key, pub = env.keygen("tech")
        sshd = env.sshd(authorized=[pub])
        with open(os.path.join(sshd.home, ".bashrc"), "w") as f:
            f.write("alias touch=false\nls() { echo hijacked; }\n")
        lp = Loop(env, ssh=ssh_base(sshd.port, key, sshd.login))
        try:
            import pwd as pw
            st, home = lp.start()
            assert st == 0 and home == pw.getpwnam(sshd.login).pw_dir.encode(), home
            ok = env.path("ok")
            assert lp.run("touch %s; ls %s; cd /tmp" % (ok, ok)) == (0, b"/tmp")
            assert os.path.exists(ok) and b"hijacked" not in lp.shown
            lp.seq += 1
            since = proc_ticks()
            lp.t.send(lp.line(lp.seq, "sleep 30"))
            wait_process(["sleep", "30"], since)
            lp.t.send(b"\x03")
            assert lp.prompt(lp.seq, timeout=10)[0] == 130
            assert lp.run("( exit 9 )")[0] == 9
            assert lp.exit() == 9
            assert lp.nonce.encode() not in lp.shown
        finally:
            lp.stop()
