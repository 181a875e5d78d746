"""Environment requests, the one validator and `rules`, through the real
proxy with stock OpenSSH clients:

- env: only names on a rule's `env` line reach the target, LANG/LC_* only
  with locale values; a payload sent with SendEnv/SetEnv never arrives (the
  target's sshd accepts every name, so only the proxy stands in the way),
  and the refusal is logged and recorded.
- one validator: `escort-policy check`, `escort-proxy -t` and a SIGHUP
  reload give the same verdict and the same messages on good and bad
  policies; a failed reload keeps the old policy.
- `ssh alice@proxy rules web01` prints what `escort-policy rules` prints."""
import json, os, re, signal, subprocess

from harness.core import Env, bin_path, wait_for
from harness.proxy import DEFAULT_RULES, ProxyWorld, replay, session_id

TIMEOUT = 180

ENV_RULES = DEFAULT_RULES.replace("    exec yes\n", "    exec yes\n    env LANG LC_* FOO\n") \
    .replace('    allow "true"\n', '    allow "true"\n    allow "env"\n')


def env_of(stdout):
    out = {}
    for line in stdout.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def test_env_requests_pass_only_what_rules_allow():
    with Env() as env:
        w = ProxyWorld(env, rules=ENV_RULES, sshd_extra="AcceptEnv *\n")
        mark = w.marker("env-payload-ran")
        payload = "$(touch %s)" % mark
        cenv = dict(os.environ, LC_TIME="POSIX", LANG="en_US.UTF-8", FOO="hello world",
                    BAR="not-listed", LC_X="`touch %s`" % mark)
        r = subprocess.run(w.ssh_argv("alice", "web01", "env", extra=(
            "-o", "SendEnv=LC_TIME LANG FOO BAR LC_X",
            "-o", 'SetEnv=LC_EVIL="%s" LD_PRELOAD=/nonexistent/x.so BASH_ENV=/tmp/x' % payload)),
            env=cenv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            timeout=60)
        assert r.returncode == 0, r
        got = env_of(r.stdout)
        assert got.get("LC_TIME") == "POSIX", got
        assert got.get("LANG") == "en_US.UTF-8", got
        assert got.get("FOO") == "hello world", got
        for name in ("BAR", "LC_X", "LC_EVIL", "LD_PRELOAD", "BASH_ENV"):
            assert name not in got, (name, got)
        assert payload.encode() not in r.stdout and b"touch" not in r.stdout, r.stdout
        assert not os.path.exists(mark)
        log = w.proxy.log()
        for name, why in (("BAR", "does not list it"), ("LC_X", "not a locale name"),
                          ("LC_EVIL", "not a locale name"), ("LD_PRELOAD", "never passed"),
                          ("BASH_ENV", "never passed")):
            assert re.search(r"env %s refused for alice on web01: .*%s" % (name, why), log), \
                (name, log[-3000:])
        # the refusals are in the recording, in their place among the requests
        sid = session_id(r.stderr)
        x = replay(w, "export", sid, "--format", "json")
        assert x.returncode == 0, x
        events = [json.loads(l) for l in x.stdout.decode().splitlines() if l.startswith("{")]
        fields = [{f["name"]: f["value"] for f in e.get("fields", [])} for e in events
                  if e.get("type") == "channel"]
        names = {f["env_name"]: f for f in fields if f.get("action") == "env"}
        assert set(names) == {"LC_TIME", "LANG", "FOO", "BAR", "LC_X", "LC_EVIL", "LD_PRELOAD",
                              "BASH_ENV"}, names
        assert names["LC_TIME"].get("verdict") is None, names["LC_TIME"]
        assert names["LC_EVIL"].get("verdict") == "deny", names["LC_EVIL"]
        assert names["LC_EVIL"].get("env_value") == payload, names["LC_EVIL"]
        assert "locale" in names["LC_EVIL"].get("reason", ""), names["LC_EVIL"]
        assert names["LD_PRELOAD"].get("verdict") == "deny", names["LD_PRELOAD"]


