#!/usr/bin/env python3
"""Differential test of the policy's shell parser against the real bash.

For every command line the parser (pol_cmdline_parse, through the
pol-parse-dump tool) accepts, bash runs it in a throwaway sandbox and
reports, by xtrace, every simple command it executed with its expanded
words.  Two properties are checked:

  (A) rendered: bash executing the line that pol_render rebuilt from the
      parse runs only simple commands the parser reported, with exactly the
      reported words (words without expansions compare byte for byte);
  (B) raw: bash executing the ORIGINAL line runs only what the parser
      reported.  A command bash ran that the parser did not report is a
      parser disagreement (a bypass when the line was allowed).

Sandbox (never a real effect): a new mount, network and PID namespace
(unshare(1)); every mount read-only, tmpfs over the usual writable
directories (/tmp, /var/tmp, /dev/shm, ...) and over every
directory of programs (/usr/bin, /usr/sbin, /usr/local/bin, ...; /bin and
/sbin are links into /usr on Debian); bash copied into the sandbox first;
bash runs as nobody (65534, no groups, no_new_privs) with `env -i`-style
environment, cwd a fresh empty directory, and PATH a directory where every
command name the parser reported for any line is a link to pol-argv-trace,
which records its argv and exits 0.  Commands by absolute path are not found
(their argv still shows in xtrace).  Each line has a timeout (--timeout, 2 s)
after which its process group is killed; the whole run has a time budget
(--budget) after which the remaining lines are reported as not run.

usage: bash_diff.py [--dump PATH] [--tracer PATH] [--allow FILE] [--jobs N]
                    [--timeout S] [--budget S] [--random N --seed S]
                    [--json OUT] [-v] [CORPUS_FILE ...]
Exit 0 when no disagreement outside the allowlist was found, 1 otherwise,
2 when the harness itself could not run (sandbox, tools).
"""
import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import gen_corpus  # noqa: E402

W_QUOTED, W_GLOB, W_VAR, W_SUBST, W_BRACE, W_TILDE = 1, 2, 4, 8, 16, 32
NOBODY = 65534

# ---- the sandboxed runner (runs inside the namespaces) --------------------------


# One bash per worker runs its share of the lines, each in a fresh subshell
# (fork, no exec: a bash exec per line is several times slower), in its own
# process group (set -m) and directory, with xtrace on.  The line reaches
# eval as the exact bytes read, so eval parses it as `bash -c` would (both
# go through parse_and_execute); the trace gets one more "+" of indirection.
# Every trace record carries the line number (ESCORT_LINE, in PS4 and in
# the argv records), so late output of background jobs is still attributed.
# The driver reads every line first, in the C locale (where any byte is a
# character), then switches once to the locale asked for (C.UTF-8 by
# default, as on most targets): a locale switch per line would cost more
# than the line.
DRIVER = r"""
mapfile -d '' __jobs
LC_ALL=$ESCORT_LOCALE
builtin unset -v ESCORT_LOCALE
set -m
for ((__k = 0; __k < ${#__jobs[@]}; __k += 2)); do
  __id=${__jobs[__k]}
  __l=${__jobs[__k+1]}
  (
    ESCORT_LINE=$__id
    export ESCORT_LINE
    builtin cd -- "$ESCORT_WORK/$__id" || exit 99
    builtin printf '\001START %s %s\n' "$__id" "$BASHPID" >&9
    builtin unset -v __id __k
    set -x
    eval "$__l"
  ) </dev/null >/dev/null 2>/dev/null
  builtin printf '\001DONE %s %s\n' "$__id" "$?" >&9
done
"""


