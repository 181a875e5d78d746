"""Two escort-proxy processes behind Debian's haproxy (TCP mode, round
robin, send-proxy-v2) against one proxy alone, in the same run: N real ssh
clients (`-tt`, remote `cat`) opened through haproxy, N more straight to a
third proxy of the same configuration; all three proxies record to one
escort-recorder of this part.  Both sets stay open, and in interleaved
rounds a key is typed in every session of one set at once and each echo
timed (as sessions.py does), then the same in the other set, the order
swapped every round.  Between rounds every set is idle, so the set not
typing costs memory, not CPU.

The CPU seconds of haproxy, the two proxies and the recorder are read from
/proc/PID/stat (utime + stime, every thread) around the rounds typed
through haproxy: haproxy's share of their sum is the load balancer's cost.
How many sessions each proxy got is counted from the kernel's table of
established loopback TCP connections to its port (/proc/net/tcp).

haproxy connects to the proxies from 127.0.0.2, the address listed in
their ProxyProtocol, so that clients on 127.0.0.1 reach the lone proxy with
plain SSH under the very same configuration."""
import os, re, shutil, subprocess, time

from harness.core import free_port, port_open, unix_socket_open, wait_for
import sessions as ss

LB_ADDR = "127.0.0.2"          # haproxy's source address towards the proxies
ROUNDS = int(os.environ.get("ESCORT_BENCH_SESSIONS2_ROUNDS", 5))
OPEN_BUDGET = 300.0            # seconds to open one set of sessions
ECHO_TIMEOUT = 30.0            # seconds for every session of a set to echo
TICK = os.sysconf("SC_CLK_TCK")
MIN_TICKS = 10                 # CPU ratios from fewer ticks are n/a


def haproxy_exe():
    exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return exe if os.access(exe, os.X_OK) else None


def cpu_s(pid):
    """CPU seconds (user + system, every thread) of pid, or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def established_to(port, peer):
    """Established TCP connections on 127.0.0.1:port from the address peer
    (dotted IPv4), from /proc/net/tcp."""
    want_local = "0100007F:%04X" % port
    want_peer = "%02X%02X%02X%02X" % tuple(reversed([int(x) for x in peer.split(".")]))
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                cols = line.split()
                if len(cols) > 3 and cols[1] == want_local and cols[3] == "01" \
                        and cols[2].startswith(want_peer + ":"):
                    n += 1
    except OSError:
        return None
    return n


def mem_available_mib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def percentile(sorted_vals, p):
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


class Daemons:
    """This part's recorder, proxies A, B (behind haproxy) and C (alone),
    and haproxy; every one started by Env and stopped by pid in stop()."""

    def __init__(self, ctx, stack, n):
        self.ctx, self.env, self.stack = ctx, ctx.env, stack
        self.procs = []
        self.dir = os.path.dirname(self.env.path("sessions2", "x"))
        self.ports = {}
        try:
            self._recorder(n)
            for name in ("A", "B", "C"):
                self.ports[name] = self._proxy(name)
            self._haproxy(n)
        except BaseException:
            self.stop()         # the ones started so far, by pid
            raise

    def _wait(self, pred, proc, what):
        try:
            wait_for(lambda: pred() or not proc.alive(), 15, what=what)
        except AssertionError:
            raise RuntimeError("%s never came up: %s" % (what, proc.log()[-300:]))
        if not proc.alive():
            raise RuntimeError("%s exited: %s" % (proc.name, proc.log().strip()[-300:]))

    def _start(self, name, argv):
        p = self.env.start(name, argv)
        self.procs.append(p)
        return p

    def _recorder(self, n):
        self.sock = os.path.join(self.dir, "recorder.sock")
        conf = self.env.write("sessions2/recorder.conf",
                              "Listen unix:%s\nStore %s\nSigningKey %s\nFsync interval 1000\n"
                              "MaxSessions %d\n"
                              % (self.sock, os.path.join(self.dir, "store"),
                                 os.path.join(self.stack.dir, "recorder-ed25519.pem"),
                                 2 * n + 64))
        self.recorder = self._start("sessions2-recorder",
                                    [os.path.join(os.environ["ESCORT_BIN"], "escort-recorder"),
                                     "-d", "-f", conf])
        self._wait(lambda: unix_socket_open(self.sock), self.recorder, "recorder socket")

    def _proxy(self, name):
        with open(self.stack.proxy_conf) as f:
            conf = f.read()
        port = free_port()
        state = os.path.join(self.dir, "state-" + name)
        os.makedirs(state, exist_ok=True)
        conf = re.sub(r"(?m)^Listen .*$", "Listen 127.0.0.1:%d" % port, conf)
        conf = re.sub(r"(?m)^StateDir .*$", "StateDir " + state, conf)
        conf = re.sub(r"(?m)^Recorder .*$", "Recorder unix:" + self.sock, conf)
        conf += "\nProxyProtocol %s\n" % LB_ADDR
        path = self.env.write("sessions2/proxy-%s.conf" % name, conf)
        p = self._start("sessions2-proxy-" + name,
                        [os.path.join(os.environ["ESCORT_BIN"], "escort-proxy"), "-d",
                         "-f", path])
        self._wait(lambda: port_open(port), p, "proxy %s port" % name)
        setattr(self, "proxy_" + name, p)
        return port

    def _haproxy(self, n):
        self.hport = free_port()
        cfg = self.env.write("sessions2/haproxy.cfg", """global
    maxconn %d
