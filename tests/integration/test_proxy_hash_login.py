"""The USER#TARGET login form (escort-proxy(8)): stock ssh, sftp and scp take
`alice#web01@proxy` as written (they split host:path at the first ':', which
the USER:TARGET form trips over), and it names the same user and target."""
import os, subprocess
from harness.core import Env
from harness.proxy import ProxyWorld, replay

OPTS = ["-F", "/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]


def run(argv, timeout=60):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def test_hash_login_with_stock_clients():
    with Env() as env:
        w = ProxyWorld(env)
        key = ["-i", w.alice_key]
        dest = "alice#web01@127.0.0.1"
        r = run(["ssh", *OPTS, *key, "-p", str(w.port), dest, "echo hash-42"])
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hash-42\n"

        src = env.write("up.txt", "uploaded with alice#web01\n")
        up = w.marker("up.txt")
        r = run(["scp", *OPTS, *key, "-P", str(w.port), src, "%s:%s" % (dest, up)])
        assert r.returncode == 0, r.stderr
        with open(up) as f:
            assert f.read() == "uploaded with alice#web01\n"

        batch = env.write("batch.txt", "get %s %s\n" % (up, env.path("down.txt")))
        r = run(["sftp", *OPTS, *key, "-P", str(w.port), "-b", batch, dest])
        assert r.returncode == 0, r.stderr
        with open(env.path("down.txt")) as f:
            assert f.read() == "uploaded with alice#web01\n"

        # a user name that is not in the policy is refused in this form too
        r = run(["ssh", *OPTS, *key, "-p", str(w.port), "mallory#web01@127.0.0.1", "true"])
        assert r.returncode == 255

        lst = replay(w, "list", "--json")
        assert lst.returncode == 0, lst.stderr
        rows = [l for l in lst.stdout.decode().splitlines() if l.strip()]
        assert len(rows) == 3, rows
        assert all('"user":"alice"' in l.replace(" ", "") and '"target":"web01"' in l.replace(" ", "")
                   for l in rows), rows
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
