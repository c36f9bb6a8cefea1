"""checkpoint/restore beside runc, in tests/vm's VM with systemd as PID 1.

test_checkpoint_systemd_in_vm boots the VM once (systemd as PID 1, pure cgroup
v2, CRIU working) and runs every test_cks_* test below there; on the host they
skip.  Each test runs the same bundle under skiff and under runc (the VM's
/usr/sbin/runc, a private --root) and compares what each left: the systemd scope
a restored container comes back in (--systemd-cgroup), the cgroup a restore with
--manage-cgroups-mode ignore puts it in, the hooks that ran on restore and the
state they read, a paused container and one with a user namespace checkpointed;
then podman's own defaults on a systemd host (cgroup_manager systemd) through
`podman container checkpoint`/`restore`, with and without --export/--import.
The containers' stdio are pipes this module holds open, as a shim's are: CRIU
cannot dump a file of the host's, and hands the restored process the pipes
`restore` was given.
"""
import json
import os
import subprocess
import time

import crlib
import lib
import vm

RUNC = crlib.RUNC
MNT = "/sys/fs/cgroup"
MiB = 1024 * 1024


def test_checkpoint_systemd_in_vm():
    """On the host: boots the VM with systemd as PID 1 once and runs the tests below."""
    crlib.need_libcriu()
    passed, skipped, _ = vm.drive("test_checkpoint_systemd_vm.test_cks_", timeout=2700,
                                  tools=(crlib.CRIU, RUNC), systemd=True)
    assert passed > 0 and not skipped, f"skipped in the VM: {skipped}"


def _need_vm():
    vm.in_guest("test_checkpoint_systemd_in_vm", systemd=True)


def _still(b, expected):
    """True when the counter in b does not move.  Under TCG on a loaded host a running
    counter can miss a whole second, so the wait fits the answer expected: a frozen one
    is watched for 2 s, a running one is given crlib.WAIT s to move (either can still fail)."""
    first = crlib.count(b)
    end = time.monotonic() + (2 if expected else crlib.WAIT)
    while time.monotonic() < end:
        time.sleep(0.2)
        if crlib.count(b) != first:
            return False
    return True


def _comm(pid):
    """pid's command, or None once it has exited (the counter's sleeps come and go)."""
    try:
        return _read(f"/proc/{pid}/comm")
    except FileNotFoundError:
        return None


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _images(rt, cid, tag=""):
    return os.path.join(lib.WORK, f"img-{rt.name}-{cid}{tag}")


# ---- a systemd scope (--systemd-cgroup) ----

RESOURCES = {"memory": {"limit": 64 * MiB}, "pids": {"limit": 77},
             "cpu": {"shares": 512, "quota": 50000, "period": 100000},
             "unified": {"memory.high": str(60 * MiB)}}
PROPS = ("ActiveState", "Delegate", "Slice", "MemoryMax", "MemoryHigh", "TasksMax", "CPUWeight",
         "CPUQuotaPerSecUSec", "MemoryAccounting", "TasksAccounting", "CPUAccounting",
         "IOAccounting", "DefaultDependencies", "DevicePolicy", "TimeoutStopUSec")
FILES = ("memory.max", "memory.high", "pids.max", "cpu.weight", "cpu.max")


def _show(unit):
    """systemctl show's PROPS of unit ({} when it is not loaded)."""
    r = subprocess.run(["systemctl", "show", unit, "--property=LoadState",
                        *[f"--property={p}" for p in PROPS]],
                       capture_output=True, text=True, timeout=120)
    out = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
    return out if out.pop("LoadState", "") == "loaded" else {}


