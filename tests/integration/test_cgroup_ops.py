"""pause, resume, update, ps and events on live containers.

On the build host (hybrid cgroups: cgroup2 at /sys/fs/cgroup/unified with no
controllers) the freezer, cgroup.procs and cpu.stat still work, so pause,
ps and `events --stats` are tested here; `update` must refuse a limit whose
controller is missing, and change nothing.  The controller behaviour (limits,
OOM, pids.max, live updates, kill --all, delete) is tested in the VM by
test_cgroup_vm_skiff.py, which test_cgroup_commands_in_vm runs there.
"""
import json
import os
import re
import subprocess
import time

import lib

ONE_LINE = re.compile(r"^skiff: [^\n]+\n$")


def _counting():
    """A running container whose init writes 1, 2, 3... (every 100 ms) to /count."""
    def edit(cfg):
        cfg["root"]["readonly"] = False
    b = lib.Bundle(["sh", "-c", "exec probe count > /count"], edit=edit)
    cid = lib.new_id("o")
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    return cid, os.path.join(b.rootfs, "count")


def _last_count(path):
    # The container's shell creates the file: before its first line there is nothing to read.
    try:
        with open(path) as f:
            lines = f.read().split()
    except FileNotFoundError:
        return 0
    return int(lines[-1]) if lines else 0


