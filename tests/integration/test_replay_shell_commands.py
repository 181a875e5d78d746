"""Commands typed in interactive shells, as escort-replay shows them: sessions
written through the transcript library (tests/tools/rec-mksession) with the
events escort-transcript(5) defines for a strict shell (a DECISION with
SHELL_MODE and CMD_SEQ per command, an EXIT with the same CMD_SEQ at its end)
and an observe shell (DECISIONs only), read by the real escort-replay:
commands (text and --json), audit (text and --json), search, the jump options
of play and screen, export --format json, and a command's exit status never
taken for its channel's or its session's."""
import json, os, subprocess, time

from harness.core import Env, bin_path, tool_path, wait_for

TIMEOUT = 120

# A strict shell: three commands (the second denied, the third exits 1),
# then the shell's own exit status 0 on its channel.  The output after the
# third command comes 2 s later (for play --command).
STRICT = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tchannel\t0\taction=shell",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops\treason=strict",
    "0.5\toutput\t0\t$ ",
    "1.0\toutput\t0\tls -l",
    "1.5\tdecision\t0\tverdict=allow\tcommand=ls -l\trendered=ls -l\trule=ops\trule_line=3"
    "\tshell_mode=strict\tcmd_seq=1",
    "1.6\toutput\t0\t\\r\\ntotal 0\\r\\n$ ",
    "1.7\texit\t0\texit_status=0\tcmd_seq=1\tshell_mode=strict",
    "2.0\toutput\t0\trm -rf /srv",
    "2.5\tdecision\t0\tverdict=deny\tcommand=rm -rf /srv\trule=no-rm\trule_line=7"
    "\treason=rm is not allowed\tshell_mode=strict\tcmd_seq=2",
    "2.6\toutput\t0\t\\r\\nescort: denied by rule no-rm\\r\\n$ ",
    "3.0\toutput\t0\tfalse",
    "3.5\tdecision\t0\tverdict=allow\tcommand=false\trendered=false\trule=ops\trule_line=3"
    "\tshell_mode=strict\tcmd_seq=3",
    "5.5\toutput\t0\t\\r\\nlater\\r\\n$ exit\\r\\n",
    "5.6\texit\t0\texit_status=1\tcmd_seq=3\tshell_mode=strict",
    "5.7\texit\t0\texit_status=0",
    "5.8\tchannel\t0\taction=close",
]

# An observe shell (network gear): commands read from the screen, decided
# and recorded, no exit status of their own; the session's channel exits 4.
OBSERVE = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=net\treason=observe",
    "0.4\toutput\t0\tswitch# ",
    "1.0\toutput\t0\tshow running-config",
    "1.2\tdecision\t0\tverdict=allow\tcommand=show running-config\trule=net\trule_line=2"
    "\tshell_mode=observe\tcmd_seq=1",
    "1.3\toutput\t0\t\\r\\nhostname switch\\r\\nswitch# ",
    "2.0\toutput\t0\treload",
    "2.2\tdecision\t0\tverdict=deny\tcommand=reload\trule=no-reload\trule_line=5"
    "\treason=reload is not allowed\tshell_mode=observe\tcmd_seq=2",
    "2.3\toutput\t0\t\\r\\nescort: WARNING: reload is denied by rule no-reload\\r\\n",
    "3.0\texit\t0\texit_status=4",
]

# A strict shell cut off: its last command's EXIT is there, the channel's
# own exit status is not (the client was lost).
CUT = [
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops\treason=strict",
    "1.0\tdecision\t0\tverdict=allow\tcommand=true\trendered=true\trule=ops\trule_line=3"
    "\tshell_mode=strict\tcmd_seq=1",
    "1.1\texit\t0\texit_status=0\tcmd_seq=1\tshell_mode=strict",
    "1.5\tend\t0\tend_kind=client-lost\tend_by=proxy\treason=connection reset",
]

