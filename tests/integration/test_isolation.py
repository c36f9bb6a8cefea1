"""Isolation, seen from inside the container: namespaces, user namespace maps,
mounts, /dev, masked and read-only paths, sysctls, hostname, --no-pivot.

Every test asserts on what the probe (or busybox) reported from inside; the
runner checks after each one that the host was left as found (tests/hostcheck.py).
"""
import json
import os
import stat
import tempfile
import time

import lib
from lib import Bundle, new_id, skiff, skiff_ok

NS_FILES = ("pid", "net", "ipc", "uts", "mnt", "cgroup", "time", "user")
SPEC_TO_PROC = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
                "cgroup": "cgroup", "time": "time", "user": "user"}
# Two ranges, neither of which contains host uid 0: files the runtime makes
# must still be usable, and an id from the second range must land there.
ID_MAPS = [{"containerID": 0, "hostID": 100000, "size": 1000},
           {"containerID": 1000, "hostID": 200000, "size": 64536}]
EROFS = 30


# Other test runs (podman, containerd) may mount and unmount under these while
# we run; only our own directories there are ours to compare.
_BUSY = ("/tmp/", "/run/", "/var/run/", "/var/lib/containers/", "/var/lib/containerd/")


def host_mounts():
    """The host's mount points, minus those other concurrent test runs own."""
    return [p for p in lib.mountinfo()
            if not p.startswith(_BUSY) or p.startswith((lib.WORK, lib.ROOT))]


def host_ns(name, pid="self"):
    return os.stat(f"/proc/{pid}/ns/{name}").st_ino


def run(b, *extra):
    r = skiff("run", *extra, "--bundle", b.path, new_id())
    assert r.returncode == 0, f"run failed ({r.returncode}): {r.stderr}{r.stdout}"
    return r.stdout


def run_json(b, *extra):
    """Runs the bundle; every stdout line is one probe report."""
    return [json.loads(line) for line in run(b, *extra).splitlines() if line.startswith("{")]


def probe_script(*cmds):
    return ["sh", "-c", "; ".join("probe " + c for c in cmds)]


def fails_naming(b, field):
    cid = new_id()
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], r.stderr
    assert not os.path.exists(os.path.join(lib.ROOT, cid)), "failed create left state"
    return lines[0]


def set_namespaces(c, *types, **paths):
    c["linux"]["namespaces"] = [{"type": t} for t in types]
    for t, p in paths.items():
        c["linux"]["namespaces"].append({"type": t, "path": p})


