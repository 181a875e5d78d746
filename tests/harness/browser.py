"""Pages in a real browser: Debian's headless Chromium (package chromium,
from scripts/deps.sh), driven here through its DevTools protocol over
--remote-debugging-pipe, with nothing but the Python standard library; one
browser start for a list of pages, offline.  The pixels of its screenshots:
harness/png.py.

    with Browser(workdir) as browser:     # starts it (the caller goes on)
        ...
        results = browser.open_pages(jobs)
or open_pages(jobs, workdir) for both at once.  JOBS: [{"url":
"file:///...", "steps": [STEP, ...]}, ...], a STEP one of
  {"wait": SELECTOR}              the element is there and visible
  {"until": JS_EXPRESSION}        the expression holds in the page
  {"click": SELECTOR}             a real mouse click on it: at its centre,
                                  else where no other element covers it
  {"text": [NAME, SELECTOR]}      its innerText as texts[NAME]
  {"count": [NAME, SELECTOR]}     how many match, as counts[NAME]
  {"shot": [NAME, SELECTOR, PNG]} a screenshot of it into PNG
The result, per job: {texts, counts, shots, requests (every URL the page
asked for, in order, but data: ones, which Chromium does not report),
blocked (those failed: all but file: and data:), errors (uncaught script
errors and console errors), failed (the step that failed and why, or
None)}.  A step
that fails ends its job; the next job runs, on a fresh page.  A step waits
at most STEP_WAIT seconds (the start of the first page, and each page load,
LOAD_WAIT), the whole run `timeout`; click and text want one match of their
selector, wait and shot take the first.  The viewport is 1200x900 CSS
pixels at scale 1.

The protocol: Chromium reads commands on its fd 3 and writes replies and
events on its fd 4, each message a JSON object followed by a NUL byte.  A
page is a target made at about:blank and attached with a flat session (its
commands carry "sessionId"); before it navigates, Fetch pauses every request
(file: and data: ones are let through, the others failed) and the network
is emulated offline.  The browser runs in a session of its own, with its
profile, HOME and caches in workdir, and its process group is killed by pid
when the Browser is left, pass or fail."""
import base64, fcntl, json, math, os, select, signal, threading, time

CHROMIUM = os.environ.get("ESCORT_CHROMIUM", "/usr/bin/chromium")
STEP_WAIT, LOAD_WAIT, CLOSE_WAIT = 15.0, 30.0, 5.0
VIEWPORT = {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}
# what Chromium may fetch: the page's own file and inline data
LOCAL = ("file:", "data:")
FLAGS = ["--headless=new", "--remote-debugging-pipe",
         # no first tab (its New Tab page is a renderer of its own): the pages
         # are targets made here
         "--no-startup-window",
         # the sandbox needs user namespaces, absent in many containers (and
         # refused to root); the pages are the test's own
         "--no-sandbox",
         "--no-first-run", "--no-default-browser-check", "--disable-sync",
         "--disable-background-networking", "--disable-component-update",
         "--disable-default-apps", "--disable-extensions", "--disable-breakpad",
         "--disable-dev-shm-usage", "--disable-background-timer-throttling",
         "--disable-renderer-backgrounding", "--password-store=basic",
         # no name resolves and no proxy is asked: nothing leaves the machine
         "--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server",
         # screenshots in sRGB as the page's CSS names it, no scrollbars
         "--force-color-profile=srgb", "--hide-scrollbars", "--mute-audio"]


class StepError(Exception):
    """A step (or a page load) did not succeed: its job fails, the run goes on."""


