"""search and audit over 10,000 recorded sessions: search for one command
through the index beside the same search reading every session
(--no-index, the baseline), the index's size against the store's, and
audit for one user.  The sessions are written by tests/tools/rec-mksession
(--count: one process, the transcript writer, signed and journaled as the
recorder does) into /dev/shm when there is one, so that their fsyncs do not
dominate the run.  Wall and CPU seconds of each escort-replay run (the CPU
figures move little with other load on the machine)."""
import os, resource, shutil, statistics, subprocess, tempfile, time

from harness.core import bin_path, tool_path

SESSIONS = int(os.environ.get("ESCORT_BENCH_SEARCH_SESSIONS", 10000))
USERS = 100
ROUNDS = 3

# Every session: a strict-mode shell with an uptime typed, a command per
# user ("systemctl status appM"), a denied one unique to the session, and an
# upload unique to it.
SCRIPT = "\n".join([
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tchannel\t0\taction=shell",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops",
    "0.5\toutput\t0\t$ ",
    "1.0\tinput\t0\tuptime\\r",
    "1.1\toutput\t0\tuptime\\r\\n 10:00:0{m} up 3 days, load 0.{m}\\r\\n$ ",
    "2.0\tdecision\t0\tverdict=allow\tcommand=systemctl status app{m}\trule=ops"
    "\tshell_mode=strict\tcmd_seq=1",
    "2.1\toutput\t0\tapp{m}.service - active (running) job-{n}\\r\\n$ ",
    "3.0\tdecision\t0\tverdict=deny\tcommand=rm -rf /var/tmp/x{n}\trule=-"
    "\tshell_mode=strict\tcmd_seq=2",
    "3.5\tfile\t0\tpath=/tmp/report-{n}.txt\tdirection=upload\tsize=3\tverdict=ok",
]) + "\n"


def _run(argv):
    """Runs argv; returns (CompletedProcess, wall s, CPU s of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, timeout=600)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r, wall, cpu


def _tree(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def search(ctx):
    rep, env = ctx.rep, ctx.env
    replay, mks = bin_path("escort-replay"), tool_path("rec-mksession")
    for p, what in ((replay, "escort-replay"), (mks, "rec-mksession")):
        if not os.access(p, os.X_OK):
            return rep.na("search_index_s", "%s not built (%s)" % (what, p))
    key, pub = env.path("search-rec.pem"), env.path("search-rec.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    top = tempfile.mkdtemp(prefix="escort-bench-search-", dir=base or env.path("search"))
    try:
        store = os.path.join(top, "store")
        script = os.path.join(top, "script.txt")
        with open(script, "w") as f:
            f.write(SCRIPT)
        ctx.log("   writing %d sessions into %s" % (SESSIONS, store))
        t0 = time.monotonic()
        r = subprocess.run([mks, "--store", store, "--key", key, "--id", "b", "--user", "u{m}",
                            "--target", "web{m}", "--count", str(SESSIONS), "--modulo",
                            str(USERS), script], capture_output=True, timeout=1200)
        if r.returncode != 0:
            return rep.na("search_index_s", "rec-mksession: %s" % r.stderr.decode()[-200:])
        rep.add("search_store_sessions", SESSIONS, "")
        rep.add("search_store_write_s", time.monotonic() - t0, "s")
        want = "b-%05d" % (SESSIONS // 2)
        expr = "command 'rm -rf /var/tmp/x%d'" % (SESSIONS // 2)
        common = [replay, "--store", store, "--key", pub]

        def check(r, what, n_min=1):
            ok = r.returncode == 0 and len(r.stdout.splitlines()) >= n_min
            if not ok:
                rep.na(what, "exit %d: %s" % (r.returncode, r.stderr.decode()[-200:]))
            return ok

        # The index is built by the first search that reads the sessions.
        r, wall, cpu = _run(common + ["search", "--reindex", expr])
        if not check(r, "search_index_build_s") or want.encode() not in r.stdout:
            return
        rep.add("search_index_build_s", wall, "s")
        rep.add("search_index_build_cpu_s", cpu, "s")
        figures = {}
        runs = {
            "noindex": common + ["search", "--no-index", expr],
            "index": common + ["search", expr],
            "audit": common + ["audit", "--user", "u7"],
            "audit_noindex": common + ["audit", "--no-index", "--user", "u7"],
        }
        for _ in range(ROUNDS):         # interleaved, so load falls on all alike
            for name, argv in runs.items():
                r, wall, cpu = _run(argv)
                if not check(r, name):
                    return
                figures.setdefault(name, []).append((wall, cpu))
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in figures.items()}
        rep.add("search_noindex_s", med["noindex"][0], "s")
        rep.add("search_index_s", med["index"][0], "s")
        rep.add("search_index_vs_noindex", med["index"][0] / med["noindex"][0], "ratio")
        rep.add("search_noindex_cpu_s", med["noindex"][1], "s")
        rep.add("search_index_cpu_s", med["index"][1], "s")
        if med["noindex"][1] > 0:
            rep.add("search_index_vs_noindex_cpu", med["index"][1] / med["noindex"][1], "ratio")
        rep.add("audit_user_s", med["audit"][0], "s")
        rep.add("audit_user_noindex_s", med["audit_noindex"][0], "s")
        rep.add("audit_user_cpu_s", med["audit"][1], "s")
        rep.add("audit_user_vs_noindex", med["audit"][0] / med["audit_noindex"][0], "ratio")
        idx = os.path.join(store, ".index", "search-v1")
        isize = os.path.getsize(idx)
        ssize = _tree(os.path.join(store, "sessions")) + sum(
            os.path.getsize(os.path.join(store, n)) for n in ("journal.esj", "heads.esh")
            if os.path.exists(os.path.join(store, n)))
        rep.add("search_index_bytes", isize, "bytes")
        rep.add("search_store_bytes", ssize, "bytes")
        rep.add("search_index_vs_store_size", isize / ssize, "ratio")
    finally:
        shutil.rmtree(top, ignore_errors=True)
