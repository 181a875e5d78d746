#!/usr/bin/env python3
"""Captures real SFTP and legacy scp byte streams for the proxy's transfer
parser tests and fuzz seeds.

The real OpenSSH clients (sftp, scp -O) are pointed with -S at this script,
which plays the part of ssh: it starts the real remote end locally
(sftp-server, or the `scp -t/-f` command line the client asked for) and
copies bytes both ways, logging every chunk in the order it passed.

Capture file (NAME.cap): one mode byte (0 none, 1 download, 2 upload, 3 both), then
chunks: 'C' (client to server) or 'S' (server to client), u16 big-endian
length, bytes.  A sidecar NAME.expect lists what a parser must report:
  cmd COMMAND-LINE            (scp: the exec request the client made)
  file DIRECTION PATH SIZE SHA256

Usage: capture.py OUTDIR
  (writes sftp_session, sftp_small, scp_upload, scp_download)
"""
import hashlib, os, select, shutil, subprocess, sys, tempfile

SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def relay():
    """The -S program: run the remote end and log both directions."""
    out = os.environ["CAPTURE_OUT"]
    cmd = sys.argv[-1]
    with open(out + ".cmd", "w") as f:
        f.write(cmd + "\n")
    if cmd == "sftp":
        argv = [SFTP_SERVER]
    else:
        argv = ["/bin/sh", "-c", cmd]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    log = open(out, "ab")
    cin, sout = sys.stdin.buffer.raw, p.stdout.raw
    open_fds = {cin.fileno(): "C", sout.fileno(): "S"}
    while open_fds:
        r, _, _ = select.select(list(open_fds), [], [], 30)
        if not r:
            break
        for fd in r:
            d = os.read(fd, 65535)
            tag = open_fds[fd]
            if not d:
                del open_fds[fd]
                if tag == "C":
                    p.stdin.close()
                continue
            log.write(tag.encode() + len(d).to_bytes(2, "big") + d)
            log.flush()
            if tag == "C":
                p.stdin.write(d)
                p.stdin.flush()
            else:
                os.write(1, d)
    p.wait(10)
    log.close()


def pattern(n, seed):
    b = bytearray()
    x = seed
    while len(b) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        b += x.to_bytes(8, "big")
    return bytes(b[:n])


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run(name, outdir, mode, argv, stdin=None):
    cap = os.path.join(outdir, name + ".cap")
    with open(cap, "wb") as f:
        f.write(bytes([mode]))
    env = dict(os.environ, CAPTURE_OUT=cap)
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    subprocess.run(argv, env=env, check=False, timeout=60, stdin=fin,
                   stdout=subprocess.DEVNULL)
    with open(cap + ".cmd") as f:
        cmd = f.read().strip()
    os.unlink(cap + ".cmd")
    return cmd


def main():
    outdir = os.path.abspath(sys.argv[1])
    me = os.path.abspath(__file__)
    work = tempfile.mkdtemp(prefix="escort-capture-")
    try:
        os.chdir(work)
        os.makedirs("remote/sub")
        os.makedirs("local")
        big = pattern(300000, 1)
        small = pattern(1000, 2)
        with open("local/big.bin", "wb") as f:
            f.write(big)
        with open("remote/sub/small.txt", "wb") as f:
            f.write(small)
        with open("remote/empty", "wb") as f:
            pass
        rem = os.path.join(work, "remote")
        # sftp: upload, download, and a few file-system changes
        with open("batch", "w") as f:
            f.write("put local/big.bin %s/up.bin\n" % rem)
            f.write("get %s/sub/small.txt local/small.txt\n" % rem)
            f.write("mkdir %s/newdir\n" % rem)
            f.write("rename %s/up.bin %s/newdir/moved.bin\n" % (rem, rem))
            f.write("ls %s\n" % rem)
            f.write("rm %s/empty\n" % rem)
        run("sftp_session", outdir, 3,
            ["sftp", "-q", "-S", me, "-b", "batch", "host"])
        with open(os.path.join(outdir, "sftp_session.expect"), "w") as f:
            f.write("file upload %s/up.bin %d %s\n" % (rem, len(big), sha(big)))
            f.write("file download %s/sub/small.txt %d %s\n"
                    % (rem, len(small), sha(small)))
        # a small session, as a fuzzing seed
        with open("batch2", "w") as f:
            f.write("put local/small.txt %s/s2.txt\n" % rem)
            f.write("get %s/s2.txt local/s3.txt\n" % rem)
            f.write("chmod 600 %s/s2.txt\n" % rem)
            f.write("ln -s %s/s2.txt %s/link\n" % (rem, rem))
            f.write("rmdir %s/newdir\n" % rem)
        run("sftp_small", outdir, 3,
            ["sftp", "-q", "-S", me, "-b", "-", "host"], stdin="batch2")
        # scp -O upload of a tree, then download of one file
        os.makedirs("local/tree/inner")
        with open("local/tree/a.bin", "wb") as f:
            f.write(big[:70000])
        with open("local/tree/inner/b.txt", "wb") as f:
            f.write(small)
        cmd = run("scp_upload", outdir, 2,
            ["scp", "-O", "-q", "-r", "-p", "-S", me, "local/tree",
             "host:%s/" % rem])
        with open(os.path.join(outdir, "scp_upload.expect"), "w") as f:
            f.write("cmd %s\n" % cmd)
            f.write("file upload %s/tree/a.bin %d %s\n"
                    % (rem, 70000, sha(big[:70000])))
            f.write("file upload %s/tree/inner/b.txt %d %s\n"
                    % (rem, len(small), sha(small)))
        cmd = run("scp_download", outdir, 1,
            ["scp", "-O", "-q", "-S", me, "host:%s/sub/small.txt" % rem,
             "local/copy.txt"])
        with open(os.path.join(outdir, "scp_download.expect"), "w") as f:
            f.write("cmd %s\n" % cmd)
            f.write("file download %s/sub/small.txt %d %s\n"
                    % (rem, len(small), sha(small)))
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if "CAPTURE_OUT" in os.environ:
        relay()
    else:
        main()
