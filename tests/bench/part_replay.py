"""escort-replay screen ID --at SECONDS in a session with 1 GiB of terminal
output (issue 12: under 100 ms anywhere).  The session is forged through the
transcript library (forge_session.py: the bench data as shell output, a
DATA segment per 256 KiB as the recorder writes them) and signed with a
fresh key.  Figures: the first call, which builds the snapshot cache; then
at 10%, 50% and 99% of the session the median of 5 calls, by wall time and
by CPU time of the process (user + system: wall time on a shared, loaded
machine is mostly waiting for a core), with the reader's verification of
the session (the default: it runs on a second thread, so its CPU time
exceeds its wall time) and with --no-verify.  The baseline: the same
screen by a straight replay of every byte (--no-cache) at 10%, once."""
import os, resource, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from harness.core import bin_path                                    # noqa: E402

SIZE = 1 << 30
SECONDS = 1000.0


def tool(name):
    d = os.environ.get("ESCORT_TOOLS", os.path.join(ROOT, "build", "release", "tools"))
    return os.path.join(d, name)


def timed(argv, env):
    """(wall s, cpu s, CompletedProcess) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900,
                       env=env)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r


def screen_at(ctx):
    rep = ctx.rep
    replay, mks = bin_path("escort-replay"), tool("rec-mksession")
    for p in (replay, mks):
        if not os.access(p, os.X_OK):
            return rep.na("screen_at_p99_ms", "%s not built (make; make tools)" % p)
    d = ctx.env.path("replay-bench")
    os.makedirs(d, exist_ok=True)
    key, store = os.path.join(d, "key.pem"), os.path.join(d, "store")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out",
                    os.path.join(d, "public-key.pem")], check=True, capture_output=True)
    ctx.log("   forging a session with %d MiB of output" % (SIZE >> 20))
    t0 = time.monotonic()
    f = subprocess.run([sys.executable, os.path.join(HERE, "forge_session.py"), "--tool", mks,
                        "--store", store, "--key", key, "--id", "big", "--data", ctx.data,
                        "--size", str(SIZE), "--seconds", str(SECONDS)],
                       capture_output=True, timeout=1800)
    if f.returncode != 0:
        return rep.na("screen_at_p99_ms", "forging failed: %s" % f.stderr[-300:])
    os.rename(os.path.join(d, "public-key.pem"), os.path.join(store, "public-key.pem"))
    stored = os.path.getsize(os.path.join(store, "sessions", "big.est"))
    ctx.log("   forged in %.1f s, %d bytes stored" % (time.monotonic() - t0, stored))
    rep.add("screen_at_session_stored", stored, "bytes")
    env = dict(os.environ, ESCORT_REPLAY_CACHE=os.path.join(d, "cache"))
    base = [replay, "--store", store]
    wall, cpu, r = timed(base + ["screen", "big", "--at", "1"], env)
    if r.returncode != 0:
        return rep.na("screen_at_p99_ms", "screen failed: %s" % r.stderr[-300:])
    rep.add("screen_at_cache_build", wall, "s")
    rep.add("screen_at_cache_build_cpu", cpu, "s")
    cache = sum(os.path.getsize(os.path.join(d, "cache", n))
                for n in os.listdir(os.path.join(d, "cache")))
    rep.add("screen_at_cache_bytes", cache, "bytes")
    for pct in (10, 50, 99):
        at = "%.3f" % (0.5 + SECONDS * pct / 100)
        for label, extra in (("", []), ("_no_verify", ["--no-verify"])):
            walls, cpus = [], []
            for _ in range(5):
                w, c, r = timed(base + extra + ["screen", "big", "--at", at], env)
                if r.returncode != 0:
                    return rep.na("screen_at_p%d_ms" % pct, r.stderr[-300:])
                walls.append(w)
                cpus.append(c)
            rep.add("screen_at_p%d%s_ms" % (pct, label), statistics.median(walls) * 1e3, "ms")
            rep.add("screen_at_p%d%s_cpu_ms" % (pct, label), statistics.median(cpus) * 1e3,
                    "ms")
    wall, cpu, r = timed(base + ["--no-verify", "screen", "big", "--at",
                                 "%.3f" % (0.5 + SECONDS / 10), "--no-cache"], env)
    if r.returncode == 0:
        rep.add("screen_at_p10_straight_replay_ms", wall * 1e3, "ms")
        rep.add("screen_at_p10_straight_replay_cpu_ms", cpu * 1e3, "ms")
