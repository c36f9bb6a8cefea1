"""skiff killed at every step of create, start, exec and delete, and its caller killed there.

SKIFF_DEBUG_CRASH_AT=STEP makes skiff SIGKILL itself at a named step
(caller:STEP kills its parent, a shim holding its stdout and stderr,
instead).  After each crash `state` must tell the truth about what is left,
and `delete --force` must remove all of it: processes, cgroup, state
directory, mounts; the id is then free for a new container.
"""
import json
import os
import select
import subprocess
import sys
import time

import lib
from lib import Bundle, ROOT, mountinfo, new_id, skiff, skiff_ok

POINTS = {
    "create": ["create.dir", "create.recorded", "create.cgroup", "create.cloned", "create.pid",
               "create.hooks", "create.ready", "create.done"],
    "start": ["start.locked", "start.released", "start.done"],
    "exec": ["exec.locked", "exec.cloned", "exec.ready", "exec.started"],
    "delete": ["delete.locked", "delete.killed", "delete.cgroup", "delete.unrecorded"],
}

# Runs skiff with its stdout and stderr on a pipe it reads, as a shim does.
# skiff's pid goes to the test before skiff runs (the shim may die at once),
# so the test can wait for skiff after the shim is gone.
SHIM = r"""
import os, sys
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(1, b"%d\n" % os.getpid())
    os.dup2(w, 1)
    os.dup2(w, 2)
    os.execv(sys.argv[1], sys.argv[1:])
os.close(w)
while os.read(r, 4096):
    pass
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def cgroup_mounts():
    """Every cgroup hierarchy's mountpoint (v1 and v2: a hybrid host uses both)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] in ("cgroup", "cgroup2"):
                found.append(fields[4])
    if not found:
        raise lib.Skip("no cgroup mounted")
    return found


def cgroup_dirs(cg):
    """The container's cgroup directories that exist, in every hierarchy."""
    return [m + cg for m in cgroup_mounts() if os.path.isdir(m + cg)]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def container_procs(cid, cg):
    """Live processes of the container: in its cgroups, or clones of skiff naming its id."""
    pids = set()
    for d in cgroup_dirs(cg):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != os.getpid() and cid.encode() in _cmdline(p):
            pids.add(int(p))
    return {p for p in pids if _alive(p)}


def wait_until(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def run_through_shim(args, env):
    """The caller dies at the step; skiff goes on alone. Waits until skiff is done."""
    shim = subprocess.Popen([sys.executable, "-c", SHIM, lib.SKIFF, "--root", ROOT, *args],
                            stdout=subprocess.PIPE, env=env)
    pid = int(shim.stdout.readline())
    fd = os.pidfd_open(pid)
    try:
        assert shim.wait(timeout=30) == -9, f"the shim was not killed at the step ({args})"
        assert select.select([fd], [], [], 30)[0], f"skiff {args} still runs 30 s later"
    finally:
        os.close(fd)
        shim.stdout.close()


def check_truth(cid, cg, point):
    r = skiff("state", cid, timeout=10)
    if r.returncode != 0:
        assert r.stderr.count("\n") == 1 and "does not exist" in r.stderr, (point, r.stderr)
        assert wait_until(lambda: not container_procs(cid, cg)), \
            f"{point}: state says `does not exist` but {container_procs(cid, cg)} run"
        return "gone"
    st = json.loads(r.stdout)
    status, pid = st["status"], st["pid"]
    if status == "stopped":
        # Never to run: start refuses, and nothing runs the program.  (An init killed
        # between READY and create's last write may still wait, for delete to kill.)
        assert pid == 0, (point, st)
        r = skiff("start", cid)
        assert r.returncode == 1 and "is stopped" in r.stderr, (point, r)
        assert wait_until(lambda: not any(_cmdline(p)[:1] == [b"sleep"]
                                          for p in container_procs(cid, cg))), point
    elif status == "created":
        # Not yet the program: still the clone of skiff that waits for `start`.
        assert _alive(pid) and b"sleep" not in _cmdline(pid), (point, st, _cmdline(pid))
        skiff_ok("start", cid)
        assert wait_until(lambda: _cmdline(pid)[:2] == [b"sleep", b"1000"]), point
        assert json.loads(skiff_ok("state", cid).stdout)["status"] == "running", point
    elif status == "running":
        # Past the fifo: the program runs, or the init dies (SIGPIPE, when start was
        # killed before it read the init's byte) and is then reported stopped.
        assert wait_until(lambda: _cmdline(pid)[:2] == [b"sleep", b"1000"] or
                          not _alive(pid)), (point, st, _cmdline(pid))
        if not _alive(pid):
            assert json.loads(skiff_ok("state", cid).stdout)["status"] == "stopped", point
            return "stopped"
    else:
        raise AssertionError(f"{point}: unexpected state {st}")
    return status


def crash_at(point, caller):
    cid = new_id("crash")
    cg = f"/skiff-crash-{cid}"
    b = Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(cgroupsPath=cg))
    cmd = point.split(".")[0]
    if cmd != "create":
        skiff_ok("create", "--bundle", b.path, cid)
    if cmd in ("exec", "delete"):
        skiff_ok("start", cid)
    # Other work on the host mounts things too: only the container's count.
    ours = lambda: [m for m in mountinfo() if m.startswith(b.path) or cid in m]  # noqa: E731
    before = ours()
    args = {"create": ["create", "--bundle", b.path, cid], "start": ["start", cid],
            "exec": ["exec", "--detach", cid, "sleep", "1000"],
            "delete": ["delete", "--force", cid]}[cmd]
    env = dict(os.environ, SKIFF_DEBUG_CRASH_AT=("caller:" if caller else "") + point)
    if caller:
        run_through_shim(args, env)
    else:
        r = skiff(*args, env=env, timeout=30)
        assert r.returncode == -9, f"{point}: skiff was not killed at the step: {r}"
    seen = check_truth(cid, cg, point)
    r = skiff("delete", "--force", cid, timeout=30)
    assert r.returncode == 0 and r.stderr == "", (point, seen, r)
    assert not os.path.lexists(os.path.join(ROOT, cid)), (point, os.listdir(ROOT))
    assert not cgroup_dirs(cg), (point, "cgroup left", cgroup_dirs(cg))
    assert not container_procs(cid, cg), (point, container_procs(cid, cg))
    assert ours() == before, (point, "mounts left", ours())
    # Nothing of the old one stands in the way of a new container with its id.
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("delete", "--force", cid)
    return seen


