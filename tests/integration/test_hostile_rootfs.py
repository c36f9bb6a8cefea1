"""Hostile images: symlinks planted in the rootfs must never move a mount,
a created file or a device node onto the host.

skiff either does the work inside the rootfs or refuses with one error line;
each test then checks the host: the same mount table, an untouched sentinel
directory (no new entries, same content), nothing in the state root.
"""
import functools
import json
import os
import shutil
import subprocess
import tempfile
import time

import lib
from lib import Bundle, new_id, skiff


# Other test runs (podman, containerd) may mount and unmount under these while
# we run; only our own directories there are ours to compare.
_BUSY = ("/tmp/", "/run/", "/var/run/", "/var/lib/containers/", "/var/lib/containerd/")


def host_mounts():
    """The host's mount points, minus those other concurrent test runs own."""
    return [p for p in lib.mountinfo()
            if not p.startswith(_BUSY) or p.startswith((lib.WORK, lib.ROOT))]


def state_root_entries():
    if not os.path.isdir(lib.ROOT):
        return []
    return [e for e in os.listdir(lib.ROOT) if not e.startswith(".")]


class Host:
    """A sentinel directory on the host, and the host state to compare against."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sentinel-", dir=lib.WORK)
        with open(os.path.join(self.dir, "sentinel"), "w") as f:
            f.write("untouched")
        self.mounts = host_mounts()
        self.etc = sorted(os.listdir("/etc"))

    def check(self):
        now = host_mounts()
        assert now == self.mounts, \
            f"host mount table changed: +{sorted(set(now) - set(self.mounts))} " \
            f"-{sorted(set(self.mounts) - set(now))}"
        assert os.listdir(self.dir) == ["sentinel"], os.listdir(self.dir)
        with open(os.path.join(self.dir, "sentinel")) as f:
            assert f.read() == "untouched"
        assert sorted(os.listdir("/etc")) == self.etc, "host /etc changed"
        assert state_root_entries() == [], state_root_entries()


def hostile(fn):
    @functools.wraps(fn)
    def wrapper():
        host = Host()
        try:
            fn(host)
        finally:
            lib.cleanup_after_test()
            shutil.rmtree(host.dir, ignore_errors=True)
        assert host_mounts() == host.mounts
        assert state_root_entries() == []
    return wrapper


def bundle(args, prepare, mounts=(), edit=None):
    def e(c):
        c["root"]["readonly"] = False
        c["mounts"] += list(mounts)
        if edit:
            edit(c)
    b = Bundle(args, edit=e)
    prepare(b.rootfs)
    return b


def replace_with_symlink(rootfs, name, target):
    path = os.path.join(rootfs, name.lstrip("/"))
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


def run(b):
    cid = new_id()
    r = skiff("run", "--bundle", b.path, cid)
    return r, cid


def refused(b, host, *words):
    r, cid = run(b)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert not os.path.exists(os.path.join(lib.ROOT, cid))
    host.check()
    return lines[0]


def reports(r):
    assert r.returncode == 0, r
    return [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]


def tmpfs(dest):
    return {"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}


@hostile
def test_destination_symlink_to_absolute_host_path(host):
    # The same absolute path exists inside the image: the mount must land there.
    def prep(rootfs):
        os.makedirs(rootfs + host.dir)
        os.symlink(host.dir, os.path.join(rootfs, "link"))
    b = bundle(["sh", "-c", "probe write /link/planted x; probe mountinfo"], prep,
               [tmpfs("/link/newdir"),
                {"destination": "/link/file", "type": "bind", "options": ["bind"],
                 "source": os.path.join(host.dir, "sentinel")}])
    w, mi = reports(run(b)[0])
    points = [m["mount_point"] for m in mi["mountinfo"]]
    assert host.dir + "/newdir" in points and host.dir + "/file" in points, points
    assert w["ok"], w
    assert os.path.exists(b.rootfs + host.dir + "/planted")
    assert os.path.isdir(b.rootfs + host.dir + "/newdir")
    host.check()


@hostile
def test_destination_symlink_to_etc(host):
    name = f"skiff-hostile-{os.getpid()}"
    b = bundle(["probe", "mountinfo"],
               lambda rootfs: os.symlink("/etc", os.path.join(rootfs, "conf")),
               [tmpfs(f"/conf/{name}/deep")])
    try:
        mi = reports(run(b)[0])[0]["mountinfo"]
        assert not os.path.exists(f"/etc/{name}"), "skiff created a directory in the host's /etc"
    finally:
        if os.path.isdir(f"/etc/{name}"):
            shutil.rmtree(f"/etc/{name}")
    assert f"/etc/{name}/deep" in [m["mount_point"] for m in mi]
    assert os.path.isdir(os.path.join(b.rootfs, "etc", name, "deep"))
    host.check()


@hostile
def test_destination_symlink_climbing_out(host):
    up = "../" * 12
    b = bundle(["probe", "mountinfo"],
               lambda rootfs: (os.makedirs(rootfs + host.dir),
                               os.symlink(up + host.dir.lstrip("/"),
                                          os.path.join(rootfs, "var", "up"))),
               [tmpfs("/var/up/escaped"), tmpfs("/../../../" + host.dir + "/dotdot")])
    mi = reports(run(b)[0])[0]["mountinfo"]
    points = [m["mount_point"] for m in mi]
    assert host.dir + "/escaped" in points and host.dir + "/dotdot" in points, points
    host.check()


@hostile
def test_destination_symlink_to_rootfs_itself_refused(host):
    b = bundle(["true"], lambda rootfs: os.symlink("../../..", os.path.join(rootfs, "mnt")),
               [tmpfs("/mnt")])
    refused(b, host, "/mnt", "rootfs itself")


@hostile
def test_destination_dangling_symlink_target_made_inside_the_rootfs(host):
    # runc and crun create a symlink's missing target, inside the rootfs: an
    # absolute target, a relative one climbing past "/", a chain of links.
    def prep(rootfs):
        os.symlink(host.dir + "/new", os.path.join(rootfs, "mnt"))
        os.symlink("../" * 12 + host.dir.lstrip("/") + "/up", os.path.join(rootfs, "var", "up"))
        os.symlink("hop2", os.path.join(rootfs, "hop1"))
        os.symlink("/chained/end", os.path.join(rootfs, "hop2"))
    b = bundle(["probe", "mountinfo"], prep,
               [tmpfs("/mnt/sub"), tmpfs("/var/up"), tmpfs("/hop1"),
                {"destination": "/mnt/file", "type": "bind", "options": ["bind"],
                 "source": os.path.join(host.dir, "sentinel")}])
    mi = reports(run(b)[0])[0]["mountinfo"]
    points = [m["mount_point"] for m in mi]
    for p in (host.dir + "/new/sub", host.dir + "/up", "/chained/end", host.dir + "/new/file"):
        assert p in points, (p, points)
        assert os.path.lexists(b.rootfs + p), p
    assert os.path.isfile(b.rootfs + host.dir + "/new/file")
    host.check()


@hostile
def test_destination_symlink_loop_refused(host):
    def prep(rootfs):
        os.symlink("b", os.path.join(rootfs, "a"))
        os.symlink("a", os.path.join(rootfs, "b"))
    refused(bundle(["true"], prep, [tmpfs("/a/x")]), host, "/a")


@hostile
def test_destination_through_magic_link_refused(host):
    for target in ("/proc/self/root/..", "/proc/1/root/" + host.dir.lstrip("/")):
        b = bundle(["true"],
                   lambda rootfs: os.symlink(target, os.path.join(rootfs, "mnt")),
                   [tmpfs("/mnt/x")])
        refused(b, host, "/mnt/x")
        lib.cleanup_after_test()


@hostile
def test_proc_or_sys_replaced_by_symlink_refused(host):
    # CVE-2019-16884: procfs must be mounted where it is, never through a link.
    for name, target, fs in (("proc", "/tmp", "proc"), ("proc", "/etc", "proc"),
                             ("proc", "../../..", "proc"), ("sys", "/etc", "sysfs")):
        b = bundle(["true"], lambda rootfs: replace_with_symlink(rootfs, name, target))
        refused(b, host, f"mount {fs} on /{name}", "symlink")
        lib.cleanup_after_test()


@hostile
def test_proc_writes_never_land_in_a_fake_proc(host):
    # No proc mount at all, and a plain directory tree posing as the files skiff
    # writes or reopens in /proc: a sysctl, oom_score_adj, the exec fifo's fd.
    # skiff must use a real procfs of its own (runc 1.1.5 writes the fake sysctl).
    fakes = ["sys/net/ipv4/ip_forward", "self/oom_score_adj", "thread-self/oom_score_adj"]
    fakes += [f"self/fd/{n}" for n in range(3, 16)]

    def prep(rootfs):
        for f in fakes:
            path = os.path.join(rootfs, "proc", f)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write("0\n")

    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "proc"]
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        c["linux"]["maskedPaths"] = []
        c["linux"]["readonlyPaths"] = []
        c["process"]["oomScoreAdj"] = 123
    b = bundle(["true"], prep, edit=edit)
    cid = new_id()
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    pid = lib.state(cid)["pid"]
    with open(f"/proc/{pid}/oom_score_adj") as f:
        assert f.read() == "123\n"
    fwd = subprocess.run(["nsenter", "-t", str(pid), "-n", "cat",
                          "/proc/sys/net/ipv4/ip_forward"], capture_output=True, text=True,
                         timeout=30)
    assert fwd.stdout == "1\n", fwd
    # The init waits on the real fifo, not on a planted /proc/self/fd entry.
    time.sleep(0.2)
    assert lib.state(cid)["status"] == "created", lib.state(cid)
    assert skiff("start", cid).returncode == 0
    for f in fakes:
        with open(os.path.join(b.rootfs, "proc", f)) as fh:
            assert fh.read() == "0\n", f
    skiff("delete", "--force", cid)


@hostile
def test_dev_null_replaced_in_image(host):
    # No tmpfs on /dev: the image's /dev is used, and its planted entries are replaced.
    def prep(rootfs):
        dev = os.path.join(rootfs, "dev")
        os.symlink("/etc/passwd", os.path.join(dev, "null"))
        with open(os.path.join(dev, "zero"), "w") as f:
            f.write("not a device")
        os.symlink(host.dir, os.path.join(dev, "tty"))

    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]
        c["linux"]["maskedPaths"] = ["/etc/passwd"]
    b = bundle(["sh", "-c", "probe stat /dev/null; probe stat /dev/zero; probe stat /dev/tty; "
                "probe read /etc/passwd"], prep, edit=edit)
    with open(os.path.join(b.rootfs, "etc", "passwd")) as f:
        passwd = f.read()
    null, zero, tty, masked = reports(run(b)[0])
    assert (null["type"], null["major"], null["minor"]) == ("char", 1, 3), null
    assert (zero["type"], zero["major"], zero["minor"]) == ("char", 1, 5), zero
    assert (tty["type"], tty["major"], tty["minor"]) == ("char", 5, 0), tty
    assert masked["content"] == "", masked
    with open(os.path.join(b.rootfs, "etc", "passwd")) as f:
        assert f.read() == passwd
    host.check()


@hostile
def test_dev_replaced_by_symlink(host):
    # To a directory of the image: /dev's tmpfs and its nodes land there, inside.
    b = bundle(["sh", "-c", "probe stat /dev/null; probe mountinfo"],
               lambda rootfs: replace_with_symlink(rootfs, "dev", "/etc"))
    null, mi = reports(run(b)[0])
    assert (null["type"], null["major"], null["minor"]) == ("char", 1, 3), null
    points = [m["mount_point"] for m in mi["mountinfo"]]
    assert "/etc" in points and "/etc/pts" in points, points
    host.check()
    lib.cleanup_after_test()
    # To a host path that the image lacks: made inside the rootfs (as runc does),
    # nothing made on the host.
    b = bundle(["probe", "stat", "/dev/null"],
               lambda rootfs: replace_with_symlink(rootfs, "dev", host.dir))
    null = reports(run(b)[0])[0]
    assert (null["type"], null["major"], null["minor"]) == ("char", 1, 3), null
    assert os.path.isdir(b.rootfs + host.dir)
    host.check()


@hostile
def test_device_path_through_symlink(host):
    def prep(rootfs):
        os.makedirs(rootfs + host.dir)
        os.symlink(host.dir, os.path.join(rootfs, "devlink"))

    def edit(c):
        c["linux"]["devices"] = [{"path": "/devlink/mynull", "type": "c", "major": 1,
                                  "minor": 3, "fileMode": 0o666}]
    b = bundle(["probe", "stat", host.dir + "/mynull"], prep, edit=edit)
    st = reports(run(b)[0])[0]
    assert (st["type"], st["major"], st["minor"]) == ("char", 1, 3), st
    assert os.path.exists(b.rootfs + host.dir + "/mynull")
    host.check()
