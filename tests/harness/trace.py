"""A tracing shell for the test target: what exactly reached the target's sshd,
and what bash then ran.

Enabled by `env.sshd(trace=True)` (or `ProxyWorld(env, trace=True)`): the test
sshd gets `ForceCommand DIR/trace/tracer.sh`.  For every session the tracer

  1. appends one line "PID BASE64\\n" to DIR/trace/commands.log, where BASE64
     is the exact bytes of $SSH_ORIGINAL_COMMAND (the command line the target
     received) and PID the tracer's pid, in one append;
  2. execs bash -c "$SSH_ORIGINAL_COMMAND" (bash -l for a shell session, the
     sftp server for an sftp subsystem), with xtrace written to
     DIR/trace/xtrace.PID: one record per simple command bash executed, each
     starting with \\x01 repeated once per level of nesting (1 = the line
     itself or a pipeline element, 2 = inside $(...) or eval ...) and a space,
     then the words as bash quotes them for xtrace.

`Tracer.records()` returns (pid, command bytes) in arrival order;
`Tracer.executed(pid)` the parsed xtrace of that session as
[(level, [word bytes...]), ...].  Off by default: without it the target runs
commands as a stock sshd does.
"""
import base64, os, re

TRACER_SH = r"""#!/bin/sh
# Test tracer (tests/harness/trace.py): records the command that reached
# this sshd, then runs it with bash, tracing every simple command.
d='%(dir)s'
line=$(printf '%%s' "$SSH_ORIGINAL_COMMAND" | base64 -w0)
printf '%%s %%s\n' "$$" "$line" >> "$d/commands.log"
case "$SSH_ORIGINAL_COMMAND" in
'') exec bash -l ;;
internal-sftp) exec /usr/lib/openssh/sftp-server ;;
esac
exec 7>>"$d/xtrace.$$"
# bash run by sshd at SHLVL 0 reads ~/.bashrc instead of $BASH_ENV: one
# level up, and tracer.rc reads the start-up files itself.
SHLVL=1 BASH_ENV="$d/tracer.rc" exec bash -c "$SSH_ORIGINAL_COMMAND"
"""

TRACER_RC = r"""# Sourced by the non-interactive bash the tracer starts (BASH_ENV).
unset BASH_ENV
SHLVL=1
[ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -r ~/.bashrc ] && . ~/.bashrc
BASH_XTRACEFD=7
PS4=$'\001 '
set -x
"""


class Tracer:
    def __init__(self, env):
        self.dir = os.path.dirname(env.path("trace", "x"))
        self.script = os.path.join(self.dir, "tracer.sh")
        with open(self.script, "w") as f:
            f.write(TRACER_SH % {"dir": self.dir})
        os.chmod(self.script, 0o755)
        with open(os.path.join(self.dir, "tracer.rc"), "w") as f:
            f.write(TRACER_RC)
        self.log = os.path.join(self.dir, "commands.log")

    def sshd_config(self):
        return "ForceCommand %s\n" % self.script

    def records(self):
        """[(pid, command bytes)] of every session so far, in arrival order."""
        try:
            with open(self.log, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            return []
        out = []
        for l in lines:
            if l:
                pid, _, b64 = l.partition(b" ")
                out.append((int(pid), base64.b64decode(b64)))
        return out

    def xtrace_raw(self, pid):
        try:
            with open(os.path.join(self.dir, "xtrace.%d" % pid), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def executed(self, pid):
        """What bash ran in session pid: [(level, [words as bytes])]."""
        raw = self.xtrace_raw(pid)
        out = []
        for m in re.finditer(rb"(?:^|\n)(\x01+) ((?:(?!\n\x01).)*)", raw, re.S):
            body = m.group(2)
            if body.endswith(b"\n"):
                body = body[:-1]
            out.append((len(m.group(1)), xtrace_words(body)))
        return out


_ANSI = {ord("a"): 7, ord("b"): 8, ord("e"): 27, ord("E"): 27, ord("f"): 12, ord("n"): 10,
         ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("\\"): 92, ord("'"): 39, ord('"'): 34,
         ord("?"): 63}


def xtrace_words(b):
    """Splits one xtrace record into words, undoing bash's xtrace quoting
    ('...', '\\'' and $'...').  Returns [bytes]."""
    words, cur, have, i, n = [], bytearray(), False, 0, len(b)
    while i < n:
        c = b[i]
        if c == 0x20:
            if have:
                words.append(bytes(cur))
            cur, have = bytearray(), False
            i += 1
        elif c == 0x27:  # '...'
            j = b.index(b"'", i + 1)
            cur += b[i + 1:j]
            have, i = True, j + 1
        elif c == 0x5c and i + 1 < n:  # \x
            cur.append(b[i + 1])
            have, i = True, i + 2
        elif b[i:i + 2] == b"$'":
            i += 2
            while i < n and b[i] != 0x27:
                if b[i] == 0x5c and i + 1 < n:
                    e = b[i + 1]
                    if e in _ANSI:
                        cur.append(_ANSI[e])
                        i += 2
                    elif e == ord("x"):
                        m = re.match(rb"[0-9a-fA-F]{1,2}", b[i + 2:])
                        cur.append(int(m.group(0), 16))
                        i += 2 + len(m.group(0))
                    elif 0x30 <= e <= 0x37:
                        m = re.match(rb"[0-7]{1,3}", b[i + 1:])
                        cur.append(int(m.group(0), 8) & 0xff)
                        i += 1 + len(m.group(0))
                    else:
                        cur += b[i:i + 2]
                        i += 2
                else:
                    cur.append(b[i])
                    i += 1
            have, i = True, i + 1
        else:
            cur.append(c)
            have, i = True, i + 1
    if have:
        words.append(bytes(cur))
    return words