def userns_bundle(args, edit=None):
    """A bundle with a two-range user namespace and a rootfs owned by the mapped root."""
    def e(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = ID_MAPS
        c["linux"]["gidMappings"] = ID_MAPS
        if edit:
            edit(c)
    b = Bundle(args, edit=e)
    for d, dirs, files in os.walk(b.rootfs):
        for name in [d] + [os.path.join(d, n) for n in dirs + files]:
            os.lchown(name, 100000, 100000)
    # The mapped root has no rights over host-owned inodes: it needs search on the path.
    os.chmod(lib.WORK, 0o711)
    os.chmod(b.path, 0o711)
    return b


def mount_at(reports, point):
    mi = next(r["mountinfo"] for r in reports if "mountinfo" in r)
    found = [m for m in mi if m["mount_point"] == point]
    assert found, f"{point} not mounted: {[m['mount_point'] for m in mi]}"
    return found[-1]


# ---- 1. namespaces ----

def test_new_namespaces_differ_from_host():
    types = ("pid", "network", "ipc", "uts", "mount", "cgroup", "time")
    b = Bundle(["probe", "ns"], edit=lambda c: set_namespaces(c, *types))
    ns = run_json(b)[0]["ns"]
    for t in types:
        name = SPEC_TO_PROC[t]
        assert ns[name] != host_ns(name), f"{t} namespace is the host's"
    assert ns["user"] == host_ns("user"), "user namespace not listed, yet not shared"


def test_unlisted_namespaces_are_shared():
    b = Bundle(["probe", "ns"], edit=lambda c: set_namespaces(c, "mount"))
    b.config["hostname"] = None
    del b.config["hostname"]
    b.write()
    ns = run_json(b)[0]["ns"]
    assert ns["mnt"] != host_ns("mnt")
    for name in ("pid", "net", "ipc", "uts", "cgroup", "time", "user"):
        assert ns[name] == host_ns(name), f"{name} namespace should be the host's"


def test_join_namespaces_by_path():
    a_id = new_id()
    a = Bundle(["sleep", "1000"])
    skiff_ok("create", "--bundle", a.path, a_id)
    pid = lib.state(a_id)["pid"]
    want = {n: host_ns(n, pid) for n in ("net", "ipc", "uts")}
    assert want["net"] != host_ns("net")

    def edit(c):
        set_namespaces(c, "pid", "mount", network=f"/proc/{pid}/ns/net",
                       ipc=f"/proc/{pid}/ns/ipc", uts=f"/proc/{pid}/ns/uts")
        del c["hostname"]
    b = Bundle(["probe", "ns"], edit=edit)
    ns = run_json(b)[0]["ns"]
    assert {n: ns[n] for n in want} == want
    assert ns["pid"] != host_ns("pid", pid) and ns["mnt"] != host_ns("mnt", pid)


def test_join_path_errors_name_the_field():
    cases = [("/etc/passwd", "network"), (f"/proc/{os.getpid()}/ns/net", "ipc"),
             ("/nonexistent/ns", "network"), ("relative/ns", "network")]
    for path, kind in cases:
        def edit(c, path=path, kind=kind):
            set_namespaces(c, "pid", "mount", "uts")
            c["linux"]["namespaces"].append({"type": kind, "path": path})
        msg = fails_naming(Bundle(["true"], edit=edit), "linux.namespaces[3].path")
        assert path in msg, msg


def test_duplicate_or_unknown_namespace_type_fails():
    b = Bundle(["true"], edit=lambda c: c["linux"]["namespaces"].append({"type": "ipc"}))
    assert "listed twice" in fails_naming(b, "linux.namespaces[5]")
    b = Bundle(["true"], edit=lambda c: c["linux"]["namespaces"].append({"type": "bogus"}))
    fails_naming(b, "linux.namespaces[5].type")


# ---- 2. user namespace with two ranges ----

def test_userns_two_ranges():
    def edit(c):
        c["root"]["readonly"] = False
        c["process"]["user"]["additionalGids"] = [1500]
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_CHOWN")
    script = ("cat /proc/self/uid_map /proc/self/gid_map; echo --; "
              "echo x > /dev/null && head -c 3 /dev/zero | wc -c && echo devices-ok; "
              "touch /tmp/mine /tmp/theirs && chown 1500:1501 /tmp/theirs && echo chown-ok; "
              "probe all; probe stat /dev/mqueue; probe stat /bin/busybox")
    b = userns_bundle(["sh", "-c", script], edit)
    out = run(b)
    maps, rest = out.split("--\n", 1)
    rows = [tuple(map(int, line.split())) for line in maps.splitlines()]
    want = [(m["containerID"], m["hostID"], m["size"]) for m in ID_MAPS]
    assert rows == want + want, out
    assert "devices-ok" in rest and "chown-ok" in rest, out
    reports = [json.loads(x) for x in rest.splitlines() if x.startswith("{")]
    me, mq, bb = reports
    assert (me["uid"], me["gid"], me["euid"]) == (0, 0, 0), me
    assert me["groups"] == [1500], me["groups"]
    assert me["ns"]["user"] != host_ns("user")
    assert bb["uid"] == 0, "the rootfs owner (host 100000) is not the container's root"
    # mqueue is made by the init as root of its namespace, not by the unmapped host root.
    assert (mq["uid"], mq["gid"]) == (0, 0), mq
    mine = os.stat(os.path.join(b.rootfs, "tmp", "mine"))
    theirs = os.stat(os.path.join(b.rootfs, "tmp", "theirs"))
    assert (mine.st_uid, mine.st_gid) == (100000, 100000)
    assert (theirs.st_uid, theirs.st_gid) == (200500, 200501), "second range not used"


def test_userns_create_start_through_exec_fifo():
    def edit(c):
        c["root"]["readonly"] = False
    b = userns_bundle(["sh", "-c", "id -u > /tmp/started"], edit)
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    assert lib.state(cid)["status"] == "created"
    skiff_ok("start", cid)
    path = os.path.join(b.rootfs, "tmp", "started")
    end = time.monotonic() + 30
    while not (os.path.exists(path) and os.path.getsize(path)) and time.monotonic() < end:
        time.sleep(0.02)
    with open(path) as f:
        assert f.read() == "0\n"
    skiff_ok("delete", "--force", cid)


def test_userns_needs_mappings():
    b = Bundle(["true"], edit=lambda c: c["linux"]["namespaces"].append({"type": "user"}))
    fails_naming(b, "linux.uidMappings")


# ---- 3. every namespace at once, with time offsets ----

def test_every_namespace_with_time_offsets():
    mono, boot = 10 * 86400, 20 * 86400

    def edit(c):
        c["linux"]["namespaces"] += [{"type": "cgroup"}, {"type": "time"}]
        c["linux"]["timeOffsets"] = {"monotonic": {"secs": mono}, "boottime": {"secs": boot}}
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                            "source": "cgroup", "options": ["nosuid", "noexec", "nodev"]})
    b = userns_bundle(["sh", "-c", "cat /proc/uptime /proc/self/timens_offsets "
                       "/proc/self/cgroup; probe ns"], edit)
    with open("/proc/uptime") as f:
        host_before = float(f.read().split()[0])
    out = run(b).splitlines()
    with open("/proc/uptime") as f:
        host_after = float(f.read().split()[0])
    inside = float(out[0].split()[0])
    assert host_before + boot - 1 <= inside <= host_after + boot + 1, (inside, host_before)
    offsets = {line.split()[0]: int(line.split()[1]) for line in out[1:3]}
    assert offsets == {"monotonic": mono, "boottime": boot}, out
    assert "0::/" in out, f"cgroup namespace root is not the container's cgroup: {out}"
    ns = json.loads(out[-1])["ns"]
    for name in NS_FILES:
        assert ns[name] != host_ns(name), f"{name} is the host's"