def _every_point(cmd, caller):
    seen = {p: crash_at(p, caller) for p in POINTS[cmd]}
    # The points are really on the way: the states found differ along it.
    return seen


def test_skiff_killed_at_every_step_of_create():
    seen = _every_point("create", False)
    assert seen["create.dir"] == "gone" and seen["create.recorded"] == "stopped", seen
    assert seen["create.ready"] == "stopped" and seen["create.done"] == "created", seen


def test_skiff_killed_at_every_step_of_start():
    seen = _every_point("start", False)
    assert seen["start.locked"] == "created" and seen["start.done"] == "running", seen


def test_skiff_killed_at_every_step_of_exec():
    seen = _every_point("exec", False)
    assert set(seen.values()) == {"running"}, seen


def test_skiff_killed_at_every_step_of_delete():
    seen = _every_point("delete", False)
    assert seen["delete.locked"] == "running" and seen["delete.unrecorded"] == "gone", seen


def test_caller_killed_at_every_step():
    for cmd in POINTS:
        seen = _every_point(cmd, True)
        want = {"create": "created", "start": "running", "exec": "running", "delete": "gone"}
        assert set(seen.values()) == {want[cmd]}, (cmd, seen)


def _sharing(cg, n):
    """n running containers in one cgroup path."""
    b = Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(cgroupsPath=cg))
    ids = [new_id("share") for _ in range(n)]
    for cid in ids:
        skiff_ok("create", "--bundle", b.path, cid)
        skiff_ok("start", cid)
    return b, ids


def test_create_into_a_paused_containers_cgroup_fails_at_once_holding_no_pipe():
    # Born frozen, the init used to hang create, and outlive a killed create holding
    # the caller's stdout (a harness then hung at exit) and the new id's lock.
    cg = f"/skiff-frozen-{os.getpid()}"
    b, (a,) = _sharing(cg, 1)
    skiff_ok("pause", a)
    cid = new_id("share")
    # Through pipes: run() returns only once nothing holds them any more.
    r = subprocess.run([lib.SKIFF, "--root", ROOT, "create", "--bundle", b.path, cid],
                       capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "frozen" in r.stderr and cg in r.stderr, r
    assert not os.path.lexists(os.path.join(ROOT, cid))
    skiff_ok("resume", a)
    skiff_ok("create", "--bundle", b.path, cid)
    for c in (cid, a):
        skiff_ok("delete", "--force", c)
    assert not cgroup_dirs(cg), cgroup_dirs(cg)


def test_containers_sharing_a_cgroup_are_all_deleted():
    cg = f"/skiff-shared-{os.getpid()}"
    _, ids = _sharing(cg, 2)
    skiff_ok("pause", ids[0])
    for cid in ids:
        r = skiff("delete", "--force", cid)
        assert r.returncode == 0 and r.stderr == "", r
        assert not os.path.lexists(os.path.join(ROOT, cid))
    assert not cgroup_dirs(cg), cgroup_dirs(cg)
