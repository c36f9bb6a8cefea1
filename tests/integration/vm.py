"""Runs commands inside the pure cgroup v2 test VM (tests/vm/run-in-vm.sh).

    ok, reason = vm.available()
    rc, output = vm.run(["cat", "/sys/fs/cgroup/cgroup.controllers"])
    rc, output = vm.run(["systemctl", "is-system-running"], systemd=True)

The VM sees the host's root filesystem read-only under a tmpfs overlay, so
the built skiff and the tests are there at the same paths; the command runs
as root in the caller's working directory (or cwd=) with SKIFF_IN_VM=1.
With systemd=True the VM boots Debian's systemd as PID 1 and the command runs
as the service skiff-vm-job.service (tests/vm/README.md, "systemd as PID 1").
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


def run(cmd_list, timeout=300, env=None, cwd=None, systemd=False):
    """Runs cmd_list in a fresh VM; returns (returncode, output).

    output is the command's stdout and stderr together (plus any "vm: ..."
    diagnostics); returncode is the command's exit status, 124 on timeout,
    125 when the VM failed, 77 when no VM can run here.  env is a dict of
    extra variables to set inside.  systemd=True boots systemd as PID 1.
    """
    args = [RUN_IN_VM, "--timeout", str(int(timeout))]
    if systemd:
        args.append("--systemd")
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