def test_time_offsets_need_a_new_time_namespace():
    b = Bundle(["true"], edit=lambda c: c["linux"].update(
        timeOffsets={"boottime": {"secs": 5}}))
    fails_naming(b, "linux.timeOffsets")


# ---- 4. mounts ----

def test_bind_mounts_ro_rw_and_file():
    host = tempfile.mkdtemp(dir=lib.WORK)
    with open(os.path.join(host, "data"), "w") as f:
        f.write("from the host")

    def edit(c):
        c["mounts"] += [
            {"destination": "/data-ro", "type": "bind", "source": host, "options": ["rbind", "ro"]},
            {"destination": "/data-rw", "type": "bind", "source": host, "options": ["bind"]},
            {"destination": "/etc/injected", "type": "bind",
             "source": os.path.join(host, "data"), "options": ["bind", "ro"]},
        ]
    b = Bundle(probe_script("write /data-ro/new x", "write /data-rw/new y",
                            "read /etc/injected", "write /etc/injected z"), edit=edit)
    ro, rw, rd, wr = run_json(b)
    assert not ro["ok"] and ro["errno"] == EROFS, ro
    assert rw["ok"], rw
    assert rd["content"] == "from the host", rd
    assert not wr["ok"] and wr["errno"] == EROFS, wr
    with open(os.path.join(host, "new")) as f:
        assert f.read() == "y"
    # The file destination was made as an empty file in the rootfs.
    dest = os.path.join(b.rootfs, "etc", "injected")
    assert stat.S_ISREG(os.lstat(dest).st_mode) and os.path.getsize(dest) == 0