defaults
    mode tcp
    timeout connect 5s
    timeout client 30m
    timeout server 30m
frontend ssh_in
    bind 127.0.0.1:%d
    default_backend escort
backend escort
    balance roundrobin
    server A 127.0.0.1:%d send-proxy-v2 source %s
    server B 127.0.0.1:%d send-proxy-v2 source %s
""" % (2 * n + 64, self.hport, self.ports["A"], LB_ADDR, self.ports["B"], LB_ADDR))
        self.haproxy = self._start("sessions2-haproxy", [haproxy_exe(), "-db", "-f", cfg])
        self._wait(lambda: port_open(self.hport), self.haproxy, "haproxy port")

    def cpu_pids(self, through_lb):
        if through_lb:
            return {"haproxy": self.haproxy.pid, "proxy_a": self.proxy_A.pid,
                    "proxy_b": self.proxy_B.pid, "recorder": self.recorder.pid}
        return {"proxy_c": self.proxy_C.pid, "recorder": self.recorder.pid}

    def dead(self):
        return ["%s (status %s)" % (p.name, p.p.returncode) for p in self.procs if not p.alive()]

    def stop(self):
        for p in reversed(self.procs):
            p.stop(timeout=20)


def open_set(argv, n, log, label, batch=20):
    """Opens n clients, batch at a time, each proven open by an echo;
    returns (clients, seconds).  On failure the clients opened so far are
    closed and RuntimeError raised."""
    clients = []
    t0 = time.monotonic()
    try:
        while len(clients) < n:
            if time.monotonic() - t0 > OPEN_BUDGET:
                raise RuntimeError("only %d of %d sessions %s opened in %ds"
                                   % (len(clients), n, label, OPEN_BUDGET))
            new = [ss.Client(argv) for _ in range(min(batch, n - len(clients)))]
            clients.extend(new)
            for c in new:
                c.type(b"#@")
            _, failed = ss.await_echo(new, b"#@", 60)
            if failed:
                raise RuntimeError("%d of a batch of %d sessions %s did not open (at %d open)"
                                   % (len(failed), len(new), label, len(clients) - len(new)))
            if len(clients) % 100 == 0:
                log("   %d sessions %s open, %s MiB available"
                    % (len(clients), label, mem_available_mib()))
    except BaseException:
        close_set(clients)
        raise
    return clients, time.monotonic() - t0


def close_set(clients):
    for c in clients:
        c.stop()
    deadline = time.monotonic() + 20
    for c in clients:
        while c.p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        c.kill()


def type_round(clients, tag):
    """A key typed in every session at once; the seconds to each echo."""
    key = b"#%s#" % tag
    for c in clients:
        c.buf = b""
    for c in clients:
        c.type(key)
    done, failed = ss.await_echo(clients, key, ECHO_TIMEOUT)
    if failed:
        raise RuntimeError("%d of %d sessions did not echo within %d s"
                           % (len(failed), len(clients), ECHO_TIMEOUT))
    return list(done.values())


def sessions2(ctx, stack, n):
    rep = ctx.rep
    first = "sessions2_vs_one_p99"
    if haproxy_exe() is None:
        return rep.na(first, "haproxy is not installed (scripts/deps.sh installs it)")
    if not stack.rec_ok or not stack.ok:
        return rep.na(first, stack.reason or stack.rec_reason)
    ctx.log("   %s MiB available before" % mem_available_mib())
    try:
        d = Daemons(ctx, stack, n)
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        return rep.na(first, str(e))
    sets = {}
    try:
        ctx.log("   recorder pid %d, proxies A %d, B %d (behind haproxy pid %d on %d), "
                "C %d (alone)" % (d.recorder.pid, d.proxy_A.pid, d.proxy_B.pid, d.haproxy.pid,
                                  d.hport, d.proxy_C.pid))
        try:
            sets["lb"], open_lb = open_set(_argv(stack, d.hport), n, ctx.log,
                                           "through haproxy")
            sets["one"], open_one = open_set(_argv(stack, d.ports["C"]), n, ctx.log,
                                             "to proxy C")
        except RuntimeError as e:
            return rep.na(first, "%s; %s" % (e, "; ".join(d.dead()) or "every daemon alive"))
        on_a = established_to(d.ports["A"], LB_ADDR)
        on_b = established_to(d.ports["B"], LB_ADDR)
        lat = {"lb": [], "one": []}
        cpu = {"lb": {}, "one": {}}
        wall = {"lb": 0.0, "one": 0.0}
        for rnd in range(ROUNDS):
            order = ("lb", "one") if rnd % 2 == 0 else ("one", "lb")
            for which in order:
                pids = d.cpu_pids(which == "lb")
                before = {k: cpu_s(p) for k, p in pids.items()}
                t0 = time.monotonic()
                try:
                    lat[which] += type_round(sets[which], b"%s%d" % (which.encode(), rnd))
                except RuntimeError as e:
                    return rep.na(first, "%s %s: %s; %s" % (
                        "through haproxy" if which == "lb" else "to proxy C", "round %d" % rnd,
                        e, "; ".join(d.dead()) or "every daemon alive"))
                wall[which] += time.monotonic() - t0
                after = {k: cpu_s(p) for k, p in pids.items()}
                for k in pids:
                    if before[k] is not None and after[k] is not None:
                        cpu[which][k] = cpu[which].get(k, 0.0) + after[k] - before[k]
        _report(rep, n, open_lb, open_one, on_a, on_b, lat, cpu, wall)
    finally:
        for s in sets.values():
            close_set(s)
        d.stop()


def _argv(stack, port):
    """The bench user's ssh client to 127.0.0.1:port, `-tt cat`."""
    argv = stack.ssh(["-tt"], "cat")
    i = argv.index("-p")
    argv[i + 1] = str(port)
    return argv


