"""escort-proxy delivers every byte of an exec, to the end, when a key
re-exchange runs on either side while it relays (OpenSSH rekeys on its own
after RekeyLimit bytes, 1 GiB by default with chacha20-poly1305) and when the
target closes its channel while the proxy still holds the tail: stdout,
stderr (extended data) and the upload direction.  The recording holds
exactly the bytes that arrived."""
import hashlib, os, subprocess, time
from harness.core import Env, BIN, wait_for
from harness.proxy import ProxyWorld, session_id, replay

TIMEOUT = 120
KIB = 1024
# many key re-exchanges per transfer: one every REKEY bytes
REKEY = "256K"
SIZE = (2 if "san" in BIN else 6) << 20
# just above what a stalled client's window (2 MiB) and pipe hold: the target
# closes while the proxy still holds part of the output
STALLED_SIZE = 2304 * KIB


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run_exec(w, command, done=None, input=None, extra=()):
    """Runs command through the proxy.  With done: the client reads nothing
    until the command on the target has finished (done exists) and a moment
    more.  Returns (returncode, stdout, stderr)."""
    p = subprocess.Popen(w.ssh_argv("alice", "web01", command, extra=extra),
                         stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if done is not None:
            wait_for(lambda: os.path.exists(done) or p.poll() is not None, 30, 0.05,
                     what="the command on the target to finish")
            time.sleep(1.0)  # its EOF, exit-status and CLOSE reach the proxy
        out, err = p.communicate(input=input, timeout=90)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err


def check_recorded(w, sid, data):
    """The recording of sid ends with data, and holds its tail once."""
    def ok():
        c = replay(w, "cat", sid)
        return c.stdout if c.returncode == 0 and c.stdout.endswith(data) else None
    rec = wait_for(ok, 20, 0.5, what="recording of %s to end with the whole output" % sid)
    assert rec.count(data[-4096:]) == 1, "tail recorded more than once"


def check_download(stream, size, stalled):
    with Env() as env:
        w = ProxyWorld(env)
        data = os.urandom(size)
        big = env.path("big.bin")
        with open(big, "wb") as f:
            f.write(data)
        done = env.path("done")
        script = env.write("send.sh", "cat %s%s\n: > %s\n" % (big, " >&2" if stream == "stderr" else "", done))
        rc, out, err = run_exec(w, "sh " + script, done if stalled else None,
                                extra=["-o", "RekeyLimit=" + REKEY])
        # stderr: the proxy's banner line, then the command's bytes
        got = out if stream == "stdout" else err.split(b" is recorded\n", 1)[-1]
        assert rc == 0, (rc, err[-500:])
        assert len(got) == size, "%s: %d of %d bytes arrived" % (stream, len(got), size)
        assert sha(got) == sha(data), "%s: bytes differ" % stream
        check_recorded(w, session_id(err), data)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_stdout_intact_across_client_rekeys():
    check_download("stdout", SIZE, False)


def test_stderr_intact_across_client_rekeys():
    check_download("stderr", SIZE, False)


def test_stalled_client_gets_the_tail_after_target_closed():
    check_download("stdout", STALLED_SIZE, True)


def test_stalled_client_gets_the_stderr_tail_after_target_closed():
    check_download("stderr", STALLED_SIZE, True)


def test_upload_intact_across_target_rekeys():
    with Env() as env:
        w = ProxyWorld(env, sshd_extra="RekeyLimit %s\n" % REKEY)
        up = os.urandom(SIZE)
        # the target reads late: the client has sent everything and its EOF
        # while the proxy still holds part of the upload
        rc, out, err = run_exec(w, "sh -c 'sleep 1; sha256sum'", input=up)
        assert rc == 0, err[-500:]
        assert out.split()[0].decode() == sha(up), (out, err[-500:])
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
