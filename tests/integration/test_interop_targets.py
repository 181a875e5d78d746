"""SSH servers of several makes behind escort-proxy, reached with the OpenSSH
client: Dropbear, tinysshd, and OpenSSH sshd restricted to one host key type
and a narrow algorithm set; a target offering only ciphers the proxy refuses
is turned away with a message naming the problem."""
import os, time
from harness.core import Env, sha256_file
from harness.proxy import ProxyWorld, strip_banner, sftp, scp
from harness.interop import (Dropbear, PtyRun, Tinysshd, assert_recorded, banner_id, client_env,
                             dbclient_argv, pinned_target, plink_argv, run)

TIMEOUT = 60
# 18 transfers of 4 MiB through the proxy: CPU-bound within TIMEOUT, runs alone
SERIAL = ["test_bulk_both_ways_every_client_every_server"]
CMD = "sh -c 'echo out; echo err >&2; exit 3'"


def _world(env, name, make_server):
    """A ProxyWorld whose policy also holds target NAME (matched by the
    default rule's target:web*) pointing at make_server(authorized_lines)."""
    key, pub = env.keygen("proxy_to_target")
    server = make_server([pub])
    w = ProxyWorld(env, extra_targets=pinned_target(name, server, key))
    return w, server


def _exec_checks(w, target):
    r = w.ssh("alice", target, CMD)
    assert r.stdout == b"out\n", r
    assert strip_banner(r.stderr) == "err\n", r
    assert r.returncode == 3, r
    r2 = w.ssh("alice", target, "cat", input=b"through\x00the\xffproxy" * 1000)
    assert r2.returncode == 0 and r2.stdout == b"through\x00the\xffproxy" * 1000, r2
    assert_recorded(w, banner_id(r.stderr))


def test_dropbear_target_exec_and_pty():
    with Env("interop") as env:
        w, _ = _world(env, "webdb", lambda ak: Dropbear(env, ak))
        _exec_checks(w, "webdb")
        r = w.ssh("alice", "webdb", None, extra=("-tt",), input=b"echo pty=$((2+3))\nexit 4\n")
        assert b"pty=5" in r.stdout and r.returncode == 4, r


def test_dropbear_target_ecdsa_and_rsa_hostkeys():
    """Pinned ECDSA and RSA host keys (RSA signed with rsa-sha2-*) verify."""
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        ec = Dropbear(env, [pub], keytype="ecdsa")
        rsa = Dropbear(env, [pub], keytype="rsa")
        assert ec.hostkey_pub.startswith("ecdsa-sha2-") and rsa.hostkey_pub.startswith("ssh-rsa ")
        w = ProxyWorld(env, extra_targets=pinned_target("webec", ec, key) +
                       pinned_target("webrsa", rsa, key))
        for t in ("webec", "webrsa"):
            r = w.ssh("alice", t, "echo %s-ok" % t)
            assert r.returncode == 0 and r.stdout == b"%s-ok\n" % t.encode(), r


def test_dropbear_target_wrong_pin_refused():
    """A pinned key other than the one dropbear presents: refused as a host key
    mismatch, and nothing runs."""
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        db = Dropbear(env, [pub])
        db.hostkey_pub = env.keygen("other_host")[1]
        w = ProxyWorld(env, extra_targets=pinned_target("webdb", db, key))
        mark = env.path("target-files", "ran")
        r = w.ssh("alice", "webdb", "echo x > " + mark)
        assert r.returncode != 0, r
        err = r.stderr.decode()
        assert "HOST KEY MISMATCH" in err or "host key" in err.lower(), r
        assert not os.path.exists(mark)


