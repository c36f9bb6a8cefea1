"""The systemd cgroup driver on cgroup v1 hosts (hybrid and legacy), against runc.

A systemd host booted with systemd.unified_cgroup_hierarchy=0 has the v1
controllers: runc --systemd-cgroup works there, and podman's default
cgroup manager where systemd runs is systemd, so skiff must too.  These
tests run inside tests/vm's VM with systemd as PID 1 and such a layout
(run-in-vm.sh --systemd --cgroup-layout hybrid|legacy): the two launchers at
the end boot it once each and run this module there.  Inside, each test
drives the built skiff (and runc, and podman) and reads what the container
saw, what systemd says of the unit (systemctl show) and the cgroup files.

The module is not named test_cgroup_systemd_*: test_cgroup_systemd's own
launcher selects tests by that name in the unified VM.
"""
import json
import os
import re
import subprocess

import crlib
import lib
import vm
from test_cgroup_systemd import _show, runc_start

MiB = 1024 * 1024
RUNC = "/usr/sbin/runc"
MNT = "/sys/fs/cgroup"


def _need_v1_systemd():
    vm.in_guest("test_systemd_v1.test_in_vm_hybrid/legacy", systemd=True)
    if os.path.exists(f"{MNT}/cgroup.controllers"):
        raise lib.Skip("this VM's cgroups are unified (test_cgroup_systemd covers it)")


def _hybrid():
    return os.path.exists(f"{MNT}/unified/cgroup.procs")


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _hierarchies():
    """{controllers: mountpoint} of the v1 hierarchies ("cpu,cpuacct", "name=systemd")."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            post = post.split()
            if post and post[0] == "cgroup":
                opts = [o for o in post[2].split(",") if o.startswith("name=") or
                        ("=" not in o and o not in ("rw", "ro", "xattr", "clone_children"))]
                out[",".join(opts)] = pre.split()[4]
    return out


def _cgroups_of(pid):
    """{controllers: path} from /proc/PID/cgroup ("" is the cgroup2 line)."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctl, path = line.rstrip("\n").split(":", 2)
            out[ctl] = path
    return out


def _dirs_of(path):
    """The hierarchies (mountpoints) in which PATH exists."""
    mounts = list(_hierarchies().values()) + ([f"{MNT}/unified"] if _hybrid() else [])
    return sorted(m for m in mounts if os.path.isdir(m + path))


def _file(ctl, path, name):
    return _read(f"{_hierarchies()[ctl]}{path}/{name}")


def _bundle(args, cgroups_path, resources=None, edit=None):
    def change(c):
        c["linux"]["cgroupsPath"] = cgroups_path
        c["linux"]["resources"].update(resources or {})
        # runc spec's cgroup mount: on v1 the container's own directory of each hierarchy.
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                            "source": "cgroup",
                            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
        if edit:
            edit(c)
    return lib.Bundle(args, edit=change)


KMSG2 = {"path": "/dev/kmsg2", "type": "c", "major": 1, "minor": 11}
RESOURCES = {
    "memory": {"limit": 64 * MiB, "reservation": 32 * MiB},
    "pids": {"limit": 77},
    "cpu": {"shares": 512, "quota": 12345, "period": 100000, "cpus": "0"},
    "network": {"classID": 0x100001},
}
# What systemctl show says for RESOURCES: systemd's v1 properties, as runc sets them.
SHOWN = {
    "Delegate": "yes", "MemoryLimit": str(64 * MiB), "CPUShares": "512", "TasksMax": "77",
    "CPUQuotaPerSecUSec": "130ms", "CPUQuotaPeriodUSec": "100ms", "AllowedCPUs": "0",
    "MemoryAccounting": "yes", "CPUAccounting": "yes", "BlockIOAccounting": "yes",
    "TasksAccounting": "yes", "DefaultDependencies": "no", "DevicePolicy": "strict",
}
# The files, by hierarchy: systemd's (memory, cpu, pids) and skiff's own (cpuset, net_cls).
FILES = {
    ("memory", "memory.limit_in_bytes"): str(64 * MiB),
    ("memory", "memory.soft_limit_in_bytes"): str(32 * MiB),
    ("pids", "pids.max"): "77",
    ("cpu,cpuacct", "cpu.shares"): "512",
    ("cpu,cpuacct", "cpu.cfs_period_us"): "100000",
    ("cpu,cpuacct", "cpu.cfs_quota_us"): "13000",
    ("cpuset", "cpuset.cpus"): "0",
    ("net_cls,net_prio", "net_cls.classid"): str(0x100001),
}
# Read from inside the container, through its /sys/fs/cgroup.
INSIDE = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
          "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset/cpuset.cpus "
          "/sys/fs/cgroup/net_cls/net_cls.classid")
