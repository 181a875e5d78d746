"""Not a test of Escort: a case that hangs on purpose, holding a process, for
test_harness.py to check that the runner's timeout still stops that process."""
import os, time
from harness.core import Env

TIMEOUT = 2


def test_hangs_holding_a_process():
    with Env() as env:
        p = env.start("sleeper", ["sleep", "1000"])
        with open(os.environ["ESCORT_SELFTEST_PIDFILE"], "w") as f:
            f.write(str(p.pid))
        time.sleep(60)
