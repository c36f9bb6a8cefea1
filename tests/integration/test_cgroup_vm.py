"""cgroup v2 driver behaviour that needs real controllers (memory, pids, cpu,
hugetlb, io), run inside tests/vm's VM, which has a pure cgroup v2 hierarchy.

The checks themselves live in tests/unit/cgroup_test.c (its "vm" mode): limits
written and read back, controllers enabled in the parents, pids.max stopping
forks, an OOM kill counted in memory.events, checkBeforeUpdate, values the
kernel refuses, a failed create leaving no directory, freeze, cgroup.kill and
the device filter.  Here we boot the VM, run them, and report each failure.
"""
import os
import re
import subprocess

import lib

UNIT = os.path.join(lib.TOP, "tests", "unit", "cgroup_test")
RUN_IN_VM = os.path.join(lib.TOP, "tests", "vm", "run-in-vm.sh")


def _vm_run(cmd, timeout):
    """Runs cmd in the VM; returns (status, output) or raises lib.Skip."""
    try:
        import vm  # tests/integration/vm.py
    except ImportError:
        vm = None
    if vm is not None:
        ok, reason = vm.available()
        if not ok:
            raise lib.Skip(f"vm unavailable: {reason}")
        status, out = vm.run(cmd, timeout)
    else:
        if not os.access(RUN_IN_VM, os.X_OK):
            raise lib.Skip("vm unavailable: tests/vm/run-in-vm.sh is missing")
        r = subprocess.run([RUN_IN_VM, "--timeout", str(timeout), "--", *cmd],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout + 120)
        status, out = r.returncode, r.stdout
    if status == 77:
        raise lib.Skip(out.strip().splitlines()[-1] if out.strip() else "vm unavailable")
    return status, out


def test_cgroup_driver_with_real_controllers():
    if not os.access(UNIT, os.X_OK):
        raise lib.Skip("tests/unit/cgroup_test is not built (make check TESTS=)")
    status, out = _vm_run([UNIT, "vm"], 300)
    lines = out.splitlines()
    failed = [line for line in lines if line.startswith("not ok") or line.startswith("#   ")]
    assert status == 0 and not failed, \
        f"cgroup_test vm failed in the VM (status {status}):\n" + "\n".join(failed or [out[-3000:]])
    results = [line for line in lines if re.match(r"^(not )?ok \d+ - ", line)]
    plan = [int(line[3:]) for line in lines if re.match(r"^1\.\.\d+$", line)]
    assert plan == [len(results)], f"plan {plan}, {len(results)} results:\n" + out[-2000:]
    # A "# SKIP" is no pass: the VM's checks must have run, except the two that depend on
    # the VM's kernel (swap accounting, 2MB huge pages).
    vm = [line for line in results if re.match(r"^ok \d+ - vm", line)]
    ran = [line for line in vm if "# SKIP" not in line]
    skipped = [line for line in vm if "# SKIP" in line and
               not re.search(r" - vm: (memory\.swap\.max|hugetlb) # SKIP", line)]
    assert ran and not skipped, "vm checks skipped in the VM:\n" + "\n".join(skipped or vm)
