"""The store against an insider: someone who can write to the store and
restart the recorder, but has not the signing key.  Each attack is carried
out on a real escort-recorder, restarted where the attack needs it, and
escort-replay verify must name it (with --anchor, a tree head kept outside
the store, for deletion and rollback)."""
import os, shutil, signal, struct, subprocess, time
from harness.core import Env, bin_path, wait_for
from harness.recorder import Recorder

TIMEOUT = 120


def segs(data):
    """(offset, type, end) of each whole segment (escort-transcript(5))."""
    out, off = [], 0
    while off + 20 <= len(data):
        (length,) = struct.unpack(">I", data[off + 12:off + 16])
        if off + 20 + length > len(data):
            break
        out.append((off, data[off + 5], off + 20 + length))
        off += 20 + length
    return out


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def session_path(rec, sid):
    return os.path.join(rec.store, "sessions", sid + ".est")


def send_closed(rec, text):
    r = rec.send(data=text)
    assert r.rc == 0 and r.closed, r
    return r.id


def anchor(rec):
    r = rec.replay("anchor", "--key", rec.pub)
    assert r.returncode == 0, r
    path = os.path.join(rec.dir, "anchor.txt")
    with open(path, "a") as f:
        f.write(r.stdout.decode())
    return path


def verify(rec, *extra):
    r = rec.replay("verify", "--all", "--key", rec.pub, *extra)
    return r.returncode, r.stdout.decode() + r.stderr.decode()


def test_journal_truncated_and_newest_sessions_deleted():
    with Env("ins-trunc") as env:
        rec = Recorder(env)
        ids = [send_closed(rec, b"session %d\n" % i) for i in range(4)]
        anc = anchor(rec)
        assert verify(rec, "--anchor", anc)[0] == 0
        rec.proc.stop()
        # Cut the journal at the entry boundary before the third session's
        # entries, delete the two newest sessions and the heads file.
        j = os.path.join(rec.store, "journal.esj")
        data = open(j, "rb").read()
        cut = [o for o, t, e in segs(data) if ids[2].encode() in data[o:e]][0]
        open(j, "wb").write(data[:cut])
        for sid in ids[2:]:
            os.unlink(session_path(rec, sid))
        os.unlink(os.path.join(rec.store, "heads.esh"))
        rec.start()
        send_closed(rec, b"after the attack\n")
        rc, out = verify(rec)
        assert rc == 0, out         # without an anchor the store looks whole
        rc, out = verify(rec, "--anchor", anc)
        assert rc == 1 and "anchor: FAILED" in out and "contradicts this tree head" in out, out
        assert anc + ":1:" in out, out


def test_store_rolled_back_to_an_older_copy():
    with Env("ins-roll") as env:
        rec = Recorder(env)
        send_closed(rec, b"old\n")
        rec.proc.stop()
        old = os.path.join(env.dir, "old-store")
        shutil.copytree(rec.store, old)
        rec.start()
        send_closed(rec, b"new 1\n")
        send_closed(rec, b"new 2\n")
        anc = anchor(rec)
        rec.proc.stop()
        shutil.rmtree(rec.store)
        shutil.move(old, rec.store)
        rec.start()
        rc, out = verify(rec)
        assert rc == 0, out
        rc, out = verify(rec, "--anchor", anc)
        assert rc == 1 and "anchor: FAILED" in out and "the journal holds" in out, out


def test_deleted_journal_stops_the_recorder():
    with Env("ins-nojournal") as env:
        rec = Recorder(env)
        send_closed(rec, b"kept\n")
        rec.proc.stop()
        os.unlink(os.path.join(rec.store, "journal.esj"))
        p = env.start("recorder2", [bin_path("escort-recorder"), "-d", "-f", rec.conf])
        wait_for(lambda: not p.alive(), 20, what="the recorder to refuse")
        assert p.p.returncode == 1
        log = p.log()
        assert "Store %s: the journal %s/journal.esj is missing" % (rec.store, rec.store) in log, log
        assert "refusing to start" in log and "--rebuild-journal" in log, log
        assert not os.path.exists(os.path.join(rec.store, "journal.esj"))
        # The explicit rebuild: signed, reported by verify.
        r = subprocess.run([bin_path("escort-recorder"), "-f", rec.conf, "--rebuild-journal",
                            "journal lost with the old disk"], capture_output=True, text=True,
                           timeout=TIMEOUT)
        assert r.returncode == 0 and "listed (closed)" in r.stdout, r
        rc, out = verify(rec)
        assert rc == 0 and "journal: rebuilt at entry 0: journal rebuilt by the " \
            "administrator: journal lost with the old disk" in out, out
        rec.start()
        send_closed(rec, b"after the rebuild\n")


def test_session_copied_from_another_store_is_not_adopted():
    with Env("ins-copy") as env:
        rec = Recorder(env)
        send_closed(rec, b"ours\n")
        other = Recorder(env, name="other", start=False)
        shutil.copy(rec.key, other.key)      # the same signing key
        shutil.copy(rec.pub, other.pub)
        other.start()
        foreign = send_closed(other, b"planted\n")
        other.proc.stop()
        rec.proc.stop()
        shutil.copy(session_path(other, foreign), session_path(rec, foreign))
        rec.start()
        rec.wait_log("not in the store's journal; not adopted")
        rc, out = verify(rec)
        assert rc == 1 and "%s: FAILED: session is not recorded in the journal" % foreign in out, out


