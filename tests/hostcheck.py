""""Left the host as found": what the runner checks after every test.

Other test runs share this host (other worktrees, other state roots), so only
what this run made is looked at:
  - containers in every state root the tests used (lib.ROOT and private roots);
  - mounts under lib.WORK (bundles, rootfs: a mount that propagated out of a
    container lands there) and under those state roots;
  - processes of this run: descendants of the runner, orphans that carry the
    runner's mark in their environment (skiff inherits it from the test), and
    anything in a cgroup named after one of this run's container ids;
  - cgroups named after this run's container ids, in every mounted hierarchy.
A process that left the runner's session is a module's deliberate daemon
(containerd, started with start_new_session=True); its module tears it down.

Whatever is found is reported, then removed, so the next test starts clean.
"""
import json
import os
import re
import shutil
import signal
import time
import traceback

import lib

RUNNER = os.getpid()
MARK = "SKIFF_TEST_RUN"
# lib.new_id() makes "<prefix><runner pid>-<n>"; skiff's cgroup is "skiff-<id>".
OUR_ID = re.compile(rf"(^|[^0-9]){RUNNER}-\d+$")
GRACE = 3.0  # seconds a killed container's processes may take to be gone


def mark_environment():
    """Every process the tests start inherits this; the process check reads it back."""
    os.environ[MARK] = str(RUNNER)


# ---- containers in state roots ----

def _containers(root):
    """(id, pid, pidStart) of every container in one state root."""
    found = []
    if not os.path.isdir(root):
        return found
    for cid in os.listdir(root):
        if cid.startswith("."):
            continue
        try:
            with open(os.path.join(root, cid, "state.json")) as f:
                st = json.load(f)
            found.append((cid, int(st.get("pid") or 0), st.get("pidStart")))
        except (OSError, ValueError):
            found.append((cid, 0, None))
    return found


# ---- processes ----

def _stat(pid):
    """(ppid, sid, state, starttime) from /proc/PID/stat, None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[3]), fields[0], int(fields[19])


def _start_time(pid):
    """pid's start time, None when gone or a zombie."""
    st = _stat(pid)
    return None if st is None or st[2] in ("Z", "X") else st[3]


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def _in_our_cgroup(pid):
    for line in _read(f"/proc/{pid}/cgroup").decode(errors="replace").splitlines():
        path = line.split(":", 2)[-1]
        if any(OUR_ID.search(part) for part in path.split("/")):
            return True
    return False


def _our_processes():
    """{(pid, starttime): why} for every live process of this run that must not outlive a test."""
    procs = {}
    for e in os.listdir("/proc"):
        if e.isdigit() and int(e) != RUNNER:
            st = _stat(int(e))
            if st is not None and st[2] not in ("Z", "X"):
                procs[int(e)] = st
    ours = {RUNNER}
    changed = True
    while changed:  # descendants of the runner
        changed = False
        for pid, (ppid, _, _, _) in procs.items():
            if ppid in ours and pid not in ours:
                ours.add(pid)
                changed = True
    sid = os.getsid(0)
    mark = f"{MARK}={RUNNER}".encode()
    found = {}
    for pid, (_, psid, _, start) in procs.items():
        if _in_our_cgroup(pid):
            found[(pid, start)] = "in a cgroup of this run's containers"
        elif psid == sid and (pid in ours or mark in _read(f"/proc/{pid}/environ").split(b"\0")):
            found[(pid, start)] = "started by this run"
    return found


def _describe(pid):
    cmd = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
    return f"pid {pid} ({cmd[:120] or '?'})"


def _kill(pid, start):
    if _start_time(pid) == start:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---- mounts and cgroups ----

def _unescape(field):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mountinfo():
    with open("/proc/self/mountinfo") as f:
        return [line.split() for line in f]


def _our_mounts(roots):
    tops = [lib.WORK, *roots]
    return sorted(p for p in (_unescape(m[4]) for m in _mountinfo())
                  if any(p == t or p.startswith(t.rstrip("/") + "/") for t in tops))


def _our_cgroups():
    found = []
    for m in _mountinfo():
        fstype = m[m.index("-") + 1]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        for dirpath, dirs, _ in os.walk(_unescape(m[4])):
            found += [os.path.join(dirpath, d) for d in dirs if OUR_ID.search(d)]
    return sorted(set(found))


def _umount(path):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.umount2(path.encode(), 2)  # MNT_DETACH


# ---- the check ----

class Snapshot:
    """What this run had on the host before a test."""

    def __init__(self):
        self.mounts = _our_mounts(lib.state_roots())
        self.procs = _our_processes()
        self.cgroups = _our_cgroups()


def after_test(before):
    """Cleans up after a test and returns what it left behind (a list of sentences)."""
    problems = []
    roots = lib.state_roots()
    live = [(r, c) for r in roots for c in _containers(r)]
    try:
        lib.cleanup_after_test()
    except Exception:
        problems.append("cleanup_after_test raised:\n" + traceback.format_exc())
    for root, (cid, pid, start) in live:
        if pid > 0 and start is not None and _start_time(pid) == start:
            problems.append(f"the init of container {cid} (pid {pid}) still runs after "
                            "delete --force")
    for root in roots:
        left = [c for c, _, _ in _containers(root)]
        if left:
            problems.append(f"left in the state root {root}: {left}")
            for cid in left:  # so that the next test starts clean
                lib.skiff("delete", "--force", cid, root=root)
                shutil.rmtree(os.path.join(root, cid), ignore_errors=True)

    deadline = time.monotonic() + GRACE
    while True:
        procs = {k: v for k, v in _our_processes().items() if k not in before.procs}
        if not procs or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for (pid, start), why in sorted(procs.items()):
        problems.append(f"a process outlived the test, {why}: {_describe(pid)}")
        _kill(pid, start)

    mounts = [m for m in _our_mounts(roots) if m not in before.mounts]
    if mounts:
        problems.append(f"mounts left: {mounts}")
        for m in reversed(mounts):
            _umount(m)
    cgroups = [c for c in _our_cgroups() if c not in before.cgroups]
    if cgroups:
        problems.append(f"cgroups left: {cgroups}")
        for c in sorted(cgroups, key=len, reverse=True):
            try:
                os.rmdir(c)
            except OSError:
                pass
    lib.remove_private_roots()
    return problems
