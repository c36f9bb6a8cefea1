"""cgroup limits set by the real callers (containerd, podman), enforced by the runtime.

These tests run inside tests/vm's VM (pure cgroup v2, every controller enabled
at the root); on the host they skip, and test_clients_in_vm boots one VM and
runs them all there.  Each group starts its client as its host module does
(private containerd; podman with private vfs storage), through that module's
helpers, and ends with a test that tears it down and checks nothing is left.
Both clients keep their stock settings in the VM: ctr's 1024 cpu shares, and
podman's bridge network, ulimits, pids limit, log driver and cgroup manager
(cgroupfs, since no systemd runs there); test_podman pins some of those only
on this host, for reasons given there.

Inside the VM, /tmp and /run are fresh tmpfs and the rest of the host's
filesystem is a read-only lower layer under a tmpfs overlay, so the clients'
state starts empty and vanishes with the VM.  The VM has about 1 GiB of RAM:
the image is the suite's busybox+probe layer (a few MiB).

SKIFF_CLIENT_RUNTIME=/usr/sbin/runc runs the same tests against runc.
"""
import errno
import json
import os
import subprocess
import time

import clients
import crlib
import lib
import test_containerd as ctd
import test_podman as pm
import vm

MiB = 1024 * 1024


def _drive(only, timeout, systemd=False):
    """Boots the VM once and runs the tests named by ONLY there, with this runtime."""
    vm.need_host()
    clients.require_tools("containerd", "ctr", "containerd-shim-runc-v2", "podman", "conmon",
                          "script")
    clients.run_tests_in_vm(only, timeout=timeout, systemd=systemd)


def test_clients_in_vm():
    """On this host (no v2 memory/pids controllers): boots tests/vm's pure cgroup v2 VM
    once and runs every test_ctr_* and test_podman_* test below there."""
    _drive(["test_clients_vm.test_ctr_", "test_clients_vm.test_podman_"],
           timeout=1200)  # with podman's checkpoint/restore


def _need_ctr_vm():
    clients.need_vm_controllers("test_clients_vm.test_clients_in_vm", "memory")


def _need_podman_vm():
    clients.need_vm_controllers("test_clients_vm.test_clients_in_vm", "memory", "pids")


def _cgroup_of(pid):
    """The cgroup v2 directory of pid, from /proc (not from the runtime or the client)."""
    return "/sys/fs/cgroup" + lib.cgroup_of(pid)


def _read(path):
    with open(path) as f:
        return f.read().strip()


def _progress(out):
    """The MiB counts `probe memhog` reported before it was stopped."""
    return [json.loads(line)["mb"] for line in out.splitlines() if line.startswith('{"mb"')]


# Run inside a podman container (in a podman exec): what the container's own
# cgroup says, through podman's cgroup namespace and /sys/fs/cgroup mount.  ctr's
# spec mounts no cgroup file system, so its containers are read from outside.
INSIDE = ('cg=/sys/fs/cgroup; test -e $cg/memory.max || echo "no memory.max in $cg"; '
          'echo "$(cat $cg/memory.max) $(cat $cg/pids.max) $(cat $cg/cpu.max) '
          '$(cat $cg/cpu.weight)"')


def _inside(out):
    """memory.max, pids.max, cpu.max (quota period) and cpu.weight from INSIDE's output."""
    f = out.split()
    assert len(f) == 5, f"unexpected output from inside the container: {out!r}"
    return {"memory": f[0], "pids": f[1], "cpu": f"{f[2]} {f[3]}", "weight": f[4]}


def _outside(cg):
    """The same four values, read from the VM's side of the container's cgroup CG."""
    return _inside(" ".join(_read(f"{cg}/{n}")
                            for n in ("memory.max", "pids.max", "cpu.max", "cpu.weight")))


def _frozen(cg):
    return _read(f"{cg}/cgroup.events").split("frozen ")[1].split()[0] == "1"


def _forkbomb_report(out):
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"no report from probe forkbomb: {out!r}"
    return json.loads(lines[-1])


# ---- containerd: ctr -> containerd -> containerd-shim-runc-v2 -> runtime ----

