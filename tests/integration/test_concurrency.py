"""Commands racing on the same ids: colliding creates, parallel deletes, start against
kill, exec against delete.  No deadlock (every command returns), exactly the expected
winners, and nothing leaked: state entries, cgroups, processes, mounts, fds."""
import json
import os
import re
import threading

import lib
from lib import Bundle, ROOT, mountinfo, new_id, skiff, skiff_ok, state
from test_crash import _alive, cgroup_dirs, container_procs, wait_until


def parallel(calls):
    """Runs every (args, kwargs) at once; returns their results in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def one(i, args):
        barrier.wait(timeout=20)
        results[i] = skiff(*args, timeout=120)

    threads = [threading.Thread(target=one, args=(i, a)) for i, a in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
        assert not t.is_alive(), "a command is stuck (deadlock?)"
    return results


def _bundle(cg):
    return Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(cgroupsPath=cg))


def _fds(pid, cid):
    """What pid holds open, with the id and inode numbers left out."""
    return sorted(re.sub(r"#\d+", "#", os.readlink(f"/proc/{pid}/fd/{fd}").split(":")[0])
                  .replace(cid, "ID") for fd in os.listdir(f"/proc/{pid}/fd"))


def _mounts_of(paths):
    return [m for m in mountinfo() if any(m.startswith(p) for p in paths)]


def test_colliding_parallel_creates_have_one_winner_each():
    ids = [new_id("race") for _ in range(10)]
    bundles = {cid: _bundle(f"/skiff-race-{cid}") for cid in ids}
    # A container made alone: what a winner's init should hold, fd for fd.
    ref = new_id("race")
    skiff_ok("create", "--bundle", bundles[ids[0]].path, ref)
    ref_fds = _fds(state(ref)["pid"], ref)
    skiff_ok("delete", "--force", ref)
    calls = [("create", "--bundle", bundles[cid].path, cid) for cid in ids for _ in range(10)]
    results = parallel(calls)
    for cid in ids:
        mine = [r for r in results if r.args[-1] == cid]
        won = [r for r in mine if r.returncode == 0]
        lost = [r for r in mine if r.returncode != 0]
        assert len(won) == 1, (cid, [r.stderr for r in mine])
        for r in lost:
            assert r.returncode == 1 and r.stderr.count("\n") == 1, r
            assert "already exists" in r.stderr, r
        st = state(cid)
        assert st["status"] == "created", st
        assert _fds(st["pid"], cid) == ref_fds, (cid, _fds(st["pid"], cid), ref_fds)
        # One container per id: its cgroup holds its init alone.
        assert container_procs(cid, f"/skiff-race-{cid}") == {st["pid"]}, cid
    entries = sorted(n for n in os.listdir(ROOT) if not n.startswith("."))
    assert entries == sorted(ids), entries
    for cid in ids:
        skiff_ok("start", cid)
    paths = [b.path for b in bundles.values()]
    for cid in ids:
        skiff_ok("delete", "--force", cid)
        assert not cgroup_dirs(f"/skiff-race-{cid}")
    assert not _mounts_of(paths)


def test_parallel_force_deletes_of_one_id():
    cid = new_id("race")
    cg = f"/skiff-race-{cid}"
    b = _bundle(cg)
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    pid = state(cid)["pid"]
    results = parallel([("delete", "--force", cid)] * 20)
    assert all(r.returncode == 0 and r.stderr == "" for r in results), \
        [r.stderr for r in results if r.returncode]
    assert not os.path.lexists(os.path.join(ROOT, cid))
    assert not _alive(pid) and not cgroup_dirs(cg)


def test_start_racing_kill():
    outcomes = set()
    for _ in range(10):
        cid = new_id("race")
        cg = f"/skiff-race-{cid}"
        b = _bundle(cg)
        skiff_ok("create", "--bundle", b.path, cid)
        pid = state(cid)["pid"]
        start, kill = parallel([("start", cid), ("kill", cid, "KILL")])
        assert kill.returncode == 0, kill
        # Either start released the init before the kill, or it finds it dead.
        assert start.returncode == 0 or "exited" in start.stderr or \
            "stopped" in start.stderr, start
        outcomes.add(start.returncode)
        assert wait_until(lambda: not _alive(pid)), pid
        assert wait_until(lambda: state(cid)["status"] == "stopped")
        skiff_ok("delete", cid)
        assert not cgroup_dirs(cg) and not container_procs(cid, cg)
        assert not os.path.lexists(os.path.join(ROOT, cid))


def test_exec_racing_delete():
    for _ in range(10):
        cid = new_id("race")
        cg = f"/skiff-race-{cid}"
        b = _bundle(cg)
        skiff_ok("create", "--bundle", b.path, cid)
        skiff_ok("start", cid)
        pid = state(cid)["pid"]
        execs = parallel([("exec", "--detach", cid, "sleep", "999")] * 4 +
                         [("delete", "--force", cid)])
        delete = execs.pop()
        assert delete.returncode == 0 and delete.stderr == "", delete
        for r in execs:
            # Before the delete: it ran, and died with the container. After: refused.
            assert r.returncode == 0 or r.stderr.count("\n") == 1, r
        assert not _alive(pid) and not cgroup_dirs(cg)
        assert not container_procs(cid, cg), container_procs(cid, cg)
        assert not any(_cmdline_is(p, [b"sleep", b"999"]) for p in _all_pids())
        assert not os.path.lexists(os.path.join(ROOT, cid))


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline_is(pid, args):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:len(args)] == args and _alive(pid)
    except OSError:
        return False


def test_list_and_state_during_parallel_creates_and_deletes():
    ids = [new_id("race") for _ in range(20)]
    b = Bundle(["sleep", "1000"])
    calls = [("create", "--bundle", b.path, cid) for cid in ids] + [("list",)] * 5 + \
        [("state", cid) for cid in ids[:5]]
    for r in parallel(calls):
        assert r.returncode == 0 or (r.args[3] == "state" and "does not exist" in r.stderr), r
    calls = [("delete", "--force", cid) for cid in ids] + [("list", "--format", "json")] * 5
    for r in parallel(calls):
        assert r.returncode == 0, r
        if r.args[3] == "list":
            assert isinstance(json.loads(r.stdout or "[]"), list)
    assert not [n for n in os.listdir(ROOT) if not n.startswith(".")]