def test_env_refusal_recorded_when_the_command_is_denied():
    """The channel is answered by the proxy (command denied): the refused env
    request is still in the recording, before the decision."""
    with Env() as env:
        w = ProxyWorld(env, rules=ENV_RULES, sshd_extra="AcceptEnv *\n")
        r = w.ssh("alice", "web01", "rm -rf /tmp/nothing", extra=(
            "-o", "SetEnv=LC_EVIL=$(id)"))
        assert r.returncode == 77 and b"command denied" in r.stderr, r
        x = replay(w, "export", session_id(r.stderr), "--format", "json")
        assert x.returncode == 0, x
        events = [json.loads(l) for l in x.stdout.decode().splitlines() if l.startswith("{")]
        kinds = []
        for e in events:
            f = {g["name"]: g["value"] for g in e.get("fields", [])}
            if f.get("action") == "env":
                assert f["env_name"] == "LC_EVIL" and f["env_value"] == "$(id)", f
                assert f.get("verdict") == "deny", f
                kinds.append("env")
            elif e.get("type") == "decision":
                kinds.append("decision")
        assert kinds == ["env", "decision"], (kinds, x.stdout.decode()[:3000])


def test_env_without_an_env_line_passes_nothing():
    """No rule has an `env` line: not even LANG reaches the target."""
    with Env() as env:
        w = ProxyWorld(env, rules=DEFAULT_RULES.replace('    allow "true"\n',
                                                        '    allow "true"\n    allow "env"\n'),
                       sshd_extra="AcceptEnv *\n")
        cenv = dict(os.environ, LANG="C.UTF-8", LC_ALL="C")
        r = subprocess.run(w.ssh_argv("alice", "web01", "env", extra=(
            "-o", "SendEnv=LANG LC_ALL")), env=cenv, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == 0, r
        got = env_of(r.stdout)
        assert "LANG" not in got and "LC_ALL" not in got, got
        assert "no rule allows environment variables" in w.proxy.log()


# ---- one validator -------------------------------------------------------------

def policy_cases(w):
    """(name, extra policy text, expected error substrings); '' = valid.
    Appended to the world's own policy (alice, web01, rule techs)."""
    return [
        ("good", 'expect allow alice web01 "echo hi"\n', []),
        ("syntax", "rule broken {\n    who *\n    where *\n    colour blue\n}\n",
         ["unknown keyword 'colour' in rule 'broken'"]),
        ("failing-expect", 'expect allow alice web01 "rm -rf /tmp/x"\n',
         ['expect allow alice web01 "rm -rf /tmp/x" failed: got deny']),
        ("group-unknown-user", "group ops alice mallory\n",
         ["unknown user 'mallory' in group 'ops'"]),
        ("strict-shell", "rule strict {\n    who user:alice\n    where target:web01\n"
         "    shell strict\n}\n", []),
        ("escort", "rule escorted {\n    who user:alice\n    where target:web01\n"
         "    escort user:nobody\n}\n", ["unknown user 'nobody'"]),
        ("forbid-nobody", "forbid f {\n    who attr:team=sales\n    where *\n}\n",
         ["forbid 'f' matches no user"]),
        ("several", 'rule s {\n    who *\n    where *\n    escort user:alice\n}\n'
         'expect deny alice web01 "echo hi"\n',
         ['expect deny alice web01 "echo hi" failed: got allow']),
        ("identity-and-expect", 'target web09 {\n    address 127.0.0.1:1\n'
         '    identity /nonexistent/key\n}\nexpect deny alice web01 "echo hi"\n',
         ["target 'web09': identity file '/nonexistent/key' is not readable",
          'expect deny alice web01 "echo hi" failed: got allow']),
    ]


def error_lines(text):
    """FILE:LINE:COL: error: MESSAGE substrings of check or proxy output."""
    return sorted(m.group(0) for m in re.finditer(r"\S+:\d+:\d+: error: [^\n]*", text))


def test_check_proxy_t_and_reload_agree():
    with Env() as env:
        w = ProxyWorld(env)
        with open(w.policy_path) as f:
            base = f.read()
        for name, extra, want in policy_cases(w):
            with open(w.policy_path, "w") as f:
                f.write(base + extra)
            c = subprocess.run([bin_path("escort-policy"), "check", w.policy_path],
                               capture_output=True, timeout=30)
            t = subprocess.run([bin_path("escort-proxy"), "-t", "-f", w.conf],
                               capture_output=True, timeout=30)
            mark = len(w.proxy.log())
            w.proxy.send(signal.SIGHUP)
            wait_for(lambda: "reload failed" in w.proxy.log()[mark:] or
                     "reloaded; policy" in w.proxy.log()[mark:], 15, 0.1, what="reload " + name)
            rlog = w.proxy.log()[mark:]
            check_out, t_out = c.stdout.decode(), t.stderr.decode()
            if not want:
                assert c.returncode == 0, (name, check_out)
                assert t.returncode == 0 and "are valid" in t_out, (name, t_out)
                assert "reloaded; policy" in rlog and "reload failed" not in rlog, (name, rlog)
            else:
                assert c.returncode == 1, (name, check_out)
                assert t.returncode == 1, (name, t_out)
                assert "reload failed; the previous configuration and policy stay in force" \
                    in rlog, (name, rlog)
                for msg in want:
                    assert msg in check_out, (name, msg, check_out)
                # the same error lines, all of them, in one run, everywhere
                assert error_lines(check_out) == error_lines(t_out) == error_lines(rlog), \
                    (name, check_out, t_out, rlog)
            # the policy in force still answers: the old one after a failure
            r = w.ssh("alice", "web01", "echo alive")
            assert r.returncode == 0 and r.stdout == b"alive\n", (name, r)
        # a broken configuration and a broken policy: both in one -t run
        with open(w.policy_path, "w") as f:
            f.write(base + "group ops alice mallory\n")
        with open(w.conf) as f:
            conf = f.read()
        bad_conf = env.write("bad-proxy.conf", conf + "Colour blue\nWorkers many\n")
        t = subprocess.run([bin_path("escort-proxy"), "-t", "-f", bad_conf], capture_output=True,
                           timeout=30)
        out = t.stderr.decode()
        assert t.returncode == 1, out
        assert 'unknown keyword "Colour"' in out and "Workers" in out, out
        assert "unknown user 'mallory' in group 'ops'" in out, out


# ---- rules, like sudo -l ---------------------------------------------------------

def test_rules_over_ssh_and_cli_agree():
    with Env() as env:
        w = ProxyWorld(env, rules=ENV_RULES)
        r = w.ssh("alice", None, "rules web01")
        assert r.returncode == 0, r
        out = r.stdout.decode()
        assert out.startswith("alice may open a session on web01 (rules: techs)\n"), out
        assert "session: shell observe, exec yes, sftp both, forward none\n" in out, out
        assert "env: LANG LC_* FOO\n" in out, out
        assert re.search(r'  deny    "rm \.\.\."  rule techs, \S+policy.conf:\d+\n', out), out
        assert re.search(r'  allow   "echo \.\.\."  rule techs, \S+policy.conf:\d+\n', out), out
        c = subprocess.run([bin_path("escort-policy"), "rules", "--now", w.policy_path, "alice",
                            "web01"], capture_output=True, timeout=30)
        assert c.returncode == 0 and c.stdout.decode() == out, (c, out)
        # a target alice may not use, and one that does not exist
        r = w.ssh("alice", None, "rules db01")
        assert r.returncode == 1, r
        assert r.stdout.decode() == "alice may not open a session on db01: no such target\n", r
        # anything else without a target: the commands known, then the targets
        r = w.ssh("alice", None, "frobnicate")
        assert r.returncode == 2, r
        assert b"rules TARGET" in r.stderr and b"web01" in r.stderr, r
        r = w.ssh("alice", None, None, timeout=20)
        assert r.returncode == 0 and r.stdout.split() == [b"web01"], r
        assert "alice listed the rules for web01 (admitted)" in w.proxy.log()


def test_long_rules_list_is_cut_with_a_note():
    pats = "".join('    allow "tool-%04d --option-%04d ..."\n' % (i, i) for i in range(2000))
    with Env() as env:
        w = ProxyWorld(env, rules=DEFAULT_RULES.replace('    deny "rm ..."\n',
                                                        '    deny "rm ..."\n' + pats))
        r = w.ssh("alice", None, "rules web01")
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        assert 60 * 1024 < len(out) <= 64 * 1024, len(out)
        assert out.endswith("escort: the list is longer than 64 KiB and was cut here; an "
                            "administrator can print it all with escort-policy rules\n"), out[-300:]
        c = subprocess.run([bin_path("escort-policy"), "rules", w.policy_path, "alice", "web01"],
                           capture_output=True, timeout=30)
        assert c.returncode == 0 and len(c.stdout) > 100 * 1024
        last = out.splitlines()[-2]
        assert last + "\n" in c.stdout.decode(), last
