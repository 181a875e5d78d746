#!/usr/bin/env python3
"""Integration test runner.  Finds tests/integration/test_*.py, runs every
function named test_* in its own process (its own process group) with a
timeout, and prints "PASS/FAIL file::name (secs)" lines as tests finish and a
closing "integration: N passed, N failed" line.  Exit 0 only if none failed.

Usage: tests/run.py [-j N] [--label L] [--timeout S] [-k SUBSTRING] [FILE...]
-j N runs up to N tests at a time (default: the number of CPUs, at most 4);
-j 1 runs them one after the other, in file and line order; with more, the
serial tests (below) run first, then the others, longest first: by the
seconds tests/durations.tsv gives (an ASan run's times; a test it does not
name counts as 5 s), so that no long test starts last beside idle slots.
`tests/run.py --durations LOG` rewrites that file from a runner's log.
A test module may set TIMEOUT = seconds for its tests (default 120), and
SERIAL = True (or a list of test names) for tests that measure time or load:
such a test runs alone, with no other test beside it."""
import argparse, glob, importlib.util, os, queue, signal, subprocess, sys, tempfile, \
    threading, time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    m = importlib.util.module_from_spec(spec)
    sys.path.insert(0, HERE)
    spec.loader.exec_module(m)
    return m


def run_one(path, name, tmo, running):
    """Runs path::name in a child process (a new session, so its own process
    group); returns (ok, output).  On timeout: SIGTERM, then SIGKILL to the
    group if it has not ended within 20 s.  running: the set of live Popens
    (for an interrupted runner to stop)."""
    p = subprocess.Popen([sys.executable, __file__, "--one", "%s::%s" % (path, name)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    running.add(p)
    try:
        try:
            raw, _ = p.communicate(timeout=tmo)
            return p.returncode == 0, raw.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            # SIGTERM first: the test unwinds and stops what it started;
            # SIGKILL only if it cannot within 20 s.
            p.send_signal(signal.SIGTERM)
            try:
                raw, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                raw, _ = p.communicate()
            return False, raw.decode("utf-8", "replace") + "\nTIMEOUT after %ss" % tmo
    finally:
        running.discard(p)


def collect(files, k, timeout):
    """[(tid, path, name, timeout, serial)] in file and line order."""
    out = []
    for path in files:
        m = load(path)
        names = [n for n in dir(m) if n.startswith("test_") and callable(getattr(m, n))]
        names.sort(key=lambda n: getattr(m, n).__code__.co_firstlineno)
        tmo = timeout or getattr(m, "TIMEOUT", 120)
        serial = getattr(m, "SERIAL", False)
        for n in names:
            tid = "%s::%s" % (os.path.basename(path), n)
            if k and k not in tid:
                continue
            out.append((tid, path, n, tmo, serial is True or (serial and n in serial)))
    return out


DURATIONS = os.path.join(HERE, "durations.tsv")


def load_durations():
    """{test id: seconds} from tests/durations.tsv ({} if it is missing)."""
    d = {}
    try:
        with open(DURATIONS) as f:
            for line in f:
                tid, _, secs = line.rstrip("\n").partition("\t")
                if secs and not tid.startswith("#"):
                    d[tid] = float(secs)
    except OSError:
        pass
    return d


def save_durations(log):
    """Writes tests/durations.tsv from the PASS/FAIL lines of a runner's log."""
    import re
    rows = []
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"^(?:PASS|FAIL) (\S+) \(([0-9.]+)s\)$", line.rstrip("\n"))
            if m:
                rows.append((m.group(1), float(m.group(2))))
    rows.sort(key=lambda r: -r[1])
    with open(DURATIONS, "w") as f:
        f.write("# seconds per test in an ASan run: tests/run.py starts the long ones first\n")
        for tid, secs in rows:
            f.write("%s\t%.1f\n" % (tid, secs))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=min(4, os.cpu_count() or 1))
    ap.add_argument("--label", default="")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("-k", default="")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--durations", metavar="LOG", help="rewrite tests/durations.tsv from LOG")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.one:  # child: run one test function
        def stopped(sig, frame):
            # The runner's timeout: unwind, so every `with Env()` stops the
            # processes it started, by pid, before this process exits.
            raise TimeoutError("stopped by the runner's timeout")
        signal.signal(signal.SIGTERM, stopped)
        path, name = a.one.split("::")
        m = load(path)
        getattr(m, name)()
        return 0
    if a.durations:
        return save_durations(a.durations)
    files = a.files or sorted(glob.glob(os.path.join(HERE, "integration", "test_*.py")))
    tests = collect(files, a.k, a.timeout)
    # escort-replay's screen snapshot cache: in a directory of this run,
    # not the user's ~/.cache
    cache = tempfile.TemporaryDirectory(prefix="escort-replay-cache-")
    os.environ.setdefault("ESCORT_REPLAY_CACHE", cache.name)
    jobs = max(1, a.j)
    if jobs > 1:
        # serial tests first, one barrier for them all; then the others, the
        # longest first, so that no long test starts last beside idle slots
        took = load_durations()
        tests.sort(key=lambda t: (not t[4], -took.get(t[0], 5.0)))
    done, running = queue.Queue(), set()
    counts = {"passed": 0, "failed": 0, "busy": 0}

    def work(t):
        t0 = time.monotonic()
        try:
            ok, out = run_one(t[1], t[2], t[3], running)
        except Exception as e:  # the runner's own fault: the test counts as failed
            ok, out = False, "runner: %r" % e
        done.put((t[0], ok, out, time.monotonic() - t0))

    def finish_one():
        tid, ok, out, dt = done.get()
        counts["busy"] -= 1
        if ok:
            counts["passed"] += 1
            print("PASS %s (%.1fs)" % (tid, dt), flush=True)
        else:
            counts["failed"] += 1
            print("FAIL %s (%.1fs)" % (tid, dt), flush=True)
            print("--- FAIL %s\n%s\n--- END" % (tid, out[-6000:]), flush=True)

    def start(t):
        counts["busy"] += 1
        threading.Thread(target=work, args=(t,), daemon=True).start()

    try:
        for t in tests:
            serial = t[4]
            # a serial test waits for the others to end and runs alone
            while counts["busy"] >= (1 if serial else jobs):
                finish_one()
            start(t)
            while serial and counts["busy"]:
                finish_one()
        while counts["busy"]:
            finish_one()
    except KeyboardInterrupt:
        # as on a timeout: each running test unwinds and stops what it started
        for p in list(running):
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
        raise
    print("integration: %d passed, %d failed" % (counts["passed"], counts["failed"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