INSIDE_WANT = [str(64 * MiB), "77", "13000", "0", str(0x100001)]


def _files(path):
    return {k: _file(k[0], path, k[1]) for k in FILES}


def _devices(path):
    return sorted(_file("devices", path, "devices.list").splitlines())


def test_layout_is_what_the_vm_was_asked_for():
    """run-in-vm.sh --cgroup-layout: systemd mounted v1 hierarchies, plus cgroup2 at
    /sys/fs/cgroup/unified on hybrid and no cgroup2 at all on legacy."""
    _need_v1_systemd()
    layout = re.search(r"skiffvm\.cgroups=(\S+)", _read("/proc/cmdline")).group(1)
    with open("/proc/self/mountinfo") as f:
        cgroup2 = [line.split()[4] for line in f if " - cgroup2 " in line]
    assert cgroup2 == ([f"{MNT}/unified"] if layout == "hybrid" else []), (layout, cgroup2)
    h = _hierarchies()
    assert h.get("name=systemd") == f"{MNT}/systemd", h
    for ctl in ("memory", "pids", "freezer", "cpuset", "devices", "cpu,cpuacct"):
        assert ctl in h, (ctl, h)


def test_scope_in_every_hierarchy_with_its_limits():
    """The scope's unit and properties, the init in the scope's cgroup in every hierarchy
    (systemd's and the ones skiff made) from its first instruction, the limits in the files
    and as the container sees and meets them, the device list enforced."""
    _need_v1_systemd()
    cid = lib.new_id("sd1")
    unit = f"skifftest-{cid}.scope"
    path = f"/machine.slice/{unit}"
    b = _bundle(["sleep", "300"], f"machine.slice:skifftest:{cid}", RESOURCES,
                edit=lambda c: c["linux"].update(devices=[KMSG2]))
    lib.skiff_ok("--systemd-cgroup", "run", "-d", "--bundle", b.path, cid)
    pid = lib.state(cid)["pid"]
    cgs = _cgroups_of(pid)
    assert set(cgs) >= set(_hierarchies()), (cgs, _hierarchies())
    assert set(cgs.values()) == {path}, cgs
    assert ("" in cgs) == _hybrid(), cgs
    shown = _show(unit, *SHOWN, "Slice", "ControlGroup", "DeviceAllow")
    for k, v in SHOWN.items():
        assert shown.get(k) == v, (k, shown.get(k), shown)
    assert shown["Slice"] == "machine.slice" and shown["ControlGroup"] == path, shown
    assert "/dev/char/1:3 rwm" in shown["DeviceAllow"], shown["DeviceAllow"]
    assert _files(path) == {k: v for k, v in FILES.items()}, _files(path)
    # From inside: its own cgroup's files at /sys/fs/cgroup, the init's first output.
    r = lib.skiff_ok("exec", cid, "sh", "-c", INSIDE)
    assert r.stdout.split() == INSIDE_WANT, r.stdout
    # The device list holds: /dev/null works, a device outside the list does not.
    r = lib.skiff("exec", cid, "sh", "-c", "echo x > /dev/null && echo ok; "
                  "echo skiff > /dev/kmsg2 && echo written || echo denied")
    assert r.stdout.split() == ["ok", "denied"], r
    assert "c 1:11" not in " ".join(_devices(path)) and "c 1:3 rwm" in _devices(path)
    # The memory limit is met: a hog past it is OOM-killed (137), counted by events --stats.
    r = lib.skiff("exec", cid, "probe", "memhog", "128", timeout=120)
    assert r.returncode == 137, r
    stats = json.loads(lib.skiff_ok("events", "--stats", cid).stdout)["data"]
    assert stats["memory"]["usage"]["limit"] == 64 * MiB, stats["memory"]
    lib.skiff_ok("delete", "--force", cid)
    assert _show(unit) == {} and _dirs_of(path) == [], _dirs_of(path)


