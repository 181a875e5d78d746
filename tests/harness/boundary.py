"""Table-driven policy-boundary cases through the real proxy (issue "policy as
a real boundary"): a stock ssh client sends each command through a real
escort-proxy to a real sshd whose commands go through the tracing shell
(harness/trace.py), and the side effects are checked on the target.

A case is Case(name, command, verdict, ...).  The command may use:
  {D}  the test's private tree (log/, etc/shadow, etc/ssh/sshd_config, f/ ...)
  {M}  this case's marker: a path that must never exist (every case)
  {V}  this case's victim: a file made before the case that must survive
  {P}  a script that creates {M} when run or sourced
  {B}  a folder of programs (ls, echo, cat, true, id) that create {M}, and
       {B}/args, a file holding the path {M}
and the policy text may use {D}.  Verdicts:
  deny   the client exits non-zero with the proxy's "escort: command denied:
         REASON" on stderr, nothing reaches the target (no session in the
         trace) and `escort-policy explain` says deny;
  allow  explain says allow, exactly one command line reaches the target, it
         is the line explain says it "runs as", and
         what bash ran (xtrace) is word for word what the policy checked; exit
         status `rc` and stdout `out` when given;
  any    either of the two, each checked as above (harmless constructs the
         policy may or may not understand).
Every case, whatever its verdict: {M} does not exist (also checked once more
after all cases, for background jobs), {V} still exists, and stdout holds
neither of the secrets in {D}/etc/shadow and {D}/etc/ssh/sshd_config.

BoundaryWorld(env, rules).run(cases) returns one line per failed case.
"""
import glob, os, re, subprocess, time
from harness.core import BIN, bin_path
from harness.proxy import ProxyWorld

SHADOW_SECRET = "SECRET-SHADOW-5d1e"
SSHD_SECRET = "SECRET-SSHD-83aa"
# Seconds one case may take: an ASan+UBSan proxy decides a 20,000-word line
# in tens of seconds, and the cases behind it on the shared connection wait.
CASE_TIMEOUT, CASE_SLOW = (120, 60) if "san" in BIN else (20, 10)
EXPANDING = {"substitution", "backticks", "variable", "glob", "brace", "tilde",
             "process-substitution", "history", "variable-command", "glob-command"}


class Case:
    def __init__(self, name, cmd, verdict, out=None, rc=None, sendenv=None, absent=(),
                 tty=False):
        """sendenv: {NAME: value} sent with ssh -o SendEnv=NAME; absent: byte
        strings that must not appear in stdout (with placeholders); tty: the
        exec request comes after a pty request (ssh -tt)."""
        assert verdict in ("allow", "deny", "any"), verdict
        self.name, self.cmd, self.verdict = name, cmd, verdict
        self.out, self.rc, self.sendenv, self.absent = out, rc, sendenv or {}, absent
        self.tty = tty


def cases(cls, verdict, *cmds, **kw):
    """Cases of one class and verdict, named CLS-1, CLS-2 ..."""
    return [Case("%s-%d" % (cls, i + 1), c, verdict, **kw) for i, c in enumerate(cmds)]


