"""The benchmark target: a real OpenSSH sshd on 127.0.0.1 (free port, temp
dir), with limits raised for hundreds of sessions, and with sudo's I/O log
switched on for processes below it only.

When run as root, sshd starts in a private mount namespace in which a sudoers
file written in the temp dir is bind-mounted over /etc/sudoers, and a private
tmpfs is mounted on /run holding an empty utmp (tlog-rec refuses to record
without one): sudo run by a session of this sshd logs output (log_output,
compress_io) into the temp dir, and nothing outside the namespace sees either
change.  In the same namespace the login account's shell start-up files
(~/.bashrc, ~/.profile, ~/.bash_profile) are hidden behind an empty file, so
that every session's start costs what OpenSSH and the shell cost, not what
the account's own setup happens to run.  Without root, or without mount
namespaces, `sudo_ok` is False and the reason is in `sudo_reason`."""
import os, pwd, shutil, subprocess
from harness.core import SSHD, free_port, port_open, wait_for

SUDOERS = """Defaults env_reset
Defaults use_pty
Defaults log_output, compress_io
Defaults iolog_dir={iolog}
Defaults iolog_file=%{{seq}}
Defaults !syslog
{user} ALL=(ALL:ALL) NOPASSWD: ALL
"""

# Run by `sh -c` inside the new mount namespace, with $1 = the sudoers file,
# $2 = an empty file, $3 = the login's home directory.
NAMESPACE_SETUP = ('mount -t tmpfs -o mode=755 escort-bench-run /run'
                   ' && mkdir -m 755 /run/sshd && mkdir -m 1777 /run/lock'
                   ' && : > /run/utmp && chmod 664 /run/utmp'
                   ' && mount --bind "$1" /etc/sudoers'
                   ' && for f in .bashrc .profile .bash_profile; do'
                   ' if [ -f "$3/$f" ]; then mount --bind "$2" "$3/$f" || exit 1; fi; done')


class BenchSshd:
    """Starts at construction; stopped with the Env that owns it (by pid)."""

    def __init__(self, env, authorized, max_sessions=1000):
        self.env = env
        self.login = pwd.getpwuid(os.getuid()).pw_name
        self.port = free_port()
        self.dir = os.path.dirname(env.path("sshd", "x"))
        self.hostkey, self.hostkey_pub = env.keygen("bench_host_ed25519")
        self.iolog = os.path.join(self.dir, "iolog")
        os.makedirs(self.iolog, mode=0o700, exist_ok=True)
        ak = os.path.join(self.dir, "authorized_keys")
        with open(ak, "w") as f:
            f.write("\n".join(authorized) + "\n")
        os.chmod(ak, 0o600)
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.hostkey}
PidFile {self.dir}/sshd.pid
AuthorizedKeysFile {ak}
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
Subsystem sftp internal-sftp
LogLevel ERROR
MaxStartups {max_sessions}:100:{max_sessions}
MaxSessions 20
PrintMotd no
PrintLastLog no
""")
        argv = [SSHD, "-D", "-e", "-f", cfg]
        self.sudo_ok, self.sudo_reason = self._sudo_namespace_argv()
        if self.sudo_ok:
            argv = self.sudo_argv + argv
        os.makedirs("/run/sshd", exist_ok=True)
        self.proc = env.start("bench-sshd", argv)
        wait_for(lambda: port_open(self.port) or not self.proc.alive(), 15,
                 what="sshd to listen")
        if not self.proc.alive():
            raise RuntimeError("sshd failed to start: " + self.proc.log()[-2000:])

    def _sudo_namespace_argv(self):
        if os.getuid() != 0:
            return False, "needs root to run sshd in a mount namespace with its own sudoers"
        for tool in ("unshare", "mount", "sudo"):
            if not shutil.which(tool):
                return False, "%s not installed" % tool
        sudoers = os.path.join(self.dir, "sudoers")
        with open(sudoers, "w") as f:
            f.write(SUDOERS.format(iolog=self.iolog, user=self.login))
        os.chmod(sudoers, 0o440)
        empty = os.path.join(self.dir, "empty")
        open(empty, "w").close()
        args = [sudoers, empty, pwd.getpwuid(os.getuid()).pw_dir]
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            NAMESPACE_SETUP + ' && sudo -n -l >/dev/null',
                            "sh"] + args, capture_output=True, timeout=20)
        if r.returncode != 0:
            return False, "private sudoers in a mount namespace failed: " + \
                r.stderr.decode("utf-8", "replace")[-200:]
        # unshare and sh exec into sshd: the pid Env tracks is sshd's.
        self.sudo_argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                          NAMESPACE_SETUP + ' && shift 3 && exec "$@"',
                          "sh"] + args
        return True, ""

    def clear_iolog(self):
        for e in os.listdir(self.iolog):
            p = os.path.join(self.iolog, e)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                os.unlink(p)

    def known_hosts_line(self):
        return "[127.0.0.1]:%d %s" % (self.port, self.hostkey_pub)


def tree_size(path):
    """Apparent size in bytes of every regular file below path (or of path)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for d, _, files in os.walk(path):
        for n in files:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p):
                total += os.path.getsize(p)
    return total
