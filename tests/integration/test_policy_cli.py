"""escort-policy driven as a policy admin would: check (exit codes,
FILE:LINE:COL lines, warnings and --strict), explain (first line exactly the
verdict, the deciding rule and line), test, diff, include, admit/targets,
--help and --version.  Real keys come from ssh-keygen."""
import os
import subprocess

from harness.core import Env, bin_path

TIMEOUT = 60


def run(*args, cwd=None):
    r = subprocess.run([bin_path("escort-policy"), *args], capture_output=True, timeout=30,
                       cwd=cwd)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def example(env):
    """The worked escort example of escort-policy(5), with real keys."""
    _, alice = env.keygen("alice")
    _, bob = env.keygen("bob")
    _, erin = env.keygen("erin")
    ident, _ = env.keygen("ops_ed25519")
    _, hostpub = env.keygen("web01_host")
    hostkey = " ".join(hostpub.split()[:2])
    return env.write("policy.conf", f"""\
# Foreign nationals may reach production only with an escort present, may
# read state freely, need approval to change it, and may never touch
# certain paths.
user alice {{
    key "{alice}"
    attr citizenship FR
}}
user bob {{
    key "{bob}"
    attr citizenship US
}}
user erin {{
    key "{erin}"
    attr citizenship US
}}
group escorts erin
group admins bob

target web01 {{
    address 127.0.0.1:22
    login ops
    identity {ident}
    hostkey "{hostkey}"
    label env prod
}}

rule admins-on-prod {{
    who group:admins
    where label:env=prod
    shell strict
    exec yes
    sftp both
    allow "..."
    deny "rm -rf /"
}}

rule foreign-nationals-on-prod {{
    who attr:citizenship!=US
    where label:env=prod
    escort group:escorts
    shell strict
    exec yes
    sftp download
    max-session 2h
    allow "systemctl status *"
    allow "journalctl -u * ..."
    allow "ls ..."
    allow "df ..."
    allow "cat /var/log/*"
    allow "grep ..."
    allow "tail ..."
    approve "systemctl restart *"
    approve "systemctl reload *"
    deny "... /etc/shadow ..."
    deny "... /etc/ssh/* ..."
    deny "... /root ..."
    deny "... /root/* ..."
}}

expect allow   alice web01 "systemctl status nginx"
expect allow   alice web01 "journalctl -u nginx --since today | grep -v debug"
expect approve alice web01 "systemctl restart nginx"
expect deny    alice web01 "cat /etc/shadow"
expect deny    alice web01 "sudo cat /etc/ssh/sshd_config"
expect deny    alice web01 "ls /root/.ssh"
expect deny    alice web01 "ls; rm -rf /tmp/x"
expect allow   bob   web01 "apt-get upgrade"
""")


def test_check_valid_example_exits_0():
    """The example holds all its expect lines and is valid, escorts
    (moderated sessions) included; admit names who may end the wait."""
    with Env() as env:
        p = example(env)
        rc, out, err = run("check", p)
        assert rc == 0, (out, err)
        assert [l for l in out.splitlines() if ": error: " in l] == [], out
        assert "0 errors" in out and "8/8 expect lines hold" in out, out
        assert "sha256 " in out
        rc, out, err = run("admit", p, "alice", "web01")
        assert rc == 0 and "escort: required\nescorts: group:escorts\n" in out, (out, err)


