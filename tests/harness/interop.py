"""Fixtures for interoperability tests: SSH clients and servers other than
OpenSSH, driven for real through escort-proxy.

Servers (targets behind the proxy), each on 127.0.0.1:<free port>:
  Dropbear(env, authorized)   dropbear, host key made by dropbearkey
  Tinysshd(env, authorized)   tinysshd under a small accept loop (this file
                              run as a script), host key by tinysshd-makekey
Both servers read ~LOGIN/.ssh/authorized_keys only; they run in a private
mount namespace where the login's home is a directory of the test's temp
dir, so the real home is never touched (needs root, as the test suite runs).

Clients towards the proxy:
  dbclient_argv(world, ...)   Dropbear's client, key converted by dropbearconvert
  plink_argv(world, ...)      PuTTY's plink (and pscp/psftp), key made by
                              puttygen, host key accepted by -hostkey FINGERPRINT
  PtyRun                      a client run on a pseudo-terminal, read with
                              bounded waits

Every process goes through env.start or subprocess.run with a timeout, so it is
stopped by pid when the test ends."""
import base64, os, pwd, re, select, signal, socket, struct, subprocess, sys, time

if __name__ == "__main__":  # run as the accept loop: find the harness package
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.core import free_port, port_open, wait_for

LOGIN = pwd.getpwuid(os.getuid()).pw_name
HOME = pwd.getpwuid(os.getuid()).pw_dir


def openssh_line(keytype, blob):
    """An OpenSSH public key line from its type name and wire blob."""
    return "%s %s" % (keytype, base64.b64encode(blob).decode())


def _private_home(env, name, authorized):
    """DIR/NAME-home/.ssh/authorized_keys holding the given lines (mode 0700/0600)."""
    home = os.path.dirname(env.path(name + "-home", ".ssh", "authorized_keys"))
    home = os.path.dirname(home)
    os.chmod(home, 0o700)
    os.chmod(os.path.join(home, ".ssh"), 0o700)
    ak = os.path.join(home, ".ssh", "authorized_keys")
    with open(ak, "w") as f:
        f.write("\n".join(authorized) + "\n")
    os.chmod(ak, 0o600)
    return home


def _in_private_home(home, argv):
    """argv run in a new mount namespace where HOME is bind-mounted from home."""
    if os.getuid() != 0:
        raise AssertionError("dropbear/tinysshd targets need root for a private home "
                             "(they read only ~/.ssh/authorized_keys)")
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", home, HOME] + argv


class Dropbear:
    """A dropbear server accepting `authorized` key lines for LOGIN.

    keytype: ed25519 (default), ecdsa or rsa. hostkey_pub: the OpenSSH public
    line of its host key, as the policy pins it."""

    def __init__(self, env, authorized, keytype="ed25519", extra=()):
        self.env = env
        self.login = LOGIN
        self.port = free_port()
        self.hostkey = env.path("dropbear-%d" % self.port, "host_" + keytype)
        if not os.path.exists(self.hostkey):
            subprocess.run(["dropbearkey", "-t", keytype, "-f", self.hostkey], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        out = subprocess.run(["dropbearkey", "-y", "-f", self.hostkey], check=True,
                             stdout=subprocess.PIPE, timeout=30).stdout.decode()
        line = next(l for l in out.splitlines() if l.startswith(("ssh-", "ecdsa-")))
        self.hostkey_pub = " ".join(line.split()[:2])
        home = _private_home(env, "dropbear", authorized)
        argv = ["dropbear", "-F", "-E", "-s", "-m", "-r", self.hostkey,
                "-p", "127.0.0.1:%d" % self.port, "-P", env.path("dropbear-%d" % self.port, "pid"),
                *extra]
        self.proc = env.start("dropbear-%s" % keytype, _in_private_home(home, argv))
        wait_for(lambda: port_open(self.port) or not self.proc.alive(), 10,
                 what="dropbear to listen")
        assert self.proc.alive(), "dropbear failed to start:\n" + self.proc.log()


class Tinysshd:
    """tinysshd accepting `authorized` (ssh-ed25519) key lines for LOGIN, one
    tinysshd per connection forked by this file's accept loop."""

    def __init__(self, env, authorized):
        self.env = env
        self.login = LOGIN
        self.port = free_port()
        keydir = env.path("tinyssh", "keys", "x")[:-2]
        if not os.path.exists(os.path.join(keydir, "ed25519.pk")):
            os.rmdir(keydir)
            subprocess.run(["tinysshd-makekey", keydir], check=True, timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(keydir, "ed25519.pk"), "rb") as f:
            pk = f.read()
        blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", len(pk)) + pk
        self.hostkey_pub = openssh_line("ssh-ed25519", blob)
        home = _private_home(env, "tinyssh", authorized)
        sftp = next((p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server",
                                 "/usr/lib/ssh/sftp-server") if os.path.exists(p)), None)
        # the interpreter must lie outside the home that is mounted over
        py = sys.executable if not sys.executable.startswith(HOME + "/") else "/usr/bin/python3"
        argv = [py, os.path.abspath(__file__), "accept", str(self.port),
                "tinysshd", "-v"] + (["-x", "sftp=" + sftp] if sftp else []) + [keydir]
        self.proc = env.start("tinysshd", _in_private_home(home, argv))
        wait_for(lambda: port_open(self.port) or not self.proc.alive(), 10,
                 what="tinysshd accept loop to listen")
        assert self.proc.alive(), "tinysshd loop failed to start:\n" + self.proc.log()


