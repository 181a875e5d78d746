"""Escort under benchmark: the real escort-recorder and escort-proxy from
ESCORT_BIN, started in the suite's temp dir (unix socket, free loopback port)
with generated keys and a policy admitting the bench user to the bench sshd.

`Stack.ok` is True only when a command really ran through the proxy and came
back intact; otherwise `Stack.reason` says what is missing or what failed."""
import os, subprocess, time
from harness.core import bin_path, free_port, port_open, unix_socket_open, wait_for, ssh_base

USER, TARGET = "bench", "t1"
STRICT_TARGET = TARGET + "-strict"      # the same sshd, under shell strict
ESCORT, ESCORTED_TARGET = "escort", TARGET + "-escorted"   # supervised sessions

POLICY = """# Benchmark policy: one user, one target, the commands the benchmarks run.
user {user} {{
    key "{tech_pub}"
}}

target {target} {{
    address 127.0.0.1:{port}
    login {login}
    identity {identity}
    hostkey "{hostkey}"
    label env bench
}}

rule bench {{
    who user:{user}
    where target:{target}
    shell observe
    exec yes
    sftp both
    allow "cat ..."
    allow "sha256sum ..."
    allow "true"
    allow "exit ..."
}}

target {target}-strict {{
    address 127.0.0.1:{port}
    login {login}
    identity {identity}
    hostkey "{hostkey}"
    label env bench
}}

rule bench-strict {{
    who user:{user}
    where target:{target}-strict
    shell strict
    allow "true"
    allow "cat ..."
    allow "exit ..."
}}

user {escort} {{
    key "{escort_pub}"
}}

target {target}-escorted {{
    address 127.0.0.1:{port}
    login {login}
    identity {identity}
    hostkey "{hostkey}"
    label env bench
}}

rule bench-escorted {{
    who user:{user}
    where target:{target}-escorted
    shell observe
    exec yes
    supervised-by user:{escort}
    allow "cat ..."
    allow "true"
}}

expect allow {user} {target} "cat /etc/hostname"
"""


def _one_line(e):
    t = str(e).strip()
    return t.splitlines()[-1][:200] if t else repr(e)


def _key_words(line):
    return " ".join(line.split()[:2])


