#!/usr/bin/env python3
"""The benchmark suite behind `make bench` (started by tests/bench/run.sh).

Every part measures Escort beside a baseline run on the same machine in the
same run and reports the ratio; a part whose prerequisite is missing prints
`bench: NAME n/a (REASON)` and the suite goes on.  Only 127.0.0.1 is used;
every process is started in a temp dir on free ports and stopped by pid."""
import argparse, os, resource, signal, subprocess, sys, time, traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/: harness package
sys.path.insert(0, HERE)

from harness.core import Env, ssh_base                       # noqa: E402
from report import Report                                    # noqa: E402
from target import BenchSshd                                 # noqa: E402
import goals                                                 # noqa: E402
import parts                                                 # noqa: E402
import part_bulk                                             # noqa: E402
import part_escorts                                          # noqa: E402
import part_keystroke                                        # noqa: E402
import part_observe                                          # noqa: E402
import part_programs                                         # noqa: E402
import part_replay                                           # noqa: E402
import part_search                                           # noqa: E402
import part_sessions                                         # noqa: E402
import part_sessions2                                        # noqa: E402
import part_transfer                                         # noqa: E402


def log(msg):
    print(msg, flush=True)


def guarded(rep, part, fn, *args):
    """Runs one part; an unexpected error in it is reported as
    `bench: PART n/a (internal error ...)` with the traceback on the log, and
    the suite goes on.  Returns fn's result or None."""
    try:
        return fn(*args)
    except Exception as e:      # noqa: BLE001 -- one part must not stop the others
        traceback.print_exc(file=sys.stdout)
        rep.na(part, "internal error: %s: %s" % (type(e).__name__, e))
        return None


def run_target_parts(rep, ctx, skip, a, direct, size, log):
    """The parts that need the target sshd and, for their Escort figures, the
    Escort daemons."""
    rep.section("escort daemons")
    stack = parts.start_escort(ctx)

    if "bulk" not in skip:
        rep.section("bulk output: ssh -tt cat %d MiB, %d rounds" % (size >> 20, a.rounds))
        sizes = guarded(rep, "bulk", part_bulk.bulk, ctx, stack, direct, a.rounds) or {}
        stack.check_alive("bulk", log)
        guarded(rep, "sizes", part_bulk.sizes_vs_baselines, ctx, stack, sizes, direct)
        guarded(rep, "verify", part_bulk.replay_verify, ctx, stack)
        guarded(rep, "cat verify", part_bulk.replay_cat_verify, ctx, stack)

    if "observe" not in skip:
        rep.section("bulk output in a shell observe session vs exec, %d rounds" % a.rounds)
        guarded(rep, "observe", part_observe.observe, ctx, stack, a.rounds)
        stack.check_alive("observe", log)

    if "keystroke" not in skip:
        rep.section("keystroke round trip")
        guarded(rep, "keystroke", part_keystroke.keystroke, ctx, stack, direct, a.keystrokes)
        stack.check_alive("keystroke", log)

    if "intact" not in skip:
        rep.section("1 GiB exec output and 256 MiB upload through the proxy")
        guarded(rep, "intact", part_transfer.intact, ctx, stack)
        stack.check_alive("intact", log)

    if "sftp" not in skip:
        rep.section("sftp put and get of 256 MiB through the proxy")
        guarded(rep, "sftp", part_transfer.sftp, ctx, stack)
        stack.check_alive("sftp", log)

    if "sessions" not in skip:
        rep.section("%d concurrent interactive sessions through the proxy" % a.sessions)
        guarded(rep, "sessions", part_sessions.sessions, ctx, stack, a.sessions, direct)
        stack.check_alive("sessions", log)

    if "sessions2" not in skip:
        rep.section("%d sessions through haproxy to 2 proxies vs %d to one proxy alone"
                    % (a.sessions, a.sessions))
        guarded(rep, "sessions2", part_sessions2.sessions2, ctx, stack, a.sessions)
        stack.check_alive("sessions2", log)

    if "escorts" not in skip:
        rep.section("%d supervised sessions, each watched by 2 escorts (join)"
                    % a.escort_sessions)
        guarded(rep, "escorts", part_escorts.escorts, ctx, stack, a.escort_sessions,
                a.escort_keys)
        stack.check_alive("escorts", log)

    if stack.rec_ok or stack.exits:
        rep.add("escort_daemon_exits", len(stack.exits), "",
                "; ".join("%s %s during %s" % (n, st, p) for p, n, st in stack.exits))


