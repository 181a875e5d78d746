"""What a technician's stock client sees of a refusal (escort-proxy(8),
EXIT STATUS and CONNECTING): a policy refusal exits 77 and says so on
stderr, a failing command keeps its own status."""
import os, subprocess
from harness.core import Env
from harness.proxy import ProxyWorld, replay, sftp

DENIED = 77

NOTHING = """
rule nothing-but-sessions {
    who user:alice
    where target:web01
    shell none
}
"""


def shell_status(argv):
    """Runs argv as `CMD; echo $?` would, through sh: the status a shell
    user reads."""
    cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv) + ' 2>/dev/null; echo "$?"'
    r = subprocess.run(["sh", "-c", cmd], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       timeout=60)
    return int(r.stdout.decode().split()[-1])


def test_policy_denial_exits_77():
    with Env() as env:
        w = ProxyWorld(env)
        mark = w.marker("never")
        # denied by a rule, and by default (no rule allows it)
        r = w.ssh("alice", "web01", "rm -rf " + mark)
        assert r.returncode == DENIED and b"escort: command denied" in r.stderr, r
        r = w.ssh("alice", "web01", "touch " + mark)
        assert r.returncode == DENIED and b"escort: command denied" in r.stderr, r
        assert shell_status(w.ssh_argv("alice", "web01", "touch " + mark)) == DENIED
        # a command that runs and fails keeps its own status
        r = w.ssh("alice", "web01", "false")
        assert r.returncode == 1 and b"escort: command denied" not in r.stderr, r
        r = w.ssh("alice", "web01", "sh -c 'exit 5'")
        assert r.returncode == 5, r
        # a target no rule admits
        r = w.ssh("alice", "db99", "true")
        assert r.returncode == DENIED and b"escort: access to db99 refused" in r.stderr, r
        assert not os.path.exists(mark)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_requests_a_target_does_not_allow_exit_77():
    with Env() as env:
        w = ProxyWorld(env, rules=NOTHING)
        r = w.ssh("alice", "web01", "true")
        assert r.returncode == DENIED and b"not allowed on this target" in r.stderr, r
        r = w.ssh("alice", "web01", None, extra=("-tt",), input=b"exit\n")
        assert r.returncode == DENIED and b"interactive shells are not allowed" in r.stderr, r
        # a subsystem the policy refuses: ssh -s passes the status on; sftp
        # itself exits 255 with the proxy's message
        r = w.ssh("alice", "web01", "sftp", extra=("-s",))
        assert r.returncode == DENIED and b'subsystem "sftp" is not allowed' in r.stderr, r
        r = sftp(w, "ls /\n")
        assert r.returncode == 255 and b'subsystem "sftp" is not allowed' in r.stderr, r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_recording_notice_is_an_auth_banner():
    """The notice comes as a userauth banner: ssh shows it on stderr at
    LogLevel INFO, -q and LogLevel=ERROR hide it, and nothing of it is in
    the command's streams."""
    import re
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo out; echo err >&2")
        assert r.returncode == 0 and r.stdout == b"out\n", r
        m = re.fullmatch(rb"escort: session (\S+) is recorded\nerr\n", r.stderr)
        assert m, r.stderr
        sid = m.group(1).decode()
        # what ssh -q gives a script: the command's output alone
        argv = w.ssh_argv("alice", "web01", "echo out; echo err >&2", extra=("-q",))
        cmd = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
        x = subprocess.run(["sh", "-c", 'x=$(%s 2>&1); printf %%s "$x"' % cmd],
                           stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
        assert x.stdout == b"out\nerr", x
        argv = [a if a != "LogLevel=INFO" else "LogLevel=ERROR"
                for a in w.ssh_argv("alice", "web01", "echo quiet")]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == 0 and r.stdout == b"quiet\n" and r.stderr == b"", r
        # sftp shows it as ssh does (its stdout: the batch's echo only)
        r = sftp(w, "pwd\n")
        assert r.returncode == 0 and re.match(rb"escort: session \S+ is recorded\n", r.stderr), r
        # a connection that records nothing gets no banner
        r = w.ssh("alice", "db99", "true")
        assert r.returncode == DENIED and b"is recorded" not in r.stderr, r
        r = w.ssh("alice", None, "targets")
        assert r.returncode == 0 and r.stdout == b"web01\n" and r.stderr == b"", r
        # the banner's id is the recording's
        ids = [l.split('"id":"')[1].split('"')[0] for l in
               replay(w, "list", "--json").stdout.decode().replace(" ", "").splitlines()]
        assert sid in ids, (sid, ids)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


REASONED = """
rule vendors {
    who user:alice
    where target:web01
    sftp both
    deny "... %s/* ..." "vendor data stays on site"
}
"""


def test_sftp_refusal_carries_the_rules_reason():
    """A refused SFTP request is answered SSH_FX_PERMISSION_DENIED with a
    message naming the rule, its line and its reason (kept in the FILE
    record); OpenSSH's sftp prints only its own text for the code ("not
    found", "Permission denied"), so the proxy also writes the message to
    the channel's stderr, which sftp -b shows."""
    from harness.proxy import file_events
    with Env() as env:
        secret = env.path("target-files", "secret", "x")[:-2]
        w = ProxyWorld(env, rules=REASONED % secret)
        with open(os.path.join(secret, "keep.txt"), "w") as f:
            f.write("secret\n")
        got = env.path("got.txt")
        r = sftp(w, "get %s/keep.txt %s\n" % (secret, got))
        err = r.stderr.decode()
        assert r.returncode != 0 and not os.path.exists(got), r
        assert "rule 'vendors'" in err and "vendor data stays on site" in err, err
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        denied = [e for e in file_events(w) if e.get("outcome") == "denied"]
        assert denied and all("vendor data stays on site" in e.get("message", "") for e in denied), denied


def test_client_gone_while_its_authentication_is_held():
    """A target that accepts and never answers keeps the session from being
    ready: the technician's authentication stays unanswered (no banner, no
    success).  The client leaving then frees what was held; the proxy
    serves others and stops cleanly."""
    import signal, socket, time
    from harness.core import wait_for
    with Env() as env:
        mute = socket.socket()
        mute.bind(("127.0.0.1", 0))
        mute.listen(4)
        try:
            id_key, _ = env.keygen("mute_id")
            _, host_pub = env.keygen("mute_host")
            extra = 'target webmute {\n    address 127.0.0.1:%d\n    login nobody\n    identity %s\n' \
                    '    hostkey "%s"\n}\n' % (mute.getsockname()[1], id_key, " ".join(host_pub.split()[:2]))
            w = ProxyWorld(env, extra_targets=extra)
            p = subprocess.Popen(w.ssh_argv("alice", "webmute", "echo never"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                wait_for(lambda: "admitted to webmute" in w.proxy.log(), 20, 0.1, what="admission")
                time.sleep(0.5)
                assert p.poll() is None, p.communicate()
            finally:
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                out, err = p.communicate(timeout=30)
            assert out == b"" and b"is recorded" not in err, (out, err)
            r = w.ssh("alice", "web01", "echo still-serving")
            assert r.returncode == 0 and r.stdout == b"still-serving\n", r
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        finally:
            mute.close()
