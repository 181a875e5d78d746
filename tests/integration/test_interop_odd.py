"""Odd things users do with real SSH clients through escort-proxy: no target,
unknown or miscased targets, ssh -N then an interrupt, ssh -T shells, locale
variables, very long and binary-ish command lines, several channels over one
OpenSSH ControlMaster connection, and a client killed mid-output. After each,
the proxy still serves and the recordings are closed and verify."""
import os, signal, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import DEFAULT_RULES, ProxyWorld, strip_banner
from harness.interop import assert_recorded, banner_id, pinned_target, sessions

TIMEOUT = 60
# one-second keepalives: this runs alone (tests/run.py -j)
SERIAL = ["test_client_keepalives_answered"]


def _healthy(w):
    """The proxy is alive and still runs a command end to end."""
    assert w.proxy.alive(), w.proxy.log()[-3000:]
    r = w.ssh("alice", "web01", "echo still-here")
    assert r.returncode == 0 and r.stdout == b"still-here\n", r


def test_no_target_lists_targets():
    with Env("interop") as env:
        w = ProxyWorld(env)
        r = w.ssh("alice")
        assert r.returncode == 0, r
        assert b"web01" in r.stdout, r
        r = w.ssh("alice", None, "anything")
        assert b"web01" in r.stdout + r.stderr, r


def test_unknown_and_miscased_target_refused_clearly():
    with Env("interop") as env:
        w = ProxyWorld(env)
        mark = env.path("target-files", "ran")
        for target in ("WEB01", "nosuch", "web01.example"):
            r = w.ssh("alice", target, "echo x > " + mark)
            assert r.returncode != 0 and r.stdout == b"", r
            err = r.stderr.decode()
            assert target in err and "no such target" in err, r
        assert not os.path.exists(mark)
        # an unknown user learns nothing about targets
        r = w.ssh("mallory", "web01", "true", key=w.mallory_key)
        assert r.returncode == 255 and b"web01" not in r.stdout, r
        _healthy(w)


def _ssh_n_then(sig):
    with Env("interop") as env:
        w = ProxyWorld(env)
        p = env.start("ssh-N", w.ssh_argv("alice", "web01", extra=("-N",)))
        wait_for(lambda: len(sessions(w)) == 1, 15, 0.1, what="the -N session to be recorded")
        time.sleep(0.3)
        assert p.alive(), p.log()
        p.stop(sig)
        assert_recorded(w, count=1)
        _healthy(w)
        assert_recorded(w, count=2)


def test_ssh_N_then_ctrl_c():
    _ssh_n_then(signal.SIGINT)


def test_ssh_N_then_sigterm():
    _ssh_n_then(signal.SIGTERM)


def test_dbclient_and_plink_N_then_sigterm():
    from harness.interop import client_env, dbclient_argv, plink_argv
    with Env("interop") as env:
        w = ProxyWorld(env)
        for n, (name, argv) in enumerate((("dbclient-N", dbclient_argv(w, "alice:web01", extra=("-N",))),
                                          ("plink-N", plink_argv(w, "alice:web01", extra=("-N",))))):
            p = env.start(name, argv, env=client_env(w))
            wait_for(lambda: len(sessions(w)) == n + 1, 15, 0.1, what=name + " to be recorded")
            time.sleep(0.3)
            assert p.alive(), p.log()
            p.stop(signal.SIGTERM)
            assert_recorded(w, count=n + 1)
        _healthy(w)


def test_ssh_T_shell_without_pty():
    with Env("interop") as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", None, extra=("-T",),
                  input=b"echo no-tty; test -t 0 || echo not-a-tty; echo oops >&2; exit 6\n")
        assert r.stdout == b"no-tty\nnot-a-tty\n", r
        # observe mode: the line is read, decided and warned about on stderr
        assert strip_banner(r.stderr) == "escort: warning: no rule allows this command (no rule " \
            "allows 'test -t 0'); observe mode does not stop it; it is recorded\noops\n", r
        assert r.returncode == 6, r
        assert_recorded(w, banner_id(r.stderr))


