"""The bench programs written beside the libraries, and ratios derived from
their figures and the bulk part's."""
import glob, os, subprocess


# Programs written beside the libraries (tests/bench/bench_*.c, built into
# ESCORT_BENCHES) and scripts (tests/bench/bench_*.sh); each prints its own
# `bench:` lines.  Those expected by name are reported n/a when missing.
EXPECTED_PROGRAMS = ("bench_transcript", "bench_recorder", "bench_policy", "bench_observe")
# Programs whose every prerequisite `make bench` builds: when one cannot
# run, the run fails (FAILED), it is not a figure left out (n/a).
OWNED_PROGRAMS = ("bench_recorder",)
PROGRAM_TIMEOUT = 240
PROGRAM_TIMEOUTS = {"bench_recorder": 480}     # 8 modes x 3 rounds


def bench_programs(ctx):
    here = os.path.dirname(os.path.abspath(__file__))
    bdir = os.environ.get("ESCORT_BENCHES", os.path.join(os.path.dirname(os.path.dirname(here)),
                                                          "build", "release", "bench"))
    found = {}
    for p in sorted(glob.glob(os.path.join(bdir, "bench_*"))):
        if os.access(p, os.X_OK) and os.path.isfile(p):
            found[os.path.basename(p)] = [p]
    for p in sorted(glob.glob(os.path.join(here, "bench_*.sh"))):
        found.setdefault(os.path.basename(p)[:-3], ["bash", p])
    env = dict(os.environ, ESCORT_BENCH_DATA=os.path.abspath(ctx.data),
               ESCORT_BENCH_TMP=ctx.env.path("programs", "x")[:-2])
    for name in EXPECTED_PROGRAMS:
        if name not in found:
            (ctx.rep.fail if name in OWNED_PROGRAMS else ctx.rep.na)(
                name, "not built (%s/%s or tests/bench/%s.sh)" % (bdir, name, name))
    for name, argv in found.items():
        ctx.log("   running %s" % " ".join(argv))
        try:
            tmo = PROGRAM_TIMEOUTS.get(name, PROGRAM_TIMEOUT)
            r = subprocess.run(argv,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=tmo, env=env, start_new_session=True)
        except subprocess.TimeoutExpired:
            (ctx.rep.fail if name in OWNED_PROGRAMS else ctx.rep.na)(
                name, "timed out after %ds" % tmo)
            continue
        out = r.stdout.decode("utf-8", "replace")
        n = ctx.rep.passthrough(out)
        if r.returncode != 0 or n == 0:
            err = (r.stderr.decode("utf-8", "replace") or out).strip().splitlines()
            (ctx.rep.fail if name in OWNED_PROGRAMS else ctx.rep.na)(
                name, "exit %d, %d figures: %s" % (r.returncode, n,
                                                   err[-1] if err else "no output"))


def derived(ctx):
    """Ratios of figures from different parts of this run."""
    rep = ctx.rep
    num = rep.number
    direct = num("bulk_direct_throughput")
    for mode in ("interval", "always"):
        r = num("recorder_%s_mb_s_per_core" % mode)
        name = "recorder_%s_vs_ssh_direct" % mode
        if r is not None and direct:
            # how many sessions at full `ssh -tt cat` speed one recorder core absorbs
            rep.add(name, r / direct, "x")
        else:
            rep.na(name, "needs recorder_%s_mb_s_per_core and bulk_direct_throughput" % mode)
