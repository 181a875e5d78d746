"""SSH clients of several makes through escort-proxy to a real OpenSSH sshd:
OpenSSH (ssh, sftp, scp), Dropbear's dbclient, PuTTY's plink, pscp and psftp.
Each case checks what the user sees (bytes, exit status, stderr apart, file
hashes) and that the session is recorded and verifies."""
import os, re
from harness.core import Env, sha256_file
from harness.proxy import ProxyWorld, strip_banner, sftp, scp
from harness.interop import (PtyRun, assert_recorded, banner_id, client_env, dbclient_argv,
                             plink_argv, putty_opts, run, sessions)

TIMEOUT = 60
CMD = "sh -c 'echo out; echo err >&2; exit 3'"


def _exec_checks(w, r, banner=True):
    """banner=False: a client that shows no userauth banner for a command
    (PuTTY's plink shows it only before an interactive shell)."""
    assert r.stdout == b"out\n", r
    assert strip_banner(r.stderr).strip().endswith("err"), r
    assert b"out" not in r.stderr, r
    assert r.returncode == 3, r
    if banner:
        assert_recorded(w, banner_id(r.stderr))
    else:
        assert b"is recorded" not in r.stderr, r
        assert_recorded(w, count=1)


def _pty_shell(env, w, name, argv, cli_env=None):
    """Types into a remote shell on a pty; checks output and exit status 5."""
    t = PtyRun(env, name, argv, cli_env)
    try:
        t.read_until(rb"is recorded")
        t.write(b"echo sum=$((6*7))\r")
        t.read_until(rb"sum=42")
        t.write(b"stty size\r")
        t.read_until(rb"[\r\n]30 100\r\n")
        t.write(b"exit 5\r")
        assert t.wait() == 5, t.buf
    finally:
        t.close()
    assert_recorded(w, banner_id(t.buf))
    return t.buf


# ---- OpenSSH --------------------------------------------------------------------

def test_openssh_exec():
    with Env("interop") as env:
        w = ProxyWorld(env)
        _exec_checks(w, w.ssh("alice", "web01", CMD))


def test_openssh_pty_shell_exit_status():
    with Env("interop") as env:
        w = ProxyWorld(env)
        _pty_shell(env, w, "ssh-tt", w.ssh_argv("alice", "web01", extra=("-tt",)))


