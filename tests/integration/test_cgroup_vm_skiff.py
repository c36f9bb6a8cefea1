"""skiff's cgroup commands against real cgroup v2 controllers.

These tests run inside tests/vm's VM (pure cgroup v2, every controller
enabled); on the host they skip, and test_cgroup_ops.test_cgroup_commands_in_vm
boots the VM and runs this module there.  Each one drives the built skiff with
a busybox+probe bundle and reads the container's cgroup files from the host
side, or looks at what the probe saw from inside.
"""
import contextlib
import json
import os
import subprocess
import time

import lib

MNT = "/sys/fs/cgroup"
MiB = 1024 * 1024


def _need_vm():
    if os.environ.get("SKIFF_IN_VM") != "1":
        raise lib.Skip("runs inside the VM (test_cgroup_ops.test_cgroup_commands_in_vm)")
    try:
        with open(os.path.join(MNT, "cgroup.controllers")) as f:
            have = f.read().split()
    except OSError as e:
        raise lib.Skip(f"no cgroup v2 at {MNT}: {e}")
    for c in ("memory", "pids", "cpu"):
        if c not in have:
            raise lib.Skip(f"the {c} controller is not available in the VM")


def _with_resources(resources):
    def edit(cfg):
        cfg["linux"]["resources"].update(resources)
    return edit


def _running(args, resources=None):
    """A detached container running args; returns (cid, host pid of its init)."""
    b = lib.Bundle(args, edit=_with_resources(resources or {}))
    cid = lib.new_id("v")
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    return cid, lib.state(cid)["pid"]


