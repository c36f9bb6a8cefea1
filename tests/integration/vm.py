"""Runs commands inside the pure cgroup v2 test VM (tests/vm/run-in-vm.sh).

    ok, reason = vm.available()
    rc, output = vm.run(["cat", "/sys/fs/cgroup/cgroup.controllers"])
    rc, output = vm.run(["systemctl", "is-system-running"], systemd=True)
    rc, output = vm.run(["cat", "/proc/self/cgroup"], systemd=True, cgroups="hybrid")

The VM sees the host's root filesystem read-only under a tmpfs overlay, so
the built skiff and the tests are there at the same paths; the command runs
as root in the caller's working directory (or cwd=) with SKIFF_IN_VM=1.
With systemd=True the VM boots Debian's systemd as PID 1 and the command runs
as the service skiff-vm-job.service (tests/vm/README.md, "systemd as PID 1").

A module whose tests run in the VM has one host-side driver test, which boots it
once for them:

    def test_x_in_vm():                       # on the host
        vm.drive("test_x.test_in_", timeout=600, tools=("/usr/sbin/criu",))

    def test_in_something():                  # in the VM
        vm.in_guest("test_x.test_x_in_vm", systemd=True)
"""
import os
import subprocess

import lib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_IN_VM = os.path.join(TOP, "tests", "vm", "run-in-vm.sh")
UNAVAILABLE = 77
TIMED_OUT = 124

_available = None


def available():
    """(True, "") when a VM can boot here, else (False, reason); checked once."""
    global _available
    if _available is None:
        if not os.access(RUN_IN_VM, os.X_OK):
            _available = (False, f"{RUN_IN_VM} is missing")
        else:
            try:
                r = subprocess.run([RUN_IN_VM, "--check"], capture_output=True, text=True,
                                   timeout=300)
            except subprocess.TimeoutExpired:
                _available = (False, "vm: --check timed out")
            else:
                out = (r.stdout + r.stderr).strip()
                if r.returncode == 0:
                    _available = (True, "")
                else:
                    reason = out.splitlines()[-1] if out else f"exit status {r.returncode}"
                    _available = (False, reason.removeprefix("vm: unavailable: "))
    return _available


def run(cmd_list, timeout=300, env=None, cwd=None, systemd=False, cgroups="unified"):
    """Runs cmd_list in a fresh VM; returns (returncode, output).

    output is the command's stdout and stderr together (plus any "vm: ..."
    diagnostics); returncode is the command's exit status, 124 on timeout,
    125 when the VM failed, 77 when no VM can run here.  env is a dict of
    extra variables to set inside.  systemd=True boots systemd as PID 1;
    with it, cgroups="hybrid" or "legacy" has systemd mount cgroup v1
    hierarchies instead of the pure cgroup v2 tree.
    """
    if cgroups != "unified" and not systemd:
        raise ValueError(f"cgroups={cgroups!r} needs systemd=True")
    args = [RUN_IN_VM, "--timeout", str(int(timeout))]
    if systemd:
        args += ["--systemd", "--cgroup-layout", cgroups]
    for k, v in (env or {}).items():
        args += ["--env", f"{k}={v}"]
    args += ["--", *map(str, cmd_list)]
    lib.needs_time(timeout + 180)
    try:
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout + 120, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
        return TIMED_OUT, out.decode(errors="replace") + "\nvm: run-in-vm.sh did not finish\n"
    return r.returncode, r.stdout.decode(errors="replace")


def run_script(name, body, timeout=300):
    """Runs the shell script `body` (saved as lib.WORK/name) in a fresh VM, in lib.WORK;
    skips when no VM can run here.  Returns (returncode, output) as run() does."""
    ok, reason = available()
    if not ok:
        raise lib.Skip(f"vm unavailable: {reason}")
    path = os.path.join(lib.WORK, name)
    with open(path, "w") as f:
        f.write(body)
    status, out = run(["/bin/sh", path], timeout=timeout, cwd=lib.WORK)
    if status == UNAVAILABLE:
        raise lib.Skip("vm unavailable")
    return status, out


def sections(out):
    """A script's output cut into steps, each printed as "==> NAME", its output, then
    "==< rc=N": {name: [(output, N), ...]} in the order they ran."""
    import re
    found = {}
    for m in re.finditer(r"^==> (\S+)\n(.*?)^==< rc=(\d+)$", out, re.M | re.S):
        found.setdefault(m.group(1), []).append((m.group(2), int(m.group(3))))
    return found


def run_tests(only, timeout=400, env=None, systemd=False, cgroups="unified"):
    """Runs the tests whose names contain `only` (tests/runner.py; a string, or a list
    of them for one boot) in a fresh VM, with one more try when the VM fails to boot
    (125) or timed out before the first result; skips when no VM can run here.
    Asserts that the run passed; returns (passed, skipped lines, output)."""
    import re
    ok, reason = available()
    if not ok:
        raise lib.Skip(f"vm unavailable: {reason}")
    cmd = ["/usr/bin/python3", "tests/runner.py", *([only] if isinstance(only, str) else only)]
    for _ in range(2):
        status, out = run(cmd, timeout=timeout, env=env, cwd=lib.TOP, systemd=systemd,
                          cgroups=cgroups)
        # One more try for a VM that failed (125) or ran out of time before the runner
        # printed one result: a guest stuck booting under TCG on a loaded host.
        stuck = status == TIMED_OUT and not re.search(r"^(ok  |skip|FAIL) ", out, re.M)
        if status != 125 and not stuck:
            break
    if status == UNAVAILABLE:
        raise lib.Skip(out.strip().splitlines()[-1] if out.strip() else "vm unavailable")
    lines = out.strip().splitlines()
    m = re.match(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", lines[-1] if lines else "")
    assert status == 0 and m and m.group(2) == "0", f"status {status}:\n{out[-6000:]}"
    return int(m.group(1)), [line[5:] for line in lines if line.startswith("skip ")], out


def need_host():
    """Skips a host-side driver when it is itself in the VM (it would boot another)."""
    if os.environ.get("SKIFF_IN_VM") == "1":
        raise lib.Skip("the host-side driver: already in the VM")


def in_guest(driver, systemd=False):
    """Skips unless in the VM that the host-side test DRIVER boots; with systemd=True,
    unless systemd is PID 1 there."""
    if os.environ.get("SKIFF_IN_VM") != "1":
        raise lib.Skip(f"runs inside the VM ({driver})")
    if systemd and not os.path.isdir("/run/systemd/system"):
        raise lib.Skip(f"systemd is not PID 1 in this VM ({driver})")


def drive(only, timeout, tools=(), env=None, systemd=False, cgroups="unified"):
    """A host-side driver: skips in the VM and when one of TOOLS (paths; with systemd,
    systemd too) is not installed, then run_tests(); returns what that returns."""
    need_host()
    for tool in (*tools, *(["/lib/systemd/systemd"] if systemd else [])):
        if not os.path.exists(tool):
            raise lib.Skip(f"{tool} is not installed")
    return run_tests(only, timeout, env, systemd, cgroups)
