"""skiff against runc on a pure cgroup v2 hierarchy: the cgroup files each one leaves.

Runs inside tests/vm's VM (on the host these skip;
test_differential.test_cgroup_files_against_runc_in_vm boots the VM and runs this module
there).  Each variant runs the same bundle under both runtimes, each
in a fresh parent cgroup of its own, and compares: the exit status, every readable setting
file of the container's cgroup (counters left out), which files exist (the controllers the
container got), the parent's cgroup.subtree_control; then each `update` step with the same
flags, and `delete --force`.  allow.txt lists the differences that are right, with the
reason, as for the other differential tests.
"""
import itertools
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import differ  # noqa: E402
import lib  # noqa: E402

MNT = "/sys/fs/cgroup"
MiB = 1024 * 1024
_n = itertools.count(1)
# Counters and event files change by themselves; write-only files cannot be read.
VOLATILE = re.compile(r"(\.current|\.stat|\.events(\.local)?|\.pressure|\.peak|\.numa_stat|"
                      r"^cgroup\.(procs|threads|kill)|^memory\.reclaim)$")


def _need_vm():
    if os.environ.get("SKIFF_IN_VM") != "1":
        raise lib.Skip("runs inside the VM "
                       "(test_differential.test_cgroup_files_against_runc_in_vm)")
    differ.have_runc()
    try:
        with open(os.path.join(MNT, "cgroup.controllers")) as f:
            have = f.read().split()
    except OSError as e:
        raise lib.Skip(f"no cgroup v2 at {MNT}: {e}")
    for c in ("memory", "pids", "cpu", "io"):
        if c not in have:
            raise lib.Skip(f"the {c} controller is not available in the VM")


_nullb = []


def _block_device():
    """"MAJ:MIN" of a null_blk disk whose scheduler is BFQ (modules from the host's root)."""
    if not _nullb:
        for mod in (["bfq"], ["null_blk", "nr_devices=1"]):
            subprocess.run(["modprobe", *mod], capture_output=True, timeout=60)
        try:
            with open("/sys/block/nullb0/queue/scheduler", "w") as f:
                f.write("bfq")
            with open("/sys/block/nullb0/dev") as f:
                _nullb.append(f.read().strip())
        except OSError as e:
            raise lib.Skip(f"no null_blk disk with BFQ in the VM: {e}")
    return _nullb[0]


def _read(path):
    try:
        with open(path) as f:
            return " ".join(f.read().split())
    except OSError as e:
        return f"({e.strerror})"


def _files(cg, prefix=""):
    """The cgroup's settings as observations: one per readable file, and the file list."""
    seen = {}
    if not os.path.isdir(cg):
        return {f"{prefix}cgroup": "absent"}
    names = sorted(os.listdir(cg))
    for name in names:
        p = os.path.join(cg, name)
        if os.path.isfile(p) and not VOLATILE.search(name):
            seen[f"{prefix}file:{name}"] = _read(p)
    seen[f"{prefix}files"] = " ".join(n for n in names if not os.path.isdir(os.path.join(cg, n)))
    return seen


def _cli(runtime, *args, input=None):
    """One command; output through files, since a detached container keeps pipes open."""
    if runtime == "skiff":
        return lib.skiff(*args, input=input)
    with open(os.path.join(lib.WORK, "runc.out"), "w+") as out, \
            open(os.path.join(lib.WORK, "runc.err"), "w+") as err, \
            open(os.path.join(lib.WORK, "runc.in"), "w+") as inp:
        inp.write(input or "")
        inp.seek(0)
        p = subprocess.run([differ.RUNC, "--root", differ.RUNC_ROOT, *map(str, args)],
                           stdout=out, stderr=err, stdin=inp, timeout=60)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, p.returncode, out.read(), err.read())


def _new_id(runtime):
    if runtime == "skiff":
        return lib.new_id("cg")
    cid = f"cg{os.getpid()}-runc-{next(_n)}"
    lib.at_cleanup(differ._runc_cleanup(cid))
    return cid


