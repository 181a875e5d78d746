"""escort-proxy refusals: what the technician sees, and that nothing ran on
the target (marker files that the refused commands would have created)."""
import os, signal, subprocess, time
from harness.core import Env, bin_path, wait_for
from harness.proxy import ProxyWorld, strip_banner

TIMEOUT = 120


def test_wrong_key_refused():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo hi", key=w.mallory_key)
        assert r.returncode == 255, r
        assert b"Permission denied" in r.stderr, r
        assert r.stdout == b""
        assert "refused" in w.proxy.log()


def test_unknown_target_and_listing():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "db99", "echo hi")
        assert r.returncode == 77, r
        assert b"access to db99 refused" in r.stderr, r
        assert r.stdout == b""
        r = w.ssh("alice", None, None, timeout=20)
        assert r.returncode == 0, r
        assert r.stdout.split() == [b"web01"], r


def test_pinned_host_key_mismatch():
    with Env() as env:
        _, other = env.keygen("impostor_host")
        w = ProxyWorld(env, pin=other)
        mark = w.marker("ran")
        r = w.ssh("alice", "web01", "cp /etc/hostname " + mark)
        assert r.returncode == 1, r
        err = r.stderr.decode()
        assert "HOST KEY MISMATCH" in err, err
        fp = subprocess.run(["ssh-keygen", "-lf", w.target.hostkey + ".pub"], capture_output=True,
                            text=True).stdout.split()[1]
        assert fp in err, (fp, err)
        assert not os.path.exists(mark)


def test_denied_commands_do_not_run():
    with Env() as env:
        w = ProxyWorld(env)
        mark = w.marker("pwned")
        tricks = [
            "echo hi; cp /etc/hostname %s" % mark,
            "echo hi && cp /etc/hostname %s" % mark,
            "echo $(cp /etc/hostname %s)" % mark,
            "echo `cp /etc/hostname %s`" % mark,
            "ec''ho hi | sh -c 'cp /etc/hostname %s'" % mark,
            "'c'p /etc/hostname %s" % mark,
            "\\cp /etc/hostname %s" % mark,
            "echo hi > %s" % mark,
            "cp${IFS}/etc/hostname${IFS}%s" % mark,
            "rm -rf /tmp/nothing-here",
        ]
        for cmd in tricks:
            r = w.ssh("alice", "web01", cmd)
            assert r.returncode == 77, (cmd, r)
            assert b"escort: command denied" in r.stderr or b"not allowed" in r.stderr, (cmd, r)
            assert r.stdout == b"", (cmd, r)
        assert not os.path.exists(mark)
        # an allowed command does run
        r = w.ssh("alice", "web01", "echo allowed")
        assert r.returncode == 0 and r.stdout == b"allowed\n", r


def test_port_forwarding_refused():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", None,
                  extra=("-N", "-W", "127.0.0.1:%d" % w.target.port), timeout=30)
        assert r.returncode != 0, r
        assert b"forwarding failed" in r.stderr or b"open failed" in r.stderr or b"administratively prohibited" in r.stderr, r
        assert "refused port forwarding" in w.proxy.log()


def test_recorder_down_at_start():
    with Env() as env:
        w = ProxyWorld(env, start_recorder=False)
        mark = w.marker("ran")
        r = w.ssh("alice", "web01", "echo hi > " + mark)
        assert r.returncode == 1, r
        assert b"recorder is unavailable" in r.stderr, r
        assert not os.path.exists(mark)


ESCORT_RULES = """
rule escorted {
    who user:alice
    where target:web02
    escort user:alice
    shell observe
    exec yes
    allow "echo ..."
}
"""


