"""What the checkpoint/restore tests in tests/vm's VM share (test_checkpoint_vm,
test_checkpoint_options_vm, test_checkpoint_systemd_vm, test_systemd_v1).

    b = crlib.counter_bundle("/skiff-test-x")       # sh counting into its /tmp/count
    rt = crlib.Runtime("runc")                       # or "skiff"; a root of its own
    cid = rt.new_id("ck")                            # deleted after the test
    rt.piped("run", "-d", "--bundle", b.path, cid)   # stdio: pipes the test holds open
    crlib.counting(b)                                # waits until the counter moves

A container's stdio are pipes the test holds open, as a shim's are: CRIU cannot
dump a file of the host's, and hands the restored process the pipes `restore`
was given.  Under TCG on a loaded host a counter can miss whole seconds, so what
waits for one to write or move gives it WAIT seconds.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import lib

RUNC = "/usr/sbin/runc"
CRIU = shutil.which("criu") or "/usr/sbin/criu"
WAIT = 30  # seconds a counter is given to write or to move on
# The counter renames a whole file into place, so a dump taken between a
# truncate and a write cannot leave /tmp/count empty for good.
COUNTER_SCRIPT = ("i=0; while true; do i=$((i+1)); echo $i > /tmp/count.new; "
                  "mv /tmp/count.new /tmp/count; sleep 0.2; done")

_held = []  # our ends of the containers' stdio pipes (and consoles)


def _close_held():
    while _held:
        try:
            os.close(_held.pop())
        except OSError:
            pass


def hold(fds):
    """Keeps fds open until the test's cleanup."""
    if not _held:
        lib.at_cleanup(_close_held)
    _held.extend(fds)


def need_libcriu():
    """Skips unless skiff was built with libcriu (checkpoint and restore)."""
    if "checkpoint" not in lib.skiff_ok("--help").stdout:
        raise lib.Skip("skiff was built without libcriu")


def counter_bundle(cgroups_path, edit=None):
    """A bundle whose init counts into its rootfs's /tmp/count; edit(config) changes more."""
    def change(c):
        c["root"]["readonly"] = False
        c["linux"]["cgroupsPath"] = cgroups_path
        if edit:
            edit(c)
    return lib.Bundle(["sh", "-c", COUNTER_SCRIPT], edit=change)


def count(b):
    """The counter's value, read in b's rootfs; waits up to WAIT s for its first write."""
    end = time.monotonic() + WAIT
    while True:
        try:
            with open(os.path.join(b.rootfs, "tmp", "count")) as f:
                v = f.read().strip()
            if v:
                return int(v)
        except (OSError, ValueError):
            pass
        if time.monotonic() > end:
            raise AssertionError("the counter wrote nothing")
        time.sleep(0.1)


def counting(b, what=None):
    """Waits (up to WAIT s) until the counter in b moves on; returns its value then."""
    first = count(b)
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        now = count(b)
        if now > first:
            return now
        time.sleep(0.2)
    raise AssertionError(f"{what or b.path}: the counter is stuck at {first}")


class Runtime:
    """skiff (the tests' state root) or runc (a private root); the containers named by
    new_id() are deleted after the test."""

    def __init__(self, name):
        self.name = name
        self.binary = lib.SKIFF if name == "skiff" else RUNC
        self.root = lib.ROOT if name == "skiff" else lib.private_root()

    def new_id(self, prefix):
        """A new container id (prefix, the runtime's initial, a number)."""
        cid = lib.new_id(f"{prefix}{self.name[0]}")
        lib.at_cleanup(lambda: subprocess.run(self.cmd("delete", "--force", cid),
                                              capture_output=True, timeout=120))
        return cid

    def cmd(self, *args, systemd=False):
        return [self.binary, "--root", self.root, *(["--systemd-cgroup"] if systemd else []),
                *map(str, args)]

    def run(self, *args, systemd=False, timeout=300, **kw):
        """Runs to completion; returns a CompletedProcess with text output.  The output goes
        through files: a container the command leaves may hold its stdio open."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            p = subprocess.run(self.cmd(*args, systemd=systemd), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=err, timeout=timeout, **kw)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read())

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.returncode == 0, f"{self.name} {' '.join(map(str, args))}: {r.stderr}"
        return r

    def piped(self, *args, systemd=False, timeout=300, ok=True):
        """Runs with fresh pipes as stdio, kept open by us (a container inherits them);
        asserts success unless ok=False; returns (status, stderr).  stderr is read once
        it has exited, without waiting for an EOF the container's copy would never give."""
        fds = [os.pipe() for _ in range(3)]
        p = subprocess.Popen(self.cmd(*args, systemd=systemd), stdin=fds[0][0],
                             stdout=fds[1][1], stderr=fds[2][1])
        for fd in (fds[0][0], fds[1][1], fds[2][1]):
            os.close(fd)
        hold([fds[0][1], fds[1][0], fds[2][0]])
        rc = p.wait(timeout=timeout)
        os.set_blocking(fds[2][0], False)
        try:
            err = os.read(fds[2][0], 65536).decode(errors="replace")
        except BlockingIOError:
            err = ""
        assert rc == 0 or not ok, f"{self.name} {' '.join(map(str, args))}: {err}"
        return rc, err

    def state(self, cid):
        return json.loads(self.ok("state", cid).stdout)

    def checkpoint(self, cid, images, *opts, systemd=False):
        self.ok("checkpoint", "--image-path", images, *opts, cid, systemd=systemd)

    def restore(self, cid, images, bundle, *opts, systemd=False, ok=True):
        return self.piped("restore", "-d", "--image-path", images, "--bundle", bundle.path,
                          *opts, cid, systemd=systemd, ok=ok)