def _parent(runtime):
    """A fresh parent cgroup, removed after the test (the container's is its child)."""
    parent = f"/skiff-cgd-{runtime}-{os.getpid()}-{next(_n)}"

    def remove():
        if not os.path.isdir(MNT + parent):
            return
        # A test that failed half-way may have left a container running in it.
        with open(f"{MNT}{parent}/cgroup.kill", "w") as f:
            f.write("1")
        end = time.monotonic() + 20
        while "populated 1" in _read(f"{MNT}{parent}/cgroup.events") and \
                time.monotonic() < end:
            time.sleep(0.1)
        for d in sorted((os.path.join(dp, n) for dp, dn, _ in os.walk(MNT + parent)
                         for n in dn), key=len, reverse=True) + [MNT + parent]:
            os.rmdir(d)
    lib.at_cleanup(remove)
    return parent


def _bundle(resources, args=("sleep", "1000"), edit=None):
    b = lib.Bundle(list(args))
    b.config["linux"]["resources"].update(resources)
    if edit:
        edit(b.config)
    b.write()
    return b


def _step(seen, name, r):
    seen[f"{name} exit"] = str(r.returncode)
    seen[f"{name} stderr"] = "present" if r.stderr.strip() else "none"
    seen.setdefault("(stderr text)", "")
    seen["(stderr text)"] += f"{name}: {r.stderr.strip()}\n"


def observe(runtime, resources, updates=(), edit=None):
    """run -d the bundle, then each update; what the cgroup held after each step."""
    parent = _parent(runtime)
    b = _bundle(resources, edit=edit)
    b.config["linux"]["cgroupsPath"] = f"{parent}/c"
    b.write()
    cid = _new_id(runtime)
    seen = {}
    _step(seen, "run", _cli(runtime, "run", "-d", "--bundle", b.path, cid))
    cg = MNT + parent + "/c"
    seen.update(_files(cg))
    seen["parent subtree_control"] = _read(MNT + parent + "/cgroup.subtree_control")
    for i, args in enumerate(updates, 1):
        if isinstance(args, dict):
            r = _cli(runtime, "update", "--resources", "-", cid, input=json.dumps(args))
        else:
            r = _cli(runtime, "update", *args, cid)
        _step(seen, f"update{i}", r)
        seen.update(_files(cg, f"update{i} "))
    _step(seen, "delete", _cli(runtime, "delete", "--force", cid))
    seen["after delete"] = "present" if os.path.isdir(cg) else "absent"
    return seen


def _compare(variant, seen):
    """differ.compare on the two observations; the runtimes' stderr shown on failure."""
    texts = {rt: seen[rt].pop("(stderr text)", "") for rt in seen}
    for rt in seen:  # no container script here: only what the cgroup shows
        seen[rt]["container ran"] = "n/a"
    try:
        differ.compare(variant, seen["skiff"], seen["runc"])
    except AssertionError as e:
        raise AssertionError(f"{e}\nskiff: {texts['skiff'][-1500:]}\n"
                             f"runc: {texts['runc'][-1500:]}") from None


def compare(variant, resources, updates=(), edit=None):
    seen = {rt: observe(rt, resources, updates, edit) for rt in ("skiff", "runc")}
    # A difference that starts at run shows again in every file after it: report run's.
    if seen["skiff"]["run exit"] != seen["runc"]["run exit"]:
        for rt in seen:
            seen[rt] = {k: v for k, v in seen[rt].items() if k.startswith("run ") or
                        k == "(stderr text)"}
    _compare(variant, seen)


# ---- linux.resources, one variant each ----

def test_no_resources():
    _need_vm()
    compare("cg-none", {})


def test_memory():
    _need_vm()
    compare("cg-memory", {"memory": {"limit": 64 * MiB, "reservation": 32 * MiB,
                                     "swap": 96 * MiB}})


def test_memory_unlimited_and_ignored_v1_fields():
    _need_vm()
    compare("cg-memory-v1", {"memory": {"limit": -1, "swap": -1, "swappiness": 10,
                                        "disableOOMKiller": False}})