# An exec request with its channel's exit status.
EXEC = [
    "0.1\tchannel\t0\taction=exec\tcommand=uptime",
    "0.1\tdecision\t0\tverdict=allow\tcommand=uptime\trendered=uptime\trule=ops\trule_line=3",
    "0.3\toutput\t0\t up 3 days\\r\\n",
    "0.4\texit\t0\texit_status=2",
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
    for sid, user, lines in (("s1-strict", "alice", STRICT), ("s2-observe", "alice", OBSERVE),
                             ("s3-cut", "carol", CUT), ("s4-exec", "bob", EXEC)):
        script = env.write(sid + ".txt", "\n".join(lines) + "\n")
        r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                            "--id", sid, "--user", user, script],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r
        time.sleep(0.01)  # start times in id order
    with open(os.path.join(store, "public-key.pem"), "wb") as f, open(pub, "rb") as g:
        f.write(g.read())
    return store


def rows(r):
    assert r.returncode == 0, r
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def test_commands_lists_shell_commands_in_order():
    with Env() as env:
        store = make_store(env)
        got = rows(replay(store, "commands", "s1-strict", "--json"))
        assert [(c["n"], c["mode"], c["seq"], c["command"], c["decision"], c["rule"],
                 c["exit_status"]) for c in got] == [
            (1, "exec", None, "(shell)", "allow", "ops", 0),
            (2, "strict", 1, "ls -l", "allow", "ops", 0),
            (3, "strict", 2, "rm -rf /srv", "deny", "no-rm", None),
            (4, "strict", 3, "false", "allow", "ops", 1)], got
        assert [c["offset"] for c in got] == [0.2, 1.5, 2.5, 3.5], got
        assert got[1]["rendered"] == "ls -l" and got[2]["rendered"] is None, got
        assert got[2]["reason"] == "rm is not allowed" and got[2]["rule_line"] == 7, got
        for c in got:
            for k in ("time", "command", "decision", "mode", "seq", "exit_status", "offset"):
                assert k in c, (k, c)
        obs = rows(replay(store, "commands", "s2-observe", "--json"))
        assert [(c["mode"], c["seq"], c["command"], c["decision"], c["exit_status"])
                for c in obs] == [
            ("exec", None, "(shell)", "allow", 4),
            ("observe", 1, "show running-config", "allow", None),
            ("observe", 2, "reload", "deny", None)], obs
        # the text rows: number, offset, mode:seq, verdict, rule, exit, command
        r = replay(store, "commands", "s1-strict")
        assert r.returncode == 0, r
        lines = r.stdout.decode().splitlines()
        assert len(lines) == 4, lines
        assert lines[1].split(" ", 1)[1] == \
            "s1-strict alice web01 #2 +1.500 strict:1 allow   ops exit=0 ls -l", lines
        assert lines[2].endswith(" #3 +2.500 strict:2 deny    no-rm exit=- rm -rf /srv"), lines
        assert lines[3].endswith(" #4 +3.500 strict:3 allow   ops exit=1 false"), lines
        # across the store and per user
        r = replay(store, "commands", "--user", "alice")
        assert r.returncode == 0, r
        out = r.stdout.decode()
        assert "s4-exec" not in out and "s3-cut" not in out, out
        assert out.index("rm -rf /srv") < out.index("observe:2 deny    no-reload exit=- reload"), out
        every = rows(replay(store, "commands", "--json"))
        assert len(every) == 4 + 3 + 2 + 1, every
        ex = [c for c in every if c["id"] == "s4-exec"]
        assert [(c["mode"], c["seq"], c["exit_status"]) for c in ex] == [("exec", None, 2)], ex