def test_openssh_sftp_and_scp_both_modes():
    with Env("interop") as env:
        w = ProxyWorld(env)
        src = env.path("up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(300 * 1024 + 7))
        want = sha256_file(src)
        remote = env.path("target-files", "x")[:-1]
        r = sftp(w, "put %s %ssftp.bin\nget %ssftp.bin %s\n" % (src, remote, remote, env.path("sftp-back.bin")))
        assert r.returncode == 0, r
        assert sha256_file(remote + "sftp.bin") == want and sha256_file(env.path("sftp-back.bin")) == want
        for legacy, tag in ((False, "scp"), (True, "scpO")):
            r = scp(w, src, "remote:%s%s.bin" % (remote, tag), legacy=legacy)
            assert r.returncode == 0, r
            r = scp(w, "remote:%s%s.bin" % (remote, tag), env.path(tag + "-back.bin"), legacy=legacy)
            assert r.returncode == 0, r
            assert sha256_file(remote + tag + ".bin") == want, tag
            assert sha256_file(env.path(tag + "-back.bin")) == want, tag
        assert_recorded(w, count=5)


def test_user_key_types_with_every_client():
    """RSA (rsa-sha2-*), ECDSA and Ed25519 user keys authenticate from ssh,
    dbclient and plink alike."""
    with Env("interop") as env:
        keys = {k: env.keygen("bob_" + k, k) for k in ("rsa", "ecdsa", "ed25519")}
        bob = "user bob {\n%s}\n" % "".join('    key "%s"\n' % " ".join(pub.split()[:2])
                                            for _, pub in keys.values())
        rule = 'rule bobs {\n    who user:bob\n    where target:web*\n    exec yes\n    allow "echo ..."\n}\n'
        w = ProxyWorld(env, extra_targets=bob + rule)
        ce = client_env(w)
        for kind, (priv, _) in keys.items():
            for name, argv in (("ssh", w.ssh_argv("bob", "web01", "echo " + kind, key=priv)),
                               ("dbclient", dbclient_argv(w, "bob:web01", "echo " + kind, key=priv)),
                               ("plink", plink_argv(w, "bob:web01", "echo " + kind, key=priv))):
                r = run(argv, env=ce)
                assert r.returncode == 0 and r.stdout == kind.encode() + b"\n", (name, kind, r)
        assert_recorded(w, count=9)


# ---- Dropbear's dbclient ----------------------------------------------------------

def test_dbclient_exec_status_and_stderr():
    with Env("interop") as env:
        w = ProxyWorld(env)
        ce = client_env(w)
        _exec_checks(w, run(dbclient_argv(w, "alice:web01", CMD), env=ce))
        # dbclient closes as soon as both sides sent EOF and ignores a later
        # exit-status: repeat so an ordering that depends on timing shows.
        codes = [run(dbclient_argv(w, "alice:web01", "printf x; exit 7"), env=ce).returncode
                 for _ in range(12)]
        assert codes == [7] * 12, codes
        r = run(dbclient_argv(w, "alice:web01", "true"), env=ce)
        assert r.returncode == 0 and r.stdout == b"", r


def test_dbclient_colon_user_at_host():
    """dbclient takes USER:TARGET@HOST as written in the docs (the ':' stays
    in the user name), as well as -l USER:TARGET."""
    with Env("interop") as env:
        w = ProxyWorld(env)
        argv = dbclient_argv(w, "alice:web01", "echo colon-ok")
        i = argv.index("-l")
        argv = argv[:i] + argv[i + 2:]
        argv[argv.index("127.0.0.1")] = "alice:web01@127.0.0.1"
        r = run(argv, env=client_env(w))
        assert r.returncode == 0 and r.stdout == b"colon-ok\n", r


def test_dbclient_pty_shell():
    with Env("interop") as env:
        w = ProxyWorld(env)
        _pty_shell(env, w, "dbclient-t", dbclient_argv(w, "alice:web01", extra=("-t",)),
                   client_env(w))


# ---- PuTTY -------------------------------------------------------------------------

def test_plink_exec_status_and_stderr():
    with Env("interop") as env:
        w = ProxyWorld(env)
        _exec_checks(w, run(plink_argv(w, "alice:web01", CMD), env=client_env(w)), banner=False)


def test_plink_pty_shell():
    with Env("interop") as env:
        w = ProxyWorld(env)
        _pty_shell(env, w, "plink-t", plink_argv(w, "alice:web01", extra=("-t",)), client_env(w))


def test_pty_exec_every_client():
    """A command on a pty (ssh -tt, dbclient -t, plink -t): the terminal size
    arrives and the exit status comes back."""
    with Env("interop") as env:
        w = ProxyWorld(env)
        ce = client_env(w)
        for name, argv in (("ssh", w.ssh_argv("alice", "web01", "stty size; exit 9", extra=("-tt",))),
                           ("dbclient", dbclient_argv(w, "alice:web01", "stty size; exit 9",
                                                      extra=("-t",))),
                           ("plink", plink_argv(w, "alice:web01", "stty size; exit 9", extra=("-t",)))):
            t = PtyRun(env, name + "-t", argv, ce, rows=41, cols=133)
            try:
                assert t.wait() == 9, (name, t.buf)
            finally:
                t.close()
            # plink shows the userauth banner only before an interactive shell
            assert (name == "plink" or b"is recorded" in t.buf) and \
                re.search(rb"(\A|\n)41 133\r\n", t.buf), (name, t.buf)
        assert_recorded(w, count=3)


def test_plink_wrong_hostkey_refused_by_client():
    """plink -batch with another fingerprint pinned refuses the proxy: the pin is real."""
    with Env("interop") as env:
        w = ProxyWorld(env)
        argv = plink_argv(w, "alice:web01", "true")
        argv[argv.index("-hostkey") + 1] = "SHA256:" + "A" * 43
        r = run(argv, env=client_env(w))
        assert r.returncode != 0, r
        assert sessions(w) == {}, "a session was recorded though the client refused"


def test_pscp_upload_download_sftp_and_scp_modes():
    with Env("interop") as env:
        w = ProxyWorld(env)
        ce = client_env(w)
        src = env.path("up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(200 * 1024 + 13))
        want = sha256_file(src)
        remote = env.path("target-files", "x")[:-1]
        for mode in ("-sftp", "-scp"):
            dst = "%spscp%s.bin" % (remote, mode)
            back = env.path("pscp%s-back.bin" % mode)
            r = run(["pscp", mode, "-q", *putty_opts(w, "alice:web01"), src, "127.0.0.1:" + dst], env=ce)
            assert r.returncode == 0, r
            r = run(["pscp", mode, "-q", *putty_opts(w, "alice:web01"), "127.0.0.1:" + dst, back], env=ce)
            assert r.returncode == 0, r
            assert sha256_file(dst) == want, mode
            assert sha256_file(back) == want, mode
        assert_recorded(w, count=4)


def test_psftp_upload_download():
    with Env("interop") as env:
        w = ProxyWorld(env)
        src = env.path("up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(150 * 1024 + 1))
        want = sha256_file(src)
        remote = env.path("target-files", "x")[:-1]
        batch = env.write("psftp.txt", "put %s %spsftp.bin\nget %spsftp.bin %s\nquit\n"
                          % (src, remote, remote, env.path("psftp-back.bin")))
        r = run(["psftp", *putty_opts(w, "alice:web01"), "-b", batch, "-be", "127.0.0.1"],
                env=client_env(w))
        assert r.returncode == 0, r
        assert sha256_file(remote + "psftp.bin") == want
        assert sha256_file(env.path("psftp-back.bin")) == want
        assert_recorded(w, count=1)


def test_recursive_transfers_pscp_scp_sftp():
    """Directory trees (an empty file, nested dirs) up and back with pscp -r
    (-sftp, -scp), scp -r (SFTP and -O) and sftp put -r / get -r: identical."""
    import subprocess
    with Env("interop") as env:
        w = ProxyWorld(env)
        ce = client_env(w)
        for rel, n in (("tree/a/f1", 1000), ("tree/a/f2", 70000), ("tree/b/f3", 5), ("tree/empty", 0)):
            with open(env.path(rel), "wb") as f:
                f.write(os.urandom(n))
        src = os.path.join(env.dir, "tree")

        def same(a, b):
            return subprocess.run(["diff", "-r", a, b], stdout=subprocess.DEVNULL).returncode == 0
        jobs = 0
        for mode in ("-sftp", "-scp"):
            up = os.path.dirname(env.path("target-files", "pscp" + mode, "x"))
            back = os.path.dirname(env.path("back", "pscp" + mode, "x"))
            for a, b in ((src, "127.0.0.1:" + up), ("127.0.0.1:%s/tree" % up, back)):
                r = run(["pscp", mode, "-r", "-q", *putty_opts(w, "alice:web01"), a, b], env=ce)
                assert r.returncode == 0, (mode, r)
                jobs += 1
            assert same(src, up + "/tree") and same(src, back + "/tree"), mode
        for legacy in (False, True):
            tag = "scpO" if legacy else "scp"
            up = os.path.dirname(env.path("target-files", tag, "x"))
            back = os.path.dirname(env.path("back", tag, "x"))
            assert scp(w, "-r", src, "remote:" + up, legacy=legacy).returncode == 0, tag
            assert scp(w, "-r", "remote:%s/tree" % up, back, legacy=legacy).returncode == 0, tag
            jobs += 2
            assert same(src, up + "/tree") and same(src, back + "/tree"), tag
        up = os.path.dirname(env.path("target-files", "sftp", "x"))
        r = sftp(w, "put -r %s %s/tree\nget -r %s/tree %s\n" % (src, up, up, env.path("sftp-back")))
        assert r.returncode == 0, r
        assert same(src, up + "/tree") and same(src, env.path("sftp-back")), "sftp -r"
        assert_recorded(w, count=jobs + 1)
