"""escort-proxy as a daemon: SIGTERM closes live sessions cleanly (the
technician is told, the recording is closed and verifies) and the proxy exits
0; SIGTERM right after sessions end exits 0 as well; SIGHUP reloads the
policy for the next command and ends live sessions a new forbid matches."""
import json, os, signal, subprocess, time
from harness.core import Env, bin_path, wait_for
from harness.proxy import ProxyWorld, session_id, replay

TIMEOUT = 120
# one-second keepalives: these run alone (tests/run.py -j)
SERIAL = ["test_keepalive_ends_session_of_silent_client",
          "test_keepalive_ends_session_of_silent_target"]


def listed(w, sid):
    r = replay(w, "list", "--json")
    for line in r.stdout.decode().splitlines():
        o = json.loads(line)
        if o["id"] == sid:
            return o
    return None


def verify(w, env, sid):
    return replay(w, "verify", sid, "--key", env.path("recorder-ed25519.pub.pem"))


def test_sigterm_during_live_session():
    with Env() as env:
        w = ProxyWorld(env)
        script = env.write("count.sh", "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        first = p.stdout.readline()
        assert first == b"line-1\n", first
        w.proxy.send(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        assert b"escort-proxy is shutting down" in err, err
        assert p.returncode == 255, (p.returncode, err)
        n = len((first + out).split())
        assert 1 <= n < 600, n
        rc = w.proxy.stop()
        assert rc == 0, (rc, w.proxy.log()[-3000:])
        log = w.proxy.log()
        assert "recording not closed" not in log, log[-3000:]
        sid = session_id(err)
        row = wait_for(lambda: listed(w, sid), 10, 0.2, what="session %s listed" % sid)
        assert row["status"] == "closed", row
        v = verify(w, env, sid)
        assert v.returncode == 0, v
        # the recording ends with what the technician saw
        c = replay(w, "cat", sid)
        assert c.returncode == 0, c
        assert c.stdout.endswith(out[-20:]) or out == b"", (c.stdout[-200:], out[-200:])


def test_sigterm_right_after_sessions_end():
    with Env() as env:
        w = ProxyWorld(env)
        sids = []
        for i in range(3):
            r = w.ssh("alice", "web01", "echo run-%d" % i)
            assert r.returncode == 0 and r.stdout == b"run-%d\n" % i, r
            sids.append(session_id(r.stderr))
        # repeated signals during the shutdown are ignored, not fatal
        for _ in range(25):
            w.proxy.send(signal.SIGTERM)
            time.sleep(0.01)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        for sid in sids:
            assert verify(w, env, sid).returncode == 0, sid


def test_sigterm_idle_proxy_and_half_open_connection():
    import socket
    with Env() as env:
        w = ProxyWorld(env)
        s = socket.create_connection(("127.0.0.1", w.port), timeout=5)
        try:
            assert s.recv(64).startswith(b"SSH-2.0-")
            assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        finally:
            s.close()


def descendants(pid):
    """Pids of every live descendant of pid (from /proc)."""
    import os
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            out.append(k)
            todo.append(k)
    return out


def test_keepalive_ends_session_of_silent_client():
    import os
    with Env() as env:
        w = ProxyWorld(env, extra_conf="ClientAliveInterval 1\nClientAliveCountMax 2\n")
        # an idle but live client answers the keepalives and stays
        r = w.ssh("alice", "web01", "sleep 4")
        assert r.returncode == 0, r
        script = env.write("count.sh", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            assert p.stdout.readline() == b"line-1\n"
            os.kill(p.pid, signal.SIGSTOP)
            wait_for(lambda: "not responding to 2 keepalives" in w.proxy.log(), 20, 0.2,
                     what="the proxy to give up on the stopped client")
        finally:
            os.kill(p.pid, signal.SIGCONT)
        p.communicate(timeout=30)
        assert p.returncode == 255, p.returncode
        assert "recording not closed" not in w.proxy.log()
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_keepalive_ends_session_of_silent_target():
    import os
    with Env() as env:
        w = ProxyWorld(env, extra_conf="TargetAliveInterval 1\nTargetAliveCountMax 2\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh -c 'echo started; sleep 60'"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        stopped = []
        try:
            assert p.stdout.readline() == b"started\n"
            stopped = descendants(w.target.proc.pid)
            assert stopped
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
            out, err = p.communicate(timeout=30)
        finally:
            for pid in stopped:
                try:
                    os.kill(pid, signal.SIGCONT)
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        assert b"the target stopped responding" in err, err
        assert p.returncode == 255, p.returncode
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def reload(w, policy_text):
    n = w.proxy.log().count("reloaded; policy")
    with open(w.policy_path, "a") as f:
        f.write(policy_text)
    w.proxy.send(signal.SIGHUP)
    wait_for(lambda: w.proxy.log().count("reloaded; policy") > n or "reload failed" in w.proxy.log(),
             15, 0.1, what="reload")


def test_sighup_policy_applies_to_next_exec_of_live_session():
    with Env() as env:
        w = ProxyWorld(env)
        ctl = env.path("ctl", "mux")
        master = env.start("ssh-master", w.ssh_argv("alice", "web01", None, extra=(
            "-M", "-S", ctl, "-N", "-o", "ControlPersist=no")))
        wait_for(lambda: os.path.exists(ctl) or not master.alive(), 20, 0.1, what="control socket")
        assert master.alive(), master.log()
        mux = lambda cmd: subprocess.run(["ssh", "-F", "/dev/null", "-S", ctl, "-o", "LogLevel=ERROR",
                                          "x", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         stdin=subprocess.DEVNULL, timeout=30)
        r = mux("echo one")
        assert r.returncode == 0 and r.stdout == b"one\n", r
        # a rule now denies echo for everyone on web01: deny wins over allow
        reload(w, 'rule no-echo {\n    who *\n    where target:web01\n    exec yes\n    deny "echo ..."\n}\n')
        assert "reload failed" not in w.proxy.log(), w.proxy.log()[-2000:]
        r = mux("echo two")
        assert r.returncode == 77 and r.stdout == b"", r
        assert b"command denied" in r.stderr, r
        r = mux("printf three")
        assert r.returncode == 0 and r.stdout == b"three", r
        assert master.alive()
        # a broken policy keeps the one in force
        reload(w, "rule broken {\n")
        assert "reload failed" in w.proxy.log()
        r = mux("printf four")
        assert r.returncode == 0 and r.stdout == b"four", r
        master.stop()


def test_sighup_forbid_ends_live_session():
    with Env() as env:
        w = ProxyWorld(env)
        script = env.write("count.sh", "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo line-$i; sleep 0.05; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        assert p.stdout.readline() == b"line-1\n"
        reload(w, "forbid ops-off-web {\n    who attr:team=ops\n    where target:web01\n}\n")
        out, err = p.communicate(timeout=30)
        assert b"policy changed (forbid ops-off-web)" in err, err
        assert p.returncode == 255, p.returncode
        sid = session_id(err)
        row = wait_for(lambda: listed(w, sid), 10, 0.2, what="session listed")
        assert row["status"] == "closed", row
        # new sessions are refused too
        r = w.ssh("alice", "web01", "echo hi")
        assert r.returncode == 77 and b"refused" in r.stderr, r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_bad_config_without_d_says_why_on_stderr():
    """Started as a service (no -d: logs go to syslog), a proxy that cannot
    start still names the file and line on stderr, also where no syslog
    daemon listens."""
    with Env() as env:
        conf = env.write("bad.conf", "Listen 127.0.0.1:1\nWorkers 2\nWorkers 3\nBogus 1\n")
        r = subprocess.run([bin_path("escort-proxy"), "-f", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=30)
        assert r.returncode == 1
        err = r.stderr.decode()
        assert "bad.conf:3: Workers given twice" in err, err
        assert "bad.conf:4: unknown keyword \"Bogus\"" in err, err
        assert "HostKey is required" in err, err


def test_listen_and_hostkey_errors_name_the_config_line():
    """A Listen address that cannot be bound and a HostKey that is no key are
    reported at run time as FILE:LINE: of the keyword, like every other
    mistake in the file."""
    import socket
    with Env() as env:
        w = ProxyWorld(env)
        lines = open(w.conf).read().splitlines(True)
        busy = socket.socket()
        try:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            conf = env.path("busy.conf")
            with open(conf, "w") as f:
                f.write("# a port another program holds\n")
                for l in lines:
                    if l.startswith("Listen "):
                        l = "Listen 127.0.0.1:%d\n" % port
                    elif l.startswith("StateDir "):
                        l = "StateDir %s\n" % os.path.dirname(env.path("state2", "x"))
                    f.write(l)
            n = 1 + next(i + 1 for i, l in enumerate(lines) if l.startswith("Listen "))
            r = subprocess.run([bin_path("escort-proxy"), "-d", "-f", conf], capture_output=True,
                               stdin=subprocess.DEVNULL, timeout=30)
            err = r.stderr.decode()
            assert r.returncode == 1, (r.returncode, err)
            assert "%s:%d: Listen 127.0.0.1:%d: Address already in use" % (conf, n, port) in err, err
        finally:
            busy.close()
        notakey = env.write("notakey", "not a key\n")
        conf = env.write("hk.conf", "".join(
            "HostKey %s\n" % notakey if l.startswith("HostKey ") else l for l in lines))
        n = next(i + 1 for i, l in enumerate(lines) if l.startswith("HostKey "))
        r = subprocess.run([bin_path("escort-proxy"), "-t", "-f", conf], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=30)
        err = r.stderr.decode()
        assert r.returncode == 1, (r.returncode, err)
        assert "%s:%d: HostKey %s cannot be read" % (conf, n, notakey) in err, err
        # a Policy file that is not there is named without a made-up position
        conf = env.write("nopol.conf", "".join(
            "Policy /nonexistent/policy.conf\n" if l.startswith("Policy ") else l for l in lines))
        r = subprocess.run([bin_path("escort-proxy"), "-t", "-f", conf], capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=30)
        err = r.stderr.decode()
        assert r.returncode == 1, (r.returncode, err)
        assert " /nonexistent/policy.conf: cannot read: No such file or directory\n" in err, err
        assert ":0:0" not in err, err
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