def test_check_reports_every_mistake_with_line_and_col():
    with Env() as env:
        p = env.write("bad.conf", """\
user alice {
    key "ssh-ed25519 notbase64!"
    colour blue
}
target web01 {
    address 10.0.0.5:99999
}
rule r {
    who group:nobody
    where *
    shell bash
    max-session 2 hours
}
expect allow alice web01 "ls"
""")
        rc, out, err = run("check", p)
        assert rc == 1, (out, err)
        lines = [l for l in out.splitlines() if l.startswith(p + ":")]
        want = [
            p + ":2:9: error: bad key",
            p + ":3:5: error: unknown keyword 'colour'",
            p + ":5:8: error: target 'web01' has no address",
            p + ":6:22: error: bad port '99999'",
            p + ":9:9: error: unknown group 'nobody'",
            p + ":11:11: error: bad shell 'bash'",
            p + ":12:19: error: max-session: usage",
        ]
        for w in want:
            assert any(l.startswith(w) for l in lines), (w, out)
        # sorted by line
        nums = [int(l[len(p) + 1:].split(":")[0]) for l in lines]
        assert nums == sorted(nums), out


def test_check_failing_expect_names_its_line():
    with Env() as env:
        p = env.write("e.conf", """\
user u {
}
target t {
    address h
}
rule r {
    who *
    where *
    allow "ls ..."
}
expect allow u t "ls -l"
expect allow u t "ls; rm -rf /"
""")
        rc, out, _ = run("check", p)
        assert rc == 1
        assert p + ':12:1: error: expect allow u t "ls; rm -rf /" failed: got deny' in out, out
        assert ":11:" not in out


def test_check_warnings_exit_0_and_strict_exit_1():
    with Env() as env:
        p = env.write("w.conf", """\
user u {
}
target t {
    address h
}
rule r {
    who *
    where *
    allow "vim *"
    allow "rm -rf /tmp/*"
    deny "rm ..."
}
expect allow u t "vim x"
""")
        rc, out, _ = run("check", p)
        assert rc == 0, out
        assert p + ':9:11: warning: allow pattern "vim *" hands out an editor' in out, out
        assert p + ":10:11: warning:" in out and "can never decide" in out, out
        rc, out, _ = run("check", "--strict", p)
        assert rc == 1, out
        rc, out, _ = run("check", p, "--strict")
        assert rc == 1, out


def test_explain_first_line_is_the_verdict():
    with Env() as env:
        p = example(env)
        cases = [("systemctl status nginx", "allow"),
                 ("systemctl restart nginx", "approve"),
                 ("r''m -rf /var/log", "deny"),
                 ("cat /var/log/syslog > /tmp/x", "deny"),
                 ("echo $(id)", "deny")]
        for cmd, want in cases:
            rc, out, err = run("explain", p, "alice", "web01", cmd)
            assert rc == 0, (cmd, out, err)
            assert out.splitlines()[0] == want, (cmd, out)
        rc, out, _ = run("explain", p, "alice", "web01", "sudo cat /etc/shadow | grep root")
        assert out.splitlines()[0] == "deny"
        assert 'command 1: "sudo" "cat" "/etc/shadow" then |' in out, out
        assert "decided by: foreign-nationals-on-prod, line 54" in out, out
        assert "rules considered: foreign-nationals-on-prod (line 37)" in out, out
        rc, out, _ = run("explain", p, "alice", "web01", "ls > /tmp/x")
        assert "constructs: redirect" in out and "shell construct not permitted: redirect" in out
        rc, out, _ = run("explain", p, "mallory", "web01", "ls")
        assert rc == 1 and out.splitlines()[0] == "deny", out


def test_test_reports_each_expect():
    with Env() as env:
        p = example(env)
        rc, out, _ = run("test", p)
        assert rc == 0, out
        assert out.count("\nPASS ") + out.startswith("PASS ") == 8, out
        assert out.strip().endswith("test: 8 passed, 0 failed"), out
        with open(p, "a") as f:
            f.write('expect allow alice web01 "rm -rf /"\n')
        rc, out, _ = run("test", p)
        assert rc == 1
        assert 'FAIL %s:68: expect allow alice web01 "rm -rf /": got deny' % p in out, out
        assert "test: 8 passed, 1 failed" in out


