"""Fixtures for escort-proxy integration tests: a real OpenSSH sshd as the
target, the real escort-recorder, the real escort-proxy, a policy file and
keys, all in the test's temp dir (harness.core.Env).

    with Env() as env:
        w = ProxyWorld(env)                  # target + recorder + proxy
        r = w.ssh("alice", "web01", "echo hi")
        assert r.returncode == 0
"""
import os, pwd, re, signal, subprocess, time
from harness.core import (Env, bin_path, free_port, port_open, unix_socket_open, wait_for,
                          ssh_base)

DEFAULT_RULES = """
rule techs {
    who user:alice
    where target:web*
    shell observe
    exec yes
    sftp both
    allow "echo ..."
    allow "printf ..."
    allow "cat ..."
    allow "head ..."
    allow "sha256sum ..."
    allow "sh ..."
    allow "stty ..."
    allow "exit ..."
    allow "sleep ..."
    allow "kill ..."
    allow "true"
    allow "false"
    allow "yes ..."
    deny "rm ..."
}
"""


def read_vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ProxyWorld:
    """Target sshd, recorder and proxy wired together.

    users: {name: public-key-line}; by default alice with a fresh key.
    rules: policy text appended after users and targets.
    pin: host key line pinned for web01 (default: the real one)."""

    def __init__(self, env, rules=DEFAULT_RULES, pin=None, start_recorder=True, extra_conf="",
                 extra_targets="", recorder_tls=None, sshd_extra="", trace=False,
                 recorder_extra=""):
        """recorder_tls: None, or dict(server_cert, server_key, client_ca, ca, cert, key):
        the recorder also listens with mutual TLS on 127.0.0.1 and the proxy
        records through tls:// with RecorderCA=ca, RecorderCertificate=cert,
        RecorderKey=key.
        sshd_extra: more sshd_config lines for the target.
        trace: the target records every command it receives and what bash ran
        (harness/trace.py; self.target.tracer).
        recorder_extra: more recorder.conf lines (e.g. "AuditLog PATH\n")."""
        self.env = env
        self.alice_key, self.alice_pub = env.keygen("alice")
        self.mallory_key, self.mallory_pub = env.keygen("mallory")
        self.proxy_id_key, self.proxy_id_pub = env.keygen("proxy_to_target")
        self.target = env.sshd(authorized=[self.proxy_id_pub], extra=sshd_extra, trace=trace)
        self.hostkey_key, hostkey_pub = env.keygen("proxy_host")
        pinned = pin or self.target.hostkey_pub
        pinned = " ".join(pinned.split()[:2])
        alice = " ".join(self.alice_pub.split()[:2])
        self.policy_path = env.write("policy.conf", """
user alice {
    key "%s"
    attr team ops
}
target web01 {
    address 127.0.0.1:%d
    login %s
    home %s
    identity %s
    hostkey "%s"
    label env test
}
%s
%s
""" % (alice, self.target.port, self.target.login, pwd.getpwnam(self.target.login).pw_dir,
       self.proxy_id_key, pinned, extra_targets, rules))
        self.rec_sock = env.path("run", "recorder.sock")
        self.store = env.path("store", "x")[:-2]
        os.makedirs(self.store, exist_ok=True)
        self.sign_key = env.path("recorder-ed25519.pem")
        if not os.path.exists(self.sign_key):
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", self.sign_key],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["openssl", "pkey", "-in", self.sign_key, "-pubout",
                            "-out", env.path("recorder-ed25519.pub.pem")], check=True)
        rec_extra, recorder_line = "", "Recorder unix:%s" % self.rec_sock
        if recorder_tls:
            self.rec_tls_port = free_port()
            rec_extra = "Listen tls://127.0.0.1:%d\nTLSCertificate %s\nTLSKey %s\nTLSClientCA %s\n" % (
                self.rec_tls_port, recorder_tls["server_cert"], recorder_tls["server_key"],
                recorder_tls["client_ca"])
            recorder_line = "Recorder tls://127.0.0.1:%d\nRecorderCA %s\nRecorderCertificate %s\n" \
                "RecorderKey %s" % (self.rec_tls_port, recorder_tls["ca"], recorder_tls["cert"],
                                    recorder_tls["key"])
        self.rec_conf = env.write("recorder.conf", "Listen unix:%s\nStore %s\nSigningKey %s\nFsync never\n%s%s"
                                  % (self.rec_sock, self.store, self.sign_key, rec_extra,
                                     recorder_extra))
        self.recorder = None
        if start_recorder:
            self.start_recorder()
        self.port = free_port()
        # a keyword may be given once: one named in extra_conf replaces its default here
        defaults = "".join("%s %s\n" % kv for kv in (("Workers", 2), ("LoginGraceTime", 10),
                                                      ("RecorderTimeout", 5))
                           if not re.search(r"(?im)^\s*%s\s" % kv[0], extra_conf))
        self.conf = env.write("proxy.conf", """Listen 127.0.0.1:%d
HostKey %s
Policy %s
%s
StateDir %s
%s%s
""" % (self.port, self.hostkey_key, self.policy_path, recorder_line, env.path("state", "x")[:-2],
            defaults, extra_conf))
        # the proxy's key known, so that ssh at LogLevel INFO (which shows the
        # proxy's "session ... is recorded" banner) adds no host key warning
        self.known_hosts = env.write("proxy_known_hosts", "[127.0.0.1]:%d %s\n" % (
            self.port, " ".join(hostkey_pub.split()[:2])))
        self.proxy = env.start("escort-proxy", [bin_path("escort-proxy"), "-d", "-f", self.conf])
        wait_for(lambda: port_open(self.port) or not self.proxy.alive(), 10, what="proxy to listen")
        assert self.proxy.alive(), "proxy died:\n" + self.proxy.log()

    def start_recorder(self):
        if os.path.exists(self.rec_sock):
            os.unlink(self.rec_sock)
        argv = os.environ.get("ESCORT_TEST_RECORDER")
        argv = argv.split() + [self.rec_sock, self.store] if argv else \
            [bin_path("escort-recorder"), "-d", "-f", self.rec_conf]
        self.recorder = self.env.start("escort-recorder", argv)
        wait_for(lambda: unix_socket_open(self.rec_sock) or not self.recorder.alive(), 10,
                 what="recorder to listen")
        assert self.recorder.alive(), "recorder died:\n" + self.recorder.log()

    def ssh_argv(self, user, target=None, command=None, key=None, extra=()):
        login = user + (":" + target if target else "")
        argv = ssh_base(self.port, key or self.alice_key, login, known_hosts=self.known_hosts,
                        extra=extra, loglevel="INFO")
        if command is not None:
            argv.append(command)
        return argv

    def ssh(self, user, target=None, command=None, key=None, extra=(), input=None, timeout=60):
        """Runs the real ssh client; returns CompletedProcess with bytes."""
        return subprocess.run(self.ssh_argv(user, target, command, key, extra), input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def marker(self, name):
        return self.env.path("target-files", name)

    def recordings(self):
        """Paths of every regular file under the recorder's store."""
        out = []
        for root, _, files in os.walk(self.store):
            out.extend(os.path.join(root, f) for f in files)
        return out


def strip_banner(stderr):
    """stderr without the proxy's 'session ... is recorded' banner and
    OpenSSH's 'Connection to ... closed.' (both shown at LogLevel INFO)."""
    lines = stderr.decode("utf-8", "replace").splitlines(True)
    return "".join(l for l in lines if not (l.startswith("escort: session ") and "is recorded" in l)
                   and not (l.startswith("Connection to ") and l.rstrip().endswith(" closed.")))


def session_id(stderr):
    """The recording id from the proxy's banner on stderr."""
    import re
    m = re.search(rb"escort: session (\S+) is recorded", stderr)
    assert m, stderr
    return m.group(1).decode()


def replay(world, *args):
    """escort-replay on the world's store; its readers verify with the
    recorder's public key (ESCORT_KEY)."""
    env = dict(os.environ, ESCORT_KEY=world.env.path("recorder-ed25519.pub.pem"))
    return subprocess.run([bin_path("escort-replay"), "--store", world.store, *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=env)


def client_opts(world, key=None, user="alice", target="web01"):
    """-o options shared by ssh, sftp and scp towards the proxy (the
    USER:TARGET login goes in User=, as sftp and scp split host:path on ':')."""
    return ["-F", "/dev/null", "-i", key or world.alice_key, "-o", "IdentitiesOnly=yes",
            "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=" + world.known_hosts, "-o", "LogLevel=INFO",
            "-o", "ConnectTimeout=10", "-o", "User=%s:%s" % (user, target)]


def sftp(world, batch, timeout=60, **kw):
    """Runs the real sftp client with a batch of commands; CompletedProcess."""
    path = world.env.write("sftp-batch-%d.txt" % int(time.monotonic() * 1e6), batch)
    return subprocess.run(["sftp", *client_opts(world, **kw), "-P", str(world.port), "-b", path,
                           "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def scp(world, *args, legacy=False, timeout=60, **kw):
    """Runs the real scp client (-O: legacy protocol); paths on the target are
    written "remote:PATH"."""
    argv = ["scp", *client_opts(world, **kw), "-P", str(world.port)] + (["-O"] if legacy else [])
    argv += [a.replace("remote:", "127.0.0.1:") for a in args]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def file_events(world):
    """Every FILE summary of every recording in the store (escort-rec-dump),
    as dicts, in session order."""
    import json
    from harness.core import tool_path
    out = []
    r = replay(world, "list", "--json")
    for line in r.stdout.decode().splitlines():
        sid = json.loads(line)["id"]
        d = subprocess.run([tool_path("escort-rec-dump"), "--store", world.store, sid],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert d.returncode == 0, d
        for l in d.stdout.decode().splitlines():
            o = json.loads(l)
            o["session"] = sid
            out.append(o)
    return out