def test_locale_env_passes_other_env_does_not():
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        t = env.sshd(authorized=[pub], extra="AcceptEnv LANG LC_* FOO\n")
        w = ProxyWorld(env, extra_targets=pinned_target("webenv", t, key),
                       rules=DEFAULT_RULES.replace("exec yes\n", "exec yes\n    env LANG LC_*\n"))
        script = env.write("showenv.sh", 'printf "%s|" "$LANG" "$LC_TIME" "$FOO"\n')
        e = dict(os.environ, LANG="C.UTF-8", LC_TIME="POSIX", FOO="leak")
        argv = w.ssh_argv("alice", "webenv", "sh " + script,
                          extra=("-o", "SendEnv=LANG LC_* FOO"))
        r = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 0, r
        assert r.stdout == b"C.UTF-8|POSIX||", r
        assert_recorded(w, banner_id(r.stderr))


def test_long_command_lines():
    """50 KB of arguments run intact; 100 KB is beyond the policy engine's
    64 KiB line limit and is refused with that reason, nothing run."""
    with Env("interop") as env:
        w = ProxyWorld(env)
        arg = "x" * (50 * 1024)
        r = w.ssh("alice", "web01", "echo " + arg)
        assert r.returncode == 0 and r.stdout == arg.encode() + b"\n", r.stderr
        mark = env.path("target-files", "ran")
        r = w.ssh("alice", "web01", "sh -c 'touch %s' %s" % (mark, "y" * (100 * 1024)))
        assert r.returncode != 0 and r.stdout == b"", r
        assert b"denied" in r.stderr and b"longer than" in r.stderr, r
        assert not os.path.exists(mark)
        assert_recorded(w, count=2)
        _healthy(w)


def test_binaryish_bytes_in_arguments():
    with Env("interop") as env:
        w = ProxyWorld(env)
        odd = bytes(b for b in range(1, 256) if b not in b"'\n")
        argv = [os.fsencode(a) for a in w.ssh_argv("alice", "web01")]
        argv.append(b"printf '%s\\n' '" + odd + b"'")
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 0, r
        assert r.stdout == odd + b"\n", r
        assert_recorded(w, banner_id(r.stderr))


def test_controlmaster_two_execs_one_connection():
    with Env("interop") as env:
        w = ProxyWorld(env)
        ctl = env.path("ctl", "m")
        mux = ("-o", "ControlPath=" + ctl)
        master = env.start("ssh-master", w.ssh_argv("alice", "web01",
                                                    extra=("-N", "-o", "ControlMaster=yes") + mux))
        wait_for(lambda: os.path.exists(ctl) or not master.alive(), 15, what="control socket")
        assert master.alive(), master.log()
        outs = []
        for i in range(2):
            r = w.ssh("alice", "web01", "sh -c 'echo chan%d; exit %d'" % (i, 10 + i),
                      extra=("-o", "ControlMaster=no") + mux)
            outs.append(r)
            assert r.stdout == b"chan%d\n" % i and r.returncode == 10 + i, r
        # concurrently: two channels open at once on the one connection
        ps = [subprocess.Popen(w.ssh_argv("alice", "web01", "sh -c 'sleep 0.5; echo par%d'" % i,
                                          extra=("-o", "ControlMaster=no") + mux),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL) for i in range(2)]
        for i, p in enumerate(ps):
            out, err = p.communicate(timeout=30)
            assert p.returncode == 0 and out == b"par%d\n" % i, (out, err)
        assert len(sessions(w)) == 1, sessions(w)
        r = subprocess.run(w.ssh_argv("alice", "web01", extra=("-O", "exit") + mux),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=15)
        assert r.returncode == 0, r
        master.p.wait(15)
        assert_recorded(w, count=1)
        _healthy(w)