def test_command_exit_is_not_the_session_exit():
    with Env() as env:
        store = make_store(env)
        # the shell's channel exited 0 after its last command exited 1
        got = rows(replay(store, "commands", "s1-strict", "--json"))
        assert got[0]["command"] == "(shell)" and got[0]["exit_status"] == 0, got
        assert got[3]["exit_status"] == 1, got
        # cut off: the command's exit 0 is not the shell's, which is unknown
        cut = rows(replay(store, "commands", "s3-cut", "--json"))
        assert [(c["command"], c["exit_status"]) for c in cut] == \
            [("(shell)", None), ("true", 0)], cut
        lst = {o["id"]: o for o in rows(replay(store, "list", "--json"))}
        assert lst["s1-strict"]["status"] == "closed", lst
        assert lst["s3-cut"]["status"] == "closed", lst
        r = replay(store, "audit", "--user", "carol")
        assert r.returncode == 0, r
        out = r.stdout.decode()
        assert "allow   ops: (shell)\n" in out, out          # no "(exit 0)" on the shell
        assert "allow   ops: true (strict #1 at +1.000s, exit 0)" in out, out
        assert "ended   client-lost: connection reset" in out, out
        aud = rows(replay(store, "audit", "--user", "carol", "--json"))
        assert aud[0]["end_kind"] == "client-lost" and aud[0]["status"] == "closed", aud
        assert [(c["command"], c["exit_status"]) for c in aud[0]["command_list"]] == \
            [("(shell)", None), ("true", 0)], aud


def test_audit_lists_shell_commands_per_person():
    with Env() as env:
        store = make_store(env)
        r = replay(store, "audit")
        assert r.returncode == 0, r
        out = r.stdout.decode()
        alice = out[out.index("user alice"):out.index("user bob") if "user bob" in out
                    and out.index("user bob") > out.index("user alice") else None]
        assert "allow   ops: (shell) (exit 0)" in alice, alice
        assert "allow   ops: ls -l (strict #1 at +1.500s, exit 0)" in alice, alice
        assert "deny    no-rm: rm -rf /srv (strict #2 at +2.500s)\n" in alice, alice
        assert "allow   ops: false (strict #3 at +3.500s, exit 1)" in alice, alice
        assert "allow   net: show running-config (observe #1 at +1.200s)" in alice, alice
        assert "deny    no-reload: reload (observe #2 at +2.200s)" in alice, alice
        assert alice.index("ls -l (strict") < alice.index("rm -rf /srv (strict") < \
            alice.index("false (strict") < alice.index("reload (observe"), alice
        assert "total: 2 sessions, 7 commands, 2 denied, 0 approved, 0 uploads" in alice, alice
        assert "allow   ops: uptime (exit 2)" in out, out
        aud = {o["id"]: o for o in rows(replay(store, "audit", "--json"))}
        s1 = aud["s1-strict"]
        assert (s1["user"], s1["commands"], s1["denied"]) == ("alice", 4, 1), s1
        assert [(c["n"], c["mode"], c["seq"], c["command"], c["decision"], c["exit_status"])
                for c in s1["command_list"]] == [
            (1, "exec", None, "(shell)", "allow", 0),
            (2, "strict", 1, "ls -l", "allow", 0),
            (3, "strict", 2, "rm -rf /srv", "deny", None),
            (4, "strict", 3, "false", "allow", 1)], s1
        assert [c["mode"] for c in aud["s2-observe"]["command_list"]] == \
            ["exec", "observe", "observe"], aud


def test_search_finds_shell_commands():
    with Env() as env:
        store = make_store(env)
        r = replay(store, "search", "command 'rm -rf *'")
        assert r.returncode == 0, r
        assert [l.split()[0] for l in r.stdout.decode().splitlines()] == ["s1-strict"], r.stdout
        r = replay(store, "search", "command reload and verdict deny")
        assert r.returncode == 0, r
        assert [l.split()[0] for l in r.stdout.decode().splitlines()] == ["s2-observe"], r.stdout
        r = replay(store, "search", "mode observe")
        assert [l.split()[0] for l in r.stdout.decode().splitlines()] == ["s2-observe"], r
        r = replay(store, "search", "mode strict")
        assert [l.split()[0] for l in r.stdout.decode().splitlines()] == \
            ["s1-strict", "s3-cut"], r
        r = replay(store, "search", "mode exec and not mode strict and not mode observe")
        assert [l.split()[0] for l in r.stdout.decode().splitlines()] == ["s4-exec"], r
        r = replay(store, "search", "command shutdown")
        assert r.returncode == 1 and r.stdout == b"", r


