"""escort-replay play on a terminal, driven through a real pseudo-terminal
(harness Term): space pauses (no output while paused) and resumes, '.'
steps one event while paused, n jumps to the next command (the screen as it
stood just before it), the right arrow seeks 5 s on, q quits; the
terminal's settings (stty -g) are the same after q and after SIGTERM as
before; a terminal smaller than the recording gets a warning; --from starts
later.  Without a terminal, play writes the output as before.  The session
is written through the transcript library (tests/tools/rec-mksession) and
read by the real escort-replay."""
import os, select, signal, subprocess, time

from harness.core import Env, bin_path, tool_path, wait_for
from harness.term import Term


def script():
    """ticks every 0.25 s; commands typed at 2.0 s and 4.0 s."""
    out = ["0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
           "0.2\tchannel\t0\taction=shell",
           "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops"]
    for i in range(40):
        t = 0.5 + i * 0.25
        if i in (6, 14):
            out.append("%.3f\tdecision\t0\tverdict=allow\tcommand=date\trule=ops\t"
                       "cmd_seq=%d\tshell_mode=observe" % (t, i))
        out.append("%.3f\toutput\t0\ttick %02d\\r\\n" % (t, i))
    return out


def make(env):
    key = env.path("k.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", env.path("pub.pem")],
                   check=True)
    store = env.path("store")
    path = env.write("s.txt", "\n".join(script()) + "\n")
    r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key, "--id",
                        "s-play", path], capture_output=True, timeout=30)
    assert r.returncode == 0, r
    os.rename(env.path("pub.pem"), os.path.join(store, "public-key.pem"))
    return store


def player(env, store, *args, rows=24, cols=80):
    """A shell in a terminal that saves stty -g, plays, saves it again."""
    cmd = ("stty -g > %s; ESCORT_REPLAY_CACHE=%s %s --store %s play s-play %s; "
           "echo play-exit=$?; stty -g > %s; read x"
           % (env.path("before"), env.path("cache"), bin_path("escort-replay"), store,
              " ".join(args), env.path("after")))
    return Term(["sh", "-c", cmd], rows=rows, cols=cols)


def child_pid(ppid):
    """The escort-replay process started by the shell ppid."""
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[1]) == ppid and "escort-replay" in st[:st.rindex(")")]:
                return int(d)
    return None


def drain(t, secs):
    """What the terminal gets within secs."""
    got, end = b"", time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([t.fd], [], [], max(0, end - time.monotonic()))
        if r:
            try:
                d = os.read(t.fd, 65536)
            except OSError:
                break
            got += d
    t.log += got
    return got


def stop(t):
    """Stops the player (if still there), then the shell, by pid."""
    pid = child_pid(t.pid)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.kill(t.pid, signal.SIGKILL)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def same_stty(env):
    wait_for(lambda: os.path.exists(env.path("after")) and
             os.path.getsize(env.path("after")) > 0, timeout=10, what="stty after")
    before = open(env.path("before")).read()
    after = open(env.path("after")).read()
    assert before == after and before.strip(), (before, after)


def test_pause_step_jump_seek_quit_restore_the_terminal():
    with Env() as env:
        store = make(env)
        t = player(env, store)
        try:
            t.expect(b"space pause")
            t.expect(b"tick 02")
            t.send(b" ")                       # pause
            drain(t, 0.3)                      # what was on its way
            assert b"tick" not in drain(t, 1.2)
            t.send(b".")                       # one event while paused
            assert b"tick" in drain(t, 0.5)
            assert b"tick" not in drain(t, 0.8)
            t.send(b"n")                       # the next command: date at 2.0 s
            got = drain(t, 1.0)
            assert b"tick 05" in got and b"tick 06" not in got, got
            t.send(b"\x1b[C")                  # 5 s on: 7.0 s, ticks 00..26
            got = drain(t, 1.0)
            assert b"tick 26" in got and b"tick 27" not in got, got
            t.send(b" ")                       # resume
            t.expect(b"tick 28")
            t.send(b"q")
            t.expect(b"play-exit=0")
            same_stty(env)
        finally:
            stop(t)


def test_sigterm_restores_the_terminal_and_a_small_terminal_is_warned():
    with Env() as env:
        store = make(env)
        t = player(env, store, rows=10, cols=40)
        try:
            t.expect(b"smaller than the recording's 80x24")
            t.expect(b"tick 01")
            pid = child_pid(t.pid)
            assert pid, "escort-replay not found"
            os.kill(pid, signal.SIGTERM)
            t.expect(b"play-exit=143")
            same_stty(env)
        finally:
            stop(t)


def test_from_starts_later_and_past_the_end_is_an_error():
    with Env() as env:
        store = make(env)
        t = player(env, store, "--from", "5")
        try:
            got = t.expect(b"tick 19")
            assert b"tick 18" in got and b"tick 05" in got, got   # the screen at 5 s
            t.expect(b"play-exit=0", timeout=20)
            same_stty(env)
        finally:
            stop(t)
        t = player(env, store, "--from", "99")
        try:
            t.expect(b"past the end of the session")
            t.expect(b"play-exit=1")
        finally:
            stop(t)


def test_without_a_terminal_the_output_is_written_as_before():
    with Env() as env:
        store = make(env)
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "play", "s-play",
                            "--speed", "100", "--from", "9"],
                           capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r
        assert r.stdout == b"".join(b"tick %02d\r\n" % i for i in range(40)), r.stdout
        # a time past the session's last event (10.25 s) is exit 1 with
        # nothing written, as on a terminal
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "play", "s-play",
                            "--from", "99"],
                           capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 1, r
        assert r.stdout == b"", r.stdout
        assert b"past the end of the session" in r.stderr, r.stderr