def test_diff_shows_changed_decisions():
    with Env() as env:
        old = example(env)
        with open(old) as f:
            text = f.read()
        new = env.write("new.conf", text.replace('approve "systemctl restart *"',
                                                 'allow "systemctl restart *"'))
        cmds = env.write("cmds.txt", "alice web01 systemctl restart nginx\n"
                                     "alice web01 systemctl status nginx\n"
                                     "# comment\n")
        rc, out, _ = run("diff", old, new, cmds)
        assert rc == 1, out
        assert 'approve -> allow: alice web01 "systemctl restart nginx"' in out, out
        assert "diff: 2 commands checked, 1 changed" in out
        rc, out, _ = run("diff", old, old, cmds)
        assert rc == 0 and "0 changed" in out, out
        rc, out, _ = run("diff", old, new)   # over the expect lines of both
        assert rc == 1 and "approve -> allow" in out, out
        # JSON lines, as escort-replay commands --json writes them, on stdin
        lines = ('{"time":"2026-11-27T10:00:00Z","user":"alice","target":"web01",'
                 '"command":"systemctl restart \\"nginx\\"","decision":"approve"}\n'
                 '{"user":"alice","target":"web01","command":"uptime"}\n')
        r = subprocess.run([bin_path("escort-policy"), "diff", old, new, "-"], input=lines.encode(),
                           capture_output=True, timeout=30)
        out = r.stdout.decode()
        assert r.returncode == 1, (out, r.stderr)
        assert 'approve -> allow: alice web01 "systemctl restart "nginx""' in out, out
        assert "diff: 2 commands checked, 1 changed" in out, out
        r = subprocess.run([bin_path("escort-policy"), "diff", old, new, "-"], input=b'{"user":1}\n',
                           capture_output=True, timeout=30)
        assert r.returncode == 2 and b"-:1: expected a JSON object" in r.stderr, r


def test_include_glob_and_errors_in_included_files():
    with Env() as env:
        env.write("conf.d/10-users.conf", "user u {\n}\n")
        bad = env.write("conf.d/20-targets.conf", "target t {\n    adress h\n}\n")
        main = env.write("main.conf", 'include conf.d/*.conf\n'
                         'rule r {\n    who user:u\n    where target:t\n    allow "ls"\n}\n'
                         'expect allow u t "ls"\n')
        rc, out, _ = run("check", main)
        assert rc == 1
        assert bad + ":2:5: error: unknown keyword 'adress'" in out, out
        env.write("conf.d/20-targets.conf", "target t {\n    address h\n}\n")
        rc, out, _ = run("check", main)
        assert rc == 0, out
        rc, out, _ = run("explain", main, "u", "t", "ls")
        assert out.startswith("allow\n")
        loop = env.write("conf.d/30-loop.conf", "include ../main.conf\n")
        rc, out, _ = run("check", main)
        assert rc == 1 and loop + ":1:9: error: include cycle" in out, out
        assert out.count("include cycle") == 1, out


def test_admit_and_targets():
    with Env() as env:
        p = example(env)
        rc, out, _ = run("admit", p, "alice", "web01")
        assert rc == 0, out
        assert "escort: required" in out and "sftp: download" in out and "max-session: 7200s" in out
        rc, out, _ = run("admit", p, "bob", "web01")
        assert rc == 0 and "escort: no" in out and "sftp: both" in out, out
        assert "\npasswords: mask\nobserve-deny: warn\n" in out, out
        # passwords record in one rule of two: still masked; observe-deny end in one: ends
        both = env.write("both.conf", "user u {\n}\ntarget t {\n address h\n}\n"
                         "rule a {\n who *\n where *\n passwords record\n}\n"
                         "rule b {\n who *\n where *\n observe-deny end\n}\n")
        rc, out, _ = run("admit", both, "u", "t")
        assert rc == 0 and "\npasswords: mask\nobserve-deny: end\n" in out, out
        rc, out, _ = run("rules", both, "u", "t")
        assert rc == 0 and "\npasswords: mask\nobserve-deny: end\n" in out, out
        bad = env.write("bad.conf", "user u {\n}\ntarget t {\n address h\n}\n"
                        "rule a {\n who *\n where *\n passwords keep\n}\n")
        rc, out, _ = run("check", bad)
        assert rc == 1 and bad + ":9:12: error: bad passwords 'keep': expected one of " \
            "mask|record" in out, out
        rc, out, _ = run("targets", p, "alice")
        assert out == "web01\n", out