def test_required_escort_waits_never_unsupervised():
    """A policy asking for an escort loads (escort-proxy -t and a reload);
    a session it admits never reaches the target unless an escort joins:
    here nobody can (an escort never supervises their own session), so
    EscortWaitTimeout ends it, told to the technician, and nothing ran;
    the sessions it does not cover go on as before."""
    with Env() as env:
        id_key, _ = env.keygen("proxy_to_target")
        _, web02_host = env.keygen("web02_host")
        web02 = 'target web02 {\n    address 127.0.0.1:1\n    login nobody\n' \
                '    identity %s\n    hostkey "%s"\n}\n' % (id_key, " ".join(web02_host.split()[:2]))
        w = ProxyWorld(env, extra_targets=web02, extra_conf="EscortWaitTimeout 2\n")
        with open(w.policy_path, "a") as f:
            f.write(ESCORT_RULES)
        t = subprocess.run([bin_path("escort-proxy"), "-t", "-f", w.conf], capture_output=True,
                           timeout=30)
        out = t.stderr.decode()
        assert t.returncode == 0, out
        n = len(w.proxy.log())
        w.proxy.send(signal.SIGHUP)
        wait_for(lambda: "reloaded; policy" in w.proxy.log()[n:], 15, 0.1, what="reload")
        r = w.ssh("alice", "web01", None, extra=("-tt",), input=b"echo SHELL-RAN\nexit\n", timeout=30)
        assert r.returncode == 0 and b"SHELL-RAN" in r.stdout, r   # shell observe, as before
        mark = w.marker("escorted")
        r = w.ssh("alice", "web02", "echo hi > " + mark, timeout=30)
        assert r.returncode != 0 and r.stdout == b"" and not os.path.exists(mark), r
        assert b"escort: waiting for an escort to join: user:alice" in r.stderr, r
        assert b"escort: no escort joined within 2 s; session ended" in r.stderr, r


def test_agent_forwarding_refused_and_logged():
    """ssh -A: the target gets no agent socket, and the refusal is logged
    (escort-proxy(8): agent forwarding is refused and logged)."""
    with Env() as env:
        w = ProxyWorld(env)
        sock = env.path("agent.sock")
        env.start("ssh-agent", ["ssh-agent", "-D", "-a", sock])
        wait_for(lambda: os.path.exists(sock), 10, what="ssh-agent to listen")
        # ssh_base's IdentityAgent=none would turn -A off: the agent is
        # given here through SSH_AUTH_SOCK, as a technician's shell has it
        argv = ["ssh", "-F", "/dev/null", "-p", str(w.port), "-i", w.alice_key,
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=" + w.known_hosts,
                "-o", "ConnectTimeout=10", "-A", "-l", "alice:web01", "127.0.0.1",
                "cat /proc/self/environ"]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30,
                           env=dict(os.environ, SSH_AUTH_SOCK=sock))
        assert r.returncode == 0, r
        assert b"SSH_AUTH_SOCK" not in r.stdout, r.stdout
        wait_for(lambda: "refused agent forwarding" in w.proxy.log(), 5,
                 what="the proxy to log the refused agent forwarding")


def test_target_down_names_the_reason():
    """A target whose sshd does not listen: the technician is told why
    (connection refused), exit status 1, nothing else."""
    with Env() as env:
        from harness.core import free_port
        w = ProxyWorld(env)
        closed = free_port()
        with open(w.policy_path) as f:
            text = f.read()
        with open(w.policy_path, "w") as f:
            f.write(text.replace("address 127.0.0.1:%d" % w.target.port,
                                 "address 127.0.0.1:%d" % closed))
        w.proxy.send(signal.SIGHUP)
        wait_for(lambda: "reloaded; policy" in w.proxy.log(), 10, what="the reload")
        r = w.ssh("alice", "web01", "echo hi", timeout=30)
        assert r.returncode == 1, r
        assert b"escort: cannot connect to target web01: Connection refused" in r.stderr, r.stderr


def test_client_text_echoed_without_control_bytes():
    """What the proxy says back quoting the client (a refused target, an
    unknown command, rules TARGET) carries no control byte or DEL from it:
    each becomes '?', so no escape sequence reaches the terminal through
    the proxy's own messages."""
    esc = "\x1b]0;owned\x07\x1b[2J\x7f"
    shown = "?]0;owned??[2J?"
    from harness.interop import client_env, dbclient_argv
    with Env() as env:
        w = ProxyWorld(env)
        # OpenSSH's ssh will not send such a user name; Dropbear's dbclient does
        r = subprocess.run(dbclient_argv(w, "alice:db" + esc + "99", "echo hi"),
                           env=client_env(w), stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        assert r.returncode == 77, r
        assert ("access to db%s99 refused" % shown).encode() in r.stderr, r
        assert b"\x1b" not in r.stderr and b"\x07" not in r.stderr, r
        r = w.ssh("alice", None, "frob" + esc)
        assert r.returncode == 2, r
        assert ('unknown command "frob%s"' % shown).encode() in r.stderr, r
        r = w.ssh("alice", None, "rules db" + esc + "99")
        assert r.returncode == 1, r
        assert ("alice may not open a session on db%s99" % shown).encode() in r.stdout, r
        for out in (r.stdout, r.stderr):
            assert not any(b < 0x20 and b not in b"\t\n" or b == 0x7f for b in out), out