def _scope_cr(rt):
    """Runs, checkpoints and restores a counter in a scope; returns what the restored
    container's scope is: {props, files, procs, ...}."""
    cid = rt.new_id("sd")
    prefix = f"ck{rt.name}"
    unit, slice_ = f"{prefix}-{cid}.scope", "machine.slice"
    path = f"/{slice_}/{unit}"
    b = crlib.counter_bundle(f"{slice_}:{prefix}:{cid}", lambda c: (
        c["linux"]["resources"].update(RESOURCES),
        c.update(annotations={"org.systemd.property.TimeoutStopSec": "17"})))
    rt.piped("run", "-d", "--bundle", b.path, cid, systemd=True)
    pid = rt.state(cid)["pid"]
    assert lib.cgroup_of(pid) == path
    before = _show(unit)
    assert before.get("ActiveState") == "active", before
    crlib.counting(b)
    images = _images(rt, cid)
    rt.checkpoint(cid, images, systemd=True)
    gone = _show(unit)
    at_dump = crlib.count(b)
    rt.restore(cid, images, b, systemd=True)
    st = rt.state(cid)
    after = crlib.counting(b)
    assert lib.cgroup_of(st["pid"]) == path
    procs = _read(f"{MNT}{path}/cgroup.procs").split()
    seen = {"status": st["status"], "props": _show(unit),
            "files": {f: _read(f"{MNT}{path}/{f}") for f in FILES},
            "gone_after_dump": gone.get("ActiveState", "gone") != "active",
            "commands": sorted({_comm(p) for p in procs} - {None})}
    assert before == seen["props"], (before, seen["props"])
    assert after > at_dump, (at_dump, after)
    rt.ok("exec", cid, "true", systemd=True)
    rt.ok("delete", "--force", cid, systemd=True)
    assert _show(unit) == {} or _show(unit)["ActiveState"] != "active"
    assert not os.path.exists(MNT + path)
    return seen


def test_cks_restore_into_a_new_scope_with_the_same_properties():
    """--systemd-cgroup: the dump stops the scope; restore starts a new one around the
    restored processes, with the config's limits as properties (and in its files),
    its annotations, and nothing else in it; as runc does."""
    _need_vm()
    ours = _scope_cr(crlib.Runtime("skiff"))
    theirs = _scope_cr(crlib.Runtime("runc"))
    # Only the container's processes: its shell and the sleep it may be in.
    for seen in (ours, theirs):
        assert set(seen.pop("commands")) <= {"sh", "sleep"}, seen
    assert ours == theirs, (ours, theirs)
    assert ours["props"]["TasksMax"] == "77" and ours["props"]["TimeoutStopUSec"] == "17s"
    assert ours["files"]["memory.max"] == str(64 * MiB) and ours["gone_after_dump"]


# ---- --manage-cgroups-mode ignore ----

def _ignore_cr(rt, systemd):
    cid = rt.new_id("ig")
    if systemd:
        cgpath, path = f"machine.slice:ig{rt.name}:{cid}", f"/machine.slice/ig{rt.name}-{cid}.scope"
    else:
        cgpath = path = f"/skiff-test-ig-{rt.name}-{cid}"
    b = crlib.counter_bundle(cgpath,
                             lambda c: c["linux"]["resources"].update(pids={"limit": 55}))
    rt.piped("run", "-d", "--bundle", b.path, cid, systemd=systemd)
    crlib.counting(b)
    images = _images(rt, cid)
    rt.checkpoint(cid, images, "--manage-cgroups-mode", "ignore", systemd=systemd)
    rt.restore(cid, images, b, "--manage-cgroups-mode", "ignore", systemd=systemd)
    pid = rt.state(cid)["pid"]
    seen = {"init_in_its_cgroup": lib.cgroup_of(pid) == path,
            "pids.max": _read(f"{MNT}{path}/pids.max"),
            "every_process_there": _tree_in(pid, path)}
    crlib.counting(b)
    rt.ok("delete", "--force", cid, systemd=systemd)
    assert not os.path.exists(MNT + path)
    return seen


def _tree_in(pid, path):
    """True when pid and every descendant still alive are in cgroup path."""
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            if lib.cgroup_of(p) != path:
                return False
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, AssertionError):
            pass  # gone meanwhile (the counter's sleeps come and go)
    return True


