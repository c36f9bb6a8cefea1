"""skiff under containerd: ctr -> containerd -> containerd-shim-runc-v2 -> skiff.

The module runs a private containerd (its own config, root, state and
socket under a temp dir, CRI plugin disabled), imports a locally built OCI
image, and drives tasks with `ctr --runc-binary`.  The last test stops the
daemon (by pid) and checks that nothing is left behind; an atexit hook does
the same when only some tests were selected.

SKIFF_CLIENT_RUNTIME=/usr/sbin/runc runs the same tests against runc.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import clients
import lib

NS = f"skiff-test-{os.getpid()}"
_d = {}  # the daemon: dir, proc, sock, pre-existing /run/containerd dirs


def _config(top):
    return f"""version = 2
root = "{top}/root"
state = "{top}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "{top}/containerd.sock"
[ttrpc]
  address = "{top}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{top}/opt"
"""


def daemon():
    """Starts the private containerd once and imports the test image."""
    if "proc" in _d:
        return _d
    clients.require_tools("containerd", "ctr", "containerd-shim-runc-v2", "script")
    top = tempfile.mkdtemp(prefix="skiff-containerd-", dir="/tmp")
    _d.update(dir=top, sock=f"{top}/containerd.sock", runc_root=f"{top}/runtime-root",
              fifo=f"{top}/fifo", run_existed={p for p in ("/run/containerd", "/run/containerd/s",
                                                          "/run/containerd/fifo")
                                              if os.path.isdir(p)},
              cgroups_before=_cgroup_dirs())
    with open(f"{top}/config.toml", "w") as f:
        f.write(_config(top))
    log = open(f"{top}/containerd.log", "w")
    _d["proc"] = subprocess.Popen(["containerd", "--config", f"{top}/config.toml"],
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    atexit.register(teardown)
    clients.wait_for(lambda: ctr("version").returncode == 0, what="containerd to answer")
    archive = clients.oci_archive(os.path.join(lib.WORK, "skiff-busybox-oci.tar"))
    ctr("images", "import", archive, check=True)
    return _d


def ctr(*args, check=False, timeout=60, input=None):
    return clients.run(["ctr", "-a", _d["sock"], "-n", NS, *args], check=check,
                       timeout=timeout, input=input)


def ctr_cmd(*args):
    return ["ctr", "-a", _d["sock"], "-n", NS, *args]


def run_flags():
    """Flags for `ctr run`: where the runtime and its state are; every other setting is
    ctr's default (its 1024 cpu shares included)."""
    return ["--runc-binary", clients.RUNTIME, "--runc-root", _d["runc_root"],
            "--fifo-dir", _d["fifo"]]


def cid(prefix="c"):
    return f"{prefix}{next(_counter)}"


def _count():
    n = 0
    while True:
        n += 1
        yield n


_counter = _count()


def task_status(c):
    for line in ctr("task", "ls").stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == c:
            return f[2], int(f[1])
    return None, None


def wait_status(c, want, timeout=20):
    return clients.wait_for(lambda: task_status(c)[0] == want, timeout,
                            f"task {c} to be {want} (is {task_status(c)[0]})")