def test_closed_session_cut_and_junk_is_not_re_signed():
    with Env("ins-closed") as env:
        rec = Recorder(env)
        sid = send_closed(rec, b"x" * 5000)
        rec.proc.stop()
        path = session_path(rec, sid)
        data = open(path, "rb").read()
        head_end = segs(data)[0][2]          # right after its head segment
        forged = data[:head_end] + b"J"
        open(path, "wb").write(forged)
        rec.start()
        send_closed(rec, b"another\n")      # the recorder works on
        assert open(path, "rb").read() == forged, "the closed session was rewritten"
        rc, out = verify(rec)
        assert rc == 1 and "%s: FAILED" % sid in out and "tampered" in out, out


def test_live_unsigned_tail_forged_then_crash_is_cut_and_recorded():
    with Env("ins-tail") as env:
        rec = Recorder(env)
        r = rec.send("--no-close", data=b"live data\n" * 100)
        assert r.rc == 0 and r.id, r
        path = session_path(rec, r.id)
        data = open(path, "rb").read()
        last = segs(data)
        assert last[-1][1] == 3, "an acked session ends signed"
        lseq = struct.unpack(">Q", data[last[-1][0] + 25:last[-1][0] + 33])[0]
        # A well-framed DATA segment (chunk start and end, no events) the
        # insider appends: framing, CRC and chain are all valid.
        payload = struct.pack(">QQQQQI", lseq, lseq, 0, 0, 1, 0)
        hdr = struct.pack(">4sBBHII", b"ESG1", 1, 2, 3, len(last), len(payload))
        seg = hdr + struct.pack(">I", crc32c(hdr + payload)) + payload
        with open(path, "ab") as f:
            f.write(seg)
        rec.proc.kill()
        rec.start()
        rec.wait_log("recovered after a restart")
        now = open(path, "rb").read()
        assert seg not in now[len(data):], "the forged segment is still there"
        rc, out = verify(rec)
        assert rc == 0, out
        assert "%s: recovered, %d bytes cut at %d" % (r.id, len(seg), len(data)) in out, out
        j = open(os.path.join(rec.store, "journal.esj"), "rb").read()
        assert b"cut %d bytes at offset %d" % (len(seg), len(data)) in j


def test_live_session_cut_back_leaves_a_trace():
    with Env("ins-livecut") as env:
        rec = Recorder(env)
        p = subprocess.Popen(rec.send_argv("--sync"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        def feed(text):
            # More than a stream record holds (64 KiB), and time for the
            # sender to pass it on before the next step.
            p.stdin.write(text * (200000 // len(text)))
            p.stdin.flush()
            time.sleep(0.5)
        try:
            sdir = os.path.join(rec.store, "sessions")
            feed(b"first\n" * 50)
            wait_for(lambda: os.listdir(sdir), 10, what="the session file")
            path = os.path.join(sdir, os.listdir(sdir)[0])
            ncp = lambda: len([s for s in segs(open(path, "rb").read()) if s[1] == 3])
            feed(b"second\n" * 50)
            wait_for(lambda: ncp() >= 1, 10, what="a checkpoint")
            feed(b"third\n" * 50)
            wait_for(lambda: ncp() >= 2, 10, what="two checkpoints")
            data = open(path, "rb").read()
            cps = [e for o, t, e in segs(data) if t == 3]
            os.truncate(path, cps[-2])       # back to an earlier checkpoint
            try:
                feed(b"fourth\n" * 50)
                p.stdin.close()
            except BrokenPipeError:
                pass        # the recorder already ended the session
            p.wait(60)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        rc, out = verify(rec)
        assert rc == 1 and "tampered: session file found cut: %d bytes where the recorder " \
            "wrote " % cps[-2] in out, out


def test_witness_gets_every_head_and_serves_as_anchor():
    with Env("ins-witness") as env:
        got = env.path("witness.txt")
        cmd = env.write("witness.sh", "#!/bin/sh\ncat >> %s\n" % got, mode=0o755)
        fail = env.write("fail.sh", "#!/bin/sh\nexit 7\n", mode=0o755)
        rec = Recorder(env, extra="Witness %s\nTreeHeadInterval 1s\n" % cmd)
        ids = [send_closed(rec, b"witnessed %d\n" % i) for i in range(3)]
        r = rec.send("--no-close", data=b"open\n")   # the journal grows, no close
        assert r.rc == 0, r
        wait_for(lambda: os.path.exists(got) and len(open(got).read().splitlines()) >= 4, 10,
                 what="the witness to receive 4 heads")
        lines = open(got).read().splitlines()
        assert all(l.startswith("escort-head v1 ") for l in lines), lines
        stored = open(os.path.join(rec.store, "heads.esh")).read().splitlines()
        assert lines == stored[:len(lines)], (lines, stored)
        rc, out = verify(rec, "--anchor", got)
        assert rc == 0 and "anchor: ok: the journal extends all" in out, out
        # A failing witness is logged; ingest goes on.
        rec.proc.stop()
        rec.write_conf(open(rec.conf).read().replace(cmd, fail))
        rec.start()
        send_closed(rec, b"still recorded\n")
        rec.wait_log("Witness: command failed (exit 7")