def test_cks_restore_with_manage_cgroups_ignore_lands_in_the_containers_cgroup():
    """With --manage-cgroups-mode ignore CRIU moves nothing: the restored tree stays
    where criu forked it.  runc (1.2 and later) runs criu in the container's cgroup, so
    the tree is there; skiff (whose criu libcriu forks in skiff's own cgroup) moves the
    restored init in before it forks anything.  With cgroupfs and with a systemd scope.
    The VM's runc 1.1 refuses the mode: then only skiff is checked."""
    _need_vm()
    runc = crlib.Runtime("runc")
    version = runc.ok("--version").stdout.split()[2]  # "runc version 1.1.5+ds1"
    runc_knows = tuple(int(x) for x in version.split("+")[0].split(".")[:2]) >= (1, 2)
    for systemd in (False, True):
        ours = _ignore_cr(crlib.Runtime("skiff"), systemd)
        assert ours == {"init_in_its_cgroup": True, "pids.max": "55",
                        "every_process_there": True}, (systemd, ours)
        if runc_knows:
            assert ours == _ignore_cr(runc, systemd), systemd


# ---- hooks ----

HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")


def _hooks_cr(rt):
    """Runs a counter with every kind of hook, checkpoints, restores and deletes it;
    returns {step: {hook: what its state said}} for the hooks each step ran."""
    cid = rt.new_id("hk")
    b = crlib.counter_bundle(f"/skiff-test-hk-{rt.name}-{cid}")
    hk = os.path.join(b.rootfs, "hk")
    os.mkdir(hk)
    # Each hook saves its stdin in the rootfs's /hk, from the host's mount namespace
    # (prestart, createRuntime...) or the container's (createContainer, startContainer).
    b.config["hooks"] = {h: [{"path": "/bin/sh", "args": [
        "sh", "-c", f"d=/hk; [ -d $d ] || d={hk}; cat > $d/{h}.$$"]}] for h in HOOKS}
    b.write()
    steps = {}

    def ran(step, pid=None):
        got = {}
        for f in sorted(os.listdir(hk)):
            with open(os.path.join(hk, f)) as fh:
                st = json.loads(fh.read())
            os.unlink(os.path.join(hk, f))
            got[f.split(".")[0]] = {"status": st["status"], "id": st["id"] == cid,
                                    "bundle": st["bundle"] == b.path,
                                    "pid": "init" if pid and st.get("pid") == pid
                                    else st.get("pid", "none")}
        steps[step] = got

    rt.piped("run", "-d", "--bundle", b.path, cid)
    crlib.counting(b)
    ran("run", rt.state(cid)["pid"])
    images = _images(rt, cid)
    rt.checkpoint(cid, images)
    ran("checkpoint")
    rt.restore(cid, images, b)
    pid = rt.state(cid)["pid"]
    crlib.counting(b)
    ran("restore", pid)
    rt.ok("kill", cid, "KILL")
    end = time.monotonic() + 30
    while rt.state(cid)["status"] != "stopped" and time.monotonic() < end:
        time.sleep(0.2)
    rt.ok("delete", cid)
    ran("delete")
    return steps


def test_cks_hooks_on_restore_as_runc():
    """Which hooks run on checkpoint, restore and the restored container's delete, and
    the state each reads on stdin, as runc: restore runs prestart and createRuntime
    (once CRIU has made the namespaces, with the restored init's pid) and no hook of
    the init's (createContainer, startContainer) nor poststart."""
    _need_vm()
    ours, theirs = _hooks_cr(crlib.Runtime("skiff")), _hooks_cr(crlib.Runtime("runc"))
    # The status the runtime hooks read differs on purpose, at create ("created", runc
    # "creating") as on restore ("created" with the restored init's pid; runc says
    # "stopped", since its container has no init yet then, but gives the pid the spec
    # requires only of a created or running one): the same hooks ran.
    assert sorted(ours.pop("run")) == sorted(theirs.pop("run")) == sorted(HOOKS[:-1])
    for h in ("prestart", "createRuntime"):
        assert theirs["restore"][h].pop("status") == "stopped", theirs
        assert ours["restore"][h].pop("status") == "created", ours
    assert ours == theirs, (ours, theirs)
    assert sorted(ours["restore"]) == ["createRuntime", "prestart"], ours
    assert ours["restore"]["prestart"]["pid"] == "init", ours
    # The dump deletes the container: poststop runs then, and again when the restored
    # one is deleted.
    assert list(ours["checkpoint"]) == list(ours["delete"]) == ["poststop"], ours