def start_detached(c, *cmd, flags=()):
    """`ctr run` in the foreground, in the background: its exit status is the task's."""
    p = subprocess.Popen(ctr_cmd("run", *run_flags(), *flags, "--rm", clients.IMAGE, c, *cmd),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_status(c, "RUNNING")
    except AssertionError:
        p.kill()
        out, err = p.communicate(timeout=20)
        raise AssertionError(f"task {c} never ran: {out}{err}")
    return p


def finish(p, c, timeout=20):
    """Waits for a foreground `ctr run`; returns (status, stdout, stderr)."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        ctr("task", "kill", "-s", "SIGKILL", c)
        out, err = p.communicate(timeout=20)
        raise AssertionError(f"ctr run {c} did not finish: {out}{err}")
    return p.returncode, out, err


def remove(c):
    ctr("task", "kill", "-s", "SIGKILL", c)
    ctr("task", "delete", "--force", c)
    ctr("containers", "delete", c)


def runtime_state_ids():
    d = os.path.join(_d["runc_root"], NS)
    return [e for e in os.listdir(d) if not e.startswith(".")] if os.path.isdir(d) else []


def pids_in_pidns_of(pid):
    try:
        ns = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                if os.readlink(f"/proc/{e}/ns/pid") == ns:
                    with open(f"/proc/{e}/cmdline", "rb") as f:
                        out.append((int(e), f.read().replace(b"\0", b" ").decode().strip()))
            except OSError:
                pass
    return out


def wakeups(pid):
    """Voluntary context switches: `probe count` wakes every 100 ms while it runs."""
    with open(f"/proc/{pid}/status") as f:
        return int([x for x in f if x.startswith("voluntary_ctxt_switches")][0].split()[1])


def _cgroup_dirs():
    """The cgroup directories that containers of this module's namespace could use: one
    per v1 hierarchy (and the hybrid v2 one) here, /sys/fs/cgroup/NS on a pure v2 host."""
    hier = os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else []
    return {p for p in [os.path.join("/sys/fs/cgroup", h, NS) for h in hier] +
            [os.path.join("/sys/fs/cgroup", NS)] if os.path.isdir(p)}


# ---- tests ----

def test_ctr_run_output_and_exit_code():
    daemon()
    c = cid("run")
    r = ctr("run", *run_flags(), "--rm", clients.IMAGE, c,
            "sh", "-c", "echo out-$((6*7)); echo err >&2; cat /proc/self/cgroup >/dev/null; exit 3")
    assert r.returncode == 3, f"exit {r.returncode}: {r.stdout}{r.stderr}"
    assert "out-42" in r.stdout, r.stdout
    assert "err" in r.stderr, r.stderr
    assert c not in ctr("containers", "ls", "-q").stdout.split()
    assert c not in runtime_state_ids(), "the runtime's state was not deleted"


def test_ctr_run_sees_config():
    """The container runs as configured: env, cwd, uid and its own pid 1."""
    daemon()
    c = cid("cfg")
    r = ctr("run", *run_flags(), "--rm", "--env", "GREETING=hello", "--cwd", "/tmp",
            clients.IMAGE, c, "sh", "-c", 'echo "$GREETING $(pwd) $(id -u) $$"')
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["hello", "/tmp", "0", "1"], r.stdout


def test_ctr_create_failure_shows_reason():
    """The shim reads the runtime's --log JSON; ctr shows the one-line reason."""
    daemon()
    c = cid("bad")
    r = ctr("run", *run_flags(), "--rm", clients.IMAGE, c, "/bin/nonexistent")
    assert r.returncode != 0
    msg = r.stderr.lower()
    assert "/bin/nonexistent" in msg and "no such file" in msg, r.stderr
    if clients.runtime_is_skiff():
        assert f"create `{c}`: exec \"/bin/nonexistent\": no such file or directory" in msg, \
            r.stderr
    assert c not in runtime_state_ids(), "a failed create left state behind"
    assert c not in ctr("containers", "ls", "-q").stdout.split()


def _cpu_cgroup_file(pid):
    """pid's cgroup file holding its cpu weight: v1 cpu.shares, or v2 cpu.weight."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [l.strip().split(":", 2) for l in f]
    for _, ctls, path in lines:
        if "cpu" in ctls.split(","):
            mnt = next(m for m in (f"/sys/fs/cgroup/{ctls}", "/sys/fs/cgroup/cpu,cpuacct",
                                   "/sys/fs/cgroup/cpu") if os.path.isdir(m))
            return f"{mnt}{path}/cpu.shares", "1024"
    path = [p for _, c, p in lines if c == ""][0]
    # v2's weight for 1024 shares, as runc converts it.
    return f"/sys/fs/cgroup{path}/cpu.weight", "39"


def test_ctr_default_cpu_shares_reach_the_cgroup():
    """ctr asks for 1024 cpu shares by default: they reach the container's cgroup."""
    daemon()
    c = cid("shares")
    p = start_detached(c, "probe", "sleep", "inf")
    try:
        file, want = _cpu_cgroup_file(task_status(c)[1])
        with open(file) as f:
            assert f.read().strip() == want, file
    finally:
        ctr("task", "kill", "-s", "KILL", c)
        finish(p, c)
        remove(c)
    assert c not in runtime_state_ids()


def test_ctr_kill_term_exits_143():
    daemon()
    c = cid("term")
    p = start_detached(c, "probe", "sleep", "inf")
    try:
        r = ctr("task", "kill", c)
        assert r.returncode == 0, r.stderr
        status, out, err = finish(p, c)
        assert status == 143, f"exit {status}: {err}"
        assert '"pid":1' in out.replace(" ", ""), out
    finally:
        remove(c)
    assert c not in runtime_state_ids()


def test_ctr_kill_all():
    """kill --all reaches every process, not only init: init ignores TERM and lives on."""
    daemon()
    c = cid("all")
    p = start_detached(c, "sh", "-c",
                       'trap "" TERM; probe sleep inf & probe sleep inf & wait; exec sleep 1000')
    try:
        pid = task_status(c)[1]
        clients.wait_for(lambda: len([x for x in pids_in_pidns_of(pid)
                                      if x[1] == "probe sleep inf"]) == 2,
                         what="two probes in the container")
        r = ctr("task", "kill", "--all", "-s", "SIGTERM", c)
        assert r.returncode == 0, r.stderr
        clients.wait_for(lambda: not [x for x in pids_in_pidns_of(pid)
                                      if x[1] == "probe sleep inf"],
                         what="kill --all to stop the probes")
        time.sleep(0.2)
        assert task_status(c)[0] == "RUNNING", "init ignores TERM and must still run"
        r = ctr("task", "kill", "--all", "-s", "SIGKILL", c)
        assert r.returncode == 0, r.stderr
        status, _, err = finish(p, c)
        assert status == 137, f"exit {status}: {err}"
        assert not pids_in_pidns_of(pid)
    finally:
        remove(c)


def test_ctr_task_exec():
    daemon()
    if not clients.runtime_has("exec"):
        raise lib.Skip("skiff exec not built yet")
    c = cid("exec")
    p = start_detached(c, "probe", "sleep", "inf")
    try:
        r = ctr("task", "exec", "--exec-id", "x1", c, "sh", "-c", "echo in-$((2*3)); exit 4")
        assert r.returncode == 4, f"exit {r.returncode}: {r.stderr}"
        assert r.stdout.strip() == "in-6", r.stdout
        r = ctr("task", "exec", "--exec-id", "x2", "--cwd", "/etc", c, "pwd")
        assert r.returncode == 0 and r.stdout.strip() == "/etc", r.stdout + r.stderr
        r = ctr("task", "exec", "--exec-id", "x3", c, "sh", "-c", "echo $$; cat /proc/1/cmdline")
        lines = r.stdout.split("\n", 1)
        assert r.returncode == 0 and lines[0] != "1", r.stdout + r.stderr
        assert "probe" in lines[1], "exec did not join the container's pid namespace"
        r = ctr("task", "exec", "--exec-id", "x4", c, "/bin/nonexistent")
        assert r.returncode != 0 and "/bin/nonexistent" in r.stderr, r.stderr
        assert task_status(c)[0] == "RUNNING", "a failed exec must not hurt the task"
    finally:
        ctr("task", "kill", c)
        finish(p, c)
        remove(c)


def test_ctr_task_ps():
    daemon()
    if not clients.runtime_has("ps"):
        raise lib.Skip("skiff ps not built yet")
    c = cid("ps")
    p = start_detached(c, "sh", "-c", "probe sleep inf & wait")
    try:
        pid = task_status(c)[1]
        clients.wait_for(lambda: len(pids_in_pidns_of(pid)) == 2, what="the probe to start")
        r = ctr("task", "ps", c)
        assert r.returncode == 0, r.stderr
        listed = {int(line.split()[0]) for line in r.stdout.splitlines()[1:] if line.strip()}
        assert listed == {x[0] for x in pids_in_pidns_of(pid)}, (listed, r.stdout)
    finally:
        ctr("task", "kill", "--all", "-s", "SIGKILL", c)
        finish(p, c)
        remove(c)


def test_ctr_pause_resume():
    daemon()
    for cmd in ("pause", "resume"):
        if not clients.runtime_has(cmd):
            raise lib.Skip(f"skiff {cmd} not built yet")
    c = cid("pause")
    p = subprocess.Popen(ctr_cmd("run", *run_flags(), "--rm", clients.IMAGE, c, "probe", "count"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        wait_status(c, "RUNNING")
        r = ctr("task", "pause", c)
        assert r.returncode == 0, r.stderr
        wait_status(c, "PAUSED")
        pid = task_status(c)[1]
        before = wakeups(pid)
        time.sleep(0.5)
        assert wakeups(pid) == before, "a paused task ran"
        r = ctr("task", "resume", c)
        assert r.returncode == 0, r.stderr
        wait_status(c, "RUNNING")
        clients.wait_for(lambda: wakeups(pid) > before + 2, what="the task to run again")
        ctr("task", "kill", c)
        status, out, err = finish(p, c)
        assert status == 143, f"exit {status}: {err}"
        assert out.split() == [str(i) for i in range(1, len(out.split()) + 1)], out
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=20)
        remove(c)


def test_ctr_run_tty():
    daemon()
    c = cid("tty")
    r = clients.through_pty(ctr_cmd("run", *run_flags(), "-t", "--rm", clients.IMAGE, c, "sh",
                                    "-c", "tty; test -t 0 && test -t 1 && echo both-tty; exit 5"))
    out = r.stdout.replace("\r", "")
    assert r.returncode == 5, f"exit {r.returncode}: {out}{r.stderr}"
    assert re.search(r"^(\^@)?/dev/pts/\d+$", out, re.M), out
    assert "both-tty" in out, out
    assert c not in runtime_state_ids()


def teardown():
    """Stops the daemon by pid and removes what it and the runtime left; idempotent."""
    proc = _d.get("proc")
    if proc is None:
        return []
    left = []
    for c in ctr("containers", "ls", "-q").stdout.split():
        left.append(f"container {c}")
        remove(c)
    ctr("images", "remove", clients.IMAGE)
    for c in runtime_state_ids():
        left.append(f"runtime state {c}")
        subprocess.run([clients.RUNTIME, "--root", os.path.join(_d["runc_root"], NS),
                        "delete", "--force", c], capture_output=True, timeout=60)
    clients.stop_pid(proc.pid)
    proc.wait(timeout=20)
    clients.unmount_under(_d["dir"])
    left += [f"mount {m}" for m in clients.mounts_under(_d["dir"])]
    for path in sorted(_cgroup_dirs() - _d["cgroups_before"], key=len, reverse=True):
        try:
            os.rmdir(path)
        except OSError as e:
            left.append(f"cgroup {path}: {e}")
    for p in ("/run/containerd/fifo", "/run/containerd/s", "/run/containerd"):
        if p not in _d["run_existed"] and os.path.isdir(p):
            try:
                os.rmdir(p)
            except OSError:
                left.append(f"{p} not empty: {os.listdir(p)}")
    shutil.rmtree(_d["dir"], ignore_errors=True)
    _d.clear()
    return left


def test_zz_teardown_leaves_nothing():
    """Last: every task was deleted by the tests; stopping the daemon leaves nothing."""
    if "proc" not in _d:
        raise lib.Skip("containerd was not started")
    pid = _d["proc"].pid
    left = teardown()
    assert not left, f"left behind: {left}"
    assert not os.path.exists(f"/proc/{pid}"), "containerd still runs"
    shims = subprocess.run(["pgrep", "-f", f"containerd-shim-runc-v2 -namespace {NS}"],
                           capture_output=True, text=True, timeout=60).stdout.split()
    for s in shims:
        os.kill(int(s), signal.SIGKILL)
    assert not shims, f"shims still run: {shims}"