def pinned_target(name, server, identity, labels="label env test"):
    """Policy text for a target block pointing at server (Dropbear, Tinysshd or Sshd)."""
    return """
target %s {
    address 127.0.0.1:%d
    login %s
    identity %s
    hostkey "%s"
    %s
}
""" % (name, server.port, server.login, identity,
       " ".join(server.hostkey_pub.split()[:2]), labels)


# ---- clients ----------------------------------------------------------------

def dropbear_key(env, openssh_key):
    """openssh_key converted to Dropbear's format (cached beside it)."""
    out = openssh_key + ".dropbear"
    if not os.path.exists(out):
        subprocess.run(["dropbearconvert", "openssh", "dropbear", openssh_key, out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return out


def dbclient_argv(world, login, command=None, extra=(), key=None):
    """dbclient towards the proxy as `login` (given with -l, so a ':' in it is
    never read as part of the host), host key not checked (-y -y), with the
    OpenSSH private key `key` (default alice's) converted."""
    argv = ["dbclient", "-y", "-y", "-i", dropbear_key(world.env, key or world.alice_key),
            "-p", str(world.port), "-l", login, *extra, "127.0.0.1"]
    if command is not None:
        argv.append(command)
    return argv


def client_env(world):
    """Environment for dbclient and PuTTY tools: HOME in the temp dir so they
    write no known-hosts or ~/.putty state into the real home."""
    e = dict(os.environ)
    e["HOME"] = os.path.dirname(world.env.path("client-home", "x"))
    return e


def putty_key(env, openssh_key):
    """openssh_key as a PuTTY .ppk made by puttygen (cached beside it)."""
    out = openssh_key + ".ppk"
    if not os.path.exists(out):
        subprocess.run(["puttygen", openssh_key, "-O", "private", "-o", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return out


def proxy_fingerprint(world):
    """SHA256:... fingerprint of the proxy's host key (ssh-keygen -l)."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", world.hostkey_key + ".pub"],
                         check=True, stdout=subprocess.PIPE, timeout=30).stdout.decode()
    return out.split()[1]


def putty_opts(world, login, port_flag="-P", key=None):
    """Options shared by plink, pscp and psftp towards the proxy."""
    return ["-batch", "-noagent", "-hostkey", proxy_fingerprint(world),
            "-i", putty_key(world.env, key or world.alice_key), port_flag, str(world.port),
            "-l", login]


def plink_argv(world, login, command=None, extra=(), key=None):
    argv = ["plink", "-ssh", *putty_opts(world, login, key=key), *extra, "127.0.0.1"]
    if command is not None:
        argv.append(command)
    return argv


def run(argv, env=None, input=None, timeout=60):
    """Runs a client; CompletedProcess with bytes stdout and stderr."""
    return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          env=env, timeout=timeout)


class PtyRun:
    """A client on a pseudo-terminal of rows x cols (its own session, the pty
    its controlling terminal), stopped by pid through env.procs."""

    def __init__(self, env, name, argv, cli_env=None, rows=30, cols=100):
        import fcntl, termios
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.set_blocking(self.master, False)

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        # env.start sends stdout and stderr to the log: pty_argv points them
        # back at the terminal (stdin), so the client has the pty on all three.
        self.proc = env.start(name, pty_argv(argv), env=cli_env, stdin=slave, preexec_fn=ctty)
        os.close(slave)
        self.buf = b""

    def read_until(self, pattern, timeout=20):
        """Reads until the regex (bytes) matches the output so far; returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got %r" % (pattern, self.buf[-2000:]))
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    d = os.read(self.master, 65536)
                except OSError:
                    d = b""
                if not d and not self.proc.alive():
                    m = rx.search(self.buf)
                    if m:
                        return m
                    raise AssertionError("client exited waiting for %r; got %r\n%s"
                                         % (pattern, self.buf[-2000:], self.proc.log()[-2000:]))
                self.buf += d

    def write(self, data):
        os.write(self.master, data)

    def wait(self, timeout=20):
        """Waits for the client to exit (draining the pty); returns its exit code."""
        deadline = time.monotonic() + timeout
        while self.proc.alive() and time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    pass
        if self.proc.alive():
            raise AssertionError("client still running; output %r" % self.buf[-2000:])
        return self.proc.p.returncode

    def close(self):
        os.close(self.master)


def pty_argv(argv):
    """argv wrapped so its stdout and stderr are the pty too (stdin already is)."""
    return ["sh", "-c", 'exec "$@" >&0 2>&0', "sh"] + list(argv)


# ---- recordings ---------------------------------------------------------------

def sessions(world):
    """{id: list-entry} of every recording in the store (escort-replay list --json)."""
    import json
    from harness.proxy import replay
    r = replay(world, "list", "--json")
    assert r.returncode == 0, r
    return {o["id"]: o for o in map(json.loads, r.stdout.decode().splitlines())}


def assert_recorded(world, sid=None, count=None, timeout=20):
    """Waits until session sid (or every session, at least `count` of them) is
    closed in the store, then checks `escort-replay verify --all --key` passes.
    Returns the list entries."""
    from harness.proxy import replay

    def closed():
        s = sessions(world)
        if sid is not None and sid not in s:
            return None
        if count is not None and len(s) < count:
            return None
        want = [s[sid]] if sid is not None else list(s.values())
        return s if want and all(o.get("end") is not None for o in want) else None
    s = wait_for(closed, timeout, 0.2, what="recording %s to close" % (sid or "(all)"))
    v = replay(world, "verify", "--all", "--key", world.env.path("recorder-ed25519.pub.pem"))
    assert v.returncode == 0, "verify failed: %r" % (v,)
    return s


def banner_id(stderr):
    """The session id from the proxy's banner in a client's stderr (or pty output)."""
    m = re.search(rb"escort: session (\S+) is recorded", stderr)
    assert m, "no recording banner in %r" % stderr[-2000:]
    return m.group(1).decode()


# ---- the tcpserver-like accept loop for tinysshd -----------------------------

def _accept_loop(port, argv):
    """Listens on 127.0.0.1:port; for each connection forks argv with the
    socket as stdin and stdout. Exits on SIGTERM, stopping its children."""
    children = set()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)

    def stop(*_):
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        r, _, _ = select.select([ls], [], [], 0.5)
        for pid in list(children):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    children.discard(pid)
            except ChildProcessError:
                children.discard(pid)
        if not r:
            continue
        conn, _ = ls.accept()
        pid = os.fork()
        if pid == 0:
            ls.close()
            os.dup2(conn.fileno(), 0)
            os.dup2(conn.fileno(), 1)
            conn.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        children.add(pid)
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "accept":
        _accept_loop(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit("usage: interop.py accept PORT COMMAND...")