def inner_main():
    """Reads the job list (JSON on stdin), sets up the sandbox, runs every
    line with bash, writes one JSON result per worker to stdout."""
    import ctypes
    import ctypes.util
    import resource
    import selectors
    import signal
    import threading

    cfg = json.loads(sys.stdin.buffer.read())
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    MS_NOSUID, MS_NODEV = 2, 4

    def mount_tmpfs(path, opts=b"mode=1777,size=256m"):
        if not os.path.isdir(path) or os.path.islink(path):
            return
        if libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts) != 0:
            raise OSError(ctypes.get_errno(), "mount tmpfs on " + path)

    # every mount read-only (device nodes stay usable), then writable tmpfs
    # where programs expect to write
    MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
    keep = {"nosuid": 2, "nodev": 4, "noexec": 8, "noatime": 1024, "nodiratime": 2048,
            "relatime": 1 << 21}
    # bash and the tracer are read now: the checkout itself may be under
    # /tmp, which a tmpfs hides below
    with open(cfg["bash"], "rb") as f:
        bash_image = f.read()
    with open(cfg["tracer"], "rb") as f:
        tracer_image = f.read()
    with open("/proc/self/mountinfo") as f:
        mounts = [ln.split() for ln in f]
    for m in mounts:
        mp = m[4].encode().decode("unicode_escape")
        if mp.startswith(("/proc", "/sys")):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for o in m[5].split(","):
            flags |= keep.get(o, 0)
        if libc.mount(None, mp.encode(), None, flags, None) != 0:
            raise OSError(ctypes.get_errno(), "remount read-only " + mp)
    for d in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", "/dev/mqueue"):
        mount_tmpfs(d)
    sb = "/tmp/escort-diff"
    for d in ("bin", "path", "home", "work"):
        os.makedirs(os.path.join(sb, d))
    bash = sb + "/bin/bash"
    with open(bash, "wb") as f:
        f.write(bash_image)
    with open(sb + "/bin/trace", "wb") as f:
        f.write(tracer_image)
    os.chmod(bash, 0o755)
    os.chmod(sb + "/bin/trace", 0o755)
    for name in cfg["names"]:
        try:
            os.symlink("../bin/trace", os.path.join(sb + "/path", name))
        except OSError:
            pass
    for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/usr/games",
              "/usr/local/games", "/usr/libexec", "/usr/lib/git-core", "/opt", "/snap/bin",
              "/home", "/srv", "/mnt", "/media"):
        mount_tmpfs(d, b"mode=0755,size=1m")
    jobs = cfg["jobs_list"]
    for d in (sb + "/home", sb + "/work"):
        os.chown(d, NOBODY, NOBODY)
    # drop to nobody (when we are real root in these namespaces)
    if os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    for j in jobs:
        os.mkdir("%s/work/%d" % (sb, j["id"]), 0o700)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
    # orphans (background jobs) come to us, pid 1: let the kernel reap them
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    nonce = cfg["nonce"]
    timeout = cfg["timeout"]
    deadline = time.monotonic() + cfg["budget"]
    out_lock = threading.Lock()
    out = sys.stdout.buffer
    env = {"PATH": sb + "/path", "HOME": sb + "/home", "ESCORT_WORK": sb + "/work",
           "PS4": "+%s ${ESCORT_LINE} ${BASH_SUBSHELL} " % nonce, "LC_ALL": "C", "ESCORT_LOCALE": cfg["locale"], "USER": "nobody",
           "LOGNAME": "nobody"}

    def killpg(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

    cpus = sorted(os.sched_getaffinity(0))

    def worker(k, share):
        """Runs `share` (jobs) through driver bashes, a new one whenever a line
        killed the last (`kill $$` in a subshell names the driver); returns
        the worker's result.  The worker's thread, so its bashes, stay on one
        CPU (the k-th this process may use): a fork and every copy-on-write
        fault after it flush the TLB of each CPU the bash's memory was
        used on, an interrupt to the other CPU when it moved (on a 2-CPU VM
        about a sixth of the corpus's CPU time)."""
        os.sched_setaffinity(0, {cpus[k % len(cpus)]})
        st = {"stream": bytearray(), "finished": set(), "timeouts": [], "killer": []}
        while time.monotonic() < deadline:
            rest = [j for j in share if j["id"] not in st["finished"]]
            if not rest:
                break
            drive(rest, st)
        skipped = [j["id"] for j in share if j["id"] not in st["finished"]]
        return {"worker": k, "stream": bytes(st["stream"]).hex(), "timeouts": st["timeouts"],
                "skipped": skipped, "killer": st["killer"]}

    def drive(share, st):
        """One driver bash over `share`; updates st."""
        r, w = os.pipe()
        feed = b"".join(b"%d\0%s\0" % (j["id"], bytes.fromhex(j["line"])) for j in share)
        fin_r, fin_w = os.pipe()
        # pass_fds keeps the descriptor's number: the trace goes to fd `w`
        wenv = dict(env, BASH_XTRACEFD=str(w), ESCORT_ARGV_FD=str(w))
        p = subprocess.Popen([bash, "--norc", "--noprofile", "-c",
                              DRIVER.replace(">&9", ">&%d" % w)], env=wenv,
                             stdin=fin_r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             pass_fds=(w,), start_new_session=True)
        os.close(fin_r)
        os.close(w)
        feeder = threading.Thread(target=write_all, args=(fin_w, feed), daemon=True)
        feeder.start()
        stream, finished = st["stream"], st["finished"]
        running = {}   # id -> (pid, started)
        done_at = {}   # pid -> time of DONE, for a late kill of stragglers
        sel = selectors.DefaultSelector()
        sel.register(r, selectors.EVENT_READ)
        pending = b""
        alive = True
        driver_gone = None
        while alive:
            now = time.monotonic()
            if now > deadline:
                break
            for key, _ in sel.select(0.05):
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    alive = False
                    break
                if len(stream) < (64 << 20):
                    stream += chunk
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for ln in lines:
                    if ln.startswith(b"\x01START "):
                        f = ln.split()
                        running[int(f[1])] = (int(f[2]), time.monotonic())
                    elif ln.startswith(b"\x01DONE "):
                        f = ln.split()
                        jid = int(f[1])
                        finished.add(jid)
                        if jid in running:
                            done_at[running.pop(jid)[0]] = time.monotonic()
            now = time.monotonic()
            for jid, (pid, t0) in list(running.items()):
                if now - t0 > timeout:
                    st["timeouts"].append(jid)
                    killpg(pid)
                    done_at[pid] = now - 1
            for pid, t in list(done_at.items()):
                if now - t > 0.5:
                    killpg(pid)
                    del done_at[pid]
            if driver_gone is None and p.poll() is not None:
                driver_gone = now
            if driver_gone is not None and now - driver_gone > 1:
                break  # what still holds the pipe is a straggler
        killpg(p.pid)
        for pid in list(done_at) + [v[0] for v in running.values()]:
            killpg(pid)
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        # a line that started and never finished killed its driver (or was
        # killed at the deadline): it ran, as far as it got
        for jid in running:
            if time.monotonic() < deadline:
                finished.add(jid)
                st["killer"].append(jid)
        sel.close()
        os.close(r)

    def write_all(fd, data):
        try:
            while data:
                n = os.write(fd, data[:1 << 16])
                data = data[n:]
        except OSError:
            pass
        os.close(fd)

    results = [None] * cfg["jobs"]

    def run(k):
        results[k] = worker(k, jobs[k::cfg["jobs"]])

    ts = [threading.Thread(target=run, args=(k,)) for k in range(cfg["jobs"])]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with out_lock:
        for res in results:
            out.write((json.dumps(res) + "\n").encode())
        out.flush()
    return 0

# ---- xtrace decoding -------------------------------------------------------------


ANSI = {ord("a"): 7, ord("b"): 8, ord("e"): 27, ord("E"): 27, ord("f"): 12, ord("n"): 10,
        ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("\\"): 92, ord("'"): 39, ord('"'): 34,
        ord("?"): 63}


def decode_trace(data, nonce):
    """Splits a driver's trace stream into records, by line number:
    {id: [("x", plus_count, subshell, [words]) for xtrace records,
          ("argv", [words]) for pol-argv-trace records]},
    and a list of undecodable pieces."""
    recs, junk = {}, []
    tag = nonce.encode()
    i, n = 0, len(data)
    while i < n:
        if data.startswith(b"\x01", i):
            e = data.find(b"\n", i)
            e = n if e < 0 else e
            f = data[i + 1:e].split(b" ")
            if f[0] == b"ARGV" and len(f) >= 2 and f[1].isdigit():
                try:
                    recs.setdefault(int(f[1]), []).append(
                        ("argv", [bytes.fromhex(x.decode()) for x in f[2:]]))
                except ValueError:
                    junk.append(data[i:e])
            elif f[0] not in (b"START", b"DONE"):
                junk.append(data[i:e])
            i = e + 1
            continue
        j = i
        while j < n and data[j] == 0x2b:  # '+'
            j += 1
        if j > i and data.startswith(tag + b" ", j):
            k = j + len(tag) + 1
            m = re.match(rb"(\d+) (\d+) ", data[k:k + 40])
            if m:
                plus = j - i
                words, i = parse_words(data, k + m.end())
                recs.setdefault(int(m.group(1)), []).append(
                    ("x", plus, int(m.group(2)), words))
                continue
        e = data.find(b"\n", i)
        e = n if e < 0 else e
        junk.append(data[i:e])
        i = e + 1
    return recs, junk


def parse_words(data, i):
    """Words of one xtrace record from data[i:] up to an unquoted newline.
    Returns (words, index after the newline)."""
    n = len(data)
    words, cur, started = [], bytearray(), False
    while i < n:
        c = data[i]
        if c == 0x0a:
            i += 1
            break
        if c == 0x20:
            if started:
                words.append(bytes(cur))
                cur, started = bytearray(), False
            i += 1
            continue
        started = True
        if c == 0x27:  # '...'
            e = data.find(b"'", i + 1)
            e = n if e < 0 else e
            cur += data[i + 1:e]
            i = e + 1
        elif c == 0x24 and data[i + 1:i + 2] == b"'":  # $'...'
            i += 2
            while i < n and data[i] != 0x27:
                if data[i] == 0x5c and i + 1 < n:
                    d = data[i + 1]
                    if d in ANSI:
                        cur.append(ANSI[d])
                        i += 2
                    elif 0x30 <= d <= 0x37:
                        m = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4])
                        cur.append(int(m.group(0), 8) & 0xff)
                        i += 1 + m.end()
                    elif d == ord("x"):
                        m = re.match(rb"[0-9a-fA-F]{1,2}", data[i + 2:i + 4])
                        if m:
                            cur.append(int(m.group(0), 16))
                            i += 2 + m.end()
                        else:
                            cur += b"\\x"
                            i += 2
                    elif d == ord("c") and i + 2 < n:
                        cur.append(data[i + 2] & 0x1f)
                        i += 3
                    else:
                        cur += data[i:i + 2]
                        i += 2
                else:
                    cur.append(data[i])
                    i += 1
            i += 1
        elif c == 0x5c and i + 1 < n:  # \x outside quotes ('\'' joins)
            cur.append(data[i + 1])
            i += 2
        else:
            cur.append(c)
            i += 1
    if started:
        words.append(bytes(cur))
    return words, i

