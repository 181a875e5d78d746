"""A resume whose acknowledged seq disagrees with the store is a fact in the
recording, not only a log line: the recorder writes a signed MARKER of its
own into the session (TEXT, ACKED_SEQ, STORED_SEQ) and refuses the resume.
Shown with raw protocol frames on a real escort-recorder, and through a
real escort-proxy whose recording was cut back while the recorder was down."""
import json, os, select, signal, struct, subprocess, time
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld, replay
from integration.test_transcript_format import check_store
from harness.recorder import (Recorder, T_ACCEPT, T_ACK, T_REJECT, EV_OUTPUT, accept_fields,
                              connect_unix, data, hello, read_frame, reason, record,
                              resume_hello)

TIMEOUT = 180


def markers(rec_replay, sid):
    """The MARKER events of session sid, from export --format json."""
    r = rec_replay("export", sid, "--format", "json")
    assert r.returncode == 0, r
    out = []
    for line in r.stdout.decode().splitlines():
        e = json.loads(line)
        if e.get("type") == "marker":
            out.append({f["name"]: f.get("value") for f in e["fields"]})
    return out


def refused_everywhere(run, pub, sid, acked, stored):
    """Asserts that verify (plain, --all and --deep), list, cat and audit show
    session sid's refused resume (acknowledged seq acked, store had stored);
    returns what cat showed."""
    for args in (("--deep", sid), (sid,), ("--all",)):
        r = run("verify", "--key", pub, *args)
        out = r.stdout.decode()
        assert r.returncode == 0, (args, out, r.stderr)
        line = [l for l in out.splitlines() if l.startswith(sid + ": ")]
        assert len(line) == 1 and line[0].startswith("%s: ok: " % sid) and line[0].endswith(
            "; 1 resume refused (acknowledged seq %d, store had %d)" % (acked, stored)), (args, out)
    r = run("list")
    row = [l for l in r.stdout.decode().splitlines() if l.startswith(sid + " ")]
    assert r.returncode == 0 and len(row) == 1 and row[0].split()[5] == "resume-refused", r
    assert row[0].split()[6] == "ok", row
    r = run("list", "--json")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    rows = [x for x in rows if x["id"] == sid]
    assert r.returncode == 0 and len(rows) == 1, (rows, r.stderr)
    assert rows[0]["status"] == "resume-refused" and rows[0]["resumes_refused"] == 1, rows
    assert rows[0]["verify"] == "ok", rows
    r = run("list", "--json", "--no-verify")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines() if sid in l]
    assert r.returncode == 0 and rows[0]["status"] == "resume-refused", rows
    r = run("cat", sid)
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert ("cat: %s: note: " % sid) in err and "the recorder refused a resume: the proxy held " \
        "an acknowledgement for seq %d, the store had events up to seq %d" % (acked, stored) in err, err
    assert b"refused" not in r.stdout, r.stdout[-300:]
    r = run("audit")
    out = r.stdout.decode()
    assert r.returncode == 0, (out, r.stderr)
    assert "resume refused: acknowledged seq %d, the store had %d" % (acked, stored) in out, out
    r = run("audit", "--json")
    rows = [json.loads(l) for l in r.stdout.decode().splitlines()]
    rows = [x for x in rows if x.get("id") == sid]
    assert r.returncode == 0 and len(rows) == 1 and rows[0]["resumes_refused"] == 1, (rows, r.stderr)
    return run("cat", sid).stdout


