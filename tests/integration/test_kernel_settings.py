"""Settings skiff hands to the kernel, seen from inside a real container:
process.scheduler, process.ioPriority, linux.personality, a device the device
cgroup denies, and linux.resources.hugepageLimits enforced on a real fault.
"""
import json
import os

import lib
from lib import Bundle, new_id, skiff


def run_probe(args, edit):
    b = Bundle(["probe", *args], edit=edit)
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def test_scheduler_policy_and_nice_reach_the_process():
    for sched in ({"policy": "SCHED_BATCH", "nice": 7}, {"policy": "SCHED_IDLE"},
                  {"policy": "SCHED_OTHER", "nice": -3}):
        got = run_probe(["sched"], lambda c: c["process"].update(scheduler=sched))["sched"]
        assert got["policy"] == sched["policy"], (sched, got)
        if sched["policy"] != "SCHED_IDLE":  # SCHED_IDLE has no nice value of its own
            assert got["nice"] == sched["nice"], (sched, got)


def test_io_priority_reaches_the_process():
    for io, want in (({"class": "IOPRIO_CLASS_BE", "priority": 6}, (2, 6)),
                     ({"class": "IOPRIO_CLASS_IDLE", "priority": 0}, (3, 0)),
                     ({"class": "IOPRIO_CLASS_RT", "priority": 1}, (1, 1))):
        got = run_probe(["ioprio"], lambda c: c["process"].update(ioPriority=io))["ioprio"]
        assert (got["class"], got["level"]) == want, (io, got)


def test_personality_reaches_the_process():
    for pers, want in (({"domain": "LINUX32"}, 0x0008), ({"domain": "LINUX"}, 0)):
        got = run_probe(["personality"],
                        lambda c: c["linux"].update(personality=pers))["personality"]
        assert got == want, (pers, got)
    # /proc sees it too: uname -m of a 32-bit personality on x86_64 is i686.
    if os.uname().machine == "x86_64":
        b = Bundle(["uname", "-m"],
                   edit=lambda c: c["linux"].update(personality={"domain": "LINUX32"}))
        r = skiff("run", "--bundle", b.path, new_id())
        assert r.returncode == 0 and r.stdout.strip() == "i686", r


FUSE = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}


def test_device_cgroup_denies_a_created_device_end_to_end():
    """The node exists in the container (linux.devices), but only a resources.devices
    rule lets it be opened; /dev/null stays usable under the config's deny-all."""
    def denied(c):
        c["linux"]["devices"] = [FUSE]

    def allowed(c):
        denied(c)
        c["linux"]["resources"]["devices"].append(
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rw"})
    for edit, ok in ((denied, False), (allowed, True)):
        b = Bundle(["sh", "-c", "probe stat /dev/fuse; probe open /dev/fuse rw; "
                                "probe open /dev/null rw"], edit=edit)
        r = skiff("run", "--bundle", b.path, new_id())
        assert r.returncode == 0, r
        st, fuse, null = [json.loads(line) for line in r.stdout.splitlines()]
        assert (st["type"], st["major"], st["minor"]) == ("char", 10, 229), st
        assert null["ok"], null
        if ok:
            assert fuse["ok"], fuse
        else:
            assert not fuse["ok"] and fuse["errno"] == 1, fuse  # EPERM from the cgroup


def _free_huge_pages():
    with open("/proc/meminfo") as f:
        return int(next(line.split()[1] for line in f if line.startswith("HugePages_Free:")))


def test_hugepage_limit_stops_a_fault_over_it():
    pool = "/proc/sys/vm/nr_hugepages"
    if not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        raise lib.Skip("no 2 MB huge pages on this kernel")
    with open(pool) as f:
        before = int(f.read())
    # Two free pages for the test, given back afterwards.
    with open(pool, "w") as f:
        f.write(str(before + 2))
    try:
        if _free_huge_pages() < 2:
            raise lib.Skip("the kernel could not make 2 huge pages free")
        limit = lambda c: c["linux"]["resources"].update(  # noqa: E731
            hugepageLimits=[{"pageSize": "2MB", "limit": 2 << 20}])
        got = run_probe(["hugetlb", "2"], limit)
        assert got["mapped"] and got["touched"] == 1 and got["sigbus"], got
        got = run_probe(["hugetlb", "2"], None)
        assert got["mapped"] and got["touched"] == 2 and not got["sigbus"], got
    finally:
        with open(pool, "w") as f:
            f.write(str(before))
