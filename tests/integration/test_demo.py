"""scripts/demo.sh, the README's first command, as a new administrator runs it:
started in the background (so SIGINT arrives ignored, as a shell's `&` leaves
it), it prints how to connect; the printed command runs through the real
proxy; `kill -INT` then stops it, and afterwards no process it started is left
and nothing listens on the ports it used."""
import os, re, signal, subprocess, time
from harness.core import Env, free_port, port_open

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pids_mentioning(text):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                if text.encode() in f.read():
                    out.append(int(p))
        except OSError:
            pass
    return out


def test_demo_runs_and_stops_on_sigint_from_background():
    with Env("demo") as env:
        d = env.path("demo")
        port = free_port()
        log = open(env.path("demo.log"), "wb")
        e = dict(os.environ, ESCORT_DEMO_PORT=str(port))
        p = subprocess.Popen(["bash", os.path.join(ROOT, "scripts/demo.sh"), d], stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=e,
                             start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        log.close()
        try:
            deadline = time.monotonic() + 300
            text = ""
            while "Press Ctrl-C" not in text:
                assert p.poll() is None, "demo exited early:\n" + text
                assert time.monotonic() < deadline, "demo did not start:\n" + text
                time.sleep(0.2)
                with open(env.path("demo.log"), errors="replace") as f:
                    text = f.read()
            m = re.search(r"^\s+(ssh .*) alice:demo@127\.0\.0\.1 uname -a", text, re.M)
            assert m, text
            argv = m.group(1).split() + ["-o", "BatchMode=yes", "alice:demo@127.0.0.1", "uname", "-a"]
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=60)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith(b"Linux"), r.stdout
            with open(os.path.join(d, "target", "sshd_config")) as f:
                target_port = int(re.search(r"^Port (\d+)", f.read(), re.M).group(1))
            assert port_open(port) and port_open(target_port)
            started = pids_mentioning(d)
            assert len(started) >= 3, started   # sshd, recorder, proxy (and the script)

            os.kill(p.pid, signal.SIGINT)
            assert p.wait(timeout=60) == 0
            with open(env.path("demo.log"), errors="replace") as f:
                assert "demo: stopped" in f.read()
            # what the daemons started for a connection (sshd's session
            # process) ends right after them: wait for that, bounded
            deadline = time.monotonic() + 15
            left = started
            while time.monotonic() < deadline:
                left = [q for q in started if q in pids_mentioning(d)]
                if not left:
                    break
                time.sleep(0.2)
            assert left == [], [(q, open("/proc/%d/cmdline" % q, "rb").read()) for q in left
                                if os.path.exists("/proc/%d" % q)]
            assert not port_open(port) and not port_open(target_port)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            for q in pids_mentioning(d):
                try:
                    os.kill(q, signal.SIGKILL)
                except OSError:
                    pass
