"""escort-recorder end to end: real daemons on private sockets, the
escort-rec-send tool (the proxy's sender code), escort-replay to read back
and verify."""
import os, random, re, resource, signal, struct, subprocess, time

from harness.core import Env, bin_path, wait_for
from harness.recorder import (Recorder, TestCA, terminal_text, frame, record, hello, data,
                              read_frame, reason, connect_unix, wait_eof, T_HELLO, T_ACCEPT,
                              T_REJECT, T_DATA, T_PING, T_PONG, EV_OUTPUT, EV_META, WIRE_VERSION)

TIMEOUT = 120
STDERR_OF_ALL_TYPES = b"warning: x\n"   # the STDERR event escort-rec-send --all-types sends


def test_round_trip_all_event_types():
    with Env("rec-rt") as env:
        rec = Recorder(env, fsync="always")
        text = terminal_text(3 << 20)
        r = rec.send("--all-types", "--chunk", "1500", data=text)
        assert r.rc == 0 and r.closed, r
        # seq 1 META, 9 typed events, the text (pieces sent together share a
        # record, at most 64 KiB each), END
        assert r.closed["seq"] >= 1 + 9 + (len(text) + 65535) // 65536 + 1, r
        assert len(r.closed["head"]) == 64 and len(r.closed["seal"]) == 2 * 116, r
        assert rec.cat(r.id) == STDERR_OF_ALL_TYPES + text
        rec.verify_ok()
        # the stored size is well below the raw size for terminal text
        size = os.path.getsize(os.path.join(rec.store, "sessions", r.id + ".est"))
        assert size < len(text) * 0.3, (size, len(text))
        # every type is in the file, in order, with its fields
        j = rec.replay("export", r.id, "--format", "json")
        if j.returncode == 0 and j.stdout:
            out = j.stdout.decode("utf-8", "replace")
            for word in ("xterm-256color", "vendors-on-prod", "carol", "/tmp/f",
                         "checkpoint A"):
                assert word in out, (word, out[:2000])
        # a second session, over the same daemon, stays apart
        r2 = rec.send("--type", "stderr", data=b"only this\n")
        assert r2.rc == 0 and r2.id != r.id, r2
        assert rec.cat(r2.id) == b"only this\n"
        rec.verify_ok()
        assert rec.proc.stop() == 0, rec.log()


def test_sigkill_recorder_during_busy_sessions_loses_no_acked_byte():
    rnd = random.Random(int(os.environ.get("ESCORT_SEED", "0")) or None)
    with Env("rec-crash") as env:
        rec = Recorder(env, fsync="interval 200")
        chunks = [terminal_text(1 << 20)[i:i + 70000] for i in range(0, 1 << 20, 70000)]
        senders, sent = [], []
        for k in range(2):
            p = subprocess.Popen(rec.send_argv("--retry", "30", "--chunk", "3000", "--quiet"),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)
            senders.append(p)
            sent.append(bytearray())
        try:
            kills = 0
            while kills < 22:
                for k, p in enumerate(senders):
                    c = rnd.choice(chunks)
                    p.stdin.write(c)
                    p.stdin.flush()
                    sent[k] += c
                time.sleep(rnd.uniform(0.0, 0.12))
                rec.proc.kill()
                kills += 1
                if rnd.random() < 0.5:
                    time.sleep(rnd.uniform(0.0, 0.1))   # senders find nobody there
                rec.start()
            outs = []
            for p in senders:
                p.stdin.close()
                p.wait(60)
                outs.append((p.returncode, p.stdout.read().decode(), p.stderr.read().decode()))
        finally:
            for p in senders:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)
        for k, (rc, out, err) in enumerate(outs):
            # escort-rec-send fails when a resume comes back below an ACK it holds
            assert rc == 0, (rc, out[-2000:], err[-3000:], rec.log()[-3000:])
            sid = [l.split()[1] for l in out.splitlines() if l.startswith("closed ")][0]
            assert out.count("accepted %s" % sid) >= 2, out   # it did resume
            got, want = rec.cat(sid), bytes(sent[k])
            if got != want:
                at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
                          min(len(got), len(want)))
                raise AssertionError("session %s: %d bytes stored, %d sent, first difference "
                                     "at %d\n%s\n%s" % (sid, len(got), len(want), at, out[-1500:],
                                                          rec.log()[-6000:]))
        assert "recovered after a restart" in rec.log() or "reopened at seq" in rec.log()
        rec.verify_ok()


