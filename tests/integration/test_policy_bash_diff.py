"""The policy's shell parser against the real bash (tests/diff/): every
line of tests/diff/corpus/ that pol_cmdline_parse accepts runs through bash
in a sandbox (namespaces, nobody, tmpfs over program and writable
directories, external commands replaced by a tracer), and what bash ran,
seen by xtrace, must be what the parser reported: for the line pol_render
rebuilt (A) and for the line as typed (B, but for the constructs of
tests/diff/allowlist.tsv, each refused by the engine for a stated reason).
The long form, with generated lines: make diff-long."""
import os
import subprocess
import sys

from harness.core import tool_path

TIMEOUT = 720
# bash_diff.py keeps both CPUs busy, with a per-line timeout: runs alone
SERIAL = True

HERE = os.path.dirname(os.path.abspath(__file__))
DIFF = os.path.join(os.path.dirname(HERE), "diff")


def run_diff(*args, budget=600):
    env = dict(os.environ, ESCORT_TOOLS=os.path.dirname(tool_path("pol-parse-dump")))
    r = subprocess.run([sys.executable, os.path.join(DIFF, "bash_diff.py"),
                        "--budget", str(budget), *args],
                       capture_output=True, timeout=budget + 60, env=env)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def stats(out):
    last = [ln for ln in out.splitlines() if ln.startswith("bash_diff: lines=")]
    assert last, out[-3000:]
    return dict(kv.split("=", 1) for kv in last[-1].split()[1:])


def test_harness_sees_a_disagreement():
    """The harness can fail: after `shopt -s nocaseglob` bash matches
    /etc/SHADO? to /etc/shadow, which the parse of the glob does not say (the
    engine denies shopt; here its allowlist entry is left out), while an
    allowlisted builtin (let evaluates a subscript) is not a finding."""
    tmp = os.environ.get("TMPDIR", "/tmp")
    path = os.path.join(tmp, "escort-diff-probe-%d.txt" % os.getpid())
    allow = os.path.join(tmp, "escort-diff-allow-%d.tsv" % os.getpid())
    with open(path, "w") as f:
        f.write("shopt -s nocaseglob; cat /etc/SHADO?\nlet 'a[$(id)]=1'\nls -l 'a b'\n")
    with open(os.path.join(DIFF, "allowlist.tsv")) as f, open(allow, "w") as g:
        g.write("".join(l for l in f if l.startswith("arith-builtins\t")))
    try:
        rc, out, err = run_diff(path, "--allow", allow, budget=60)
    finally:
        os.unlink(path)
        os.unlink(allow)
    st = stats(out)
    assert rc == 1, out + err
    assert st["accepted"] == "3" and st["skipped"] == "0", out
    assert "bash ran cat /etc/shadow" in out, out
    assert st["B_allowlisted"] != "0", out


def test_sandbox_leaves_no_trace():
    """Lines that would write files, run programs by path or reach the
    network have no effect outside the sandbox."""
    import tempfile
    # a world-writable directory outside /tmp: only a read-only mount keeps
    # nobody out of it
    base = os.path.join(os.path.dirname(os.path.dirname(DIFF)), "build")
    os.makedirs(base, exist_ok=True)
    d = tempfile.mkdtemp(prefix="diff-probe-", dir=base)
    os.chmod(d, 0o777)
    probe = os.path.join(d, "lines.txt")
    lines = ["echo x > %s/redirected" % d, "cd %s && echo x > here" % d,
             "/usr/bin/touch %s/by-path" % d, "/bin/sh -c 'touch %s/by-sh'" % d,
             "touch %s/traced" % d, "cp /etc/hostname %s/copied" % d,
             "echo x >/dev/tcp/127.0.0.1/22", "printf x >> %s/appended" % d]
    with open(probe, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(probe, 0o644)
    try:
        rc, out, err = run_diff(probe, budget=60)
        st = stats(out)
        assert st["skipped"] == "0" and int(st["accepted"]) == len(lines), out + err
        assert sorted(os.listdir(d)) == ["lines.txt"], os.listdir(d)
    finally:
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))
        os.rmdir(d)


def test_corpus_has_no_disagreement():
    """The whole corpus (at least 5,000 lines, every table line included)."""
    n = 0
    for f in os.listdir(os.path.join(DIFF, "corpus")):
        with open(os.path.join(DIFF, "corpus", f), "rb") as fh:
            n += sum(1 for ln in fh if ln.strip())
    assert n >= 5000, n
    # Under ASan (make check's second pass) only the parser and renderer are
    # new: parse and re-parse every line, without running bash again.
    san = "/san/" in tool_path("pol-parse-dump")
    rc, out, err = run_diff(*(["--parse-only"] if san else []))
    st = stats(out)
    print(out[-6000:])
    assert st["renderer"] == "True", out
    assert st["skipped"] == "0", out
    assert int(st["accepted"]) >= 4000, out
    assert san or int(st["runs"]) >= int(st["accepted"]), out
    assert st["A"] == "0" and st["B"] == "0", out + err
    assert rc == 0, out + err
