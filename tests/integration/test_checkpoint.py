"""`checkpoint` and `restore`: what the build host shows, and the VM run.

CRIU 3.17 cannot work on this host's kernel (`criu check` fails): here
checkpoint must say so in one line and leave the container running, and
restore must refuse what is not a skiff checkpoint without leaving anything.
The working checkpoints and restores run in the VM (test_checkpoint_vm.py).
"""
import os
import shutil
import subprocess

import lib


def _criu():
    criu = shutil.which("criu") or "/usr/sbin/criu"
    if not os.path.exists(criu):
        raise lib.Skip("criu is not installed")
    return criu


def _criu_works(criu):
    r = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=60)
    return r.returncode == 0


def _has_criu_build():
    return "checkpoint" in lib.skiff_ok("--help").stdout


def _running(cid):
    b = lib.Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(
        cgroupsPath=f"/skiff-test-ck-{os.getpid()}"))
    with open(os.devnull) as null:
        r = lib.skiff("run", "-d", "--bundle", b.path, cid, stdin=null)
    assert r.returncode == 0, r.stderr
    return b


def test_checkpoint_refused_by_this_kernel_leaves_the_container_running():
    criu = _criu()
    if _criu_works(criu):
        raise lib.Skip("criu works on this kernel (the VM test checkpoints)")
    cid = lib.new_id("ck")
    _running(cid)
    pid = lib.state(cid)["pid"]
    images = os.path.join(lib.WORK, f"img-{cid}")
    r = lib.skiff("checkpoint", "--image-path", images, cid, timeout=120)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"checkpoint `{cid}`" in lines[0] and "cannot work on this kernel" in lines[0], lines
    # Where skiff knows why, it says it (the split vDSO data of newer kernels).
    with open("/proc/self/maps") as f:
        if "[vvar_vclock]" in f.read():
            assert "[vvar_vclock]" in lines[0], lines
    assert not os.path.exists(images), "the image directory skiff made is left"
    st = lib.state(cid)
    assert st["status"] == "running" and st["pid"] == pid, st
    # A directory the caller made stays, without skiff's files in it.
    os.makedirs(images)
    r = lib.skiff("checkpoint", "--image-path", images, cid, timeout=120)
    assert r.returncode == 1
    assert not os.path.exists(os.path.join(images, "skiff-checkpoint.json"))
    assert lib.state(cid)["status"] == "running"


def test_checkpoint_refuses_a_created_container_and_bad_options():
    if not _has_criu_build():
        raise lib.Skip("skiff was built without libcriu")
    cid = lib.new_id("ck")
    b = lib.Bundle(["true"])
    lib.skiff_ok("create", "--bundle", b.path, cid)
    images = os.path.join(lib.WORK, f"img-{cid}")
    cases = [
        ((cid,), "only a running or paused one"),
        (("--manage-cgroups-mode", "bogus", cid), "--manage-cgroups-mode"),
        (("--page-server", "nohost", cid), "--page-server"),
        (("--parent-path", "/abs", cid), "--parent-path"),
        (("--empty-ns", "pid", cid), "--empty-ns"),
        (("--lazy-pages", "--status-fd", "4000", cid), "--status-fd"),
    ]
    for args, want in cases:
        r = lib.skiff("checkpoint", "--image-path", images, *args)
        assert r.returncode == 1, (args, r)
        assert len(r.stderr.strip().splitlines()) == 1 and want in r.stderr, (args, r.stderr)
        assert not os.path.exists(images), args
    assert lib.state(cid)["status"] == "created"
    r = lib.skiff("checkpoint", "--image-path", images, "nosuch")
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr


def test_restore_refuses_images_that_are_not_skiffs():
    if not _has_criu_build():
        raise lib.Skip("skiff was built without libcriu")
    b = lib.Bundle(["true"])
    cid = lib.new_id("ckr")
    other = os.path.join(lib.WORK, "runc-images")
    os.makedirs(other)
    # What runc leaves beside CRIU's images, and no skiff marker.
    with open(os.path.join(other, "descriptors.json"), "w") as f:
        f.write('["/dev/null","/dev/null","/dev/null"]')
    for path, want in ((other, "not a checkpoint skiff made"),
                       (os.path.join(lib.WORK, "missing"), "No such file")):
        r = lib.skiff("restore", "-d", "--image-path", path, "--bundle", b.path, cid)
        assert r.returncode == 1, r
        assert len(r.stderr.strip().splitlines()) == 1 and want in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(lib.ROOT, cid)), "a state directory is left"
    with open(os.path.join(other, "skiff-checkpoint.json"), "w") as f:
        f.write('{"runtime": "runc"}')
    r = lib.skiff("restore", "-d", "--image-path", other, "--bundle", b.path, cid)
    assert r.returncode == 1 and "not a checkpoint skiff made" in r.stderr, r.stderr


def test_stdio_on_the_hosts_dev_null_is_reopened_inside():
    """runc's rule: stdio that is the caller's /dev/null becomes the container's own, so no
    fd of the container is on a host mount (CRIU cannot dump one: podman's detached
    containers get /dev/null as stdin)."""
    b = lib.Bundle(["sh", "-c", "grep mnt_id /proc/self/fdinfo/0; cat /proc/self/mountinfo"])
    cid = lib.new_id("dn")
    with open(os.devnull) as null:
        r = lib.skiff("run", "--bundle", b.path, cid, stdin=null)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    mnt_id = lines[0].split()[1]
    mounts = {line.split()[0]: line.split()[4] for line in lines[1:] if line.strip()}
    assert mounts.get(mnt_id) == "/dev", (mnt_id, mounts)


def test_checkpoint_in_vm():
    """Runs test_checkpoint_vm.py inside the VM, where CRIU works."""
    import vm
    _criu()
    if not _has_criu_build():
        raise lib.Skip("skiff was built without libcriu")
    passed, skipped, out = vm.run_tests("test_checkpoint_vm", timeout=900)
    assert passed > 0 and not skipped, f"not all ran in the VM:\n{out[-3000:]}"