def test_tmpfs_options_and_flags_in_mountinfo():
    def edit(c):
        c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=0710"]})
    b = Bundle(probe_script("mountinfo", "stat /scratch"), edit=edit)
    reports = run_json(b)
    m = mount_at(reports, "/scratch")
    assert m["fs_type"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= set(m["options"].split(",")), m
    assert {"size=1024k", "mode=710"} <= set(m["super_options"].split(",")), m
    assert reports[1]["mode"] == "0710", reports[1]


def test_special_filesystems():
    def edit(c):
        c["linux"]["namespaces"].append({"type": "cgroup"})
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                            "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]})
    # A unified host shows cgroup2; a v1 or hybrid one runc's tmpfs of v1 mounts.
    unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    procs = "/sys/fs/cgroup/cgroup.procs" if unified else "/sys/fs/cgroup/pids/cgroup.procs"
    b = Bundle(probe_script("mountinfo", f"read {procs}"), edit=edit)
    reports = run_json(b)
    assert mount_at(reports, "/proc")["fs_type"] == "proc"
    assert mount_at(reports, "/dev/mqueue")["fs_type"] == "mqueue"
    assert mount_at(reports, "/dev/pts")["fs_type"] == "devpts"
    cg = mount_at(reports, "/sys/fs/cgroup")
    if unified:
        assert cg["fs_type"] == "cgroup2" and cg["options"].startswith("ro"), cg
    else:
        pids = mount_at(reports, "/sys/fs/cgroup/pids")
        assert cg["fs_type"] == "tmpfs", cg
        assert pids["fs_type"] == "cgroup" and pids["options"].startswith("ro"), pids
        assert pids["root"] == "/", pids
    # In its cgroup namespace the container's own cgroup is the root: only its init is there.
    assert reports[1]["content"].split() == ["1"], reports[1]


def test_sysfs_read_only_with_host_network():
    def edit(c, own_net):
        c["mounts"] = [m if m["type"] != "sysfs" else
                       {**m, "options": ["nosuid", "noexec", "nodev"]} for m in c["mounts"]]
        if not own_net:
            set_namespaces(c, "pid", "ipc", "uts", "mount")
    for own_net, want in ((True, "rw"), (False, "ro")):
        b = Bundle(["probe", "mountinfo"], edit=lambda c: edit(c, own_net))
        m = mount_at(run_json(b), "/sys")
        assert m["options"].split(",")[0] == want, (own_net, m)


def test_per_mount_propagation():
    def edit(c):
        for name, opt in (("shared", "shared"), ("private", "private"),
                          ("unbind", "unbindable")):
            c["mounts"].append({"destination": f"/p/{name}", "type": "tmpfs",
                                "source": "tmpfs", "options": [opt]})
    b = Bundle(["probe", "mountinfo"], edit=edit)
    reports = run_json(b)
    assert any(p.startswith("shared:") for p in mount_at(reports, "/p/shared")["propagation"])
    assert mount_at(reports, "/p/private")["propagation"] == []
    assert mount_at(reports, "/p/unbind")["propagation"] == ["unbindable"]


def host_mount_is_shared(path):
    """Whether the host mount holding path is shared (then a slave copy has a master)."""
    best, shared = "", False
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point, opt = fields[4], fields[6:fields.index("-")]
            if (path == point or path.startswith(point.rstrip("/") + "/")) and \
                    len(point) >= len(best):
                best, shared = point, any(o.startswith("shared:") for o in opt)
    return shared


def host_peer_groups():
    with open("/proc/self/mountinfo") as f:
        return {o for line in f for o in line.split() if o.startswith("shared:")}


def test_rootfs_propagation_values():
    master = ["master"] if host_mount_is_shared(lib.WORK) else []
    want = {"shared": ["shared"], "rshared": ["shared"], "slave": [], "rslave": [],
            "private": [], "rprivate": [], "unbindable": ["unbindable"],
            "runbindable": ["unbindable"]}
    for value, expect in want.items():
        b = Bundle(["probe", "mountinfo"],
                   edit=lambda c: c["linux"].update(rootfsPropagation=value))
        prop = mount_at(run_json(b), "/")["propagation"]
        assert not set(prop) & host_peer_groups(), (value, prop)
        got = sorted({p.split(":")[0] for p in prop})
        # Whatever the value, the container's "/" never becomes the host's peer.
        expect = sorted(expect + ([] if value.endswith("private") else master))
        assert got == expect, (value, got, expect)
    b = Bundle(["true"], edit=lambda c: c["linux"].update(rootfsPropagation="sideways"))
    fails_naming(b, "linux.rootfsPropagation")


def test_root_readonly():
    for readonly in (True, False):
        b = Bundle(["probe", "write", "/newfile", "x"],
                   edit=lambda c: c["root"].update(readonly=readonly))
        w = run_json(b)[0]
        if readonly:
            assert not w["ok"] and w["errno"] == EROFS, w
        else:
            assert w["ok"], w


# ---- 5. /dev ----

def test_default_devices_and_links():
    devs = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
            "urandom": (1, 9), "tty": (5, 0)}
    links = {"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
             "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
    cmds = [f"stat /dev/{d}" for d in devs] + [f"readlink /dev/{n}" for n in links]
    b = Bundle(["sh", "-c", "; ".join("probe " + c for c in cmds) +
                "; echo x > /dev/null && echo null-writable"])
    out = run(b)
    assert "null-writable" in out
    reports = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    for d, (major, minor) in devs.items():
        r = reports.pop(0)
        assert (r["type"], r["major"], r["minor"], r["mode"], r["uid"]) == \
            ("char", major, minor, "0666", 0), r
    for n, target in links.items():
        r = reports.pop(0)
        assert r["target"] == target, r


def test_linux_devices():
    def edit(c):
        c["linux"]["devices"] = [
            {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
             "fileMode": 0o600, "uid": 1000, "gid": 1001},
            {"path": "/dev/sub/loopx", "type": "b", "major": 7, "minor": 0,
             "fileMode": 0o640, "uid": 0, "gid": 6},
            {"path": "/dev/myfifo", "type": "p", "fileMode": 0o620, "uid": 12, "gid": 13},
        ]
    b = Bundle(probe_script("stat /dev/mynull", "stat /dev/sub/loopx", "stat /dev/myfifo"),
               edit=edit)
    c, blk, p = run_json(b)
    assert (c["type"], c["major"], c["minor"], c["mode"], c["uid"], c["gid"]) == \
        ("char", 1, 3, "0600", 1000, 1001), c
    assert (blk["type"], blk["major"], blk["minor"], blk["mode"], blk["gid"]) == \
        ("block", 7, 0, "0640", 6), blk
    assert (p["type"], p["mode"], p["uid"], p["gid"]) == ("fifo", "0620", 12, 13), p


def test_linux_devices_bad_type():
    b = Bundle(["true"], edit=lambda c: c["linux"].update(
        devices=[{"path": "/dev/x", "type": "q", "major": 1, "minor": 3}]))
    fails_naming(b, "linux.devices[0].type")


# ---- 6. masked and read-only paths ----

def test_masked_and_readonly_paths_hold():
    def edit(c):
        c["root"]["readonly"] = False
        c["linux"]["maskedPaths"] = ["/etc/secretdir", "/etc/secret.txt", "/etc/nonexistent",
                                     "/proc/kcore"]
        c["linux"]["readonlyPaths"] = ["/etc/rodir", "/proc/sys", "/etc/missing"]
    b = Bundle(edit=edit)
    os.makedirs(os.path.join(b.rootfs, "etc", "secretdir"))
    os.makedirs(os.path.join(b.rootfs, "etc", "rodir"))
    for name in ("secretdir/key", "secret.txt", "rodir/file"):
        with open(os.path.join(b.rootfs, "etc", name), "w") as f:
            f.write("topsecret")
    checks = ["ls /etc/secretdir", "write /etc/secretdir/new x", "read /etc/secret.txt",
              "write /etc/rodir/new x", "write /etc/other x", "write /proc/sys/kernel/hostname x",
              "read /etc/rodir/file"]
    undo = "umount /etc/secretdir; umount /etc/secret.txt; umount -l /etc/rodir; " \
           "umount /proc/sys"
    b.config["process"]["args"] = ["sh", "-c", "; ".join("probe " + c for c in checks) +
                                   f"; {undo} 2>/dev/null; echo undo=$?; " +
                                   "; ".join("probe " + c for c in checks)]
    b.write()
    out = run(b)
    assert "undo=1" in out, out
    first, second = out.split("undo=")
    for part in (first, second):
        ls, wmask, rd, wro, wother, wsys, rdro = \
            [json.loads(x) for x in part.splitlines() if x.startswith("{")]
        assert ls["ok"] and ls["entries"] == [], ls
        assert wmask["errno"] == EROFS, wmask
        assert rd["ok"] and rd["content"] == "", rd
        assert wro["errno"] == EROFS, wro
        assert wsys["errno"] == EROFS, wsys
        assert rdro["content"] == "topsecret", rdro
        assert wother["ok"] or wother["errno"] == 17, wother
    # The container wrote nothing through the masks.
    assert sorted(os.listdir(os.path.join(b.rootfs, "etc", "secretdir"))) == ["key"]
    assert not os.path.exists(os.path.join(b.rootfs, "etc", "rodir", "new"))


def test_masked_paths_must_be_absolute():
    b = Bundle(["true"], edit=lambda c: c["linux"].update(maskedPaths=["proc/kcore"]))
    fails_naming(b, "linux.maskedPaths[0]")


# ---- 7. sysctl ----

def read_host(path):
    with open(path) as f:
        return f.read()


def test_sysctl_in_own_namespaces():
    fwd = "/proc/sys/net/ipv4/ip_forward"
    host_fwd, host_shm = read_host(fwd), read_host("/proc/sys/kernel/shmmax")
    b = Bundle(probe_script(f"read {fwd}", "read /proc/sys/kernel/shmmax"),
               edit=lambda c: c["linux"].update(sysctl={
                   "net.ipv4.ip_forward": "1" if host_fwd.strip() == "0" else "0",
                   "kernel.shmmax": "12345678"}))
    r_fwd, r_shm = run_json(b)
    assert r_fwd["content"].strip() != host_fwd.strip(), r_fwd
    assert r_shm["content"] == "12345678\n", r_shm
    assert read_host(fwd) == host_fwd and read_host("/proc/sys/kernel/shmmax") == host_shm


def test_sysctl_that_would_change_the_host_is_refused():
    fwd = read_host("/proc/sys/net/ipv4/ip_forward")

    def host_net(c):
        set_namespaces(c, "pid", "ipc", "uts", "mount")
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}

    def joined_host_net(c):
        set_namespaces(c, "pid", "ipc", "uts", "mount", network=f"/proc/{os.getpid()}/ns/net")
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}

    def not_namespaced(c):
        c["linux"]["sysctl"] = {"vm.swappiness": "10"}
    for edit, words in ((host_net, "network namespace"), (joined_host_net, "network namespace"),
                        (not_namespaced, "not namespaced")):
        msg = fails_naming(Bundle(["true"], edit=edit), "linux.sysctl")
        assert words in msg, msg
    assert read_host("/proc/sys/net/ipv4/ip_forward") == fwd


