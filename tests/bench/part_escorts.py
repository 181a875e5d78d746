"""Supervised sessions watched by escorts: N technician sessions (real ssh
clients under ptys of ours, 80x24, `-tt cat` on target t1-escorted, whose
rule names `supervised-by user:escort`) through one proxy, each watched by
two `ssh -tt escort@proxy join ID` (real clients under 80x25 ptys, their
output drained all the time by a thread polling every watcher's terminal),
and the technicians' keystroke round trip measured as keystroke.py does
(one byte written, its echo timed, then erased).

A sample of the watched sessions and a few more sessions of the same rule
that nobody watches are driven alternately, one key at a time, first before
the watchers join and then while they watch: the unwatched sessions typed
beside the watched ones are the baseline (same proxy, same load, same
moment); two sessions through the proxy to t1 (a rule without escorts: no
screen model) and two straight to the target sshd, typed in the same
rotation, show what supervision itself and the machine alone give.
Every client is stopped by pid; every wait is bounded."""
import fcntl, json, os, select, signal, struct, subprocess, sys, termios, threading, time

import escort_stack
import keystroke as ks
from harness.core import ssh_base
from part_observe import proxy_cpu

UNWATCHED = 10          # sessions of the same rule that nobody joins
PLAIN = 2               # sessions through the proxy to t1 (no escort rule)
DIRECT = 2              # sessions straight to the target sshd
SAMPLE = 20             # watched sessions typed in (the keys go round them)
OPEN_BATCH = 20
JOIN_BATCH = 20


def _pty_argv(argv, rows, cols):
    """(master fd, Popen) of argv on a fresh pty of rows x cols."""
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True)
    os.close(slave)
    return master, p


