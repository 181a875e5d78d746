"""File transfers through escort-proxy with the real OpenSSH clients: sftp,
scp (SFTP underneath) and scp -O (the legacy protocol, remote scp -t/-f).
Every file arrives intact (SHA-256 of the file on the other side), every
transfer is in the recording with the same SHA-256 (and uploads with their
content up to FileContentLimit), and an upload is refused where the policy
says `sftp download`."""
import hashlib, json, os
from harness.core import Env, sha256_file, wait_for
from harness.proxy import ProxyWorld, DEFAULT_RULES, sftp, scp, file_events, replay

TIMEOUT = 120


def make_file(env, name, size):
    p = env.path("local", name)
    with open(p, "wb") as f:
        f.write(os.urandom(size))
    return p


def find(events, path, direction, outcome="ok"):
    hits = [e for e in events if e["op"] == "file" and e["path"] == path and
            e["direction"] == direction and e["outcome"] == outcome]
    return hits


def recorded(w, path, direction, sha, what):
    def look():
        hits = find(file_events(w), path, direction)
        return hits if any(h["sha256"] == sha for h in hits) else None
    return wait_for(look, 20, 0.3, what=what)


def test_sftp_put_get_recorded():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="FileContentLimit 64K\n")
        small = make_file(env, "small.bin", 10 * 1024)
        big = make_file(env, "big.bin", 3 * 1024 * 1024 + 17)
        remote_src = make_file(env, "on-target.bin", 2 * 1024 * 1024 + 5)
        t_small, t_big = w.marker("small.bin"), w.marker("big.bin")
        got = env.path("local", "got.bin")
        r = sftp(w, "put %s %s\nput %s %s\nget %s %s\n" % (small, t_small, big, t_big, remote_src, got))
        assert r.returncode == 0, r
        assert b"is recorded" in r.stderr, r  # the technician is told, on stderr
        for a, b in ((small, t_small), (big, t_big), (remote_src, got)):
            assert sha256_file(a) == sha256_file(b), (a, b)
        ev = recorded(w, t_big, "upload", sha256_file(big), "upload of big.bin recorded")
        assert ev[0]["kind"] == "sftp" and ev[0]["size"] == 3 * 1024 * 1024 + 17, ev
        # content kept up to the limit
        assert ev[0]["content_len"] == 64 * 1024, ev
        with open(big, "rb") as f:
            assert ev[0]["content_sha256"] == hashlib.sha256(f.read(64 * 1024)).hexdigest()
        ev = recorded(w, t_small, "upload", sha256_file(small), "upload of small.bin recorded")
        assert ev[0]["content_len"] == 10 * 1024 and ev[0]["content_sha256"] == sha256_file(small), ev
        ev = recorded(w, remote_src, "download", sha256_file(remote_src), "download recorded")
        assert ev[0]["size"] == 2 * 1024 * 1024 + 5 and ev[0]["content_len"] == 0, ev
        # escort-replay files lists the same transfers with the same digests
        r = replay(w, "files", "--json")
        assert r.returncode == 0, r
        rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
        for path, sha in ((t_big, sha256_file(big)), (remote_src, sha256_file(remote_src))):
            assert any(x["path"] == path and x["sha256"] == sha for x in rows), (path, rows)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_scp_modern_and_legacy_both_ways():
    with Env() as env:
        w = ProxyWorld(env)
        up = make_file(env, "up.bin", 700 * 1024 + 3)
        down = make_file(env, "down.bin", 900 * 1024 + 1)
        for legacy in (False, True):
            tag = "legacy" if legacy else "modern"
            t_up = w.marker("up-%s.bin" % tag)
            got = env.path("local", "got-%s.bin" % tag)
            r = scp(w, up, "remote:" + t_up, legacy=legacy)
            assert r.returncode == 0, (tag, r)
            r = scp(w, "remote:" + down, got, legacy=legacy)
            assert r.returncode == 0, (tag, r)
            assert sha256_file(up) == sha256_file(t_up), tag
            assert sha256_file(down) == sha256_file(got), tag
            kind = "scp" if legacy else "sftp"
            ev = recorded(w, t_up, "upload", sha256_file(up), "%s upload recorded" % tag)
            assert ev[0]["kind"] == kind and ev[0]["size"] == 700 * 1024 + 3, ev
            ev = [e for e in recorded(w, down, "download", sha256_file(down), "%s download recorded" % tag)
                  if e["kind"] == kind]
            assert ev and ev[0]["size"] == 900 * 1024 + 1, ev
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_upload_refused_when_download_only():
    with Env() as env:
        rules = DEFAULT_RULES.replace("sftp both", "sftp download")
        w = ProxyWorld(env, rules=rules)
        up = make_file(env, "up.bin", 50 * 1024)
        down = make_file(env, "down.bin", 60 * 1024)
        t_up = w.marker("refused.bin")
        r = sftp(w, "put %s %s\n" % (up, t_up))
        assert r.returncode != 0, r
        assert b"Permission denied" in r.stderr, r
        assert not os.path.exists(t_up)
        r = scp(w, up, "remote:" + t_up)
        assert r.returncode != 0 and not os.path.exists(t_up), r
        r = scp(w, up, "remote:" + t_up, legacy=True)
        assert r.returncode != 0, r
        assert b"scp upload is not allowed" in r.stderr, r
        assert not os.path.exists(t_up)
        # downloads still pass
        got = env.path("local", "got.bin")
        r = sftp(w, "get %s %s\n" % (down, got))
        assert r.returncode == 0 and sha256_file(got) == sha256_file(down), r
        # the refusal is recorded
        wait_for(lambda: find(file_events(w), t_up, "upload", "denied"), 20, 0.3,
                 what="denied upload recorded")


