#!/usr/bin/env bash
# bench_recorder: sustained escort-recorder throughput through the real
# daemon over its unix socket, fed by escort-rec-send (the proxy's sender
# code) with 16 KiB OUTPUT events of real terminal text, once with
# `Fsync interval 1000` and once with `Fsync always`; signed tree heads on
# (`TreeHeadInterval 1`: a head every second the journal grew, and one at
# every close).  Prints
#   bench: recorder_<mode>_mb_s_per_core  raw MB/s per CPU second of the recorder
#   bench: recorder_<mode>_mb_s_wall      raw MB/s end to end (sender included)
#   bench: recorder_<mode>_stored_vs_raw  session file size / raw bytes
# and the same with `Compression 3` (plain zstd level 3 instead of the
# writer's size-tuned default; mode interval_zstd3) and over mutual TLS on
# loopback (mode tls_interval), and with OUTPUT events of 4 KiB (mode
# interval_4k: the size of the pieces a pty session through the proxy
# yields, so about four times the events and their headers), and the same
# with `AuditLog` on (mode interval_4k_audit: the audit stream passes over
# OUTPUT records by their header; recorder_audit_vs_off is its MB/s per core
# over interval_4k's).
# Scaling over cores (issue target: 2 workers >= 1.7x one): modes scale_w1
# and scale_w2 send the data in ESCORT_BENCH_SCALE_SESSIONS (default 2)
# sessions at once to a recorder with `Workers 1` and `Workers 2`, in the
# same rounds; recorder_scale_w<N>_mb_s_wall is the raw MB/s of all of them
# from the first byte to the last receipt, recorder_scale_w<N>_cores_used the
# recorder's CPU seconds per wall second, and recorder_2core_vs_1core the
# ratio of the two MB/s (median of the per-round ratios: both of a round ran
# under the same load); each round also prints the CPU ticks of the
# recorder's two busiest threads (with Workers 2: how evenly the sessions
# were spread).  ESCORT_BENCH_SCALE_FSYNC sets their Fsync (default
# interval 1000).  On a machine busier than its cores these figures measure
# the scheduler's share more than the recorder: read them with the load.
# ESCORT_RECORDER_REF=PATH adds modes ref_interval and ref_interval_4k: the
# same runs with another escort-recorder binary (e.g. a former build kept
# for comparison), interleaved with the others, and recorder_interval_vs_ref
# (MB/s per core of this one / the other's).  ESCORT_RECORDER_MODES=LIST
# runs only the modes listed (e.g. "interval ref_interval").
# Each mode runs ESCORT_BENCH_REPS times (default 3), the modes interleaved
# so that all see the same load; the figures are the medians (CPU time of
# the recorder from /proc/PID/stat, so other load on the machine moves
# them little).  Every repetition is also printed, without the bench: prefix.
# A mode that cannot run (a program not built, a recorder that does not
# start, a sender that fails) prints `bench: recorder_<mode> FAILED (why)`
# and the script exits 1 after the others.
# Data: $ESCORT_BENCH_DATA (128 MiB of `find / -ls` text), else 64 MiB made
# here.  Run by `make bench`, which builds the recorder and escort-rec-send
# first; alone: make -j2 programs tools && bash tests/bench/bench_recorder.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${ESCORT_BIN:-$PWD/bin}
TOOLS=${ESCORT_TOOLS:-$PWD/build/release/tools}
TMP=$(mktemp -d "${ESCORT_BENCH_TMP:-/tmp}/bench-recorder.XXXXXX")
REC_PID=
SEND_PIDS=()
FAILED=0
cleanup() {
    local p
    for p in "${SEND_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { # fail LABEL WHY: a mode that could not run
    echo "bench: recorder_$1 FAILED ($2)"
    FAILED=1
}

for f in "$BIN/escort-recorder" "$TOOLS/escort-rec-send"; do
    if [ ! -x "$f" ]; then
        echo "bench: recorder FAILED ($f not built: make -j2 programs tools)"
        exit 1
    fi
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

