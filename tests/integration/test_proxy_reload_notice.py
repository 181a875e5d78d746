"""A reload (SIGHUP) does not apply Listen, Workers or HostKey
(escort-proxy(8), SIGNALS): when the file changed them, the log says so
instead of a bare "reloaded", and the proxy keeps listening where it did."""
import re, signal
from harness.core import Env, free_port, port_open, wait_for
from harness.proxy import ProxyWorld

TIMEOUT = 60


def test_reload_says_listen_and_workers_need_a_restart():
    with Env() as env:
        w = ProxyWorld(env)
        other = free_port()
        with open(w.conf) as f:
            text = f.read()
        text = re.sub(r"(?m)^Listen .*$", "Listen 127.0.0.1:%d" % other, text)
        text = re.sub(r"(?m)^Workers .*$", "Workers 3", text)
        with open(w.conf, "w") as f:
            f.write(text)
        w.proxy.send(signal.SIGHUP)
        wait_for(lambda: "reloaded; policy" in w.proxy.log(), 10, what="the reload")
        log = w.proxy.log()
        line = [l for l in log.splitlines() if "need a restart" in l]
        assert line and "Listen" in line[0] and "Workers" in line[0], log[-2000:]
        assert "HostKey" not in line[0], line
        assert port_open(w.port) and not port_open(other)
        r = w.ssh("alice", "web01", "echo still")
        assert r.returncode == 0 and r.stdout == b"still\n", r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
