"""The object store bench (see bench_objstore.sh)."""
import os, re, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness.ceph import CephRGW, available          # noqa: E402
from harness.core import Env, wait_for                # noqa: E402
from harness.recorder import Recorder, terminal_text  # noqa: E402

SESSIONS = int(os.environ.get("ESCORT_BENCH_OBJSTORE_SESSIONS", 8))
SESSION_MB = int(os.environ.get("ESCORT_BENCH_OBJSTORE_MB", 16))
URL = "s3://escort-bench/recorder1"


def data():
    path, n = os.environ.get("ESCORT_BENCH_DATA"), SESSIONS * SESSION_MB << 20
    if path and os.path.getsize(path) >= n:
        with open(path, "rb") as f:
            return f.read(n)
    return terminal_text(n)


def main():
    if not available():
        print("bench: objstore n/a (ceph-mon, ceph-osd, radosgw not installed: "
              "scripts/deps.sh)")
        return 0
    text = data()
    piece = len(text) // SESSIONS
    with Env("bench-objstore") as env:
        rgw = CephRGW(env)
        rgw.make_locked_bucket("escort-bench")
        creds = env.write("creds", "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (
            rgw.env_vars()["AWS_ACCESS_KEY_ID"], rgw.env_vars()["AWS_SECRET_ACCESS_KEY"]),
            mode=0o600)
        rec = Recorder(env, extra="ObjectStore %s\nObjectStoreEndpoint %s\n"
                       "ObjectStoreCredentials %s\nObjectStoreRetention 1\n" % (
                           URL, rgw.endpoint, creds))
        wait_for(lambda: "holds 0 journal bytes" in rec.log(), 60, what="the bucket listed")
        ids = []
        t0 = time.monotonic()
        for i in range(SESSIONS):
            r = rec.send("--chunk", "16384", data=text[i * piece:(i + 1) * piece], timeout=300)
            assert r.rc == 0 and r.closed, r
            ids.append(r.id)
        t_ingest = time.monotonic() - t0

        def shipped():
            return all("session %s: shipped" % s in rec.log() for s in ids)
        wait_for(shipped, 300, interval=0.05, what="every session shipped")
        t_ship = time.monotonic() - t0
        stored = sum(int(m) for m in re.findall(r": shipped to \S+ \((\d+) bytes", rec.log()))
        raw = piece * SESSIONS / 1e6

        # upload alone: the same Store shipped again to an empty prefix by a
        # restarted recorder, from its start to the last session locked
        rec.proc.stop()
        with open(rec.conf) as f:
            conf = f.read().replace(URL, URL + "-again")
        rec.write_conf(conf)
        before = len(rec.log())
        t1 = time.monotonic()
        rec.start()
        wait_for(lambda: rec.log()[before:].count(": shipped to ") >= SESSIONS, 300,
                 interval=0.05, what="the Store shipped again")
        t_upload = time.monotonic() - t1
        print("bench: objstore_ingest_mb_s %.1f MB/s" % (raw / t_ingest))
        print("bench: objstore_shipped_raw_mb_s %.1f MB/s" % (raw / t_ship))
        print("bench: objstore_ship_lag_s %.2f s" % (t_ship - t_ingest))
        print("bench: objstore_upload_raw_mb_s %.1f MB/s" % (raw / t_upload))
        print("bench: objstore_upload_stored_mb_s %.1f MB/s" % (stored / 1e6 / t_upload))
        print("bench: objstore_upload_vs_ingest %.2f x" % (t_ingest / t_upload))
        print("objstore: %d sessions, %.0f MB raw, %.1f MB stored; ingest %.2f s, all in "
              "the bucket %.2f s after the first byte; the whole Store shipped again in "
              "%.2f s" % (SESSIONS, raw, stored / 1e6, t_ingest, t_ship, t_upload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
