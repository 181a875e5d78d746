"""escort-replay export ID --format html: one self-contained page (no
external resource; its only scripts the asciinema-player from
scripts/deps.sh, the page's own and the recording, all inline) with the
session's metadata, its verification, its commands with decisions, its
transfers and its output as text; whatever the recording holds is shown as
text, never as markup (a `<script>` in the output, an `<img src=http...>`
in a command), and inside the page's recording a `</script>` cannot end
the element.  Without the player, no page (exit 2, how to install it).
Sessions written through the transcript library (tests/tools/rec-mksession)
and one exec through the real proxy, read by the real escort-replay; the
page is parsed with Python's html.parser (the browser's reading:
test_replay_html_browser.py)."""
import html.parser, json, os, re, shutil, subprocess, time

from harness.core import Env, bin_path, tool_path
from harness.proxy import ProxyWorld, replay as world_replay, session_id

TIMEOUT = 180

EVIL_OUT = "<script>alert(1)</script>"
EVIL_CMD = 'cat <img src=http://evil.example/x.png onerror="alert(2)">'
SESSION = [
    "0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
    "0.2\tchannel\t0\taction=shell",
    "0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops\treason=strict",
    "0.5\toutput\t0\t$ ",
    "1.0\toutput\t0\tsystemctl status nginx",
    "1.5\tdecision\t0\tverdict=allow\tcommand=systemctl status nginx\trule=ops\trule_line=3"
    "\tshell_mode=strict\tcmd_seq=1",
    "1.6\toutput\t0\t\\r\\n\\e[32mactive (running)\\e[0m " + EVIL_OUT + "\\r\\n",
    "1.7\texit\t0\texit_status=0\tcmd_seq=1\tshell_mode=strict",
    "1.8\toutput\t0\t$ ",
    "2.0\toutput\t0\t" + EVIL_CMD,
    "2.5\tdecision\t0\tverdict=deny\tcommand=" + EVIL_CMD + "\trule=no-cat\trule_line=7"
    "\treason=cat is not allowed\tshell_mode=strict\tcmd_seq=2",
    "2.6\toutput\t0\t\\r\\nescort: denied by rule no-cat\\r\\n$ ",
    "3.0\tfile\t0\tpath=/srv/app/run.sh\tdirection=upload\tsize=12",
    "3.5\toutput\t0\texit\\r\\n",
    "3.6\texit\t0\texit_status=0",
]


class Page(html.parser.HTMLParser):
    """The page's tags, attributes and text; the contents of its script
    elements apart (scripts: [(attrs, text)])."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.scripts = [], [], [], []
        self.in_script = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag == "script":
            self.in_script = (attrs, [])

    def handle_endtag(self, tag):
        if tag == "script" and self.in_script is not None:
            self.scripts.append((dict(self.in_script[0]), "".join(self.in_script[1])))
            self.in_script = None

    def handle_data(self, data):
        if self.in_script is not None:
            self.in_script[1].append(data)
        else:
            self.text.append(data)


def parse(data):
    p = Page()
    p.feed(data.decode("utf-8"))
    p.close()
    return p, "".join(p.text)


def replay(store, *args):
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                          capture_output=True, timeout=30)


def make_store(env):
    key = env.path("recorder-ed25519.pem")
    pub = env.path("recorder-ed25519.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    store = env.path("store")
    script = env.write("s1.txt", "\n".join(SESSION) + "\n")
    r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                        "--id", "s1-html", "--user", "alice", script],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r
    with open(os.path.join(store, "public-key.pem"), "wb") as f, open(pub, "rb") as g:
        f.write(g.read())
    return store


def assert_self_contained(page, raw, scripts=False):
    """Nothing to fetch to read it: no external resource, links only inside
    the page.  scripts: export's page, whose only scripts are inline: the
    recording (returned, as asciicast lines), the player and the page's."""
    cast = None
    if scripts:
        assert page.tags.count("script") == 3, page.tags
        assert [a.get("type") for a, _ in page.scripts] == ["application/x-asciicast", None,
                                                            None], page.scripts
        assert page.scripts[0][1].endswith("\n"), page.scripts[0][1][-200:]
        cast = [json.loads(l) for l in page.scripts[0][1].splitlines()]
        assert "AsciinemaPlayer" in page.scripts[1][1] and "AsciinemaPlayer.create" in \
            page.scripts[2][1], page.scripts[2][1]
        raw = re.sub(rb"(?s)<script[^>]*>.*?</script>", b"", raw)
    else:
        assert "script" not in page.tags, page.tags
    assert "img" not in page.tags, page.tags
    for name, value in page.attrs:
        assert name not in ("src", "srcset", "onerror", "onload"), (name, value)
        if name == "href":
            assert value.startswith("#"), value
    low = raw.lower()
    assert b"<script" not in low and b"<img" not in low and b"<link" not in low, raw[:2000]
    assert b"@import" not in low and b"url(" not in low, raw[:2000]
    # the attributes as a browser reads them: links only inside the page
    for name, value in page.attrs:
        assert name in ("lang", "charset", "class", "id", "href", "style", "title", "type",
                        "data-t", "data-label"), name
        assert "url(" not in (value or ""), value
    return cast