class Chromium:
    """One Chromium process and its DevTools pipe.  call() sends a command
    and waits (bounded) for its reply; the events read meanwhile go to the
    handler registered for their session (pages) and are dropped else."""

    def __init__(self, workdir):
        assert os.path.exists(CHROMIUM), "%s missing: scripts/deps.sh installs chromium" % CHROMIUM
        self.workdir, self.pid, self.next_id = workdir, None, 0
        self.replies, self.waiting, self.sessions, self.buf = {}, set(), {}, b""
        self.log_path = os.path.join(workdir, "chromium.log")
        cmd_r, self.wfd = os.pipe()
        self.rfd, res_w = os.pipe()
        # the child's ends above fd 4, so that moving them to 3 and 4 clobbers neither
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_r, res_w)]
        for fd in (cmd_r, res_w):
            os.close(fd)
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        home = os.path.join(workdir, "chromium-home")
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"))
        argv = [CHROMIUM] + FLAGS + ["--user-data-dir=" + os.path.join(workdir, "chromium-profile")]
        try:
            self.pid = os.posix_spawn(CHROMIUM, argv, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2),
                (os.POSIX_SPAWN_DUP2, ends[0], 3), (os.POSIX_SPAWN_DUP2, ends[1], 4)])
        finally:
            for fd in ends + [log]:
                os.close(fd)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def send(self, method, params=None, session=None):
        """Sends a command without waiting; returns its id."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.wfd, data):]
        except BrokenPipeError:
            raise AssertionError("chromium closed its pipe (exited?); its log:\n" + self.log())
        return self.next_id

    def call(self, method, params=None, session=None, deadline=None):
        """The command's result; StepError if Chromium answered with an error
        or not before deadline (time.monotonic()), AssertionError if it died."""
        i = self.send(method, params, session)
        self.waiting.add(i)
        try:
            self.pump_until(lambda: i in self.replies, deadline, method)
        finally:
            self.waiting.discard(i)
        reply = self.replies.pop(i)
        if "error" in reply:
            raise StepError("%s: %s" % (method, reply["error"].get("message")))
        return reply.get("result", {})

    def pump_until(self, done, deadline, what):
        """Reads and dispatches messages until done() holds; StepError at deadline."""
        start = time.monotonic()
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepError("%s: no answer within %.1f s" % (what, deadline - start))
            self.pump(left)

    def pump(self, wait):
        """Reads what Chromium wrote within wait seconds and dispatches it."""
        if not select.select([self.rfd], [], [], wait)[0]:
            return
        data = os.read(self.rfd, 1 << 20)
        assert data, "chromium closed its pipe (exited?); its log:\n" + self.log()
        self.buf += data
        if b"\0" not in data:
            return
        *msgs, self.buf = self.buf.split(b"\0")
        for m in msgs:
            msg = json.loads(m)
            if "id" in msg:
                if msg["id"] in self.waiting:
                    self.replies[msg["id"]] = msg
            elif msg.get("sessionId") in self.sessions:
                self.sessions[msg["sessionId"]](msg["method"], msg.get("params", {}))

    def kill(self):
        """SIGKILL to the browser's process group (the leader not yet reaped)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self):
        """Asks the browser to close, waits CLOSE_WAIT s for it, then kills its
        process group (by the leader's pid, before the leader is reaped)."""
        if self.pid is None:
            return
        deadline = time.monotonic() + CLOSE_WAIT
        try:
            self.send("Browser.close")
            while time.monotonic() < deadline and not os.waitid(
                    os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                if select.select([self.rfd], [], [], 0.05)[0] and not os.read(self.rfd, 1 << 20):
                    time.sleep(0.05)    # pipe closed: the leader is about to exit
        except (OSError, AssertionError):
            pass
        self.kill()
        os.waitpid(self.pid, 0)
        self.pid = None
        for fd in (self.rfd, self.wfd):
            os.close(fd)


# in the page: waits (polling, at most MS ms) for the first element matching
# SEL and returns, by MODE: "wait" {} once it is visible; "text" its
# innerText once it is there; "shot" its box in the document once visible
# (scrolled into view); "click" a viewport point on it once visible there
# and not covered: its centre, else the uncovered point of its middle row
# nearest to the centre.  {error} when it fails.
FIND_JS = r"""(async (sel, mode, strict, ms) => {
  const t0 = Date.now();
  let why = 'no element matches';
  for (;;) {
    const all = document.querySelectorAll(sel);
    if (strict && all.length > 1)
      return {error: 'the selector matches ' + all.length + ' elements'};
    const e = all[0];
    if (e && mode === 'text')
      return {text: e.innerText};
    if (e) {
      let r = e.getBoundingClientRect();
      why = 'the element is not visible';
      if (r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden') {
        if (mode === 'wait')
          return {};
        if (e.scrollIntoViewIfNeeded) e.scrollIntoViewIfNeeded(true);
        else e.scrollIntoView({block: 'center', inline: 'center'});
        r = e.getBoundingClientRect();
        if (mode === 'shot')
          return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height};
        // the centre, else the point of the middle row nearest to it that
        // is not covered (what a user clicks on a mark half under another)
        const y = r.top + r.height / 2, cx = r.left + r.width / 2;
        const xs = [cx];
        for (let d = 1; d < r.width / 2; d++)
          xs.push(cx - d, cx + d);
        let at = null;
        for (const x of xs) {
          const hit = document.elementFromPoint(x, y);
          if (hit && (hit === e || e.contains(hit)))
            return {x: x, y: y};
          at = at || hit;
        }
        why = 'another element would receive the click: ' +
          (at ? at.outerHTML.slice(0, 100) : 'none');
      }
    }
    if (Date.now() - t0 > ms)
      return {error: why + ' after ' + ms / 1000 + ' s'};
    await new Promise((res) => setTimeout(res, 20));
  }
})"""
# in the page: waits (polling, at most MS ms) until EXPR is true
UNTIL_JS = r"""(async (ms) => {
  const t0 = Date.now();
  for (;;) {
    if (%s)
      return {};
    if (Date.now() - t0 > ms)
      return {error: 'still false after ' + ms / 1000 + ' s'};
    await new Promise((res) => setTimeout(res, 20));
  }
})(%d)"""
# a page's session before it navigates: every request paused (and let
# through or failed), offline, the fixed viewport, its events on
PAGE_SETUP = [("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),
              ("Network.enable", {}),
              ("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                    "downloadThroughput": -1,
                                                    "uploadThroughput": -1}),
              ("Page.enable", {}), ("Page.setLifecycleEventsEnabled", {"enabled": True}),
              ("Runtime.enable", {}),
              ("Emulation.setDeviceMetricsOverride", VIEWPORT)]


class Page:
    """A page: a target made at about:blank, attached with a flat session;
    out is the result of the job it runs, filled by its events and steps."""

    def __init__(self, browser, deadline):
        self.b, self.out, self.session, self.loads, self.crashed = browser, None, None, set(), False
        self.target = browser.call("Target.createTarget", {"url": "about:blank"},
                                   deadline=deadline)["targetId"]
        self.session = browser.call("Target.attachToTarget",
                                    {"targetId": self.target, "flatten": True},
                                    deadline=deadline)["sessionId"]
        browser.sessions[self.session] = self.on_event
        for method, params in PAGE_SETUP:
            self.call(method, params, deadline)

    def call(self, method, params, deadline):
        return self.b.call(method, params, self.session, deadline)

    def close(self):
        self.b.sessions.pop(self.session, None)
        try:
            self.b.call("Target.closeTarget", {"targetId": self.target},
                        deadline=time.monotonic() + CLOSE_WAIT)
        except StepError:
            pass

    def on_event(self, method, params):
        handler = PAGE_EVENTS.get(method)
        if handler:
            handler(self, params)

    def on_paused(self, p):
        url = p["request"]["url"]
        if url.startswith(LOCAL):
            self.b.send("Fetch.continueRequest", {"requestId": p["requestId"]}, self.session)
        else:
            self.out["blocked"].append(url)
            self.b.send("Fetch.failRequest", {"requestId": p["requestId"],
                                              "errorReason": "BlockedByClient"}, self.session)

    def on_request(self, p):
        self.out["requests"].append(p["request"]["url"])

    def on_exception(self, p):
        d = p["exceptionDetails"]
        self.out["errors"].append(d.get("exception", {}).get("description") or d.get("text"))

    def on_console(self, p):
        if p.get("type") == "error":
            self.out["errors"].append(" ".join(
                str(a.get("value", a.get("description", a.get("type")))) for a in p.get("args", [])))

    def on_lifecycle(self, p):
        if p.get("name") == "load":
            self.loads.add(p.get("loaderId"))

    def on_crash(self, p):
        self.crashed = True

    def navigate(self, url, deadline):
        """Opens url and waits for its load event."""
        r = self.call("Page.navigate", {"url": url}, deadline)
        if r.get("errorText"):
            raise StepError("%s: %s" % (url, r["errorText"]))
        self.b.pump_until(lambda: r.get("loaderId") in self.loads or self.crashed,
                          deadline, "the load of " + url)

    def evaluate(self, expression, deadline):
        """The value of expression (a promise awaited); StepError if it threw
        or is {error: WHY}."""
        if self.crashed:
            raise StepError("the page crashed")
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True}, deadline)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise StepError(d.get("exception", {}).get("description") or d.get("text"))
        v = r["result"].get("value")
        if isinstance(v, dict) and "error" in v:
            raise StepError(v["error"])
        return v

    def find(self, sel, mode, strict, deadline):
        return self.evaluate("%s(%s, %s, %s, %d)" % (
            FIND_JS, json.dumps(sel), json.dumps(mode), json.dumps(strict),
            STEP_WAIT * 1000), deadline)