def test_cpu():
    _need_vm()
    compare("cg-cpu", {"cpu": {"shares": 512, "quota": 30000, "period": 60000,
                               "cpus": "0", "mems": "0"}})


def test_cpu_quota_alone_and_idle():
    _need_vm()
    compare("cg-cpu-quota", {"cpu": {"quota": 20000, "idle": 1}})


def test_pids():
    _need_vm()
    compare("cg-pids", {"pids": {"limit": 33}})


def test_block_io_weights_and_throttles_on_bfq():
    _need_vm()
    major, minor = map(int, _block_device().split(":"))
    dev = {"major": major, "minor": minor}
    compare("cg-blkio", {"blockIO": {
        "weight": 300, "weightDevice": [dict(dev, weight=500)],
        "throttleReadBpsDevice": [dict(dev, rate=1048576)],
        "throttleWriteIOPSDevice": [dict(dev, rate=100)]}})


def test_hugetlb():
    _need_vm()
    if not os.path.exists(f"{MNT}/hugetlb.2MB.max") and \
            not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        raise lib.Skip("no 2MB huge pages in the VM")
    compare("cg-hugetlb", {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]})


def test_unified():
    _need_vm()
    compare("cg-unified", {"unified": {"memory.high": str(48 * MiB), "pids.max": "17"}})


