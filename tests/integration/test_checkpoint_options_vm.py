"""checkpoint/restore options past the basic ones, against runc (issue 18).

`--lazy-pages` with `--page-server` and `--status-fd`, `--page-server` alone,
`--empty-ns network`, `--lsm-profile` and `--lsm-mount-context`: each runs under
skiff and under runc in the same VM boot (CRIU 3.17 refuses this build host's
kernel), and what the restored container shows is compared.  The refusals (one
line, exit 1, nothing left) are checked on the host.
test_options_run_in_vm boots the VM once and runs the test_in_vm_* tests there.
"""
import os
import select
import shutil
import socket
import subprocess
import time

import crlib
import lib
import vm

CRIU = crlib.CRIU
RUNTIMES = ("skiff", "runc")


def _in_vm():
    vm.in_guest("test_options_run_in_vm")
    if not os.path.exists(CRIU):
        raise lib.Skip("criu is not installed")
    if not os.access(crlib.RUNC, os.X_OK):
        raise lib.Skip("runc is not installed: nothing to compare with")


def _counter(rt, edit=None):
    """A detached counter container under rt, counting; returns (bundle, id)."""
    b = crlib.counter_bundle(f"/criuopts-{rt.name}-{os.getpid()}-{time.monotonic_ns()}", edit)
    # runc leaves the cgroup of a container a lazy checkpoint dumped: removed last.
    path = b.config["linux"]["cgroupsPath"]
    lib.at_cleanup(lambda: [os.rmdir(d) for d in (f"/sys/fs/cgroup{path}",
                                                   f"/sys/fs/cgroup{path}-lazy")
                            if os.path.isdir(d)])
    cid = rt.new_id("co")
    rt.piped("run", "-d", "--bundle", b.path, cid)
    crlib.counting(b, cid)
    return b, cid


