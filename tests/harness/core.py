"""Shared integration-test fixtures: temp dirs, free loopback ports, processes
tracked by pid and always stopped, key generation, and a real OpenSSH sshd.

Every process a test starts goes through `Procs.start` and is stopped by that
test (by pid) when the test's `with Env() as env:` block ends, pass or fail.
"""
import os, signal, socket, subprocess, tempfile, time, shutil, hashlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ESCORT_BIN", os.path.join(ROOT, "bin"))
# the programs under test are the ASan+UBSan build (build/san/bin): tests that
# repeat one check over much data or many inputs do fewer rounds of it
SAN = "san" in BIN
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def bin_path(name):
    return os.path.join(BIN, name)


_port_lock = None  # fd of TMPDIR/escort-ports-UID.lock; its byte locks are our ports
_ports_held = set()  # the ports this process reserved (its own locks never conflict)


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A TCP port on 127.0.0.1 that is free now and reserved for this process.

    The port lies below the kernel's ephemeral range, so no client connection
    takes it as its source port before the server binds it.  The reservation
    is a lock on byte PORT of TMPDIR/escort-ports-UID.lock, held until this
    process (one test) exits: tests run side by side (tests/run.py -j), even
    by two runners, never get the same port.  Bounded: AssertionError after
    500 tries."""
    global _port_lock
    import fcntl, random
    if _port_lock is None:
        path = os.path.join(tempfile.gettempdir(), "escort-ports-%d.lock" % os.getuid())
        _port_lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    hi = min(_ephemeral_low(), 65536) - 1
    lo = 10000 if hi > 12000 else 1024
    for _ in range(500):
        port = random.randint(lo, hi)
        if port in _ports_held:
            continue
        try:
            fcntl.lockf(_port_lock, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
        except OSError:
            continue  # another test holds it
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
            _ports_held.add(port)
            return port
        except OSError:
            fcntl.lockf(_port_lock, fcntl.LOCK_UN, 1, port)
    raise AssertionError("no free loopback port in %d..%d after 500 tries" % (lo, hi))


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """Polls pred() until truthy (returned) or timeout (AssertionError). Bounded."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def proc_ticks():
    """Now, in the clock ticks since boot that /proc/PID/stat's start times use."""
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK")


