"""escort-replay follow --user U follows the newest session of U that is
not closed yet, follow --latest the newest of anyone; with none yet it says
so and waits until one starts.  Sessions written through the transcript
library (tests/tools/rec-mksession, --open leaves one open as a live
recording is), read by the real escort-replay."""
import subprocess, time

from harness.core import Env, bin_path, tool_path, wait_for


def session(env, store, key, sid, user, text, open_=True):
    path = env.write(sid + ".txt", "0.1\toutput\t0\t%s\\r\\n\n" % text)
    argv = [tool_path("rec-mksession"), "--store", store, "--key", key, "--id", sid,
            "--user", user] + (["--open"] if open_ else []) + [path]
    r = subprocess.run(argv, capture_output=True, timeout=30)
    assert r.returncode == 0, r
    time.sleep(1.1)             # start times a second apart


def follow(env, store, name, *args):
    return env.start(name, [bin_path("escort-replay"), "--store", store, "follow", *args])


def shows(p, *needles):
    """Waits until the follower's log (stdout and stderr) holds every needle."""
    wait_for(lambda: all(n in p.log() for n in needles), timeout=10,
             what="%r in %s" % (needles, p.name))


def test_follow_user_and_latest_pick_the_newest_open_session():
    with Env() as env:
        key = env.path("k.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key],
                       check=True, capture_output=True)
        store = env.path("store")
        session(env, store, key, "a-old-open", "alice", "alice-live-output")
        session(env, store, key, "a-new-closed", "alice", "alice-closed-output", open_=False)
        session(env, store, key, "b-open", "bob", "bob-live-output")
        p = follow(env, store, "f1", "--no-verify", "--user", "alice")
        shows(p, "follow: session a-old-open", "alice-live-output")
        assert p.alive() and "closed" not in p.log() and "bob" not in p.log()
        p.stop()
        p = follow(env, store, "f2", "--no-verify", "--latest")
        shows(p, "follow: session b-open", "bob-live-output")
        p.stop()
        # nobody's yet: waits, then follows the session that starts
        p = follow(env, store, "f3", "--no-verify", "--user", "carol")
        shows(p, "no open session of carol yet")
        session(env, store, key, "c-open", "carol", "carol-live-output")
        shows(p, "follow: session c-open", "carol-live-output")
        p.stop()
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "follow", "--latest",
                            "b-open"], capture_output=True, timeout=10)
        assert r.returncode == 2 and b"usage" in r.stderr, r
