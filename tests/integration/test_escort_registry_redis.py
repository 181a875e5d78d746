"""Two escort-proxy processes behind Debian's haproxy (TCP mode,
send-proxy-v2), sharing the live-session registry through a real
redis-server that asks for a password (Registry, RegistryPasswordFile
and ProxyName in escort-proxy.conf(5)), one
recorder, one target sshd, real ssh clients.  alice's strict shell comes in
through haproxy and lands on one proxy; bob, connected straight to the
other one, lists it (with its proxy; again after its proxy's entries were
removed from Redis, as when taken for gone), approves her command there (it runs
on the target, she sees "approved by bob", the recording names bob), a
second decision from dave finds it already decided; remote watchers
registered in Redis by hand (with its password, as anyone who has it can)
for her session, with made-up nonces, get nothing: the owning proxy refuses
each (logged once, naming the nonce), writes no stream, and nothing she
printed is anywhere in Redis; bob joins her session
from the other proxy, sees her screen as it was (a marker printed before
he joined), then her output live, the pending command on his status line,
approves it with his `a` key (it runs; the recording names his join, his
approval and his leave; the watcher's keys in Redis exist while he watches
and are removed when he leaves; his nonce, registered again by hand
after he left, gets nothing), and bob's kill ends her session with his
reason, recorded.  Then the proxy that runs alice's second session is
killed with SIGKILL: the other one lists that session as ended ("proxy N
stopped answering") within the registry's 3 s TTL plus one heartbeat, the
recorder records how it ended (proxy-lost, after its ResumeTimeout of 1 s),
bob, who had joined that session from the proxy left, is told it ended
and why ("proxy N stopped answering"),
and a new session through haproxy goes to the proxy left, recorded with the
technician's own address.  Redis is started once, on a free loopback port
in the test's temp dir, without persistence; every process is stopped by
pid.  Last, with Redis stopped, a technician's session still works, an
escort's `sessions` still answers, and the proxy logs the outage once."""
import json, os, re, shutil, signal, subprocess, time
from harness.core import Env, bin_path, free_port, port_open, ssh_base, wait_for
from harness.term import Term
from harness.proxy import ProxyWorld, replay, session_id

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
    approve "touch ..."
}
"""

PASSWORD = "s3cret pass-phrase"   # Redis's requirepass; RegistryPasswordFile
TTL = 3            # PX_RR_TTL_MS / 1000 (registry_redis.h)
BEAT = 1           # PX_RR_BEAT_MS / 1000
CLIENT = "127.0.0.2"   # technicians and escorts connect from here (ssh -b);
                       # haproxy, listed in ProxyProtocol, from 127.0.0.1


def start_redis(env):
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    assert os.path.exists(exe), "redis-server is missing: scripts/deps.sh installs it"
    port = free_port()
    d = os.path.dirname(env.path("redis", "x"))
    rd = env.start("redis-server", [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", d,
                                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                                    "--requirepass", PASSWORD])
    wait_for(lambda: port_open(port) or not rd.alive(), 10, what="redis-server to listen")
    assert rd.alive(), "redis-server died:\n" + rd.log()
    return rd, port


def known(w, port):
    """The proxies' host key known for 127.0.0.1:port too."""
    with open(w.known_hosts) as f:
        key = f.readline().split(None, 1)[1]
    with open(w.known_hosts, "a") as f:
        f.write("[127.0.0.1]:%d %s" % (port, key))


def start_proxy_b(env, w):
    """A second escort-proxy with w's configuration on its own port, state
    directory and ProxyName B; returns (Proc, port)."""
    port = free_port()
    with open(w.conf) as f:
        conf = f.read()
    conf = re.sub(r"(?m)^Listen 127\.0\.0\.1:\d+$", "Listen 127.0.0.1:%d" % port, conf)
    conf = re.sub(r"(?m)^StateDir .*$", "StateDir %s" % os.path.dirname(env.path("state-b", "x")), conf)
    conf = re.sub(r"(?m)^ProxyName A$", "ProxyName B", conf)
    path = env.write("proxy-b.conf", conf)
    known(w, port)
    pb = env.start("escort-proxy-b", [bin_path("escort-proxy"), "-d", "-f", path])
    wait_for(lambda: port_open(port) or not pb.alive(), 10, what="proxy B to listen")
    assert pb.alive(), "proxy B died:\n" + pb.log()
    return pb, port


