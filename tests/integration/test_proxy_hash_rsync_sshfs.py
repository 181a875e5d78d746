"""rsync and sshfs (Debian's) with `alice#web01@proxy` as written
(escort-proxy(8), CONNECTING): rsync runs `rsync --server ...` on the target
through an exec request the policy allows; sshfs mounts over the sftp
subsystem.  sshfs needs FUSE (/dev/fuse and the right to mount): where the
machine does not give it, that test is skipped and says why."""
import os, shutil, subprocess
from harness.core import Env
from harness.proxy import ProxyWorld, file_events

RULES = """
rule techs {
    who user:alice
    where target:web01
    exec yes
    sftp both
    allow "rsync --server ..."
}
"""

SSH_OPTS = ["-F", "/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10"]


def run(argv, timeout=60):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def test_rsync_with_hash_login():
    assert shutil.which("rsync"), "rsync is not installed (scripts/deps.sh)"
    with Env() as env:
        w = ProxyWorld(env, rules=RULES)
        ssh = "ssh -p %d -i %s %s" % (w.port, w.alice_key, " ".join(SSH_OPTS))
        dest = "alice#web01@127.0.0.1"
        src = env.path("tree", "x")[:-2]
        os.makedirs(os.path.join(src, "sub"), exist_ok=True)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("rsynced with alice#web01\n")
        with open(os.path.join(src, "sub", "b.bin"), "wb") as f:
            f.write(os.urandom(200000))
        up = w.marker("tree-up")
        r = run(["rsync", "-a", "-e", ssh, src + "/", "%s:%s/" % (dest, up)])
        assert r.returncode == 0, r.stderr
        assert run(["diff", "-r", src, up]).returncode == 0
        down = env.path("tree-down", "x")[:-2]
        r = run(["rsync", "-a", "-e", ssh, "%s:%s/" % (dest, up), down + "/"])
        assert r.returncode == 0, r.stderr
        assert run(["diff", "-r", src, down]).returncode == 0
        # anything else on the target stays refused, with the policy's status
        r = run(["ssh", "-p", str(w.port), "-i", w.alice_key, *SSH_OPTS, dest, "rm -rf " + up])
        assert r.returncode == 77 and os.path.isdir(up), r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def fuse_unavailable():
    """Why sshfs cannot mount here, or None."""
    if shutil.which("sshfs") is None:
        return "sshfs is not installed (scripts/deps.sh)"
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist in this machine"
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as e:
        return "/dev/fuse cannot be opened: %s" % e
    return None


def test_sshfs_with_hash_login():
    why = fuse_unavailable()
    if why:
        print("SKIP: sshfs needs FUSE: %s" % why)
        return
    with Env() as env:
        w = ProxyWorld(env, rules=RULES)
        share = w.marker("share")
        os.makedirs(share, exist_ok=True)
        with open(os.path.join(share, "there.txt"), "w") as f:
            f.write("on the target\n")
        mnt = env.path("mnt", "x")[:-2]
        os.makedirs(mnt, exist_ok=True)
        opts = ",".join(["IdentityFile=" + w.alice_key, "IdentitiesOnly=yes",
                         "BatchMode=yes", "StrictHostKeyChecking=no",
                         "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"])
        r = run(["sshfs", "-p", str(w.port), "-o", opts, "alice#web01@127.0.0.1:" + share, mnt])
        if r.returncode != 0 and (b"fuse" in r.stderr.lower() or b"mount" in r.stderr.lower()) \
                and b"Permission denied (publickey" not in r.stderr:
            print("SKIP: sshfs could not mount (FUSE refused here): %s" % r.stderr.decode().strip())
            return
        assert r.returncode == 0, r.stderr
        try:
            with open(os.path.join(mnt, "there.txt")) as f:
                assert f.read() == "on the target\n"
            with open(os.path.join(mnt, "here.txt"), "w") as f:
                f.write("written through sshfs\n")
        finally:
            u = run(["fusermount3", "-u", mnt] if shutil.which("fusermount3") else ["umount", mnt])
            assert u.returncode == 0, u.stderr
        with open(os.path.join(share, "here.txt")) as f:
            assert f.read() == "written through sshfs\n"
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        ups = [e for e in file_events(w) if e.get("path", "").endswith("here.txt")]
        assert ups, file_events(w)
