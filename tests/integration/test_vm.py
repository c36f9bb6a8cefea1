"""The cgroup v2 test VM (tests/vm/run-in-vm.sh): what the guest sees and how
commands come back.  Each test boots one VM (a few seconds under TCG)."""
import os
import shutil
import subprocess
import tempfile
import time

import lib
import vm


def need_vm():
    ok, reason = vm.available()
    if not ok:
        raise lib.Skip(f"vm: {reason}")


CGROUP_SCRIPT = r"""
set -e
echo "fstype=$(stat -f -c %T /sys/fs/cgroup)"
echo "v1=$(grep -c ' cgroup ' /proc/mounts || true)"
echo "controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
echo "subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "self=$(cat /proc/self/cgroup)"
mkdir /sys/fs/cgroup/vmtest
echo "files=$(cd /sys/fs/cgroup/vmtest && echo *)"
echo 10M > /sys/fs/cgroup/vmtest/memory.max
echo 7 > /sys/fs/cgroup/vmtest/pids.max
echo "memory.max=$(cat /sys/fs/cgroup/vmtest/memory.max) pids.max=$(cat /sys/fs/cgroup/vmtest/pids.max)"
sh -c 'echo $$ > /sys/fs/cgroup/vmtest/cgroup.procs; exec sleep 100' &
sleep 0.5
echo 1 > /sys/fs/cgroup/vmtest/cgroup.freeze
sleep 0.5
echo "frozen=$(grep ^frozen /sys/fs/cgroup/vmtest/cgroup.events)"
echo 1 > /sys/fs/cgroup/vmtest/cgroup.kill
wait || true
echo "populated_after_kill=$(grep ^populated /sys/fs/cgroup/vmtest/cgroup.events)"
"""


def test_vm_has_pure_cgroup2_with_all_controllers():
    need_vm()
    rc, out = vm.run(["/bin/sh", "-c", CGROUP_SCRIPT], timeout=180)
    assert rc == 0, out
    kv = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert kv.get("fstype") == "cgroup2fs", out
    assert kv.get("v1") == "0", out
    controllers = kv["controllers"].split()
    subtree = kv["subtree"].split()
    for c in ("memory", "pids", "cpu", "io"):
        assert c in controllers, (c, out)
        assert c in subtree, (c, out)
    assert set(subtree) == set(controllers), out
    assert kv["self"] == "0::/", out
    files = kv["files"].split()
    for f in ("memory.max", "pids.max", "cpu.max", "io.max", "cgroup.freeze", "cgroup.kill"):
        assert f in files, (f, out)
    assert kv["memory.max"] == "10485760 pids.max=7", out
    assert kv["frozen"] == "frozen 1", out
    assert kv["populated_after_kill"] == "populated 0", out


def test_vm_returns_exit_status_and_output():
    need_vm()
    rc, out = vm.run(["/bin/sh", "-c",
                      'echo "to stdout $SKIFF_IN_VM $VMTEST"; echo "to stderr" >&2; exit 42'],
                     env={"VMTEST": "a b'c"}, timeout=180)
    assert rc == 42, (rc, out)
    assert out == "to stdout 1 a b'c\nto stderr\n", repr(out)


def test_vm_sees_host_root_read_only_under_tmpfs_overlay():
    need_vm()
    d = tempfile.mkdtemp(prefix="skiff-vmtest-", dir="/var/tmp")
    try:
        with open(os.path.join(d, "from-host"), "w") as f:
            f.write("host data\n")
        script = (
            'echo "cwd=$(pwd)"; echo "read=$(cat from-host)"; '
            'echo "root=$(stat -f -c %T /)"; '
            "echo guest > from-guest && echo \"wrote=$(cat from-guest)\"; "
            "echo changed > from-host && echo \"rewrote=$(cat from-host)\"; "
            'echo "run=$(stat -f -c %T /run)"; echo "tmp=$(stat -f -c %T /tmp)"; '
            "grep -q ' / overlay .*upperdir=' /proc/mounts && echo overlay=yes; "
            "echo skiff=$(test -d " + lib.TOP + " && echo yes)"
        )
        rc, out = vm.run(["/bin/sh", "-c", script], cwd=d, timeout=180)
        assert rc == 0, out
        kv = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        assert kv.get("cwd") == os.path.realpath(d), out
        assert kv.get("read") == "host data", out
        assert kv.get("root") == "overlayfs", out
        assert kv.get("overlay") == "yes", out
        assert kv.get("wrote") == "guest" and kv.get("rewrote") == "changed", out
        assert kv.get("run") == "tmpfs" and kv.get("tmp") == "tmpfs", out
        assert kv.get("skiff") == "yes", out
        # the writes stayed in the guest's tmpfs
        assert not os.path.exists(os.path.join(d, "from-guest"))
        with open(os.path.join(d, "from-host")) as f:
            assert f.read() == "host data\n"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_vm_timeout_kills_qemu():
    need_vm()
    start = time.monotonic()
    # 40 s: under a loaded host the TCG boot alone can pass 20 s, and the job id
    # is only known once the guest has printed its command line.
    r = subprocess.run([vm.RUN_IN_VM, "--timeout", "40", "--", "/bin/sh", "-c",
                        "cat /proc/cmdline; exec sleep 1000"],
                       capture_output=True, text=True, timeout=200)
    assert r.returncode == 124, (r.returncode, r.stdout, r.stderr)
    assert time.monotonic() - start < 80
    job = [a for a in r.stdout.split() if a.startswith("skiffvm.job=")]
    assert job, r.stdout
    job = job[0].split("=", 1)[1]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        assert job.encode() not in cmdline, f"pid {pid} still runs: {cmdline!r}"