PAGE_EVENTS = {"Fetch.requestPaused": Page.on_paused,
               "Network.requestWillBeSent": Page.on_request,
               "Runtime.exceptionThrown": Page.on_exception,
               "Runtime.consoleAPICalled": Page.on_console,
               "Page.lifecycleEvent": Page.on_lifecycle,
               "Inspector.targetCrashed": Page.on_crash}


def step_wait(page, sel, deadline):
    page.find(sel, "wait", False, deadline)


def step_until(page, expr, deadline):
    page.evaluate(UNTIL_JS % ("(%s)" % expr, STEP_WAIT * 1000), deadline)


# a click: the pointer moves there, the left button goes down and up
MOUSE_CLICK = [("mouseMoved", "none", 0, 0), ("mousePressed", "left", 1, 1),
               ("mouseReleased", "left", 0, 1)]


def step_click(page, sel, deadline):
    at = page.find(sel, "click", True, deadline)
    for kind, button, buttons, clicks in MOUSE_CLICK:
        page.call("Input.dispatchMouseEvent", {"type": kind, "x": at["x"], "y": at["y"],
                                               "button": button, "buttons": buttons,
                                               "clickCount": clicks}, deadline)


def step_text(page, arg, deadline):
    name, sel = arg
    page.out["texts"][name] = page.find(sel, "text", True, deadline)["text"]


