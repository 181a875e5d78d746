"""escort-proxy keeps every receipt and tree head the recorder hands it at a
session's close, outside the store (StateDir/receipts, StateDir/heads), and
escort-replay verify --anchor checks the store against them: a session
deleted or a store rolled back is named by the receipt (file:line) it
contradicts, with the recorder restarted as the attack needs."""
import os, shutil, stat, struct
from harness.core import Env, bin_path, wait_for
from harness.proxy import ProxyWorld, session_id
from integration.test_transcript_format import check_receipts, check_store

TIMEOUT = 180


def state_files(w):
    d = os.path.join(w.env.dir, "state")
    return os.path.join(d, "receipts"), os.path.join(d, "heads")


def lines(path):
    return open(path).read().splitlines() if os.path.exists(path) else []


def run_session(w, text):
    """One exec session through the proxy; waits until its receipt and tree
    head are kept (the proxy appends them after the technician's ssh ends)."""
    receipts, heads = state_files(w)
    before, hbefore = len(lines(receipts)), len(lines(heads))
    r = w.ssh("alice", "web01", "echo " + text)
    assert r.returncode == 0 and r.stdout.strip() == text.encode(), r
    wait_for(lambda: len(lines(receipts)) > before and len(lines(heads)) > hbefore, 15,
             what="the session's receipt and tree head")
    return lines(receipts)[-1].split()[2]


def verify(w, *extra):
    import subprocess
    r = subprocess.run([bin_path("escort-replay"), "--store", w.store, "verify", "--all",
                        "--key", w.env.path("recorder-ed25519.pub.pem"), *extra],
                       capture_output=True, timeout=120)
    return r.returncode, (r.stdout + r.stderr).decode()


def segs(data):
    out, off = [], 0
    while off + 20 <= len(data):
        (length,) = struct.unpack(">I", data[off + 12:off + 16])
        out.append((off, off + 20 + length))
        off += 20 + length
    return out


def test_receipts_and_heads_are_kept_and_a_deleted_session_is_named():
    with Env("px-receipts") as env:
        w = ProxyWorld(env)
        ids = [run_session(w, "session-%d" % i) for i in range(3)]
        receipts, heads = state_files(w)
        assert sorted(ids) == sorted(f[:-4] for f in os.listdir(os.path.join(w.store, "sessions"))
                                     if f.endswith(".est"))
        for path in (receipts, heads):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        hl = lines(heads)
        assert len(hl) == 3 and all(l.startswith("escort-head v1 ") for l in hl), hl
        # The log line follows the file write: wait for the last one.
        want = ["[%s] %s kept in %s" % (sid, kind, path) for sid in ids
                for kind, path in (("receipts", receipts), ("heads", heads))]
        wait_for(lambda: all(x in w.proxy.log() for x in want), 10, what="receipt log lines")
        log = w.proxy.log()
        for sid in ids:
            assert "[%s] receipts kept in %s" % (sid, receipts) in log, log[-3000:]
            assert "[%s] heads kept in %s" % (sid, heads) in log, log[-3000:]
        # The independent reader of escort-transcript(5) agrees with every receipt.
        check_store(w.store)
        assert check_receipts(w.store, receipts) == ids
        # Every head kept covers its session's close: the store extends them.
        for anchor in (receipts, heads):
            rc, out = verify(w, "--anchor", anchor)
            assert rc == 0 and "anchor: ok" in out, out
        rc, out = verify(w, "--anchor", receipts)
        assert "all 3 sessions the receipts of %s name" % receipts in out, out
        empty = env.write("empty-anchor.txt", "")
        rc, out = verify(w, "--anchor", empty)
        assert rc == 1 and "%s holds no tree head and no receipt" % empty in out, out
        # The insider stops the recorder, cuts the journal before the newest
        # session's entries, deletes its file and the store's heads, restarts.
        w.recorder.stop()
        j = os.path.join(w.store, "journal.esj")
        data = open(j, "rb").read()
        cut = [o for o, e in segs(data) if ids[2].encode() in data[o:e]][0]
        open(j, "wb").write(data[:cut])
        os.unlink(os.path.join(w.store, "sessions", ids[2] + ".est"))
        os.unlink(os.path.join(w.store, "heads.esh"))
        w.start_recorder()
        rc, out = verify(w)
        assert rc == 0, out             # without an anchor the store looks whole
        rc, out = verify(w, "--anchor", receipts)
        assert rc == 1 and "anchor: FAILED: %s:3: the store contradicts the receipt of " \
            "session %s" % (receipts, ids[2]) in out, out
        assert "the journal does not name the session" in out, out
        rc, out = verify(w, "--anchor", heads)
        assert rc == 1 and "%s:3: the store contradicts this tree head" % heads in out, out


def test_store_rolled_back_contradicts_the_receipts():
    with Env("px-receipts-roll") as env:
        w = ProxyWorld(env)
        first = run_session(w, "old")
        w.recorder.stop()
        old = env.path("old-store", "x")[:-2]
        shutil.rmtree(old, ignore_errors=True)
        shutil.copytree(w.store, old)
        w.start_recorder()
        later = [run_session(w, "new-%d" % i) for i in range(2)]
        receipts, heads = state_files(w)
        rc, out = verify(w, "--anchor", receipts)
        assert rc == 0, out
        w.recorder.stop()
        shutil.rmtree(w.store)
        shutil.copytree(old, w.store)
        w.start_recorder()
        rc, out = verify(w)
        assert rc == 0, out
        rc, out = verify(w, "--anchor", receipts)
        assert rc == 1 and "%s:2: the store contradicts the receipt of session %s" % (
            receipts, later[0]) in out, out
        assert "1 more receipts contradicted" in out, out
        assert first not in out.split("anchor:")[1], out
        rc, out = verify(w, "--anchor", heads)
        assert rc == 1 and "%s:2: the store contradicts this tree head" % heads in out, out


def test_a_replaced_session_contradicts_its_receipt():
    with Env("px-receipts-repl") as env:
        w = ProxyWorld(env)
        ids = [run_session(w, "one"), run_session(w, "two")]
        receipts, _ = state_files(w)
        # The second session's file is replaced by a copy of the first's.
        w.recorder.stop()
        sdir = os.path.join(w.store, "sessions")
        shutil.copyfile(os.path.join(sdir, ids[0] + ".est"), os.path.join(sdir, ids[1] + ".est"))
        w.start_recorder()
        rc, out = verify(w, "--anchor", receipts)
        assert rc == 1 and "%s:2: the store contradicts the receipt of session %s" % (
            receipts, ids[1]) in out, out


def test_a_receipt_that_cannot_be_kept_is_logged_as_an_error():
    with Env("px-receipts-fail") as env:
        w = ProxyWorld(env)
        receipts, heads = state_files(w)
        os.makedirs(receipts)          # a directory where the file belongs
        r = w.ssh("alice", "web01", "echo kept-or-not")
        assert r.returncode == 0 and r.stdout.strip() == b"kept-or-not", r
        wait_for(lambda: "cannot keep the session's receipts line" in w.proxy.log(), 15,
                 what="the error in the proxy's log")
        line = [l for l in w.proxy.log().splitlines() if "cannot keep the session's" in l][0]
        assert " error " in line and receipts in line and "Is a directory" in line, line
        # the tree head is still kept
        wait_for(lambda: len(lines(heads)) == 1, 10, what="the tree head")
