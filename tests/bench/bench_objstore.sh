#!/usr/bin/env bash
# bench_objstore: does shipping to the object store keep up with recorder
# ingest?  Starts a Ceph RGW with Object Lock on loopback (tests/harness/
# ceph.py) and an escort-recorder with ObjectStore, records sessions of
# real terminal text through escort-rec-send, and prints
#   bench: objstore_ingest_mb_s         raw MB/s recorded and acknowledged
#   bench: objstore_shipped_raw_mb_s    raw MB/s of sessions in the bucket,
#                                       first byte sent to last object locked
#   bench: objstore_ship_lag_s          last ack to last session in the bucket
#   bench: objstore_upload_raw_mb_s     upload alone: the recorder restarted
#                                       on an empty prefix ships the Store;
#                                       raw MB/s of the sessions
#   bench: objstore_upload_stored_mb_s  the same in stored (zstd) MB/s
#   bench: objstore_upload_vs_ingest    upload alone / ingest (> 1: keeps up)
# or `bench: objstore n/a (REASON)` when Ceph is not installed.  Run by
# `make bench` (part programs); alone: bash tests/bench/bench_objstore.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/bench/objstore.py "$@"