def step_count(page, arg, deadline):
    name, sel = arg
    page.out["counts"][name] = page.evaluate(
        "document.querySelectorAll(%s).length" % json.dumps(sel), deadline)


def step_shot(page, arg, deadline):
    name, sel, path = arg
    r = page.find(sel, "shot", False, deadline)
    x, y = math.floor(r["x"]), math.floor(r["y"])
    clip = {"x": x, "y": y, "width": math.ceil(r["x"] + r["w"]) - x,
            "height": math.ceil(r["y"] + r["h"]) - y, "scale": 1}
    png = page.call("Page.captureScreenshot", {"format": "png", "clip": clip}, deadline)
    with open(path, "wb") as f:
        f.write(base64.b64decode(png["data"]))
    page.out["shots"][name] = path


STEPS = {"wait": step_wait, "until": step_until, "click": step_click,
         "text": step_text, "count": step_count, "shot": step_shot}


def run_job(browser, page, job, end):
    """Runs job on page (a new one when None); returns (its result, the page
    for the next job: None after a failure, so that the next one starts on
    a fresh page).  StepError never escapes."""
    out = {"texts": {}, "counts": {}, "shots": {}, "requests": [], "blocked": [],
           "errors": [], "failed": None}
    step = None
    try:
        page = page or Page(browser, min(time.monotonic() + LOAD_WAIT, end))
        page.out = out
        page.navigate(job["url"], min(time.monotonic() + LOAD_WAIT, end))
        for step in job["steps"]:
            (kind, arg), = step.items()
            if kind not in STEPS:
                raise StepError("unknown step")
            # the page's own wait ends after STEP_WAIT; the reply may take a little longer
            STEPS[kind](page, arg, min(time.monotonic() + STEP_WAIT + 5, end))
        return out, page
    except StepError as e:
        out["failed"] = "%s: %s" % (json.dumps(step) if step else "the page", e)
        if page:
            page.close()
        return out, None


class Browser:
    """Chromium, started at once, its first page made in a thread of its
    own meanwhile (a browser and a renderer take seconds to start: the
    caller records its session in that time); open_pages() runs jobs in it.
    A context manager: on exit the thread is joined (bounded: the page's
    commands have their deadline) and the browser closed."""

    def __init__(self, workdir):
        self.chromium, self.page, self.error = Chromium(workdir), None, None
        self.thread = threading.Thread(target=self.first_page, daemon=True)
        self.thread.start()

    def first_page(self):
        try:
            self.page = Page(self.chromium, time.monotonic() + LOAD_WAIT)
        except (StepError, AssertionError) as e:
            self.error = e   # StepError: the first job tries again; else reported there

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.thread.is_alive():
            self.chromium.kill()    # left early (the test failed): the pipe's end stops the thread
        self.thread.join(LOAD_WAIT + CLOSE_WAIT)     # its deadline is LOAD_WAIT
        self.chromium.close()

    def open_pages(self, jobs, timeout=120):
        """Runs jobs (see the module's comment) one after the other, in one
        page while they succeed, in at most timeout seconds; returns their
        results, a dict per job."""
        end = time.monotonic() + timeout
        self.thread.join(LOAD_WAIT + CLOSE_WAIT)
        if isinstance(self.error, AssertionError):
            raise self.error
        results = []
        for job in jobs:
            out, self.page = run_job(self.chromium, self.page, job, end)
            results.append(out)
        return results


def open_pages(jobs, workdir, timeout=120):
    """Browser(workdir).open_pages(jobs, timeout), the browser closed after."""
    with Browser(workdir) as browser:
        return browser.open_pages(jobs, timeout)
