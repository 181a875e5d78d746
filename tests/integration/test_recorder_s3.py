"""escort-recorder's ObjectStore on a real Ceph RGW with S3 Object Lock
(tests/harness/ceph.py, started once for the module: one test doing every
check): sealed sessions, the journal and tree heads arrive locked in
COMPLIANCE mode; a DELETE of a locked version is refused; escort-replay
--store s3://... lists, reads and verifies them; with the gateway away the
recorder goes on recording and acknowledging, says what it holds back, and
ships it when the gateway is back; a rollback of the local store is caught
with the heads from the bucket (verify --anchor s3://...); a live session
goes up in parts while it runs, and a recorder killed mid-session leaves it
readable from them, its parts going on after the restart with no gap or
overlap (check_live_session_parts); with ObjectStorePartSize 64K and an
hour's ObjectStorePartInterval, a part goes up by its size alone
(check_part_by_size); pruning
(ObjectStorePruneAfter, escort-recorder --prune): a shipped session leaves
the local store after a signed prune entry, verify names it pruned and held
in the bucket, list and audit show it (list --user and --target by the
names its prune entry keeps), a proxy's receipt of it holds (verify
--anchor), the bucket still verifies it, and a file deleted by hand without
a prune entry is still reported deleted."""
import base64, hashlib, os, re, shutil, struct, subprocess, time

from harness.ceph import CephRGW
from harness.core import Env, bin_path, wait_for
from harness.recorder import Recorder
from integration.test_transcript_format import check_store

TIMEOUT = 300
BUCKET, PREFIX = "escort-rec", "site-a"
URL = "s3://%s/%s" % (BUCKET, PREFIX)
LIVE_PREFIX = "site-b"
LIVE_URL = "s3://%s/%s" % (BUCKET, LIVE_PREFIX)


def replay(rgw, rec, *args, store=URL):
    env = dict(os.environ, **rgw.env_vars())
    env.pop("ESCORT_STORE", None)
    r = subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, env=env)
    return r.returncode, r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def keys(rgw, sub="", prefix=PREFIX):
    st, body = rgw.s3("GET", "/%s?list-type=2&prefix=%s%%2F%s" % (
        BUCKET, prefix, sub.replace("/", "%2F")))
    assert st == 200, (st, body[:500])
    return re.findall(r"<Key>([^<]+)</Key>", body.decode())


def send(rec, text, *args):
    r = rec.send(*args, data=text)
    assert r.rc == 0 and r.closed, r     # recorded and acknowledged
    return r.id


def shipped(rec, sid, url=URL):
    return "session %s: shipped to %s/sessions/%s.est" % (sid, url, sid) in rec.log()


def put(rgw, key, data):
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    st, body = rgw.s3("PUT", "/%s/%s" % (BUCKET, key), data=data,
                      headers=["Content-MD5: " + md5])
    assert st == 200, (key, st, body[:500])