def start_haproxy(env, w, ports):
    """haproxy in the foreground on a free port, round robin over the
    proxies with PROXY v2 headers and fast health checks; (Proc, port)."""
    exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert os.path.exists(exe), "haproxy is missing: scripts/deps.sh installs it"
    port = free_port()
    servers = "".join("    server %s 127.0.0.1:%d send-proxy-v2 check inter 300 fall 1 rise 1\n"
                      % (n, p) for n, p in ports)
    cfg = env.write("haproxy.cfg", """global
    maxconn 64
defaults
    mode tcp
    retries 2
    option redispatch
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend ssh_in
    bind 127.0.0.1:%d
    default_backend escort
backend escort
    balance roundrobin
%s""" % (port, servers))
    known(w, port)
    hp = env.start("haproxy", [exe, "-db", "-f", cfg])
    wait_for(lambda: port_open(port) or not hp.alive(), 10, what="haproxy to listen")
    assert hp.alive(), "haproxy died:\n" + hp.log()
    return hp, port


def as_user(w, port, user, command):
    """user runs an escort command on the proxy at port."""
    argv = ssh_base(port, w.keys[user], user, known_hosts=w.known_hosts, extra=("-b", CLIENT),
                    loglevel="INFO") + [command]
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def rows(w, port, user="bob"):
    st, out, err = as_user(w, port, user, "sessions --json")
    assert st == 0, (st, out, err)
    return {r["id"]: r for r in (json.loads(l) for l in out.splitlines() if l.strip())}


def shell_via(w, hport):
    argv = ssh_base(hport, w.alice_key, "alice:web01", known_hosts=w.known_hosts,
                    extra=("-tt", "-b", CLIENT), loglevel="INFO")
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


def join_on(w, port, sid):
    """bob's `join sid` on the proxy at port, in a terminal."""
    argv = ssh_base(port, w.keys["bob"], "bob", known_hosts=w.known_hosts,
                    extra=("-tt", "-b", CLIENT), loglevel="INFO") + ["join %s" % sid]
    return Term(argv, rows=25, cols=100)


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


def redis(cli, auth, *args):
    return subprocess.run(cli + list(args), check=True, capture_output=True, env=auth).stdout


def forge(cli, auth, proxy, nonce, sid):
    """Registers a remote watcher of session sid on proxy by hand, as
    registry_redis_follow.c does (registry_redis.h's keys)."""
    redis(cli, auth, "SET", "escort:rwatch:" + nonce, "%s 0" % sid, "PX", "30000")
    redis(cli, auth, "SADD", "escort:rwatchers:" + proxy, nonce)


def unforge(cli, auth, proxy, nonce):
    redis(cli, auth, "SREM", "escort:rwatchers:" + proxy, nonce)
    redis(cli, auth, "DEL", "escort:rwatch:" + nonce, "escort:rwstream:" + nonce)


def streamed(cli, auth, nonce):
    """Whether anything was written to nonce's stream."""
    return int(redis(cli, auth, "EXISTS", "escort:rwstream:" + nonce)) != 0


def refused(proxy, nonce):
    """How often proxy logged that it refused a remote watcher nonce."""
    return proxy.log().count("remote watcher refused (stream %s)" % nonce)


def owner_round(cli, auth, proxy, name, sid, watched):
    """Registers a new made-up watcher of sid on proxy (Proc) named name and
    waits until proxy refused it, or anything was streamed to it or to the
    nonces watched: a round of the owner's watch thread that found every
    watcher registered before it; the returned nonce is unforge's."""
    n = os.urandom(16).hex()
    forge(cli, auth, name, n, sid)
    wait_for(lambda: refused(proxy, n) or any(streamed(cli, auth, f) for f in watched + [n]), 10,
             interval=0.05, what="proxy %s to refuse a watcher registered by hand" % name)
    return n


