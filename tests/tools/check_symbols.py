#!/usr/bin/env python3
"""check_symbols: each library exports only its public names.

After sudo's plugins/sudoers/regress/check_symbols.  For every archive
BUILD/libescort-NAME.a the list of names it may export is NAME.sym in a
top-level folder of the tree (policy/policy.sym for libescort-policy.a).
A list file holds one name per line; '#' starts a comment; a line
"# internal: PREFIX" names a prefix of the library's internal names (names
shared by the library's files but not its API, such as pol__), which are
exported by any static archive and so allowed without being listed.  A
line "# forbidden: NAME..." names functions the library must not call (a
NAME ending in '*' stands for every name it starts): the transcript-format
library forbids the socket calls, so it stays a library of files only.

usage: check_symbols.py BUILD        check every BUILD/libescort-*.a
       check_symbols.py --self-test  show on a small archive that the check
                                     fails where it must (needs cc and ar)

Every global name that `nm -g --defined-only` finds in an archive must be
listed or carry an internal prefix; every listed name must be exported (a
stale list hides a name that comes back unprefixed); no name that `nm -u`
finds used by one of its objects may be forbidden.  Prints one line per
problem, naming the library, the name, the object that defines (or uses) it
and the list file, then "check_symbols: N libraries, N problems".  Exit 0
when there is no problem, 1 when there is one, 2 on a usage error or when nm
fails.
"""
import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Names the toolchain adds to instrumented objects (SAN=1 builds).
TOOLCHAIN_PREFIXES = ("__odr_asan_gen_", "__asan_", "__ubsan_", "__sancov_")