def typing(sender, pred, timeout, what, data=lambda: b"."):
    """Polls pred while the live session keeps printing data() (a dot) every
    0.2 s (escort-rec-send moves its I/O only when it reads input)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        sender.stdin.write(data())
        sender.stdin.flush()
        time.sleep(0.2)


def check_live_session_parts(env, rgw, creds):
    """ObjectStorePartInterval 1: a live session's marker is in the bucket,
    in a part, before the session ends; with its recorder SIGKILLed the
    bucket shows the session live, read and verified from its parts; after
    the restart, the resume and the close its sealed object is read."""
    rec = Recorder(env, name="recorder-live", extra="ObjectStore %s\nObjectStoreEndpoint %s\n"
                   "ObjectStoreCredentials %s\nObjectStoreRetention 1\n"
                   "ObjectStorePartInterval 1\n" % (LIVE_URL, rgw.endpoint, creds))
    marker = b"MARKER-live-part-7f3a\n"
    sender = subprocess.Popen(rec.send_argv("--retry", "60"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        sender.stdin.write(marker)
        sender.stdin.flush()
        typing(sender, rec.session_files, 20, "the live session's file")
        sid = rec.session_files()[0][:-len(".est")]
        part_line = "session %s: part shipped to %s/sessions/%s.est.part-" % (sid, LIVE_URL, sid)
        seen = [0, ""]

        def in_a_part(text):
            n = rec.log().count(part_line)
            if n == seen[0]:
                return False
            seen[0] = n
            rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid, store=LIVE_URL)
            seen[1] = out
            return rc == 0 and text in out
        typing(sender, lambda: in_a_part(marker.decode()), 30, "a part holding the marker")
        assert sender.poll() is None and not shipped(rec, sid, LIVE_URL)   # still live
        parts = [k for k in keys(rgw, "sessions/", LIVE_PREFIX) if ".est.part-" in k]
        assert parts and "%s/sessions/%s.est" % (LIVE_PREFIX, sid) not in keys(
            rgw, "sessions/", LIVE_PREFIX), parts

        # a second part, so that the parts after the restart must continue two
        typing(sender, lambda: rec.log().count(part_line) >= 2, 30, "a second part")

        # the recorder dies mid-session: the bucket shows it live, from its parts
        assert rec.proc.kill() == -9
        rc, out = replay(rgw, rec, "list", store=LIVE_URL)
        assert rc == 0 and re.search(r"%s .* live " % sid, out), out
        assert "read from their parts" in out and sid in out, out
        rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid, store=LIVE_URL)
        assert rc == 0 and marker.decode() in out, out
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=LIVE_URL)
        assert rc == 0 and re.search(r"%s.*ok: .* open" % sid, out), out

        # restarted and resumed: more output goes up in parts after the
        # ones before the kill, with no gap and no overlap
        rec.start()
        after = b"MARKER-after-restart-91d0\n"
        sender.stdin.write(after)
        sender.stdin.flush()
        typing(sender, lambda: in_a_part(after.decode()), 60,
               "a part after the restart holding the second marker")
        assert sender.poll() is None and not shipped(rec, sid, LIVE_URL)   # still live
        rc, out = replay(rgw, rec, "list", store=LIVE_URL)
        assert rc == 0 and re.search(r"%s .* live " % sid, out), out
        assert "leaves a gap" not in out and "overlaps" not in out, out
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=LIVE_URL)
        assert rc == 0 and re.search(r"%s: (ok|recovered).* open" % sid, out), out
        assert "leaves a gap" not in out and "overlaps" not in out, out

        # closed: the sealed object is what is read
        out, err = sender.communicate(timeout=90)     # its input ends: it closes
        assert sender.returncode == 0 and b"closed " + sid.encode() in out, (out, err)
        wait_for(lambda: shipped(rec, sid, LIVE_URL), 60, what="the sealed session shipped")
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=LIVE_URL)
        assert rc == 0 and re.search(r"%s: (ok|recovered).* closed" % sid, out), out
        assert "read from their parts" not in out, out
        assert "leaves a gap" not in out and "overlaps" not in out, out
        rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid, store=LIVE_URL)
        assert rc == 0 and out.startswith(marker.decode()) and after.decode() in out, out
        assert rec.proc.stop() == 0, rec.log()[-3000:]

        # parts that leave a gap, or overlap: reported, read up to there
        data = open(os.path.join(rec.store, "sessions", sid + ".est"), "rb").read()
        for name, offs in (("gap", (0, 300)), ("overlap", (0, 200))):
            for off in offs:
                put(rgw, "site-c/sessions/%s-%s.est.part-%020d" % (sid, name, off),
                    data[off:off + 250])
        rc, out = replay(rgw, rec, "list", store="s3://%s/site-c" % BUCKET)
        assert ("session %s-gap: part sessions/%s-gap.est.part-%020d leaves a gap after "
                "the parts before it of 50 bytes: the session is read from its parts up "
                "to offset 250 only" % (sid, sid, 300)) in out, out
        assert ("session %s-overlap: part sessions/%s-overlap.est.part-%020d overlaps the "
                "parts before it by 50 bytes" % (sid, sid, 200)) in out, out
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait(5)


def check_part_by_size(env, rgw, creds):
    """ObjectStorePartInterval 3600 and ObjectStorePartSize 64K: a live
    session's output past 64 KiB is in the bucket as a part, due by its
    size, before the session ends, and the bucket's reader shows its
    marker.  --sync: every event is signed, so a part can end anywhere;
    the journal's checkpoints force parts only at the shipper's full rounds
    (at the start, at a close, and every 60 s unasked), so between them
    only the size rule makes parts.  The output flows at about 120 KiB/s,
    stored, and the shipper looks for a part due once a second; the log
    line of each part says why it was due."""
    url = "s3://%s/site-size" % BUCKET
    rec = Recorder(env, name="rec-size", extra="ObjectStore %s\nObjectStoreEndpoint %s\n"
                   "ObjectStoreCredentials %s\nObjectStoreRetention 1\n"
                   "ObjectStorePartInterval 3600\nObjectStorePartSize 64K\n" % (
                       url, rgw.endpoint, creds))
    marker = b"MARKER-part-by-size-5c1e\n"
    sender = subprocess.Popen(rec.send_argv("--sync"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        sender.stdin.write(marker)
        sender.stdin.flush()
        typing(sender, rec.session_files, 20, "the live session's file")
        sid = rec.session_files()[0][:-len(".est")]
        by_size = re.compile(r"session %s: part shipped to %s/sessions/%s\.est\.part-\d+ "
                             r"\(bytes \d+-\d+, (\d+) bytes, [^)]*; due: ObjectStorePartSize "
                             r"reached\)" % (sid, re.escape(url), sid))
        # 32 KiB of base64 each time: about 24 KiB stored, compressed
        typing(sender, lambda: by_size.search(rec.log()), 30, "a part due by its size",
               data=lambda: base64.encodebytes(os.urandom(24 << 10)))
        assert int(by_size.search(rec.log()).group(1)) >= 64 << 10, rec.log()[-3000:]
        assert sender.poll() is None and not shipped(rec, sid, url)     # still live
        k = keys(rgw, "sessions/", "site-size")
        assert any(x.startswith("site-size/sessions/%s.est.part-" % sid) for x in k) and \
            "site-size/sessions/%s.est" % sid not in k, k
        rc, out = replay(rgw, rec, "list", store=url)
        assert rc == 0 and re.search(r"%s .* live " % sid, out), out
        rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid, store=url)
        assert rc == 0 and out.startswith(marker.decode()), out[:3000]
        sender.stdin.close()
        assert sender.wait(60) == 0, sender.stderr.read()
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait(5)
    assert rec.proc.stop() == 0, rec.log()[-3000:]


def receipt(path, sid):
    """The receipt line (escort-receipt v1, as escort-proxy keeps them) of
    the sealed session file at path: its last segment, the FINAL record."""
    f = open(path, "rb").read()
    seg = f[-177:]
    assert seg[:4] == b"ESG1" and seg[5] == 5, "no FINAL at the end of " + path
    p = seg[20:]
    kind, idx, seq = struct.unpack(">BIQ", p[:13])
    wall, off = struct.unpack(">QQ", p[45:61])
    assert kind == 2 and off == len(f) - 177
    return "escort-receipt v1 %s %d %s %d %d %d %s\n" % (
        sid, seq, p[13:45].hex(), idx, wall, off, base64.b64encode(p[93:157]).decode())


def check_pruning(env, rgw, creds):
    """A recorder of its own (prefix site-prune) with ObjectStorePruneAfter 2s."""
    url = "s3://%s/site-prune" % BUCKET
    conf = ("ObjectStore %s\nObjectStoreEndpoint %s\nObjectStoreCredentials %s\n"
            "ObjectStoreRetention 1\n" % (url, rgw.endpoint, creds))
    rec = Recorder(env, name="rec-prune", extra=conf + "ObjectStorePruneAfter 2s\n")
    path = lambda sid: os.path.join(rec.store, "sessions", sid + ".est")
    a = send(rec, b"pruned once the bucket holds it\n", "--user", "carol", "--target", "db02")
    rec.wait_log("session %s: pruned from the Store, held in %s/sessions/%s.est"
                 % (a, url, a), 30)
    assert not os.path.exists(path(a))
    assert rec.proc.stop() == 0, rec.log()[-3000:]

    # without ObjectStorePruneAfter nothing is pruned; escort-recorder
    # --prune (the recorder stopped) prunes what the bucket holds
    rec.write_conf(open(rec.conf).read().replace("ObjectStorePruneAfter 2s\n", ""))
    rec.start()
    b = send(rec, b"pruned by the administrator's command\n")
    wait_for(lambda: "session %s: shipped" % b in rec.log(), 60, what="b shipped")
    assert rec.proc.stop() == 0, rec.log()[-3000:]
    assert os.path.exists(path(b))
    receipts = env.write("receipts", receipt(path(b), b))   # kept by its proxy
    r = subprocess.run([bin_path("escort-recorder"), "-f", rec.conf, "--prune"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = r.stdout.decode()
    assert r.returncode == 0 and "%s: pruned, held in %s/sessions/%s.est" % (b, url, b) in out \
        and "1 session(s) pruned" in out, out
    assert not os.path.exists(path(b))

    # a third session stays, to be deleted by hand below
    rec.start()
    c = send(rec, b"deleted by hand\n")
    wait_for(lambda: "session %s: shipped" % c in rec.log(), 60, what="c shipped")
    assert rec.proc.stop() == 0, rec.log()[-3000:]

    # the local store: pruned, held in the bucket; not missing, not tampered
    rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=rec.store)
    for sid in (a, b):
        assert rc == 0 and "%s: pruned, held in %s/sessions/%s.est" % (sid, url, sid) in out, out
    assert "3 sessions intact" in out and "0 problems" in out, out
    # the receipt of a pruned session holds: its close entry, and its
    # prune entry, the file in the bucket
    rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, "--anchor", receipts,
                     store=rec.store)
    assert rc == 0 and ("anchor: ok: the store holds, closed as they say, all 1 sessions "
                        "the receipts of %s name; 1 of them pruned from it, held in the "
                        "object store: %s" % (receipts, b)) in out, out
    rc, out = replay(rgw, rec, "list", store=rec.store)
    assert rc == 0 and re.search(r"%s .* pruned +ok .*%s/sessions/%s.est" % (a, url, a), out), out
    rc, out = replay(rgw, rec, "audit", store=rec.store)
    assert rc == 0 and "session %s: pruned, held in %s" % (b, url) in out, out
    # list --user / --target match a pruned session by the names its signed
    # prune entry keeps (its file, with the META, is gone)
    for flt, want in ((("--user", "carol"), {a}), (("--target", "db02"), {a}),
                      (("--user", "alice"), {b, c}), (("--target", "web01"), {b, c}),
                      (("--user", "nobody"), set()), (("--target", "nowhere"), set())):
        rc, out = replay(rgw, rec, "list", *flt, store=rec.store)
        assert rc == 0 and {s for s in (a, b, c) if s in out} == want, (flt, out)
        if a in want:
            assert re.search(r"^%s +carol +db02 .* pruned +ok " % a, out, re.M), out
    reader = check_store(rec.store)         # the independent reader
    assert set(reader["_pruned"]) == {a, b}, reader["_pruned"]
    assert reader["_pruned_names"][a] == {"user": "carol", "target": "db02"} and \
        reader["_pruned_names"][b] == {"user": "alice", "target": "web01"}, reader["_pruned_names"]
    rc, out = replay(rgw, rec, "cat", a, store=rec.store)
    assert rc == 1 and "%s: pruned from this store, held in %s/sessions/%s.est" % (a, url, a) \
        in out, out

    # the bucket still verifies them, its copies the very files pruned
    rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=url)
    assert rc == 0 and "3 sessions intact" in out, out
    assert "%s: ok" % a in out and "this is the file pruned" in out, out
    # an evidence bundle of a pruned session, made from the bucket: its
    # own verify.py checks the prune entry against the file
    bundle = os.path.join(env.dir, "bundle-pruned")
    rc, out = replay(rgw, rec, "evidence", a, "--key", rec.pub, "--out", bundle, store=url)
    assert rc == 0, out
    proof = open(os.path.join(bundle, "log", a + ".proof")).read().split("\n")
    assert any(l.split()[3][40:42] == "08" for l in proof if l.startswith("entry ")), proof
    r = subprocess.run(["python3", os.path.join(bundle, "verify.py")], cwd=bundle,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert r.returncode == 0 and b"ok: session " + a.encode() in r.stdout, r.stdout.decode()

    # a file deleted without a prune entry is still deletion
    os.unlink(path(c))
    rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=rec.store)
    assert rc == 1 and re.search(r"%s: FAILED: session file .* is missing \(deleted\)" % c,
                                 out), out
    assert "%s: pruned, held in" % a in out, out


def test_object_store_ship_lock_read_verify_outage_rollback():
    with Env("rec-s3") as env:
        rgw = CephRGW(env)
        rgw.make_locked_bucket(BUCKET)
        creds = env.write("s3.credentials", "# for escort-recorder\n"
                          "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (
                              rgw.env_vars()["AWS_ACCESS_KEY_ID"],
                              rgw.env_vars()["AWS_SECRET_ACCESS_KEY"]), mode=0o600)
        check_part_by_size(env, rgw, creds)
        check_live_session_parts(env, rgw, creds)
        rec = Recorder(env, extra="ObjectStore %s\nObjectStoreEndpoint %s\n"
                       "ObjectStoreCredentials %s\nObjectStoreRetention 1\n" % (
                           URL, rgw.endpoint, creds))
        texts = {}
        for i in range(2):
            sid = send(rec, b"first batch %d\n" % i)
            texts[sid] = b"first batch %d\n" % i
        wait_for(lambda: all(shipped(rec, s) for s in texts), 60, what="two sessions shipped")

        # the store as it is now, kept for the rollback below
        assert rec.proc.stop() == 0, rec.log()[-3000:]
        old = os.path.join(env.dir, "store-old")
        shutil.copytree(rec.store, old)
        rec.start()
        for i in range(2):
            sid = send(rec, b"second batch %d\n" % i)
            texts[sid] = b"second batch %d\n" % i
        wait_for(lambda: all(shipped(rec, s) for s in texts), 60, what="four sessions shipped")
        heads = os.path.join(rec.store, "heads.esh")
        wait_for(lambda: len(keys(rgw, "heads/")) == len(open(heads).readlines()), 30,
                 what="every tree head shipped")

        # what the bucket holds: every session, the journal's pieces, heads, the key
        k = keys(rgw)
        for sid in texts:
            assert "%s/sessions/%s.est" % (PREFIX, sid) in k, (sid, k)
        assert any(x.startswith(PREFIX + "/journal/") for x in k), k
        assert any(x.startswith(PREFIX + "/heads/") for x in k), k
        assert PREFIX + "/public-key.pem" in k, k

        # locked: COMPLIANCE retention on the version, a DELETE of it refused
        sid = next(iter(texts))
        key = "%s/sessions/%s.est" % (PREFIX, sid)
        st, body = rgw.s3("GET", "/%s?prefix=%s&versions=" % (BUCKET, key.replace("/", "%2F")))
        assert st == 200, body
        vid = re.search(r"<VersionId>([^<]+)</VersionId>", body.decode()).group(1)
        st, body = rgw.s3("GET", "/%s/%s?retention=&versionId=%s" % (BUCKET, key, vid))
        assert st == 200 and b"COMPLIANCE" in body, (st, body)
        st, body = rgw.s3("DELETE", "/%s/%s?versionId=%s" % (BUCKET, key, vid))
        assert st == 403 and b"AccessDenied" in body, (st, body)
        st, body = rgw.s3("GET", "/%s/%s?versionId=%s" % (BUCKET, key, vid))
        assert st == 200 and len(body) > 0, st

        # escort-replay straight from the bucket: list, cat, verify
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub)
        assert rc == 0 and "4 sessions intact" in out and "0 problems" in out, out
        rc, out = replay(rgw, rec, "list")
        assert rc == 0 and all(s in out for s in texts), out
        for sid, text in texts.items():
            rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid)
            assert rc == 0 and out.encode() == text, (sid, out)
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, "--anchor", URL)
        assert rc == 0, out

        # the gateway away: recording goes on, the recorder says what it
        # holds back, and ships it once the gateway is back
        rgw.stop_rgw()
        sid = send(rec, b"during the outage\n")
        texts[sid] = b"during the outage\n"
        wait_for(lambda: re.search(r"holding back [1-9]\d* sealed session", rec.log()), 30,
                 what="the recorder to report what it holds back")
        assert not shipped(rec, sid)
        rgw.start_rgw()
        wait_for(lambda: shipped(rec, sid), 90, what="the held-back session shipped")
        wait_for(lambda: "caught up" in rec.log(), 30, what="the recorder caught up")
        rc, out = replay(rgw, rec, "cat", "--key", rec.pub, sid)
        assert rc == 0 and out.encode() == texts[sid], out
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub)
        assert rc == 0 and "5 sessions intact" in out, out

        # a rollback of the local store: it verifies on its own, but the
        # heads in the bucket show it
        assert rec.proc.stop() == 0, rec.log()[-3000:]
        assert "caught up" in rec.log()
        shutil.rmtree(rec.store)
        shutil.copytree(old, rec.store)
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, store=rec.store)
        assert rc == 0, out
        rc, out = replay(rgw, rec, "verify", "--all", "--key", rec.pub, "--anchor", URL,
                         store=rec.store)
        assert rc == 1 and "anchor: FAILED" in out and "contradicts" in out, out

        check_pruning(env, rgw, creds)