def test_no_transfers_when_policy_says_none():
    with Env() as env:
        rules = DEFAULT_RULES.replace("sftp both", "sftp none")
        w = ProxyWorld(env, rules=rules)
        down = make_file(env, "down.bin", 10 * 1024)
        got = env.path("local", "got.bin")
        r = sftp(w, "get %s %s\n" % (down, got))
        assert r.returncode != 0, r
        assert b'subsystem "sftp" is not allowed' in r.stderr, r
        r = scp(w, "remote:" + down, got, legacy=True)
        assert r.returncode != 0, r
        assert b"scp download is not allowed" in r.stderr, r
        assert not os.path.exists(got)


def test_stalled_sftp_client_bounded_memory_then_intact():
    import signal, subprocess, time
    from harness.core import BIN
    from harness.proxy import read_vmrss_kib, client_opts
    MIB = 16 if "san" in BIN else 48  # ASan slows the recorder several times
    with Env() as env:
        w = ProxyWorld(env)
        src = env.path("local", "flood.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(1 << 20) * MIB)
        got = env.path("local", "got.bin")
        batch = env.write("batch.txt", "get %s %s\n" % (src, got))
        r = sftp(w, "ls /\n")
        assert r.returncode == 0, r
        base = read_vmrss_kib(w.proxy.pid)
        p = subprocess.Popen(["sftp", *client_opts(w), "-P", str(w.port), "-b", batch, "127.0.0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(got) and os.path.getsize(got) > (1 << 20), 30, 0.02,
                     what="the download to start")
            os.kill(p.pid, signal.SIGSTOP)
            peak = base
            for _ in range(20):
                time.sleep(0.1)
                peak = max(peak, read_vmrss_kib(w.proxy.pid))
            assert os.path.getsize(got) < MIB << 20
            # SpoolLimit, one libssh window per direction, the filter's buffers
            limit = (64 if "san" in BIN else 12) * 1024
            print("proxy RSS %d KiB -> peak %d KiB while the client is stopped" % (base, peak))
            assert peak - base < limit, (base, peak)
        finally:
            os.kill(p.pid, signal.SIGCONT)
        _, err = p.communicate(timeout=90)
        assert p.returncode == 0, err
        assert sha256_file(got) == sha256_file(src)