def test_ctr_memory_limit_reaches_the_cgroup():
    _need_ctr_vm()
    ctd.daemon()
    c = ctd.cid("memmax")
    p = ctd.start_detached(c, "probe", "sleep", "inf",
                           flags=("--memory-limit", str(16 * MiB)))
    try:
        cg = _cgroup_of(ctd.task_status(c)[1])
        assert cg.startswith(f"/sys/fs/cgroup/{ctd.NS}/"), cg
        assert _read(f"{cg}/memory.max") == str(16 * MiB)
        ctd.ctr("task", "kill", "-s", "SIGKILL", c)
        status, _, err = ctd.finish(p, c)
        assert status == 137, f"exit {status}: {err}"
    finally:
        ctd.remove(c)
    assert not os.path.exists(cg), f"{cg} is left behind"


def test_ctr_memory_hog_is_oom_killed():
    """The hog dies at the limit: ctr reports 137, and the shim saw the OOM event."""
    _need_ctr_vm()
    ctd.daemon()
    c = ctd.cid("oom")
    log = open(os.path.join(ctd._d["dir"], f"events-{c}"), "w+")
    ev = subprocess.Popen(ctd.ctr_cmd("events"), stdout=log, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
    try:
        r = ctd.ctr("run", *ctd.run_flags(), "--rm", "--memory-limit", str(16 * MiB),
                    clients.IMAGE, c, "probe", "memhog", "64", timeout=120)
        assert r.returncode == 137, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
        got = _progress(r.stdout)
        assert got and max(got) < 16, got
        clients.wait_for(lambda: _oom_event(log, c), timeout=10,
                         what=f"a /tasks/oom event for {c}")
    finally:
        ev.kill()
        ev.wait(timeout=20)
        log.close()
        ctd.remove(c)
    assert c not in ctd.ctr("containers", "ls", "-q").stdout.split()
    assert c not in ctd.runtime_state_ids(), "the runtime's state was not deleted"


def _oom_event(log, c):
    log.seek(0)
    return any("/tasks/oom" in line and f'"container_id":"{c}"' in line.replace(" ", "")
               for line in log.read().splitlines())


def _ctr_term(p, c):
    """SIGTERM to the task of the foreground `ctr run` P: it exits 143."""
    r = ctd.ctr("task", "kill", c)
    assert r.returncode == 0, r.stderr
    status, _, err = ctd.finish(p, c)
    assert status == 143, f"exit {status}: {err}"


def test_ctr_stock_lifecycle():
    """ctr with its defaults (1024 cpu shares) on pure cgroup v2: limits in the
    container's cgroup (ctr mounts no cgroup file system inside), pause/resume through
    the v2 freezer, exec, kill, delete.  ctr 1.6 has no `task update`."""
    _need_ctr_vm()
    ctd.daemon()
    c = ctd.cid("stock")
    p = ctd.start_detached(c, "probe", "sleep", "inf",
                           flags=("--memory-limit", str(32 * MiB), "--cpus", "0.5"))
    try:
        pid = ctd.task_status(c)[1]
        cg = _cgroup_of(pid)
        assert cg == f"/sys/fs/cgroup/{ctd.NS}/{c}", cg
        # 1024 shares is weight 39, as runc converts it; no pids limit asked, none set.
        assert _outside(cg) == {"memory": str(32 * MiB), "pids": "max",
                                "cpu": "50000 100000", "weight": "39"}
        r = ctd.ctr("task", "exec", "--exec-id", "in1", c, "sh", "-c",
                    "grep ^0:: /proc/self/cgroup")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"0::/{ctd.NS}/{c}", "the exec is not in the container's cgroup"
        r = ctd.ctr("task", "pause", c)
        assert r.returncode == 0, r.stderr
        ctd.wait_status(c, "PAUSED")
        assert _frozen(cg), _read(f"{cg}/cgroup.events")
        before = ctd.wakeups(pid)
        time.sleep(0.5)
        assert ctd.wakeups(pid) == before, "a paused task ran"
        r = ctd.ctr("task", "resume", c)
        assert r.returncode == 0, r.stderr
        ctd.wait_status(c, "RUNNING")
        assert not _frozen(cg)
        _ctr_term(p, c)
    finally:
        ctd.remove(c)
    assert c not in ctd.ctr("containers", "ls", "-q").stdout.split()
    assert c not in ctd.runtime_state_ids(), "the runtime's state was not deleted"
    assert not os.path.exists(cg), f"{cg} is left behind"


def test_ctr_zz_teardown_leaves_nothing():
    _need_ctr_vm()
    if "proc" not in ctd._d:
        raise lib.Skip("containerd was not started")
    pid = ctd._d["proc"].pid
    left = ctd.teardown()
    assert not left, f"left behind: {left}"
    assert not os.path.exists(f"/proc/{pid}"), "containerd still runs"


# ---- podman: podman -> conmon -> runtime ----

def test_podman_limits_reach_the_cgroup():
    _need_podman_vm()
    pm.setup()
    name = pm.new_name("lim")
    r = pm.podman("run", "-d", "--name", name, "--memory", "16m", "--pids-limit", "16",
                  clients.IMAGE, "probe", "sleep", "inf")
    assert r.returncode == 0, f"podman run -d failed ({r.returncode}): {r.stderr}"
    pm.full_id(name)
    try:
        cg = _cgroup_of(int(pm.inspect(name, "{{.State.Pid}}")))
        assert "/libpod_parent/libpod-" in cg, cg
        assert _read(f"{cg}/memory.max") == str(16 * MiB)
        assert _read(f"{cg}/pids.max") == "16"
    finally:
        pm.remove(name)


def _oom_kills(cgroup):
    """memory.events' oom_kill of cgroup, which counts its descendants' kills too."""
    try:
        with open(f"{cgroup}/memory.events") as f:
            return int([line for line in f if line.startswith("oom_kill ")][0].split()[1])
    except FileNotFoundError:
        return 0


def test_podman_memory_hog_is_oom_killed():
    """The hog dies at the limit: podman reports 137, and the kernel counted an OOM kill
    under libpod_parent.  State.OOMKilled is not checked: with podman 4.3 + conmon 2.1 it
    stays false here for runc too (conmon's memory.events watch reports nothing)."""
    _need_podman_vm()
    pm.setup()
    name = pm.new_name("oom")
    kills = _oom_kills("/sys/fs/cgroup/libpod_parent")
    r = pm.podman("run", "--name", name, "--memory", "16m", clients.IMAGE,
                  "probe", "memhog", "64", timeout=120)
    pm.full_id(name)
    try:
        assert r.returncode == 137, f"exit {r.returncode}: {r.stdout[-500:]} {r.stderr}"
        got = _progress(r.stdout)
        assert got and max(got) < 16, got
        assert pm.inspect(name, "{{.State.ExitCode}}") == "137"
        assert _oom_kills("/sys/fs/cgroup/libpod_parent") == kills + 1, "no OOM kill counted"
    finally:
        pm.remove(name)


def test_podman_pids_limit_stops_a_fork_bomb():
    _need_podman_vm()
    pm.setup()
    r = pm.podman("run", "--rm", "--pids-limit", "16", clients.IMAGE, "probe", "forkbomb", "50")
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    rep = _forkbomb_report(r.stdout)
    # The probe (the container's init) is one of the 16.
    assert rep["forked"] == 15 and rep["errno"] == errno.EAGAIN, rep
    # Without --pids-limit, podman's default limit (2048) lets all 50 forks work.
    r = pm.podman("run", "--rm", clients.IMAGE, "probe", "forkbomb", "50")
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    assert _forkbomb_report(r.stdout)["forked"] == 50, r.stdout


def test_podman_checkpoint_and_restore():
    """podman container checkpoint/restore with this runtime (podman asks it for
    `checkpoint --help`, then drives checkpoint and, through conmon, restore)."""
    _need_podman_vm()
    if not os.path.exists("/usr/sbin/criu"):
        raise lib.Skip("criu is not installed")
    pm.setup()
    name = pm.new_name("ckpt")
    script = crlib.COUNTER_SCRIPT
    r = pm.podman("run", "-d", "--name", name, clients.IMAGE, "sh", "-c", script)
    assert r.returncode == 0, f"podman run -d failed ({r.returncode}): {r.stderr}"

    def count():
        return int(pm.podman("exec", name, "cat", "/tmp/count").stdout.strip() or 0)
    try:
        end = time.monotonic() + 30
        while count() < 3 and time.monotonic() < end:
            time.sleep(0.2)
        r = pm.podman("container", "checkpoint", name, timeout=300)
        assert r.returncode == 0, f"checkpoint failed ({r.returncode}): {r.stderr}"
        assert pm.inspect(name, "{{.State.Status}}") == "exited"
        r = pm.podman("container", "restore", name, timeout=300)
        assert r.returncode == 0, f"restore failed ({r.returncode}): {r.stderr}"
        assert pm.inspect(name, "{{.State.Status}}") == "running"
        first = count()
        end = time.monotonic() + 30
        while count() <= first and time.monotonic() < end:
            time.sleep(0.2)
        # The restored shell counts on from where it was, not from 1.
        assert count() > first >= 3, first
    finally:
        pm.remove(name)


def test_podman_stock_defaults():
    """podman's own defaults in the VM: its bridge network, its 1048576 open files and
    32768 processes, its 2048 pids limit."""
    _need_podman_vm()
    pm.setup()
    r = pm.podman("run", "--rm", clients.IMAGE, "sh", "-c",
                  f"{INSIDE}; ulimit -n; ulimit -u; ip -o -4 addr show eth0 | wc -l")
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
    lines = r.stdout.splitlines()
    assert _inside(lines[0])["pids"] == "2048", r.stdout
    assert lines[1:] == ["1048576", "32768", "1"], r.stdout


def _podman_inside(name):
    r = pm.podman("exec", name, "sh", "-c", INSIDE)
    assert r.returncode == 0, r.stderr
    return _inside(r.stdout)


def _podman_run_limited(prefix):
    """podman run -d with --memory 32m --pids-limit 20 --cpus 0.5; returns (name, id)."""
    pm.setup()
    name = pm.new_name(prefix)
    r = pm.podman("run", "-d", "--name", name, "--memory", "32m", "--pids-limit", "20",
                  "--cpus", "0.5", clients.IMAGE, "probe", "sleep", "inf")
    assert r.returncode == 0, f"podman run -d failed ({r.returncode}): {r.stderr}"
    return name, pm.full_id(name)


def test_podman_stock_lifecycle():
    """run with memory/pids/cpu limits seen from inside, pause/unpause through the v2
    freezer, update seen from inside, exec, stop, rm (its cgroup goes too)."""
    _need_podman_vm()
    name, cid = _podman_run_limited("stock")
    try:
        cg = _cgroup_of(int(pm.inspect(name, "{{.State.Pid}}")))
        # cgroupfs: podman's choice where no systemd runs (else machine.slice).
        assert "/libpod_parent/libpod-" in cg, cg
        # --cpus leaves the weight at podman's default: none asked, so 100.
        assert _podman_inside(name) == {"memory": str(32 * MiB), "pids": "20",
                                        "cpu": "50000 100000", "weight": "100"}
        r = pm.podman("pause", name)
        assert r.returncode == 0, r.stderr
        assert pm.inspect(name, "{{.State.Status}}") == "paused"
        assert pm.runtime_state(cid)["status"] == "paused"
        assert _frozen(cg), _read(f"{cg}/cgroup.events")
        r = pm.podman("unpause", name)
        assert r.returncode == 0, r.stderr
        assert pm.runtime_state(cid)["status"] == "running"
        assert not _frozen(cg)
        r = pm.podman("update", "--memory", "64m", "--cpus", "1.5", "--cpu-shares", "512",
                      name)
        assert r.returncode == 0, r.stderr
        # 512 shares is weight 20 (runc's conversion); the pids limit is kept.
        assert _podman_inside(name) == {"memory": str(64 * MiB), "pids": "20",
                                        "cpu": "150000 100000", "weight": "20"}
        r = pm.podman("stop", name)
        assert r.returncode == 0, r.stderr
        assert pm.inspect(name, "{{.State.ExitCode}}") == "143"
        r = pm.podman("rm", name)
        assert r.returncode == 0, r.stderr
    finally:
        pm.remove(name)
    assert pm.runtime_state(cid) is None, "podman rm left the runtime's state"
    assert not os.path.exists(cg), f"{cg} is left behind"


def test_podman_zz_teardown_leaves_nothing():
    _need_podman_vm()
    if "dir" not in pm._d:
        raise lib.Skip("podman was not used")
    left = pm.teardown()
    assert not left, f"left behind: {left}"


# ---- systemd as PID 1 (tests/vm --systemd): the clients' systemd cgroup settings ----

def test_clients_in_systemd_vm():
    """On this host: boots the VM with systemd as PID 1 once and runs the test_sd_* tests
    there: podman with its default cgroup manager (systemd, since systemd runs) and
    ctr with the runc shim's SystemdCgroup (--runc-systemd-cgroup)."""
    _drive(["test_clients_vm.test_sd_"], timeout=900, systemd=True)


def _need_systemd_vm():
    clients.need_vm_controllers("test_clients_vm.test_clients_in_systemd_vm", "memory")
    vm.in_guest("test_clients_vm.test_clients_in_systemd_vm", systemd=True)


def _unit(name, *props):
    r = subprocess.run(["systemctl", "show", *[f"-p{p}" for p in props], name],
                       capture_output=True, text=True, timeout=180)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def test_sd_ctr_systemd_cgroup():
    """ctr --runc-systemd-cgroup: the task runs in the scope system.slice/ctr-ID.scope with
    the limits as unit properties, pauses, and the scope goes with the task."""
    _need_systemd_vm()
    ctd.daemon()
    c = ctd.cid("sd")
    p = ctd.start_detached(c, "probe", "sleep", "inf",
                           flags=("--runc-systemd-cgroup", "--cgroup", f"system.slice:ctr:{c}",
                                  "--memory-limit", str(32 * MiB), "--cpus", "0.5"))
    try:
        cg = _cgroup_of(ctd.task_status(c)[1])
        assert cg == f"/sys/fs/cgroup/system.slice/ctr-{c}.scope", cg
        u = _unit(f"ctr-{c}.scope", "ActiveState", "MemoryMax", "CPUQuotaPerSecUSec")
        assert u == {"ActiveState": "active", "MemoryMax": str(32 * MiB),
                     "CPUQuotaPerSecUSec": "500ms"}, u
        assert _outside(cg)["memory"] == str(32 * MiB)
        r = ctd.ctr("task", "pause", c)
        assert r.returncode == 0, r.stderr
        ctd.wait_status(c, "PAUSED")
        assert _frozen(cg)
        r = ctd.ctr("task", "resume", c)
        assert r.returncode == 0, r.stderr
        ctd.wait_status(c, "RUNNING")
        _ctr_term(p, c)
    finally:
        ctd.remove(c)
    assert not os.path.exists(cg), f"{cg} is left behind"
    assert _unit(f"ctr-{c}.scope", "ActiveState")["ActiveState"] == "inactive"


def test_sd_podman_default_cgroup_manager():
    """podman's default config where systemd runs: cgroup_manager systemd, so the
    container is machine.slice/libpod-ID.scope; limits from inside, pause, update,
    stop, rm (the scope goes)."""
    _need_systemd_vm()
    name, cid = _podman_run_limited("sd")
    try:
        cg = _cgroup_of(int(pm.inspect(name, "{{.State.Pid}}")))
        assert cg == f"/sys/fs/cgroup/machine.slice/libpod-{cid}.scope", cg
        assert _unit(f"libpod-{cid}.scope", "ActiveState")["ActiveState"] == "active"
        assert _podman_inside(name) == {"memory": str(32 * MiB), "pids": "20",
                                        "cpu": "50000 100000", "weight": "100"}
        r = pm.podman("pause", name)
        assert r.returncode == 0, r.stderr
        assert _frozen(cg)
        r = pm.podman("unpause", name)
        assert r.returncode == 0, r.stderr
        r = pm.podman("update", "--memory", "64m", "--cpus", "1.5", name)
        assert r.returncode == 0, r.stderr
        got = _podman_inside(name)
        assert (got["memory"], got["cpu"]) == (str(64 * MiB), "150000 100000"), got
        r = pm.podman("stop", name)
        assert r.returncode == 0, r.stderr
        r = pm.podman("rm", name)
        assert r.returncode == 0, r.stderr
    finally:
        pm.remove(name)
    assert not os.path.exists(cg), f"{cg} is left behind"
    assert _unit(f"libpod-{cid}.scope", "ActiveState")["ActiveState"] == "inactive"


def test_sd_zz_teardown_leaves_nothing():
    _need_systemd_vm()
    left = (ctd.teardown() if "proc" in ctd._d else []) + \
        (pm.teardown() if "dir" in pm._d else [])
    assert not left, f"left behind: {left}"