def test_device_rule_access_rwa():
    _need_vm()
    compare("cg-devices-rwa", {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwa"}]})


# ---- update: every runc flag, then --resources ----

def test_update_every_flag():
    _need_vm()
    base = {"memory": {"limit": 64 * MiB, "swap": 96 * MiB}, "cpu": {"shares": 1024},
            "pids": {"limit": 40}, "blockIO": {"weight": 200}}
    _block_device()  # BFQ loaded: the weight flag goes where runc writes it
    compare("cg-update", base, updates=[
        ["--memory", "32m"], ["--memory-reservation", "16m"], ["--memory-swap", "80m"],
        ["--memory-swap", "-1"], ["--memory", "100m", "--memory-swap", "-1"],
        ["--memory", "-1"], ["--kernel-memory", "8m"], ["--kernel-memory-tcp", "8m"],
        ["--cpu-share", "2048"], ["--cpu-quota", "25000"], ["--cpu-period", "50000"],
        ["--cpu-quota", "-1"], ["--cpu-rt-period", "100000"], ["--cpu-rt-runtime", "0"],
        ["--cpuset-cpus", "0"], ["--cpuset-mems", "0"], ["--pids-limit", "99"],
        ["--pids-limit", "-1"], ["--blkio-weight", "700"],
        {"memory": {"limit": 48 * MiB}, "pids": {"limit": 12}, "cpu": {"quota": 10000}},
    ])


# ---- the container's cgroup itself ----

def _run_d(runtime, b, cid):
    return _cli(runtime, "run", "-d", "--bundle", b.path, cid)


def test_shared_cgroup():
    """A second container in the first one's cgroup, then each deleted."""
    _need_vm()
    seen = {}
    for rt in ("skiff", "runc"):
        s = seen[rt] = {}
        cg = _parent(rt) + "/c"
        a, b = _new_id(rt), _new_id(rt)
        ba = _bundle({}, edit=lambda c: c["linux"].update(cgroupsPath=cg))
        _step(s, "run first", _run_d(rt, ba, a))
        bb = _bundle({}, edit=lambda c: c["linux"].update(cgroupsPath=cg))
        _step(s, "run second", _run_d(rt, bb, b))
        s["procs"] = str(len(_read(MNT + cg + "/cgroup.procs").split()))
        _cli(rt, "kill", b, "KILL")
        time.sleep(1)
        _step(s, "delete second", _cli(rt, "delete", b))
        s["first after"] = json.loads(_cli(rt, "state", a).stdout or "{}").get("status", "gone")
        _step(s, "delete first", _cli(rt, "delete", "--force", a))
    # The reference must show what the variant is about: runc 1.1 runs it, with a warning.
    runc = seen["runc"]
    assert runc["run second exit"] == "0" and "not empty" in runc["(stderr text)"], runc
    _compare("cg-shared", seen)


def test_frozen_cgroup_is_refused():
    _need_vm()
    seen = {}
    for rt in ("skiff", "runc"):
        s = seen[rt] = {}
        cg = _parent(rt) + "/c"
        os.makedirs(MNT + cg)
        with open(MNT + cg + "/cgroup.freeze", "w") as f:
            f.write("1")
        b = _bundle({}, edit=lambda c: c["linux"].update(cgroupsPath=cg))
        cid = _new_id(rt)
        try:
            r = _cli(rt, "run", "-d", "--bundle", b.path, cid)
            _step(s, "run", r)
        except subprocess.TimeoutExpired:
            s["run exit"] = "hangs"
        s["frozen after"] = _read(MNT + cg + "/cgroup.freeze")
        with open(MNT + cg + "/cgroup.freeze", "w") as f:
            f.write("0")
        _cli(rt, "delete", "--force", cid)
    runc = seen["runc"]
    assert runc["run exit"] == "1" and "frozen" in runc["(stderr text)"], runc
    _compare("cg-frozen", seen)


def test_sub_cgroups_exec_cgroup_and_delete_force():
    """exec --cgroup into a sub-cgroup the container made; delete --force removes them all."""
    _need_vm()
    seen = {}
    for rt in ("skiff", "runc"):
        s = seen[rt] = {}
        cg = _parent(rt) + "/c"

        def edit(c):
            c["linux"]["cgroupsPath"] = cg
            c["linux"]["namespaces"].append({"type": "cgroup"})
            c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup2",
                                "source": "cgroup", "options": ["rw", "nosuid", "nodev"]})
        b = _bundle({"pids": {"limit": 50}}, edit=edit)
        cid = _new_id(rt)
        _step(s, "run", _run_d(rt, b, cid))
        _step(s, "mkdir", _cli(rt, "exec", cid, "mkdir", "-p", "/sys/fs/cgroup/sub/deeper"))
        _step(s, "exec --cgroup", _cli(rt, "exec", "--cgroup", "sub/deeper", cid,
                                       "cat", "/proc/self/cgroup"))
        r = _cli(rt, "exec", "-d", "--cgroup", "sub", cid, "sleep", "1000")
        _step(s, "exec -d --cgroup", r)
        s["sub procs"] = str(len(_read(MNT + cg + "/sub/cgroup.procs").split()))
        s["exec saw"] = _cli(rt, "exec", "--cgroup", "sub", cid, "cat",
                             "/proc/self/cgroup").stdout.strip()
        _step(s, "delete --force", _cli(rt, "delete", "--force", cid))
        s["after delete"] = "present" if os.path.isdir(MNT + cg) else "absent"
    runc = seen["runc"]
    assert runc["exec saw"] == "0::/sub" and runc["sub procs"] == "1", runc
    _compare("cg-sub", seen)


def test_run_keep_leaves_the_cgroup_with_its_controllers():
    _need_vm()
    seen = {}
    for rt in ("skiff", "runc"):
        parent = _parent(rt)
        b = _bundle({}, args=["true"],
                    edit=lambda c: c["linux"].update(cgroupsPath=parent + "/c"))
        cid = _new_id(rt)
        s = seen[rt] = {}
        _step(s, "run --keep", _cli(rt, "run", "--keep", "--bundle", b.path, cid))
        s["status"] = json.loads(_cli(rt, "state", cid).stdout or "{}").get("status", "gone")
        s.update(_files(MNT + parent + "/c"))
        _step(s, "delete", _cli(rt, "delete", cid))
        s["after delete"] = "present" if os.path.isdir(MNT + parent + "/c") else "absent"
    assert seen["runc"]["run --keep exit"] == "0" and "file:pids.max" in seen["runc"], \
        seen["runc"]
    _compare("cg-keep", seen)