def test_tinysshd_target_exec_and_sftp():
    with Env("interop") as env:
        w, _ = _world(env, "webtiny", lambda ak: Tinysshd(env, ak))
        _exec_checks(w, "webtiny")
        src = env.path("up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(100 * 1024 + 3))
        remote = env.path("target-files", "tiny.bin")
        r = sftp(w, "put %s %s\nget %s %s\n" % (src, remote, remote, env.path("back.bin")),
                 target="webtiny")
        assert r.returncode == 0, r
        assert sha256_file(remote) == sha256_file(src) == sha256_file(env.path("back.bin"))


def test_openssh_target_one_hostkey_narrow_algorithms():
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        # one host key (ed25519), one cipher, one kex, one MAC
        t = env.sshd(authorized=[pub], extra="Ciphers aes128-ctr\nKexAlgorithms ecdh-sha2-nistp256\n"
                     "MACs hmac-sha2-256-etm@openssh.com\nHostKeyAlgorithms ssh-ed25519\n")
        w = ProxyWorld(env, extra_targets=pinned_target("webnarrow", t, key))
        _exec_checks(w, "webnarrow")


def test_target_with_only_refused_ciphers_is_named():
    """The proxy leaves AES-GCM out; a target offering nothing else is refused at
    once with a message that names the key exchange failure, not a hang."""
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        t = env.sshd(authorized=[pub], extra="Ciphers aes256-gcm@openssh.com\n")
        w = ProxyWorld(env, extra_targets=pinned_target("webgcm", t, key))
        t0 = time.monotonic()
        r = w.ssh("alice", "webgcm", "echo never", timeout=30)
        took = time.monotonic() - t0
        assert r.returncode != 0 and r.stdout == b"", r
        err = r.stderr.decode().lower()
        assert "webgcm" in err and "no match" in err and "aes256-gcm" in err, r
        assert took < 15, took
        assert_recorded(w, count=1)


def test_dropbear_target_scp_legacy_and_exit_signal():
    with Env("interop") as env:
        w, _ = _world(env, "webdb", lambda ak: Dropbear(env, ak))
        src = env.path("up.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(90 * 1024 + 5))
        remote = env.path("target-files", "db.bin")
        r = scp(w, src, "remote:" + remote, legacy=True, target="webdb")
        assert r.returncode == 0, r
        r = scp(w, "remote:" + remote, env.path("back.bin"), legacy=True, target="webdb")
        assert r.returncode == 0, r
        assert sha256_file(remote) == sha256_file(src) == sha256_file(env.path("back.bin"))
        # a command killed by a signal: OpenSSH's client reports it and exits 255
        r = w.ssh("alice", "webdb", "sh " + env.write("killself.sh", "kill -TERM $$\n"))
        assert r.returncode == 255 and r.stdout == b"", r
        assert_recorded(w, count=3)


def test_tinysshd_target_pty_shell():
    with Env("interop") as env:
        w, _ = _world(env, "webtiny", lambda ak: Tinysshd(env, ak))
        t = PtyRun(env, "ssh-tt", w.ssh_argv("alice", "webtiny", extra=("-tt",)))
        try:
            t.read_until(rb"is recorded")
            t.write(b"stty size; echo sum=$((6*7))\r")
            t.read_until(rb"[\r\n]30 100\r\n")
            t.read_until(rb"sum=42")
            t.write(b"exit 4\r")
            assert t.wait() == 4, t.buf
        finally:
            t.close()
        assert_recorded(w, banner_id(t.buf))


def test_dbclient_to_dropbear_and_plink_to_tinysshd():
    """No OpenSSH at either end: the proxy is the only common piece."""
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        db, ti = Dropbear(env, [pub]), Tinysshd(env, [pub])
        w = ProxyWorld(env, extra_targets=pinned_target("webdb", db, key) +
                       pinned_target("webtiny", ti, key))
        ce = client_env(w)
        for argv in (dbclient_argv(w, "alice:webdb", CMD), plink_argv(w, "alice:webtiny", CMD),
                     dbclient_argv(w, "alice:webtiny", CMD), plink_argv(w, "alice:webdb", CMD)):
            r = run(argv, env=ce)
            assert r.stdout == b"out\n" and r.returncode == 3, (argv[0], r)
            assert strip_banner(r.stderr).rstrip().endswith("err"), r
        assert_recorded(w, count=4)


def test_bulk_both_ways_every_client_every_server():
    """4 MiB down (cat) and up (sha256sum) intact for ssh, dbclient and plink
    against sshd, dropbear and tinysshd: small windows (dbclient's 24 KiB,
    dropbear's) and large ones meet in the proxy's flow control."""
    import hashlib
    with Env("interop") as env:
        key, pub = env.keygen("proxy_to_target")
        db, ti = Dropbear(env, [pub]), Tinysshd(env, [pub])
        w = ProxyWorld(env, extra_targets=pinned_target("webdb", db, key) +
                       pinned_target("webtiny", ti, key))
        ce = client_env(w)
        data = os.urandom(1 << 20) * 4
        big = env.path("big.bin")
        with open(big, "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        n = 0
        for t in ("web01", "webdb", "webtiny"):
            for name, mk in (("ssh", lambda c: w.ssh_argv("alice", t, c)),
                             ("dbclient", lambda c: dbclient_argv(w, "alice:" + t, c)),
                             ("plink", lambda c: plink_argv(w, "alice:" + t, c))):
                r = run(mk("cat " + big), env=ce, timeout=40)
                assert r.returncode == 0 and len(r.stdout) == len(data), (t, name, r.stderr)
                assert hashlib.sha256(r.stdout).hexdigest() == want, (t, name)
                r = run(mk("sha256sum"), env=ce, input=data, timeout=40)
                assert r.returncode == 0 and r.stdout.split()[:1] == [want.encode()], (t, name, r)
                n += 2
        assert_recorded(w, count=n)
