"""File transfers under the same policy as commands, through the real proxy
with the stock OpenSSH sftp and scp clients (scp -O: the legacy protocol,
remote scp -t/-f; plain scp: SFTP underneath).

- Paths a rule denies are refused for every SFTP operation (get, put,
  rename, remove, symlink, mkdir, chmod) and both scp modes; the client's
  output names the rule and its line, and nothing changes on the target.
- The proxy and `escort-policy explain-transfer` agree, on the same paths,
  side by side.
- Shell start-up files and ssh's own files are never written by a transfer,
  unless a rule names the path literally.
- scp: a file named -f does not turn an upload into a download; only the
  exact program name scp is a transfer (`/usr/bin/scp -f` is a command for
  the exec policy, refused with `exec no`)."""
import os, pwd, re, subprocess
from harness.core import Env, bin_path, sha256_file, wait_for
from harness.proxy import ProxyWorld, sftp, scp, file_events

RULES = """
rule vendors {
    who user:alice
    where target:web*
    exec %(exec)s
    sftp %(sftp)s
    allow "cat ..."
    allow "echo ..."
    deny "... /etc/shadow ..."
    deny "... %(secret)s/* ..."
    deny "... */evil.txt ..."
    deny "sftp get %(noget)s/*"
}
"""


class World:
    """ProxyWorld with a denied folder (secret), a folder whose files may
    be listed but not downloaded (noget), and a free one, on the target."""

    def __init__(self, env, sftp_mode="both", exec_mode="yes", extra_rules=""):
        self.env = env
        self.secret = env.path("target-files", "secret", "x")[:-2]
        self.noget = env.path("target-files", "noget", "x")[:-2]
        self.free = env.path("target-files", "free", "x")[:-2]
        rules = RULES % dict(exec=exec_mode, sftp=sftp_mode, secret=self.secret,
                             noget=self.noget) + extra_rules
        self.w = ProxyWorld(env, rules=rules)
        with open(os.path.join(self.secret, "keep.txt"), "w") as f:
            f.write("secret\n")
        with open(os.path.join(self.noget, "data.txt"), "w") as f:
            f.write("listed only\n")
        with open(os.path.join(self.free, "a.txt"), "w") as f:
            f.write("free\n")
        self.home = self.w.target.home          # the login's home as the test sees it
        self.real_home = pwd.getpwnam(self.w.target.login).pw_dir   # as the target sees it
        self.local = env.path("local", "up.txt")
        with open(self.local, "w") as f:
            f.write("echo pwned > /tmp/escort-pwned\n")

    def line_of(self, text):
        with open(self.w.policy_path) as f:
            for i, l in enumerate(f, 1):
                if text in l:
                    return i
        raise AssertionError(text)

    def explain(self, op, *paths):
        r = subprocess.run([bin_path("escort-policy"), "explain-transfer", self.w.policy_path,
                            "alice", "web01", op, *paths],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert r.returncode == 0, r
        out = r.stdout.decode()
        reason = re.search(r"^reason: (.*)$", out, re.M).group(1)
        return out.splitlines()[0], reason


def denied_rule_text(world, needle):
    return "escort: denied by rule 'vendors' (line %d)" % world.line_of(needle)


def test_sftp_denied_paths_name_the_rule_and_agree_with_explain():
    with Env() as env:
        x = World(env)
        got = env.path("local", "got.txt")
        sec = x.secret
        keep = os.path.join(sec, "keep.txt")
        before = sha256_file(keep)
        shadow_rule = denied_rule_text(x, '"... /etc/shadow ..."')
        secret_rule = denied_rule_text(x, '"... %s/* ..."' % sec)
        cases = [
            # batch command, explain op and paths, the rule's text in the output
            ("get /etc/shadow %s" % got, ("get", "/etc/shadow"), shadow_rule),
            ("get /var/log/../../etc/shadow %s" % got, ("get", "/var/log/../../etc/shadow"), shadow_rule),
            ("get %s %s" % (keep, got), ("get", keep), secret_rule),
            ("put %s %s/new.txt" % (x.local, sec), ("put", sec + "/new.txt"), secret_rule),
            ("put %s %s//./new2.txt" % (x.local, sec), ("put", sec + "//./new2.txt"), secret_rule),
            ("rename %s/a.txt %s/moved.txt" % (x.free, sec), ("rename", x.free + "/a.txt", sec + "/moved.txt"),
             secret_rule),
            ("rm %s" % keep, ("rm", keep), secret_rule),
            ("ln -s /etc/shadow %s/link" % x.free, ("symlink", "/etc/shadow", x.free + "/link"), shadow_rule),
            ("ln -s %s/free/../secret/keep.txt %s/link2" % (os.path.dirname(sec), x.free),
             ("symlink", keep, x.free + "/link2"), secret_rule),
            # a link to the folder above: later transfers would reach it
            ("ln -s %s %s/up" % (os.path.dirname(sec), x.free), ("symlink", os.path.dirname(sec),
             x.free + "/up"), "leads to a path denied by rule 'vendors' (line %d)"
             % x.line_of('"... %s/* ..."' % sec)),
            ("mkdir %s/sub" % sec, ("mkdir", sec + "/sub"), secret_rule),
            ("chmod 600 %s" % keep, ("chmod", keep), secret_rule),
        ]
        for cmd, ex, rule in cases:
            r = sftp(x.w, cmd + "\n")
            err = r.stderr.decode()
            assert r.returncode != 0, (cmd, err)
            assert rule in err, (cmd, rule, err)
            verdict, reason = x.explain(*ex)
            assert verdict == "deny", (cmd, verdict, reason)
            assert ("escort: " + reason) in err, (cmd, reason, err)
        # nothing happened on the target
        assert not os.path.exists(got)
        assert sorted(os.listdir(sec)) == ["keep.txt"], os.listdir(sec)
        assert sha256_file(keep) == before and (os.stat(keep).st_mode & 0o777) != 0o600
        assert sorted(os.listdir(x.free)) == ["a.txt"], os.listdir(x.free)
        # a path that may be listed but not downloaded: ls passes, get is
        # refused at OPEN, and explain says the same
        r = sftp(x.w, "ls %s\n" % x.noget)
        assert r.returncode == 0 and b"data.txt" in r.stdout, r
        assert x.explain("ls", x.noget)[0] == "allow"
        r = sftp(x.w, "get %s/data.txt %s\n" % (x.noget, got))
        assert r.returncode != 0 and not os.path.exists(got), r
        verdict, reason = x.explain("get", x.noget + "/data.txt")
        assert verdict == "deny" and "sftp get %s/*" % x.noget in reason, reason
        assert ("escort: " + reason).encode() in r.stderr, r
        # allowed paths still work, and explain says allow
        r = sftp(x.w, "get %s/a.txt %s\nput %s %s/b.txt\n" % (x.free, got, x.local, x.free))
        assert r.returncode == 0, r
        assert sha256_file(got) == sha256_file(os.path.join(x.free, "a.txt"))
        assert sha256_file(os.path.join(x.free, "b.txt")) == sha256_file(x.local)
        assert x.explain("get", x.free + "/a.txt")[0] == "allow"
        assert x.explain("put", x.free + "/b.txt")[0] == "allow"
        # the refusals are recorded, naming the rule
        def denied():
            ev = [e for e in file_events(x.w) if e.get("outcome") == "denied"]
            return ev if any(e["path"] == keep and e["op"] == "remove" for e in ev) else None
        ev = wait_for(denied, 20, 0.3, what="denied remove recorded")
        assert any(secret_rule in (e.get("message") or "") for e in ev), ev
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]