def _kill(p):
    """Stops p's process group by pid: SIGTERM, then SIGKILL (bounded)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue


class Tech(ks.EchoSession):
    """A technician's ssh client on an 80x24 pty (keystroke.EchoSession's
    round trip, erase and close)."""

    def __init__(self, argv):
        self.master, self.p = _pty_argv(argv, 24, 80)
        self.buf = b""

    def raw(self):
        """True once ssh put its terminal in raw mode (no local echo): from
        then on an echo can only come from the far end."""
        return not (termios.tcgetattr(self.master)[3] & termios.ECHO)

    def drain(self):
        """Reads whatever is waiting, without blocking."""
        while select.select([self.master], [], [], 0)[0]:
            try:
                b = os.read(self.master, 65536)
            except OSError:
                return
            if not b:
                return
            self.buf += b


class Watchers:
    """Escort clients on ptys, drained by one thread (poll over all their
    masters) that counts the bytes each received.  stop() ends the thread
    (bounded) and the clients by pid."""

    def __init__(self):
        self.items = []                 # (master, Popen)
        self.bytes = {}                 # master -> bytes read
        self.heads = {}                 # master -> first 4 KiB read
        self.lock = threading.Lock()
        self._quit = False
        self._rd, self._wr = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def add(self, argv):
        m, p = _pty_argv(argv, 25, 80)
        with self.lock:
            self.items.append((m, p))
            self.bytes[m], self.heads[m] = 0, b""
        os.write(self._wr, b"x")        # the poll set changed
        return m

    def _run(self):
        poller, known = select.poll(), set()
        poller.register(self._rd, select.POLLIN)
        while not self._quit:
            with self.lock:
                fds = [m for m, _ in self.items if m not in known]
            for m in fds:
                poller.register(m, select.POLLIN)
                known.add(m)
            for fd, ev in poller.poll(1000):
                if fd == self._rd:
                    os.read(self._rd, 4096)
                    continue
                try:
                    b = os.read(fd, 65536)
                except OSError:
                    b = b""
                if not b:                       # the client ended
                    poller.unregister(fd)
                    continue
                self.bytes[fd] += len(b)
                if len(self.heads[fd]) < 4096:
                    self.heads[fd] += b[:4096]

    def seen(self, m, needle):
        return needle in self.heads[m]

    def alive(self):
        return sum(1 for _, p in self.items if p.poll() is None)

    def total(self):
        return sum(self.bytes.values())

    def stop(self):
        """Each escort leaves with q (the view's key), bounded; a client
        still running after that is stopped by pid."""
        for m, p in self.items:
            if p.poll() is None:
                try:
                    os.write(m, b"q")
                except OSError:
                    pass
        deadline = time.monotonic() + 15
        for m, p in self.items:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(p)
        self._quit = True
        os.write(self._wr, b"x")
        self.thread.join(5)
        for m, _ in self.items:
            os.close(m)
        os.close(self._rd)
        os.close(self._wr)


def _open_techs(stack, n, log, argv=None, budget=240.0):
    """n technician sessions (argv, by default `-tt cat` through the proxy
    to t1-escorted), OPEN_BATCH at a time, each proven by an echo that came
    from the target (typed once ssh's terminal is raw)."""
    argv = argv or stack.ssh(["-tt"], "cat", user="%s:%s" % (escort_stack.USER,
                                                             escort_stack.ESCORTED_TARGET))
    techs, t0 = [], time.monotonic()
    try:
        while len(techs) < n:
            new = [Tech(argv) for _ in range(min(OPEN_BATCH, n - len(techs)))]
            techs.extend(new)
            for t in new:
                while not t.raw() and t.p.poll() is None:
                    if time.monotonic() - t0 > budget:
                        raise RuntimeError("ssh never set its terminal raw: %s" % t.tail())
                    time.sleep(0.01)
                os.write(t.master, b"#@")
            for t in new:
                if not t._read_until(b"#@", time.monotonic() + 60):
                    raise RuntimeError("a technician session did not open (at %d open): %s"
                                       % (len(techs) - len(new), t.tail()))
                t.buf = b""
            if time.monotonic() - t0 > budget:
                raise RuntimeError("only %d of %d sessions opened in %ds" % (len(techs), n, budget))
        return techs, time.monotonic() - t0
    except BaseException:
        for t in techs:
            t.close()
        raise


def _session_ids(stack, want, timeout=30.0):
    """The ids of bench's live sessions on t1-escorted, from the escort's
    `sessions --json`, oldest first; waits (bounded) until want are listed."""
    argv = stack.ssh(["-T"], "sessions", "--json", user=escort_stack.ESCORT,
                     key=stack.escort_key)
    deadline, rows = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("escort's sessions --json failed (exit %d): %s" % (
                r.returncode, r.stderr.decode("utf-8", "replace").strip()[-200:]))
        rows = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
        rows = [x for x in rows if x.get("user") == escort_stack.USER
                and x.get("target") == escort_stack.ESCORTED_TARGET]
        if len(rows) >= want:
            return [x["id"] for x in rows]
        time.sleep(0.5)
    raise RuntimeError("the escort sees %d of %d sessions" % (len(rows), want))


def _keys(groups, n, gap=0.003):
    """n keystrokes in each group (dict name -> sessions), one key at a time,
    alternating between the groups and going round each group's sessions.
    Returns {name: [seconds...]}."""
    out = {name: [] for name in groups}
    letters = b"abcdefghijklmnopqrstuvwxyz"
    for i in range(n):
        ch = letters[i % 26:i % 26 + 1]
        for name, sess in groups.items():
            s = sess[i % len(sess)]
            s.drain()
            dt = s.roundtrip(ch)
            if dt is None:
                raise RuntimeError("%s: no echo of keystroke %d: %s" % (name, i, s.tail()))
            out[name].append(dt)
            if not s.erase():
                raise RuntimeError("%s: no echo of erasing keystroke %d: %s"
                                   % (name, i, s.tail()))
            time.sleep(gap)
    return out


def _await_joined(techs, watchers, marks, timeout=120.0):
    """Waits until every watcher drew its status line and every watched
    technician was told of both joins; returns the number of watchers that
    did not."""
    deadline = time.monotonic() + timeout
    status = b"%s on %s" % (escort_stack.USER.encode(), escort_stack.ESCORTED_TARGET.encode())
    while time.monotonic() < deadline:
        for t in techs:
            t.drain()
        missing = [m for m in marks if not watchers.seen(m, status)]
        told = sum(1 for t in techs if t.buf.count(b"joined and watches") >= 2)
        if not missing and told == len(techs):
            return 0
        time.sleep(0.2)
    return len(missing) + 2 * (len(techs) - told)


# (group, figure prefix) of each phase; the first is the watched sample.
DURING = (("watched", "keystroke_supervised"), ("unwatched", "keystroke_unwatched"),
          ("plain", "keystroke_unsupervised"), ("direct", "keystroke_escorts_direct"))
BEFORE = (("watched", "keystroke_before_join"), ("unwatched", "keystroke_before_join_unwatched"),
          ("plain", "keystroke_before_join_unsupervised"),
          ("direct", "keystroke_before_join_direct"))

NAMES = ("keystroke_supervised_p50", "keystroke_supervised_p99",
         "keystroke_unwatched_p99", "keystroke_supervised_vs_unwatched_p99")


def escorts(ctx, stack, n, nkeys):
    rep, log = ctx.rep, ctx.log
    if not stack.ok:
        for nm in NAMES:
            rep.na(nm, stack.reason)
        return
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)       # the drain thread must not hold the timer's thread
    techs, watchers = [], None
    try:
        # The watched sessions first: their ids are then all the escort
        # lists (the unwatched ones open after the ids are read).
        watched, open_s = _open_techs(stack, n, log)
        techs = list(watched)
        log("   %d technician sessions open in %.1f s" % (n, open_s))
        ids = _session_ids(stack, n)
        if len(ids) != n:
            raise RuntimeError("the escort lists %d sessions, %d are open" % (len(ids), n))
        unwatched, _ = _open_techs(stack, UNWATCHED, log)
        techs.extend(unwatched)
        plain, _ = _open_techs(stack, PLAIN, log, argv=stack.ssh(["-tt"], "cat"))
        techs.extend(plain)
        direct, _ = _open_techs(stack, DIRECT, log, argv=ssh_base(
            ctx.sshd.port, ctx.key, ctx.sshd.login, extra=["-tt"]) + ["cat"])
        techs.extend(direct)
        sample = watched[:SAMPLE]
        groups = {"watched": sample, "unwatched": unwatched, "plain": plain,
                  "direct": direct}
        log("   %d keys in %d sessions to be watched, %d that will not be, %d unsupervised"
            " and %d direct, alternately" % (nkeys, len(sample), len(unwatched), len(plain),
                                             len(direct)))
        cpu0, w0 = proxy_cpu(stack.pid()), time.monotonic()
        before = _keys(groups, nkeys)
        wall_before = time.monotonic() - w0
        cpu_before = proxy_cpu(stack.pid()) - cpu0

        watchers = Watchers()
        join = stack.ssh(["-tt"], user=escort_stack.ESCORT, key=stack.escort_key)
        marks, t0 = [], time.monotonic()
        for i, sid in enumerate(ids[:n]):
            marks.append(watchers.add(join + ["join", sid]))
            marks.append(watchers.add(join + ["join", sid]))
            if (i + 1) % JOIN_BATCH == 0:
                time.sleep(0.5)
        bad = _await_joined(techs[:n], watchers, marks)
        # a join that went to an unwatched session shows there
        for t in unwatched:
            t.drain()
            if b"joined and watches" in t.buf:
                bad += 1
        if bad:
            raise RuntimeError("%d joins not seen (status line or the technician's notice); "
                               "%d of %d watchers alive" % (bad, watchers.alive(), 2 * n))
        join_s = time.monotonic() - t0
        log("   %d watchers joined in %.1f s" % (2 * n, join_s))
        for t in techs:
            t.drain()
            t.buf = b""
        time.sleep(1.0)
        bytes0, cpu0, w0 = watchers.total(), proxy_cpu(stack.pid()), time.monotonic()
        during = _keys(groups, nkeys)
        wall = time.monotonic() - w0
        cpu = proxy_cpu(stack.pid()) - cpu0
        got = watchers.total() - bytes0
        alive = watchers.alive()
    finally:
        if watchers:
            watchers.stop()
        for t in techs:
            t.close()
        sys.setswitchinterval(old_switch)

    us = 1e6
    pc = ks.percentile
    rep.add("escorts_sessions", n, "sessions")
    rep.add("escorts_watchers", alive, "watchers")
    rep.add("escorts_join_time", join_s, "s")
    for phase, res, names in (("during", during, DURING), ("before", before, BEFORE)):
        for group, name in names:
            rep.add(name + "_p50", pc(res[group], 50) * us, "us")
            rep.add(name + "_p99", pc(res[group], 99) * us, "us")
        added = names[0][1] + "_added"
        for q in (50, 99):
            rep.add("%s_p%d" % (added, q), (pc(res["watched"], q) - pc(res["direct"], q)) * us,
                    "us")
    rep.add("keystroke_supervised_vs_unwatched_p99",
            pc(during["watched"], 99) / pc(during["unwatched"], 99), "x")
    rep.add("keystroke_supervised_vs_before_join_p99",
            pc(during["watched"], 99) / pc(before["watched"], 99), "x")
    rep.add("escorts_proxy_cpu", cpu / wall, "cores")
    rep.add("escorts_proxy_cpu_before_join", cpu_before / wall_before, "cores")
    rep.add("escorts_watcher_bytes", got, "bytes")