def test_html_page_shows_the_session_and_escapes_the_recording():
    with Env() as env:
        store = make_store(env)
        r = replay(store, "export", "s1-html", "--format", "html")
        assert r.returncode == 0 and r.stderr == b"", r
        assert r.stdout.startswith(b"<!DOCTYPE html>") and r.stdout.rstrip().endswith(b"</html>")
        page, text = parse(r.stdout)
        cast = assert_self_contained(page, r.stdout, scripts=True)
        # the recording for the player: the output as recorded, inert in
        # the page (no "<" in the element: its </script> cannot end it)
        assert cast[0]["title"] == "alice@web01 (s1-html)", cast[0]
        assert "<" not in page.scripts[0][1] and "\\u003c/script\\u003e" in page.scripts[0][1]
        shown = "".join(f[2] for f in cast[1:] if f[1] == "o")
        assert EVIL_OUT in shown and EVIL_CMD in shown, shown
        # metadata and verification
        for want in ("alice", "web01", "ops", "normal"):
            assert want in text, want
        assert re.search(r"Verification: ok", text), text[:2000]
        # the commands with their decisions, rule and exit
        assert "systemctl status nginx" in text and "cat is not allowed" in text, text
        rows = re.findall(r'<tr id="row-(\d+)">(.*?)</tr>', r.stdout.decode(), re.S)
        assert [n for n, _ in rows] == ["1", "2", "3"], rows
        assert ">deny<" in rows[2][1] and "no-cat" in rows[2][1] and "strict:2" in rows[2][1], rows
        assert ">allow<" in rows[1][1] and "<td>0</td>" in rows[1][1], rows
        # the transfer
        assert "/srv/app/run.sh" in text and "upload" in text, text
        # the output as text, escape sequences gone; the recorded markup as text
        assert "active (running) " + EVIL_OUT in text, text
        assert EVIL_CMD in text, text
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in r.stdout
        assert "\x1b" not in text and "[32m" not in text, text
        # the final screen
        assert "Final screen (80x24)" in text and "escort: denied by rule no-cat" in text
        # each command's mark in the output links to its row and back
        for n in ("1", "2", "3"):
            assert ('id="cmd-%s"' % n).encode() in r.stdout and ('href="#cmd-%s"' % n).encode() \
                in r.stdout, n


def test_html_of_a_session_that_does_not_verify_is_refused():
    with Env() as env:
        store = make_store(env)
        path = os.path.join(store, "sessions", "s1-html.est")
        data = bytearray(open(path, "rb").read())
        i = data.index(b"ESG1", 100)          # a segment after the head
        data[i + 30] ^= 0x01
        open(path, "wb").write(bytes(data))
        r = replay(store, "export", "s1-html", "--format", "html")
        assert r.returncode == 1 and r.stdout == b"", r
        assert b"s1-html" in r.stderr and b"does not verify" in r.stderr, r.stderr
        r = replay(store, "export", "s1-html", "--format", "pdf")
        assert r.returncode == 2 and b'unknown format "pdf"' in r.stderr, r


PLAYER = "/usr/local/share/escort/asciinema-player"


def test_html_needs_the_player():
    """The player comes from --player DIR, else $ESCORT_PLAYER, else the
    default directory; without it no page is written (exit 2, saying how
    to install it), and one that could not stand in a page is refused."""
    assert os.path.exists(os.path.join(PLAYER, "package.json")), \
        "asciinema-player missing: scripts/deps.sh installs it"
    with Env() as env:
        store = make_store(env)
        missing = env.path("no-player")
        for args, extra in (((), {"ESCORT_PLAYER": missing}), (("--player", missing), {})):
            r = subprocess.run([bin_path("escort-replay"), "--store", store, "export", "s1-html",
                                "--format", "html", *args], capture_output=True, timeout=30,
                               env=dict(os.environ, **extra))
            assert r.returncode == 2 and r.stdout == b"", r
            err = r.stderr.decode()
            assert missing + "/dist/bundle/asciinema-player.min.js" in err, err
            assert "scripts/deps.sh --player" in err and "asciinema-player@" in err and \
                "--player DIR" in err and "ESCORT_PLAYER" in err, err
        # a copy named by ESCORT_PLAYER is used (its version is in the page)
        copy = env.path("player")
        shutil.copytree(PLAYER, copy)
        pkg = os.path.join(copy, "package.json")
        with open(pkg) as f:
            data = re.sub(r'"version": "[^"]*"', '"version": "9.9.9-test"', f.read(), count=1)
        with open(pkg, "w") as f:
            f.write(data)
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "export", "s1-html",
                            "--format", "html"], capture_output=True, timeout=30,
                           env=dict(os.environ, ESCORT_PLAYER=copy))
        assert r.returncode == 0 and b"asciinema-player 9.9.9-test" in r.stdout, r.stderr
        # --player wins over ESCORT_PLAYER
        r = subprocess.run([bin_path("escort-replay"), "--store", store, "export", "s1-html",
                            "--format", "html", "--player", PLAYER], capture_output=True,
                           timeout=30, env=dict(os.environ, ESCORT_PLAYER=missing))
        assert r.returncode == 0 and b"9.9.9-test" not in r.stdout, r.stderr
        # a bundle holding "</script" cannot be inlined: refused, no page
        js = os.path.join(copy, "dist", "bundle", "asciinema-player.min.js")
        with open(js, "a") as f:
            f.write('\nvar x = "</SCRIPT>";\n')
        r = replay(store, "export", "s1-html", "--format", "html", "--player", copy)
        assert r.returncode == 2 and r.stdout == b"", r
        assert js.encode() in r.stderr and b'"</script"' in r.stderr, r.stderr
        # export's own --help says where the player comes from
        r = replay(store, "export", "--help")
        assert r.returncode == 0 and b"--player DIR" in r.stdout and b"$ESCORT_PLAYER" in \
            r.stdout and PLAYER.encode() in r.stdout, r
        # --player is for html only
        r = replay(store, "export", "s1-html", "--format", "text", "--player", PLAYER)
        assert r.returncode == 2 and b"--player is for --format html" in r.stderr, r


