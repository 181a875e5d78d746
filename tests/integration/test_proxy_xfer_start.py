"""Transfer records that hold against a crash, and typed transfer rows.

A file transfer's record opens when the transfer starts: the proxy writes a
FILE start record (path, direction, file id) before the first byte of the
file moves.  Killing the proxy (SIGKILL) in the middle of a large upload,
over sftp and over legacy scp, leaves the upload in the recording: once the
recorder has closed the session (ResumeTimeout), `escort-replay files`
shows it with its path as incomplete, and the session verifies.

`extract` gives back an upload larger than FileContentLimit, and a
download, byte for byte, rebuilt from the recorded stream and checked
against the recorded SHA-256; a tampered session is refused.

`files` types each row (upload, download, rename with both paths, remove,
mkdir, setstat, symlink), from real sftp batch commands."""
import json, os, signal, subprocess, time
from harness.core import Env, wait_for
from harness.core import bin_path
from harness.proxy import ProxyWorld, client_opts, replay, sftp


def replay_env(w):
    return dict(os.environ, ESCORT_KEY=w.env.path("recorder-ed25519.pub.pem"))


def replay_argv(w, *args):
    return [bin_path("escort-replay"), "--store", w.store, *args]

TIMEOUT = 180
BIG = 192 * 1024 * 1024


def make_file(env, name, size):
    p = env.path("local", name)
    chunk = os.urandom(1024 * 1024)
    with open(p, "wb") as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
        f.write(os.urandom(size % len(chunk)))
    return p


def world(env):
    """A world whose recorder closes a session 2 s after its proxy is gone."""
    w = ProxyWorld(env, start_recorder=False)
    with open(w.rec_conf, "a") as f:
        f.write("ResumeTimeout 2\n")
    w.start_recorder()
    return w


def files_rows(w, *args):
    r = replay(w, "files", "--json", *args)
    assert r.returncode == 0, r
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def kill_mid_upload(env, w, argv, target):
    """Starts the client, SIGKILLs the proxy once part of the file reached
    the target, and waits for the client to notice."""
    out = open(env.path("client.out"), "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(target) and os.path.getsize(target) > 4 * 1024 * 1024
                 or p.poll() is not None, 60, 0.01, what="upload under way")
        assert p.poll() is None, "the upload ended before the proxy could be killed"
        size = os.path.getsize(target)
        assert size < BIG, size
        w.proxy.send(signal.SIGKILL)
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        out.close()
    assert p.returncode != 0, p.returncode


def closed_and_verified(w):
    def closed():
        r = replay(w, "list", "--json")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        return rows if rows and all(x["end"] for x in rows) else None
    wait_for(closed, 30, 0.3, what="recorder to close the session")
    r = replay(w, "verify", "--all", "--key", w.env.path("recorder-ed25519.pub.pem"))
    assert r.returncode == 0, r


def check_incomplete(w, target, kind, src):
    rows = files_rows(w)
    hits = [x for x in rows if x["path"] == target]
    assert len(hits) == 1, rows
    x = hits[0]
    # extract rebuilds what passed, and says it cannot be checked
    r = replay(w, "extract", x["id"], str(x["n"]))
    assert r.returncode == 1 and b"incomplete" in r.stderr, r.stderr
    with open(src, "rb") as f:
        assert len(r.stdout) > 0 and f.read(len(r.stdout)) == r.stdout, len(r.stdout)
    assert (x["type"], x["outcome"], x["ended"], x["kind"]) == ("upload", "incomplete", False, kind), x
    r = replay(w, "files")
    line = [l for l in r.stdout.decode().splitlines() if l.endswith(" " + target)]
    assert len(line) == 1 and " upload " in line[0] and " incomplete " in line[0], r.stdout
    r = replay(w, "audit")
    assert r.returncode == 0, r
    assert any(target in l and "incomplete" in l for l in r.stdout.decode().splitlines()), r.stdout


