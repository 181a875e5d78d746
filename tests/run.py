#!/usr/bin/env python3
"""Integration test runner.  Finds tests/integration/test_*.py, runs every
function named test_* in its own process with a timeout, and prints
"PASS/FAIL file::name (secs)" lines and a closing
"integration: N passed, N failed" line.  Exit 0 only if none failed.

Usage: tests/run.py [--label L] [--timeout S] [-k SUBSTRING] [FILE...]
A test module may set TIMEOUT = seconds for its tests (default 120)."""
import argparse, glob, importlib.util, os, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    m = importlib.util.module_from_spec(spec)
    sys.path.insert(0, HERE)
    spec.loader.exec_module(m)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="")
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("-k", default="")
    ap.add_argument("--one", help=argparse.SUPPRESS)
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
    files = a.files or sorted(glob.glob(os.path.join(HERE, "integration", "test_*.py")))
    passed = failed = 0
    for path in files:
        m = load(path)
        names = [n for n in dir(m) if n.startswith("test_") and callable(getattr(m, n))]
        names.sort(key=lambda n: getattr(m, n).__code__.co_firstlineno)
        tmo = a.timeout or getattr(m, "TIMEOUT", 120)
        for n in names:
            tid = "%s::%s" % (os.path.basename(path), n)
            if a.k and a.k not in tid:
                continue
            t0 = time.monotonic()
            p = subprocess.Popen([sys.executable, __file__, "--one", "%s::%s" % (path, n)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 start_new_session=True)
            try:
                raw, _ = p.communicate(timeout=tmo)
                ok, out = p.returncode == 0, raw.decode("utf-8", "replace")
            except subprocess.TimeoutExpired:
                # SIGTERM first: the test unwinds and stops what it started;
                # SIGKILL only if it cannot within 20 s.
                p.send_signal(signal.SIGTERM)
                try:
                    raw, _ = p.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    raw, _ = p.communicate()
                ok, out = False, raw.decode("utf-8", "replace") + "\nTIMEOUT after %ss" % tmo
            dt = time.monotonic() - t0
            if ok:
                passed += 1
                print("PASS %s (%.1fs)" % (tid, dt), flush=True)
            else:
                failed += 1
                print("FAIL %s (%.1fs)" % (tid, dt), flush=True)
                print("--- FAIL %s\n%s\n--- END" % (tid, out[-6000:]), flush=True)
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