def test_client_killed_mid_output():
    with Env("interop") as env:
        w = ProxyWorld(env)
        word = "flood-%d" % os.getpid()  # names this test's command on the target
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "yes " + word), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            got = b""
            deadline = time.monotonic() + 20
            while len(got) < (1 << 20) and time.monotonic() < deadline:
                got += p.stdout.read1(65536)
            assert got.startswith(word.encode() + b"\n") and len(got) >= (1 << 20), len(got)
            os.kill(p.pid, signal.SIGKILL)
        finally:
            p.kill()
            p.wait(10)
            p.stdout.close()
            p.stderr.close()
        assert_recorded(w, count=1)
        _healthy(w)

        # the target's command did not outlive the session
        def gone():
            r = subprocess.run(["pgrep", "-f", "yes " + word], stdout=subprocess.PIPE)
            return r.returncode == 1
        wait_for(gone, 15, 0.2, what="'yes %s' to end on the target" % word)


def test_target_killed_mid_session():
    """The target's connection process dies (sshd, dropbear): the client hears
    at once that the connection to the target was lost, and exits 255."""
    from harness.interop import Dropbear
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        db = Dropbear(env, [pub])
        w = ProxyWorld(env, extra_targets=pinned_target("webdb", db, key))
        for target, server in (("webdb", db.proc), ("web01", w.target.proc)):
            mark = env.path("target-files", "started-" + target)
            script = env.write("start-%s.sh" % target,
                               "echo $$ > %s.tmp && mv %s.tmp %s; exec sleep 30\n" % (mark, mark, mark))
            p = subprocess.Popen(w.ssh_argv("alice", target, "sh " + script),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
            try:
                # the command runs (the login's shell start-up is over)
                wait_for(lambda: os.path.exists(mark), 30, 0.1, what="the command to start")
                r = subprocess.run(["pgrep", "-P", str(server.pid)], stdout=subprocess.PIPE)
                kids = [int(x) for x in r.stdout.split()]
                assert kids, "no connection process under %s" % server.name
                for k in kids:
                    os.kill(k, signal.SIGKILL)
                out, err = p.communicate(timeout=15)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
                if os.path.exists(mark):  # the orphaned command on the target
                    try:
                        os.kill(int(open(mark).read()), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
            assert p.returncode == 255, (target, p.returncode, err)
            assert b"connection to the target lost" in err, (target, err)
        assert_recorded(w, count=2)
        r = w.ssh("alice", "webdb", "echo x")
        assert r.returncode == 0 and r.stdout == b"x\n", r


def test_client_keepalives_answered():
    """Clients that probe the server (ssh ServerAliveInterval, dbclient -K)
    get answers from the proxy and keep a quiet session."""
    from harness.interop import client_env, dbclient_argv, run
    with Env("interop") as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "sleep 3", extra=("-o", "ServerAliveInterval=1",
                                                      "-o", "ServerAliveCountMax=1"))
        assert r.returncode == 0, r
        r = run(dbclient_argv(w, "alice:web01", "sleep 3", extra=("-K", "1")), env=client_env(w))
        assert r.returncode == 0, r
        assert_recorded(w, count=2)


def test_client_offering_only_refused_cipher():
    """A client that insists on AES-GCM (left out of the proxy's offer) is told
    by its own ssh which ciphers the proxy offers; nothing is recorded and the
    proxy goes on serving."""
    with Env("interop") as env:
        w = ProxyWorld(env)
        # at the client's default log level, as a user runs it
        argv = [a if a != "LogLevel=ERROR" else "LogLevel=INFO"
                for a in w.ssh_argv("alice", "web01", "true", extra=("-c", "aes256-gcm@openssh.com"))]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 255, r
        err = r.stderr.decode()
        # Usually ssh names the proxy's offer; when the proxy's side of the
        # failed key exchange closes first, ssh only sees the connection close.
        assert ("no matching cipher" in err and "chacha20-poly1305@openssh.com" in err) or \
            "Connection closed" in err or "Connection reset" in err, r
        assert sessions(w) == {}
        _healthy(w)