def _wait_for(cond, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _sleeping(*global_args):
    b = lib.Bundle(["probe", "sleep", "inf"])
    cid = lib.new_id("o")
    lib.skiff_ok(*global_args, "run", "-d", "--bundle", b.path, cid)
    return cid, lib.state(cid)["pid"]


def _fails(r, *needles):
    assert r.returncode == 1, f"exit {r.returncode}: {r.stdout} {r.stderr}"
    assert ONE_LINE.match(r.stderr), f"not one line: {r.stderr!r}"
    for n in needles:
        assert n in r.stderr, f"{n!r} not in {r.stderr!r}"


def test_pause_stops_the_processes_and_resume_restarts_them():
    cid, count = _counting()
    _wait_for(lambda: _last_count(count) > 0, "the count to start")
    lib.skiff_ok("pause", cid)
    assert lib.state(cid)["status"] == "paused"
    frozen_at = _last_count(count)
    time.sleep(0.8)
    assert _last_count(count) == frozen_at, "the count advanced while paused"
    _fails(lib.skiff("pause", cid), "is paused, not running")
    lib.skiff_ok("resume", cid)
    assert lib.state(cid)["status"] == "running"
    _wait_for(lambda: _last_count(count) >= frozen_at + 3, "the count to resume")
    _fails(lib.skiff("resume", cid), "is running, not paused")


def test_a_paused_container_can_be_force_deleted():
    cid, pid = _sleeping()
    with open(f"/proc/{pid}/cgroup") as f:
        rel = [line[3:].strip() for line in f if line.startswith("0::")][0]
    lib.skiff_ok("pause", cid)
    _fails(lib.skiff("delete", cid), "paused")
    lib.skiff_ok("delete", "--force", cid)
    _fails(lib.skiff("state", cid), "does not exist")
    for mnt in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        assert not os.path.exists(mnt + rel + "/cgroup.procs"), f"{mnt}{rel} is left behind"


def test_pause_needs_a_running_container():
    b = lib.Bundle(["true"])
    cid = lib.new_id("o")
    lib.skiff_ok("create", "--bundle", b.path, cid)
    _fails(lib.skiff("pause", cid), f"container `{cid}` is created, not running")
    _fails(lib.skiff("pause", "no-such-container"), "does not exist")


def test_ps_lists_the_container_processes():
    cid, pid = _sleeping()
    r = lib.skiff_ok("ps", "--format", "json", cid)
    assert json.loads(r.stdout) == [pid]
    table = lib.skiff_ok("ps", cid).stdout.splitlines()
    assert "PID" in table[0].split() and len(table) == 2, table
    assert table[1].split()[table[0].split().index("PID")] == str(pid), table
    rows = lib.skiff_ok("ps", cid, "-o", "pid,comm").stdout.split()
    assert rows == ["PID", "COMMAND", str(pid), "probe"], rows
    rows = lib.skiff_ok("ps", cid, "--", "-o", "pid=,comm=", "-o", "pid").stdout.split()
    assert str(pid) in rows, rows
    _fails(lib.skiff("ps", "--format", "yaml", cid), "--format", "yaml")
    _fails(lib.skiff("ps", "--format", "json", cid, "-ef"), "json")


def test_events_stats_is_one_runc_shaped_record():
    cid, pid = _sleeping()
    r = lib.skiff_ok("events", "--stats", cid)
    lines = r.stdout.splitlines()
    assert len(lines) == 1, lines
    rec = json.loads(lines[0])
    assert rec["type"] == "stats" and rec["id"] == cid
    data = rec["data"]
    assert isinstance(data["cpu"]["usage"]["total"], int) and data["cpu"]["usage"]["total"] > 0
    assert set(data["cpu"]["throttling"]) == {"periods", "throttledPeriods", "throttledTime"}
    assert data["pids"]["current"] == 1, data["pids"]
    for k in ("memory", "blkio", "hugetlb"):
        assert isinstance(data[k], dict), data


def test_events_stream_ends_when_the_container_stops():
    cid, pid = _sleeping()
    out = open(os.path.join(lib.WORK, f"events-{cid}"), "w+")
    ev = subprocess.Popen([lib.SKIFF, "--root", lib.ROOT, "events", "--interval", "100ms", cid],
                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def records_so_far():
        with open(out.name) as f:
            return len(f.read().splitlines())
    try:
        _wait_for(lambda: records_so_far() >= 2 or ev.poll() is not None, "two stats records")
        assert ev.poll() is None, "events ended while the container runs"
        lib.skiff_ok("kill", cid, "KILL")
        assert ev.wait(timeout=10) == 0
    finally:
        if ev.poll() is None:
            ev.kill()
            ev.wait(timeout=20)
    out.seek(0)
    records = [json.loads(line) for line in out.read().splitlines()]
    out.close()
    assert len(records) >= 2, records
    assert all(r["type"] == "stats" and r["id"] == cid for r in records), records[:2]
    _fails(lib.skiff("events", cid), "is not running")


def test_events_bad_interval():
    cid, pid = _sleeping()
    _fails(lib.skiff("events", "--interval", "5x", cid), "--interval", "5x")
    _fails(lib.skiff("events", "--interval", "0s", cid), "--interval")
    _fails(lib.skiff("events", "--interval", "", cid), "--interval")
    # Go's compound durations parse (--stats returns after one record).
    lib.skiff_ok("events", "--interval", "1m30.5s", "--stats", cid)
    lib.skiff_ok("events", "--interval=250ms", "--stats", cid)


def test_update_refuses_a_missing_controller_and_changes_nothing():
    mounts = lib.cgroup_v1_mounts()
    if not mounts or "net_cls" in mounts:
        raise lib.Skip("needs a cgroup v1 host without net_cls (the VM tests fs2's refusals)")
    cid, pid = _sleeping()
    saved = os.path.join(lib.ROOT, cid, "config.json")
    with open(saved) as f:
        before = f.read()
    limit = f"{mounts['memory']}/skiff-{cid}/memory.limit_in_bytes"
    with open(limit) as f:
        old = f.read()
    r = lib.skiff("update", "--resources", "-", cid,
                  input=json.dumps({"memory": {"limit": 64 << 20}, "network": {"classID": 7}}))
    _fails(r, "linux.resources.network.classID", "net_cls controller is not mounted")
    with open(saved) as f:
        assert f.read() == before, "the saved config changed"
    with open(limit) as f:
        assert f.read() == old, "the memory limit changed although the update was refused"
    assert lib.state(cid)["status"] == "running"


def test_update_bad_input_is_one_line():
    cid, pid = _sleeping()
    _fails(lib.skiff("update", "--resources", "-", cid, input='{"memory":{"limit":"x"}}'),
           "--resources: linux.resources.memory.limit: expected an integer")
    _fails(lib.skiff("update", "--resources", "-", cid, input='{"memory":'), "--resources",
           "invalid JSON")
    _fails(lib.skiff("update", "--resources", "/nonexistent.json", cid), "/nonexistent.json")
    _fails(lib.skiff("update", "--memory", "12q", cid), "--memory", "12q")
    _fails(lib.skiff("update", "--cpu-period", "-5", cid), "--cpu-period")
    _fails(lib.skiff("update", "--pids-limit", "many", cid), "--pids-limit")
    _fails(lib.skiff("update", cid), "nothing to update")
    _fails(lib.skiff("update", "--memory", "1g", "no-such-container"), "does not exist")


def test_commands_without_a_cgroup():
    cid, pid = _sleeping("--cgroup-manager", "disabled")
    _fails(lib.skiff("pause", cid), f"container `{cid}` has no cgroup: pause needs one")
    _fails(lib.skiff("update", "--memory", "1g", cid), "has no cgroup")
    _fails(lib.skiff("events", "--stats", cid), "has no cgroup")
    assert json.loads(lib.skiff_ok("ps", "--format", "json", cid).stdout) == [pid]


MAPPED = 100000


def _delegated(args, cgroup_options=("nosuid", "noexec", "nodev"), cgroupns=True, uid=0):
    """A running userns container mounting /sys/fs/cgroup; returns (cid, its host cgroup dir)."""
    def edit(c):
        c["root"]["readonly"] = False
        c["process"]["user"] = {"uid": uid, "gid": uid}
        c["linux"]["namespaces"] += [{"type": "user"}] + ([{"type": "cgroup"}] if cgroupns else [])
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": MAPPED, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": MAPPED, "size": 65536}]
        # cgroup2 by name: on a v1/hybrid host "cgroup" is runc's v1 layout, and
        # delegation (runtime-spec "cgroup ownership") is about the v2 hierarchy.
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup2",
                            "source": "cgroup", "options": list(cgroup_options)})
    b = lib.Bundle(args, edit=edit)
    for d, dirs, files in os.walk(b.rootfs):
        for name in [d] + [os.path.join(d, n) for n in dirs + files]:
            os.lchown(name, MAPPED, MAPPED)
    # The mapped root needs search rights on the way to the rootfs.
    os.chmod(lib.WORK, 0o711)
    os.chmod(b.path, 0o711)
    cid = lib.new_id("d")
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    pid = lib.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        rel = [l[3:].strip() for l in f if l.startswith("0::")][0]
    cg = next(m + rel for m in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
              if os.path.exists(m + rel + "/cgroup.procs"))
    return cid, b, cg


