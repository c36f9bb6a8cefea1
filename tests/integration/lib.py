"""Shared pieces for skiff's integration tests: the binary, bundles, cleanup.

Every test gets bundles built from Debian's static busybox plus the probe
(tests/probe/probe), and a private state root.  cleanup_after_test()
deletes every container a test made and removes its files, so a failing
test leaves nothing behind either.
"""
import atexit
import copy
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIFF = os.environ.get("SKIFF", os.path.join(TOP, "skiff"))
PROBE = os.path.join(TOP, "tests", "probe", "probe")
BUSYBOX = "/bin/busybox"
# Both carry the pid of the run that owns them, so that a later run can tell a
# killed run's leftovers from a live run's (sweep_dead_runs).
WORK = tempfile.mkdtemp(prefix=f"skiff-test-{os.getpid()}-", dir="/tmp")
ROOT = f"/run/skiff-test-{os.getpid()}"
_OWNER = os.getpid()
# Any importer (a helper script, not only the runner) removes its work directory at
# exit; a forked child that returns normally must not remove its parent's.
atexit.register(lambda: os.getpid() == _OWNER and shutil.rmtree(WORK, ignore_errors=True))

_ids = itertools.count(1)
_made_ids = []
_made_dirs = []
_cleanups = []
_used_roots = set()  # state roots lib.skiff was given since the last cleanup
_private_roots = []  # made by private_root(), removed after each test


def needs_time(seconds):
    """Makes the running test's time limit (tests/runner.py arms it with SIGALRM) at
    least `seconds` from now: for one call that is itself bounded, like a VM boot."""
    left = signal.alarm(0)
    if left:
        signal.alarm(max(left, int(seconds)))


class Skip(Exception):
    """Raised by a test that cannot run here; the message says why."""


def skiff(*args, root=ROOT, input=None, timeout=60, env=None, stdin=None, cwd=None):
    """Runs skiff with the test state root; returns CompletedProcess (text).

    Output goes through files, not pipes: a created container inherits
    skiff's stdio and would hold a pipe open long after skiff exits.
    """
    cmd = [SKIFF, "--root", root, *map(str, args)]
    _used_roots.add(root)
    with tempfile.TemporaryFile(dir=WORK) as out, tempfile.TemporaryFile(dir=WORK) as err:
        if input is not None:
            stdin = tempfile.TemporaryFile(dir=WORK)
            stdin.write(input.encode())
            stdin.seek(0)
        p = subprocess.run(cmd, stdout=out, stderr=err, timeout=timeout, env=env,
                           stdin=stdin if stdin is not None else subprocess.DEVNULL, cwd=cwd)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, p.returncode, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))


def skiff_ok(*args, **kw):
    r = skiff(*args, **kw)
    assert r.returncode == 0, f"skiff {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr}"
    return r


def new_id(prefix="t"):
    cid = f"{prefix}{os.getpid()}-{next(_ids)}"
    _made_ids.append(cid)
    return cid


def _template_rootfs():
    path = os.path.join(WORK, "template-rootfs")
    if os.path.isdir(path):
        return path
    if not os.path.exists(BUSYBOX):
        raise Skip("busybox-static is not installed")
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "root", "run", "var"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin", "busybox"))
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                             timeout=60).stdout.split()
    for a in applets:
        link = os.path.join(path, "bin", a)
        if a != "busybox" and not os.path.lexists(link):
            os.symlink("busybox", link)
    if os.path.exists(PROBE):
        shutil.copy2(PROBE, os.path.join(path, "bin", "probe"))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(path, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    return path


def default_config(args):
    """A config like `runc spec` writes, independent of skiff's own generator."""
    return {
        "ociVersion": "1.2.0",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
                             for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "skiff",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Bundle:
    """A bundle directory: rootfs copied from the template, config.json from a dict."""

    def __init__(self, args=("true",), config=None, edit=None):
        self.path = tempfile.mkdtemp(prefix="bundle-", dir=WORK)
        _made_dirs.append(self.path)
        self.rootfs = os.path.join(self.path, "rootfs")
        shutil.copytree(_template_rootfs(), self.rootfs, symlinks=True)
        self.config = copy.deepcopy(config) if config else default_config(args)
        if edit:
            edit(self.config)
        self.write()

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)

    def file(self, name):
        return os.path.join(self.path, name)


def private_root():
    """A state root of the test's own; the runner checks it and removes it after the test."""
    path = tempfile.mkdtemp(prefix="skiff-secroot-", dir="/run")
    _private_roots.append(path)
    return path


def state_roots():
    """Every state root the current test used (the runner checks each one)."""
    return sorted({ROOT, *_private_roots, *_used_roots})


def remove_private_roots():
    _used_roots.clear()
    while _private_roots:
        shutil.rmtree(_private_roots.pop(), ignore_errors=True)


def state(cid, root=ROOT):
    r = skiff_ok("state", cid, root=root)
    return json.loads(r.stdout)


def cgroup_of(pid):
    """pid's cgroup v2 path (the 0:: line of /proc/PID/cgroup)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    raise AssertionError(f"pid {pid} has no cgroup v2 line")


def cgroup_v1_mounts():
    """{controller: mountpoint} of the cgroup v1 hierarchies (empty on a unified host)."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields, post = pre.split(), post.split()
            if post and post[0] == "cgroup":
                for opt in post[2].split(","):
                    out.setdefault(opt, fields[4])
    return out


def mountinfo():
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def at_cleanup(fn):
    """Has cleanup_after_test() call fn (once): for what a test made outside skiff's
    state root, such as containers of another runtime."""
    _cleanups.append(fn)


def cleanup_after_test():
    """Deletes every container and file the test made (a failing test too)."""
    failed = None
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as e:  # the rest is still cleaned; the first failure is reported
            failed = failed or e
    roots = state_roots()
    while _made_ids:
        cid = _made_ids.pop()
        for root in roots:
            if os.path.exists(SKIFF) and (root == ROOT or
                                          os.path.lexists(os.path.join(root, cid))):
                skiff("delete", "--force", cid, root=root)
    while _made_dirs:
        shutil.rmtree(_made_dirs.pop(), ignore_errors=True)
    if failed:
        raise failed


def final_cleanup():
    cleanup_after_test()
    shutil.rmtree(WORK, ignore_errors=True)
    # Containers are gone by now; what is left is skiff's own cache (.seccomp-cache).
    if os.path.isdir(ROOT):
        leftover = [n for n in os.listdir(ROOT) if not n.startswith(".")]
        if not leftover:
            shutil.rmtree(ROOT, ignore_errors=True)


def sweep_dead_runs():
    """Removes what runs of this suite that were killed (SIGKILL, a lost terminal) left:
    their containers, state roots and work directories.  Only runs whose pid is gone."""
    swept = []
    for top, prefix in (("/run", "skiff-test-"), ("/tmp", "skiff-test-")):
        for name in os.listdir(top):
            pid = name[len(prefix):].split("-", 1)[0]
            if not name.startswith(prefix) or not pid.isdigit() or int(pid) == os.getpid():
                continue
            if os.path.exists(f"/proc/{pid}"):
                continue
            path = os.path.join(top, name)
            if top == "/run" and os.path.isdir(path):
                for cid in os.listdir(path):
                    if not cid.startswith("."):
                        skiff("delete", "--force", cid, root=path)
            shutil.rmtree(path, ignore_errors=True)
            swept.append(path)
    return swept