def wait_process(argv, since, timeout=10.0):
    """Waits (bounded) until a process runs whose command line is argv (a list
    of str) and that started at or after `since` (from proc_ticks()), and
    returns its pid: a key sent before the command started would reach the
    shell alone.  Raises AssertionError at the timeout."""
    want = ("\0".join(argv) + "\0").encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if f.read() != want:
                        continue
                with open("/proc/%s/stat" % p) as f:
                    st = f.read()
            except OSError:
                continue
            if int(st[st.rindex(")") + 2:].split()[19]) >= int(since) - 1:
                return int(p)
        time.sleep(0.05)
    raise AssertionError("no process %r after %.0f s" % (argv, timeout))


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def unix_socket_open(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(path)
            return True
    except OSError:
        return False


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


class Proc:
    def __init__(self, name, popen, log_path):
        self.name, self.p, self.log_path = name, popen, log_path

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def send(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig to the pid and waits; SIGKILL after timeout. Returns exit code."""
        if self.alive():
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        return self.p.returncode

    def kill(self):
        return self.stop(signal.SIGKILL, 5)


class Env:
    """A test's private world: a temp dir and the processes it started.

    with Env() as env:
        sshd = env.sshd()
        ...
    On exit every process is stopped by pid and, on success, the dir removed
    (kept with ESCORT_KEEP=1 or when the test failed, for the log)."""

    def __init__(self, name="escort"):
        self.dir = tempfile.mkdtemp(prefix=name + "-")
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        for p in reversed(self.procs):
            try:
                p.stop(timeout=5)
            except Exception:
                pass
        if et is not None:
            for p in self.procs:
                print("--- log of %s (pid %d) ---" % (p.name, p.pid))
                print(p.log()[-4000:])
        if et is None and not os.environ.get("ESCORT_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write(self, rel, text, mode=0o644):
        p = self.path(rel)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def start(self, name, argv, env=None, stdin=subprocess.DEVNULL, **kw):
        """Starts argv with stdout+stderr to DIR/NAME.log; tracked and stopped at exit."""
        log_path = self.path(name + ".log")
        log = open(log_path, "ab")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        e.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if env:
            e.update(env)
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=stdin,
                             env=e, start_new_session=True, **kw)
        log.close()
        proc = Proc(name, p, log_path)
        self.procs.append(proc)
        return proc

    def keygen(self, name, kind="ed25519", comment=None):
        """OpenSSH key pair DIR/keys/NAME(.pub); returns (private_path, public_line)."""
        p = self.path("keys", name)
        if not os.path.exists(p):
            subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment or name,
                            "-f", p], check=True)
        with open(p + ".pub") as f:
            return p, f.read().strip()

    def sshd(self, login=None, authorized=(), extra="", trace=False):
        """Starts a real OpenSSH sshd on 127.0.0.1:<free port> accepting the given
        public key lines for `login` (default: the current user).  trace=True:
        every command goes through the tracing shell of harness/trace.py
        (the Sshd's .tracer)."""
        return Sshd(self, login, authorized, extra, trace)


class Sshd:
    def __init__(self, env, login, authorized, extra, trace=False):
        import pwd
        self.env = env
        self.tracer = None
        if trace:
            from harness.trace import Tracer
            self.tracer = Tracer(env)
            extra = self.tracer.sshd_config() + extra
        self.login = login or pwd.getpwuid(os.getuid()).pw_name
        self.port = free_port()
        d = env.path("sshd", "x")
        d = os.path.dirname(d)
        self.hostkey, self.hostkey_pub = env.keygen("sshd_host_ed25519")
        ak = os.path.join(d, "authorized_keys")
        with open(ak, "w") as f:
            f.write("\n".join(authorized) + "\n")
        os.chmod(ak, 0o600)
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.hostkey}
PidFile {d}/sshd.pid
AuthorizedKeysFile {ak}
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
AllowTcpForwarding yes
MaxStartups 100:30:200
{extra}
""")
        os.makedirs("/run/sshd", exist_ok=True)
        argv = [SSHD, "-D", "-e", "-f", cfg]
        self.home = pwd.getpwnam(self.login).pw_dir
        if os.geteuid() == 0 and shutil.which("unshare"):
            # The login's shell start-up files (a ~/.bashrc that runs pyenv,
            # say) must not slow or hang the target: in a private mount
            # namespace an empty folder stands in for its home.  Each step
            # execs the next, so the pid stays sshd's.
            self.home = os.path.join(d, "home")
            os.makedirs(self.home, exist_ok=True)
            real = pwd.getpwnam(self.login).pw_dir
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
                    self.home, real] + argv
        self.proc = env.start("sshd", argv)
        wait_for(lambda: port_open(self.port) or not self.proc.alive(), 10, what="sshd to listen")
        if not self.proc.alive():
            raise AssertionError("sshd failed to start:\n" + self.proc.log())

    def known_hosts_line(self):
        return "[127.0.0.1]:%d %s" % (self.port, self.hostkey_pub)


def ssh_base(port, key, user, known_hosts="/dev/null", extra=(), loglevel="ERROR"):
    """argv prefix for the real OpenSSH client, with no config file and no agent.
    loglevel INFO shows the server's banner (with a known_hosts file that
    holds the host key, nothing else is added at INFO but "Connection to
    ... closed." after a pty session)."""
    return ["ssh", "-F", "/dev/null", "-p", str(port), "-i", key,
            "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=" + known_hosts, "-o", "LogLevel=" + loglevel,
            "-o", "ConnectTimeout=10", *extra, "-l", user, "127.0.0.1"]


TOOLS = os.environ.get("ESCORT_TOOLS", os.path.join(ROOT, "build", "release", "tools"))


def tool_path(name):
    """A test tool built from tests/tools/NAME.c (make tools)."""
    return os.path.join(TOOLS, name)