DUMP = """local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
    local t, v = redis.call('TYPE', k).ok, {}
    if t == 'string' then v = {redis.call('GET', k)}
    elseif t == 'hash' then v = redis.call('HGETALL', k)
    elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
    elseif t == 'set' then v = redis.call('SMEMBERS', k)
    elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1)
    elseif t == 'stream' then
        for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
            for _, f in ipairs(e[2]) do v[#v + 1] = f end
        end
    end
    out[#out + 1] = k
    for _, f in ipairs(v) do out[#out + 1] = f end
end
return out"""


def redis_text(cli, auth):
    """Every key and value in Redis, as one text (one script, atomic)."""
    return redis(cli, auth, "EVAL", DUMP, "0")


def test_escort_on_one_proxy_acts_on_the_other_and_a_proxy_dies():
    with Env() as env:
        rd, rport = start_redis(env)
        keys = {}
        for u in ("bob", "dave"):
            k, pub = env.keygen(u)
            keys[u] = (k, " ".join(pub.split()[:2]))
        pwfile = env.write("redis-password", PASSWORD + "\n", mode=0o600)
        w = ProxyWorld(env, rules=RULES % {u: keys[u][1] for u in keys},
                       extra_conf="Registry redis://127.0.0.1:%d\nRegistryPasswordFile %s\n"
                       "ProxyName A\nApprovalTimeout 60\nProxyProtocol 127.0.0.1\n" % (rport, pwfile),
                       recorder_extra="ResumeTimeout 1\n")
        w.keys = {u: keys[u][0] for u in keys}
        d = os.path.dirname(w.marker("x"))
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        pb, bport = start_proxy_b(env, w)
        proxies = {"A": (w.proxy, w.port), "B": (pb, bport)}
        hp, hport = start_haproxy(env, w, [("A", w.port), ("B", bport)])
        t = t2 = b = None
        try:
            t, sid = shell_via(w, hport)
            # either proxy lists it, named by the proxy it landed on
            wait_for(lambda: sid in rows(w, w.port), 10, what="A to list the session")
            on = rows(w, w.port)[sid]["proxy"]
            other = "B" if on == "A" else "A"
            oport = proxies[other][1]
            row = wait_for(lambda: rows(w, oport).get(sid), 10, what="the other proxy to list it")
            assert row["proxy"] == on and row["user"] == "alice" and row["state"] == "running", row
            st, out, err = as_user(w, oport, "bob", "sessions")
            assert st == 0 and sid in out and "on proxy %s" % on in out, (st, out, err)

            # a proxy taken for gone while it lives (its membership and
            # sessions removed at once, as another proxy does after a
            # heartbeat lost for the TTL) publishes all its sessions again
            cli = [shutil.which("redis-cli") or "/usr/bin/redis-cli", "-p", str(rport)]
            auth = dict(os.environ, REDISCLI_AUTH=PASSWORD)

            def rw_keys():
                r = subprocess.run(cli + ["--scan", "--pattern", "escort:rw*"], check=True,
                                   capture_output=True, env=auth)
                return sorted(k.split(b":")[1] for k in r.stdout.split())
            subprocess.run(cli + ["EVAL", "redis.call('SREM', 'escort:proxies', ARGV[1]); "
                                  "redis.call('DEL', 'escort:sessions:' .. ARGV[1])", "0", on],
                           check=True, capture_output=True, env=auth)
            wait_for(lambda: "taken for gone" in proxies[on][0].log(), BEAT + 3, interval=0.1,
                     what="the proxy to find it was taken for gone")
            wait_for(lambda: sid in rows(w, oport), BEAT + 3, interval=0.2,
                     what="the session shared again")

            # approval from the other proxy; the first decision wins
            ok = w.marker("approved-across")
            t.send(b"touch %s\r" % ok.encode())
            t.expect(b"escort: waiting for an escort's approval of: touch %s" % ok.encode())
            wait_for(lambda: rows(w, oport)[sid]["pending"] == "touch %s" % ok, 10,
                     what="the other proxy to show the pending command")
            st, out, err = as_user(w, oport, "bob", "approve %s" % sid)
            assert st == 0 and "approved in session %s" % sid in out, (st, out, err)
            t.expect(b"escort: approved by bob")
            prompt(t)
            wait_for(lambda: os.path.exists(ok), 10, what="the approved command to run")
            st, out, err = as_user(w, oport, "dave", "deny %s" % sid)
            assert st == 1 and "already approved by bob" in err, (st, out, err)

            # a remote watcher registered by hand (anyone with Redis's
            # password can) gets nothing of the session: its nonce names no
            # join that the session's proxy accepted and recorded.  The
            # owner refuses it, once, naming the nonce; a second one
            # refused after it shows that a later round passed too (the
            # first round that finds an honest watcher writes its screen).
            # Nothing the session printed is in Redis.
            t.send(b"echo 'xs-secret'-7\r")
            t.expect(b"xs-secret-7")
            prompt(t)
            owner = proxies[on][0]
            forged = [owner_round(cli, auth, owner, on, sid, [])]
            forged.append(owner_round(cli, auth, owner, on, sid, forged))
            assert b"xs-secret-7" not in redis_text(cli, auth), "the session's output is in Redis"
            assert not any(streamed(cli, auth, f) for f in forged), \
                "a watcher registered by hand was streamed the session"
            assert refused(owner, forged[0]) == 1, owner.log()[-2000:]
            for n in forged:
                unforge(cli, auth, on, n)

            # join across proxies: bob on the other proxy first sees her
            # screen as it was (a marker printed before he joined), then
            # her output live, the pending command on his status line, and
            # his `a` approves it; q leaves
            t.send(b"echo 'xj-before'-1\r")
            t.expect(b"xj-before-1")
            prompt(t)
            b = join_on(w, oport, sid)
            b.expect(b"xj-before-1")
            b.expect(b"alice on web01")
            t.expect(b"escort: bob joined and watches your session")
            t.send(b"echo 'xj-live'-2\r")
            t.expect(b"xj-live-2")
            prompt(t)
            b.expect(b"xj-live-2")
            # the stream exists while bob watches (and its watcher's keys)
            assert rw_keys() == [b"rwatch", b"rwatchers", b"rwstream"], rw_keys()
            honest = redis(cli, auth, "SMEMBERS", "escort:rwatchers:" + on).split()
            assert len(honest) == 1, honest
            honest = honest[0].decode()
            b.send(b"echo zz-$((3*3))\r")     # none of the view's keys: goes nowhere
            ok2 = w.marker("approved-by-key-across")
            t.send(b"touch %s\r" % ok2.encode())
            t.expect(b"escort: waiting for an escort's approval of: touch %s" % ok2.encode())
            b.expect(b"PENDING a approve, d deny: touch /")
            b.send(b"a")
            t.expect(b"escort: approved by bob")
            prompt(t)
            wait_for(lambda: os.path.exists(ok2), 10, what="the command approved by key to run")
            b.send(b"q")
            b.expect(b"you left the session")
            assert b.wait() == 0
            t.expect(b"escort: bob left")
            assert b"zz-" not in t.log, t.log[-500:]
            # his proxy removes the watcher; the owner writes no more to a
            # stream (one it wrote since expires within 10 s)
            wait_for(lambda: rw_keys() == [], 5, interval=0.2,
                     what="the remote watcher's keys and stream to be removed")
            b = None
            # his nonce is forgotten with his leave: registered again by
            # hand, it gets nothing (two rounds of the owner: one that finds
            # it, one after the first wrote whatever it would)
            forge(cli, auth, on, honest, sid)
            forged = [owner_round(cli, auth, owner, on, sid, [honest])]
            forged.append(owner_round(cli, auth, owner, on, sid, [honest] + forged))
            assert not streamed(cli, auth, honest), "a nonce that left was streamed the session"
            for n in forged + [honest]:
                unforge(cli, auth, on, n)

            # kill from the other proxy ends the session with the reason
            st, out, err = as_user(w, oport, "bob", "kill %s end of the maintenance window" % sid)
            assert st == 0 and "being ended" in out, (st, out, err)
            t.expect(b"end of the maintenance window")
            t.wait()
            wait_for(lambda: sid not in rows(w, oport), 10, what="the killed session to leave the list")

            r = replay(w, "commands", sid, "--json")
            cmds = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
            mine = [(c["command"], c["decision"], c["approver"]) for c in cmds
                    if c["command"].startswith("touch ")]
            assert mine == [("touch %s" % ok, "allow", "bob"), ("touch %s" % ok2, "allow", "bob")], cmds
            acts = [(e["f"].get("escort_action"), e["f"].get("escort")) for e in events(w, sid)
                    if e["f"].get("escort_action")]
            assert ("approve", "bob") in acts and ("kill", "bob") in acts, acts
            assert acts.index(("join", "bob")) < len(acts) - 1 - acts[::-1].index(("approve", "bob")) < \
                acts.index(("leave", "bob")) < acts.index(("kill", "bob")), acts
            assert b"zz-" not in replay(w, "commands", sid, "--json").stdout

            # the proxy running a session dies: the other shows it ended within the TTL
            t2, sid2 = shell_via(w, hport)
            wait_for(lambda: sid2 in rows(w, w.port), 10, what="the second session to be listed")
            dead = rows(w, w.port)[sid2]["proxy"]
            left = "B" if dead == "A" else "A"
            lport = proxies[left][1]
            wait_for(lambda: sid2 in rows(w, lport), 10, what="the proxy left to list it")
            # an escort joined from the proxy left is told why the session ended
            b = join_on(w, lport, sid2)
            b.expect(b"alice on web01")
            t2.expect(b"escort: bob joined")
            proxies[dead][0].kill()
            killed = time.monotonic()
            # shown ended once its key expires: at most TTL after its last
            # heartbeat; the slack is for the listings' own ssh round trips
            # on a loaded machine
            wait_for(lambda: rows(w, lport).get(sid2, {}).get("state") == "ended", TTL + BEAT + 8,
                     interval=0.2, what="the session of the dead proxy shown as ended")
            took = time.monotonic() - killed
            row = rows(w, lport)[sid2]
            assert "proxy %s stopped answering" % dead in row["ended"], row
            assert took <= TTL + BEAT + 6, took
            b.expect(b"the session ended: proxy %s stopped answering" % dead.encode(), timeout=10)
            assert b.wait() == 0
            b = None
            st, out, err = as_user(w, lport, "bob", "kill %s" % sid2)
            assert st == 1 and "ended: proxy %s stopped answering" % dead in err, (st, out, err)
            # the recording says how it ended
            stop(t2)

            def ended():
                ends = [e for e in events(w, sid2) if e["type"] in ("end", "END")]
                return ends and ends[-1]
            end = wait_for(ended, 15, what="the recorder to end the session")
            assert "proxy-lost" in json.dumps(end["f"]), end

            # a new session through haproxy goes to the proxy left
            argv = ssh_base(hport, w.alice_key, "alice:web01", known_hosts=w.known_hosts,
                            extra=("-b", CLIENT), loglevel="INFO") + ["echo after-failover"]
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            assert r.returncode == 0 and r.stdout == b"after-failover\n", r
            sid3 = session_id(r.stderr)
            meta = next(e for e in events(w, sid3) if e["type"] == "meta")
            assert meta["f"]["client_addr"].startswith(CLIENT + ":"), meta
            assert "[%s] " % sid3 in proxies[left][0].log(), "session 3 not on proxy " + left

            # Redis gone: technicians are not affected, escorts see their own
            # proxy's sessions, the outage is logged once
            rd.stop()
            argv[-1] = "echo while-redis-is-down"
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            assert r.returncode == 0 and r.stdout == b"while-redis-is-down\n", r
            st, out, err = as_user(w, lport, "bob", "sessions")
            assert st == 0, (st, out, err)
            log = proxies[left][0].log()
            assert log.count("registry redis://127.0.0.1:%d does not answer" % rport) == 1, log[-3000:]
        finally:
            for x in (t, t2, b):
                if x is not None:
                    stop(x)
            hp.stop()
            for n in proxies:
                if proxies[n][0].alive():
                    assert proxies[n][0].stop() == 0, proxies[n][0].log()[-3000:]
            rd.stop()
