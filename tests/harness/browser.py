"""Pages in a real browser: Debian's headless Chromium driven by
playwright-core (tests/harness/browser.cjs; both installed by
scripts/deps.sh), offline, one browser start for a list of pages; and the
pixels of its screenshots (PNG decoded here, with zlib)."""
import json, os, shutil, signal, struct, subprocess, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYWRIGHT = os.environ.get("ESCORT_PLAYWRIGHT", "/usr/local/lib/escort-tests/playwright-core")
CHROMIUM = os.environ.get("ESCORT_CHROMIUM", "/usr/bin/chromium")


def open_pages(jobs, workdir, timeout=120):
    """Runs jobs (see browser.cjs) in one Chromium; returns its results, one
    dict per job.  The browser's process group is killed if it overstays."""
    for what, path in (("node", shutil.which("node")), ("chromium", CHROMIUM),
                       ("playwright-core", os.path.join(PLAYWRIGHT, "package.json"))):
        assert path and os.path.exists(path), "%s missing: scripts/deps.sh installs it" % what
    jp, op = os.path.join(workdir, "browser-jobs.json"), os.path.join(workdir, "browser-out.json")
    with open(jp, "w") as f:
        json.dump(jobs, f)
    env = dict(os.environ, ESCORT_PLAYWRIGHT=PLAYWRIGHT, ESCORT_CHROMIUM=CHROMIUM,
               HOME=workdir)
    p = subprocess.Popen(["node", os.path.join(HERE, "browser.cjs"), jp, op], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == 0, out.decode("utf-8", "replace")[-3000:]
    with open(op) as f:
        return json.load(f)


def png_pixels(path):
    """(width, height, rows): rows a list of bytes, 4 bytes (RGBA) or 3
    (RGB) a pixel; 8-bit, not interlaced, as Chromium writes them."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    i, idat = 8, b""
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype)
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytes(w * bpp)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def colour_counts(path):
    """{(r, g, b): pixels} of a screenshot."""
    w, h, rows, bpp = png_pixels(path)
    counts = {}
    for row in rows:
        for x in range(0, w * bpp, bpp):
            k = row[x:x + 3]
            counts[k] = counts.get(k, 0) + 1
    return counts
