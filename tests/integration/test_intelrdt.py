"""linux.intelRdt (spec 1.3.0) on the resctrl filesystem at /sys/fs/resctrl.

Where the host has no resctrl (no RDT in the CPU, or not mounted) a config
with intelRdt fails with one line naming /sys/fs/resctrl and leaves nothing;
where it has, the container's processes (exec too) are seen in the group and
its MON group, the schemata are written, and delete removes what skiff made.
"""
import os

import lib
from lib import Bundle, new_id, skiff, skiff_ok, state

RESCTRL = "/sys/fs/resctrl"


def resctrl_mounted():
    with open("/proc/self/mountinfo") as f:
        return any(line.split(" - ")[1].split()[0] == "resctrl" and
                   line.split()[4] == RESCTRL for line in f)


def test_intel_rdt_without_resctrl_is_one_clear_error():
    if resctrl_mounted():
        raise lib.Skip("resctrl is mounted here: see the test below")
    for rdt in ({"closID": "x"}, {"enableMonitoring": True}, {"schemata": ["L3:0=1"]}):
        cid = new_id()
        b = Bundle(["true"], edit=lambda c: c["linux"].update(intelRdt=rdt))
        r = skiff("run", "--bundle", b.path, cid)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert "linux.intelRdt: no resctrl filesystem is mounted at /sys/fs/resctrl" in r.stderr
        assert not os.path.exists(os.path.join(lib.ROOT, cid))


def test_intel_rdt_bad_fields_are_refused_before_anything():
    for rdt, field in (({"memBwSchema": "L3:0=1"}, "memBwSchema"),
                       ({"schemata": ["L3:0=1\nMB:0=1"]}, "schemata[0]"),
                       ({"closID": "../x"}, "closID")):
        cid = new_id()
        b = Bundle(["true"], edit=lambda c: c["linux"].update(intelRdt=rdt))
        r = skiff("run", "--bundle", b.path, cid)
        assert r.returncode == 1 and f"linux.intelRdt.{field}" in r.stderr, r
        assert not os.path.exists(os.path.join(lib.ROOT, cid))


def _read(path):
    with open(path) as f:
        return f.read()


def test_intel_rdt_group_monitoring_schemata_and_exec():
    if not resctrl_mounted():
        raise lib.Skip("no resctrl mounted at /sys/fs/resctrl (the CPU has no RDT)")
    # The root group's own schemata are valid on this machine by definition.
    lines = [x.strip() for x in _read(f"{RESCTRL}/schemata").splitlines() if x.strip()]
    monitoring = os.path.isdir(f"{RESCTRL}/mon_groups")
    cid = new_id()
    rdt = {"schemata": lines, "enableMonitoring": monitoring}
    b = Bundle(["sleep", "1000"], edit=lambda c: c["linux"].update(intelRdt=rdt))
    skiff_ok("create", "--bundle", b.path, cid)
    group = f"{RESCTRL}/{cid}"
    pid = state(cid)["pid"]
    assert str(pid) in _read(f"{group}/tasks").split()
    if monitoring:
        assert str(pid) in _read(f"{group}/mon_groups/{cid}/tasks").split()
    skiff_ok("start", cid)
    pid_file = b.file("exec.pid")
    skiff_ok("exec", "--detach", "--pid-file", pid_file, cid, "sleep", "1000")
    epid = _read(pid_file).strip()
    assert epid in _read(f"{group}/tasks").split(), epid
    if monitoring:
        assert epid in _read(f"{group}/mon_groups/{cid}/tasks").split(), epid
    skiff_ok("delete", "--force", cid)
    assert not os.path.exists(group)