def read_list(path):
    """Returns (names, internal prefixes, forbidden names) of a .sym file."""
    names, prefixes, forbidden = {}, [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            text = line.strip()
            if text.startswith("#"):
                body = text[1:].strip()
                if body.startswith("internal:"):
                    prefixes += body[len("internal:"):].split()
                elif body.startswith("forbidden:"):
                    forbidden += body[len("forbidden:"):].split()
                continue
            if text:
                if text in names:
                    raise ValueError(f"{path}:{lineno}: '{text}' listed twice")
                names[text] = lineno
    return names, prefixes, forbidden


def is_forbidden(name, forbidden):
    """The forbidden entry that matches name, or None."""
    for f in forbidden:
        if name == f or (f.endswith("*") and name.startswith(f[:-1])):
            return f
    return None


def nm_lines(archive, flags):
    """Yields (object, fields of a line) of `nm FLAGS archive`."""
    out = subprocess.run(["nm", *flags, archive],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise OSError(f"nm {archive}: {out.stderr.strip()}")
    member = "?"
    for line in out.stdout.splitlines():
        if line.endswith(":") and " " not in line:
            member = line[:-1]
            continue
        yield member, line.split()


def exported(archive):
    """Returns {name: object} of the global names an archive defines."""
    names = {}
    for member, parts in nm_lines(archive, ("-g", "--defined-only")):
        if len(parts) == 3 and not parts[2].startswith(TOOLCHAIN_PREFIXES):
            names.setdefault(parts[2], member)
    return names


def referenced(archive):
    """Returns {name: first object using it} of the names an archive's
    objects use without defining them."""
    names = {}
    for member, parts in nm_lines(archive, ("-u",)):
        if len(parts) == 2 and parts[0] in ("U", "w"):
            names.setdefault(parts[1], member)
    return names


def list_for(lib):
    """The .sym file of libescort-NAME.a: NAME.sym in a top-level folder."""
    name = lib[len("libescort-"):-len(".a")]
    found = sorted(glob.glob(os.path.join(ROOT, "*", name + ".sym")))
    return found[0] if len(found) == 1 else None


def check_archive(archive, symfile, report):
    """Reports each problem of one archive; returns their number."""
    lib = os.path.basename(archive)
    rel = os.path.relpath(symfile, ROOT) if symfile.startswith(ROOT + os.sep) else symfile
    allowed, prefixes, forbidden = read_list(symfile)
    names = exported(archive)
    problems = 0
    if forbidden:
        for name, member in sorted(referenced(archive).items()):
            rule = is_forbidden(name, forbidden)
            if rule is not None:
                report(f"{lib}: {member} calls '{name}', which {rel} forbids "
                       f"('# forbidden: {rule}')")
                problems += 1
    for name in sorted(names):
        if name in allowed or (prefixes and name.startswith(tuple(prefixes))):
            continue
        hint = f"make it static or name it {prefixes[0]}*" if prefixes else "make it static"
        report(f"{lib}: exports '{name}' ({names[name]}), which {rel} does not list: "
               f"{hint}, or list it if it is public API")
        problems += 1
    for name, lineno in sorted(allowed.items(), key=lambda kv: kv[1]):
        if name not in names:
            report(f"{rel}:{lineno}: '{name}' is listed but {lib} does not export it")
            problems += 1
    return problems


def check_build(build):
    archives = sorted(glob.glob(os.path.join(build, "libescort-*.a")))
    if not archives:
        print(f"check_symbols: no libescort-*.a in {build} (build the libraries first)",
              file=sys.stderr)
        return 2
    problems = 0
    for archive in archives:
        lib = os.path.basename(archive)
        symfile = list_for(lib)
        if symfile is None:
            print(f"{lib}: no list of its public names ({lib[len('libescort-'):-2]}.sym "
                  "in one top-level folder)")
            problems += 1
            continue
        problems += check_archive(archive, symfile, print)
    print(f"check_symbols: {len(archives)} libraries, {problems} problems")
    return 1 if problems else 0


SELF_TEST_SOURCES = {
    "api.c": "int demo_api(void) { return 1; }\n",
    "helper.c": "static int helper(void) { return 2; }\n"
                "int demo__shared(void) { return helper(); }\n",
    "leak.c": "int lex(void) { return 3; }\n",
    "data.c": "int demo_table[4] = { 1 };\n",
    "net.c": "#include <sys/socket.h>\n"
             "int demo__net(void) { return socket(AF_INET, SOCK_STREAM, 0); }\n",
}


def self_test():
    """Builds small archives and checks that the check says what it must."""
    cc = os.environ.get("CC", "cc")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        def archive(name, sources):
            objs = []
            for src in sources:
                path = os.path.join(tmp, src)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(SELF_TEST_SOURCES[src])
                obj = path[:-2] + ".o"
                subprocess.run([cc, "-c", "-o", obj, path], check=True)
                objs.append(obj)
            lib = os.path.join(tmp, name)
            subprocess.run(["ar", "rcs", lib] + objs, check=True)
            return lib

        symfile = os.path.join(tmp, "demo.sym")
        with open(symfile, "w", encoding="utf-8") as f:
            f.write("# internal: demo__\n# forbidden: socket connect\n"
                    "demo_api\ndemo_table\n")
        cases = [  # archive sources, problems expected, a word each report must hold
            (["api.c", "helper.c", "data.c"], 0, None),
            (["api.c", "helper.c", "data.c", "leak.c"], 1, "'lex'"),
            (["api.c", "helper.c"], 1, "'demo_table' is listed"),
            (["api.c", "helper.c", "data.c", "net.c"], 1, "'socket'"),
        ]
        for i, (sources, want, word) in enumerate(cases):
            lib = archive(f"libescort-demo{i}.a", sources)
            lines = []
            got = check_archive(lib, symfile, lines.append)
            ok = got == want and all(word in line for line in lines)
            print(f"self-test {'PASS' if ok else 'FAIL'}: {' '.join(sources)}: "
                  f"{got} problems (want {want}){''.join(chr(10) + '  ' + l for l in lines)}")
            failures += not ok
    print(f"check_symbols self-test: {len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    try:
        return self_test() if argv[1] == "--self-test" else check_build(argv[1])
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        print(f"check_symbols: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
