"""The recorder's audit-event stream (escort-audit(5)), with real ssh and
sftp clients through the real proxy and recorder: an allowed exec, a denied
exec, an sftp upload and download, an escort's pause and resume, a policy
reload that ends a session (forbid) and a stray session file found at a
recorder restart each give their event, every line of AuditLog parses as
JSON and carries the documented fields; a command with a quote, backslash,
newline, control byte and invalid UTF-8 round-trips through the escaping;
SIGHUP reopens the file (logrotate); a refused resume, a session file that
fails to verify and the END the recorder writes at shutdown are in it too."""
import json, os, select, signal, struct, subprocess, time
from harness.core import Env, bin_path, sha256_file, wait_for
from harness.proxy import ProxyWorld, sftp

RULES = """
user bob {
    key "%(bob)s"
}
rule techs {
    who user:alice
    where target:web*
    exec yes
    sftp both
    supervised-by user:bob
    allow "echo ..."
    allow "sleep ..."
    deny "rm ..."
}
"""

COMMON = ("time", "event", "session", "user", "target", "proxy", "client_addr")
KINDS = {
    "session.start": ("login", "client_key", "policy_hash", "target_addr", "seq"),
    "session.end": ("end_kind", "reason", "end_by"),
    "decision": ("verdict", "command"),
    "transfer.start": ("protocol", "op", "outcome", "path", "direction", "file_id"),
    "transfer": ("protocol", "op", "outcome", "path", "direction", "size", "sha256", "file_id"),
    "escort": ("action", "escort"),
    "policy.reload": ("text",),
    "integrity": ("finding", "detail"),
}