def test_html_of_a_proxy_session():
    with Env() as env:
        w = ProxyWorld(env)
        r = w.ssh("alice", "web01", "echo 'html-<b>bold</b>-ok'")
        assert r.returncode == 0 and r.stdout == b"html-<b>bold</b>-ok\n", r
        sid = session_id(r.stderr)
        assert w.proxy.stop() == 0, w.proxy.log()[-3000:]
        h = world_replay(w, "export", sid, "--format", "html")
        assert h.returncode == 0, h
        page, text = parse(h.stdout)
        assert_self_contained(page, h.stdout, scripts=True)
        assert "echo 'html-<b>bold</b>-ok'" in text, text     # the command, as text
        assert "html-<b>bold</b>-ok\n" in text, text          # its output, as text
        assert "b" not in page.tags, page.tags
        assert re.search(r"Verification: ok", text), text
        out = env.path("page.html")
        with open(out, "wb") as f:
            f.write(h.stdout)
        assert os.path.getsize(out) == len(h.stdout) > 0


def test_audit_html_per_person_with_integrity():
    with Env() as env:
        store = make_store(env)
        key = env.path("recorder-ed25519.pem")
        script = env.write("s2.txt", "0.1\tchannel\t0\taction=exec\tcommand=uptime\n"
                           "0.1\tdecision\t0\tverdict=allow\tcommand=uptime\trule=ops\n"
                           "0.3\toutput\t0\t up 3 days\\r\\n\n0.4\texit\t0\texit_status=0\n")
        r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key,
                            "--id", "s2-bob", "--user", "bob", script],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r
        r = replay(store, "audit", "--html")
        assert r.returncode == 0 and r.stderr == b"", r
        page, text = parse(r.stdout)
        assert_self_contained(page, r.stdout)
        assert text.index("User alice") < text.index("User bob"), text
        alice = text[text.index("User alice"):text.index("User bob")]
        assert "s1-html" in alice and "Verification: ok" in alice, alice
        assert "systemctl status nginx" in alice and EVIL_CMD in alice, alice
        assert "/srv/app/run.sh" in alice and "cat is not allowed" in alice, alice
        assert "1 session, 3 commands, 1 denied, 0 approved" in alice, alice
        assert b"&lt;img src=http://evil.example" in r.stdout
        # each session's timeline: a mark per command linking to its row
        raw = r.stdout.decode()
        tl = re.findall(r'<div class="timeline">(.*?)</div>', raw)
        assert len(tl) == 2, tl
        marks = re.findall(r'<a class="(\w*)" href="#(s\d+-row-\d+)"', tl[0])
        assert [c for c, _ in marks] == ["allow", "allow", "deny"], marks
        for _, ref in marks:
            assert ('<tr id="%s">' % ref) in raw, ref
        bob = text[text.index("User bob"):]
        assert "uptime" in bob and "s1-html" not in bob, bob
        r = replay(store, "audit", "--html", "--user", "bob")
        assert r.returncode == 0 and b"s1-html" not in r.stdout and b"uptime" in r.stdout, r
        # a session that does not verify is marked, the others not
        path = os.path.join(store, "sessions", "s1-html.est")
        data = bytearray(open(path, "rb").read())
        i = data.index(b"ESG1", 100)
        data[i + 30] ^= 0x01
        open(path, "wb").write(bytes(data))
        r = replay(store, "audit", "--html")
        assert r.returncode == 1, r
        assert b"s1-html" in r.stderr and b"does not verify" in r.stderr, r.stderr
        page, text = parse(r.stdout)
        alice = text[text.index("User alice"):text.index("User bob")]
        bob = text[text.index("User bob"):]
        assert "Verification: FAILED" in alice and "Verification: ok" in bob, text
        r = replay(store, "audit", "--html", "--json")
        assert r.returncode == 2, r
