"""Hostile state and resources: a broken state.json, another user's state root, a full
disk, no fds left, a read-only state root.  Each gives one clear error line, leaves
nothing behind, and `delete --force` still cleans up afterwards."""
import contextlib
import os
import subprocess
import tempfile

import lib
from lib import Bundle, ROOT, new_id, skiff, skiff_ok, state
from test_crash import _alive, cgroup_dirs

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _running(root=ROOT):
    cid = new_id("hostile")
    cg = f"/skiff-hostile-{cid}"
    # No rlimits: a low `ulimit -n` must not fail on raising RLIMIT_NOFILE instead.
    def edit(c):
        c["linux"]["cgroupsPath"] = cg
        c["process"].pop("rlimits")
    b = Bundle(["sleep", "1000"], edit=edit)
    skiff_ok("create", "--bundle", b.path, cid, root=root)
    skiff_ok("start", cid, root=root)
    return b, cid, cg, state(cid, root=root)["pid"]


def _one_line(r, *words):
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert r.stderr.startswith("skiff: ") and all(w in r.stderr for w in words), (words, r)


def _gone(cid, cg, pid, root=ROOT):
    assert not os.path.lexists(os.path.join(root, cid)), os.listdir(root)
    assert not cgroup_dirs(cg), cgroup_dirs(cg)
    assert not _alive(pid), pid


def run_as(prefix, *args):
    """skiff under a wrapper (another user, a ulimit), output through files."""
    with tempfile.TemporaryFile(dir=lib.WORK) as out, tempfile.TemporaryFile(dir=lib.WORK) as err:
        p = subprocess.run([*prefix, lib.SKIFF, *args], stdout=out, stderr=err,
                           stdin=subprocess.DEVNULL, timeout=60)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, p.returncode, out.read().decode(),
                                           err.read().decode(errors="replace"))


@contextlib.contextmanager
def small_tmpfs(size):
    path = tempfile.mkdtemp(prefix="root-", dir=lib.WORK)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", path],
                   check=True, timeout=60)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=True, timeout=60)
        os.rmdir(path)


def test_corrupt_state_json_is_reported_and_force_deleted():
    for data in (b"", b'{"ociVersion": "1.2.0", "id": "x", "pid": 12', b"\x00\xffgarbage",
                 b"[]", b'{"pid": 0, "bundls": "/b"}'):  # the last found by tests/fuzz
        _, cid, cg, pid = _running()
        with open(os.path.join(ROOT, cid, "state.json"), "wb") as f:
            f.write(data)
        _one_line(skiff("state", cid), cid, "corrupt", "delete --force")
        _one_line(skiff("delete", cid), cid, "corrupt")
        assert _alive(pid)
        r = skiff("delete", "--force", cid)
        assert r.returncode == 0 and r.stderr == "", (data, r)
        # What the state pointed at goes too: found again from the saved config.
        _gone(cid, cg, pid)


def test_another_users_state_root_is_refused_in_one_line():
    _, cid, cg, pid = _running()
    for args in (["state", cid], ["delete", "--force", cid], ["kill", cid, "KILL"], ["list"]):
        r = run_as(NOBODY, "--root", ROOT, *args)
        # Not "does not exist" (nor an empty list): that would be a lie.
        _one_line(r, ROOT, "Permission denied")
    assert state(cid)["status"] == "running" and _alive(pid)
    # A container directory root does not own is still root's to read and delete.
    os.chown(os.path.join(ROOT, cid), 65534, 65534)
    assert state(cid)["status"] == "running"
    assert cid in skiff_ok("list").stdout
    skiff_ok("delete", "--force", cid)
    _gone(cid, cg, pid)


def test_full_disk_fails_create_cleanly():
    b = Bundle(["sleep", "1000"])
    with small_tmpfs("64k") as root:
        fill = os.path.join(root, "fill")
        results = set()
        # From a full disk to room for a few pages: whichever write runs out.
        for pages in range(0, 6):
            with open(fill, "wb") as f:
                f.truncate(0)
            free = os.statvfs(root).f_bavail * os.statvfs(root).f_frsize
            with open(fill, "wb") as f:
                f.write(b"x" * max(0, free - pages * 4096))
            cid = new_id("full")
            r = skiff("create", "--bundle", b.path, cid, root=root)
            if r.returncode == 0:
                results.add("created")
                skiff_ok("delete", "--force", cid, root=root)
            else:
                results.add("full")
                _one_line(r, cid, "No space left on device")
            assert sorted(os.listdir(root)) == ["fill"], (pages, os.listdir(root))
        assert results == {"created", "full"}, results


def test_out_of_fds_fails_create_cleanly():
    results = set()
    b = Bundle(["sleep", "1000"], edit=lambda c: c["process"].pop("rlimits"))
    for n in range(5, 17):
        cid = new_id("fds")
        cg = f"/skiff-fds-{cid}"
        b.config["linux"]["cgroupsPath"] = cg
        b.write()
        r = run_as(["prlimit", f"--nofile={n}"], "--root", ROOT, "create", "--bundle", b.path,
                   cid)
        if r.returncode == 0:
            results.add("created")
            pid = state(cid)["pid"]
            skiff_ok("delete", "--force", cid)
        else:
            results.add("out of fds")
            # One error line (after a warning, when skiff can do without).
            lines = r.stderr.splitlines()
            assert r.returncode == 1 and lines, (n, r)
            assert all("warning" in w for w in lines[:-1]), (n, r)
            assert cid in lines[-1] and "Too many open files" in lines[-1], (n, r)
            pid = 0
        _gone(cid, cg, pid)
    assert results == {"created", "out of fds"}, results


def test_read_only_state_root():
    with small_tmpfs("1m") as root:
        b, cid, cg, pid = _running(root)
        subprocess.run(["mount", "-o", "remount,ro", root], check=True, timeout=60)
        assert state(cid, root=root)["status"] == "running"
        _one_line(skiff("create", "--bundle", b.path, cid + "x", root=root),
                  "Read-only file system")
        r = skiff("delete", "--force", cid, root=root)
        _one_line(r, cid, "Read-only file system")
        # The container is gone all the same; only its record waits for a writable root.
        assert not _alive(pid) and not cgroup_dirs(cg)
        assert state(cid, root=root)["status"] == "stopped"
        subprocess.run(["mount", "-o", "remount,rw", root], check=True, timeout=60)
        skiff_ok("delete", "--force", cid, root=root)
        _gone(cid, cg, pid, root=root)
