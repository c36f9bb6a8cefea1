"""checkpoint/restore options past the basic ones, against runc (issue 18).

`--lazy-pages` with `--page-server` and `--status-fd`, `--page-server` alone,
`--empty-ns network`, `--lsm-profile` and `--lsm-mount-context`: each runs under
skiff and under runc in the same VM boot (CRIU 3.17 refuses this build host's
kernel), and what the restored container shows is compared.  The refusals (one
line, exit 1, nothing left) are checked on the host.
test_options_run_in_vm boots the VM once and runs the test_in_vm_* tests there.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import time

import lib
from test_checkpoint_vm import COUNTER_SCRIPT, _count, _counting

RUNC = "/usr/sbin/runc"
CRIU = shutil.which("criu") or "/usr/sbin/criu"
_held = []  # our ends of the containers' stdio pipes


def _in_vm():
    if os.environ.get("SKIFF_IN_VM") != "1":
        raise lib.Skip("runs inside the VM (test_options_run_in_vm)")
    if not os.path.exists(CRIU):
        raise lib.Skip("criu is not installed")
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip("runc is not installed: nothing to compare with")


def _close_held():
    while _held:
        try:
            os.close(_held.pop())
        except OSError:
            pass


class Runtime:
    """skiff or runc, each with its own state root."""

    def __init__(self, name):
        self.name = name
        if name == "skiff":
            self.argv = [lib.SKIFF, "--root", lib.ROOT]
        else:
            self.argv = [RUNC, "--root", os.path.join(lib.WORK, "runc-root")]

    def cmd(self, *args):
        return [*self.argv, *map(str, args)]

    def run(self, *args, timeout=300, **kw):
        """Runs to completion with output in files (a container may hold a pipe)."""
        with open(os.devnull) as null, \
                open(os.path.join(lib.WORK, "out"), "w+") as out, \
                open(os.path.join(lib.WORK, "err"), "w+") as err:
            p = subprocess.run(self.cmd(*args), stdin=null, stdout=out, stderr=err,
                               timeout=timeout, **kw)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"{self.name} {' '.join(map(str, args))}: {r.stderr}"
        return r

    def piped(self, *args, timeout=300):
        """Runs with fresh pipes as stdio, kept open (CRIU dumps pipes, restore is given
        new ones); returns (rc, stderr)."""
        fds = [os.pipe() for _ in range(3)]
        p = subprocess.Popen(self.cmd(*args), stdin=fds[0][0], stdout=fds[1][1],
                             stderr=fds[2][1])
        for fd in (fds[0][0], fds[1][1], fds[2][1]):
            os.close(fd)
        if not _held:
            lib.at_cleanup(_close_held)
        _held.extend([fds[0][1], fds[1][0], fds[2][0]])
        rc = p.wait(timeout=timeout)
        os.set_blocking(fds[2][0], False)
        try:
            err = os.read(fds[2][0], 65536).decode(errors="replace")
        except BlockingIOError:
            err = ""
        return rc, err

    def forget(self, cid):
        lib.at_cleanup(lambda: subprocess.run(self.cmd("delete", "--force", cid),
                                              capture_output=True, timeout=120))

    def state(self, cid):
        return json.loads(self.ok("state", cid).stdout)


RUNTIMES = ("skiff", "runc")


def _counter(rt, edit=None):
    """A detached counter container under rt, counting; returns (bundle, id)."""
    script = COUNTER_SCRIPT

    def change(cfg):
        cfg["root"]["readonly"] = False
        cfg["linux"]["cgroupsPath"] = f"/criuopts-{rt.name}-{os.getpid()}-{time.monotonic_ns()}"
        if edit:
            edit(cfg)
    b = lib.Bundle(["sh", "-c", script], edit=change)
    cid = lib.new_id(f"co{rt.name[0]}")
    # runc leaves the cgroup of a container a lazy checkpoint dumped: removed last.
    path = b.config["linux"]["cgroupsPath"]
    lib.at_cleanup(lambda: [os.rmdir(d) for d in (f"/sys/fs/cgroup{path}",
                                                   f"/sys/fs/cgroup{path}-lazy")
                            if os.path.isdir(d)])
    rt.forget(cid)
    rc, err = rt.piped("run", "-d", "--bundle", b.path, cid)
    assert rc == 0, f"{rt.name} run: {err}"
    _counting(b, cid)
    return b, cid


def _restored(rt, b, images, cid, *extra):
    """Restores images as cid (detached) and checks the counter went on from the dump."""
    at_dump = _count(b)
    rt.forget(cid)
    rc, err = rt.piped("restore", "-d", *extra, "--image-path", images, "--bundle", b.path, cid)
    assert rc == 0, f"{rt.name} restore: {err}"
    assert rt.state(cid)["status"] == "running"
    after = _counting(b, cid)
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
        rt = Runtime(name)
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
            _restored(rt, b, images, lib.new_id(f"col{name[0]}"), "--lazy-pages",
                      "--work-path", images)
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
        rt = Runtime(name)
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
        rt = Runtime(name)
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
        rt = Runtime(name)
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

def _has_criu_build():
    return "checkpoint" in lib.skiff_ok("--help").stdout


def test_bad_options_are_one_line_and_leave_nothing():
    if not _has_criu_build():
        raise lib.Skip("skiff was built without libcriu")
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
            r = Runtime("skiff").run("checkpoint", "--image-path", images, *args, cid,
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
    import vm
    if not os.path.exists(CRIU):
        raise lib.Skip("criu is not installed")
    if not _has_criu_build():
        raise lib.Skip("skiff was built without libcriu")
    passed, skipped, out = vm.run_tests("test_checkpoint_options_vm.test_in_vm_", timeout=1500)
    assert passed >= 3, f"too few ran in the VM:\n{out[-3000:]}"
    print("\n".join(f"vm skip: {s}" for s in skipped))