def test_proxy_killed_mid_sftp_upload_leaves_incomplete_record():
    with Env() as env:
        w = world(env)
        src = make_file(env, "big.bin", BIG)
        target = w.marker("big-sftp.bin")
        batch = env.write("batch.txt", "put %s %s\n" % (src, target))
        argv = ["sftp", *client_opts(w), "-P", str(w.port), "-b", batch, "127.0.0.1"]
        kill_mid_upload(env, w, argv, target)
        closed_and_verified(w)
        check_incomplete(w, target, "sftp", src)


def test_proxy_killed_mid_scp_upload_leaves_incomplete_record():
    with Env() as env:
        w = world(env)
        src = make_file(env, "big.bin", BIG)
        target = w.marker("big-scp.bin")
        argv = ["scp", *client_opts(w), "-P", str(w.port), "-O", src, "127.0.0.1:" + target]
        kill_mid_upload(env, w, argv, target)
        closed_and_verified(w)
        check_incomplete(w, target, "scp", src)


def test_rows_are_typed():
    with Env() as env:
        w = ProxyWorld(env)
        src = env.write("local/a.txt", "hello\n")
        d = w.marker("dir")
        batch = "\n".join([
            "mkdir %s" % d,
            "put %s %s/a.txt" % (src, d),
            "rename %s/a.txt %s/b.txt" % (d, d),
            "chmod 600 %s/b.txt" % d,
            "symlink %s/b.txt %s/link" % (d, d),
            "get %s/b.txt %s" % (d, env.path("local", "back.txt")),
            "rm %s/link" % d,
            "rm %s/b.txt" % d,
            "rmdir %s" % d,
        ]) + "\n"
        r = sftp(w, batch)
        assert r.returncode == 0, r
        want = [
            ("mkdir", d, None),
            ("upload", d + "/a.txt", None),
            ("rename", d + "/a.txt", d + "/b.txt"),
            ("setstat", d + "/b.txt", None),
            ("symlink", d + "/b.txt", d + "/link"),
            ("download", d + "/b.txt", None),
            ("remove", d + "/link", None),
            ("remove", d + "/b.txt", None),
            ("rmdir", d, None),
        ]

        def typed():
            rows = [x for x in files_rows(w) if x["path"].startswith(d)]
            got = [(x["type"], x["path"], x["path2"]) for x in rows]
            return rows if got == want else None
        rows = wait_for(typed, 20, 0.3, what="typed rows %r" % (want,))
        assert all(x["outcome"] == "ok" and x["ended"] for x in rows), rows
        # the text rows show the type and both paths
        r = replay(w, "files")
        text = r.stdout.decode()
        assert " rename " in text and "%s/a.txt -> %s/b.txt" % (d, d) in text, text
        assert " symlink " in text and "%s/b.txt -> %s/link" % (d, d) in text, text
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_extract_rebuilds_beyond_content_limit():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="FileContentLimit 64K\n")
        up = make_file(env, "up.bin", 5 * 1024 * 1024 + 3)
        down = make_file(env, "down.bin", 3 * 1024 * 1024 + 7)
        t_sftp, t_scp = w.marker("up-sftp.bin"), w.marker("up-scp.bin")
        got = env.path("local", "got.bin")
        r = sftp(w, "put %s %s\nget %s %s\n" % (up, t_sftp, down, got))
        assert r.returncode == 0, r
        argv = ["scp", *client_opts(w), "-P", str(w.port), "-O", up, "127.0.0.1:" + t_scp]
        r = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == 0, r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]

        def ended():
            rows = files_rows(w)
            ok = [x for x in rows if x["ended"] and x["outcome"] == "ok" and
                  x["path"] in (t_sftp, t_scp, down)]
            return rows if len(ok) == 3 else None
        rows = wait_for(ended, 20, 0.3, what="three transfers recorded")
        for path, src, kind in ((t_sftp, up, "sftp"), (t_scp, up, "scp"), (down, down, "sftp")):
            x = [x for x in rows if x["path"] == path and x["ended"]][0]
            assert x["kind"] == kind, x
            out = env.path("local", "extracted.bin")
            with open(out, "wb") as f:
                r = subprocess.run(replay_argv(w, "extract", x["id"], str(x["n"])), stdout=f,
                                   stderr=subprocess.PIPE, timeout=60, env=replay_env(w))
            assert r.returncode == 0, (path, r.stderr)
            assert subprocess.run(["cmp", src, out]).returncode == 0, path
        # a session changed after it was written is refused, not extracted
        x = [x for x in rows if x["path"] == t_sftp][0]
        sess = os.path.join(w.store, "sessions", x["id"] + ".est")
        with open(sess, "r+b") as f:
            f.seek(os.path.getsize(sess) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x20]))
        r = replay(w, "extract", x["id"], str(x["n"]))
        assert r.returncode == 1 and r.stdout == b"", r
        assert x["id"].encode() in r.stderr and b"does not verify" in r.stderr, r.stderr