make_pki() { # a CA, a recorder certificate for 127.0.0.1, a client certificate
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" -days 1 \
        -subj "/CN=bench CA" 2>/dev/null || return 1
    for n in server client; do
        openssl req "${ec[@]}" -keyout "$TMP/$n.key" -out "$TMP/$n.csr" -subj "/CN=$n" \
            2>/dev/null || return 1
        printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/$n.ext"
        openssl x509 -req -in "$TMP/$n.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
            -CAcreateserial -out "$TMP/$n.pem" -days 1 -extfile "$TMP/$n.ext" 2>/dev/null ||
            return 1
    done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# write_conf LABEL FSYNC...: the recorder's configuration for a mode
write_conf() {
    local label=$1; shift
    cat >"$TMP/$label.conf" <<CONF
Listen unix:$TMP/rec-$label.sock
Store $TMP/store-$label
SigningKey $TMP/key.pem
Fsync $*
TreeHeadInterval 1
${EXTRA_CONF:-}
CONF
}

# start_recorder LABEL: starts it on the mode's configuration; 1 when it
# did not come up (reported as FAILED)
start_recorder() {
    local label=$1 sock=$TMP/rec-$1.sock
    "${RECORDER:-$BIN/escort-recorder}" -d -f "$TMP/$label.conf" 2>"$TMP/$label.log" &
    REC_PID=$!
    for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
    if [ ! -S "$sock" ]; then
        fail "$label" "recorder did not start: $(tail -1 "$TMP/$label.log")"
        kill -TERM "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; REC_PID=; return 1
    fi
}

run_mode() { # run_mode LABEL FSYNC...
    local label=$1; shift
    local store=$TMP/store-$label sock=$TMP/rec-$label.sock server send_opts=()
    server=unix:$sock
    write_conf "$label" "$@"
    if [ "${label#tls}" != "$label" ]; then
        local port
        port=$(free_port)
        cat >>"$TMP/$label.conf" <<CONF
Listen tls://127.0.0.1:$port
TLSCertificate $TMP/server.pem
TLSKey $TMP/server.key
TLSClientCA $TMP/ca.pem
CONF
        server=tls://127.0.0.1:$port
        send_opts=(--ca "$TMP/ca.pem" --cert "$TMP/client.pem" --key "$TMP/client.key")
    fi
    start_recorder "$label" || return
    local c0 c1 t0 t1 hz out
    hz=$(getconf CLK_TCK)
    c0=$(cpu_ticks "$REC_PID")
    t0=$(date +%s.%N)
    out=$("$TOOLS/escort-rec-send" -s "$server" "${send_opts[@]}" --chunk "${CHUNK:-16384}" \
          --spool $((64 << 20)) "$DATA")
    local rc=$?
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$REC_PID")
    kill -TERM "$REC_PID"; wait "$REC_PID" 2>/dev/null; REC_PID=
    if [ $rc -ne 0 ] || [ -z "$out" ]; then
        fail "$label" "escort-rec-send exit $rc"; return
    fi
    local stored
    stored=$(du -cb "$store"/sessions/*.est | tail -1 | cut -f1)
    rm -rf "$store"
    printf '%s %s %s %s %s\n' "$label" "$((c1 - c0))" "$t0" "$t1" "$stored" >>"$TMP/results"
    awk -v raw="$RAW" -v c="$((c1 - c0))" -v hz="$hz" -v st="$stored" \
        -v l="$label" -v n="${REP:-1}" 'BEGIN {
        cpu = c / hz; if (cpu <= 0) cpu = 1 / hz
        printf "recorder %s run %d: %.1f MB/s per CPU second, %d bytes stored\n", l, n, raw / 1e6 / cpu, st
    }'
}

# run_scale LABEL WORKERS: ESCORT_BENCH_SCALE_SESSIONS senders at once, each
# the whole data file, to a recorder with Workers WORKERS
run_scale() {
    local label=$1 workers=$2 n=${ESCORT_BENCH_SCALE_SESSIONS:-2}
    local sock=$TMP/rec-$label.sock c0 c1 t0 t1 i rc=0 p
    EXTRA_CONF="Workers $workers" write_conf "$label" ${ESCORT_BENCH_SCALE_FSYNC:-interval 1000}
    start_recorder "$label" || return
    c0=$(cpu_ticks "$REC_PID")
    t0=$(date +%s.%N)
    SEND_PIDS=()
    for i in $(seq "$n"); do
        "$TOOLS/escort-rec-send" -s "unix:$sock" --chunk 16384 --spool $((64 << 20)) \
            "$DATA" >"$TMP/$label.out$i" &
        SEND_PIDS+=($!)
    done
    for p in "${SEND_PIDS[@]}"; do wait "$p" || rc=$?; done
    SEND_PIDS=()
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$REC_PID")
    # CPU ticks of the recorder's two busiest threads (the workers when
    # there are two): how evenly the sessions were spread
    local busiest
    busiest=$(for t in /proc/"$REC_PID"/task/*/stat; do awk '{print $14 + $15}' "$t"; done |
              sort -rn | head -2 | tr '\n' ' ')
    kill -TERM "$REC_PID"; wait "$REC_PID" 2>/dev/null; REC_PID=
    rm -rf "$TMP/store-$label"
    if [ $rc -ne 0 ] || [ "$(cat "$TMP/$label".out* | grep -c '^closed ')" -ne "$n" ]; then
        fail "$label" "escort-rec-send exit $rc or a session without its receipt"; return
    fi
    printf '%s %s %s %s %s\n' "$label" "$((c1 - c0))" "$t0" "$t1" "${REP:-1}" >>"$TMP/scale"
    awk -v raw="$RAW" -v n="$n" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
        -v t0="$t0" -v t1="$t1" -v l="$label" -v r="${REP:-1}" 'BEGIN {
        printf "recorder %s run %d: %d sessions, %.1f MB/s, %.2f cores used", l, r, n,
            n * raw / 1e6 / (t1 - t0), c / hz / (t1 - t0)
    }'
    echo ", busiest threads $busiest(CPU ticks)"
}

