#!/usr/bin/env bash
# `make bench`: every benchmark, each beside its baseline in the same run.
# Prints `bench: NAME VALUE UNIT` lines (or `bench: NAME n/a (REASON)`) as it
# goes and a table at the end; exits 0 once the suite has run, so a
# missing prerequisite (n/a) never hides the others, except when a part
# whose programs `make bench` builds itself could not run: those print
# `bench: NAME FAILED (REASON)` and the run exits 1 after the table.
# Uses only 127.0.0.1; every process is started in a temp dir on free
# ports and stopped by pid.
#
# Environment: ESCORT_BENCH_ROUNDS (bulk rounds, default 3),
# ESCORT_BENCH_SESSIONS (concurrent sessions, default 500),
# ESCORT_BENCH_SESSIONS2_ROUNDS (typing rounds of each set in the haproxy part, default 5),
# ESCORT_BENCH_SKIP (comma list: programs,replay,search,bulk,observe,keystroke,intact,sftp,sessions,
#   sessions2,escorts),
# ESCORT_BENCH_ESCORT_SESSIONS (supervised sessions, each watched by 2 escorts, default 100),
# ESCORT_BENCH_ESCORT_KEYS (keys timed in watched and in unwatched sessions, default 300),
# ESCORT_BENCH_SEARCH_SESSIONS (sessions the search part writes, default 10000),
# ESCORT_BIN / ESCORT_TOOLS / ESCORT_BENCHES (program dirs; release build).
set -uo pipefail
cd "$(dirname "$0")/../.."

DATA=build/bench/data
DATA_SIZE=$((128 * 1024 * 1024))

# 128 MiB of real terminal text: `find / -xdev -ls` output, repeated as needed
# and cut to the exact size; cached across runs.
make_data() {
    [ -f "$DATA" ] && [ "$(stat -c %s "$DATA")" -eq "$DATA_SIZE" ] && return 0
    echo "== test data: $DATA (128 MiB of find -ls output)"
    mkdir -p "$(dirname "$DATA")"
    local tmp="$DATA.tmp.$$" n=0
    : >"$tmp"
    while [ "$(stat -c %s "$tmp")" -lt "$DATA_SIZE" ] && [ $n -lt 64 ]; do
        nice find / -xdev -ls 2>/dev/null >>"$tmp"
        n=$((n + 1))
    done
    if [ "$(stat -c %s "$tmp")" -lt "$DATA_SIZE" ]; then
        rm -f "$tmp"; echo "bench: data n/a (find / -xdev -ls printed too little)"; return 1
    fi
    head -c "$DATA_SIZE" "$tmp" >"$DATA" && rm -f "$tmp"
}

# The baselines' packages, installed when missing and we are root (Debian).
install_baselines() {
    local missing=()
    command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    command -v sudo >/dev/null 2>&1 || missing+=(sudo)
    command -v tlog-rec >/dev/null 2>&1 || missing+=(tlog)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } ||
            echo "== could not install ${missing[*]}; those baselines will be n/a"
    else
        echo "== missing ${missing[*]} (not root: those baselines will be n/a)"
    fi
}

install_baselines
make_data || exit 0
export ESCORT_BIN=${ESCORT_BIN:-$PWD/bin}
export ESCORT_TOOLS=${ESCORT_TOOLS:-$PWD/build/release/tools}
export ESCORT_BENCHES=${ESCORT_BENCHES:-$PWD/build/release/bench}
export ESCORT_BENCH_DATA=$PWD/$DATA
nice -n 5 timeout -k 10 1200 python3 tests/bench/suite.py --data "$DATA"
rc=$?
# 3: a part whose programs `make bench` builds could not run (FAILED lines)
[ $rc -eq 3 ] && exit 1
[ $rc -eq 0 ] || echo "bench: suite n/a (suite.py exited with status $rc)"
exit 0