def _unquote_explain(s):
    """Decodes explain's "..." word (\\" \\\\ \\n \\xHH); returns bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == 0x5c and i + 1 < len(s):
            e = s[i + 1]
            if e == ord("n"):
                out.append(10)
                i += 2
            elif e == ord("x"):
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
            else:
                out.append(e)
                i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def parse_explain(stdout):
    """explain's output -> (verdict, [(substituted, [words], {constructs})], rendered)
    (rendered: the line explain says runs, or None)."""
    lines = stdout.split(b"\n")
    verdict = lines[0].decode("utf-8", "replace").strip() if lines else ""
    cmds, rendered = [], None
    for l in lines[1:]:
        if l.startswith(b"runs as: "):
            break
        m = re.match(rb"command \d+( \(substituted\))?:(.*)$", l)
        if m:
            words = []
            for q in re.finditer(rb' "((?:[^"\\]|\\.)*)"|( \[| then )', m.group(2)):
                if q.group(2):
                    break
                words.append(_unquote_explain(q.group(1)))
            cmds.append((bool(m.group(1)), words, set()))
            continue
        m = re.match(rb"  constructs: (.*)$", l)
        if m and cmds:
            cmds[-1][2].update(m.group(1).decode().split())
            continue
    # 'runs as: LINE' closes the output; LINE is printed raw, newlines and all
    m = re.search(rb"(?:^|\n)runs as: (.*)\n\Z", stdout, re.S)
    if m:
        rendered = None if m.group(1).startswith(b"(nothing") else m.group(1)
    return verdict, cmds, rendered


def _globbed(words, cons):
    """The words bash would run for a command whose only expansion is globs
    in absolute paths (a pattern that matches nothing stays as it is), or
    None when that cannot be known here."""
    if not cons & EXPANDING:
        return words
    if cons & EXPANDING != {"glob"}:
        return None
    out = []
    for w in words:
        if re.search(rb"[*?[]", w):
            if not w.startswith(b"/"):
                return None
            hits = sorted(glob.glob(w))
            out.extend(hits or [w])
        else:
            out.append(w)
    return out


def compare_words(policy_cmds, executed):
    """What bash ran against what the policy checked.  Returns a problem or None.
    Globs in absolute paths are expanded here as bash would; a command with
    other expansions is compared by its name only."""
    for want_sub in (False, True):
        pol = [(_globbed(w, c), w) for s, w, c in policy_cmds if s == want_sub and w]
        ran = [w for lvl, w in executed if (lvl > 1) == want_sub]
        left = list(ran)
        loose = []
        for words, raw in pol:
            if words is None:
                loose.append(raw)
            elif words in left:
                left.remove(words)
            else:
                return "policy checked %r but bash ran %r" % (_show(words), [_show(x) for x in ran])
        for words in loose:
            hit = [x for x in left if x[:1] == words[:1]]
            if not hit:
                return "policy checked %r but bash ran %r" % (_show(words), [_show(x) for x in ran])
            left.remove(hit[0])
        if left:
            return "bash ran %r, which the policy never checked (policy: %r)" % (
                [_show(x) for x in left], [_show(w) for _, w in pol])
    return None


def _show(words):
    return " ".join(w.decode("utf-8", "backslashreplace") for w in words)


class BoundaryWorld:
    """One target (traced sshd), recorder and proxy for a policy, and the tree
    {D} the cases work in.  rules: policy text with {D}."""

    def __init__(self, env, rules, sshd_extra=""):
        self.env = env
        self.D = os.path.join(env.dir, "t")
        self._tree()
        self.world = ProxyWorld(env, rules=rules.replace("{D}", self.D), trace=True,
                                sshd_extra=sshd_extra)
        self.tracer = self.world.target.tracer
        self.markers = []

    def _tree(self):
        D = self.D
        files = {
            "log/app.log": "started\nerror 1\nstopped\n",
            "log/auth.log": "login ok\n",
            "log/sub/deep.log": "deep\n",
            "etc/shadow": "root:%s:19000:0:99999:7:::\n" % SHADOW_SECRET,
            "etc/ssh/sshd_config": "# %s\nPort 22\n" % SSHD_SECRET,
            "etc/hostname": "web01\n",
            "f/file": "x\n",
        }
        for rel, text in files.items():
            p = os.path.join(D, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        for sub in ("m", "v", "p"):
            os.makedirs(os.path.join(D, sub), exist_ok=True)

    def _prepare(self, case, idx):
        tag = re.sub(r"[^A-Za-z0-9_-]", "_", case.name) + "-%d" % idx
        M = os.path.join(self.D, "m", tag)
        V = os.path.join(self.D, "v", tag)
        B = os.path.join(self.D, "p", tag)
        P = os.path.join(B, "payload.sh")
        subst = {"{D}": self.D, "{M}": M, "{V}": V, "{P}": P, "{B}": B}

        def fill(s):
            if isinstance(s, bytes):
                for k, v in subst.items():
                    s = s.replace(k.encode(), v.encode())
                return s
            for k, v in subst.items():
                s = s.replace(k, v)
            return s
        if "{V}" in case.cmd:
            with open(V, "w") as f:
                f.write("victim\n")
        if "{P}" in case.cmd or "{B}" in case.cmd:
            os.makedirs(B, exist_ok=True)
            for name in ("payload.sh", "ls", "echo", "cat", "true", "id"):
                p = os.path.join(B, name)
                with open(p, "w") as f:
                    f.write("#!/bin/sh\n/usr/bin/touch '%s'\n" % M)
                os.chmod(p, 0o755)
            with open(os.path.join(B, "args"), "w") as f:
                f.write(M + "\n")
        self.markers.append((case, M))
        return fill, M, V, fill(case.cmd)

    def explain(self, cmd):
        # Only explain's standard output is read here, never its exit status
        # or standard error: under ASan no leak check at its exit (most of the
        # CPU of the ASan stage's two tables: 73 and 55 CPU-seconds before,
        # 23 and 17 after; the proxy deciding the same lines with the same
        # engine keeps its own, and test_policy_cli runs explain with it).
        e = dict(os.environ)
        e["ASAN_OPTIONS"] = ":".join(x for x in (e.get("ASAN_OPTIONS"), "detect_leaks=0") if x)
        r = subprocess.run([bin_path("escort-policy"), "explain", self.world.policy_path, "alice",
                            "web01", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, env=e)
        return parse_explain(r.stdout) + (r,)

    def start_master(self):
        """A ControlMaster connection to the proxy (tracked by pid): the cases
        share it, one exec channel each, instead of a handshake each."""
        self.control = os.path.join(self.env.dir, "cm")
        argv = self.world.ssh_argv("alice", "web01", None, extra=(
            "-M", "-N", "-o", "ControlPath=" + self.control, "-o", "ControlPersist=no"))
        self.master = self.env.start("ssh-master", argv)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.control) and self.master.alive() and \
                time.monotonic() < deadline:
            time.sleep(0.05)

    def run_case(self, case, prep, explained):
        """Runs one case; returns a list of problems (empty: the case holds)."""
        fill, M, V, cmd = prep
        extra, envv, problems = [], None, []
        if case.sendenv:
            envv = dict(os.environ)
            for k, v in case.sendenv.items():
                extra += ["-o", "SendEnv=" + k]
                envv[k] = fill(v)
        else:
            if not self.master.alive():
                problems.append("the shared connection to the proxy had ended (restarted)")
                self.start_master()
            extra = ["-o", "ControlMaster=no", "-o", "ControlPath=" + self.control]
        if case.tty:
            extra.append("-tt")
        before = len(self.tracer.records())
        t0 = time.monotonic()
        try:
            r = subprocess.run(self.world.ssh_argv("alice", "web01", cmd, extra=extra),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=CASE_TIMEOUT, env=envv)
        except subprocess.TimeoutExpired:
            return ["ssh did not finish within %d s" % CASE_TIMEOUT]
        dt = time.monotonic() - t0
        recs = self.tracer.records()[before:]
        verdict, pcmds, rendered, ex = explained.result()
        if os.path.exists(M):
            problems.append("MARKER CREATED on the target: the command ran code the policy did not allow")
        if "{V}" in case.cmd and not os.path.exists(V):
            problems.append("VICTIM REMOVED on the target")
        for secret in (SHADOW_SECRET, SSHD_SECRET):
            if secret.encode() in r.stdout:
                problems.append("a denied file's content (%s) reached the client" % secret)
        for a in case.absent:
            if fill(a).encode() in r.stdout:
                problems.append("%r reached the target's command" % fill(a))
        denied = b"escort: command denied" in r.stderr or (r.returncode != 0 and not recs)
        want = case.verdict if case.verdict != "any" else ("deny" if denied else "allow")
        if verdict != want:
            problems.append("explain says %r, expected %s" % (verdict, want))
        if want == "deny":
            if r.returncode == 0:
                problems.append("client exit status 0")
            m = re.search(rb"escort: command denied: (.+)", r.stderr)
            if not m:
                problems.append("no 'escort: command denied: REASON' on stderr")
            if recs:
                problems.append("the target received %r" % [c for _, c in recs])
        else:
            if b"escort: command denied" in r.stderr:
                problems.append("proxy denied it: %s" % _last_line(r.stderr))
            if len(recs) != 1:
                problems.append("%d command lines reached the target (want 1)" % len(recs))
            else:
                pid, line = recs[0]
                if rendered is not None and line != rendered and \
                        line != _unquote_explain(rendered[1:-1] if rendered[:1] == b'"' else rendered):
                    problems.append("target received %r but explain renders %r" % (line, rendered))
                if verdict == "allow":
                    p = compare_words(pcmds, self.tracer.executed(pid))
                    if p:
                        problems.append(p + " (line received: %r)" % line)
            want_rc = 0 if case.rc is None else case.rc
            if r.returncode != want_rc:
                problems.append("exit status %d, want %d (stderr %r)" % (r.returncode, want_rc,
                                                                         r.stderr[-200:]))
            if case.out is not None:
                out = fill(case.out)
                out = out if isinstance(out, bytes) else out.encode()
                if r.stdout != out:
                    problems.append("stdout %r, want %r" % (r.stdout[:200], out[:200]))
        if dt > CASE_SLOW:
            problems.append("took %.1f s" % dt)
        return problems

    def run(self, cases):
        """Runs every case in order; returns ["NAME: problem; problem", ...]."""
        from concurrent.futures import ThreadPoolExecutor
        names = [c.name for c in cases]
        assert len(set(names)) == len(names), "duplicate case names"
        failed = {}
        t0 = time.monotonic()
        preps = [self._prepare(c, i) for i, c in enumerate(cases)]
        self.start_master()
        with ThreadPoolExecutor(2) as pool:
            # explain runs beside the sessions; the sessions run one at a time
            # so that each trace record belongs to the case just run
            exs = [pool.submit(self.explain, p[3]) for p in preps]
            for c, prep, ex in zip(cases, preps, exs):
                t1 = time.monotonic()
                p = self.run_case(c, prep, ex)
                if p:
                    failed[c.name] = p
                print("%s %s (%.2fs) %s" % ("FAIL" if p else "ok  ", c.name, time.monotonic() - t1,
                                            "; ".join(p)), flush=True)
        # background jobs (`&`, coproc) may outlive their session for a moment
        time.sleep(1.0)
        for c, M in self.markers:
            if os.path.exists(M) and not any("MARKER" in x for x in failed.get(c.name, [])):
                failed.setdefault(c.name, []).append("MARKER CREATED after the session ended")
        print("%d cases in %.1f s, %d failed" % (len(cases), time.monotonic() - t0, len(failed)))
        return ["%s %r: %s" % (n, next(c.cmd for c in cases if c.name == n)[:60],
                               "; ".join(x[:90] for x in p)) for n, p in failed.items()]


def _last_line(b):
    lines = [l for l in b.decode("utf-8", "replace").splitlines() if l.strip()]
    return lines[-1] if lines else ""
