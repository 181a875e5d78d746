"""The HTML pages of escort-replay in a real browser (Debian's headless
Chromium, from scripts/deps.sh, through tests/harness/browser.py), offline:
a shell session recorded through the real proxy and recorder, exported with
export --format html, plays in the embedded asciinema-player, and a click
on a command of the timeline (the bar or the list) seeks the player there,
forwards and back; the output's "</script><b>" is shown as text on the
terminal and starts nothing; audit --html shows its timeline.  Screenshots
of the player and the timelines are checked pixel by pixel.  The page asks
for nothing but its own file.  One Chromium start for both pages, begun
before the session is recorded."""
import json, os, re

from harness.browser import Browser
from harness.core import Env
from harness.png import colour_counts
from harness.proxy import ProxyWorld, replay
from harness.term import Term

TIMEOUT = 240
# typed at the prompt, and what each prints
LINES = [(b"echo first-$((6*7))-'</script><b>x</b>'", b"first-42-</script><b>x</b>"),
         (b"printf 'second-%s\\n' ok", b"second-ok"),
         (b"echo third-done", b"third-done")]
ALLOW = (0x33, 0x99, 0x33)                  # a mark of an allowed command


def record(env):
    w = ProxyWorld(env)
    t = Term(w.ssh_argv("alice", "web01", None, extra=("-tt",)))
    try:
        seen = t.expect(b"is recorded")
        sid = re.search(rb"escort: session (\S+) is recorded", seen).group(1).decode()
        t.send(b"PS1='P''S> '\r")
        t.expect(b"PS> ")
        for line, out in LINES:
            t.send(line + b"\r")
            t.expect(out)
            t.expect(b"PS> ")
        t.send(b"exit 0\r")
        assert t.wait() == 0
    finally:
        try:
            os.kill(t.pid, 9)
            os.waitpid(t.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
    return w, sid


def cast_of(page):
    """The asciicast frames inlined in an export page."""
    m = re.search(rb'<script type="application/x-asciicast" id="escort-cast">(.*?)</script>',
                  page, re.S)
    assert m and b"<" not in m.group(1), page[:3000]
    return [json.loads(l) for l in m.group(1).decode().splitlines()]


def seek(label_part, n):
    """Steps: click the command whose label holds label_part (n: its
    number), wait for the player to be there, read the terminal."""
    return [{"until": "document.getElementById('position').textContent"
                      ".indexOf(%s) >= 0" % json.dumps(label_part)},
            {"until": "document.getElementById('position').textContent"
                      ".indexOf('At #%d ') === 0" % n}]


# JS: the player's terminal shows the text %s (a JSON string)
TERM_HAS = "document.querySelector('#player .ap-term').textContent.indexOf(%s) >= 0"


def test_export_and_audit_pages_in_chromium():
    with Env() as env, Browser(env.path(".")) as browser:
        w, sid = record(env)
        r = replay(w, "export", sid, "--format", "html")
        assert r.returncode == 0 and r.stderr == b"", r
        page = env.path("session.html")
        with open(page, "wb") as f:
            f.write(r.stdout)
        assert any(f[1] == "i" for f in cast_of(r.stdout)[1:])
        # --no-input: the keystrokes are not in the page
        r = replay(w, "export", sid, "--format", "html", "--no-input")
        assert r.returncode == 0, r
        frames = cast_of(r.stdout)[1:]
        assert frames and all(f[1] != "i" for f in frames), frames[:5]
        assert b"keystrokes are left out" in r.stdout
        r = replay(w, "audit", "--html")
        assert r.returncode == 0, r
        audit = env.path("audit.html")
        with open(audit, "wb") as f:
            f.write(r.stdout)
        c = replay(w, "commands", sid, "--json")
        assert c.returncode == 0, c
        cmds = [json.loads(l)["command"] for l in c.stdout.decode().splitlines()]
        num = {k: next(i + 1 for i, c in enumerate(cmds) if c == line.decode())
               for k, (line, _) in enumerate(LINES)}

        shots = {n: env.path(n + ".png") for n in ("player", "bar", "audit-bar")}
        got = browser.open_pages([
            {"url": "file://" + page, "steps": [
                {"wait": "#player .ap-wrapper .ap-term"},
                {"count": ["marks", "#timeline .timeline a[data-t]"]},
                {"count": ["items", "#timeline ol li a[data-t]"]},
                # the list: the third command (forwards)
                {"click": "#timeline ol li:nth-child(%d) a" % num[2]},
                *seek("echo third-done", num[2]),
                # the position is shown before the terminal is redrawn: wait
                # (bounded) for the screen of that moment, then read it
                {"until": TERM_HAS % json.dumps("second-ok")},
                {"text": ["at-third", "#player .ap-term"]},
                {"shot": ["player", "#player", shots["player"]]},
                # the bar: the first command (back)
                {"click": "#timeline .timeline a:nth-child(%d)" % num[0]},
                *seek("first-", num[0]),
                {"until": "!(%s)" % (TERM_HAS % json.dumps("second-ok"))},
                {"text": ["at-first", "#player .ap-term"]},
                {"count": ["scripts", "script"]},
                {"count": ["bold", "#player b"]},
                {"shot": ["bar", "#timeline .timeline", shots["bar"]]},
            ]},
            {"url": "file://" + audit, "steps": [
                {"wait": ".timeline a"},
                {"count": ["marks", ".timeline a"]},
                {"text": ["body", "body"]},
                {"shot": ["audit-bar", ".timeline", shots["audit-bar"]]},
            ]},
        ])
        ex, au = got
        for g in got:
            assert g["failed"] is None and g["errors"] == [], g
        # nothing asked for but the page itself
        assert ex["requests"] == ["file://" + page], ex["requests"]
        assert au["requests"] == ["file://" + audit], au["requests"]

        # the player shows the terminal when the clicked command was decided
        # (its Enter): at the third, the first two have printed, the third not
        third = ex["texts"]["at-third"]
        assert "first-42-</script><b>x</b>" in third and "second-ok" in third, third
        assert "\nthird-done" not in third, third
        # back at the first: nothing of it printed yet
        first = ex["texts"]["at-first"]
        assert "PS1=" in first and "first-42" not in first and "second-ok" not in first, first
        # the recorded markup stayed text: no element made of it
        assert ex["counts"]["scripts"] == 3 and ex["counts"]["bold"] == 0, ex["counts"]
        assert ex["counts"]["marks"] == ex["counts"]["items"] == len(cmds), (ex["counts"], cmds)
        assert au["counts"]["marks"] >= len(cmds), au["counts"]
        assert "echo third-done" in au["texts"]["body"], au["texts"]["body"][:2000]

        # pixels: the player's terminal is drawn (not blank): a dark screen
        # with light text on it; the bars hold their green marks
        px = colour_counts(shots["player"])
        total = sum(px.values())
        top = max(px.values())
        light = sum(n for k, n in px.items() if min(k) > 150)
        assert len(px) > 20 and top < 0.995 * total and light > 300, (len(px), top, total, light)
        for name in ("bar", "audit-bar"):
            px = colour_counts(shots[name])
            assert px.get(bytes(ALLOW), 0) >= 20, (name, sorted(px.items(), key=lambda kv: -kv[1])[:5])