def test_first_process_runs_inside_its_scope():
    """`run` prints the init's cgroups: every hierarchy already the scope's; with a cgroup
    namespace made after that, each is its root."""
    _need_v1_systemd()
    cid = lib.new_id("sd1")
    b = _bundle(["cat", "/proc/self/cgroup"], f"machine.slice:skifftest:{cid}")
    r = lib.skiff("--systemd-cgroup", "run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    paths = {line.split(":", 2)[2] for line in r.stdout.split()}
    assert paths == {f"/machine.slice/skifftest-{cid}.scope"}, r.stdout
    assert _show(f"skifftest-{cid}.scope") == {}
    cid = lib.new_id("sd1")
    b = _bundle(["cat", "/proc/self/cgroup"], f"machine.slice:skifftest:{cid}",
                edit=lambda c: c["linux"]["namespaces"].append({"type": "cgroup"}))
    r = lib.skiff("--systemd-cgroup", "run", "--bundle", b.path, cid)
    assert r.returncode == 0 and {line.split(":", 2)[2] for line in r.stdout.split()} == {"/"}, r


def test_update_pause_exec_delete():
    _need_v1_systemd()
    cid = lib.new_id("sd1")
    unit = f"skifftest-{cid}.scope"
    path = f"/machine.slice/{unit}"
    b = _bundle(["sleep", "300"], f"machine.slice:skifftest:{cid}",
                {"memory": {"limit": 64 * MiB}, "pids": {"limit": 50}})
    lib.skiff_ok("--systemd-cgroup", "run", "-d", "--bundle", b.path, cid)
    pid = lib.state(cid)["pid"]
    # update: the unit's properties, then the files (the driver is in the state: no flag).
    lib.skiff_ok("update", "--memory", str(96 * MiB), "--pids-limit", "60",
                 "--cpu-quota", "20000", "--cpu-period", "100000", "--cpu-share", "256", cid)
    shown = _show(unit, "MemoryLimit", "TasksMax", "CPUQuotaPerSecUSec", "CPUShares")
    assert shown == {"MemoryLimit": str(96 * MiB), "TasksMax": "60",
                     "CPUQuotaPerSecUSec": "200ms", "CPUShares": "256"}, shown
    assert (_file("memory", path, "memory.limit_in_bytes"), _file("pids", path, "pids.max"),
            _file("cpu,cpuacct", path, "cpu.cfs_quota_us"),
            _file("cpu,cpuacct", path, "cpu.shares")) == (str(96 * MiB), "60", "20000", "256")
    # A daemon-reload writes the files from the unit again: the limits stay.
    subprocess.run(["systemctl", "daemon-reload"], check=True, timeout=120)
    assert _file("memory", path, "memory.limit_in_bytes") == str(96 * MiB)
    # pause/resume through the freezer hierarchy, which systemd leaves to the runtime
    lib.skiff_ok("pause", cid)
    assert _file("freezer", path, "freezer.state") == "FROZEN"
    assert lib.state(cid)["status"] == "paused"
    lib.skiff_ok("resume", cid)
    assert _file("freezer", path, "freezer.state") == "THAWED"
    assert lib.state(cid)["status"] == "running"
    # exec joins the scope in every hierarchy; ps lists both
    r = lib.skiff_ok("exec", cid, "cat", "/proc/self/cgroup")
    assert {line.split(":", 2)[2] for line in r.stdout.split()} == {path}, r.stdout
    assert "sleep" in lib.skiff_ok("ps", cid).stdout
    lib.skiff_ok("kill", cid, "KILL")
    lib.skiff_ok("delete", "--force", cid)
    assert _show(unit) == {} and _dirs_of(path) == [], _dirs_of(path)


def test_errors_leave_nothing():
    """A v2-only limit, a path not in systemd's form, a failing createRuntime hook after the
    scope was started: one line each, and no unit, state or cgroup left."""
    _need_v1_systemd()
    for cp, res, edit, want in (
            ("machine.slice:skifftest:{}", {"unified": {"memory.high": "1"}}, None,
             "linux.resources.unified"),
            ("/skiff-test/x", None, None, "linux.cgroupsPath"),
            ("machine.slice:skifftest:{}", None,
             lambda c: c.update(hooks={"createRuntime": [{"path": "/bin/false"}]}),
             "createRuntime")):
        cid = lib.new_id("sd1")
        b = _bundle(["true"], cp.format(cid), res, edit=edit)
        r = lib.skiff("--systemd-cgroup", "run", "--bundle", b.path, cid)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and want in r.stderr, r
        assert not os.path.exists(os.path.join(lib.ROOT, cid))
        assert _show(f"skifftest-{cid}.scope") == {}
        assert _dirs_of(f"/machine.slice/skifftest-{cid}.scope") == []


def test_rootless_is_refused_as_runc():
    """systemd delegates v1 hierarchies to root only: one line, as runc refuses it."""
    _need_v1_systemd()
    import test_rootless
    u = test_rootless.User()
    cid = f"sd1u{os.getpid()}"
    b = u.bundle(["true"], edit=lambda c: c["linux"].update(cgroupsPath=f":skifftest:{cid}"))
    r = u.skiff("--systemd-cgroup", "run", "--bundle", b, cid)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "rootless on a cgroup v1 host is not supported" in r.stderr, r.stderr
    if os.access(RUNC, os.X_OK):
        rr = u.run(RUNC, "--root", f"{u.home}/runc", "--systemd-cgroup", "run", "--bundle", b,
                   cid)
        assert rr.returncode != 0, rr


def _observe(pid, unit, path):
    """What one runtime made: the unit's properties, the files, the device list, the
    init's cgroup in each hierarchy (the unit's name replaced by UNIT)."""
    props = _show(unit, *SHOWN, "Slice", "DeviceAllow")
    props["DeviceAllow"] = sorted(props["DeviceAllow"])  # in the runtime's order
    cgs = {k: v.replace(unit, "UNIT") for k, v in _cgroups_of(pid).items()}
    return {"props": props, "files": _files(path), "devices": _devices(path), "cgroups": cgs}


def _char_majors():
    """{name: major} of /proc/devices' character devices ("pts": "136")."""
    out, chars = {}, False
    for line in _read("/proc/devices").splitlines():
        if line.endswith("devices:"):
            chars = line.startswith("Character")
        elif chars and line.split():
            major, name = line.split()
            out[name] = major
    return out


def _as_current_runc(ours, theirs):
    """Intended differences with Debian's runc 1.1.5, which is older than the runc skiff
    follows: it names a whole major by its /proc/devices group (char-pts) where runc
    now gives the number to systemd 240 and later (char-136: the same devices), and its
    DeviceAllow lacks /dev/net/tun (10:200) although its devices.list allows it; current
    runc, and skiff, give systemd the same list as the file.  It also leaves the init in
    the root of the misc hierarchy, which later runcs join as every other one."""
    majors = _char_majors()
    allow = theirs["props"].get("DeviceAllow", [])
    theirs["props"]["DeviceAllow"] = sorted(
        re.sub(r"^char-([a-z]\S*)", lambda m: "char-" + majors.get(m.group(1), m.group(1)), d)
        for d in allow)
    if "/dev/char/10:200 rwm" not in allow:
        ours["props"]["DeviceAllow"].remove("/dev/char/10:200 rwm")
    if theirs["cgroups"].get("misc") == "/":
        assert ours["cgroups"]["misc"] == "/machine.slice/UNIT", ours["cgroups"]
        theirs["cgroups"]["misc"] = ours["cgroups"]["misc"]


def test_same_scope_as_runc():
    """runc --systemd-cgroup on the same bundle in the same boot: the same unit properties,
    the same hierarchies joined, the same files and device list; both leave nothing."""
    _need_v1_systemd()
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip("runc is not installed")
    cid = lib.new_id("sd1")
    b = _bundle(["sleep", "300"], f"machine.slice:skifftest:{cid}", RESOURCES,
                edit=lambda c: c["linux"].update(devices=[KMSG2]))
    lib.skiff_ok("--systemd-cgroup", "run", "-d", "--bundle", b.path, cid)
    unit = f"skifftest-{cid}.scope"
    ours = _observe(lib.state(cid)["pid"], unit, f"/machine.slice/{unit}")
    lib.skiff_ok("delete", "--force", cid)
    assert _dirs_of(f"/machine.slice/{unit}") == []
    pid, gone = runc_start(b, cid)
    unit = f"runctest-{cid}.scope"
    theirs = _observe(pid, unit, f"/machine.slice/{unit}")
    gone()
    assert _show(unit) == {} and _dirs_of(f"/machine.slice/{unit}") == []
    # Intended: a quota that is not a whole percent is rounded up in the file as in the
    # unit, as runc does since its fix; Debian's runc 1.1.5 writes the exact quota (which
    # systemd overwrites on the next daemon-reload).
    key = ("cpu,cpuacct", "cpu.cfs_quota_us")
    assert ours["files"].pop(key) == "13000"
    assert theirs["files"].pop(key) in ("12345", "13000")
    _as_current_runc(ours, theirs)
    for k in ours:
        assert ours[k] == theirs[k], (k, ours[k], theirs[k])


def test_checkpoint_restore_as_runc():
    """CRIU on a v1 host: restore -d puts the tree back into a new scope in every hierarchy
    and it goes on counting; delete leaves nothing.  runc the same on the same bundle
    (Debian's runc 1.1.5 leaves the misc hierarchy at its root, as at create)."""
    _need_v1_systemd()
    if not os.path.exists(crlib.CRIU):
        raise lib.Skip("criu is not installed")
    crlib.need_libcriu()
    for name in ("skiff", "runc"):
        rt = crlib.Runtime(name)
        cid = rt.new_id("ck1")
        path = f"/machine.slice/cktest-{cid}.scope"
        b = crlib.counter_bundle(f"machine.slice:cktest:{cid}")
        rt.piped("run", "-d", "--bundle", b.path, cid, systemd=True)
        crlib.counting(b, name)
        rt.checkpoint(cid, b.file("img"), systemd=True)
        at_dump = crlib.count(b)
        rt.restore(cid, b.file("img"), b, systemd=True)
        cgs = _cgroups_of(rt.state(cid)["pid"])
        if name == "runc" and cgs.get("misc") == "/":
            del cgs["misc"]
        assert set(cgs.values()) == {path}, (name, cgs)
        # It counts on from the dump (waiting for that: under TCG a second can pass
        # without a count), and exec sees it too.
        after = crlib.counting(b, name)
        assert after > at_dump, (name, at_dump, after)
        assert int(rt.ok("exec", cid, "cat", "/tmp/count").stdout) >= after, name
        rt.ok("delete", "--force", cid)
        assert _dirs_of(path) == [], (name, _dirs_of(path))


# ---- podman with its stock configuration: cgroup_manager systemd where systemd runs ----

def test_podman_default_cgroup_manager():
    """podman's defaults on a systemd host with v1 cgroups: machine.slice/libpod-ID.scope
    in every hierarchy, limits seen from inside, pause through the freezer, update, stop,
    rm (the unit and its cgroups go)."""
    _need_v1_systemd()
    import clients
    import test_podman as pm
    clients.require_tools("podman", "conmon")
    pm.setup()
    name = pm.new_name("sd1")
    r = pm.podman("run", "-d", "--name", name, "--memory", "32m", "--pids-limit", "20",
                  "--cpus", "0.5", clients.IMAGE, "probe", "sleep", "inf")
    assert r.returncode == 0, f"podman run -d failed ({r.returncode}): {r.stderr}"
    cid = pm.full_id(name)
    unit = f"libpod-{cid}.scope"
    path = f"/machine.slice/{unit}"
    inside = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
              "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    try:
        pid = int(pm.inspect(name, "{{.State.Pid}}"))
        assert set(_cgroups_of(pid).values()) == {path}, _cgroups_of(pid)
        assert _show(unit, "ActiveState", "MemoryLimit") == {
            "ActiveState": "active", "MemoryLimit": str(32 * MiB)}
        r = pm.podman("exec", name, "sh", "-c", inside)
        assert r.returncode == 0 and r.stdout.split() == [str(32 * MiB), "20", "50000"], r
        r = pm.podman("pause", name)
        assert r.returncode == 0, r.stderr
        assert _file("freezer", path, "freezer.state") == "FROZEN"
        assert pm.runtime_state(cid)["status"] == "paused"
        r = pm.podman("unpause", name)
        assert r.returncode == 0, r.stderr
        assert _file("freezer", path, "freezer.state") == "THAWED"
        r = pm.podman("update", "--memory", "64m", "--cpus", "1.5", name)
        assert r.returncode == 0, r.stderr
        r = pm.podman("exec", name, "sh", "-c", inside)
        assert r.stdout.split()[::2] == [str(64 * MiB), "150000"], r.stdout
        assert _show(unit, "MemoryLimit") == {"MemoryLimit": str(64 * MiB)}
        r = pm.podman("stop", name)
        assert r.returncode == 0, r.stderr
        r = pm.podman("rm", name)
        assert r.returncode == 0, r.stderr
    finally:
        pm.remove(name)
    assert pm.runtime_state(cid) is None, "podman rm left the runtime's state"
    assert _show(unit, "ActiveState").get("ActiveState", "inactive") == "inactive"
    assert _dirs_of(path) == [], _dirs_of(path)
    left = pm.teardown()
    assert not left, f"left behind: {left}"


# ---- the launchers, on the build host ----

def _in_vm(layout):
    passed, skipped, out = vm.drive("test_systemd_v1.test_", timeout=900, systemd=True,
                                    cgroups=layout)
    # Inside, only the two launchers skip.
    assert len(skipped) == 2 and all("already in the VM" in s for s in skipped), \
        f"tests skipped in the VM:\n{out[-3000:]}"
    assert passed == 9, out[-3000:]


def test_in_vm_hybrid():
    """Boots the VM with systemd and hybrid cgroups (v1 controllers, cgroup2 at
    /sys/fs/cgroup/unified for systemd's own tracking) and runs this module there."""
    _in_vm("hybrid")


def test_in_vm_legacy():
    """The same with legacy cgroups (no cgroup2 at all)."""
    _in_vm("legacy")