def test_bad_input_is_rejected_and_other_sessions_go_on():
    with Env("rec-bad") as env:
        rec = Recorder(env, fsync="never")
        live = subprocess.Popen(rec.send_argv("--chunk", "100"), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            live.stdin.write(b"before the attacks\n")
            live.stdin.flush()
            cases = [
                (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unsupported protocol version"),
                (frame(T_PING, b"\0" * 8, version=9), "unsupported protocol version 9"),
                (struct.pack(">IBB", 64 << 20, WIRE_VERSION, T_DATA), "exceeds the limit"),
                (frame(77, b""), "unknown message type 77"),
                (data([record(2, EV_OUTPUT, b"x")]), "unexpected DATA in state HELLO"),
                (frame(T_HELLO, b"\0\0"), "HELLO: body of 2 bytes is too short"),
                (hello() + data([record(5, EV_OUTPUT, b"gap")]), "seq"),
                (frame(T_HELLO, b"\0\0\0" + struct.pack(">QI", 0, 1) + record(1, EV_OUTPUT, b"x")),
                 "only metadata is allowed"),
                (hello() + data([record(2, EV_META, b"")]), "not allowed in DATA"),
                (hello() + data([record(2, EV_OUTPUT, b"abc")], count=3), "announces 3"),
                (hello() + data([record(2, EV_OUTPUT, b"abc")[:-1]]), "record 1 of DATA"),
            ]
            for raw, want in cases:
                s = connect_unix(rec.sock)
                s.sendall(raw)
                got = None
                while True:
                    f = read_frame(s)
                    if f is None:
                        break
                    assert f[0] in (T_ACCEPT, T_REJECT), f
                    if f[0] == T_REJECT:
                        got = reason(f[1])
                        break
                assert got is not None and want in got, (raw[:40], want, got, rec.log()[-2000:])
                assert wait_eof(s, 5), "connection not closed after: " + want
                s.close()
            # half a message, then the sender vanishes
            s = connect_unix(rec.sock)
            s.sendall(hello()[:9])
            s.close()
            # silence and slow-loris: rejected after the HELLO timeout
            quiet = connect_unix(rec.sock)
            loris = connect_unix(rec.sock)
            t0 = time.monotonic()
            h = hello()
            for i in range(8):
                try:
                    loris.sendall(h[i:i + 1])
                except OSError:         # refused already (a slow machine)
                    break
                time.sleep(0.5)
            for s in (quiet, loris):
                f = read_frame(s, 10)
                assert f and f[0] == T_REJECT and "no HELLO within" in reason(f[1]), f
                assert wait_eof(s, 5)
                s.close()
            assert time.monotonic() - t0 < 30
            # a PING on a good session gets a PONG
            s = connect_unix(rec.sock)
            s.sendall(hello() + frame(T_PING, struct.pack(">Q", 4242)))
            f1, f2 = read_frame(s), read_frame(s)
            assert f1[0] == T_ACCEPT and f2 == (T_PONG, struct.pack(">Q", 4242)), (f1, f2)
            s.close()
            # the live session was never disturbed
            live.stdin.write(b"after the attacks\n")
            live.stdin.close()
            assert live.wait(30) == 0, live.stderr.read()
            out = live.stdout.read().decode()
            sid = [l.split()[1] for l in out.splitlines() if l.startswith("closed ")][0]
            assert rec.cat(sid) == b"before the attacks\nafter the attacks\n"
            assert rec.proc.alive()
            assert "closed in the middle of a frame" in rec.log()
        finally:
            if live.poll() is None:
                os.killpg(live.pid, signal.SIGKILL)
                live.wait(5)


def test_store_failures_stop_acks_and_lose_nothing_acked():
    limit = 600 << 10
    with Env("rec-full") as env:
        # a file size limit makes the session file's writes fail like a full disk
        rec = Recorder(env, fsync="always", preexec_fn=lambda: resource.setrlimit(
            resource.RLIMIT_FSIZE, (limit, limit)))
        noise = random.Random(7).randbytes(3 << 20)   # incompressible
        r = rec.send("--chunk", "1000", "--sync", "--spool", "65536", data=noise)
        assert r.rc == 1, r
        assert "recorder cannot write the session" in r.err, r
        assert "durable up to seq" in r.err, r
        acked = int(r.err.split("durable up to seq")[1].split(")")[0])
        assert acked > 100, r
        rec.wait_log("no more acks after seq")
        # restarted without the limit: the torn tail is cut, acked events are there
        rec.proc.stop()
        rec.preexec_fn = None
        rec.start()
        rec.wait_log("recovered after a restart")
        got = rec.cat(r.id)
        assert len(got) >= (acked - 1) * 1000, (len(got), acked)
        assert got == noise[:len(got)]
        # a store that cannot take files: new sessions are refused with the reason
        sessions = os.path.join(rec.store, "sessions")
        os.rename(sessions, sessions + ".moved")
        with open(sessions, "w") as f:
            f.write("not a directory\n")
        r2 = rec.send(data=b"x")
        assert r2.rc == 1 and "recorder rejected the session: cannot start a session" in r2.err, r2
        assert "cannot create session file" in rec.log()
        os.unlink(sessions)
        os.rename(sessions + ".moved", sessions)
        r3 = rec.send(data=b"store is back\n")
        assert r3.rc == 0, r3
        assert rec.cat(r3.id) == b"store is back\n"


def test_tls_mutual_auth():
    with Env("rec-tls") as env:
        ca = TestCA(env, "escort")
        other = TestCA(env, "other")
        srv_cert, srv_key = ca.issue("recorder", ip="127.0.0.1")
        cli_cert, cli_key = ca.issue("proxy1")
        bad_cert, bad_key = other.issue("intruder")
        rec = Recorder(env, tls={"cert": srv_cert, "key": srv_key, "client_ca": ca.cert},
                       extra="Compression 1\n")
        url = "tls://127.0.0.1:%d" % rec.port
        text = terminal_text(1 << 20)
        ok = rec.send("--ca", ca.cert, "--cert", cli_cert, "--key", cli_key, data=text, server=url)
        assert ok.rc == 0 and ok.closed, ok
        assert rec.cat(ok.id) == text
        rec.wait_log("CN=proxy1")
        nocert = rec.send("--ca", ca.cert, data=b"x", server=url)
        assert nocert.rc == 1 and nocert.closed is None, nocert
        wrong = rec.send("--ca", ca.cert, "--cert", bad_cert, "--key", bad_key, data=b"x",
                         server=url)
        assert wrong.rc == 1 and wrong.closed is None, wrong
        rec.wait_log("certificate")
        # the client refuses a recorder its CA did not sign
        fake = rec.send("--ca", other.cert, "--cert", cli_cert, "--key", cli_key, data=b"x",
                        server=url)
        assert fake.rc == 1 and "certificate verify failed" in fake.err, fake
        assert len(rec.session_files()) == 1
        rec.verify_ok()


def test_config_check_names_every_bad_line():
    """escort-recorder.conf(5): every problem is reported at once, one a
    line, as file:line: message, however many there are."""
    with Env("rec-cfg-many") as env:
        rec = Recorder(env, start=False)
        good = open(rec.conf).read()
        first = good.count("\n") + 1
        bad = env.write("bad.conf", good + "".join("Frobnicate%02d yes\n" % i
                                                   for i in range(40)))
        r = subprocess.run([bin_path("escort-recorder"), "-t", "-f", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        assert r.returncode == 1, r
        errs = r.stderr.decode()
        for i in range(40):
            assert "bad.conf:%d: unknown keyword \"Frobnicate%02d\"" % (first + i, i) in errs, \
                (i, errs)
        for line in errs.splitlines():
            assert re.search(r"bad\.conf(:\d+)?: \S", line), line


def test_the_same_listen_twice_is_named():
    """The same Listen address twice is a configuration error naming both
    lines (-t finds it)."""
    with Env("rec-cfg-listen") as env:
        rec = Recorder(env, start=False)
        good = open(rec.conf).read()
        first = [l for l in good.splitlines() if l.startswith("Listen ")][0]
        lineno = good.splitlines().index(first) + 1
        twice = env.write("twice.conf", good + first + "\n")
        r = subprocess.run([bin_path("escort-recorder"), "-t", "-f", twice],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
        assert ("twice.conf:%d: %s given twice (first at line %d)"
                % (good.count("\n") + 1, first, lineno)).encode() in r.stderr, r.stderr


def test_an_unknown_user_is_named_with_its_line():
    """User with a name that does not exist: -t names the file and line."""
    with Env("rec-cfg-user") as env:
        rec = Recorder(env, start=False)
        good = open(rec.conf).read()
        bad = env.write("user.conf", good + "User no-such-user-x\n")
        r = subprocess.run([bin_path("escort-recorder"), "-t", "-f", bad],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
        assert ("user.conf:%d: User no-such-user-x: no such user"
                % (good.count("\n") + 1)).encode() in r.stderr, r.stderr


def test_a_socket_in_a_missing_directory_is_named_so():
    """A unix socket in a directory that does not exist is reported as
    such, not as a permission problem."""
    with Env("rec-cfg-nodir") as env:
        rec = Recorder(env, start=False)
        good = open(rec.conf).read()
        first = [l for l in good.splitlines() if l.startswith("Listen ")][0]
        nodir = env.write("nodir.conf", good.replace(
            first, "Listen unix:%s/no-such-dir/r.sock" % env.dir))
        r = subprocess.run([bin_path("escort-recorder"), "-d", "-f", nodir],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
        assert b"no-such-dir" in r.stderr and b"No such file or directory" in r.stderr, r.stderr
        assert b"permission denied" not in r.stderr.lower(), r.stderr


def test_config_check_reload_and_sigterm():
    with Env("rec-cfg") as env:
        rec = Recorder(env, start=False)
        good = open(rec.conf).read()
        bad = env.write("bad.conf", good + "Frobnicate yes\n")
        r = subprocess.run([bin_path("escort-recorder"), "-t", "-f", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert r.returncode == 1 and b"bad.conf:5: unknown keyword \"Frobnicate\"" in r.stderr, r
        t = subprocess.run([bin_path("escort-recorder"), "-t", "-f", rec.conf],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert t.returncode == 0 and b"configuration OK" in t.stdout, t
        # without -d the recorder stays in the foreground (it never
        # detaches), logs to syslog and writes its PidFile
        pidf = os.path.join(rec.dir, "rec.pid")
        rec.write_conf(good + "PidFile %s\n" % pidf)
        p = subprocess.Popen([bin_path("escort-recorder"), "-f", rec.conf])
        try:
            wait_for(lambda: os.path.exists(pidf) and open(pidf).read().strip(), 10,
                     what="the PidFile")
            assert int(open(pidf).read()) == p.pid
            wait_for(lambda: os.path.exists(rec.sock), 10, what="the recorder's socket")
            assert p.poll() is None, "the recorder detached or exited"
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=10) == 0
            assert not os.path.exists(pidf), "the PidFile is left"
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        rec.write_conf(good)
        rec.start()
        # a session left open by its sender
        open_s = rec.send("--no-close", data=b"still open\n")
        assert open_s.rc == 0 and open_s.id, open_s
        # a broken reload keeps the running configuration
        rec.write_conf(good + "Fsync sometimes\n")
        rec.proc.send(signal.SIGHUP)
        rec.wait_log("reload failed, keeping the running configuration")
        assert rec.send(data=b"a\n").rc == 0
        # a good reload adds a listener
        sock2 = os.path.join(rec.dir, "second.sock")
        rec.write_conf(good + "Listen unix:%s\n" % sock2)
        rec.proc.send(signal.SIGHUP)
        rec.wait_log("reloaded")
        r2 = rec.send(data=b"via the second socket\n", server="unix:" + sock2)
        assert r2.rc == 0, r2
        assert oct(os.stat(sock2).st_mode & 0o777) == "0o660"
        # MaxSessions counts the session still open: a new one is refused
        rec.write_conf(good + "Listen unix:%s\nMaxSessions 1\n" % sock2)
        rec.proc.send(signal.SIGHUP)
        wait_for(lambda: rec.log().count("reloaded") == 2, 10, what="second reload")
        full = rec.send(data=b"one too many\n")
        assert full.rc == 1 and "too many sessions (MaxSessions 1)" in full.err, full
        # SIGTERM closes the open session with a signed final record, exit 0
        assert rec.proc.stop() == 0, rec.log()
        assert "closed at seq" in rec.log()
        assert not os.path.exists(rec.sock)
        rec.verify_ok()
        assert rec.cat(open_s.id) == b"still open\n"


def test_runs_as_its_own_user_and_closes_abandoned_sessions():
    import pwd
    if os.getuid() != 0:
        print("SKIP: needs root to switch users")
        return
    nobody = pwd.getpwnam("nobody")
    with Env("rec-user") as env:
        rec = Recorder(env, start=False)
        for d in (env.dir, rec.dir):
            os.chmod(d, 0o711)
        os.chmod(rec.key, 0o600)            # readable by root only: loaded before the switch
        rec.write_conf(open(rec.conf).read() + "User nobody\nResumeTimeout 1\n")
        rec.start()

        def uids():
            with open("/proc/%d/status" % rec.proc.pid) as f:
                return [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        # the socket listens before the switch: wait for it
        wait_for(lambda: uids() == [str(nobody.pw_uid)] * 4, 10, what="the recorder to switch users")
        st = os.stat(rec.sock)
        assert st.st_uid == nobody.pw_uid and oct(st.st_mode & 0o777) == "0o660", st
        r = rec.send("--no-close", data=b"left open by a vanished proxy\n")
        assert r.rc == 0 and r.id, r
        path = os.path.join(rec.store, "sessions", r.id + ".est")
        assert os.stat(path).st_uid == nobody.pw_uid
        assert os.stat(os.path.join(rec.store, "journal.esj")).st_uid == nobody.pw_uid
        # nobody resumes it: the recorder closes it with a signed final record
        rec.wait_log("no resume within 1 s; closing it", timeout=10)
        rec.verify_ok()
        assert rec.cat(r.id) == b"left open by a vanished proxy\n"
        assert rec.proc.stop() == 0


def test_receipt_verifies_and_a_lost_closed_is_sent_again():
    from harness.recorder import (closed_fields, receipt_verifies, resume_hello, accept_fields,
                                  T_CLOSE, T_CLOSED)
    with Env("rec-receipt") as env:
        rec = Recorder(env, fsync="always")
        s = connect_unix(rec.sock)
        s.sendall(hello())
        t, body = read_frame(s)
        assert t == T_ACCEPT, (t, body)
        sid, token = accept_fields(body)["id"], accept_fields(body)["token"]
        s.sendall(data([record(2, EV_OUTPUT, b"last words\n", 5), record(3, 13, b"", 6)]) +
                  frame(T_CLOSE, b""))
        first = None
        while first is None:
            f = read_frame(s)
            assert f is not None
            if f[0] == T_CLOSED:
                first = closed_fields(f[1])
        s.close()
        assert first["id"] == sid and first["seq"] == 3, first
        assert receipt_verifies(env, rec.pub, first)
        forged = dict(first, seq=2)
        assert not receipt_verifies(env, rec.pub, forged)
        # the sender never saw CLOSED (crash): it resumes and closes again
        rec.proc.kill()
        rec.start()
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(sid, 1, token))
        t, body = read_frame(s)
        assert t == T_ACCEPT and accept_fields(body)["seq"] == 3, (t, body)
        assert accept_fields(body)["token"] == token   # the same after a restart
        s.sendall(frame(T_CLOSE, b""))
        t, body = read_frame(s)
        assert t == T_CLOSED and closed_fields(body) == first
        s.close()
        # more data for a closed session is refused with the reason
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(sid, 1, token) + data([record(4, EV_OUTPUT, b"late")]))
        t, _ = read_frame(s)
        t2, body2 = read_frame(s)
        assert t == T_ACCEPT and t2 == T_REJECT and "was closed at seq 3" in reason(body2)
        s.close()
        assert rec.cat(sid) == b"last words\n"
        rec.verify_ok()
        # escort-rec-send prints the same kind of receipt
        r = rec.send(data=b"hello\n")
        c = {"id": r.id, "seq": r.closed["seq"], "head": bytes.fromhex(r.closed["head"])}
        seal = bytes.fromhex(r.closed["seal"])
        c.update(zip(("seg_index", "wall_ns", "offset"), struct.unpack(">IQQ", seal[:20])))
        c["keyid"], c["sig"] = seal[20:52], seal[52:]
        assert receipt_verifies(env, rec.pub, c)


def test_acks_without_sync_and_a_sender_dying_mid_frame():
    from harness.recorder import T_ACK
    with Env("rec-ack") as env:
        rec = Recorder(env, fsync="interval 100", extra="ResumeTimeout 1\n")
        # small events without the sync flag are flushed on the timer and acked
        s = connect_unix(rec.sock)
        s.sendall(hello())
        t, body = read_frame(s)
        assert t == T_ACCEPT
        from harness.recorder import accept_fields
        token = accept_fields(body)["token"]
        s.sendall(data([record(2, EV_OUTPUT, b"$ ", 1000)]) +
                  data([record(3, 2, b"l", 2000), record(4, 2, b"s", 3000)]))
        t, body = read_frame(s, 10)
        while t == T_ACK and struct.unpack(">Q", body[:8])[0] < 4:
            t, body = read_frame(s, 10)
        assert t == T_ACK and struct.unpack(">Q", body[:8])[0] == 4, (t, body)
        s.close()
        # a resumed sender that sends again what is stored: skipped by seq
        from harness.recorder import resume_hello
        sid = [l.split("starts session ")[1] for l in rec.log().splitlines()
               if "raw-test starts session" in l][0].strip()
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(sid, 2, token))
        t, body = read_frame(s)
        assert t == T_ACCEPT and accept_fields(body)["seq"] == 4, (t, body)
        s.sendall(data([record(3, 2, b"l", 2000), record(4, 2, b"s", 3000),
                        record(5, EV_OUTPUT, b"\r\n", 4000)], flags=1))
        t, body = read_frame(s, 10)
        assert t == T_ACK and struct.unpack(">Q", body[:8])[0] == 5, (t, body)
        s.close()
        # escort-rec-send killed in the middle of a frame: the recorder keeps
        # what was complete and closes the session when nobody resumes it.
        # A DATA frame holds up to ~256 KiB plus one record of at most 64 KiB,
        # so the kill lands after at least one whole frame.
        text = terminal_text(2 << 20)
        r = rec.send("--chunk", "16384", "--kill-after-bytes", "700000", data=text)
        assert r.rc == 3 and r.id and r.closed is None, r
        # the recorder learns it reading the cut frame, or writing an ACK
        # to the dead sender first (both close the connection)
        wait_for(lambda: "closed in the middle of a frame" in rec.log() or
                 "write failed: broken pipe" in rec.log(), 10, what="the sender's end logged")
        rec.wait_log("session %s: no resume within 1 s; closing it" % r.id)
        got = rec.cat(r.id)
        assert 0 < len(got) < 700000 and text.startswith(got), len(got)
        rec.verify_ok()


def test_unix_socket_only_for_allowed_users():
    """The unix socket checks its peer's credentials: another local user
    cannot open (or forge) a session even when the socket file lets it
    connect, unless UnixClients names it or one of its groups."""
    import pwd
    if os.getuid() != 0:
        print("SKIP: needs root to switch users")
        return
    nobody = pwd.getpwnam("nobody")

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    def send_as_nobody(rec, data):
        return subprocess.run(rec.send_argv(), input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, preexec_fn=as_nobody)

    with Env("rec-peer") as env:
        rec = Recorder(env, start=False)
        for d in (env.dir, rec.dir):
            os.chmod(d, 0o711)
        rec.start()
        os.chmod(rec.sock, 0o666)           # as if an administrator loosened it
        r = send_as_nobody(rec, b"forged by another user\n")
        assert r.returncode != 0, r
        rec.wait_log("is not allowed (UnixClients)")
        assert rec.session_files() == [], rec.session_files()
        ok = rec.send(data=b"from root\n")  # the recorder's own user and root still may
        assert ok.rc == 0 and ok.id, ok
        assert rec.proc.stop() == 0

        rec.write_conf(open(rec.conf).read() + "UnixClients nobody\n")
        rec.start()
        os.chmod(rec.sock, 0o666)
        r = send_as_nobody(rec, b"from an allowed user\n")
        assert r.returncode == 0, r
        assert len(rec.session_files()) == 2, rec.session_files()
        rec.verify_ok()
        assert rec.proc.stop() == 0

        rec.write_conf(open(rec.conf).read().replace("UnixClients nobody", "UnixClients nosuchuser9"))
        bad = subprocess.run([bin_path("escort-recorder"), "-t", "-f", rec.conf],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        assert bad.returncode != 0 and b"no such user" in bad.stderr and b"recorder.conf:" in bad.stderr, bad


def test_resume_needs_the_sessions_token():
    """Resuming a session needs the token the recorder gave its proxy at
    ACCEPT: a process that only knows the session id (from a log, a file
    name) cannot resume it and append forged events, not with a made-up
    token nor with the token of another session."""
    from harness.recorder import accept_fields, resume_hello, TOKEN_LEN
    with Env("rec-token") as env:
        rec = Recorder(env, fsync="always", extra="ResumeTimeout 30\n")
        victims = []
        for i in range(2):
            s = connect_unix(rec.sock)
            s.sendall(hello(b"proxy-%d" % i))
            t, body = read_frame(s)
            assert t == T_ACCEPT, (t, body)
            a = accept_fields(body)
            s.sendall(data([record(2, EV_OUTPUT, b"genuine %d\n" % i, 5)], flags=1))
            assert read_frame(s)[0] != T_REJECT
            s.close()                      # the proxy vanished; the session waits for a resume
            victims.append(a)
        assert victims[0]["token"] != victims[1]["token"]
        sid = victims[0]["id"]
        for bad in (bytes(TOKEN_LEN), b"\x01" * TOKEN_LEN, victims[1]["token"]):
            s = connect_unix(rec.sock)
            s.sendall(resume_hello(sid, 2, bad, name=b"mallory") +
                      data([record(3, EV_OUTPUT, b"forged\n", 6)], flags=1))
            t, body = read_frame(s)
            assert t == T_REJECT and "wrong resume token" in reason(body), (t, body)
            s.close()
        rec.wait_log("refused: wrong resume token")
        # the genuine proxy still can
        s = connect_unix(rec.sock)
        s.sendall(resume_hello(sid, 2, victims[0]["token"]))
        t, body = read_frame(s)
        assert t == T_ACCEPT and accept_fields(body)["seq"] == 2, (t, body)
        s.close()
        assert rec.proc.stop() == 0
        assert rec.cat(sid) == b"genuine 0\n"
        rec.verify_ok()


def test_workers_keep_each_session_on_one_worker_across_resumes():
    """Workers 3: six sessions at once are spread over the three workers; the
    recorder is killed mid-way and restarted, every sender resumes, and each
    session is resumed on the worker that created it; nothing acknowledged
    is lost, every session verifies.  MaxSessions counts all workers."""
    with Env("rec-workers") as env:
        rec = Recorder(env, fsync="interval 200", extra="Workers 3\nMaxSessions 6\n")
        text = terminal_text(1 << 20)
        senders, sent = [], []
        for k in range(6):
            p = subprocess.Popen(rec.send_argv("--retry", "30", "--chunk", "3000", "--quiet"),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)
            senders.append(p)
            sent.append(bytearray())
        try:
            for k, p in enumerate(senders):
                c = text[k * 100000:(k + 1) * 100000]
                p.stdin.write(c)
                p.stdin.flush()
                sent[k] += c
            wait_for(lambda: rec.log().count("created ") == 6, 20, 0.05,
                     what="six sessions created")
            # a seventh is refused: six are open over the three workers
            r7 = rec.send(data=b"x\n", timeout=20)
            assert r7.rc != 0 and "MaxSessions 6" in r7.err, (r7.rc, r7.err)
            rec.proc.kill()
            rec.start()
            for k, p in enumerate(senders):
                c = text[(k + 6) * 100000:(k + 7) * 100000]
                p.stdin.write(c)
                p.stdin.flush()
                sent[k] += c
            outs = []
            for p in senders:
                p.stdin.close()
                p.wait(60)
                outs.append((p.returncode, p.stdout.read().decode(), p.stderr.read().decode()))
        finally:
            for p in senders:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)
        log = rec.log()
        created, resumed = {}, {}
        for line in log.splitlines():
            w = line.split()
            if "created" in w and w[-2:-1] == ["worker"]:
                created[w[3].rstrip(":")] = w[-1]
            if "resumes" in w and w[-2:-1] == ["worker"]:
                resumed.setdefault(w[w.index("session") + 1], set()).add(w[-1])
        assert len(created) == 6 and sorted(created.values()) == ["0", "0", "1", "1", "2", "2"], \
            (created, log[-3000:])
        for k, (rc, out, err) in enumerate(outs):
            assert rc == 0, (rc, out[-2000:], err[-3000:], log[-3000:])
            sid = [l.split()[1] for l in out.splitlines() if l.startswith("closed ")][0]
            assert out.count("accepted %s" % sid) >= 2, out   # it did resume
            assert resumed.get(sid) == {created[sid]}, (sid, created, resumed)
            assert rec.cat(sid) == bytes(sent[k]), sid
        rec.verify_ok()
