"""escort-proxy's log is one line per message, whatever a client sends: a
user name with a line end in it (dbclient passes one on; OpenSSH's ssh
refuses to) cannot add a line of its own to the log, before or after
authentication."""
from harness.core import Env, wait_for
from harness.proxy import ProxyWorld
from harness.interop import dbclient_argv, client_env, run

TIMEOUT = 60

FORGED = "escort-proxy[1]: error FORGED"


def forged_lines(w):
    return [l for l in w.proxy.log().splitlines() if l.startswith(FORGED)]


def test_control_characters_in_names_do_not_forge_log_lines():
    with Env() as env:
        w = ProxyWorld(env)
        # unknown user, unknown key: logged before authentication
        run(dbclient_argv(w, "evil\n" + FORGED + " by an unknown user", "true",
                          key=w.mallory_key), env=client_env(w), timeout=30)
        # alice's key, a target name with a line end and an escape sequence
        r = run(dbclient_argv(w, "alice:web\n" + FORGED + " by alice\x1b[2J", "true"),
                env=client_env(w), timeout=30)
        assert r.returncode == 77, r
        wait_for(lambda: "unknown target" in w.proxy.log(), 10,
                 what="the refusal of the unknown target to be logged")
        log = w.proxy.log()
        assert forged_lines(w) == [], forged_lines(w)
        assert "\x1b" not in log, [l for l in log.splitlines() if "\x1b" in l]
        # the names are still there, on the line that logs them
        assert any("FORGED by alice" in l and "unknown target" in l for l in log.splitlines()), log
