"""escort-replay screen ID --at SECONDS: read from the nearest snapshot of
its cache (outside the store), it shows the same screen as a straight
replay of every byte through libvterm (--no-cache), at many points of a
session of 14 MiB of mixed output (bulk text, colours, a scroll region, DEC
line drawing, tabs, a cursor saved with DECSC, a window resize; 9 MiB under
ASan: snapshots every 4 MiB, still two of them); a time past
the end is an error naming the session's end; a damaged or foreign cache
file is not used.  Sessions written through the transcript library
(tests/tools/rec-mksession), read by the real escort-replay.  Under ASan
fewer random points are compared."""
import os, random, subprocess, time

from harness.core import SAN, Env, bin_path, tool_path

BULK = b"".join(b"%7d  drwxr-xr-x  2 root root 4096 Jan  1 00:00 /usr/share/doc/pkg-%d\n"
                % (i, i * 7) for i in range(1500))

# many escort-replay runs over one store: minutes under ASan on a busy machine
TIMEOUT = 240
# the session's output: every straight replay (--no-cache) reads it through
# libvterm, a minute of the ASan stage at 14 MiB
SIZE = (9 if SAN else 14) << 20


def esc(b):
    return (b.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\r", b"\\r")
            .replace(b"\n", b"\\n").replace(b"\x1b", b"\\e"))


def mixed_script(seed=7):
    """Lines of a rec-mksession script: SIZE bytes of output in many shapes."""
    rnd = random.Random(seed)
    out = [b"0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24",
           b"0.2\tchannel\t0\taction=shell"]
    t, size, n = 0.5, 0, 0
    pieces = [
        lambda: BULK[:rnd.randrange(1000, len(BULK))].replace(b"\n", b"\r\n"),
        lambda: b"\x1b[1;31mred\x1b[0m \x1b[38;5;120mgreen\x1b[48;2;1;2;3m rgb\x1b[0m\r\n$ ",
        lambda: b"\x1b[2;20r\x1b[20;1H" + b"scrolled in region\r\n" * 30 + b"\x1b[r",
        lambda: b"\x1b(0lqqk\r\nx  x\r\nmqqj\x1b(B\r\n",
        lambda: b"\x1b[H\x1b[2Jcleared\tcol\ttabs\r\n",
        lambda: b"\x1b[5;5Hmoved\x1b[K\x1b[10;1H\x1b[1J",
        lambda: "h\u00e9llo w\u00f6rld \u4e2d\u6587 wide\r\n".encode(),
        lambda: b"half a line, no newline ",
        lambda: b"\x1b[4hinsert\x1b[4l\r\n",
    ]
    while size < SIZE or n <= 900:
        p = rnd.choice(pieces)()
        if n == 400:
            # a cursor saved with DECSC: snapshots stop until a reset
            p = b"\x1b7saved\x1b8" + p
        if n == 700:
            p = b"\x1bc" + p               # RIS: snapshots again
        if n == 900:
            out.append(b"%.3f\tresize\t0\tcols=100\trows=30" % t)
        out.append(b"%.3f\toutput\t0\t%s" % (t, esc(p)))
        size += len(p)
        t += 0.01
        n += 1
    return out, t - 0.01


def make(env):
    key = env.path("k.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    pub = env.path("store-key.pem")
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    store = env.path("store")
    lines, end = mixed_script()
    script = env.path("s.txt")
    with open(script, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    r = subprocess.run([tool_path("rec-mksession"), "--store", store, "--key", key, "--id",
                        "s-big", script], capture_output=True, timeout=120)
    assert r.returncode == 0, r
    os.rename(pub, os.path.join(store, "public-key.pem"))
    return store, end


def replay(env, store, *args):
    e = dict(os.environ, ESCORT_REPLAY_CACHE=env.path("cache"))
    return subprocess.run([bin_path("escort-replay"), "--store", store, *args],
                          capture_output=True, timeout=120, env=e)


def snapshots(path):
    """The number of snapshots a cache file holds (screen_cache.h)."""
    d = open(path, "rb").read()
    assert d[:8] == b"ESCRSCR1", d[:8]
    idlen = int.from_bytes(d[8:10], "big")
    return int.from_bytes(d[10 + idlen + 28:10 + idlen + 32], "big")


def test_screen_at_from_snapshots_equals_straight_replay():
    with Env() as env:
        store, end = make(env)
        assert not os.path.exists(env.path("cache"))
        first = replay(env, store, "screen", "s-big", "--at", "1")
        assert first.returncode == 0, first
        cache = os.listdir(env.path("cache"))
        assert len(cache) == 1 and cache[0].startswith("s-big-"), cache
        assert os.stat(env.path("cache")).st_mode & 0o777 == 0o700
        assert os.stat(env.path("cache", cache[0])).st_mode & 0o777 == 0o600
        assert snapshots(env.path("cache", cache[0])) >= 2
        rnd = random.Random(3)
        points = [0.3, 1.0, end / 2, end - 0.005, end] + [rnd.uniform(0, end) for _ in range(2 if SAN else 7)]
        for at in points:
            a = replay(env, store, "screen", "s-big", "--at", "%.3f" % at)
            b = replay(env, store, "screen", "s-big", "--at", "%.3f" % at, "--no-cache")
            assert a.returncode == 0 and b.returncode == 0, (a, b)
            assert a.stdout == b.stdout, (at, a.stdout, b.stdout)
        # not an empty comparison: the screens differ over time
        assert len({replay(env, store, "screen", "s-big", "--at", "%.3f" % p).stdout
                    for p in points[:4]}) > 2


def test_past_the_end_says_so():
    with Env() as env:
        store, end = make(env)
        r = replay(env, store, "screen", "s-big", "--at", "%.3f" % (end + 5))
        assert r.returncode == 1 and r.stdout == b"", r
        assert b"past the end of the session" in r.stderr, r.stderr
        assert (b"last event is at %.3f s" % end) in r.stderr, r.stderr
        r = replay(env, store, "screen", "s-big", "--at", "%.3f" % (end + 5), "--no-cache")
        assert r.returncode == 1 and b"past the end" in r.stderr, r


def test_a_damaged_or_foreign_cache_is_not_used():
    with Env() as env:
        store, end = make(env)
        at = "%.3f" % (end * 0.9)
        want = replay(env, store, "screen", "s-big", "--at", at, "--no-cache").stdout
        assert replay(env, store, "screen", "s-big", "--at", at).stdout == want
        path = env.path("cache", os.listdir(env.path("cache"))[0])
        # a flipped byte inside a snapshot: the CRC fails, the cache is rebuilt
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0x20
        open(path, "wb").write(bytes(data))
        assert replay(env, store, "screen", "s-big", "--at", at).stdout == want
        assert open(path, "rb").read() != bytes(data)
        # writable by others: ignored and replaced
        os.chmod(path, 0o666)
        mtime = os.stat(path).st_mtime_ns
        time.sleep(0.02)
        assert replay(env, store, "screen", "s-big", "--at", at).stdout == want
        assert os.stat(path).st_mode & 0o777 == 0o600 and os.stat(path).st_mtime_ns != mtime
