"""A builtin the policy allows with "..." after it must not set a variable
that changes what runs: `printf -v PATH`, `read PATH`, `export BASH_ENV=...`
through the real proxy would otherwise make the next allowed command run a
program of the technician's choosing.  Checked on the target by a marker
file that a planted `cat` would create."""
import os
from harness.core import Env
from harness.proxy import ProxyWorld

RULES = """
rule techs {
    who user:alice
    where target:web*
    exec yes
    allow "printf ..."
    allow "read ..."
    allow "export ..."
    allow "unset ..."
    allow "cat ..."
    allow "echo ..."
}
"""


def test_builtins_cannot_repoint_path():
    with Env() as env:
        w = ProxyWorld(env, rules=RULES)
        evil = env.path("evil", "cat")
        marker = w.marker("planted-cat-ran")
        with open(evil, "w") as f:
            f.write("#!/bin/sh\ntouch %s\n" % marker)
        os.chmod(evil, 0o755)
        d = os.path.dirname(evil)
        for line in ("printf -v PATH %%s %s; cat /etc/hostname" % d,
                     "read PATH; cat /etc/hostname",
                     "export PATH=%s; cat /etc/hostname" % d,
                     "export BASH_ENV=%s; cat /etc/hostname" % evil,
                     "unset PATH; cat /etc/hostname"):
            r = w.ssh("alice", "web01", line, input=(d + "\n").encode())
            assert r.returncode != 0, (line, r.stdout, r.stderr)
            assert b"changes what runs" in r.stderr, (line, r.stderr)
            assert not os.path.exists(marker), line
        # the same builtins setting other variables still run
        r = w.ssh("alice", "web01", "printf -v x %s ok; echo done")
        assert r.returncode == 0 and r.stdout == b"done\n", r
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