def test_scp_both_modes_refuse_denied_paths():
    with Env() as env:
        x = World(env)
        got = env.path("local", "got.txt")
        keep = os.path.join(x.secret, "keep.txt")
        secret_rule = denied_rule_text(x, '"... %s/* ..."' % x.secret)
        shadow_rule = denied_rule_text(x, '"... /etc/shadow ..."')
        for legacy in (True, False):
            r = scp(x.w, "remote:/etc/shadow", got, legacy=legacy)
            assert r.returncode != 0 and shadow_rule.encode() in r.stderr, (legacy, r)
            r = scp(x.w, "remote:" + keep, got, legacy=legacy)
            assert r.returncode != 0 and secret_rule.encode() in r.stderr, (legacy, r)
            r = scp(x.w, x.local, "remote:%s/new.txt" % x.secret, legacy=legacy)
            assert r.returncode != 0 and secret_rule.encode() in r.stderr, (legacy, r)
        assert not os.path.exists(got)
        assert sorted(os.listdir(x.secret)) == ["keep.txt"]
        # legacy scp naming only the folder: the file's name inside it is
        # decided too (the proxy cannot know the target is a folder)
        with open(env.path("local", "tree", "keep.txt"), "w") as f:
            f.write("overwrite attempt\n")
        r = scp(x.w, env.path("local", "tree", "keep.txt"), "remote:" + x.secret, legacy=True)
        assert r.returncode != 0 and secret_rule.encode() in r.stderr, r
        verdict, reason = x.explain("put", x.secret + "/keep.txt")
        assert verdict == "deny" and ("escort: " + reason).encode() in r.stderr, (reason, r)
        with open(keep) as f:
            assert f.read() == "secret\n"
        # a recursive upload: the allowed file arrives, the denied one not
        os.unlink(env.path("local", "tree", "keep.txt"))
        for name in ("ok.txt", "evil.txt"):
            with open(env.path("local", "tree", name), "w") as f:
                f.write(name)
        r = scp(x.w, "-r", env.path("local", "tree"), "remote:" + x.free, legacy=True)
        assert r.returncode != 0, r
        assert denied_rule_text(x, '"... */evil.txt ..."').encode() in r.stderr, r
        assert os.path.exists(os.path.join(x.free, "tree", "ok.txt"))
        assert not os.path.exists(os.path.join(x.free, "tree", "evil.txt"))
        assert x.explain("put", x.free + "/tree/evil.txt")[0] == "deny"
        # a recursive legacy download: the folder may be listed, its files
        # not; the client prints the refusal and gets nothing
        dl = env.path("local", "dl", "x")[:-2]
        r = scp(x.w, "-r", "remote:" + x.secret, dl, legacy=True)
        assert r.returncode != 0 and secret_rule.encode() in r.stderr, r
        assert not os.path.exists(os.path.join(dl, "secret", "keep.txt")), r
        assert x.explain("get", keep)[0] == "deny" and x.explain("ls", x.secret)[0] == "allow"
        # recorded as denied
        wait_for(lambda: [e for e in file_events(x.w) if e["kind"] == "scp" and e["outcome"] == "denied"
                          and e["path"].endswith("keep.txt")], 20, 0.3, what="scp refusal recorded")
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]


