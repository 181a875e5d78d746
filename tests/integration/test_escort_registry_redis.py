"""Two escort-proxy processes sharing the live-session registry through a
real redis-server (Registry and ProxyName in escort-proxy.conf(5)), one
recorder, one target sshd, real ssh clients: alice's strict shell runs on
proxy B; bob, connected to proxy A, lists it (with its proxy), approves
her command there (it runs on the target, she sees "approved by bob", the
recording names bob), a second decision from dave finds it already
decided, join from A says plainly that it is not built across proxies,
and bob's kill from A ends her session on B with his reason, recorded.
Then proxy B is killed with SIGKILL while a second session of alice runs
on it: A lists that session as ended ("proxy B stopped answering") within
the registry's 3 s TTL plus one heartbeat, and the recorder records how the
session ended (proxy-lost, after its ResumeTimeout of 1 s).  Redis is started once for the module, on a free loopback
port in the test's temp dir, without persistence, and stopped by pid."""
import json, os, re, shutil, signal, time
from harness.core import Env, bin_path, free_port, port_open, ssh_base, wait_for
from harness.term import Term
from harness.proxy import ProxyWorld, replay

RULES = """
user bob {
    key "%(bob)s"
}
user dave {
    key "%(dave)s"
}
rule techs {
    who user:alice
    where target:web01
    shell strict
    exec yes
    supervised-by user:bob user:dave
    allow "echo ..."
    allow "sleep ..."
    approve "touch ..."
}
"""

TTL = 3            # PX_RR_TTL_MS / 1000 (registry_redis.h)
BEAT = 1           # PX_RR_BEAT_MS / 1000


def start_redis(env):
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert os.path.exists(exe), "redis-server is missing: scripts/deps.sh installs it"
    port = free_port()
    d = os.path.dirname(env.path("redis", "x"))
    rd = env.start("redis-server", [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                                    "--save", "", "--appendonly", "no", "--daemonize", "no"])
    wait_for(lambda: port_open(port) or not rd.alive(), 10, what="redis-server to listen")
    assert rd.alive(), "redis-server died:\n" + rd.log()
    return rd, port


def start_proxy_b(env, w, rport):
    """A second escort-proxy with w's configuration on its own port, state
    directory and ProxyName B; returns (Proc, port)."""
    port = free_port()
    with open(w.conf) as f:
        conf = f.read()
    conf = re.sub(r"(?m)^Listen 127\.0\.0\.1:\d+$", "Listen 127.0.0.1:%d" % port, conf)
    conf = re.sub(r"(?m)^StateDir .*$", "StateDir %s" % os.path.dirname(env.path("state-b", "x")), conf)
    conf = re.sub(r"(?m)^ProxyName A$", "ProxyName B", conf)
    path = env.write("proxy-b.conf", conf)
    with open(w.known_hosts) as f:
        key = f.read().split(None, 1)[1]
    with open(w.known_hosts, "a") as f:
        f.write("[127.0.0.1]:%d %s" % (port, key))
    pb = env.start("escort-proxy-b", [bin_path("escort-proxy"), "-d", "-f", path])
    wait_for(lambda: port_open(port) or not pb.alive(), 10, what="proxy B to listen")
    assert pb.alive(), "proxy B died:\n" + pb.log()
    return pb, port