def test_resume_beyond_the_stored_seq_is_recorded_and_refused():
    with Env("rec-resume-seq") as env:
        rec = Recorder(env, fsync="always")
        s = connect_unix(rec.sock)
        s.sendall(hello())
        t, body = read_frame(s)
        assert t == T_ACCEPT, (t, body)
        acc = accept_fields(body)
        s.sendall(data([record(2, EV_OUTPUT, b"hello\r\n", 1000),
                        record(3, EV_OUTPUT, b"world\r\n", 2000)], flags=1))
        t, body = read_frame(s, 10)
        while t == T_ACK and struct.unpack(">Q", body[:8])[0] < 3:
            t, body = read_frame(s, 10)
        assert t == T_ACK and struct.unpack(">Q", body[:8])[0] == 3, (t, body)
        s.close()
        # The peer claims an acknowledgement the store does not hold.
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(acc["id"], 9, acc["token"]))
        t, body = read_frame(s)
        assert t == T_REJECT, (t, body)
        why = reason(body)
        assert "holds an acknowledgement for seq 9, the store holds events up to seq 3" in why, why
        assert "recorded in the session" in why, why
        s.close()
        rec.wait_log("resume refused: the proxy raw-test holds an acknowledgement for seq 9")
        got = markers(rec.replay, acc["id"])
        assert len(got) == 1, got
        m = got[0]
        assert m["acked_seq"] == 9 and m["stored_seq"] == 3, m
        assert m["text"].startswith("recorder: resume refused"), m
        # Signed like any event: the session verifies, with the marker in it.
        r = rec.verify(acc["id"])
        assert r.returncode == 0, r
        # The independent reader of escort-transcript(5) finds it by its
        # segment's flags, without decoding.
        got = check_store(rec.store)
        assert got[acc["id"]]["resumes_refused"] == 1, got[acc["id"]]
        # verify --deep (which decodes the events) names it on the
        # session's line; cat notes it on stderr, outside the bytes shown;
        # audit lists it with the session.
        shown = refused_everywhere(rec.replay, rec.pub, acc["id"], 9, 3)
        assert shown == b"hello\r\nworld\r\n", shown
        # A resume that agrees (the ACK it holds is stored) is accepted.
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(acc["id"], 3, acc["token"]))
        t, body = read_frame(s)
        assert t == T_ACCEPT and accept_fields(body)["seq"] == 4, (t, body)
        s.close()
        assert len(markers(rec.replay, acc["id"])) == 1


def test_proxy_session_cut_back_while_the_recorder_was_down_is_recorded():
    with Env("px-resume-seq") as env:
        w = ProxyWorld(env)
        script = env.write("count.sh", "i=0; while [ $i -lt 400 ]; do i=$((i+1)); "
                           "echo line-$i; sleep 0.02; done\n")
        p = subprocess.Popen(w.ssh_argv("alice", "web01", "sh " + script),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            sdir = os.path.join(w.store, "sessions")
            wait_for(lambda: os.listdir(sdir), 10, what="the session file")
            path = os.path.join(sdir, os.listdir(sdir)[0])

            def checkpoints():
                data, off, out = open(path, "rb").read(), 0, []
                while off + 20 <= len(data):
                    (length,) = struct.unpack(">I", data[off + 12:off + 16])
                    if off + 20 + length > len(data):
                        break
                    if data[off + 5] == 3:
                        out.append(off + 20 + length)
                    off += 20 + length
                return out
            # The first line reached the client, so it was recorded first:
            # every checkpoint written from now on covers it.
            ready, _, _ = select.select([p.stdout], [], [], 20)
            assert ready, "no output from the session within 20 s"
            first = p.stdout.readline()
            assert first == b"line-1\n", first
            n0 = len(checkpoints())
            wait_for(lambda: len(checkpoints()) >= n0 + 3, 20, what="three more checkpoints")
            # The recorder dies; the insider cuts the live session back to
            # an earlier checkpoint (the journal names only its open), and
            # the recorder comes back.
            w.recorder.kill()
            cps = checkpoints()
            os.truncate(path, cps[n0 + 1])
            w.start_recorder()
            out, err = p.communicate(timeout=60)
            out = first + out
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        assert p.returncode != 0, (out[-300:], err)
        sid = os.path.basename(path)[:-4]
        wait_for(lambda: "resume refused" in w.recorder.log(), 10, what="the refusal")
        r = replay(w, "export", sid, "--format", "json")
        assert r.returncode == 0, r
        ms = [json.loads(l) for l in r.stdout.decode().splitlines()]
        ms = [{f["name"]: f.get("value") for f in e["fields"]} for e in ms
              if e.get("type") == "marker"]
        assert len(ms) == 1 and ms[0]["acked_seq"] > ms[0]["stored_seq"], ms
        assert "acknowledged events are missing" in ms[0]["text"], ms
        shown = refused_everywhere(lambda *a: replay(w, *a),
                                   w.env.path("recorder-ed25519.pub.pem"), sid,
                                   ms[0]["acked_seq"], ms[0]["stored_seq"])
        # what was stored before the cut (the recording notice is a userauth
        # banner, not output)
        assert shown.startswith(b"line-1\n"), shown[-300:]
