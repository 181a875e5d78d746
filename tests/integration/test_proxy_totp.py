"""TOTPSecrets (escort-proxy.conf(5)): a user with a secret needs a code of
RFC 6238 after the key, over keyboard-interactive.  Codes come from Debian's
oathtool; the real ssh answers the prompt through SSH_ASKPASS (forced), so
no terminal is needed.  A code is good for now's time step +-1, once."""
import base64, os, stat, subprocess, time
from harness.core import Env, bin_path
from harness.proxy import ProxyWorld

SECRET = base64.b32encode(os.urandom(20)).decode()


def oathtool(at=None):
    argv = ["oathtool", "--totp", "-b", SECRET]
    if at is not None:
        argv += ["-N", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r
    return r.stdout.decode().strip()


def world(env, secret_line):
    path = env.write("totp", "# user secret\nalice %s\n" % secret_line)
    os.chmod(path, 0o600)
    return ProxyWorld(env, extra_conf="TOTPSecrets %s\n" % path), path


def ssh_with_code(w, env, code, command="echo totp-ok"):
    """ssh as alice:web01 with her key, then `code` typed at the proxy's
    prompt (SSH_ASKPASS); CompletedProcess."""
    code_file = env.write("code", code + "\n")
    askpass = env.write("askpass.sh", "#!/bin/sh\necho \"$1\" >> %s.prompts\ncat %s\n"
                        % (code_file, code_file))
    os.chmod(askpass, stat.S_IRWXU)
    argv = [a if a != "BatchMode=yes" else "BatchMode=no"
            for a in w.ssh_argv("alice", "web01", command, extra=(
                "-o", "KbdInteractiveAuthentication=yes", "-o", "NumberOfPasswordPrompts=1",
                "-o", "PreferredAuthentications=publickey,keyboard-interactive"))]
    e = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force")
    e.pop("DISPLAY", None)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=e, timeout=60)


def test_totp_after_the_key_once_per_code():
    with Env() as env:
        w, _ = world(env, "otpauth://totp/Escort:alice?secret=%s&issuer=Escort" % SECRET)
        now = time.time()
        code = oathtool(now)
        r = ssh_with_code(w, env, code)
        assert r.returncode == 0 and r.stdout == b"totp-ok\n", r
        with open(env.path("code.prompts")) as f:
            # one prompt, as OpenSSH shows it: "(USER@HOST) Verification code: "
            prompts = f.read()
            assert prompts.count("\n") == 1 and prompts.endswith(") Verification code: \n"), prompts
        # the same code again, within its window: refused
        r = ssh_with_code(w, env, code)
        assert r.returncode == 255 and b"Permission denied" in r.stderr and r.stdout == b"", r
        # a wrong code (none of the window's), and the key alone
        wrong = next(c for c in ("000000", "111111", "222222", "333333")
                     if c not in {oathtool(now + d) for d in (-30, 0, 30, 60)})
        r = ssh_with_code(w, env, wrong)
        assert r.returncode == 255 and r.stdout == b"", r
        r = w.ssh("alice", "web01", "echo key-alone")
        assert r.returncode == 255 and b"keyboard-interactive" in r.stderr and r.stdout == b"", r
        # the next step's code is good once (the window is +-1 step)
        r = ssh_with_code(w, env, oathtool(now + 30))
        assert r.returncode == 0 and r.stdout == b"totp-ok\n", r
        # an earlier step's code after a later one was used: refused
        r = ssh_with_code(w, env, oathtool(now - 30))
        assert r.returncode == 255, r
        # two steps away: outside the window
        r = ssh_with_code(w, env, oathtool(now + 120))
        assert r.returncode == 255, r
        log = w.proxy.log()
        assert "TOTP code for alice accepted" in log and "(already used)" in log, log[-3000:]
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]


def test_base32_secret_and_bad_files_named_by_t():
    with Env() as env:
        w, path = world(env, SECRET.lower())
        r = ssh_with_code(w, env, oathtool())
        assert r.returncode == 0 and r.stdout == b"totp-ok\n", r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        # -t names each problem: a file others may read, a bad secret, a user twice
        with open(path, "w") as f:
            f.write("alice %s\nbob not-base32!\nalice %s\n" % (SECRET, SECRET))
        os.chmod(path, 0o644)
        t = subprocess.run([bin_path("escort-proxy"), "-t", "-f", w.conf], capture_output=True,
                           timeout=30)
        err = t.stderr.decode()
        assert t.returncode == 1, err
        assert "TOTPSecrets %s: mode 644" % path in err, err
        assert "TOTPSecrets %s:2: secret of bob: '!' is not a base32 character" % path in err, err
        assert "TOTPSecrets %s:3: user alice is given twice" % path in err, err
