"""escort-proxy under hostile load: a client that stops reading while the
target floods output keeps the proxy under its memory ceiling; garbage and
half handshakes from many connections do not disturb a live session, and
the throttle engages."""
import os, socket, subprocess, time
from harness.core import Env, wait_for, BIN
from harness.proxy import ProxyWorld, read_vmrss_kib

TIMEOUT = 120
# measures the proxy's memory and its MaxStartups throttle: runs alone
SERIAL = True
SAN = "san" in BIN


def test_slow_reader_stays_under_ceiling():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo warm")
        assert r.returncode == 0, r
        time.sleep(0.3)
        base = read_vmrss_kib(w.proxy.pid)
        # stdout is a pipe nobody reads: the client stops reading after ~64 KiB
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "yes " + "x" * 200), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            peak = base
            for _ in range(30):
                time.sleep(0.1)
                peak = max(peak, read_vmrss_kib(w.proxy.pid))
            # stated ceiling: ~1.3 MB per stalled direction + SpoolLimit 4 MiB + reserve
            limit = (64 if SAN else 10) * 1024
            assert peak - base < limit, (base, peak)
            assert p.poll() is None  # still connected, just stalled
        finally:
            p.kill()
            p.wait(10)
        assert w.proxy.alive()
        r = w.ssh("alice", "web01", "echo still-fine")
        assert r.stdout == b"still-fine\n", r


def test_garbage_connections_do_not_disturb_a_session():
    with Env() as env:
        w = ProxyWorld(env, extra_conf="MaxStartups 5:50:20\nLoginGraceTime 3\n")
        script = env.write("count.sh", "i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        socks = []
        try:
            for i in range(60):
                s = socket.socket()
                s.settimeout(2)
                try:
                    s.connect(("127.0.0.1", w.port))
                    if i % 3 == 0:
                        s.sendall(os.urandom(512))
                    elif i % 3 == 1:
                        s.sendall(b"SSH-2.0-half\r\n")
                except OSError:
                    pass
                socks.append(s)
            out, err = p.communicate(timeout=60)
            assert out.decode().split() == ["line-%d" % i for i in range(1, 41)], (out, err)
            assert p.returncode == 0, err
        finally:
            for s in socks:
                s.close()
        log = w.proxy.log()
        assert "MaxStartups reached" in log or "source penalised" in log, log[-3000:]
        assert w.proxy.alive()
