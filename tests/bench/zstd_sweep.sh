#!/usr/bin/env bash
# zstd_sweep.sh: the sweep behind the writer's default zstd parameters
# (tw_zstd_params in recorder/tw.c).  Builds tests/bench/zstd_sweep.c
# against the release libescort-recorder.a (for the spec "writer", the
# current default) and runs it over the bench data (ESCORT_BENCH_DATA, else
# build/bench/data, made by `make bench`) with the recorder's feeding
# pattern: 16 KiB pieces, a zstd flush every 256 KiB (one segment), a new
# frame every 4 MiB.  Each spec prints its stored ratio (zstd bytes / raw)
# and MB/s per CPU second, median of ESCORT_BENCH_REPS (default 3)
# interleaved rounds, and vs_first: the median per-round speed over the
# first spec's (the writer's default), the figure to trust on a loaded
# machine.  Not part of `make bench`: run by hand when tuning, e.g.
#   make -j2 build/release/libescort-recorder.a && bash tests/bench/zstd_sweep.sh
# Extra specs may be given as arguments (see zstd_sweep.c for the keys);
# --frame N / --flush N / --piece N change the feeding pattern.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${ESCORT_BENCH_TMP:-/tmp}/zstd_sweep.$$
trap 'rm -f "$OUT"' EXIT
LIB=build/release/libescort-recorder.a
[ -f "$LIB" ] || { echo "zstd_sweep: $LIB not built (make -j2 $LIB)"; exit 1; }
cc -O2 -std=gnu17 -Wall -Wextra -Werror -DSWEEP_WITH_WRITER -I. -o "$OUT" \
    tests/bench/zstd_sweep.c "$LIB" -lzstd -lcrypto || exit 1
opts=() specs=()
while [ $# -gt 0 ]; do
    case $1 in
    --*) opts+=("$1" "$2"); shift 2 ;;
    *) specs+=("$1"); shift ;;
    esac
done
if [ ${#specs[@]} -eq 0 ]; then
    H="wlog=21,clog=16,hlog=15,mml=6,row=2"
    specs=(level=3 level=5 level=6
        "strategy=dfast,wlog=21,clog=17,hlog=17,mml=5"
        "strategy=greedy,$H,slog=2"
        "strategy=lazy,$H,slog=1" "strategy=lazy,$H,slog=3"
        "strategy=lazy2,$H,slog=1" "strategy=lazy2,$H,slog=2"
        "strategy=lazy2,$H,slog=3"
        "strategy=lazy2,wlog=21,clog=16,hlog=15,mml=6,slog=4,row=1"
        "strategy=lazy,wlog=21,clog=16,hlog=15,mml=6,slog=4,row=1")
fi
"$OUT" --reps "${ESCORT_BENCH_REPS:-3}" "${opts[@]}" writer "${specs[@]}"