def test_help_version_and_usage():
    rc, out, _ = run("--help")
    assert rc == 0 and "escort-policy check" in out and "explain" in out
    rc, out, _ = run("--version")
    assert rc == 0 and out.startswith("escort-policy ")
    rc, _, err = run("frobnicate")
    assert rc == 2 and "unknown command" in err
    rc, out, _ = run("check", "/nonexistent/policy.conf")
    assert rc == 1 and out.startswith(
        "/nonexistent/policy.conf: cannot read: No such file or directory\n"), out


def test_unreadable_policy_file_is_named_without_a_position():
    """A policy file that cannot be read is reported as FILE: cannot read:
    REASON by every command, with no made-up :0:0 line and column, and the
    exit status of escort-policy(1): 1, or 2 for diff."""
    missing = "/nonexistent/policy.conf"
    want = missing + ": cannot read: No such file or directory\n"
    for args, status in ((("check", missing), 1), (("test", missing), 1),
                         (("explain", missing, "u", "t", "ls"), 1),
                         (("admit", missing, "u", "t"), 1),
                         (("rules", missing, "u", "t"), 1),
                         (("targets", missing, "u"), 1),
                         (("explain-transfer", missing, "u", "t", "get", "/x"), 1),
                         (("diff", missing, missing), 2)):
        rc, out, err = run(*args)
        assert rc == status and out.startswith(want), (args, rc, out, err)
        assert ":0:0" not in out + err, (args, out, err)
    with Env() as env:
        d = env.path("dir.conf")
        os.mkdir(d)
        rc, out, _ = run("check", d)
        assert rc == 1 and out.startswith(d + ": cannot read: Is a directory\n"), out


def test_man_page_example_holds():
    """The worked example of escort-policy(5) passes its own expect lines, and
    check passes once its identity file exists."""
    from harness.core import ROOT
    with open(os.path.join(ROOT, "man", "escort-policy.5")) as f:
        man = f.read()
    text = man.split("\n.EX\n", 1)[1].split("\n.EE\n", 1)[0] + "\n"
    with Env() as env:
        p = env.write("example.conf", text)
        rc, out, _ = run("test", p)
        assert rc == 0 and "test: 6 passed, 0 failed" in out, out
        rc, out, _ = run("check", p)
        assert rc == 1 and ":14:14: error: target 'web01': identity file" in out, out
        ident, _ = env.keygen("ops")
        p2 = env.write("example2.conf", text.replace("/etc/escort/keys/ops_ed25519", ident))
        rc, out, _ = run("check", p2)
        # escort (moderated sessions) and shell strict are built: valid
        errors = [l for l in out.splitlines() if ": error: " in l]
        assert rc == 0 and errors == [], out
        assert "forbid 'no-foreign-on-il5' overrides rule 'foreign-nationals-on-prod'" in out
        rc, out, _ = run("admit", p2, "alice", "db01")
        assert rc == 1 and out.startswith("refused\n") and "export control" in out, out


