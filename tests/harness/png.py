"""The pixels of a PNG file as Chromium writes its screenshots (8-bit RGB
or RGBA, not interlaced), decoded with zlib alone, and their colours
counted: for tests that check what a page drew (harness/browser.py)."""
import collections, struct, zlib


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
        assert ft <= 4, (path, y, ft)
        if ft:
            PNG_UNFILTER[ft](line, prev, bpp)
        rows.append(bytes(line))
        prev = line
    return w, h, rows, bpp


def png_sub(line, prev, bpp):
    for x in range(bpp, len(line)):
        line[x] = (line[x] + line[x - bpp]) & 255


def png_up(line, prev, bpp):
    """Bytewise sums mod 256 of the two rows as whole integers: the low 7
    bits of each byte add without reaching the next byte, the top bit is
    the carry into it XOR the two top bits."""
    n = len(line)
    a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
    low, top = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
    line[:] = (((a & low) + (b & low)) ^ ((a ^ b) & top)).to_bytes(n, "big")


def png_average(line, prev, bpp):
    for x in range(len(line)):
        line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255


def png_paeth(line, prev, bpp):
    for x in range(bpp):      # a and c are 0: b is the nearest
        line[x] = (line[x] + prev[x]) & 255
    for x in range(bpp, len(line)):
        a, b, c = line[x - bpp], prev[x], prev[x - bpp]
        pa, pb, pc = b - c, a - c, a + b - c - c
        pa, pb, pc = pa if pa >= 0 else -pa, pb if pb >= 0 else -pb, pc if pc >= 0 else -pc
        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255


# the PNG row filters by their type (0, none, leaves the row as it is)
PNG_UNFILTER = {1: png_sub, 2: png_up, 3: png_average, 4: png_paeth}


def colour_counts(path):
    """{(r, g, b) as bytes: pixels} of a screenshot."""
    w, h, rows, bpp = png_pixels(path)
    counts = collections.Counter()
    for row in rows:
        counts.update(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
    return {bytes(k): n for k, n in counts.items()}
