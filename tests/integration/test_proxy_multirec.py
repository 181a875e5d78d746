"""escort-proxy with several recorders (Recorder listing two): new sessions
are recorded on the first; with it killed (SIGKILL) a new session goes to
the second and is recorded and verifies there, while a session live on the
first pauses and resumes on that same recorder when it returns, with no
gap; with both gone a session is refused naming both.  Each recorder keeps
its own receipts and tree heads under StateDir/recorders/NAME, and each
store verifies against its own (verify --all --anchor).  The same over
mutual TLS; and a first recorder that takes the connection but never
answers is passed over after 5 s."""
import os, re, subprocess
from harness.core import Env, bin_path, free_port, unix_socket_open, port_open, wait_for
from harness.proxy import ProxyWorld, session_id
from harness.recorder import TestCA

TIMEOUT = 150


class Rec2:
    """A second escort-recorder with its own store and signing key."""

    def __init__(self, env, tls=None):
        self.env = env
        self.sock = env.path("run2", "recorder.sock")
        self.store = env.path("store2", "x")[:-2]
        os.makedirs(self.store, exist_ok=True)
        self.key = env.path("recorder2-ed25519.pem")
        self.pub = env.path("recorder2-ed25519.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.key], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-out", self.pub], check=True)
        extra = ""
        self.port = None
        if tls:
            self.port = free_port()
            extra = "Listen tls://127.0.0.1:%d\nTLSCertificate %s\nTLSKey %s\nTLSClientCA %s\n" % (
                self.port, tls["server_cert"], tls["server_key"], tls["client_ca"])
        self.conf = env.write("recorder2.conf", "Listen unix:%s\nStore %s\nSigningKey %s\nFsync never\n%s"
                              % (self.sock, self.store, self.key, extra))
        self.proc = None
        self.start()

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = self.env.start("escort-recorder-2", [bin_path("escort-recorder"), "-d", "-f", self.conf])
        wait_for(lambda: (unix_socket_open(self.sock) and (self.port is None or port_open(self.port)))
                 or not self.proc.alive(), 10, what="recorder 2 to listen")
        assert self.proc.alive(), self.proc.log()


def state_dir(env, address):
    """StateDir/recorders/NAME of escort-proxy.conf(5) for address."""
    name = "".join(c if re.match(r"[A-Za-z0-9._:-]", c) else "%%%02X" % ord(c) for c in address)
    return os.path.join(env.dir, "state", "recorders", name)


def lines(path):
    return open(path).read().splitlines() if os.path.exists(path) else []


def held(store, sid):
    return os.path.exists(os.path.join(store, "sessions", sid + ".est"))


def replay(store, key, *args):
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args, "--key", key],
                          capture_output=True, timeout=120)


def echo_session(w, text):
    r = w.ssh("alice", "web01", "echo " + text)
    assert r.returncode == 0 and r.stdout == (text + "\n").encode(), r
    return session_id(r.stderr)


def check_store(store, key, sdir, ids):
    """verify --all passes; the recorder's own receipts name exactly ids and
    its heads and receipts anchor its store."""
    v = replay(store, key, "verify", "--all")
    assert v.returncode == 0, v
    receipts, heads = os.path.join(sdir, "receipts"), os.path.join(sdir, "heads")
    assert sorted(l.split()[2] for l in lines(receipts)) == sorted(ids), (lines(receipts), ids)
    assert len(lines(heads)) == len(ids), lines(heads)
    for anchor in (receipts, heads):
        v = replay(store, key, "verify", "--all", "--anchor", anchor)
        assert v.returncode == 0 and b"anchor: ok" in v.stdout + v.stderr, v