def _restored(rt, b, images, cid, *extra):
    """Restores images as cid (detached) and checks the counter went on from the dump."""
    at_dump = crlib.count(b)
    rt.restore(cid, images, b, *extra)
    assert rt.state(cid)["status"] == "running"
    after = crlib.counting(b, cid)
    assert after > at_dump, (rt.name, at_dump, after)
    return rt.state(cid)["pid"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_zero_byte(r, what, proc):
    ready, _, _ = select.select([r], [], [], 240)
    got = os.read(r, 1) if ready else b"(nothing in 240 s)"
    assert got == b"\0", (what, got, proc.poll())


def _criu_serving(*args):
    """Starts `criu ARGS --status-fd` and returns it once it says it is serving."""
    r, w = os.pipe()
    p = subprocess.Popen([CRIU, *args, "--status-fd", str(w)], pass_fds=(w,),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        _wait_zero_byte(r, args[0], p)
    except BaseException:
        p.kill()
        p.wait(timeout=60)
        raise
    finally:
        os.close(r)
    return p


def _stop(*procs):
    for p in procs:
        if p and p.poll() is None:
            p.kill()
            p.wait(timeout=60)


# ---- in the VM ----

def test_in_vm_lazy_pages_with_status_fd():
    """runc's lazy migration: checkpoint serves the pages, a zero byte on --status-fd says
    when; `criu lazy-pages` fetches them for `restore --lazy-pages`."""
    _in_vm()
    if subprocess.run([CRIU, "check", "--feature", "uffd-noncoop"], capture_output=True,
                      timeout=120).returncode != 0:
        raise lib.Skip("this kernel or criu cannot restore lazily (uffd-noncoop)")
    for name in RUNTIMES:
        rt = crlib.Runtime(name)
        b, cid = _counter(rt)
        images = os.path.join(lib.WORK, f"lazy-{cid}")
        os.makedirs(images)
        port = _free_port()
        r, w = os.pipe()
        dump = subprocess.Popen(rt.cmd("checkpoint", "--lazy-pages", "--page-server",
                                       f"0.0.0.0:{port}", "--status-fd", w, "--image-path",
                                       images, "--work-path", images, cid),
                                pass_fds=(w,), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        os.close(w)
        lazy = None
        try:
            _wait_zero_byte(r, f"{name} checkpoint --status-fd", dump)
            assert os.path.exists(os.path.join(images, "inventory.img")), name
            lazy = _criu_serving("lazy-pages", "--page-server", "--address", "127.0.0.1",
                                 "--port", str(port), "-D", images)
            # The dumped container (frozen, in its cgroup) is there until its last page
            # has moved: a new id and cgroup.
            b.config["linux"]["cgroupsPath"] += "-lazy"
            b.write()
            _restored(rt, b, images, rt.new_id("col"), "--lazy-pages", "--work-path", images)
            out, _ = dump.communicate(timeout=300)
            assert dump.returncode == 0, (name, out)
            assert lazy.wait(timeout=300) == 0, name
        finally:
            os.close(r)
            _stop(dump, lazy)
        # Checkpoint without --leave-running: the original container is gone.
        assert rt.run("state", cid).returncode != 0, name


def test_in_vm_page_server_alone():
    """--page-server: the pages go to a `criu page-server`, the rest to --image-path;
    together they restore."""
    _in_vm()
    for name in RUNTIMES:
        rt = crlib.Runtime(name)
        b, cid = _counter(rt)
        images = os.path.join(lib.WORK, f"ps-{cid}")
        pages = os.path.join(lib.WORK, f"ps-pages-{cid}")
        os.makedirs(pages)
        port = _free_port()
        server = _criu_serving("page-server", "-D", pages, "--port", str(port))
        try:
            rt.ok("checkpoint", "--page-server", f"127.0.0.1:{port}", "--image-path", images,
                  cid)
            assert server.wait(timeout=120) == 0, name
        finally:
            _stop(server)
        here, there = os.listdir(images), os.listdir(pages)
        # The memory went to the page server (its pagemap and pages), the rest here.
        assert [f for f in there if f.startswith("pages-")], (name, there)
        assert not [f for f in here if f.startswith("pages-")], (name, here)
        for f in there:
            assert f not in here, (name, f)
            shutil.move(os.path.join(pages, f), images)
        _restored(rt, b, images, cid)


def _net_seen(rt, cid):
    """The restored container's network as it sees it: interface, state, addresses."""
    r = rt.ok("exec", cid, "ip", "-o", "addr")
    links = rt.ok("exec", cid, "ip", "-o", "link").stdout
    state = sorted(line.split()[1] + ("UP" if ",UP" in line or "<UP" in line else "DOWN")
                   for line in links.splitlines())
    return state, sorted(line.split()[1] + " " + line.split()[3]
                         for line in r.stdout.splitlines())


def test_in_vm_empty_ns_and_the_default_network():
    """runc always restores a container's own network namespace empty (CRIU dumps no
    links, addresses or routes): with and without --empty-ns network, skiff the same."""
    _in_vm()
    seen = {}
    for name in RUNTIMES:
        rt = crlib.Runtime(name)
        for flag in ((), ("--empty-ns", "network")):
            def lo_up(cfg):
                for k in ("bounding", "effective", "permitted"):
                    cfg["process"]["capabilities"][k].append("CAP_NET_ADMIN")
            b, cid = _counter(rt, lo_up)
            rt.ok("exec", cid, "ip", "link", "set", "lo", "up")
            before = _net_seen(rt, cid)
            images = os.path.join(lib.WORK, f"ns-{cid}")
            rt.ok("checkpoint", *flag, "--image-path", images, cid)
            assert not [f for f in os.listdir(images) if f.startswith(("netns-", "ifaddr-",
                                                                      "route-"))], name
            _restored(rt, b, images, cid, *flag)
            seen[(name, flag)] = (before, _net_seen(rt, cid))
    for flag in ((), ("--empty-ns", "network")):
        assert seen[("skiff", flag)] == seen[("runc", flag)], (flag, seen)


def _apparmor():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            on = f.read().strip() == "Y"
    except OSError:
        on = False
    if not on:
        raise lib.Skip("AppArmor is not enabled in the VM's kernel")
    parser = shutil.which("apparmor_parser") or "/usr/sbin/apparmor_parser"
    if not os.path.exists(parser):
        raise lib.Skip("apparmor_parser is not installed")
    return parser


def _load_profile(parser, prof):
    path = os.path.join(lib.WORK, prof)
    with open(path, "w") as f:
        f.write(f"profile {prof} flags=(attach_disconnected,mediate_deleted) {{\n"
                "  file,\n  capability,\n  network,\n  signal,\n  ptrace,\n  unix,\n"
                "  mount,\n  umount,\n  pivot_root,\n}\n")
    subprocess.run([parser, "-r", path], check=True, capture_output=True, timeout=120)
    lib.at_cleanup(lambda: subprocess.run([parser, "-R", path], capture_output=True,
                                          timeout=120))


def test_in_vm_lsm_profile_and_mount_context():
    """restore --lsm-profile apparmor:NAME restores processes that ran under one AppArmor
    profile under NAME (CRIU rewrites the profile they had; an unconfined one stays
    unconfined), as runc; --lsm-mount-context changes only context= mounts (none here)."""
    _in_vm()
    parser = _apparmor()
    ran, new = f"skiff-criuopts-a-{os.getpid()}", f"skiff-criuopts-b-{os.getpid()}"
    _load_profile(parser, ran)
    _load_profile(parser, new)
    seen = {}
    for name in RUNTIMES:
        rt = crlib.Runtime(name)
        b, cid = _counter(rt, lambda c: c["process"].update(apparmorProfile=ran))
        with open(f"/proc/{rt.state(cid)['pid']}/attr/current") as f:
            assert f.read().strip() == f"{ran} (enforce)", name
        images = os.path.join(lib.WORK, f"lsm-{cid}")
        rt.ok("checkpoint", "--image-path", images, cid)
        pid = _restored(rt, b, images, cid, "--lsm-profile", f"apparmor:{new}",
                        "--lsm-mount-context", "system_u:object_r:container_file_t:s0")
        with open(f"/proc/{pid}/attr/current") as f:
            label = f.read().strip()
        mounts = rt.ok("exec", cid, "cat", "/proc/self/mountinfo").stdout
        seen[name] = (label, "context=" in mounts)
    assert seen["skiff"] == seen["runc"] == (f"{new} (enforce)", False), seen


# ---- on the host ----

def test_bad_options_are_one_line_and_leave_nothing():
    crlib.need_libcriu()
    cid = lib.new_id("coh")
    b = lib.Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(
        cgroupsPath=f"/criuopts-host-{os.getpid()}"))
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    images = os.path.join(lib.WORK, f"img-{cid}")
    r_fd, w_fd = os.pipe()
    try:
        cases = [
            (("--lazy-pages", "--status-fd", "4000"), "--status-fd: 4000"),
            (("--lazy-pages", "--status-fd", str(r_fd)), "not open write-only"),
            (("--status-fd", "x"), "--status-fd"),
        ]
        for args, want in cases:
            r = crlib.Runtime("skiff").run("checkpoint", "--image-path", images, *args, cid,
                                           pass_fds=(r_fd, w_fd))
            assert r.returncode == 1, (args, r)
            assert len(r.stderr.strip().splitlines()) == 1 and want in r.stderr, (args, r.stderr)
            assert not os.path.exists(images), args
            assert lib.state(cid)["status"] == "running", args
    finally:
        os.close(r_fd)
        os.close(w_fd)
    # restore: the LSM profile's form, before anything is made.
    for bad in ("unconfined", "apparmor:", "smack:x"):
        new = lib.new_id("cohr")
        r = lib.skiff("restore", "-d", "--lsm-profile", bad, "--image-path", images,
                      "--bundle", b.path, new)
        assert r.returncode == 1 and "--lsm-profile" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not os.path.exists(os.path.join(lib.ROOT, new))
    lib.skiff_ok("delete", "--force", cid)


def test_options_run_in_vm():
    """Runs this module's test_in_vm_* tests inside the VM, where CRIU works."""
    crlib.need_libcriu()
    passed, skipped, out = vm.drive("test_checkpoint_options_vm.test_in_vm_", timeout=1500,
                                    tools=(CRIU,))
    assert passed >= 3, f"too few ran in the VM:\n{out[-3000:]}"
    print("\n".join(f"vm skip: {s}" for s in skipped))