def events(path):
    """Every line of the audit file, parsed by json.loads (a line that does
    not parse fails the test)."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    assert data == b"" or data.endswith(b"\n"), data[-200:]
    out = []
    for line in data.split(b"\n")[:-1]:
        line.decode("utf-8")            # strictly valid UTF-8
        out.append(json.loads(line))
    return out


def wait_event(path, pred, what):
    return wait_for(lambda: next((e for e in events(path) if pred(e)), None), 20, 0.2, what=what)


def world(env, audit):
    bob_key, bob_pub = env.keygen("bob")
    w = ProxyWorld(env, rules=RULES % {"bob": " ".join(bob_pub.split()[:2])},
                   recorder_extra="AuditLog %s\n" % audit)
    w.bob_key = bob_key
    return w


def start_exec(w, command):
    """alice's exec through the proxy; (Popen, session id from the notice)."""
    p = subprocess.Popen(w.ssh_argv("alice", "web01", command), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err, deadline = b"", time.monotonic() + 20
    while b"is recorded" not in err and time.monotonic() < deadline:
        if select.select([p.stderr], [], [], 0.5)[0]:
            chunk = os.read(p.stderr.fileno(), 4096)
            if not chunk:
                break
            err += chunk
    assert b"is recorded" in err, err
    return p, err.split(b"escort: session ")[-1].split()[0].decode()


def check_fields(e):
    for k in COMMON:
        assert k in e, (k, e)
    for k in KINDS.get(e["event"], ()):
        assert k in e, (k, e)
    assert time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S") and e["time"].endswith("Z") \
        and len(e["time"]) == 24, e["time"]


def test_audit_stream_every_kind():
    with Env() as env:
        audit = env.path("audit", "events.jsonl")
        w = world(env, audit)
        # allowed and denied exec
        r = w.ssh("alice", "web01", "echo audit-ok")
        assert r.returncode == 0 and b"audit-ok" in r.stdout, r
        r = w.ssh("alice", "web01", "rm -rf /tmp/nothing-here")
        assert r.returncode != 0, r
        # sftp upload and download
        up = env.path("local", "up.bin")
        with open(up, "wb") as f:
            f.write(os.urandom(100 * 1024 + 3))
        t_up, got = w.marker("up.bin"), env.path("local", "got.bin")
        os.makedirs(os.path.dirname(t_up), exist_ok=True)
        os.chmod(os.path.dirname(t_up), 0o777)
        r = sftp(w, "put %s %s\nget %s %s\n" % (up, t_up, t_up, got))
        assert r.returncode == 0, r
        assert sha256_file(got) == sha256_file(up)
        # an escort pauses and resumes a running exec
        p, sid = start_exec(w, "sleep 4")
        try:
            for verb in ("pause", "resume"):
                r = w.ssh("bob", None, "%s %s" % (verb, sid), key=w.bob_key, timeout=30)
                assert r.returncode == 0, r
            assert p.wait(30) == 0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # a policy reload whose forbid ends a live session
        p, fsid = start_exec(w, "sleep 30")
        try:
            with open(w.policy_path, "a") as f:
                f.write("forbid no-alice {\n    who user:alice\n    where target:web01\n}\n")
            w.proxy.send(signal.SIGHUP)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # a stray session file, found when the recorder restarts
        with open(os.path.join(w.store, "sessions", "stray.est"), "wb") as f:
            f.write(b"not a session file\n")
        wait_event(audit, lambda e: e["event"] == "session.end" and e["session"] == fsid,
                   "the forbidden session's end")
        assert w.recorder.stop() == 0
        w.start_recorder()
        wait_event(audit, lambda e: e["event"] == "integrity", "the integrity finding")

        evs = events(audit)
        kinds = {e["event"] for e in evs}
        assert set(KINDS) <= kinds, kinds
        for e in evs:
            check_fields(e)
        decisions = [e for e in evs if e["event"] == "decision"]
        allow = [e for e in decisions if e["command"] == "echo audit-ok"]
        assert allow and allow[0]["verdict"] == "allow" and allow[0]["user"] == "alice" and \
            allow[0]["target"] == "web01" and allow[0]["rule"] == "techs" and \
            allow[0]["rule_line"] > 0 and allow[0]["rendered"] and allow[0]["channel"] >= 0, decisions
        deny = [e for e in decisions if e["command"] == "rm -rf /tmp/nothing-here"]
        assert deny and deny[0]["verdict"] == "deny" and deny[0]["reason"], decisions
        ups = [e for e in evs if e["event"] == "transfer" and e["direction"] == "upload"
               and e["path"] == t_up]
        assert ups and ups[0]["sha256"] == sha256_file(up) and ups[0]["size"] == 100 * 1024 + 3 \
            and ups[0]["outcome"] == "ok" and ups[0]["protocol"] == "sftp", ups
        downs = [e for e in evs if e["event"] == "transfer" and e["direction"] == "download"
                 and e["path"] == t_up]
        assert downs and downs[0]["sha256"] == sha256_file(up), downs
        starts = [e for e in evs if e["event"] == "transfer.start" and e["path"] == t_up]
        assert {e["direction"] for e in starts} == {"upload", "download"}, starts
        assert all(e["file_id"] in {u["file_id"] for u in ups + downs} for e in starts)
        esc = [e for e in evs if e["event"] == "escort" and e["session"] == sid]
        assert [(e["action"], e["escort"], e["user"]) for e in esc] == \
            [("pause", "bob", "alice"), ("resume", "bob", "alice")], esc
        rl = [e for e in evs if e["event"] == "policy.reload"]
        assert rl and rl[0]["session"] == fsid and "forbid" in rl[0]["text"], rl
        ends = {e["session"]: e for e in evs if e["event"] == "session.end"}
        assert ends[sid]["end_kind"] == "normal" and ends[sid]["end_by"] == "proxy", ends[sid]
        assert ends[fsid]["end_kind"] == "policy", ends[fsid]
        st = {e["session"]: e for e in evs if e["event"] == "session.start"}
        assert st[sid]["client_key"].startswith("SHA256:") and \
            st[sid]["login"] and st[sid]["client_addr"].startswith("127.0.0.1"), st[sid]
        # every session that started also ended, and each has one start
        assert set(st) == set(ends), (set(st) ^ set(ends))
        integ = [e for e in evs if e["event"] == "integrity"]
        assert integ[0]["finding"] == "not-adopted" and integ[0]["session"] == "stray", integ
        # times are in order within a session
        for s in st:
            ts = [e["time"] for e in evs if e["session"] == s]
            assert ts == sorted(ts), ts
        mode = os.stat(audit).st_mode & 0o777
        assert mode == 0o640, oct(mode)


def test_audit_escaping_and_reopen():
    with Env() as env:
        audit = env.path("audit", "events.jsonl")
        w = world(env, audit)
        # quote, backslash, newline, tab, a control byte, DEL and an invalid
        # UTF-8 byte in the command the technician sends
        nasty = b'echo "q\\"b\\\\s\nnext\t\x01\x7f \xff \xc3\xa9'
        argv = [a.encode() for a in w.ssh_argv("alice", "web01")] + [nasty]
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        e = wait_event(audit, lambda e: e["event"] == "decision", "the decision")
        wait_event(audit, lambda x: x["event"] == "session.end", "the first session's end")
        assert e["command"] == nasty.decode("utf-8", "replace"), (e["command"], r)
        with open(audit, "rb") as f:
            raw = f.read()
        assert b'\\u0001' in raw and b'\\u007f' in raw and b'\\ufffd' in raw and b'\\n' in raw \
            and b'\\t' in raw and "é".encode() in raw, raw
        assert b"\x01" not in raw and b"\xff" not in raw and raw.count(b"\n") == len(events(audit))
        # logrotate: rename, SIGHUP, the next session lands in the new file
        first = {x["session"] for x in events(audit)}
        os.rename(audit, audit + ".1")
        w.recorder.send(signal.SIGHUP)
        wait_for(lambda: os.path.exists(audit), 10, 0.1, what="the reopened audit file")
        r = w.ssh("alice", "web01", "echo after-rotate")
        assert r.returncode == 0, r
        e = wait_event(audit, lambda e: e["event"] == "session.end", "the next session's end")
        new = {x["session"] for x in events(audit)}
        assert new and not (new & first), (new, first)
        assert {x["event"] for x in events(audit)} >= {"session.start", "decision", "session.end"}
        assert {x["session"] for x in events(audit + ".1")} == first
        # -t names an AuditLog whose directory is missing
        conf = "".join(l for l in open(w.rec_conf) if not l.startswith("AuditLog "))
        bad = env.write("bad-recorder.conf", conf + "AuditLog %s\n" %
                        os.path.join(env.dir, "nowhere", "sub", "a.jsonl"))
        r = subprocess.run([bin_path("escort-recorder"), "-t", "-f", bad], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        assert r.returncode == 1 and b"AuditLog " in r.stderr and b"no directory" in r.stderr, r


def test_audit_integrity_and_recorder_ends():
    """With raw protocol frames on a real escort-recorder: a refused resume,
    a session file that fails to verify at a restart, and the END the
    recorder writes itself at shutdown each give their event."""
    from harness.recorder import (Recorder, T_ACCEPT, T_ACK, T_REJECT, EV_OUTPUT, accept_fields,
                                  connect_unix, data, hello, read_frame, record, resume_hello)

    def open_session(rec, n):
        s = connect_unix(rec.sock)
        s.sendall(hello())
        t, body = read_frame(s)
        assert t == T_ACCEPT, (t, body)
        acc = accept_fields(body)
        s.sendall(data([record(2 + i, EV_OUTPUT, b"line %d\r\n" % i, 1000 * (i + 1))
                        for i in range(n)], flags=1))
        t, body = read_frame(s, 10)
        while t == T_ACK and struct.unpack(">Q", body[:8])[0] < n + 1:
            t, body = read_frame(s, 10)
        assert t == T_ACK and struct.unpack(">Q", body[:8])[0] == n + 1, (t, body)
        return s, acc

    with Env("rec-audit") as env:
        audit = env.path("audit", "events.jsonl")
        rec = Recorder(env, fsync="always", extra="AuditLog %s\nResumeTimeout 600\n" % audit)
        # a resume claiming more than the store holds
        s, acc = open_session(rec, 2)
        s.close()
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(acc["id"], 9, acc["token"]))
        t, body = read_frame(s)
        assert t == T_REJECT, (t, body)
        s.close()
        e = wait_event(audit, lambda e: e["event"] == "integrity" and
                       e.get("finding") == "resume-refused", "the refused resume")
        assert e["session"] == acc["id"] and e["acked_seq"] == 9 and e["stored_seq"] == 3 and \
            e["seq"] == 4 and e["user"] == "mallory" and e["target"] == "web01" and \
            e["detail"].startswith("recorder: resume refused"), e
        # bytes added to a session file while the recorder is down: at the
        # restart it fails to verify and is left as it is
        s2, acc2 = open_session(rec, 3)
        rec.proc.stop(signal.SIGKILL)
        s2.close()
        path = os.path.join(rec.store, "sessions", acc2["id"] + ".est")
        size = os.path.getsize(path)
        with open(path, "ab") as f:
            f.write(b"\x00not a segment" * 10)
        rec.start()
        e = wait_event(audit, lambda e: e["event"] == "integrity" and
                       e.get("finding") == "damaged", "the damaged file")
        assert e["session"] == acc2["id"] and e["offset"] == size and \
            "damaged at offset %d" % size in e["detail"], e
        # the first session, reopened at the restart and never resumed: the
        # recorder ends it when it is stopped
        assert rec.proc.stop() == 0
        e = wait_event(audit, lambda e: e["event"] == "session.end" and
                       e["session"] == acc["id"], "the recorder's END")
        assert e["end_kind"] == "recorder-shutdown" and e["end_by"] == "recorder" and \
            e["seq"] == 5 and e["user"] == "mallory" and e["target"] == "web01", e
        starts = [x for x in events(audit) if x["event"] == "session.start"]
        assert sorted(x["session"] for x in starts) == sorted([acc["id"], acc2["id"]]), starts
        for x in events(audit):     # (this raw META has only user and target)
            assert all(k in x for k in COMMON), x
