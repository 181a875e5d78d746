"""make install into a DESTDIR, as a distribution package would: the exact
file list, the systemd units checked by systemd-analyze verify, the example
configurations accepted by escort-recorder -t, escort-proxy -t and
escort-policy check and then started as they are (paths moved into the
test's directory), an admin's edited file left alone by a second install,
and the proxy's PidFile."""
import grp, os, pwd, re, shutil, signal, socket, subprocess

from harness.core import BIN, ROOT, Env, bin_path, free_port, wait_for

TIMEOUT = 180

EXPECTED = """
etc/escort/policy.conf
etc/escort/proxy.conf
etc/escort/recorder.conf
usr/bin/escort-policy
usr/bin/escort-replay
usr/lib/systemd/system/escort-proxy.service
usr/lib/systemd/system/escort-recorder.service
usr/lib/sysusers.d/escort.conf
usr/lib/tmpfiles.d/escort.conf
usr/sbin/escort-proxy
usr/sbin/escort-recorder
usr/share/doc/escort/examples/policy.conf
usr/share/doc/escort/examples/proxy.conf
usr/share/doc/escort/examples/recorder.conf
usr/share/man/man1/escort-policy.1
usr/share/man/man1/escort-replay.1
usr/share/man/man5/escort-policy.5
usr/share/man/man5/escort-proxy.conf.5
usr/share/man/man5/escort-recorder.conf.5
usr/share/man/man5/escort-transcript.5
usr/share/man/man8/escort-proxy.8
usr/share/man/man8/escort-recorder.8
""".split()


def make_install(dest):
    """make install DESTDIR=dest PREFIX=/usr, with the build the tests run
    (bin/ or the sanitizer build's); never rebuilds the programs (-o)."""
    argv = ["make", "-s", "-C", ROOT, "-o", "programs", "install",
            "DESTDIR=" + dest, "PREFIX=/usr"]
    if os.path.realpath(BIN) == os.path.realpath(os.path.join(ROOT, "build/san/bin")):
        argv.append("SAN=1")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    return out


def files_under(root):
    got = []
    for d, _, fs in os.walk(root):
        for f in fs:
            got.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(got)