def as_user(w, user, command):
    """user runs an escort command on proxy A."""
    r = w.ssh(user, None, command, key=w.keys[user], timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def rows(w, user="bob"):
    st, out, err = as_user(w, user, "sessions --json")
    assert st == 0, (st, out, err)
    return {r["id"]: r for r in (json.loads(l) for l in out.splitlines() if l.strip())}


def shell_on(w, port):
    argv = ssh_base(port, w.alice_key, "alice:web01", known_hosts=w.known_hosts,
                    extra=("-tt",), loglevel="INFO")
    t = Term(argv)
    banner = t.expect(b"is recorded")
    sid = re.search(rb"escort: session (\S+) is recorded", banner).group(1).decode()
    prompt(t)
    return t, sid


def prompt(t):
    return t.expect(b"@web01:", timeout=20) + t.expect(b"$ ", timeout=5)


def stop(t):
    try:
        os.kill(t.pid, signal.SIGKILL)
        os.waitpid(t.pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def events(w, sid):
    r = replay(w, "export", sid, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = []
    for l in r.stdout.decode().splitlines():
        if l.strip():
            e = json.loads(l)
            e["f"] = {x.get("name"): x.get("value") for x in e.get("fields", [])}
            out.append(e)
    return out


def test_escort_on_a_acts_on_session_on_b_and_b_dies():
    with Env() as env:
        rd, rport = start_redis(env)
        keys = {}
        for u in ("bob", "dave"):
            k, pub = env.keygen(u)
            keys[u] = (k, " ".join(pub.split()[:2]))
        w = ProxyWorld(env, rules=RULES % {u: keys[u][1] for u in keys},
                       extra_conf="Registry redis://127.0.0.1:%d\nProxyName A\nApprovalTimeout 60\n"
                       % rport, recorder_extra="ResumeTimeout 1\n")
        w.keys = {u: keys[u][0] for u in keys}
        d = os.path.dirname(w.marker("x"))
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        pb, bport = start_proxy_b(env, w, rport)
        t = t2 = None
        try:
            t, sid = shell_on(w, bport)
            # bob on A sees alice's session on B, named by its proxy
            wait_for(lambda: sid in rows(w), 10, what="A to list the session on B")
            row = rows(w)[sid]
            assert row["proxy"] == "B" and row["user"] == "alice" and row["state"] == "running", row
            st, out, err = as_user(w, "bob", "sessions")
            assert st == 0 and sid in out and "on proxy B" in out, (st, out, err)

            # approval across proxies; the first decision wins
            ok = w.marker("approved-from-a")
            t.send(b"touch %s\r" % ok.encode())
            t.expect(b"escort: waiting for an escort's approval of: touch %s" % ok.encode())
            wait_for(lambda: rows(w)[sid]["pending"] == "touch %s" % ok, 10,
                     what="A to show the pending command")
            st, out, err = as_user(w, "bob", "approve %s" % sid)
            assert st == 0 and "approved in session %s" % sid in out, (st, out, err)
            t.expect(b"escort: approved by bob")
            prompt(t)
            wait_for(lambda: os.path.exists(ok), 10, what="the approved command to run")
            st, out, err = as_user(w, "dave", "deny %s" % sid)
            assert st == 1 and "already approved by bob" in err, (st, out, err)

            # join is not built across proxies, and says so
            r = w.ssh("bob", None, "join %s" % sid, key=w.keys["bob"], extra=("-tt",), timeout=30)
            assert r.returncode == 1 and b"not built" in r.stdout + r.stderr, r

            # kill from A ends the session on B with the reason
            st, out, err = as_user(w, "bob", "kill %s end of the maintenance window" % sid)
            assert st == 0 and "being ended" in out, (st, out, err)
            t.expect(b"end of the maintenance window")
            t.wait()
            wait_for(lambda: sid not in rows(w), 10, what="the killed session to leave the list")

            cmds = json.loads("[" + ",".join(l for l in replay(w, "commands", sid, "--json")
                                              .stdout.decode().splitlines() if l.strip()) + "]")
            mine = [(c["command"], c["decision"], c["approver"]) for c in cmds
                    if c["command"].startswith("touch ")]
            assert mine == [("touch %s" % ok, "allow", "bob")], cmds
            ev = events(w, sid)
            acts = [(e["f"].get("escort_action"), e["f"].get("escort")) for e in ev
                    if e["f"].get("escort_action")]
            assert ("approve", "bob") in acts and ("kill", "bob") in acts, acts

            # proxy B dies: its session is shown as ended within the TTL
            t2, sid2 = shell_on(w, bport)
            wait_for(lambda: sid2 in rows(w), 10, what="A to list the second session")
            pb.kill()
            killed = time.monotonic()
            wait_for(lambda: rows(w).get(sid2, {}).get("state") == "ended", TTL + BEAT + 3,
                     interval=0.2, what="A to show B's session as ended")
            took = time.monotonic() - killed
            row = rows(w)[sid2]
            assert "proxy B stopped answering" in row["ended"], row
            assert took <= TTL + BEAT + 2, took
            st, out, err = as_user(w, "bob", "kill %s" % sid2)
            assert st == 1 and "ended: proxy B stopped answering" in err, (st, out, err)
            # the recording says how it ended
            stop(t2)

            def ended():
                ends = [e for e in events(w, sid2) if e["type"] in ("end", "END")]
                return ends and ends[-1]
            end = wait_for(ended, 15, what="the recorder to end the session")
            assert "proxy-lost" in json.dumps(end["f"]), end
        finally:
            for x in (t, t2):
                if x is not None:
                    stop(x)
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
            rd.stop()