def test_explain_time_windows_and_draft_keys():
    """explain ignores `when` windows unless --at or --now is given, like the
    expect lines; a malformed key is a warning for explain, an error for check."""
    with Env() as env:
        p = env.write("w.conf", """\
user alice {
    key "ssh-ed25519 AAAAC3Nza... alice@laptop"
}
target web01 {
    address 10.0.0.5
}
rule office-hours {
    who user:alice
    where target:web01
    when Mon-Fri 08:00-18:00 UTC
    allow "uptime"
}
expect allow alice web01 "uptime"
""")
        rc, out, err = run("explain", p, "alice", "web01", "uptime")
        assert rc == 0 and out.startswith("allow\n"), (out, err)
        assert "time: any (when windows ignored)" in out
        assert p + ":2:9: warning: bad key" in err, err
        rc, out, _ = run("explain", "--at", "2026-11-27T10:00Z", p, "alice", "web01", "uptime")
        assert out.startswith("allow\n") and "time: 2026-11-27T10:00:00Z" in out, out
        rc, out, _ = run("explain", "--at", "2026-11-28T10:00Z", p, "alice", "web01", "uptime")
        assert out.startswith("deny\n") and "rules considered: none" in out, out
        rc, out, _ = run("explain", "--at", "1795802400", p, "alice", "web01", "uptime")
        assert out.startswith("deny\n"), out   # Friday 18:00: the window has closed
        rc, out, _ = run("admit", "--at", "2026-11-28T10:00Z", p, "alice", "web01")
        assert rc == 1 and "not permitted at this time" in out, out
        rc, out, _ = run("test", p)
        assert rc == 0, out
        rc, out, _ = run("check", p)
        assert rc == 1 and p + ":2:9: error: bad key: key data is not base64" in out, out


ERGO = """\
user alice {
    attr citizenship FR
}
user bob {
    attr citizenship US
}
target web01 {
    address 10.0.0.5
    label env prod
}
rule business-hours {
    who attr:citizenship!=US
    where label:env=prod
    when Mon-Fri 09:00-17:00 America/New_York
    exec yes
    env LANG LC_*
    allow "systemctl status *"
    allow "grep ..."
    deny "... /etc/shadow ..."
}
rule admins {
    who user:bob
    where *
    exec yes
    construct all
    allow "..."
}
expect allow alice web01 "systemctl status nginx"
expect allow bob web01 "ls > /tmp/x"
"""


def test_rules_lists_what_a_user_may_run():
    with Env() as env:
        p = env.write("ergo.conf", ERGO)
        rc, out, _ = run("rules", p, "alice", "web01")
        assert rc == 0, out
        assert out.splitlines()[:5] == [
            "alice may open a session on web01 (rules: business-hours)",
            "session: shell none, exec yes, sftp none, forward none",
            "env: LANG LC_*",
            "max-session: none",
            "escort: no"], out
        assert '  deny    "... /etc/shadow ..."  rule business-hours, %s:19\n' % p in out, out
        assert '  allow   "systemctl status *"  rule business-hours, %s:17\n' % p in out, out
        assert "  rule business-hours, %s:11: when Mon-Fri 09:00-17:00 " \
            "America/New_York; constructs none beyond ; && || and |\n" % p in out, out
        # the window is in New York time: 2026-12-04 is a Friday, 13:30Z is 08:30 EST
        rc, out, _ = run("rules", "--at", "2026-12-04T13:30Z", p, "alice", "web01")
        assert rc == 1 and "applies but not at this time" in out, out
        rc, out, _ = run("rules", "--at", "2026-12-04T14:30Z", p, "alice", "web01")
        assert rc == 0 and out.startswith("alice may open a session on web01"), out
        # in July, 13:30Z is 09:30 EDT
        rc, out, _ = run("rules", "--at", "2026-07-03T13:30Z", p, "alice", "web01")
        assert rc == 0, out
        rc, out, _ = run("rules", p, "alice", "nosuch")
        assert rc == 1 and "unknown target 'nosuch'" in out, out


def test_explain_takes_the_command_as_words():
    with Env() as env:
        p = env.write("ergo.conf", ERGO)
        rc, out1, _ = run("explain", p, "alice", "web01", "systemctl", "status", "nginx")
        rc2, out2, _ = run("explain", p, "alice", "web01", "systemctl status nginx")
        assert rc == rc2 == 0 and out1 == out2 and out1.startswith("allow\n"), (out1, out2)
        # words are joined by single spaces and parsed again, as ssh does
        rc, out, _ = run("explain", p, "alice", "web01", "grep", "x", "/etc/shadow")
        assert out.startswith("deny\n"), out
        rc, out, _ = run("explain", p, "alice", "web01", "grep", "a b", "/etc/shadow")
        assert out.startswith("deny\n"), out
        rc, out, _ = run("explain", "--at", "2026-12-04T14:30Z", p, "alice", "web01", "grep",
                         "-r", "x")
        assert out.startswith("allow\n") and "time: 2026-12-04T14:30:00Z" in out, out