def test_new_sessions_go_to_the_recorder_that_answers():
    with Env("px-multirec") as env:
        r2 = Rec2(env)
        a2 = "unix:" + r2.sock
        w = ProxyWorld(env, extra_conf="Recorder %s\nRecorderTimeout 30\n" % a2)
        a1 = "unix:" + w.rec_sock
        key1 = env.path("recorder-ed25519.pub.pem")
        s1, s2 = state_dir(env, a1), state_dir(env, a2)
        first = echo_session(w, "on-one")
        assert held(w.store, first) and not held(r2.store, first)
        # a session live on recorder 1 when it dies
        script = env.write("count.sh", "i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo line-$i; "
                           "sleep 0.05; done\n")
        live = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        got = b"".join(live.stdout.readline() for _ in range(5))
        w.recorder.kill()
        wait_for(lambda: "forwarding paused" in w.proxy.log(), 10, what="the live session to pause")
        moved = echo_session(w, "on-two")
        assert held(r2.store, moved) and not held(w.store, moved)
        wait_for(lambda: len(lines(os.path.join(s2, "receipts"))) == 1, 15, what="receipt of recorder 2")
        # both gone: refused, naming both, nothing runs
        r2.proc.kill()
        mark = w.marker("ran-unrecorded")
        r = w.ssh("alice", "web01", "sh -c 'echo x > %s'" % mark)
        assert r.returncode == 1 and b"recorder is unavailable" in r.stderr, r
        assert a1.encode() in r.stderr and a2.encode() in r.stderr, r.stderr
        assert not os.path.exists(mark)
        # recorder 1 back: the live session resumes there, no line lost
        w.start_recorder()
        out, err = live.communicate(timeout=60)
        assert live.returncode == 0, err
        assert (got + out).split() == [b"line-%d" % i for i in range(1, 61)], got + out
        lsid = session_id(err)
        assert held(w.store, lsid) and not held(r2.store, lsid)
        assert "forwarding resumes" in w.proxy.log()
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        c = replay(w.store, key1, "cat", lsid)
        assert c.returncode == 0 and c.stdout.split() == [b"line-%d" % i for i in range(1, 61)], c
        check_store(w.store, key1, s1, [first, lsid])
        check_store(r2.store, r2.pub, s2, [moved])
        # StateDir's own files are for a single recorder only
        assert not os.path.exists(os.path.join(env.dir, "state", "receipts"))
        # one recorder's anchor is not the other's
        v = replay(w.store, key1, "verify", "--all", "--anchor", os.path.join(s2, "heads"))
        assert v.returncode != 0, v


def test_over_tls_a_dead_recorder_is_passed_over():
    with Env("px-multirec-tls") as env:
        servers, proxies = TestCA(env, "servers"), TestCA(env, "proxies")
        scert, skey = servers.issue("recorder", ip="127.0.0.1")
        ccert, ckey = proxies.issue("proxy-1")
        tls = dict(server_cert=scert, server_key=skey, client_ca=proxies.cert, ca=servers.cert,
                   cert=ccert, key=ckey)
        r2 = Rec2(env, tls=tls)
        a2 = "tls://127.0.0.1:%d" % r2.port
        w = ProxyWorld(env, recorder_tls=tls, extra_conf="Recorder %s\n" % a2)
        a1 = "tls://127.0.0.1:%d" % w.rec_tls_port
        key1 = env.path("recorder-ed25519.pub.pem")
        first = echo_session(w, "tls-one")
        assert held(w.store, first)
        # its close acknowledged first: a link lost with the close still
        # unacknowledged marks the recorder down, and the next session would
        # go to recorder 2 without trying recorder 1
        wait_for(lambda: "[%s] receipts kept" % first in w.proxy.log(), 15,
                 what="the first session's receipt")
        w.recorder.kill()
        moved = echo_session(w, "tls-two")
        assert held(r2.store, moved) and not held(w.store, moved)
        wait_for(lambda: "trying %s" % a2 in w.proxy.log(), 10, what="the log of the failover")
        assert "recorder %s: cannot connect" % a1 in w.proxy.log(), w.proxy.log()[-3000:]
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        check_store(w.store, key1, state_dir(env, a1), [first])
        check_store(r2.store, r2.pub, state_dir(env, a2), [moved])


def test_a_recorder_that_does_not_answer_is_passed_over():
    """The first recorder takes the connection but never answers the HELLO:
    after 5 s the session goes to the second."""
    import socket, time
    with Env("px-multirec-mute") as env:
        r2 = Rec2(env)
        w = ProxyWorld(env, start_recorder=False, extra_conf="Recorder unix:%s\n" % r2.sock)
        mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            mute.bind(w.rec_sock)
            mute.listen(8)
            t0 = time.monotonic()
            sid = echo_session(w, "after-silence")
            took = time.monotonic() - t0
            assert 4.5 < took < 30, took
            assert held(r2.store, sid)
            assert "recorder unix:%s: no answer within 5 s; trying unix:%s" % (w.rec_sock, r2.sock) \
                in w.proxy.log(), w.proxy.log()[-3000:]
            wait_for(lambda: "[%s] recording on unix:%s after unix:%s: no answer" % (sid, r2.sock, w.rec_sock)
                     in w.proxy.log(), 5, what="log line")
        finally:
            mute.close()
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        check_store(r2.store, r2.pub, state_dir(env, "unix:" + r2.sock), [sid])
