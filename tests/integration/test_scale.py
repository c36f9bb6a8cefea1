"""Many containers at once (SKIFF_SCALE_COUNT, 200 by default; bench/ runs 1,000):
list, state, exec, kill and delete on all of them, nothing left, and no skiff
process stays behind to cost memory per container."""
import json
import os
import subprocess

import lib
from lib import Bundle, ROOT, new_id, skiff, skiff_ok
from test_crash import _alive, _cmdline, cgroup_dirs

COUNT = int(os.environ.get("SKIFF_SCALE_COUNT", "200"))


def _skiff_processes():
    """Live processes whose program is skiff (an init before its execve is one too)."""
    found = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.readlink(f"/proc/{p}/exe") == os.path.realpath(lib.SKIFF):
                found.append(int(p))
        except OSError:
            pass
    return found


def _list_syscalls():
    """The system calls of one `skiff list` (strace), as its lines."""
    out = os.path.join(lib.WORK, "list.strace")
    subprocess.run(["strace", "-qq", "-o", out, lib.SKIFF, "--root", ROOT, "list"], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    with open(out) as f:
        return f.read().splitlines()


def test_many_running_containers():
    b = Bundle(["sleep", "1000"], edit=lambda c: c["process"].pop("rlimits"))
    ids = [new_id("scale") for _ in range(COUNT)]
    before = set(_skiff_processes())
    for cid in ids:
        skiff_ok("run", "--detach", "--bundle", b.path, cid)
    listed = json.loads(skiff_ok("list", "--format", "json").stdout)
    mine = {e["id"]: e for e in listed if e["id"] in ids}
    assert len(mine) == COUNT and all(e["status"] == "running" for e in mine.values()), \
        [e for e in mine.values() if e["status"] != "running"][:3]
    assert set(ids) <= set(skiff_ok("list", "-q").stdout.split())
    # What `list` costs per container: the mount table (where the cgroup hierarchies are)
    # is read once, not once per container.
    calls = _list_syscalls()
    assert sum("/proc/self/mountinfo" in c for c in calls) <= 1, \
        [c for c in calls if "mountinfo" in c][:3]
    pids = {cid: e["pid"] for cid, e in mine.items()}
    assert all(_cmdline(p)[:2] == [b"sleep", b"1000"] for p in pids.values())
    # A running container costs its own processes only: no skiff stays behind.
    assert set(_skiff_processes()) <= before, set(_skiff_processes()) - before
    for cid in ids[::max(1, COUNT // 20)]:
        st = json.loads(skiff_ok("state", cid).stdout)
        assert st["status"] == "running" and st["pid"] == pids[cid], st
        r = skiff_ok("exec", cid, "cat", "/proc/self/cgroup")
        assert f"skiff-{cid}" in r.stdout, r.stdout
    for cid in ids:
        skiff_ok("kill", cid, "KILL")
    for cid in ids:
        skiff_ok("delete", "--force", cid)
    assert not any(_alive(p) for p in pids.values())
    assert not [n for n in os.listdir(ROOT) if n.startswith("scale")]
    assert not any(cgroup_dirs(f"/skiff-{cid}") for cid in ids)
    assert skiff("list", "-q").stdout.split() == [] or \
        not set(ids) & set(skiff("list", "-q").stdout.split())


def _start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks after boot)."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def _pidfs_inode(pid):
    """The inode of a pidfd of pid where pidfs gives each process its own (Linux 6.9+),
    else None."""
    a, b = os.pidfd_open(pid), os.pidfd_open(os.getpid())
    try:
        ino, other = os.fstat(a).st_ino, os.fstat(b).st_ino
    finally:
        os.close(a)
        os.close(b)
    return ino if ino != other else None


def test_the_state_names_the_init_so_a_reused_pid_is_not_it():
    """`list` and `state` tell the init by its pidfs inode (a pidfd, no /proc text) or its
    start time; a state naming another process (as after pid reuse) reads as stopped."""
    b = Bundle(["sleep", "1000"])
    cid = new_id("ident")
    skiff_ok("run", "--detach", "--bundle", b.path, cid)
    path = os.path.join(ROOT, cid, "state.json")
    with open(path) as f:
        saved = json.load(f)
    pid = saved["pid"]
    assert saved["pidStart"] == _start_time(pid), saved
    assert saved.get("pidInode") == _pidfs_inode(pid), saved

    def status_with(**changes):
        st = dict(saved, **changes)
        st = {k: v for k, v in st.items() if v is not None}
        with open(path, "w") as f:
            json.dump(st, f)
        return json.loads(skiff_ok("state", cid).stdout)["status"]

    assert status_with() == "running"
    if saved.get("pidInode"):
        assert status_with(pidInode=saved["pidInode"] + 1) == "stopped"
    assert status_with(pidInode=None, pidStart=saved["pidStart"] + 1) == "stopped"
    assert status_with(pidInode=None) == "running"
    # A state written when pidStart was always 0 still finds its live init.
    assert status_with(pidInode=None, pidStart=0) == "running"
    status_with()
    skiff_ok("delete", "--force", cid)