# ---- matching executed commands against the parse ------------------------------


def glob_regex(pat, inner=False):
    """A POSIX fnmatch pattern (bytes, backslash escapes) as a compiled regex
    (inner: as regex source for one word, or None)."""
    out, i, n = [], 0, len(pat)
    while i < n:
        c = pat[i:i + 1]
        if c == b"\\" and i + 1 < n:
            out.append(re.escape(pat[i + 1:i + 2]))
            i += 2
        elif c == b"*":
            out.append(b"[^\\x00]*")
            i += 1
        elif c == b"?":
            out.append(b"[^\\x00]")
            i += 1
        elif c == b"[":
            cls, j = bracket_class(pat, i + 1)
            if cls is None:
                out.append(re.escape(c))
                i += 1
            else:
                out.append(cls)
                i = j
        else:
            out.append(re.escape(c))
            i += 1
    if inner:
        return b"".join(out)
    try:
        return re.compile(b"".join(out) + b"\\Z", re.S)
    except re.error:
        return None


CLASSES = {b"alpha": b"a-zA-Z", b"digit": b"0-9", b"alnum": b"a-zA-Z0-9", b"upper": b"A-Z",
           b"lower": b"a-z", b"space": b" \\t\\n\\r\\f\\v", b"blank": b" \\t",
           b"xdigit": b"0-9a-fA-F", b"punct": re.escape(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
           b"print": b"\\x20-\\x7e", b"graph": b"\\x21-\\x7e", b"cntrl": b"\\x00-\\x1f\\x7f",
           b"word": b"a-zA-Z0-9_"}


def bracket_class(pat, j):
    """The regex class of the bracket expression starting after '[' at
    pat[j], and the index after its ']'; (None, j) when it is not one."""
    n = len(pat)
    neg = False
    if j < n and pat[j:j + 1] in (b"!", b"^"):
        neg = True
        j += 1
    items, first = [], True
    while j < n:
        c = pat[j:j + 1]
        if c == b"]" and not first:
            body = b"".join(items) or b"\\x00"
            return (b"[^" if neg else b"[") + body + b"]", j + 1
        first = False
        if c == b"[" and pat[j + 1:j + 2] == b":":
            e = pat.find(b":]", j + 2)
            if e < 0:
                return None, j
            items.append(CLASSES.get(pat[j + 2:e], b"\\s\\S"))
            j = e + 2
            continue
        if c == b"\\" and j + 1 < n:
            c = pat[j + 1:j + 2]
            j += 1
        if pat[j + 1:j + 2] == b"-" and j + 2 < n and pat[j + 2:j + 3] != b"]":
            lo, hi = c, pat[j + 2:j + 3]
            if lo <= hi:
                items.append(re.escape(lo) + b"-" + re.escape(hi))
            j += 3
            continue
        items.append(re.escape(c))
        j += 1
    return None, j


SEG_LIT, SEG_GLOB, SEG_BRACE, SEG_TILDE, SEG_EQ, SEG_VAR, SEG_SUBST = range(7)
SEP = b"\x00"   # joins executed words for the matcher (no word holds a NUL)
ANY = re.compile(rb"[\s\S]*\Z")


def word_matcher(w):
    """How one reported word may appear among the executed words:
    (regex over executed words joined by SEP, may_span, may_vanish).
    Literal segments must appear byte for byte; a glob segment matches what
    the pattern matches; a tilde prefix any home directory; an expansion
    anything (several words and none when unquoted).  A word with brace
    expansion may become any words."""
    text = bytes.fromhex(w["hex"])
    f = w["flags"]
    segs = w.get("seg") or [[SEG_LIT, 0, 0, len(text)]]
    if f & W_BRACE:
        return ANY, True, True
    parts, span, only_unquoted_exp = [], False, True
    for kind, dq, off, ln in segs:
        t = text[off:off + ln]
        if kind in (SEG_VAR, SEG_SUBST):
            if dq and not (kind == SEG_VAR and b"@" in t):
                parts.append(rb"[^\x00]*")
                only_unquoted_exp = False
            else:
                parts.append(rb"[\s\S]*")
                span = True
            continue
        only_unquoted_exp = False
        if kind == SEG_GLOB:
            # a pattern that matches no file stays as written
            g = glob_regex(t, inner=True)
            parts.append(rb"(?:" + (g if g is not None else rb"[^\x00]*") + rb"|" +
                         re.escape(t) + rb")")
        elif kind == SEG_TILDE:
            parts.append(rb"(?:" + re.escape(t) + rb"|/[^\x00]*)")
        else:
            parts.append(re.escape(t))
    rx = b"".join(parts)
    if rx == rb"[\s\S]*":
        return ANY, True, True
    # "$@" and "${a[@]}" may become no word or several
    vanish = (only_unquoted_exp or any(k == SEG_VAR and b"@" in text[o:o + n]
                                        for k, _, o, n in segs)) and bool(segs)
    return re.compile(rx + rb"\Z"), span or vanish, vanish


sys.setrecursionlimit(20000)
MAX_SPAN = 64   # executed words one reported word may become, at most


def match_words(reported, executed):
    """True when the executed words can be the expansion of the reported ones."""
    ms = [word_matcher(w) for w in reported]
    globs = [bool(w["flags"] & W_GLOB) and ms[k][0] is not ANY for k, w in enumerate(reported)]
    memo = {}
    n = len(executed)

    def go(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(ms):
            res = j == n
        else:
            rx, span, vanish = ms[i]
            res = vanish and go(i + 1, j)
            if not res and globs[i]:
                # a glob may match several files: each word matches it
                k = j
                while not res and k < min(n, j + MAX_SPAN) and rx.match(executed[k]):
                    k += 1
                    res = go(i + 1, k)
            last = min(n, j + MAX_SPAN) if span else min(n, j + 1)
            if rx is ANY:
                res = res or any(go(i + 1, k) for k in range(j + 1, n + 1))
            k = j + 1
            while not res and rx is not ANY and k <= last:
                res = bool(rx.match(SEP.join(executed[j:k]))) and go(i + 1, k)
                k += 1
        memo[key] = res
        return res
    if n > len(ms) * MAX_SPAN and not any(m[0] is ANY for m in ms):
        return False
    return go(0, 0)


ASSIGN_RE = re.compile(rb"^([A-Za-z_][A-Za-z0-9_]*)(\[[\s\S]*\])?\+?=")


DECLARE = {b"export", b"declare", b"typeset", b"local", b"readonly"}


def match_assign(cmd, word):
    """True when `word`, a record of one NAME=VALUE word, is an assignment
    of the reported command: one of its assignments, or an argument of a
    declaration builtin, of the same NAME (the value is data: bash shows it
    expanded, and after += the whole new value)."""
    m = ASSIGN_RE.match(word)
    if not m:
        return False
    cands = [bytes.fromhex(a) for a in cmd["assign"]]
    if cmd["words"] and bytes.fromhex(cmd["words"][0]["hex"]) in DECLARE:
        cands += [bytes.fromhex(w["hex"]) for w in cmd["words"][1:]]
    for a in cands:
        am = ASSIGN_RE.match(a)
        if am and am.group(1) == m.group(1) and (am.group(2) is None) == (m.group(2) is None):
            return True
    return False


def compare(parse, recs, line):
    """Checks the executed records against the parse.  Returns
    (extra, missing, decode_problems): executed commands the parse does not
    report, reported commands that did not run, argv records that match no
    xtrace record."""
    cmds = parse["cmds"]
    used = [False] * len(cmds)
    extra = []
    xwords = []
    for rec in recs:
        if rec[0] != "x":
            continue
        words = rec[3]
        if not words or (rec[1] == 1 and words == [b"eval", line]):
            continue
        xwords.append(words)
        ok = False
        for k, c in enumerate(cmds):
            if c["words"] and match_words(c["words"], words):
                used[k] = True
                ok = True
                break
        if not ok and len(words) == 1:
            for k, c in enumerate(cmds):
                if match_assign(c, words[0]):
                    used[k] = True
                    ok = True
                    break
        if not ok:
            extra.append({"plus": rec[1], "subshell": rec[2], "words": words,
                          "same_name": any(c["words"] and bytes.fromhex(c["words"][0]["hex"]) ==
                                           words[0] for c in cmds)})
    # a program run with no xtrace record of its own: started by a builtin
    # (command, exec, builtin) from other words than those traced
    decode = []
    for rec in recs:
        if rec[0] == "argv" and rec[1] not in xwords:
            decode.append(rec[1])
            if not any(c["words"] and match_words(c["words"], rec[1]) for c in cmds):
                extra.append({"plus": 0, "subshell": 0, "words": rec[1], "argv": True,
                              "same_name": False})
    missing = [k for k, c in enumerate(cmds) if c["words"] and not used[k]]
    return extra, missing, decode

# ---- allowlist -----------------------------------------------------------------


def load_allow(path):
    """Allowlist entries, one per line ('#' comments):
        ID<TAB>KINDS<TAB>MATCH<TAB>REASON
    KINDS: "B" or "AB" (the kinds of finding it covers), with "*" after it
    when the entry may also explain other words for a command the line
    named (shell options that change how later words expand).  MATCH:
    "cmd=NAME,NAME..." (the parse has a simple command whose name, after
    quote removal, is one of these) or "re=REGEX" (searched in the line,
    decoded as latin-1).  REASON must say why the construct is safe to
    leave: who refuses it."""
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, ln in enumerate(f, 1):
            ln = ln.rstrip("\n")
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            parts = ln.split("\t")
            if len(parts) != 4 or parts[1] not in ("B", "AB", "B*", "AB*") or not parts[3].strip():
                raise SystemExit("%s:%d: want ID<TAB>B|AB<TAB>cmd=...|re=...<TAB>REASON"
                                 % (path, n))
            how, _, what = parts[2].partition("=")
            if how == "cmd":
                m = ("cmd", set(x.encode() for x in what.split(",")))
            elif how == "re":
                try:
                    m = ("re", re.compile(what, re.S))
                except re.error as e:
                    raise SystemExit("%s:%d: bad regex: %s" % (path, n, e))
            else:
                raise SystemExit("%s:%d: MATCH must be cmd=... or re=..." % (path, n))
            out.append((parts[0], parts[1], m, parts[3]))
    return out


def allowed(allow, kind, line, parse, same_name=False):
    """The id of the first allowlist entry covering a finding of this kind
    on this line, or None."""
    names = {bytes.fromhex(c["words"][0]["hex"]) for c in parse.get("cmds", []) if c["words"]}
    s = line.decode("latin-1")
    for ident, kinds, (how, what), _ in allow:
        if kind not in kinds or (same_name and "*" not in kinds):
            continue
        if (how == "cmd" and names & what) or (how == "re" and what.search(s)):
            return ident
    return None

# ---- the driver -------------------------------------------------------------------


def show(b):
    return json.dumps(b.decode("utf-8", "backslashreplace"))[1:-1]


def default_tool(name):
    tools = os.environ.get("ESCORT_TOOLS", os.path.join(ROOT, "build", "release", "tools"))
    return os.path.join(tools, name)


def sandbox_argv():
    base = ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
            "--propagation", "private"]
    if os.geteuid() != 0:
        base[1:1] = ["--user", "--map-root-user"]
    return base


def run_bash(lines, names, a, nonce):
    """Runs every line (bytes) in the sandbox; returns {index: result}."""
    cfg = {"bash": a.bash, "tracer": a.tracer, "names": sorted(names), "nonce": nonce,
           "timeout": a.timeout, "budget": a.budget, "jobs": a.jobs, "locale": a.locale,
           "jobs_list": [{"id": i, "line": ln.hex()} for i, ln in enumerate(lines)]}
    argv = sandbox_argv() + [sys.executable, os.path.abspath(__file__), "--inner"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(json.dumps(cfg).encode(), timeout=a.budget + 30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise SystemExit("sandbox did not finish within %ss: %s" % (a.budget + 30, err[-2000:]))
    if p.returncode != 0:
        raise RuntimeError("sandbox failed (exit %d): %s" % (p.returncode,
                                                            err.decode(errors="replace")[-3000:]))
    recs, skipped, timeouts, junk = {}, set(), set(), []
    for ln in out.splitlines():
        r = json.loads(ln)
        got, bad = decode_trace(bytes.fromhex(r["stream"]), nonce)
        recs.update(got)
        junk += bad
        skipped.update(r["skipped"])
        timeouts.update(r["timeouts"])
    return recs, skipped, timeouts, junk


def parse_all(lines, dump):
    p = subprocess.run([dump], input=b"".join(ln.hex().encode() + b"\n" for ln in lines),
                       capture_output=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("pol-parse-dump failed: %s" % p.stderr.decode(errors="replace"))
    outs = [json.loads(ln) for ln in p.stdout.splitlines()]
    if len(outs) != len(lines):
        raise RuntimeError("pol-parse-dump gave %d results for %d lines" % (len(outs), len(lines)))
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("corpus", nargs="*")
    ap.add_argument("--dump", default=default_tool("pol-parse-dump"))
    ap.add_argument("--tracer", default=default_tool("pol-argv-trace"))
    ap.add_argument("--bash", default="/usr/bin/bash" if os.path.exists("/usr/bin/bash") else "/bin/bash")
    ap.add_argument("--allow", default=os.path.join(HERE, "allowlist.tsv"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--budget", type=float, default=80.0)
    ap.add_argument("--locale", default="C.UTF-8")
    ap.add_argument("--random", type=int, default=0, help="also N generated lines")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write every finding as JSON lines here")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--max-show", type=int, default=40)
    ap.add_argument("--parse-only", action="store_true",
                    help="no bash: only the parse and the re-parse of the rendering")
    a = ap.parse_args()
    if a.inner:
        return inner_main()
    t_start = time.monotonic()
    for tool in (a.dump, a.tracer):
        if not os.access(tool, os.X_OK):
            print("bash_diff: %s not built (make tools)" % tool, file=sys.stderr)
            return 2
    files = a.corpus or sorted(os.path.join(HERE, "corpus", f)
                               for f in os.listdir(os.path.join(HERE, "corpus"))
                               if f.endswith(".txt"))
    cases = []
    for f in files:
        cases += gen_corpus.read_corpus(f)
    if a.random:
        cases += [("random(seed=%d):%d" % (a.seed, i + 1), ln)
                  for i, ln in enumerate(gen_corpus.generate(a.random, a.seed)) if ln and b"\0" not in ln]
    allow = load_allow(a.allow)
    lines = [c[1] for c in cases]
    parses = parse_all(lines, a.dump)
    accepted = [i for i, p in enumerate(parses) if p.get("ok")]
    has_render = any("rendered" in parses[i] for i in accepted)
    # the jobs: every accepted line, and its rendering
    jobs, owner = [], []
    names = set()
    for i in accepted:
        for c in parses[i]["cmds"]:
            if c["words"]:
                w0 = bytes.fromhex(c["words"][0]["hex"])
                if w0 and b"/" not in w0 and w0 not in (b".", b"..") and len(w0) < 200:
                    try:
                        names.add(w0.decode("utf-8"))
                    except UnicodeDecodeError:
                        pass
        jobs.append(lines[i])
        owner.append((i, "raw"))
        r = parses[i].get("rendered")
        if r is not None:
            jobs.append(bytes.fromhex(r))
            owner.append((i, "rendered"))
    nonce = "X" + secrets.token_hex(6)
    t_bash = time.monotonic()
    if a.parse_only:
        jobs, owner = [], []
    try:
        recs, skipped, timeouts, junk = run_bash(jobs, names, a, nonce) if jobs else ({}, set(), set(), [])
    except (RuntimeError, OSError) as e:
        print("bash_diff: %s" % e, file=sys.stderr)
        return 2
    t_bash = time.monotonic() - t_bash
    findings = []
    stats = {"lines": len(cases), "accepted": len(accepted), "runs": len(jobs), "skipped": 0,
             "timed_out": 0, "render_error": 0, "reparse_differs": 0, "missing_raw": 0,
             "missing_rendered": 0, "decode": 0}
    for i in accepted:
        p = parses[i]
        if has_render:
            if p.get("rendered") is None:
                stats["render_error"] += 1
            elif p.get("reparse"):
                stats["reparse_differs"] += 1
                findings.append({"kind": "A", "where": cases[i][0], "line": lines[i],
                                 "what": "rendered line parses differently: " + p["reparse"],
                                 "allowed": None})
    for jid, (i, mode) in enumerate(owner):
        if jid in skipped:
            stats["skipped"] += 1
            continue
        if jid in timeouts:
            stats["timed_out"] += 1
        extra, missing, decode = compare(parses[i], recs.get(jid, []), jobs[jid])
        if decode:
            stats["decode"] += 1
            if a.verbose:
                print("decode: %s: argv %r not in xtrace" % (cases[i][0], decode[:2]))
        stats["missing_" + mode] += 1 if missing else 0
        if extra:
            kind = "A" if mode == "rendered" else "B"
            line = jobs[jid]
            findings.append({"kind": kind, "where": cases[i][0], "line": lines[i],
                             "rendered": line if mode == "rendered" else None,
                             "what": clip("bash ran " + "; ".join(
                                 ("exec " if e.get("argv") else "") +
                                 " ".join(repr_word(w) for w in e["words"]) for e in extra[:3])),
                             # an allowlist entry explains commands the line
                             # did not name (what eval, let ... ran), never
                             # other words for a command it named
                             "allowed": allowed(allow, kind, lines[i], parses[i],
                                                any(e["same_name"] for e in extra))})
    bad = [f for f in findings if not f.get("allowed")]
    known = [f for f in findings if f.get("allowed")]
    for f in bad[:a.max_show]:
        print("%s %s: %s\n    line: %s%s" % (f["kind"], f["where"], f["what"], show(f["line"]),
                                             "\n    rendered: " + show(f["rendered"])
                                             if f.get("rendered") else ""))
    if len(bad) > a.max_show:
        print("... and %d more" % (len(bad) - a.max_show))
    if a.verbose:
        for f in known:
            print("known(%s) %s: %s\n    line: %s" % (f["allowed"], f["where"], f["what"],
                                                      show(f["line"])))
    if a.json:
        with open(a.json, "w") as fo:
            for f in findings:
                g = dict(f)
                g["line"] = f["line"].decode("utf-8", "backslashreplace")
                if f.get("rendered"):
                    g["rendered"] = f["rendered"].decode("utf-8", "backslashreplace")
                fo.write(json.dumps(g) + "\n")
    stats["A"] = sum(1 for f in bad if f["kind"] == "A")
    stats["B"] = sum(1 for f in bad if f["kind"] == "B")
    stats["B_allowlisted"] = len(known)
    stats["junk"] = len(junk)
    stats["renderer"] = has_render
    stats["bash_secs"] = round(t_bash, 1)
    stats["total_secs"] = round(time.monotonic() - t_start, 1)
    print("bash_diff: " + " ".join("%s=%s" % kv for kv in stats.items()))
    if stats["skipped"]:
        print("bash_diff: %d runs not done within the budget of %ss" % (stats["skipped"], a.budget))
        return 1
    return 1 if bad else 0


def clip(s, n=400):
    return s if len(s) <= n else s[:n] + "... (%d more characters)" % (len(s) - n)


def repr_word(w):
    s = w.decode("utf-8", "backslashreplace")
    if re.fullmatch(r"[A-Za-z0-9_./=:,+%@^-]+", s):
        return s
    return json.dumps(s)


if __name__ == "__main__":
    sys.exit(main())
