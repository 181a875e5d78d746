#!/usr/bin/env bash
# Runs the whole suite twice: a release build, then an ASan+UBSan build.
# Prints one closing line "check: N passed, N failed".  Exit 0 only if N failed is 0.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

# scripts/check.sh --fuzz-smoke: builds the fuzzers and runs each for 10 s
# over its corpus, two at a time, leaving build/fuzz/NAME.rc and NAME.log
# and any crash or timeout input as build/fuzz/NAME-crash-* or -timeout-*
# (run by make check beside the release and the ASan tests, see bg_run
# below).  An input that takes 30 s is a hang (make check runs such an input
# again alone, at normal priority, before calling it one: at the lowest
# priority beside busy tests a quick input can wait that long for a CPU); a
# harness that has not ended after 600 s (its corpus read at the lowest
# priority) has failed.
if [ "${1:-}" = --fuzz-smoke ]; then
    rm -f build/fuzz/fuzz_*.rc build/fuzz/fuzz_*-crash-* build/fuzz/fuzz_*-timeout-* \
          build/fuzz-build.failed
    make -s -j"$jobs" fuzzers >build/fuzz-build.log 2>&1 ||
        { touch build/fuzz-build.failed; exit 1; }
    pids=()
    for f in build/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        while [ ${#pids[@]} -ge 2 ]; do
            wait -n || true
            live=(); for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && live+=("$p"); done
            pids=("${live[@]}")
        done
        corpus="tests/fuzz/corpus/$(basename "$f")"; mkdir -p "build/fuzz/work/$(basename "$f")"
        ( timeout 600 "$f" -max_total_time=10 -timeout=30 -rss_limit_mb=2048 \
              -artifact_prefix="$f-" "build/fuzz/work/$(basename "$f")" $( [ -d "$corpus" ] && echo "$corpus") \
              >"build/fuzz/$(basename "$f").log" 2>&1
          echo $? >"build/fuzz/$(basename "$f").rc" ) &
        pids+=($!)
    done
    wait
    exit 0
fi
pass=0; fail=0; failed=()

count() { # count NAME STATUS
    if [ "$2" -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$1"); fi
}

# The ASan build and the fuzz smoke run beside the release tests (the fuzz
# smoke also beside the ASan tests), which mostly
# wait on sshd, timeouts and the network: at the lowest CPU and I/O priority,
# so they take only the time the tests leave idle.  Each runs in a session of its own whose
# scheduling group (autogroup) has nice 19: the kernel shares the CPU among
# groups first, and every test is a session (tests/run.py), so a build in this
# script's group would get as much CPU as a test, whatever its own priority;
# within its group the job is SCHED_IDLE, in the idle I/O class.  The stage
# that needs a job waits for it (the ASan stage then runs make again: nothing
# left to do, or the errors shown); the fuzz smoke's results are read last.
bg=()
bg_run() { # bg_run LOG COMMAND...: the job's pid in bg_pid
    local log=$1; shift
    ( setsid -w bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null
                      exec chrt -i 0 ionice -c 3 "$@"' bg-run \
          "$@" >"$log" 2>&1 || true ) &
    bg+=($!); bg_pid=$!
}
bg_wait() { local p; for p in "${bg[@]}"; do wait "$p" || true; done; bg=(); }
san_bg=     # the ASan build's job, which the ASan stage waits for

run_suite() { # run_suite LABEL MAKEVARS...
    local label=$1; shift
    echo "== $label: build (at ${SECONDS} s)"
    [ "$label" = san ] && [ -n "$san_bg" ] && { wait "$san_bg" || true; }
    if ! make -s -j"$jobs" "$@" programs unit-tests tools >"build/$label-build.log" 2>&1; then
        cat "build/$label-build.log"; count "$label:build" 1; return
    fi
    local bindir=bin testdir=build/release/tests
    [ "$label" = san ] && { bindir=build/san/bin; testdir=build/san/tests; }
    echo "== $label: unit tests (at ${SECONDS} s)"
    # two at a time, each into its own log; results read in name order
    local tests=() t logs="build/$label-unit"
    for t in "$testdir"/test_*; do [ -x "$t" ] && tests+=("$t"); done
    mkdir -p "$logs"
    local pids=() p live
    for t in "${tests[@]}"; do
        while :; do     # the background builds are not counted
            live=(); for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && live+=("$p"); done
            pids=("${live[@]}"); [ ${#pids[@]} -lt 2 ] && break
            sleep 0.05
        done
        rm -f "$logs/$(basename "$t").rc"
        ( timeout 300 "$t" >"$logs/$(basename "$t").log" 2>&1
          echo $? >"$logs/$(basename "$t").rc" ) &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    for t in "${tests[@]}"; do
        local out; out=$(cat "$logs/$(basename "$t").log")
        local rc; rc=$(cat "$logs/$(basename "$t").rc" 2>/dev/null || echo 1)
        echo "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  ERROR   \]|^\[  FAILED  \] ' || true
        local np nf
        np=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        nf=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        pass=$((pass+${np:-0})); fail=$((fail+${nf:-0}))
        if [ $rc -ne 0 ] && [ "${nf:-0}" -eq 0 ]; then
            echo "$out" | tail -30; count "$label:$(basename "$t")" 1
        elif [ $rc -ne 0 ]; then
            echo "$out" | grep -E '^\[  FAILED  \] [a-z]' ; failed+=("$label:$(basename "$t")")
        fi
    done
    echo "== $label: integration tests (at ${SECONDS} s)"
    local out rc
    # each test's result is printed as it ends (the whole log is kept).
    # Two tests per CPU (at most 4): most of a test is waiting on sshd,
    # timeouts and the network, and a 2-CPU machine was half idle at one
    # per CPU; tests that measure time or load run alone (SERIAL) anyway.
    local ijobs=$((2 * jobs)); [ "$ijobs" -gt 4 ] && ijobs=4
    ESCORT_BIN="$PWD/$bindir" ESCORT_TOOLS="$PWD/${testdir%/tests}/tools" python3 tests/run.py -j "$ijobs" --label "$label" 2>&1 |
        tee "build/$label-integration.log" | grep --line-buffered -E '^(PASS|FAIL|SKIP) |^integration:'
    rc=${PIPESTATUS[0]}
    local np nf
    np=$(sed -n 's/^integration: \([0-9]*\) passed.*/\1/p' "build/$label-integration.log" | tail -1)
    nf=$(sed -n 's/^integration: [0-9]* passed, \([0-9]*\) failed.*/\1/p' "build/$label-integration.log" | tail -1)
    pass=$((pass+${np:-0})); fail=$((fail+${nf:-0}))
    if [ $rc -ne 0 ]; then
        [ "${nf:-0}" -eq 0 ] && count "$label:integration" 1
        failed+=("$label:integration (log: build/$label-integration.log)")
        sed -n '/^--- FAIL/,/^--- END/p' "build/$label-integration.log" | tail -200
    fi
}

mkdir -p build
rm -f build/fuzz/fuzz_*.rc build/fuzz-build.failed
make -s -j"$jobs" programs unit-tests tools >build/release-build.log 2>&1 &&
    { bg_run build/san-prebuild.log make -s -j"$jobs" SAN=1 programs unit-tests tools
      san_bg=$bg_pid
      bg_run build/fuzz-smoke.log bash scripts/check.sh --fuzz-smoke; }
run_suite release
echo "== exported symbols (at ${SECONDS} s)"  # each library exports only its public names
if make -s check-symbols >build/symbols.log 2>&1; then echo "PASS check-symbols"; count check-symbols 0
else cat build/symbols.log; echo "FAIL check-symbols"; count check-symbols 1; fi
run_suite san SAN=1
echo "== fuzz smoke (at ${SECONDS} s)"  # ran beside both stages (--fuzz-smoke above)
bg_wait
if [ ! -e build/fuzz-build.failed ] && ls build/fuzz/fuzz_*.rc >/dev/null 2>&1; then
    for x in build/fuzz/fuzz_*; do
        [ -f "$x" ] && [ -x "$x" ] || continue
        f=$(basename "$x"); r=build/fuzz/$f.rc
        rc=$(cat "$r" 2>/dev/null)
        # 70: libFuzzer's exit for an input over -timeout.  Run it again
        # alone: a hang only if it is as slow without the tests beside it.
        slow=$(ls -t "$x"-timeout-* 2>/dev/null | head -1)
        if [ "$rc" = 70 ] && [ -n "$slow" ] &&
            timeout 120 "$x" -timeout=30 -rss_limit_mb=2048 "$slow" >>"build/fuzz/$f.log" 2>&1; then
            echo "$f: $slow took over 30 s at the lowest priority, under 30 s alone" >>"build/fuzz/$f.log"
            rc=0
        fi
        if [ "$rc" = 0 ]; then
            echo "PASS fuzz $f"; count "fuzz:$f" 0
        else
            echo "FAIL fuzz $f"; tail -40 "build/fuzz/$f.log"; count "fuzz:$f" 1
        fi
    done
else
    cat build/fuzz-build.log build/fuzz-smoke.log 2>/dev/null; count "fuzz:build" 1
fi
echo "== done (at ${SECONDS} s)"

echo
[ $fail -eq 0 ] || printf 'failed: %s\n' "${failed[@]}"
echo "check: $pass passed, $fail failed"
[ $fail -eq 0 ]