STARTUP = [".bashrc", ".profile", ".ssh/authorized_keys", ".ssh/rc"]


def test_startup_files_refused_on_upload():
    with Env() as env:
        x = World(env)
        os.makedirs(os.path.join(x.home, ".ssh"), exist_ok=True)
        for name in STARTUP:
            for how in ("sftp", "scp -O", "scp"):
                if how == "sftp":
                    r = sftp(x.w, "put %s %s\n" % (x.local, name))
                else:
                    r = scp(x.w, x.local, "remote:" + name, legacy=how == "scp -O")
                assert r.returncode != 0, (name, how, r)
                assert b"is a shell start-up file or an ssh file of the target" in r.stderr, (name, how, r)
                assert not os.path.exists(os.path.join(x.home, name)), (name, how)
            # written as a relative path with tricks, or absolute
            for p in ("./" + name, "foo/../" + name, os.path.join(x.real_home, name)):
                verdict, reason = x.explain("put", p)
                assert verdict == "deny" and "start-up" in reason, (p, reason)
        # renaming a harmless upload onto one, or a symlink to one
        r = sftp(x.w, "put %s up.txt\nrename up.txt .bashrc\n" % x.local)
        assert r.returncode != 0 and not os.path.exists(os.path.join(x.home, ".bashrc")), r
        r = sftp(x.w, "ln -s .ssh/authorized_keys %s/ak\n" % x.free)
        assert r.returncode != 0 and not os.path.lexists(os.path.join(x.free, "ak")), r
        # a legacy scp of a folder holding one
        os.makedirs(env.path("local", "dots", ".ssh"), exist_ok=True)
        with open(env.path("local", "dots", ".ssh", "rc"), "w") as f:
            f.write("touch /tmp/escort-pwned\n")
        r = scp(x.w, "-r", env.path("local", "dots", ".ssh"), "remote:", legacy=True)
        assert r.returncode != 0 and not os.path.exists(os.path.join(x.home, ".ssh", "rc")), r
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]


