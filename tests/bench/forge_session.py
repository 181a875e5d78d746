#!/usr/bin/env python3
"""Forges one long interactive session through the transcript library
(tests/tools/rec-mksession): a shell on an 80x24 pty whose output is SIZE
bytes of real terminal text (DATA, repeated as needed, LF made CR LF), in
CHUNK-byte OUTPUT events spread evenly over SECONDS, with a typed command
(INPUT, echo, DECISION) and a screen clear every COMMAND_EVERY bytes, and a
signed checkpoint every SEAL_EVERY seconds of session time (default 1: the
recorder signs one at every sync, each second with `Fsync interval 1000`,
while data flows; 0: none but the close's, a file no recorder writes).  For
the replay benchmarks (screen --at, play) of a session far larger than a
test would record through the proxy.

    forge_session.py --tool rec-mksession --store DIR --key KEY.pem --id ID
                     --data FILE [--size BYTES] [--seconds S] [--seal-every S]

Prints the tool's output (the final chain head).  Exit status: the tool's."""
import argparse, subprocess, sys

CHUNK = 32768
COMMAND_EVERY = 64 << 20


def esc(b):
    """b as rec-mksession wants bytes: backslash, tab and line ends escaped."""
    return (b.replace(b"\\", b"\\\\").replace(b"\t", b"\\t")
            .replace(b"\r", b"\\r").replace(b"\n", b"\\r\\n"))


def lines(data, size, seconds):
    """The script, as bytes lines."""
    yield b"0.1\tchannel\t0\taction=pty\tterm=xterm\tcols=80\trows=24"
    yield b"0.2\tchannel\t0\taction=shell"
    yield b"0.2\tdecision\t0\tverdict=allow\tcommand=(shell)\trule=ops"
    done, pos, n = 0, 0, 0
    per_byte = seconds / size
    while done < size:
        t = 0.5 + done * per_byte
        if done % COMMAND_EVERY == 0:
            n += 1
            cmd = b"cat part%d.log" % n
            yield b"%.6f\toutput\t0\t\\e[H\\e[2J$ " % t
            yield b"%.6f\tinput\t0\t%s\\r" % (t, cmd)
            yield b"%.6f\toutput\t0\t%s\\r\\n" % (t, cmd)
            yield (b"%.6f\tdecision\t0\tverdict=allow\tcommand=%s\trule=ops\t"
                   b"cmd_seq=%d\tshell_mode=observe" % (t, cmd, n))
        k = min(CHUNK, size - done)
        if pos + k > len(data):
            pos = 0
        yield b"%.6f\toutput\t0\t%s" % (t, esc(data[pos:pos + k]))
        pos += k
        done += k
    yield b"%.6f\toutput\t0\t$ " % (0.5 + seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--size", type=int, default=1 << 30)
    ap.add_argument("--seconds", type=float, default=1000.0)
    ap.add_argument("--seal-every", type=float, default=1.0)
    a = ap.parse_args()
    with open(a.data, "rb") as f:
        data = f.read(128 << 20)
    if not data:
        sys.exit("forge_session.py: %s is empty" % a.data)
    cmd = [a.tool, "--store", a.store, "--key", a.key, "--id", a.id]
    if a.seal_every > 0:
        cmd += ["--seal-every", "%g" % a.seal_every]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    try:
        for ln in lines(data, a.size, a.seconds):
            p.stdin.write(ln + b"\n")
        p.stdin.close()
    except BrokenPipeError:
        pass
    return p.wait()


if __name__ == "__main__":
    sys.exit(main())
