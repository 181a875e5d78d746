#!/usr/bin/env bash
# bench_recorder: sustained escort-recorder throughput through the real
# daemon over its unix socket, fed by escort-rec-send (the proxy's sender
# code) with 16 KiB OUTPUT events of real terminal text, once with
# `Fsync interval 1000` and once with `Fsync always`.  Prints
#   bench: recorder_<mode>_mb_s_per_core  raw MB/s per CPU second of the recorder
#   bench: recorder_<mode>_mb_s_wall      raw MB/s end to end (sender included)
#   bench: recorder_<mode>_stored_vs_raw  session file size / raw bytes
# Data: $ESCORT_BENCH_DATA (128 MiB of `find / -ls` text), else 64 MiB made
# here.  Run by `make bench`; alone: bash tests/bench/bench_recorder.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${ESCORT_BIN:-$PWD/bin}
TOOLS=${ESCORT_TOOLS:-$PWD/build/release/tools}
TMP=$(mktemp -d "${ESCORT_BENCH_TMP:-/tmp}/bench-recorder.XXXXXX")
REC_PID=
cleanup() {
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

for f in "$BIN/escort-recorder" "$TOOLS/escort-rec-send"; do
    [ -x "$f" ] || { echo "bench: recorder n/a ($f not built)"; exit 0; }
done
DATA=${ESCORT_BENCH_DATA:-}
if [ -z "$DATA" ] || [ ! -s "$DATA" ]; then
    DATA=$TMP/data
    : >"$DATA"
    n=0
    while [ "$(stat -c %s "$DATA")" -lt $((64 << 20)) ] && [ $n -lt 64 ]; do
        find / -xdev -ls 2>/dev/null >>"$DATA"; n=$((n + 1))
    done
    truncate -s $((64 << 20)) "$DATA"
fi
RAW=$(stat -c %s "$DATA")
openssl genpkey -algorithm ed25519 -out "$TMP/key.pem" 2>/dev/null
cat "$DATA" >/dev/null   # into the page cache

cpu_ticks() { # utime+stime of a pid, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

run_mode() { # run_mode LABEL FSYNC...
    local label=$1; shift
    local store=$TMP/store-$label sock=$TMP/rec-$label.sock
    cat >"$TMP/$label.conf" <<CONF
Listen unix:$sock
Store $store
SigningKey $TMP/key.pem
Fsync $*
CONF
    "$BIN/escort-recorder" -d -f "$TMP/$label.conf" 2>"$TMP/$label.log" &
    REC_PID=$!
    for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
    if [ ! -S "$sock" ]; then
        echo "bench: recorder_${label} n/a (recorder did not start: $(tail -1 "$TMP/$label.log"))"
        kill -TERM "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; REC_PID=; return
    fi
    local c0 c1 t0 t1 hz out
    hz=$(getconf CLK_TCK)
    c0=$(cpu_ticks "$REC_PID")
    t0=$(date +%s.%N)
    out=$("$TOOLS/escort-rec-send" -s "unix:$sock" --chunk 16384 --spool $((64 << 20)) "$DATA")
    local rc=$?
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$REC_PID")
    kill -TERM "$REC_PID"; wait "$REC_PID" 2>/dev/null; REC_PID=
    if [ $rc -ne 0 ] || [ -z "$out" ]; then
        echo "bench: recorder_${label} n/a (escort-rec-send exit $rc)"; return
    fi
    local stored
    stored=$(du -cb "$store"/sessions/*.est | tail -1 | cut -f1)
    awk -v raw="$RAW" -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
        -v st="$stored" -v l="$label" 'BEGIN {
        cpu = c / hz; if (cpu <= 0) cpu = 1 / hz
        printf "bench: recorder_%s_mb_s_per_core %.1f MB/s\n", l, raw / 1e6 / cpu
        printf "bench: recorder_%s_mb_s_wall %.1f MB/s\n", l, raw / 1e6 / (t1 - t0)
        printf "bench: recorder_%s_cpu_s %.2f s\n", l, cpu
        printf "bench: recorder_%s_stored_vs_raw %.4f ratio\n", l, st / raw
    }'
}

run_mode interval interval 1000
run_mode always always