def test_install_file_list_and_units():
    with Env("install") as env:
        dest = env.path("dest")
        make_install(dest)
        assert files_under(dest) == EXPECTED
        for f in ("usr/sbin/escort-proxy", "usr/sbin/escort-recorder",
                  "usr/bin/escort-replay", "usr/bin/escort-policy"):
            assert os.stat(os.path.join(dest, f)).st_mode & 0o777 == 0o755, f
        units = [os.path.join(dest, "usr/lib/systemd/system", u)
                 for u in ("escort-recorder.service", "escort-proxy.service")]
        text = {os.path.basename(u): open(u).read() for u in units}
        # the units name the installed paths, and the sandbox the man pages describe
        assert "ExecStart=/usr/sbin/escort-recorder -f /etc/escort/recorder.conf\n" \
            in text["escort-recorder.service"]
        assert "ExecStart=/usr/sbin/escort-proxy -f /etc/escort/proxy.conf\n" \
            in text["escort-proxy.service"]
        for t in text.values():
            for line in ("ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes",
                         "ProtectSystem=strict", "PrivateTmp=yes",
                         "SystemCallFilter=@system-service", "UMask=0027"):
                assert line + "\n" in t, line
        for t in text.values():
            assert "Type=notify\n" in t
        assert "User=escort-proxy\n" in text["escort-proxy.service"]
        assert "CapabilityBoundingSet=\n" in text["escort-proxy.service"]
        assert "ReadWritePaths=/var/lib/escort/recordings /run/escort\n" \
            in text["escort-recorder.service"]
        assert "@" not in "".join(re.findall(r"@[A-Z]+@", "".join(text.values())))

        sa = shutil.which("systemd-analyze")
        if sa is None:
            print("SKIP systemd-analyze verify: systemd-analyze is not installed")
            return
        # verify resolves ExecStart= and Documentation=man: on the running
        # system: the units are checked as installed, with only their
        # /usr/sbin and /etc/escort paths pointed into the DESTDIR, and
        # man(1) looking at the DESTDIR's pages.
        vdir = env.path("verify")
        os.makedirs(vdir, exist_ok=True)
        for u in units:
            t = open(u).read().replace("/usr/sbin/", dest + "/usr/sbin/") \
                .replace("/etc/escort/", dest + "/etc/escort/")
            with open(os.path.join(vdir, os.path.basename(u)), "w") as f:
                f.write(t)
        e = dict(os.environ, MANPATH=os.path.join(dest, "usr/share/man"))
        r = subprocess.run([sa, "verify", "escort-recorder.service", "escort-proxy.service"],
                           cwd=vdir, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = r.stdout.decode("utf-8", "replace")
        assert r.returncode == 0 and out.strip() == "", out
        # a unit verify must reject is rejected: the check can fail
        bad = os.path.join(vdir, "escort-bad.service")
        with open(bad, "w") as f:
            f.write(text["escort-proxy.service"].replace(
                "ExecStart=/usr/sbin/", "ExecStart=" + dest + "/usr/sbin/nonexistent-"))
        r = subprocess.run([sa, "verify", "escort-bad.service"], cwd=vdir, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert r.returncode != 0, r.stdout
        # the exposure figures, for the report (offline: no running manager needed)
        for u in ("escort-recorder.service", "escort-proxy.service"):
            r = subprocess.run([sa, "security", "--offline=true", "--no-pager", u], cwd=vdir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            last = [l for l in r.stdout.decode("utf-8", "replace").splitlines()
                    if "Overall exposure" in l]
            print("systemd-analyze security %s: %s" % (u, last[-1] if last else "(no figure)"))
        # the sysusers.d entries create the users and group the units name
        su = shutil.which("systemd-sysusers")
        if su is not None:
            root = env.path("sysroot")
            os.makedirs(os.path.join(root, "etc"), exist_ok=True)
            subprocess.run([su, "--root=" + root,
                            os.path.join(dest, "usr/lib/sysusers.d/escort.conf")],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            users = {l.split(":")[0]: l.split(":") for l in open(os.path.join(root, "etc/passwd"))}
            groups = {l.split(":")[0]: l.strip().split(":") for l in open(os.path.join(root, "etc/group"))}
            assert set(users) == {"escort-recorder", "escort-proxy"}, users
            assert users["escort-recorder"][3] == groups["escort"][2]   # its primary group
            assert groups["escort"][3] == "escort-proxy"


def site_configs(env, dest):
    """The installed example configurations with /etc/escort, /var/lib/escort
    and /run moved under DIR/site; the keys an admin creates first; User and
    UnixClients naming this test's user and group (the service users do
    not exist here).  Returns (recorder.conf, proxy.conf, policy.conf, ports)."""
    site = env.path("site")
    etc = os.path.join(site, "etc/escort")
    os.makedirs(os.path.join(etc, "keys"), exist_ok=True)
    port = free_port()
    me = pwd.getpwuid(os.getuid()).pw_name
    mygroup = grp.getgrgid(os.getgid()).gr_name
    out = {}
    for name in ("recorder.conf", "proxy.conf", "policy.conf"):
        t = open(os.path.join(dest, "etc/escort", name)).read()
        if name == "recorder.conf":
            assert "\nUser escort-recorder\n" in t and "\nUnixClients @escort\n" in t
            t = t.replace("\nUser escort-recorder\n", "\nUser %s\n" % me)
            t = t.replace("\nUnixClients @escort\n", "\nUnixClients @%s\n" % mygroup)
        if name == "proxy.conf":
            assert "\nListen 0.0.0.0:2222\n" in t
            t = t.replace("\nListen 0.0.0.0:2222\n", "\nListen 127.0.0.1:%d\n" % port)
        for a in ("/etc/escort/", "/var/lib/escort/", "/run/"):
            t = t.replace(" " + a, " " + site + a).replace(" unix:" + a, " unix:" + site + a)
        out[name] = os.path.join(etc, name)
        with open(out[name], "w") as f:
            f.write(t)
    for d in ("var/lib/escort/recordings", "var/lib/escort/proxy", "run/escort",
              "run/escort-proxy"):
        os.makedirs(os.path.join(site, d), exist_ok=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    os.path.join(etc, "recorder-ed25519.pem")], check=True)
    for k in ("proxy_host_ed25519", "keys/ops_ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        os.path.join(etc, k)], check=True)
    return out["recorder.conf"], out["proxy.conf"], out["policy.conf"], port, site


def run(argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def test_example_configs_check_and_start_with_pidfile():
    with Env("install-run") as env:
        dest = env.path("dest")
        make_install(dest)
        rconf, pconf, polconf, port, site = site_configs(env, dest)
        rc, out, err = run([bin_path("escort-policy"), "check", polconf])
        assert rc == 0, out + err
        rc, out, err = run([bin_path("escort-recorder"), "-t", "-f", rconf])
        assert rc == 0 and "configuration OK" in out, out + err
        # -t -v prints the effective configuration in both daemons
        rc, out, err = run([bin_path("escort-recorder"), "-t", "-v", "-f", rconf])
        assert rc == 0 and "listen unix:%s/run/escort/recorder.sock\n" % site in out, out + err
        # -t reports every problem at once, in the daemons' log format
        badr = env.write("bad-recorder.conf", open(rconf).read().replace(
            "recorder-ed25519.pem", "missing.pem") + "Frobnicate yes\n")
        rc, out, err = run([bin_path("escort-recorder"), "-t", "-f", badr])
        assert rc == 1 and re.search(r"^escort-recorder\[\d+\]: error \S*bad-recorder\.conf:\d+: "
                                     r"unknown keyword \"Frobnicate\"$", err, re.M), err
        assert re.search(r"^escort-recorder\[\d+\]: error SigningKey \S*missing\.pem: ", err,
                         re.M), err
        rc, out, err = run([bin_path("escort-proxy"), "-t", "-f", pconf])
        assert rc == 0 and "are valid" in err, out + err
        rc, out, err = run([bin_path("escort-proxy"), "-t", "-v", "-f", pconf])
        assert rc == 0 and "pidfile %s/run/escort-proxy/escort-proxy.pid\n" % site in out, out + err

        # a fresh install starts from them: the recorder, then the proxy,
        # each telling the service manager when it is ready (sd_notify(3):
        # a datagram "READY=1" to $NOTIFY_SOCKET, as Type=notify expects)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify_path = env.path("notify.sock")
        notify.bind(notify_path)
        notify.settimeout(15)
        rec = env.start("recorder", [bin_path("escort-recorder"), "-d", "-f", rconf],
                        env={"NOTIFY_SOCKET": notify_path})
        assert notify.recv(256) == b"READY=1", rec.log()
        sock = os.path.join(site, "run/escort/recorder.sock")
        # both daemons' lines: "PROGRAM[PID]: LEVEL message"
        started = r"^escort-recorder\[%d\]: info escort-recorder .* started" % rec.pid
        wait_for(lambda: re.search(started, rec.log(), re.M) or not rec.alive(), 15,
                 what="the recorder to start")
        assert rec.alive() and os.path.exists(sock), rec.log()

        pidf = os.path.join(site, "run/escort-proxy/escort-proxy.pid")
        with open(pidf, "w") as f:
            f.write("999999\n")             # stale, from a crash: overwritten
        px = env.start("proxy", [bin_path("escort-proxy"), "-d", "-f", pconf],
                       env={"NOTIFY_SOCKET": notify_path})
        assert notify.recv(256) == b"READY=1", px.log()
        # ready means listening, with the PidFile written
        assert open(pidf).read() == "%d\n" % px.pid
        listening = r"^escort-proxy\[%d\]: info escort-proxy .* listening" % px.pid
        wait_for(lambda: not px.alive() or re.search(listening, px.log(), re.M), 15,
                 what="the proxy to start")
        assert px.alive(), px.log()
        assert open(pidf).read() == "%d\n" % px.pid
        # written once the listener accepts
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert s.recv(64).startswith(b"SSH-2.0-")
        s.close()
        px.send(signal.SIGHUP)
        assert notify.recv(256) == b"RELOADING=1"
        assert notify.recv(256) == b"READY=1", px.log()
        assert px.stop(signal.SIGTERM, 15) == 0, px.log()
        assert notify.recv(256) == b"STOPPING=1"
        assert not os.path.exists(pidf), "the PidFile is left after SIGTERM"
        assert rec.stop(signal.SIGTERM, 15) == 0, rec.log()
        assert notify.recv(256) == b"STOPPING=1"
        notify.close()

        # an unwritable PidFile is a start error naming the file, on
        # stderr even without -d
        bad = env.write("bad-pid.conf", open(pconf).read().replace(
            "PidFile " + pidf, "PidFile " + os.path.join(site, "no/such/dir/p.pid")))
        p = subprocess.run([bin_path("escort-proxy"), "-f", bad], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode()
        assert p.returncode == 1 and "PidFile %s/no/such/dir/p.pid: No such file or directory" \
            % site in err, err
        # and a relative one a configuration error at its line
        rel = env.write("rel-pid.conf", open(pconf).read().replace(
            "PidFile " + pidf, "PidFile run/p.pid"))
        rc, out, err = run([bin_path("escort-proxy"), "-t", "-f", rel])
        assert rc == 1 and re.search(r"rel-pid\.conf:\d+: PidFile: \"run/p.pid\" is not an "
                                     r"absolute path", err), err


def test_second_install_keeps_edited_configs():
    with Env("install-twice") as env:
        dest = env.path("dest")
        make_install(dest)
        edited = os.path.join(dest, "etc/escort/proxy.conf")
        with open(edited, "a") as f:
            f.write("Workers 7\n")
        mine = open(edited).read()
        os.remove(os.path.join(dest, "etc/escort/policy.conf"))
        out = make_install(dest)
        assert open(edited).read() == mine
        assert "etc/escort/proxy.conf exists, left as it is" in out, out
        # a file the admin removed comes back; the documentation copy is the example
        assert os.path.exists(os.path.join(dest, "etc/escort/policy.conf"))
        doc = open(os.path.join(dest, "usr/share/doc/escort/examples/proxy.conf")).read()
        assert "Workers 7" not in doc and doc == open(os.path.join(ROOT, "dist/examples/proxy.conf")).read()
        assert files_under(dest) == EXPECTED
        # uninstall removes what install wrote, and never the admin's files
        r = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "DESTDIR=" + dest,
                            "PREFIX=/usr"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        assert r.returncode == 0, r.stdout
        assert files_under(dest) == ["etc/escort/policy.conf", "etc/escort/proxy.conf",
                                     "etc/escort/recorder.conf"]
