"""A single-node Ceph RGW with S3 Object Lock on loopback, for the object
store tests: a monitor, one memstore OSD and radosgw (no manager), all on
free ports, all under the test's own dir, every process stopped by pid.
Debian's ceph-mon, ceph-osd, radosgw and ceph-common.

    with Env("s3") as env:
        rgw = CephRGW(env)                 # ~15 s; raises Unavailable
        rgw.s3("PUT", "/bucket", headers={...})   # curl --aws-sigv4
        rgw.stop_rgw(); rgw.start_rgw()    # the gateway alone

S3 requests of the test itself go through curl's --aws-sigv4 (the same
libcurl signing the programs use)."""
import os, shutil, subprocess, time, uuid

from harness.core import free_port, port_open, wait_for

ACCESS, SECRET = "ESCORTTESTKEY", "escort-test-secret"
BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "ceph-authtool", "monmaptool", "ceph")


class Unavailable(Exception):
    """Ceph is not installed here (scripts/deps.sh installs it)."""


def available():
    return all(shutil.which(b) for b in BINARIES) and shutil.which("curl")


class CephRGW:
    def __init__(self, env, name="ceph"):
        if not available():
            raise Unavailable("ceph-mon, ceph-osd, radosgw or ceph-common missing "
                              "(scripts/deps.sh)")
        self.env = env
        self.dir = os.path.dirname(env.path(name, "x"))
        self.mon_port = free_port()
        self.mon_port2 = free_port()
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.dir, "ceph.conf")
        self.rgw = None
        self._write_conf()
        self._cenv = dict(os.environ, CEPH_CONF=self.conf)
        self._start()

    def _write_conf(self):
        d = self.dir
        for sub in ("run", "log", "mon/a", "osd/0", "rgw", "crash"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        self.fsid = str(uuid.uuid4())
        with open(self.conf, "w") as f:
            f.write("""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon2},v1:127.0.0.1:{mon}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
mon data = {d}/mon/$id
osd data = {d}/osd/$id
rgw data = {d}/rgw
keyring = {d}/keyring
crash dir = {d}/crash
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon osd down out interval = 0
client mount timeout = 30
[client.rgw.s3]
rgw frontends = beast endpoint=127.0.0.1:{port}
rgw enable usage log = false
""".format(fsid=self.fsid, mon=self.mon_port, mon2=self.mon_port2, d=d, port=self.port))

    def _run(self, *argv, timeout=60):
        r = subprocess.run(list(argv), env=self._cenv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (" ".join(argv[:4]), r.returncode,
                                                        r.stderr.decode()[-2000:]))
        return r.stdout

    def _start(self):
        d, k = self.dir, os.path.join(self.dir, "keyring")
        self._run("ceph-authtool", k, "--create-keyring", "--gen-key", "-n", "mon.",
                  "--cap", "mon", "allow *")
        self._run("ceph-authtool", k, "--gen-key", "-n", "client.admin", "--cap", "mon",
                  "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *")
        self._run("ceph-authtool", k, "--gen-key", "-n", "osd.0", "--cap", "mon",
                  "allow profile osd", "--cap", "osd", "allow *")
        self._run("ceph-authtool", k, "--gen-key", "-n", "client.rgw.s3", "--cap", "mon",
                  "allow rw", "--cap", "osd", "allow rwx")
        monmap = os.path.join(d, "monmap")
        self._run("monmaptool", "--create", "--clobber", "--fsid", self.fsid, "--addv", "a",
                  "[v2:127.0.0.1:%d,v1:127.0.0.1:%d]" % (self.mon_port2, self.mon_port),
                  monmap)
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", k)
        self.mon = self.env.start("ceph-mon", ["ceph-mon", "-f", "-i", "a"], env=self._cenv)
        osd_uuid = str(uuid.uuid4())
        oid = self._run("ceph", "--connect-timeout", "30", "osd", "new", osd_uuid).decode().strip()
        self._run("ceph-osd", "-i", oid, "--mkfs", "--osd-uuid", osd_uuid)
        self.osd = self.env.start("ceph-osd", ["ceph-osd", "-f", "-i", oid], env=self._cenv)
        wait_for(lambda: b"1 up" in self._osd_stat(), 150, interval=0.3, what="the ceph OSD up")
        self.start_rgw()
        self._run("radosgw-admin", "user", "create", "--uid=escort", "--display-name=escort",
                  "--access-key=" + ACCESS, "--secret=" + SECRET)

    def _osd_stat(self):
        try:
            return self._run("ceph", "--connect-timeout", "5", "osd", "stat", timeout=15)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return b""

    def start_rgw(self):
        self.rgw = self.env.start("radosgw", ["radosgw", "-f", "-n", "client.rgw.s3"],
                                  env=self._cenv)
        wait_for(lambda: port_open(self.port) or not self.rgw.alive(), 150, interval=0.2,
                 what="radosgw on port %d" % self.port)
        if not self.rgw.alive():
            raise AssertionError("radosgw did not start:\n" + self.rgw.log()[-3000:])

    def stop_rgw(self):
        self.rgw.stop(timeout=20)
        wait_for(lambda: not port_open(self.port), 20, what="radosgw's port closed")

    def s3(self, method, path, data=None, headers=(), out=None):
        """One request with curl --aws-sigv4; returns (status, body bytes)."""
        argv = ["curl", "-s", "-o", out or "-", "-w", "\n%{http_code}", "-X", method,
                "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", ACCESS + ":" + SECRET,
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        for h in headers:
            argv += ["-H", h]
        if data is not None:
            argv += ["--data-binary", "@-"]
        argv.append(self.endpoint + path)
        r = subprocess.run(argv, input=data, stdout=subprocess.PIPE, timeout=60)
        body, _, code = r.stdout.rpartition(b"\n")
        return int(code or 0), body

    def make_locked_bucket(self, bucket):
        st, body = self.s3("PUT", "/" + bucket,
                           headers=["x-amz-bucket-object-lock-enabled: true"])
        assert st == 200, "creating bucket %s: %d %s" % (bucket, st, body[:500])

    def env_vars(self):
        """The AWS environment escort-replay reads."""
        return {"AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1"}
