"""escort-replay reading a store while the recorder writes it: sessions
open and close, and tree heads are signed (at every close and each second),
between a reader's journal read and its reads of session files and heads.
A security team runs verify and list on a live store; neither may call a
fresh close or a fresh head tampering, and neither may miss tampering
because the store is live (the insider cases are test_store_insider.py)."""
import threading

from harness.core import SAN, Env
from harness.recorder import Recorder

# sessions the writer opens and closes, one after another; the reader reads
# for as long as it writes (under ASan fewer: the same race, a third of the CPU)
SESSIONS = 14 if SAN else 40
READS_MAX = 200        # reader rounds, at most
READS_AFTER = 3        # reader rounds after the writer is done


def test_verify_and_list_race_a_busy_recorder():
    with Env("rec-race") as env:
        rec = Recorder(env, fsync="always", extra="TreeHeadInterval 1s\n")
        sent, errors = [], []

        def writer():
            try:
                for i in range(SESSIONS):
                    r = rec.send("--chunk", "700", data=b"line %d\r\n" % i * 50, timeout=30)
                    sent.append(r)
                    if r.rc != 0 or not r.closed:
                        errors.append(r)
                        return
            except Exception as e:  # reported by the main thread
                errors.append(e)

        t = threading.Thread(target=writer)
        t.start()
        rounds = after = 0
        bad = []
        try:
            while rounds < READS_MAX and after < READS_AFTER:
                if not t.is_alive():
                    after += 1
                rounds += 1
                v = rec.verify()
                lst = rec.replay("list")
                for what, r in (("verify --all", v), ("list", lst)):
                    if r.returncode != 0:
                        bad.append((rounds, what, r.returncode, r.stdout.decode()[-1500:],
                                    r.stderr.decode()[-1500:]))
                if len(bad) > 3:
                    break
        finally:
            t.join(timeout=120)
        assert not t.is_alive(), "the writer did not finish"
        assert not errors, errors
        assert len(sent) == SESSIONS
        # the reader really raced the writer: it read while sessions were closing
        assert rounds > READS_AFTER, rounds
        assert not bad, bad
        # and at rest, everything written is there and verifies
        v = rec.verify_ok().stdout.decode()
        for r in sent:
            assert "%s: ok" % r.id in v, (r.id, v[-2000:])
        assert rec.proc.stop() == 0, rec.log()
