#!/usr/bin/env bash
# zstd_sweep.sh: the sweep behind the writer's default zstd parameters
# (rec__tw_zstd_params in recorder/tw.c).  Builds tests/bench/zstd_sweep.c
# against the release libescort-transcript.a (for the spec "writer", the
# current default) and runs it over the bench data (ESCORT_BENCH_DATA, else
# build/bench/data, made by `make bench`) with the recorder's feeding
# pattern: 16 KiB pieces, a zstd flush every 1 MiB (one segment), a new
# frame every 4 MiB.  Each spec prints its stored ratio (zstd bytes / raw)
# and MB/s per CPU second, median of ESCORT_BENCH_REPS (default 3)
# interleaved rounds, and vs_first: the median per-round speed over the
# first spec's (the writer's default), the figure to trust on a loaded
# machine.  Not part of `make bench`: run by hand when tuning, e.g.
#   make -j2 build/release/libescort-transcript.a && bash tests/bench/zstd_sweep.sh
# Extra specs may be given as arguments (see zstd_sweep.c for the keys);
# --frame N / --flush N / --piece N change the feeding pattern.
#
# Measured on the bench data (zstd 1.5.4, 2 shared cores under load 10-15,
# so speeds are spreads over several sessions of 3-5 rounds; chain 16, hash
# 15, minMatch 6, window 2 MiB unless said):
#   spec                    stored/raw   MB/s per CPU s vs lazy2 searchLog 3
#   lazy2 searchLog 3       0.0713       1
#   lazy2 searchLog 2       0.0725       1.1-1.3 (recorder: 1.16x, 1.34x)
#   lazy2 searchLog 1       0.0741       1.1-1.5 (recorder: 1.20x)
#   lazy searchLog 3        0.0761       1.0-1.6
#   lazy searchLog 1        0.0791       1.3-1.5
#   greedy searchLog 2      0.0831       1.6-1.9
#   level 6 / level 5       0.0760 / 0.0815  0.8-1.3
#   level 3, dfast          0.0880       2.2-4.5 (recorder: about 2x)
#   row match finder (lazy2 searchLog 4, hash 15 or 17): 0.0706 / 0.0701, 0.85-1.25
# A 4 or 8 MiB window, minMatch 7, targetLength, long-distance matching,
# flushes every 1 MiB instead of 256 KiB, frames of 32 MiB instead of 4 MiB
# or pieces of 4 KiB or 256 KiB instead of 16 KiB change the ratio by 0.0002
# or less (frames of 32 MiB: 0.0712; so a dictionary, which only helps the
# start of a frame, could save no more than that).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${ESCORT_BENCH_TMP:-/tmp}/zstd_sweep.$$
trap 'rm -f "$OUT"' EXIT
LIB=build/release/libescort-transcript.a
COMMON=build/release/libescort-common.a
for l in "$LIB" "$COMMON"; do
    [ -f "$l" ] || { echo "zstd_sweep: $l not built (make -j2 $l)"; exit 1; }
done
cc -O2 -std=gnu17 -Wall -Wextra -Werror -DSWEEP_WITH_WRITER -I. -o "$OUT" \
    tests/bench/zstd_sweep.c "$LIB" "$COMMON" -lzstd -lcrypto || exit 1
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
