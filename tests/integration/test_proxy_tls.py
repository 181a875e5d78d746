"""escort-proxy recording through the real escort-recorder over mutual TLS
on 127.0.0.1 (Recorder tls://HOST:PORT with RecorderCA, RecorderCertificate,
RecorderKey): sessions are recorded and verify; a proxy certificate from a
foreign CA is refused by the recorder, so the session is refused and nothing
runs on the target."""
import os, subprocess
from harness.core import Env, wait_for, bin_path
from harness.proxy import ProxyWorld, session_id, replay
from harness.recorder import TestCA

TIMEOUT = 120


def pki(env, proxy_ca_name="proxies"):
    servers, proxies = TestCA(env, "servers"), TestCA(env, proxy_ca_name)
    scert, skey = servers.issue("recorder", ip="127.0.0.1")
    ccert, ckey = proxies.issue("proxy-1")
    return servers, proxies, scert, skey, ccert, ckey


def test_session_recorded_over_mutual_tls():
    with Env() as env:
        servers, proxies, scert, skey, ccert, ckey = pki(env)
        w = ProxyWorld(env, recorder_tls=dict(server_cert=scert, server_key=skey,
                                              client_ca=proxies.cert, ca=servers.cert,
                                              cert=ccert, key=ckey))
        r = w.ssh("alice", "web01", "sh -c 'echo over-tls; echo err >&2'")
        assert r.returncode == 0 and r.stdout == b"over-tls\n", r
        sid = session_id(r.stderr)
        wait_for(lambda: b"over-tls" in replay(w, "cat", sid).stdout, 20, 0.3,
                 what="recording of %s" % sid)
        assert "TLS client verified" in w.recorder.log(), w.recorder.log()[-2000:]
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        v = replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))
        assert v.returncode == 0, v


def test_foreign_proxy_certificate_refused():
    with Env() as env:
        servers, proxies, scert, skey, ccert, ckey = pki(env)
        stranger = TestCA(env, "stranger")
        bcert, bkey = stranger.issue("proxy-x")
        w = ProxyWorld(env, recorder_tls=dict(server_cert=scert, server_key=skey,
                                              client_ca=proxies.cert, ca=servers.cert,
                                              cert=bcert, key=bkey))
        mark = w.marker("ran")
        r = w.ssh("alice", "web01", "sh -c 'echo x > %s'" % mark)
        assert r.returncode == 1, r
        assert b"recorder is unavailable" in r.stderr, r
        assert not os.path.exists(mark)


def test_bad_tls_files_are_config_errors():
    with Env() as env:
        servers, proxies, scert, skey, ccert, ckey = pki(env)
        conf = env.write("bad.conf", "Listen 127.0.0.1:1\nHostKey %s\nPolicy %s\n"
                         "Recorder tls://127.0.0.1:9\nRecorderCA %s\nRecorderCertificate %s\n"
                         "RecorderKey %s\n" % ("/nonexistent", "/nonexistent", servers.cert,
                                               env.path("missing.pem"), ckey))
        r = subprocess.run([bin_path("escort-proxy"), "-t", "-f", conf], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1, r
        assert "missing.pem" in r.stderr and conf in r.stderr, r.stderr