def test_startup_file_allowed_when_named_literally():
    with Env() as env:
        home = pwd.getpwuid(os.getuid()).pw_dir
        extra = """
rule dotfiles {
    who user:alice
    where target:web*
    sftp both
    allow "sftp put %s/.bashrc"
    allow "sftp put ~/.bashrc"
    allow "sftp stat ..."
    allow "sftp ls ..."
}
""" % home
        x = World(env, extra_rules=extra)
        r = sftp(x.w, "put %s .bashrc\n" % x.local)
        assert r.returncode == 0, r
        assert sha256_file(os.path.join(x.home, ".bashrc")) == sha256_file(x.local)
        os.unlink(os.path.join(x.home, ".bashrc"))
        src = env.path("local", "d", ".bashrc")
        with open(src, "w") as f:
            f.write("# dotfile\n")
        r = scp(x.w, src, "remote:", legacy=True)
        assert r.returncode == 0, r
        assert sha256_file(os.path.join(x.home, ".bashrc")) == sha256_file(src)
        # a glob does not name it; .profile stays refused; the rules are
        # now an allowlist for transfers, so other puts need an allow
        assert x.explain("put", "~/.profile")[0] == "deny"
        verdict, reason = x.explain("put", x.free + "/other.txt")
        assert verdict == "deny" and "no rule allows 'sftp put" in reason, reason
        r = sftp(x.w, "put %s %s/other.txt\n" % (x.local, x.free))
        assert r.returncode != 0 and not os.path.exists(os.path.join(x.free, "other.txt")), r
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]


def ssh_exec(x, command):
    return x.w.ssh("alice", "web01", command)


def test_scp_dash_f_tricks_refused_and_recorded():
    with Env() as env:
        x = World(env, sftp_mode="upload")
        # a file named -f in the folder an upload-only user targets with a
        # glob: the glob is never expanded, and -f never becomes an option
        open(os.path.join(x.home, "-f"), "w").close()
        for cmd in ("scp -t -- -f", "scp -t -f", "scp -t -f /etc/passwd", "scp -tf /etc/passwd",
                    "scp -f /etc/passwd"):
            r = ssh_exec(x, cmd)
            assert r.returncode != 0, (cmd, r)
            assert not r.stdout.startswith(b"C0"), (cmd, r.stdout[:80])   # no file came down
            assert b"escort: scp" in r.stderr, (cmd, r)
        # scp -t with a glob: the target runs scp -t -- '*' (a literal name)
        p = subprocess.run(x.w.ssh_argv("alice", "web01", "scp -t *"), input=b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert not p.stdout.startswith(b"C0"), p
        # recorded as decisions
        r = subprocess.run([bin_path("escort-replay"), "--store", x.w.store, "commands", "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out = r.stdout.decode()
        assert "scp -t -- -f" in out and "scp -f /etc/passwd" in out, out
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]


def test_scp_with_a_path_is_a_command_for_the_exec_policy():
    with Env() as env:
        x = World(env, exec_mode="no")
        for cmd in ("/usr/bin/scp -f /etc/passwd", "./scp -f /etc/passwd", "/usr/bin/scp -t /tmp"):
            r = ssh_exec(x, cmd)
            assert r.returncode != 0, (cmd, r)
            assert b"commands (exec requests) are not allowed" in r.stderr, (cmd, r)
            assert b"root:" not in r.stdout, (cmd, r.stdout[:80])
        assert x.w.proxy.stop() == 0, x.w.proxy.log()[-3000:]