def test_scp_recursive_rows_and_download_extract():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="FileContentLimit 64K\n")
        tree = env.path("local", "tree")
        os.makedirs(os.path.join(tree, "sub"))
        inner = make_file(env, "tree/sub/in.bin", 200 * 1024 + 1)
        down = make_file(env, "down.bin", 2 * 1024 * 1024 + 9)
        dest = w.marker("copy")
        os.makedirs(dest)  # scp -r tree copy: copy/tree, as the proxy records it
        got = env.path("local", "got.bin")
        for args in ((["-r", tree, "127.0.0.1:" + dest]), ([ "127.0.0.1:" + down, got])):
            argv = ["scp", *client_opts(w), "-P", str(w.port), "-O", *args]
            r = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
            assert r.returncode == 0, r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        want = [("mkdir", dest + "/tree"), ("mkdir", dest + "/tree/sub"),
                ("upload", dest + "/tree/sub/in.bin"), ("download", down)]

        def rows():
            # one session per scp command, listed in session id order
            got_rows = sorted((x for x in files_rows(w) if x["kind"] == "scp"),
                              key=lambda x: x["type"] == "download")
            return got_rows if [(x["type"], x["path"]) for x in got_rows] == want and \
                all(x["ended"] and x["outcome"] == "ok" for x in got_rows) else None
        xs = wait_for(rows, 20, 0.3, what="scp rows %r" % (want,))
        assert [x["n"] for x in xs[:3]] == [1, 2, 3], xs
        for x, src in ((xs[2], inner), (xs[3], down)):
            out = env.path("local", "extracted.bin")
            with open(out, "wb") as f:
                r = subprocess.run(replay_argv(w, "extract", x["id"], str(x["n"])), stdout=f,
                                   stderr=subprocess.PIPE, timeout=60, env=replay_env(w))
            assert r.returncode == 0, (x, r.stderr)
            assert subprocess.run(["cmp", src, out]).returncode == 0, x
        r = replay(w, "extract", xs[0]["id"], str(xs[0]["n"]))
        assert r.returncode == 1 and b"is a mkdir, not a file transfer" in r.stderr, r


def test_extract_reports_a_digest_that_does_not_match():
    """A session (written through the transcript library by rec-mkstore) with
    an scp upload of "hello\\n": extract rebuilds it from the stream when the
    summary's SHA-256 is right, and says so when it is not."""
    import hashlib
    from harness.core import tool_path
    with Env() as env:
        key, pub = env.path("k.pem"), env.path("k.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                       capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        store = env.path("store")
        good = hashlib.sha256(b"hello\n").hexdigest()
        bad = hashlib.sha256(b"hellO\n").hexdigest()
        for sid, hexd in (("s-good", good), ("s-bad", bad)):
            subprocess.run([tool_path("rec-mkstore"), "--store", store, "--key", key, "--id", sid,
                            "--scp-upload", hexd, "/dev/null"], check=True, capture_output=True,
                           timeout=30)

        def run(*args):
            return subprocess.run([bin_path("escort-replay"), "--store", store, "--key", pub, *args],
                                  capture_output=True, timeout=30)
        r = run("files", "s-good", "--json")
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        assert [(x["n"], x["type"], x["outcome"], x["path"], x["ended"]) for x in rows] == \
            [(1, "upload", "ok", "/tmp/up", True)], rows
        r = run("extract", "s-good", "1")
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        r = run("extract", "s-bad", "1")
        assert r.returncode == 1 and r.stdout == b"hello\n", r
        assert b"does not match its recorded SHA-256" in r.stderr, r.stderr