def test_userns_cgroupns_rw_cgroup_is_delegated_to_the_mapped_user():
    script = "mkdir /sys/fs/cgroup/sub && echo made > /made; exec probe sleep inf"
    cid, b, cg = _delegated(["sh", "-c", script])
    try:
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            st = os.stat(os.path.join(cg, name))
            assert st.st_uid == MAPPED, f"{cg}/{name} is owned by {st.st_uid}"
            assert st.st_gid == 0, f"{cg}/{name} group changed to {st.st_gid}"
        # Files that hand out the parent's resources stay the runtime's.
        for name in ("cgroup.max.depth", "cgroup.freeze", "cgroup.type"):
            assert os.stat(os.path.join(cg, name)).st_uid == 0, name
        # The container's root could make a cgroup of its own (what systemd does).
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(b.rootfs, "made")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.isdir(os.path.join(cg, "sub")), "the container could not mkdir its cgroup"
        assert os.stat(os.path.join(cg, "sub")).st_uid == MAPPED
    finally:
        lib.skiff("delete", "--force", cid)
    assert not os.path.exists(cg), f"{cg} left behind"


def test_a_non_root_process_user_gets_its_own_mapped_uid():
    cid, b, cg = _delegated(["probe", "sleep", "inf"], uid=1000)
    assert os.stat(cg).st_uid == MAPPED + 1000


def test_no_delegation_without_cgroupns_or_with_a_ro_cgroup_mount():
    for kw in ({"cgroupns": False}, {"cgroup_options": ("nosuid", "ro")}):
        cid, b, cg = _delegated(["probe", "sleep", "inf"], **kw)
        for name in ("", "cgroup.procs"):
            assert os.stat(os.path.join(cg, name)).st_uid == 0, (kw, name)


def test_cgroup_commands_in_vm():
    """Runs test_cgroup_vm_skiff.py inside the pure cgroup v2 VM."""
    import vm
    passed, skipped, out = vm.run_tests("test_cgroup_vm_skiff")
    assert passed > 0 and not skipped, f"nothing ran in the VM:\n{out[-3000:]}"