def test_screen_and_play_jump_to_a_command():
    with Env() as env:
        store = make_store(env)
        # the screen just before command 3 (the denied rm): typed, not answered
        r = replay(store, "screen", "s1-strict", "--command", "3")
        assert r.returncode == 0, r
        assert r.stdout.decode().splitlines() == ["$ ls -l", "total 0", "$ rm -rf /srv"], r.stdout
        # the same as --at with the offset commands gives, less the decision's own instant
        r2 = replay(store, "screen", "s1-strict", "--at", "2.4")
        assert r2.stdout == r.stdout, (r.stdout, r2.stdout)
        r = replay(store, "screen", "s1-strict", "--command", "5")
        assert r.returncode == 1 and b"no command number 5" in r.stderr, r
        for bad in ("0", "x", "-1"):
            r = replay(store, "screen", "s1-strict", "--command", bad)
            assert r.returncode == 2 and b"--command wants a command number" in r.stderr, r
        r = replay(store, "screen", "s1-strict", "--command", "2", "--at", "1")
        assert r.returncode == 2 and b"usage" in r.stderr, r
        # play --command 4: what came before at once, the 2 s after it in time
        full = replay(store, "cat", "s1-strict").stdout
        before = b"$ ls -l\r\ntotal 0\r\n$ rm -rf /srv\r\nescort: denied by rule no-rm\r\n$ false"
        assert full.startswith(before) and len(full) > len(before), full
        log = env.path("play.out")
        with open(log, "wb") as out:
            t0 = time.monotonic()
            p = subprocess.Popen([bin_path("escort-replay"), "--store", store, "play",
                                  "s1-strict", "--command", "4"], stdout=out,
                                 stderr=subprocess.PIPE, start_new_session=True)
            try:
                def read():
                    with open(log, "rb") as f:
                        return f.read()
                first = wait_for(lambda: read() if len(read()) >= len(before) else None,
                                 timeout=5, what="the output before command 4")
                assert time.monotonic() - t0 < 1.5, "the start was played in time"
                assert first == before, first
                p.wait(timeout=20)
                took = time.monotonic() - t0
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait(5)
        assert p.returncode == 0, p.stderr.read()
        assert read() == full, read()
        assert 1.5 <= took < 10, took        # 2 s after the command, not the 5.5 s from the start
        r = replay(store, "play", "s1-strict", "--command", "9")
        assert r.returncode == 1 and r.stdout == b"" and b"no command number 9" in r.stderr, r


def test_export_names_the_new_fields():
    with Env() as env:
        store = make_store(env)
        evs = rows(replay(store, "export", "s1-strict", "--format", "json"))
        dec = [e for e in evs if e["type"] == "decision"]
        f = {x["name"]: x["value"] for x in dec[1]["fields"]}
        assert (f["command"], f["shell_mode"], f["cmd_seq"], f["rendered"]) == \
            ("ls -l", "strict", 1, "ls -l"), dec[1]
        ex = [e for e in evs if e["type"] == "exit"]
        names = [{x["name"]: x["value"] for x in e["fields"]} for e in ex]
        assert names == [{"exit_status": 0, "cmd_seq": 1, "shell_mode": "strict"},
                         {"exit_status": 1, "cmd_seq": 3, "shell_mode": "strict"},
                         {"exit_status": 0}], names
        r = replay(store, "export", "s1-strict", "--format", "text")
        assert r.returncode == 0 and b"$ rm -rf /srv\nescort: denied by rule no-rm\n" in r.stdout, r
        r = replay(store, "export", "s1-strict", "--format", "asciicast")
        assert r.returncode == 0, r
        frames = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert frames[0]["version"] == 2 and frames[0]["width"] == 80, frames[0]
        assert "".join(fr[2] for fr in frames[1:] if fr[1] == "o") == \
            replay(store, "cat", "s1-strict").stdout.decode(), frames