def _report(rep, n, open_lb, open_one, on_a, on_b, lat, cpu, wall):
    ms = 1e3
    rep.add("sessions2_open", n, "sessions", "per set, both sets held at once")
    rep.add("sessions2_rounds", ROUNDS, "", "keys typed in every session of each set")
    rep.add("sessions2_open_time", open_lb, "s")
    rep.add("sessions2_one_open_time", open_one, "s")
    if on_a is None or on_b is None:
        rep.na("sessions2_proxy_a_sessions", "/proc/net/tcp unreadable")
    else:
        rep.add("sessions2_proxy_a_sessions", on_a, "sessions")
        rep.add("sessions2_proxy_b_sessions", on_b, "sessions")
    figs = {}
    for which, prefix in (("lb", "sessions2_echo"), ("one", "sessions2_one_echo")):
        v = sorted(lat[which])
        for p in (50, 99):
            figs[(which, p)] = percentile(v, p)
            rep.add("%s_p%d" % (prefix, p), figs[(which, p)] * ms, "ms")
        figs[(which, "max")] = v[-1]
        rep.add("%s_max" % prefix, v[-1] * ms, "ms")
    for k in (50, 99, "max"):
        if figs[("one", k)] > 0:
            rep.add("sessions2_vs_one_%s" % (k if k == "max" else "p%d" % k),
                    figs[("lb", k)] / figs[("one", k)], "x")
    lb, one = cpu["lb"], cpu["one"]
    if len(lb) == 4:
        total = sum(lb.values())
        rep.add("sessions2_haproxy_cpu", lb["haproxy"], "s")
        rep.add("sessions2_proxies_cpu", lb["proxy_a"] + lb["proxy_b"], "s")
        rep.add("sessions2_recorder_cpu", lb["recorder"], "s")
        coarse = "under %d clock ticks of CPU: too coarse for a share" % MIN_TICKS
        if total * TICK >= MIN_TICKS:
            rep.add("sessions2_haproxy_cpu_share", lb["haproxy"] / total, "x",
                    "of haproxy + both proxies + recorder while typing through haproxy")
        else:
            rep.na("sessions2_haproxy_cpu_share", coarse)
        if len(one) == 2:
            rep.add("sessions2_one_proxy_cpu", one["proxy_c"], "s")
            rep.add("sessions2_one_recorder_cpu", one["recorder"], "s")
            rep.add("sessions2_one_cpu", sum(one.values()), "s", "proxy C + recorder")
            if min(total, sum(one.values())) * TICK >= MIN_TICKS:
                rep.add("sessions2_cpu_vs_one", total / sum(one.values()), "x")
            else:
                rep.na("sessions2_cpu_vs_one", coarse)
    else:
        rep.na("sessions2_haproxy_cpu_share", "a daemon exited during the rounds")
    rep.add("sessions2_typing_wall", wall["lb"], "s")
    rep.add("sessions2_one_typing_wall", wall["one"], "s")