# ---- 8. hostname and domainname ----

def test_hostname_and_domainname():
    b = Bundle(["probe", "all"], edit=lambda c: c.update(hostname="box1",
                                                         domainname="example.org"))
    me = run_json(b)[0]
    assert (me["hostname"], me["domainname"]) == ("box1", "example.org")
    assert os.uname().nodename != "box1"


def test_hostname_needs_own_uts_namespace():
    b = Bundle(["true"], edit=lambda c: set_namespaces(c, "pid", "mount"))
    fails_naming(b, "hostname")
    b = Bundle(["true"], edit=lambda c: set_namespaces(
        c, "pid", "mount", uts=f"/proc/{os.getpid()}/ns/uts"))
    fails_naming(b, "hostname")


# ---- 9. --no-pivot ----

def test_no_pivot():
    b = Bundle(probe_script("all", "mountinfo", "ls /"))
    me, mi, ls = run_json(b, "--no-pivot")
    assert me["hostname"] == "skiff" and me["ns"]["mnt"] != host_ns("mnt")
    assert "probe" in os.listdir(os.path.join(b.rootfs, "bin"))
    assert set(ls["entries"]) == set(os.listdir(b.rootfs)), ls
    points = [m["mount_point"] for m in mi["mountinfo"]]
    assert "/" in points and "/proc" in points, points
    assert not any(p.startswith(lib.WORK) for p in points), points