class Stack:
    def __init__(self, ctx, fsync="interval 1000"):
        self.ctx, self.env = ctx, ctx.env
        self.ok, self.reason = False, ""          # the proxy, end to end
        self.rec_ok, self.rec_reason = False, ""  # the recorder alone
        self.recorder = self.proxy = None
        self.store = self.env.path("escort", "store", "x")[:-2]
        self.dir = os.path.dirname(self.store)
        self.recorder_pub = None
        self.exits = []                           # (part, status) of proxy deaths
        self._mark = {}
        try:
            self._start_recorder(fsync)
            self.rec_ok = True
        except (OSError, subprocess.SubprocessError, AssertionError, RuntimeError) as e:
            self.rec_reason = self.reason = _one_line(e)
            return
        try:
            self._write_proxy_conf()
            self.start_proxy()
        except (OSError, subprocess.SubprocessError, AssertionError, RuntimeError) as e:
            self.reason = _one_line(e)

    # -- startup -----------------------------------------------------------------
    def _start_recorder(self, fsync):
        env = self.env
        if not os.access(bin_path("escort-recorder"), os.X_OK):
            raise RuntimeError("%s not built" % bin_path("escort-recorder"))
        sign = os.path.join(self.dir, "recorder-ed25519.pem")
        self.recorder_pub = os.path.join(self.dir, "recorder-ed25519.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", sign],
                       check=True, capture_output=True, timeout=30)
        subprocess.run(["openssl", "pkey", "-in", sign, "-pubout", "-out", self.recorder_pub],
                       check=True, capture_output=True, timeout=30)
        self.sock = os.path.join(self.dir, "recorder.sock")
        rconf = env.write("escort/recorder.conf",
                          "Listen unix:%s\nStore %s\nSigningKey %s\nFsync %s\n"
                          % (self.sock, self.store, sign, fsync))
        self.recorder = env.start("escort-recorder", [bin_path("escort-recorder"), "-d",
                                                      "-f", rconf])
        self._wait(lambda: unix_socket_open(self.sock), self.recorder, "recorder socket")

    def _write_proxy_conf(self):
        env, ctx = self.env, self.ctx
        hostkey, _ = env.keygen("proxy_host_ed25519")
        self.escort_key, escort_pub = env.keygen("escort")
        policy = env.write("escort/policy.conf", POLICY.format(
            user=USER, target=TARGET, tech_pub=_key_words(ctx.pub), port=ctx.sshd.port,
            escort=ESCORT, escort_pub=_key_words(escort_pub),
            login=ctx.sshd.login, identity=ctx.identity,
            hostkey=_key_words(ctx.sshd.hostkey_pub)))
        self.port = free_port()
        statedir = os.path.join(self.dir, "proxy-state")
        os.makedirs(statedir, exist_ok=True)
        self.proxy_conf = env.write(
            "escort/proxy.conf",
            "Listen 127.0.0.1:%d\nHostKey %s\nPolicy %s\nRecorder unix:%s\n"
            "StateDir %s\nWorkers 2\n"
            "# the concurrent-session part opens 20 at a time\n"
            "MaxStartups 100:30:200\n%s"
            % (self.port, hostkey, policy, self.sock, statedir,
               os.environ.get("ESCORT_BENCH_PROXY_EXTRA", "")))

    def start_proxy(self):
        """(Re)starts escort-proxy (stopping a running one by pid first) and
        proves it by a command run through it; sets ok/reason."""
        self.ok = False
        if not os.access(bin_path("escort-proxy"), os.X_OK):
            raise RuntimeError("%s not built" % bin_path("escort-proxy"))
        if self.proxy:
            self.proxy.stop(timeout=20)
        self.proxy = self.env.start("escort-proxy", [bin_path("escort-proxy"), "-d",
                                                     "-f", self.proxy_conf])
        self._wait(lambda: port_open(self.port), self.proxy, "proxy port")
        probe = self.env.write("escort/probe.txt", "escort bench probe %d\n" % os.getpid())
        try:
            r = subprocess.run(self.ssh(["-T"], "cat", probe), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            raise RuntimeError("`cat` of a small file through the proxy got no answer in 60 s")
        if r.returncode != 0 or r.stdout != open(probe, "rb").read():
            raise RuntimeError("exec through the proxy failed (exit %d): %s" % (
                r.returncode, (r.stderr or r.stdout).decode("utf-8", "replace").strip()[-200:]))
        self.ok, self.reason = True, ""

    def check_alive(self, part, log):
        """After a part: when the proxy (or recorder) died during it, notes its
        exit status and restarts the proxy for the parts that follow."""
        for proc in (self.recorder, self.proxy):
            if proc and not proc.alive():
                st = proc.p.returncode
                self.exits.append((part, proc.name, st))
                log("   %s exited with status %s during %s: %s" % (
                    proc.name, st, part, proc.log().strip()[-300:]))
        if self.rec_ok and not self.recorder.alive():
            self.ok, self.rec_ok = False, False
            self.reason = self.rec_reason = "escort-recorder exited during %s" % part
            return
        if self.ok and not self.proxy.alive():
            try:
                self.start_proxy()
                log("   escort-proxy restarted, pid %d" % self.proxy.pid)
            except (OSError, subprocess.SubprocessError, AssertionError, RuntimeError) as e:
                self.reason = "escort-proxy exited during %s; restart failed: %s" % (
                    part, _one_line(e))

    def _wait(self, pred, proc, what):
        try:
            wait_for(lambda: pred() or not proc.alive(), 15, what=what)
        except AssertionError:
            raise RuntimeError("%s never came up: %s" % (what, proc.log()[-300:]))
        if not proc.alive():
            raise RuntimeError("%s exited: %s" % (proc.name, proc.log().strip()[-300:]))

    # -- use -----------------------------------------------------------------------
    def ssh(self, extra, *cmd, user=None, key=None):
        """argv of the real ssh client to the proxy as bench:t1 (or user, with
        key), running cmd."""
        return ssh_base(self.port, key or self.ctx.key, user or "%s:%s" % (USER, TARGET),
                        extra=list(extra)) + list(cmd)

    def pid(self):
        return self.proxy.pid if self.proxy else None

    def _files(self):
        out = {}
        for dp, _, files in os.walk(self.store):
            for n in files:
                p = os.path.join(dp, n)
                try:
                    out[p] = os.path.getsize(p)
                except OSError:
                    pass
        return out

    def mark_store(self):
        """Remembers the store's file sizes; see new_recording_size."""
        self._mark = self._files()

    def new_recording_size(self, settle=5.0):
        """Bytes the store grew by since mark_store (session files, indexes,
        journal), once the sizes stop changing (bounded by settle seconds)."""
        deadline, last = time.monotonic() + settle, None
        while True:
            now = self._files()
            grown = sum(s - self._mark.get(p, 0) for p, s in now.items())
            if grown == last or time.monotonic() > deadline:
                return grown
            last = grown
            time.sleep(0.3)

    def store_bytes(self):
        return sum(self._files().values())