# ---- a paused container; a user namespace ----

def _paused_cr(rt):
    cid = rt.new_id("pz")
    path = f"/skiff-test-pz-{rt.name}-{cid}"
    b = crlib.counter_bundle(path)
    rt.piped("run", "-d", "--bundle", b.path, cid)
    crlib.counting(b)
    rt.ok("pause", cid)
    seen = {}
    # --leave-running: the container stays, paused.
    images = _images(rt, cid, "-lr")
    rt.checkpoint(cid, images, "--leave-running")
    seen["after_leave_running"] = (rt.state(cid)["status"], _still(b, True))
    final = _images(rt, cid)
    rt.checkpoint(cid, final)
    seen["after_dump"] = rt.run("state", cid).returncode
    rt.restore(cid, final, b)
    seen["restored"] = (rt.state(cid)["status"], _read(f"{MNT}{path}/cgroup.freeze"),
                        _still(b, False))
    rt.ok("resume" if seen["restored"][0] == "paused" else "pause", cid)
    rt.ok("delete", "--force", cid)
    # The --leave-running images of a paused container restore too.
    new = rt.new_id("pzn")
    rt.restore(new, images, b)
    seen["restored_leave_running_images"] = (rt.state(new)["status"], _still(b, False))
    rt.ok("delete", "--force", new)
    return seen


def test_cks_paused_container_as_runc():
    """A paused container checkpoints (CRIU dumps it as it is, frozen); with
    --leave-running it stays paused.  Restored, it runs: its new cgroup is not frozen
    and CRIU leaves a cgroup it did not make as it is (runc's result too)."""
    _need_vm()
    ours, theirs = _paused_cr(crlib.Runtime("skiff")), _paused_cr(crlib.Runtime("runc"))
    assert ours == theirs, (ours, theirs)
    assert ours == {"after_leave_running": ("paused", True), "after_dump": 1,
                    "restored": ("running", "0", False),
                    "restored_leave_running_images": ("running", False)}, ours


