"""Benchmark results: every figure is printed at once as a machine-readable
line `bench: NAME VALUE UNIT` (or `bench: NAME n/a (REASON)`), and kept for
the closing table.  Figures from bench programs are passed through as they
are."""
import re, sys

LINE = re.compile(r"^bench:\s+(\S+)\s+(\S+)(?:\s+(.*))?$")


class Report:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.rows = []          # (name, value, unit) in the order measured
        self.names = set()
        self.exact = {}         # name -> the unrounded number, when there is one
        self.failed = []        # parts the suite owns that could not run

    def add(self, name, value, unit, note=""):
        """Records a figure. Floats are rounded for reading (ratios to 4 places);
        goals are checked against the unrounded value."""
        if isinstance(value, (int, float)):
            self.exact[name] = float(value)
        if isinstance(value, float):
            if unit in ("x", "ratio"):
                value = "%.4f" % value
            else:
                value = ("%.3f" if abs(value) < 10 else "%.1f") % value
        text = ("%s %s" % (value, unit)).strip()
        self._emit(name, text, note)

    def na(self, name, reason):
        """Records that a figure could not be measured, and why."""
        self._emit(name, "n/a (%s)" % reason.strip().replace("\n", " ")[:200], "")

    def fail(self, name, reason):
        """Records that a part the suite owns (its programs are built by
        `make bench`) could not run: printed as FAILED, and the run fails."""
        self.failed.append(name)
        self._emit(name, "FAILED (%s)" % reason.strip().replace("\n", " ")[:200], "")

    def passthrough(self, text, prefix=""):
        """Takes `bench:` lines printed by a bench program; returns how many."""
        n = 0
        for line in text.splitlines():
            m = LINE.match(line.strip())
            if not m:
                continue
            name = prefix + m.group(1)
            rest = m.group(2) + ((" " + m.group(3)) if m.group(3) else "")
            if m.group(2) == "FAILED":
                self.failed.append(name)
            self._emit(name, rest, "")
            n += 1
        return n

    def has(self, name):
        return name in self.names

    def number(self, name):
        """The unrounded value of figure name when this run measured it as a
        number, else the number at the start of its text, else None."""
        if name in self.exact:
            return self.exact[name]
        t = self.value(name)
        try:
            return float(t.split()[0]) if t and not t.startswith("n/a") else None
        except ValueError:
            return None

    def value(self, name):
        """The text of the last figure called name ("12.5 MB/s", "n/a (...)"), or None."""
        for n, text, _ in reversed(self.rows):
            if n == name:
                return text
        return None

    def _emit(self, name, text, note):
        self.rows.append((name, text, note))
        self.names.add(name)
        print("bench: %s %s" % (name, text), file=self.out, flush=True)

    def section(self, title):
        print("== %s" % title, file=self.out, flush=True)

    def table(self):
        """The closing table: one row per figure, in the order measured."""
        w = max([len(r[0]) for r in self.rows] + [10])
        print("", file=self.out)
        print("%-*s  %s" % (w, "figure", "value"), file=self.out)
        print("%s  %s" % ("-" * w, "-" * 40), file=self.out)
        for name, text, note in self.rows:
            print("%-*s  %s%s" % (w, name, text, ("   " + note) if note else ""), file=self.out)
        print("", file=self.out, flush=True)
