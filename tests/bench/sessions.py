"""Many concurrent interactive sessions: N real ssh clients (`-tt`, remote
`cat`, stdin and stdout on pipes) held open at once through one process,
each typing; the memory that process gains per session is read from its
/proc/PID/status (VmRSS)."""
import os, select, signal, subprocess, time


def rss_kib(pid):
    """Resident set of pid in KiB, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _children_map():
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    return children


def wait_no_children(root, timeout=20.0):
    """Waits (bounded) until root has no child processes left: the sessions
    of a previous step have ended on the server side too."""
    deadline = time.monotonic() + timeout
    while _children_map().get(root) and time.monotonic() < deadline:
        time.sleep(0.2)


def tree_pss_kib(root):
    """Proportional set size (KiB) of root and all its descendants, summed:
    shared pages are counted once across the tree.  None when root is gone."""
    children = _children_map()
    total, todo, seen = 0, [root], 0
    while todo and seen < 100000:
        pid = todo.pop()
        seen += 1
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            if pid == root:
                return None
        todo.extend(children.get(pid, []))
    return total


class Client:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = b""

    def fd(self):
        return self.p.stdout.fileno()

    def type(self, b):
        try:
            self.p.stdin.write(b)
            self.p.stdin.flush()
            return True
        except OSError:
            return False

    def pump(self):
        try:
            b = os.read(self.fd(), 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not b:
            return False
        self.buf += b
        return True

    def stop(self):
        """Ends the remote cat (end of line, then end of file on its terminal)."""
        try:
            self.type(b"\n\x04")
            self.p.stdin.close()
        except OSError:
            pass

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.p.stdout.close()


def await_echo(clients, want, timeout):
    """Waits until every client's output holds `want`; returns
    ({client: seconds}, failed list). Bounded by timeout.  Uses poll(2), so
    any number of descriptors is fine."""
    t0 = time.monotonic()
    waiting = {c.fd(): c for c in clients}
    done, failed = {}, []
    for c in clients:
        if want in c.buf:
            done[c] = 0.0
            del waiting[c.fd()]
    poller = select.poll()
    for fd in waiting:
        poller.register(fd, select.POLLIN)
    while waiting:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            break
        for fd, _ in poller.poll(min(left, 1.0) * 1000):
            c = waiting.get(fd)
            if c is None:
                continue
            alive = c.pump()
            if want in c.buf or not alive:
                if want in c.buf:
                    done[c] = time.monotonic() - t0
                else:
                    failed.append(c)
                del waiting[fd]
                poller.unregister(fd)
    failed.extend(waiting.values())
    return done, failed


def echo_rounds(clients, n, tag):
    """Every session types at once, three times; the seconds to each echo."""
    lat = []
    for rnd in range(3):
        key = b"#%s%d#" % (tag, rnd)
        for c in clients:
            c.buf = b""
        for c in clients:
            c.type(key)
        done, failed = await_echo(clients, key, 30)
        lat.extend(done.values())
        if failed:
            raise RuntimeError("%d of %d sessions did not echo within 30 s"
                               % (len(failed), n))
    lat.sort()
    return lat


def hold(argv, n, pid, tree_pid=None, batch=20, log=print, budget=240.0, again=None):
    """Opens n sessions (batch at a time, each proven by an echo), reads the
    RSS of `pid` (and the summed PSS of tree_pid's process tree) before and
    after, then has every session type three times and times the echoes.
    again: None, or a function called with True before three more rounds
    (echo_p50_again, echo_max_again) and with False after them; it returns
    None, or why the rounds cannot be run (again_na).
    Returns a dict of figures; raises RuntimeError when a session cannot be
    opened within the time budget."""
    clients = []
    base = rss_kib(pid)
    tree_base = tree_pss_kib(tree_pid) if tree_pid else None
    t_open = time.monotonic()
    try:
        while len(clients) < n:
            if time.monotonic() - t_open > budget:
                raise RuntimeError("only %d of %d sessions opened in %ds"
                                   % (len(clients), n, budget))
            new = [Client(argv) for _ in range(min(batch, n - len(clients)))]
            clients.extend(new)
            for c in new:
                c.type(b"#@")
            _, failed = await_echo(new, b"#@", 60)
            if failed:
                raise RuntimeError("%d of a batch of %d sessions did not open (at %d open)"
                                   % (len(failed), len(new), len(clients) - len(new)))
            if len(clients) % 100 == 0:
                log("   %d sessions open, pid %d RSS %s KiB" % (len(clients), pid, rss_kib(pid)))
        open_s = time.monotonic() - t_open
        time.sleep(1.0)
        full = rss_kib(pid)
        tree_full = tree_pss_kib(tree_pid) if tree_pid else None
        lat = echo_rounds(clients, n, b"k")
        full2 = rss_kib(pid)
        r = {"base_kib": base, "full_kib": max(full, full2 or 0), "open_s": open_s,
             "echo_p50": lat[len(lat) // 2], "echo_max": lat[-1],
             "responsive": n, "tree_base_kib": tree_base, "tree_full_kib": tree_full}
        if again is not None:
            r["again_na"] = again(True)
            try:
                if r["again_na"] is None:
                    lat = echo_rounds(clients, n, b"w")
                    r["echo_p50_again"], r["echo_max_again"] = lat[len(lat) // 2], lat[-1]
            finally:
                again(False)
        return r
    finally:
        for c in clients:
            c.stop()
        deadline = time.monotonic() + 20
        for c in clients:
            while c.p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            c.kill()