def test_check_ergonomic_warnings_and_errors():
    with Env() as env:
        p = env.write("ergo.conf", ERGO.replace("attr:citizenship!=US", "attr:citizenshp!=US"))
        rc, out, _ = run("check", p)
        assert rc == 0, out
        assert p + ":12:9: warning: no user carries attribute 'citizenshp': " \
            "attr:citizenshp!=US matches every user" in out, out
        assert p + ":25:15: warning: rule 'admins': construct all permits every shell " \
            "construct" in out, out
        p2 = env.write("forbid.conf", ERGO + "forbid cn {\n    who attr:citizenship=CN\n"
                       "    where *\n}\n")
        rc, out, _ = run("check", p2)
        assert rc == 1 and p2 + ":31:1: error: forbid 'cn' matches no user" in out, out
        p3 = env.write("zone.conf", ERGO.replace("America/New_York", "America/New_Yrok"))
        rc, out, _ = run("check", p3)
        assert rc == 1 and p3 + ":14:30: error: bad time zone 'America/New_Yrok': no such zone" \
            in out, out
        p4 = env.write("env.conf", ERGO.replace("env LANG LC_*", "env LANG LD_PRELOAD"))
        rc, out, _ = run("check", p4)
        assert rc == 1 and p4 + ":16:14: error: env 'LD_PRELOAD': would pass LD_PRELOAD" in out, out


SCREEN = """\
user u {
}
target t {
    address h
}
rule logs {
    who *
    where *
    shell observe
    exec yes
    allow "* ..."
    allow "less /var/log/syslog"
    deny "rm ..."
}
expect allow u t "less /var/log/syslog"
expect deny u t "less /etc/passwd"
expect deny u t "sudo vim /etc/hosts"
expect allow u t "systemctl status nginx"
"""


def test_screen_programs_only_where_a_rule_names_them():
    """A program that takes over the screen and can run commands (less, vim,
    python3 ...) is allowed only by a pattern naming it: `allow "* ..."`
    does not reach it, directly or through sudo; check says so, and warns
    that deny patterns stop nothing typed in an observe shell."""
    with Env() as env:
        p = env.write("screen.conf", SCREEN)
        rc, out, _ = run("check", p)
        assert rc == 0, out
        assert p + ":9:5: warning: rule 'logs' has shell observe: its deny and approve " \
            "patterns (deny \"rm ...\" line 13) do not stop anything typed in that shell" in out, out
        assert p + ":12:11: warning: allow pattern \"less /var/log/syslog\" hands out a pager " \
            "(less) in rule 'logs'" in out, out
        assert "0 errors" in out and "4/4 expect lines hold" in out, out
        rc, out, _ = run("check", "--strict", p)
        assert rc == 1, out
        for cmd in ("less /etc/passwd", "sudo less /etc/passwd", "vim /etc/hosts",
                    "python3 x.py", "man ls"):
            rc, out, _ = run("explain", p, "u", "t", cmd)
            name = cmd.split()[1] if cmd.startswith("sudo") else cmd.split()[0]
            assert rc == 0 and out.startswith("deny\n"), (cmd, out)
            assert "reason: %s can run other commands; a rule must name it to allow it" % name \
                in out, (cmd, out)
        rc, out, _ = run("explain", p, "u", "t", "less /var/log/syslog")
        assert rc == 0 and out.startswith("allow\n"), out
        assert "runs as: 'less' '/var/log/syslog'" in out, out
