"""Not a test of Escort: cases for test_harness.py to check tests/run.py -j:
the two plain cases run side by side, the SERIAL one alone.  Each writes
"START END" (wall clock) to ESCORT_SELFTEST_DIR/NAME."""
import os, time

SERIAL = ["test_alone"]


def _span(name, secs=3):
    t0 = time.time()
    time.sleep(secs)
    with open(os.path.join(os.environ["ESCORT_SELFTEST_DIR"], name), "w") as f:
        f.write("%f %f\n" % (t0, time.time()))


def test_side_a():
    _span("a")


def test_side_b():
    _span("b", 6)  # still running when a ends: a slot is free beside it


def test_alone():
    _span("alone")
