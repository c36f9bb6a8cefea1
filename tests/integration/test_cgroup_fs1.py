"""The cgroup v1 driver (fs1) on a legacy or hybrid host, such as the build host.

The limits are read back from the v1 files and compared with what runc
writes for the same bundle; the others look at what the container's
processes met: the OOM killer, pids.max, the device rules, the freezer,
and every hierarchy holding every process.  On a unified host they skip
(the fs2 driver is tested in the VM).
"""
import json
import os
import subprocess
import time

import lib

MiB = 1024 * 1024
RUNC = "/usr/sbin/runc"


def _need_v1():
    mounts = lib.cgroup_v1_mounts()
    for c in ("memory", "pids", "cpu", "cpuset", "devices", "freezer", "blkio"):
        if c not in mounts:
            raise lib.Skip(f"not a cgroup v1 host with the {c} controller mounted")
    return mounts


def _edit(resources=None, path=None, extra=None):
    def edit(c):
        c["linux"]["resources"].update(resources or {})
        if path:
            c["linux"]["cgroupsPath"] = path
        if extra:
            extra(c)
    return edit


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _wait_for(cond, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


RESOURCES = {
    "memory": {"limit": 96 * MiB, "swap": 128 * MiB, "reservation": 32 * MiB,
               "swappiness": 20, "disableOOMKiller": False},
    "cpu": {"shares": 300, "quota": 30000, "period": 60000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 33},
    "blockIO": {"throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}],
                "throttleWriteIOPSDevice": [{"major": 7, "minor": 0, "rate": 99}]},
    "devices": [{"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "rw"},
                {"allow": True, "type": "b", "major": 7, "access": "r"}],
}

FILES = ["memory/memory.limit_in_bytes", "memory/memory.memsw.limit_in_bytes",
         "memory/memory.soft_limit_in_bytes", "memory/memory.swappiness",
         "cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
         "cpuset/cpuset.cpus", "cpuset/cpuset.mems", "pids/pids.max",
         "blkio/blkio.throttle.read_bps_device", "blkio/blkio.throttle.write_iops_device"]


def _snapshot(mounts, path):
    out = {}
    for f in FILES:
        ctl, name = f.split("/")
        out[f] = _read(f"{mounts[ctl]}{path}/{name}")
    out["devices.list"] = sorted(_read(f"{mounts['devices']}{path}/devices.list").split("\n"))
    return out


def test_limits_match_what_runc_writes():
    mounts = _need_v1()
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip("runc is not installed")
    cid = lib.new_id("f")
    b = lib.Bundle(["probe", "sleep", "inf"], edit=_edit(RESOURCES, f"/skiff-{cid}"))
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    assert lib.state(cid).get("cgroupManager", "fs1") == "fs1"
    mine = _snapshot(mounts, f"/skiff-{cid}")

    rb = lib.Bundle(["probe", "sleep", "inf"], edit=_edit(RESOURCES, f"/runc-{cid}"))
    rroot = os.path.join(lib.WORK, "runc-root")
    # Detached, the container keeps its stdio: not pipes, or run would wait for their EOF.
    with open(os.path.join(lib.WORK, f"runc-{cid}.err"), "w+") as err:
        run = subprocess.run([RUNC, "--root", rroot, "run", "-d", "--bundle", rb.path,
                              "r" + cid], stdout=subprocess.DEVNULL, stderr=err,
                             stdin=subprocess.DEVNULL, timeout=60)
        err.seek(0)
        run.stderr = err.read()
    try:
        assert run.returncode == 0, run.stderr
        theirs = _snapshot(mounts, f"/runc-{cid}")
    finally:
        subprocess.run([RUNC, "--root", rroot, "delete", "--force", "r" + cid],
                       capture_output=True, timeout=60)
    assert mine == theirs, {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


def test_every_process_is_in_every_hierarchy_and_its_own_cgroupns_root():
    _need_v1()

    def edit(c):
        c["linux"]["namespaces"].append({"type": "cgroup"})
    b = lib.Bundle(["sh", "-c", "cat /proc/self/cgroup; exec probe sleep inf"], edit=edit)
    cid = lib.new_id("f")
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    pid = lib.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        host_view = [l.strip().split(":", 2) for l in f]
    # From the host: the same cgroup in each hierarchy (v1 and the cgroup2 part).
    assert {p for _, _, p in host_view} == {f"/skiff-{cid}"}, host_view
    # exec'd processes are moved into all of them before they run.
    r = lib.skiff_ok("exec", cid, "cat", "/proc/self/cgroup")
    lines = r.stdout.strip().splitlines()
    assert len(lines) == len(host_view), lines
    # In its cgroup namespace, made once the init was moved, each is the root.
    assert all(l.endswith(":/") for l in lines), lines


def test_a_new_cpuset_does_not_rebuild_the_scheduling_domains():
    """Under a balancing root cpuset, the container's gets sched_load_balance 0 before its
    cpus (the kernel ignores the flag below such a root), so neither giving it cpus nor
    removing it rebuilds the domains; it still gets the parent's cpus and mems."""
    mounts = _need_v1()
    root = mounts["cpuset"]
    if _read(f"{root}/cpuset.sched_load_balance") != "1":
        raise lib.Skip("the root cpuset does not balance: skiff leaves the flag alone then")
    cid = lib.new_id("f")
    d = f"{root}/skiff-{cid}"
    b = lib.Bundle(["probe", "sleep", "inf"], edit=_edit(path=f"/skiff-{cid}"))
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    assert _read(f"{d}/cpuset.sched_load_balance") == "0"
    assert _read(f"{d}/cpuset.cpus") == _read(f"{root}/cpuset.cpus")
    assert _read(f"{d}/cpuset.mems") == _read(f"{root}/cpuset.mems")
    pid = lib.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        assert f"cpuset:/skiff-{cid}\n" in f.read(), "the init is in its cpuset"
    lib.skiff_ok("delete", "--force", cid)
    assert not os.path.exists(d)


def test_memory_hog_is_oom_killed_and_events_report_it():
    _need_v1()
    limits = {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}}
    b = lib.Bundle(["probe", "memhog", "64"], edit=_edit(limits))
    cid = lib.new_id("f")
    lib.skiff_ok("create", "--bundle", b.path, cid)
    out = open(os.path.join(lib.WORK, f"events-{cid}"), "w+")
    ev = subprocess.Popen([lib.SKIFF, "--root", lib.ROOT, "events", "--interval", "200ms", cid],
                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        def started():
            with open(out.name) as f:
                return f.read().strip() != "" or ev.poll() is not None
        _wait_for(started, "the first stats record", timeout=60)
        lib.skiff_ok("start", cid)
        assert ev.wait(timeout=60) == 0
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait(timeout=20)
    out.seek(0)
    records = [json.loads(l) for l in out.read().splitlines()]
    out.close()
    assert {"type": "oom", "id": cid} in records, records[-3:]
    stats = [r for r in records if r["type"] == "stats"]
    assert stats and stats[0]["data"]["memory"]["usage"]["limit"] == 16 * MiB, stats[:1]


def test_fork_bomb_stops_at_pids_max():
    _need_v1()
    b = lib.Bundle(["probe", "forkbomb", "100"], edit=_edit({"pids": {"limit": 10}}))
    r = lib.skiff("run", "--bundle", b.path, lib.new_id("f"), timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    assert rep["forked"] == 9 and rep["errno"] == 11, rep


def test_device_rules_are_enforced_like_the_ebpf_filter():
    _need_v1()

    def extra(c):
        c["linux"]["devices"] = [{"path": "/dev/loop0", "type": "b", "major": 7, "minor": 0},
                                 {"path": "/dev/loop1", "type": "b", "major": 7, "minor": 1}]
    rules = {"devices": [{"allow": False, "access": "rwm"},
                         {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "rw"},
                         {"allow": False, "type": "b", "major": 7, "minor": 0, "access": "w"}]}
    b = lib.Bundle(["sh", "-c", "head -c0 /dev/loop0 && echo l0-r; echo x > /dev/loop0 && "
                    "echo l0-w; head -c0 /dev/loop1 && echo l1-r; echo z > /dev/null && "
                    "echo null-w; true"], edit=_edit(rules, extra=extra))
    r = lib.skiff("run", "--bundle", b.path, lib.new_id("f"), timeout=60)
    assert r.returncode == 0, r.stderr
    # Later rules win: loop0 readable, not writable; loop1 never allowed; defaults stay.
    assert r.stdout.split() == ["l0-r", "null-w"], (r.stdout, r.stderr)
    assert r.stderr.count("Operation not permitted") == 2, r.stderr


def test_an_unexpressible_device_rule_is_refused():
    _need_v1()
    rules = {"devices": [{"allow": False, "access": "rwm"},
                         {"allow": True, "type": "c", "access": "rwm"},
                         {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}
    cid = lib.new_id("f")
    b = lib.Bundle(["true"], edit=_edit(rules))
    r = lib.skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "linux.resources.devices[2]" in r.stderr and "cgroup v1" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(lib.ROOT, cid))


def test_v2_only_fields_fail_naming_the_field():
    mounts = _need_v1()
    cid = lib.new_id("f")
    b = lib.Bundle(["true"], edit=_edit({"unified": {"memory.high": "50M"}}))
    r = lib.skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "linux.resources.unified" in r.stderr and "memory.high" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(lib.ROOT, cid))
    for mnt in set(mounts.values()):
        assert not os.path.exists(f"{mnt}/skiff-{cid}"), mnt


def test_update_pause_kill_and_delete_with_nested_cgroups():
    mounts = _need_v1()
    cid = lib.new_id("f")
    b = lib.Bundle(["sh", "-c", "probe sleep inf & exec probe sleep inf"],
                   edit=_edit({"memory": {"limit": 64 * MiB}}))
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    cg = f"/skiff-{cid}"
    lib.skiff_ok("update", "--memory", "80m", "--pids-limit", "12", "--cpu-share", "700", cid)
    assert _read(f"{mounts['memory']}{cg}/memory.limit_in_bytes") == str(80 * MiB)
    assert _read(f"{mounts['pids']}{cg}/pids.max") == "12"
    assert _read(f"{mounts['cpu']}{cg}/cpu.shares") == "700"
    assert json.loads(lib.skiff_ok("events", "--stats", cid).stdout)["data"]["pids"] == \
        {"current": 2, "limit": 12}

    lib.skiff_ok("pause", cid)
    assert _read(f"{mounts['freezer']}{cg}/freezer.state") == "FROZEN"
    assert lib.state(cid)["status"] == "paused"
    lib.skiff_ok("resume", cid)
    assert lib.state(cid)["status"] == "running"

    # Sub-cgroups (what a nested runtime makes) in every hierarchy, one holding a process.
    pids = json.loads(lib.skiff_ok("ps", "--format", "json", cid).stdout)
    assert len(pids) == 2, pids
    child = [p for p in pids if p != lib.state(cid)["pid"]][0]
    for mnt in set(mounts.values()):
        os.makedirs(f"{mnt}{cg}/sub/deeper", exist_ok=True)
    with open(f"{mounts['memory']}{cg}/sub/deeper/cgroup.procs", "w") as f:
        f.write(str(child))
    assert sorted(json.loads(lib.skiff_ok("ps", "--format", "json", cid).stdout)) == sorted(pids)

    lib.skiff_ok("kill", "--all", cid, "KILL")
    _wait_for(lambda: lib.state(cid)["status"] == "stopped", "the container to stop")
    lib.skiff_ok("delete", cid)
    for mnt in set(mounts.values()) | {"/sys/fs/cgroup/unified"}:
        assert not os.path.exists(f"{mnt}{cg}"), f"{mnt}{cg} left behind"


def test_pids_limit_0_is_a_limit_and_minus_1_none():
    # Spec 1.3.0: 0 is a limit, not "unlimited" (runc 1.1.5 still writes max
    # for 0); skiff writes 1, the init itself, as runc 1.3 does: nothing forks.
    mounts = _need_v1()
    for limit, want, forks in ((0, "1", 0), (-1, "max", 3)):
        cid = lib.new_id("f")
        b = lib.Bundle(["sleep", "1000"], edit=_edit({"pids": {"limit": limit}}))
        lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
        cg = lib.state(cid)["pid"]
        with open(f"/proc/{cg}/cgroup") as f:
            path = [l.split(":", 2)[2].strip() for l in f if ":pids:" in l][0]
        assert _read(f"{mounts['pids']}{path}/pids.max") == want, (limit, path)
        # exec is moved in (v1 attach is not limited); its own forks are.
        r = lib.skiff_ok("exec", cid, "probe", "forkbomb", "3")
        assert json.loads(r.stdout.strip().splitlines()[-1])["forked"] == forks, (limit, r)
        lib.skiff_ok("delete", "--force", cid)


def test_cgroup_mount_shows_the_v1_hierarchies_as_runc_does():
    """Without a cgroup namespace, /sys/fs/cgroup is runc's v1 layout: programs that size
    themselves from memory.limit_in_bytes (JVMs) find the container's limit."""
    _need_v1()
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip("runc is not installed")
    script = ("ls /sys/fs/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
              "/sys/fs/cgroup/cpu/cpu.shares; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo; "
              "stat -c %a /sys/fs/cgroup; mkdir /sys/fs/cgroup/x 2>/dev/null || echo nomkdir; "
              "echo x > /sys/fs/cgroup/memory/memory.limit_in_bytes || echo ro")
    seen = {}

    def mount(c):
        if not any(m["destination"] == "/sys" for m in c["mounts"]):
            c["mounts"].append({"destination": "/sys", "type": "sysfs", "source": "sysfs",
                                "options": ["nosuid", "noexec", "nodev", "ro"]})
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                            "source": "cgroup",
                            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
    for rt in ("skiff", "runc"):
        cid = lib.new_id("f")
        b = lib.Bundle(["sh", "-c", script], edit=_edit(
            {"memory": {"limit": 40 * MiB}, "cpu": {"shares": 256}}, f"/{rt}-{cid}", mount))
        if rt == "skiff":
            r = lib.skiff("run", "--bundle", b.path, cid)
        else:
            r = subprocess.run([RUNC, "--root", os.path.join(lib.WORK, "runc-root"), "run",
                                "--bundle", b.path, "r" + cid], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=60)
        assert r.returncode == 0, (rt, r.stderr)
        seen[rt] = r.stdout.split()
    assert seen["skiff"] == seen["runc"], seen
    assert str(40 * MiB) in seen["skiff"] and "256" in seen["skiff"], seen
    assert seen["skiff"][-3:] == ["555", "nomkdir", "ro"], seen


def test_exec_cgroup_runs_in_an_existing_sub_cgroup_as_runc():
    mounts = _need_v1()
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip("runc is not installed")
    rroot = os.path.join(lib.WORK, "runc-root")
    seen = {}
    for rt in ("skiff", "runc"):
        cid = lib.new_id("f")
        b = lib.Bundle(["probe", "sleep", "inf"], edit=_edit(path=f"/{rt}-{cid}"))
        if rt == "skiff":
            lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
            ex = lambda *a: lib.skiff("exec", *a)
        else:
            subprocess.run([RUNC, "--root", rroot, "run", "-d", "--bundle", b.path, cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, timeout=60, check=True)
            ex = lambda *a: subprocess.run([RUNC, "--root", rroot, "exec", *a],
                                           capture_output=True, text=True, timeout=60)
        cg = f"/{rt}-{cid}"
        try:
            # What a nested runtime makes: sub in every hierarchy (a v1 cpuset starts empty).
            for mnt in set(mounts.values()) | {"/sys/fs/cgroup/unified"}:
                if os.path.isdir(mnt + cg):
                    os.mkdir(f"{mnt}{cg}/sub")
            for f in ("cpuset.cpus", "cpuset.mems"):
                with open(f"{mounts['cpuset']}{cg}/{f}") as src, \
                        open(f"{mounts['cpuset']}{cg}/sub/{f}", "w") as dst:
                    dst.write(src.read())
            os.mkdir(f"{mounts['memory']}{cg}/msub")
            all_sub = ex("--cgroup", "sub", cid, "cat", "/proc/self/cgroup")
            mem_sub = ex("--cgroup", "memory:msub", cid, "cat", "/proc/self/cgroup")
            missing = ex("--cgroup", "nosuch", cid, "true")
            seen[rt] = [all_sub.returncode, all_sub.stdout.replace(cg, "/C"),
                        mem_sub.returncode, mem_sub.stdout.replace(cg, "/C"),
                        missing.returncode]
        finally:
            if rt == "skiff":
                lib.skiff("delete", "--force", cid)
            else:
                subprocess.run([RUNC, "--root", rroot, "delete", "--force", cid],
                               capture_output=True, timeout=60)
    assert seen["skiff"] == seen["runc"], seen
    assert "memory:/C/msub" in seen["skiff"][3] and ":/C/sub\n" in seen["skiff"][1], seen
    assert seen["skiff"][4] != 0
