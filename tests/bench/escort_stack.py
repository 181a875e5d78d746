"""Escort under benchmark: the real escort-recorder and escort-proxy from
ESCORT_BIN, started in the suite's temp dir (unix socket, free loopback port)
with generated keys and a policy admitting the bench user to the bench sshd.

`Stack.ok` is True only when a command really ran through the proxy and came
back intact; otherwise `Stack.reason` says what is missing or what failed."""
import os, subprocess, time
from harness.core import bin_path, free_port, port_open, unix_socket_open, wait_for, ssh_base

USER, TARGET = "bench", "t1"

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
}}

expect allow {user} {target} "cat /etc/hostname"
"""


def _key_words(line):
    return " ".join(line.split()[:2])


class Stack:
    def __init__(self, ctx, fsync="interval 1000"):
        self.ctx, self.env = ctx, ctx.env
        self.ok, self.reason = False, ""
        self.recorder = self.proxy = None
        self.store = self.env.path("escort", "store", "x")[:-2]
        self.recorder_pub = None
        self._mark = {}
        try:
            self._start(fsync)
        except (OSError, subprocess.SubprocessError, AssertionError, RuntimeError) as e:
            self.reason = str(e).strip().splitlines()[-1][:200] if str(e).strip() else repr(e)

    # -- startup -----------------------------------------------------------------
    def _start(self, fsync):
        env, ctx = self.env, self.ctx
        for prog in ("escort-recorder", "escort-proxy"):
            if not os.access(bin_path(prog), os.X_OK):
                raise RuntimeError("%s not built" % bin_path(prog))
        d = os.path.dirname(self.store)
        sign = os.path.join(d, "recorder-ed25519.pem")
        self.recorder_pub = os.path.join(d, "recorder-ed25519.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", sign],
                       check=True, capture_output=True, timeout=30)
        subprocess.run(["openssl", "pkey", "-in", sign, "-pubout", "-out", self.recorder_pub],
                       check=True, capture_output=True, timeout=30)
        sock = os.path.join(d, "recorder.sock")
        rconf = env.write("escort/recorder.conf",
                          "Listen unix:%s\nStore %s\nSigningKey %s\nFsync %s\n"
                          % (sock, self.store, sign, fsync))
        self.recorder = env.start("escort-recorder", [bin_path("escort-recorder"), "-d",
                                                      "-f", rconf])
        self._wait(lambda: unix_socket_open(sock), self.recorder, "recorder socket")

        hostkey, _ = env.keygen("proxy_host_ed25519")
        policy = env.write("escort/policy.conf", POLICY.format(
            user=USER, target=TARGET, tech_pub=_key_words(ctx.pub), port=ctx.sshd.port,
            login=ctx.sshd.login, identity=ctx.identity,
            hostkey=_key_words(ctx.sshd.hostkey_pub)))
        self.port = free_port()
        statedir = os.path.join(d, "proxy-state")
        os.makedirs(statedir, exist_ok=True)
        pconf = env.write("escort/proxy.conf",
                          "Listen 127.0.0.1:%d\nHostKey %s\nPolicy %s\nRecorder unix:%s\n"
                          "StateDir %s\nWorkers 2\n"
                          "# the concurrent-session part opens 20 at a time\n"
                          "MaxStartups 100:30:200\n%s"
                          % (self.port, hostkey, policy, sock, statedir,
                             os.environ.get("ESCORT_BENCH_PROXY_EXTRA", "")))
        self.proxy = env.start("escort-proxy", [bin_path("escort-proxy"), "-d", "-f", pconf])
        self._wait(lambda: port_open(self.port), self.proxy, "proxy port")

        probe = self.env.write("escort/probe.txt", "escort bench probe %d\n" % os.getpid())
        r = subprocess.run(self.ssh(["-T"], "cat", probe), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        if r.returncode != 0 or r.stdout != open(probe, "rb").read():
            raise RuntimeError("exec through the proxy failed (exit %d): %s" % (
                r.returncode, (r.stderr or r.stdout).decode("utf-8", "replace").strip()[-200:]))
        self.ok = True

    def _wait(self, pred, proc, what):
        try:
            wait_for(lambda: pred() or not proc.alive(), 15, what=what)
        except AssertionError:
            raise RuntimeError("%s never came up: %s" % (what, proc.log()[-300:]))
        if not proc.alive():
            raise RuntimeError("%s exited: %s" % (proc.name, proc.log().strip()[-300:]))

    # -- use -----------------------------------------------------------------------
    def ssh(self, extra, *cmd, user=None):
        """argv of the real ssh client to the proxy as bench:t1, running cmd."""
        return ssh_base(self.port, self.ctx.key, user or "%s:%s" % (USER, TARGET),
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