def test_sysfs_in_user_namespace_sharing_host_netns_is_a_readonly_bind():
    # The kernel refuses a sysfs mount to a user namespace that does not own
    # the network namespace; skiff binds the host's /sys read-only instead.
    def edit(c):
        c["linux"]["namespaces"] = [{"type": t} for t in ("user", "pid", "ipc", "uts", "mount")]
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    b = lib.Bundle(["probe", "mountinfo"], edit=edit)
    r = lib.skiff("run", "--bundle", b.path, lib.new_id())
    assert r.returncode == 0, r
    sys_mounts = [m for m in json.loads(r.stdout)["mountinfo"] if m["mount_point"] == "/sys"]
    assert len(sys_mounts) == 1, sys_mounts
    assert "ro" in sys_mounts[0]["options"].split(","), sys_mounts
    # a recursive bind of the host's /sys brings its submounts along
    subs = [m for m in json.loads(r.stdout)["mountinfo"] if m["mount_point"].startswith("/sys/")]
    assert subs and all("ro" in m["options"].split(",") for m in subs), subs


def test_quoted_mount_data_values_reach_the_filesystem_unquoted():
    # SELinux contexts are quoted because they contain commas; quotes are mount syntax,
    # not part of the value.
    def edit(c):
        c["mounts"].append({"destination": "/quoted", "type": "tmpfs", "source": "tmpfs",
                            "options": ['mode="0710"', 'size="1m"']})
    b = lib.Bundle(["probe", "mountinfo"], edit=edit)
    r = lib.skiff("run", "--bundle", b.path, lib.new_id())
    assert r.returncode == 0, r
    m = [m for m in json.loads(r.stdout)["mountinfo"] if m["mount_point"] == "/quoted"]
    assert len(m) == 1 and "mode=710" in m[0]["super_options"], m
    assert "size=1024k" in m[0]["super_options"], m


def test_memory_policy_is_applied_and_bad_ones_are_refused():
    if not os.path.exists("/proc/self/numa_maps"):
        raise lib.Skip("this kernel has no NUMA support (/proc/self/numa_maps)")
    b = lib.Bundle(["cat", "/proc/self/numa_maps"], edit=lambda c: c["linux"].update(
        memoryPolicy={"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}))
    r = lib.skiff("run", "--bundle", b.path, lib.new_id())
    assert r.returncode == 0, r
    assert "bind=static:0" in r.stdout, r.stdout[:500]
    for policy, field in (({"mode": "MPOL_NOPE", "nodes": "0"}, "mode"),
                          ({"mode": "MPOL_BIND", "nodes": "0-"}, "nodes"),
                          ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["X"]}, "flags")):
        cid = lib.new_id()
        b = lib.Bundle(["true"], edit=lambda c: c["linux"].update(memoryPolicy=policy))
        r = lib.skiff("run", "--bundle", b.path, cid)
        assert r.returncode == 1 and f"linux.memoryPolicy.{field}" in r.stderr, r
        assert r.stderr.count("\n") == 1