report_scale() { # scale_w1 / scale_w2 medians and their per-round ratio
    [ -s "$TMP/scale" ] || return
    awk -v raw="$RAW" -v n="${ESCORT_BENCH_SCALE_SESSIONS:-2}" -v hz="$(getconf CLK_TCK)" '
    function med(a, k,   i, j, t) {
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
            if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    { w = $4 - $3; mbs[$1, $5] = n * raw / 1e6 / w; used[$1, $5] = $2 / hz / w; reps[$5] = 1
      labels[$1] = 1 }
    END {
        for (l in labels) {
            k = 0
            for (r in reps) if ((l, r) in mbs) { k++; a[k] = mbs[l, r]; b[k] = used[l, r] }
            m = med(a, k); u = med(b, k); split("", a); split("", b)
            printf "bench: recorder_%s_mb_s_wall %.1f MB/s\n", l, m
            printf "bench: recorder_%s_cores_used %.2f cores\n", l, u
        }
        k = 0
        for (r in reps) if ((("scale_w1", r) in mbs) && (("scale_w2", r) in mbs)) {
            k++; a[k] = mbs["scale_w2", r] / mbs["scale_w1", r]
        }
        if (k > 0) {
            printf "bench: recorder_2core_vs_1core %.4f x\n", med(a, k)
            printf "bench: recorder_scale_sessions %d\n", n
            printf "bench: recorder_scale_rounds %d\n", k
        }
    }' "$TMP/scale"
}

report() { # medians per mode over the repetitions in $TMP/results
    [ -s "$TMP/results" ] || return
    sort -k1,1 -s "$TMP/results" | awk -v raw="$RAW" -v hz="$(getconf CLK_TCK)" '
    function med(a, k,   i, j, t) {
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
            if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    function flush(   cpu) {
        if (l == "") return
        cpu = med(c, k) / hz; if (cpu <= 0) cpu = 1 / hz
        printf "bench: recorder_%s_mb_s_per_core %.1f MB/s\n", l, raw / 1e6 / cpu
        printf "bench: recorder_%s_mb_s_wall %.1f MB/s\n", l, raw / 1e6 / med(w, k)
        printf "bench: recorder_%s_cpu_s %.2f s\n", l, cpu
        printf "bench: recorder_%s_stored_bytes %d bytes\n", l, med(s, k)
        printf "bench: recorder_%s_stored_vs_raw %.4f ratio\n", l, med(s, k) / raw
        printf "bench: recorder_%s_runs %d\n", l, k
        mbs[l] = raw / 1e6 / cpu
    }
    $1 != l { flush(); l = $1; k = 0 }
    { k++; c[k] = $2; w[k] = $4 - $3; s[k] = $5 }
    END {
        flush()
        if (("interval" in mbs) && ("ref_interval" in mbs))
            printf "bench: recorder_interval_vs_ref %.4f x\n", mbs["interval"] / mbs["ref_interval"]
        if (("interval_4k" in mbs) && ("ref_interval_4k" in mbs))
            printf "bench: recorder_interval_4k_vs_ref %.4f x\n", mbs["interval_4k"] / mbs["ref_interval_4k"]
        if (("interval_4k" in mbs) && ("interval_4k_audit" in mbs))
            printf "bench: recorder_audit_vs_off %.4f x\n", mbs["interval_4k_audit"] / mbs["interval_4k"]
    }'
}

REPS=${ESCORT_BENCH_REPS:-3}
have_pki=0
make_pki && have_pki=1
want() { # want MODE: is MODE among ESCORT_RECORDER_MODES (all when unset)?
    [ -z "${ESCORT_RECORDER_MODES:-}" ] || [[ " $ESCORT_RECORDER_MODES " == *" $1 "* ]]
}
for REP in $(seq "$REPS"); do
    want interval && run_mode interval interval 1000
    if [ -n "${ESCORT_RECORDER_REF:-}" ] && want ref_interval; then
        RECORDER=$ESCORT_RECORDER_REF run_mode ref_interval interval 1000
    fi
    want always && run_mode always always
    want interval_zstd3 && EXTRA_CONF="Compression 3" run_mode interval_zstd3 interval 1000
    want interval_4k && CHUNK=4096 run_mode interval_4k interval 1000
    want interval_4k_audit && CHUNK=4096 EXTRA_CONF="AuditLog $TMP/audit.jsonl" \
        run_mode interval_4k_audit interval 1000
    if [ -n "${ESCORT_RECORDER_REF:-}" ] && want ref_interval_4k; then
        RECORDER=$ESCORT_RECORDER_REF CHUNK=4096 run_mode ref_interval_4k interval 1000
    fi
    if [ $have_pki = 1 ] && want tls_interval; then
        run_mode tls_interval interval 1000
    fi
    want scale_w1 && run_scale scale_w1 1
    want scale_w2 && run_scale scale_w2 2
done
report
report_scale
if [ $have_pki = 0 ]; then
    echo "bench: recorder_tls_interval n/a (openssl could not make certificates)"
fi
exit $FAILED