def _terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    signal.signal(signal.SIGTERM, _terminate)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 16384):     # two pipes per concurrent session
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 16384), hard))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True, help="the 128 MiB terminal text file")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ESCORT_BENCH_ROUNDS", 3)))
    ap.add_argument("--sessions", type=int,
                    default=int(os.environ.get("ESCORT_BENCH_SESSIONS", 500)))
    ap.add_argument("--keystrokes", type=int, default=1000)
    ap.add_argument("--escort-sessions", type=int,
                    default=int(os.environ.get("ESCORT_BENCH_ESCORT_SESSIONS", 100)))
    ap.add_argument("--escort-keys", type=int,
                    default=int(os.environ.get("ESCORT_BENCH_ESCORT_KEYS", 300)))
    ap.add_argument("--skip", default=os.environ.get("ESCORT_BENCH_SKIP", ""),
                    help="comma-separated parts to skip: "
                         "programs,replay,search,bulk,observe,keystroke,intact,sftp,"
                         "sessions,sessions2,escorts")
    a = ap.parse_args()
    skip = set(s for s in a.skip.split(",") if s)
    rep = Report()
    t_start = time.monotonic()
    # Other work on the machine skews every figure; ratios taken side by side
    # much less so.  The load is reported so that a reader can judge.
    rep.add("loadavg_1min_start", os.getloadavg()[0], "")
    a.data = os.path.abspath(a.data)
    size = os.path.getsize(a.data)

    ctx = None
    try:
        with Env("escort-bench") as env:
            key, pub = env.keygen("tech")
            identity, identity_pub = env.keygen("proxy_ops")
            rep.section("target: OpenSSH sshd on 127.0.0.1")
            try:
                sshd = BenchSshd(env, [pub, identity_pub])
                log("   sshd pid %d on 127.0.0.1:%d, sudo I/O log: %s" % (
                    sshd.proc.pid, sshd.port, "yes" if sshd.sudo_ok else sshd.sudo_reason))
            except (OSError, RuntimeError, AssertionError, subprocess.SubprocessError) as e:
                sshd = None
                rep.na("target_sshd", "OpenSSH sshd did not start: %s" % e)

            def direct(*cmd):
                return ssh_base(sshd.port, key, sshd.login, extra=["-tt"]) + list(cmd)
            ctx = parts.Context(env, rep, sshd, key, pub, a.data, size, log)
            ctx.identity = identity

            if "programs" not in skip:
                rep.section("bench programs")
                guarded(rep, "programs", part_programs.bench_programs, ctx)

            if "replay" not in skip:
                rep.section("escort-replay screen --at in a session of 1 GiB output")
                guarded(rep, "replay", part_replay.screen_at, ctx)
            if "search" not in skip:
                rep.section("search and audit over %d recorded sessions" % part_search.SESSIONS)
                guarded(rep, "search", part_search.search, ctx)

            if sshd:
                run_target_parts(rep, ctx, skip, a, direct, size, log)
    except KeyboardInterrupt as e:
        # Every process was stopped by the Env on the way out; show what was measured.
        rep.na("suite", "stopped early (%s)" % (e or "interrupted"))

    if ctx:
        guarded(rep, "derived", part_programs.derived, ctx)
    rep.section("goals")
    guarded(rep, "goals", goals.check, rep)
    rep.add("loadavg_1min_end", os.getloadavg()[0], "")
    rep.add("bench_wall_time", time.monotonic() - t_start, "s")
    rep.table()
    if rep.failed:
        print("bench: FAILED: %s could not run" % ", ".join(rep.failed), flush=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