def _cgroup_of(pid):
    """The host path of pid's cgroup v2 directory, from /proc (not from skiff)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return MNT + line[3:].strip()
    raise AssertionError(f"pid {pid} has no cgroup v2 line")


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _wait_for(cond, timeout=20, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_limits_are_written_to_the_container_cgroup():
    _need_vm()
    cid, pid = _running(["probe", "sleep", "inf"],
                        {"memory": {"limit": 48 * MiB}, "pids": {"limit": 23}})
    cg = _cgroup_of(pid)
    assert _read(f"{cg}/memory.max") == str(48 * MiB)
    assert _read(f"{cg}/pids.max") == "23"
    rec = json.loads(lib.skiff_ok("events", "--stats", cid).stdout)
    assert rec["type"] == "stats" and rec["id"] == cid
    assert rec["data"]["memory"]["usage"]["limit"] == 48 * MiB, rec
    assert rec["data"]["memory"]["usage"]["usage"] > 0, rec
    assert rec["data"]["pids"] == {"current": 1, "limit": 23}, rec
    assert "raw" in rec["data"]["memory"] and "anon" in rec["data"]["memory"]["raw"], rec


def test_memory_hog_is_oom_killed():
    _need_vm()
    limits = {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}}
    b = lib.Bundle(["probe", "memhog", "64"], edit=_with_resources(limits))
    cid = lib.new_id("v")
    r = lib.skiff("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode == 137, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
    # The probe reported progress up to where the kernel killed it.
    got = [json.loads(l)["mb"] for l in r.stdout.splitlines() if l.startswith("{")]
    assert got and max(got) < 16, got


def test_events_reports_the_oom_kill():
    _need_vm()
    limits = {"memory": {"limit": 16 * MiB, "swap": 16 * MiB}}
    b = lib.Bundle(["probe", "memhog", "64"], edit=_with_resources(limits))
    cid = lib.new_id("v")
    lib.skiff_ok("create", "--bundle", b.path, cid)
    out = open(os.path.join(lib.WORK, f"events-{cid}"), "w+")
    ev = subprocess.Popen([lib.SKIFF, "--root", lib.ROOT, "events", "--interval", "200ms", cid],
                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        # The first stats record comes one interval after events read the OOM
        # baseline: start the hog only then, or its kill would be the baseline.
        def started():
            with open(out.name) as f:  # its own offset: `out`'s is the writer's too
                return f.read().strip() != "" or ev.poll() is not None
        _wait_for(started, timeout=60, what="the first stats record")
        assert ev.poll() is None, "events ended before the container started"
        lib.skiff_ok("start", cid)
        # The stream ends by itself when the container stops.
        assert ev.wait(timeout=60) == 0
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait(timeout=20)
    out.seek(0)
    records = [json.loads(l) for l in out.read().splitlines()]
    out.close()
    assert {"type": "oom", "id": cid} in records, records[-5:]
    assert lib.state(cid)["status"] == "stopped"


def test_fork_bomb_stops_at_pids_max():
    _need_vm()
    b = lib.Bundle(["probe", "forkbomb", "100"], edit=_with_resources({"pids": {"limit": 10}}))
    cid = lib.new_id("v")
    r = lib.skiff("run", "--bundle", b.path, cid, timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    # The probe itself is one of the 10.
    assert rep["forked"] == 9 and rep["errno"] == 11, rep


def test_update_changes_live_limits():
    _need_vm()
    cid, pid = _running(["probe", "sleep", "inf"],
                        {"memory": {"limit": 64 * MiB}, "cpu": {"quota": 50000, "period": 100000}})
    cg = _cgroup_of(pid)
    assert _read(f"{cg}/memory.max") == str(64 * MiB)
    lib.skiff_ok("update", "--memory", "32m", cid)
    assert _read(f"{cg}/memory.max") == str(32 * MiB)
    lib.skiff_ok("update", "--resources", "-", cid,
                 input=json.dumps({"memory": {"limit": 40 * MiB}, "pids": {"limit": 50}}))
    assert _read(f"{cg}/memory.max") == str(40 * MiB)
    assert _read(f"{cg}/pids.max") == "50"
    # A quota alone keeps the period in force (from the recorded config).
    lib.skiff_ok("update", "--cpu-quota", "20000", cid)
    assert _read(f"{cg}/cpu.max") == "20000 100000"
    # memory+swap alone is relative to the recorded memory limit (40 MiB).
    if os.path.exists(f"{cg}/memory.swap.max"):
        lib.skiff_ok("update", "--memory-swap", "48m", cid)
        assert _read(f"{cg}/memory.swap.max") == str(8 * MiB)
    lib.skiff_ok("update", "--memory", "1.5g", cid)
    assert _read(f"{cg}/memory.max") == str(1536 * MiB)
    lib.skiff_ok("update", "--memory", "-1", "--pids-limit", "-1", cid)
    assert _read(f"{cg}/memory.max") == "max"
    assert _read(f"{cg}/pids.max") == "max"
    # A value the kernel refuses is one clear line, and nothing else changes.
    r = lib.skiff("update", "--cpuset-cpus", "999", "--pids-limit", "7", cid)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cpuset" in r.stderr, r.stderr
    assert _read(f"{cg}/pids.max") == "max"


def test_pause_resume_and_ps():
    _need_vm()
    cid, pid = _running(["sh", "-c", "probe sleep inf & probe sleep inf & exec probe count"])
    cg = _cgroup_of(pid)
    _wait_for(lambda: len(_read(f"{cg}/cgroup.procs").split()) == 3, what="3 processes")
    pids = json.loads(lib.skiff_ok("ps", "--format", "json", cid).stdout)
    assert sorted(pids) == sorted(int(p) for p in _read(f"{cg}/cgroup.procs").split())
    assert pid in pids
    lib.skiff_ok("pause", cid)
    assert lib.state(cid)["status"] == "paused"
    assert "frozen 1" in _read(f"{cg}/cgroup.events")
    lib.skiff_ok("resume", cid)
    assert lib.state(cid)["status"] == "running"
    assert "frozen 0" in _read(f"{cg}/cgroup.events")


def test_kill_all_empties_and_delete_removes_the_cgroup():
    _need_vm()
    cid, pid = _running(["sh", "-c", "probe sleep inf & probe sleep inf & exec probe sleep inf"])
    cg = _cgroup_of(pid)
    _wait_for(lambda: len(_read(f"{cg}/cgroup.procs").split()) == 3, what="3 processes")
    lib.skiff_ok("kill", "--all", cid, "KILL")
    _wait_for(lambda: _read(f"{cg}/cgroup.procs") == "", what="an empty cgroup")
    assert "populated 0" in _read(f"{cg}/cgroup.events")
    _wait_for(lambda: lib.state(cid)["status"] == "stopped", what="stopped")
    lib.skiff_ok("delete", cid)
    assert not os.path.exists(cg), f"{cg} is left behind"


@contextlib.contextmanager
def _container_in(path):
    """A detached probe in the cgroup at path; it and path's directories go afterwards."""
    b = lib.Bundle(["probe", "sleep", "inf"],
                   edit=lambda c: c["linux"].update(cgroupsPath=path))
    cid = lib.new_id("v")
    try:
        lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
        cg = _cgroup_of(lib.state(cid)["pid"])
        assert cg == MNT + path, cg
        yield cid, cg
    finally:
        lib.skiff("delete", "--force", cid)
        while path.count("/") > 1:
            path = os.path.dirname(path)
            if os.path.isdir(MNT + path):
                os.rmdir(MNT + path)


def test_the_container_gets_every_controller():
    """As with runc: every controller of the root, whatever the limits (here none)."""
    _need_vm()
    with _container_in(f"/skiff-all-{os.getpid()}/a/c") as (cid, cg):
        assert _read(f"{cg}/cgroup.controllers") == _read(f"{MNT}/cgroup.controllers")
        assert _read(f"{cg}/pids.max") == "max"
        assert _read(f"{cg}/cgroup.subtree_control") == ""


def test_update_enables_a_controller_the_parents_lack():
    """A limit whose controller was taken away since create gets it enabled again."""
    _need_vm()
    parent = f"/skiff-upd-{os.getpid()}"
    with _container_in(f"{parent}/c") as (cid, cg):
        with open(f"{MNT}{parent}/cgroup.subtree_control", "w") as f:
            f.write("-memory -pids")
        assert "memory" not in _read(f"{MNT}{parent}/cgroup.subtree_control").split()
        assert not os.path.exists(f"{cg}/memory.max")
        lib.skiff_ok("update", "--memory", "24m", "--pids-limit", "9", cid)
        enabled = _read(f"{MNT}{parent}/cgroup.subtree_control").split()
        assert "memory" in enabled and "pids" in enabled, enabled
        assert _read(f"{cg}/memory.max") == str(24 * MiB)
        assert _read(f"{cg}/pids.max") == "9"