def test_vm_unavailable_without_qemu():
    if not os.access(vm.RUN_IN_VM, os.X_OK):
        raise lib.Skip("tests/vm/run-in-vm.sh is missing")
    bindir = tempfile.mkdtemp(prefix="skiff-vmpath-", dir="/tmp")
    try:
        for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
            for name in os.listdir(d):
                if not name.startswith("qemu-system") and not os.path.lexists(
                        os.path.join(bindir, name)):
                    os.symlink(os.path.join(d, name), os.path.join(bindir, name))
        env = dict(os.environ, PATH=bindir)
        r = subprocess.run([vm.RUN_IN_VM, "--", "true"], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 77, (r.returncode, r.stdout, r.stderr)
        assert r.stdout.startswith("vm: unavailable: ") and r.stdout.count("\n") == 1, r.stdout
    finally:
        shutil.rmtree(bindir, ignore_errors=True)


def test_vm_boot_to_command_time():
    need_vm()
    start = time.monotonic()
    rc, out = vm.run(["cat", "/proc/uptime"], timeout=180)
    wall = time.monotonic() - start
    assert rc == 0, out
    uptime = float(out.split()[0])
    print(f"     vm: `cat /proc/uptime` took {wall:.1f}s wall; guest uptime at the command "
          f"{uptime:.2f}s")
    assert wall < 120, wall


SYSTEMD_SCRIPT = r"""
echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "pid1=$(cat /proc/1/comm)"
echo "state=$(systemctl is-system-running)"
echo "failed=$(systemctl --failed --no-legend --plain | awk '{printf "%s ", $1}')"
echo "virt=$(systemd-detect-virt) container=$(systemd-detect-virt --container)"
echo "self=$(cat /proc/self/cgroup)"
echo "cwd=$(pwd) read=$(cat from-host)"
echo "fstype=$(stat -f -c %T /sys/fs/cgroup)"
echo "v1=$(grep -c ' cgroup ' /proc/mounts)"
test -S /run/dbus/system_bus_socket && test -S /run/systemd/private && echo sockets=yes
echo "bus=$(busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager Version)"
systemd-run --quiet --scope -p Delegate=yes --unit skiff-vmtest.scope sh -c '
    cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
    echo "scope=$cg"
    echo "scope_controllers=$(cat /sys/fs/cgroup$cg/cgroup.controllers)"
    echo "scope_state=$(systemctl show -P ActiveState skiff-vmtest.scope)"'
echo "scope_rc=$?"
echo "scope_after=$(systemctl show -P ActiveState skiff-vmtest.scope)"
echo "to stdout $SKIFF_IN_VM $VMTEST"
echo "to stderr" >&2
exit 42
"""


def test_vm_systemd_as_pid1():
    """run-in-vm.sh --systemd: systemd boots cleanly over the overlay root (no
    failed units, not taken for a container, /tmp not emptied), answers on the
    system bus, runs transient scopes with delegated cgroup v2 controllers, and
    the job's output, exit status, environment and cwd come back as in the
    plain VM."""
    need_vm()
    d = tempfile.mkdtemp(prefix="skiff-vmtest-", dir="/tmp")
    try:
        with open(os.path.join(d, "from-host"), "w") as f:
            f.write("host data\n")
        start = time.monotonic()
        rc, out = vm.run(["/bin/sh", "-c", SYSTEMD_SCRIPT], env={"VMTEST": "a b'c"},
                         cwd=d, timeout=400, systemd=True)
        wall = time.monotonic() - start
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if rc == vm.UNAVAILABLE:
        raise lib.Skip(out.strip())
    assert rc == 42, (rc, out)
    assert out.endswith("to stdout 1 a b'c\nto stderr\n"), repr(out)
    kv = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    print(f"     vm --systemd: {wall:.1f}s wall; guest uptime at the command {kv['uptime']}s")
    assert kv["pid1"] == "systemd", out
    assert kv["state"] == "running", f"failed units: {kv['failed']}\n{out}"
    assert kv["virt"] == "qemu container=none", out
    assert kv["self"] == "0::/system.slice/skiff-vm-job.service", out
    assert kv["cwd"] == os.path.realpath(d) + " read=host data", out
    assert kv["fstype"] == "cgroup2fs" and kv["v1"] == "0", out
    assert kv.get("sockets") == "yes", out
    assert kv["bus"].startswith('s "252') or kv["bus"].startswith('s "2'), out
    assert kv["scope"] == "/system.slice/skiff-vmtest.scope", out
    for c in ("cpu", "io", "memory", "pids", "cpuset"):
        assert c in kv["scope_controllers"].split(), (c, out)
    assert kv["scope_state"] == "active" and kv["scope_rc"] == "0", out
    assert kv["scope_after"] == "inactive", out