def _userns_cr(rt):
    cid = rt.new_id("us")

    def edit(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    path = f"/skiff-test-us-{rt.name}-{cid}"
    b = crlib.counter_bundle(path, edit)
    subprocess.run(["chown", "-R", "200000:200000", b.rootfs], check=True, timeout=120)
    # The mapped root must reach its rootfs.
    for d in (lib.WORK, b.path):
        os.chmod(d, 0o755)
    rt.piped("run", "-d", "--bundle", b.path, cid)
    crlib.counting(b)
    images = _images(rt, cid)
    rt.checkpoint(cid, images)
    at_dump = crlib.count(b)
    # CRIU reads images from inside the restored user namespace: the mapped root must
    # be able to, and the image directory is made 0700.
    rc, err = rt.restore(cid, images, b, ok=False)
    failed = {"status": rc, "gone": rt.run("state", cid).returncode == 1,
              "cgroup_gone": not os.path.exists(f"{MNT}{path}")}
    if rt.name == "skiff":
        assert len(err.strip().splitlines()) == 1 and "Permission denied" in err, err
    os.chmod(images, 0o755)
    rt.restore(cid, images, b)
    pid = rt.state(cid)["pid"]
    seen = {"refused_unreadable_images": failed, "continues": crlib.counting(b) > at_dump,
            "uid_map": _read(f"/proc/{pid}/uid_map").split(),
            "gid_map": _read(f"/proc/{pid}/gid_map").split(),
            "host_uid": os.stat(f"/proc/{pid}").st_uid,
            "id": rt.ok("exec", cid, "id").stdout.strip()}
    rt.ok("delete", "--force", cid)
    return seen


def test_cks_user_namespace_as_runc():
    """A container with its own user namespace (uid/gid maps) restores with the same maps,
    running as the same host uid, and exec joins it; as runc, it needs images its mapped
    root can read, and a restore that cannot read them fails leaving nothing."""
    _need_vm()
    ours, theirs = _userns_cr(crlib.Runtime("skiff")), _userns_cr(crlib.Runtime("runc"))
    assert ours == theirs, (ours, theirs)
    assert ours["continues"] and ours["uid_map"] == ["0", "200000", "65536"], ours
    assert ours["refused_unreadable_images"] == {"status": 1, "gone": True,
                                                 "cgroup_gone": True}, ours
    assert ours["host_uid"] == 200000, ours


# ---- podman, with its default systemd cgroup manager ----

def _podman_cr(name):
    """podman run / container checkpoint / restore, then checkpoint --export, rm and
    restore --import, with runtime name; returns what podman and the host saw."""
    import clients
    import test_podman as pm
    pm.setup()
    rt = [] if name == "skiff" else ["--runtime", RUNC]
    ctr = pm.new_name(f"cks{name}")
    r = pm.podman(*rt, "run", "-d", "--name", ctr, clients.IMAGE, "sh", "-c",
                  crlib.COUNTER_SCRIPT)
    assert r.returncode == 0, f"podman run -d failed ({r.returncode}): {r.stderr}"
    cid = pm.full_id(ctr)
    scope = f"/machine.slice/libpod-{cid}.scope"

    def count():
        r = pm.podman("exec", ctr, "cat", "/tmp/count")
        return int(r.stdout.strip() or 0)

    def where():
        pid = int(pm.inspect(ctr, "{{.State.Pid}}"))
        return {"status": pm.inspect(ctr, "{{.State.Status}}"),
                "in_scope": lib.cgroup_of(pid) == scope,
                "unit": _show(f"libpod-{cid}.scope").get("ActiveState")}

    seen = {}
    try:
        assert where() == {"status": "running", "in_scope": True, "unit": "active"}, where()
        clients.wait_for(lambda: count() >= 3, what="the counter")
        archive = os.path.join(lib.WORK, f"{ctr}.tar.gz")
        for how, ck in (("plain", []), ("export", ["--export", archive])):
            before = count()
            r = pm.podman("container", "checkpoint", *ck, ctr, timeout=300)
            assert r.returncode == 0, f"{how} checkpoint failed ({r.returncode}): {r.stderr}"
            if how == "export":
                assert pm.podman("rm", "-f", ctr).returncode == 0
                r = pm.podman(*rt, "container", "restore", "--import", archive, timeout=300)
            else:
                r = pm.podman("container", "restore", ctr, timeout=300)
            assert r.returncode == 0, f"{how} restore failed ({r.returncode}): {r.stderr}"
            first = count()
            clients.wait_for(lambda: count() > first, what="the restored counter")
            seen[how] = {**where(), "continued": first >= before}
    finally:
        pm.remove(ctr)
    seen["gone"] = not os.path.exists(MNT + scope)
    return seen


_podman_seen = {}


def test_cks_podman_systemd_checkpoint_restore_export_import():
    """podman's defaults where systemd runs (cgroup_manager systemd: the container is
    machine.slice/libpod-ID.scope): container checkpoint and restore, then checkpoint
    --export, rm and restore --import; the container comes back running in its scope
    and counts on."""
    _need_vm()
    lib.needs_time(600)  # four dumps and restores through podman and conmon, under TCG
    ours = _podman_seen["skiff"] = _podman_cr("skiff")
    want = {"status": "running", "in_scope": True, "unit": "active", "continued": True}
    assert ours == {"plain": want, "export": want, "gone": True}, ours


def test_cks_podman_systemd_runc_the_same():
    """The same through podman with runc (`podman --runtime /usr/sbin/runc`)."""
    _need_vm()
    if "skiff" not in _podman_seen:
        raise lib.Skip("test_cks_podman_systemd_checkpoint_restore_export_import did not run")
    lib.needs_time(600)
    theirs = _podman_cr("runc")
    assert _podman_seen["skiff"] == theirs, (_podman_seen["skiff"], theirs)


def test_cks_zz_podman_teardown_leaves_nothing():
    _need_vm()
    import test_podman as pm
    left = pm.teardown() if "dir" in pm._d else []
    assert not left, f"left behind: {left}"
