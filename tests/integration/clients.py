"""Shared pieces for the real-caller tests (containerd + ctr, podman + conmon).

The runtime under test is skiff by default; SKIFF_CLIENT_RUNTIME=/usr/sbin/runc
runs the same tests against runc, to show that they test the callers and not
skiff's own idea of how it is called.

The image is built here, without a registry: one uncompressed layer holding
the test rootfs (busybox + probe), wrapped in an OCI image layout archive that
both `ctr images import` and `podman load` accept.
"""
import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time

import lib

RUNTIME = os.path.abspath(os.environ.get("SKIFF_CLIENT_RUNTIME", lib.SKIFF))
IMAGE = "localhost/skiff-busybox:latest"


def runtime_is_skiff():
    return os.path.realpath(RUNTIME) == os.path.realpath(lib.SKIFF)


def require_tools(*names):
    for n in names:
        if not any(os.access(os.path.join(d, n), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/bin:/bin").split(":") + ["/usr/sbin"]):
            raise lib.Skip(f"{n} is not installed (scripts/setup.sh installs it)")
    if not os.access(RUNTIME, os.X_OK):
        raise lib.Skip(f"runtime {RUNTIME} is not built")


def runtime_has(command):
    """True when the runtime knows COMMAND (`RUNTIME COMMAND --help` exits 0)."""
    r = subprocess.run([RUNTIME, command, "--help"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    return r.returncode == 0


def require_runtime_command(command):
    if not runtime_has(command):
        raise lib.Skip(f"skiff {command} not built yet")


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def _layer():
    root = lib._template_rootfs()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for n in sorted(dirs + files):
                p = os.path.join(d, n)
                info = t.gettarinfo(p, arcname=os.path.relpath(p, root))
                info.mtime = 0
                if info.isreg():
                    with open(p, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def _descriptor(media_type, data, **extra):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data), **extra}


def oci_archive(path, image=IMAGE, cmd=("sh",)):
    """Writes an OCI image layout tar of the test rootfs, named IMAGE with CMD, to PATH (once)."""
    if os.path.exists(path):
        return path
    layer = _layer()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": list(cmd), "WorkingDir": "/"},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
    }).encode()
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [_descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                  annotations={"io.containerd.image.name": image,
                                               "org.opencontainers.image.ref.name": image})],
    }).encode()
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w") as t:
        _add_bytes(t, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_bytes(t, "index.json", index)
        for blob in (layer, config, manifest):
            _add_bytes(t, "blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)
    os.rename(tmp, path)
    return path


def run(cmd, timeout=60, input=None, env=None, check=False):
    """Runs a client command; output through files so a daemon it starts cannot hold a pipe.
    In tests/vm's VM (TCG, often beside other VMs) the timeout is three times longer."""
    if os.environ.get("SKIFF_IN_VM") == "1":
        timeout *= 3
    with open(os.devnull, "rb") as null:
        import tempfile
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            stdin = null
            if input is not None:
                stdin = tempfile.TemporaryFile()
                stdin.write(input.encode())
                stdin.seek(0)
            p = subprocess.run(cmd, stdout=out, stderr=err, stdin=stdin, timeout=timeout,
                               env=env)
            out.seek(0)
            err.seek(0)
            r = subprocess.CompletedProcess(cmd, p.returncode,
                                            out.read().decode(errors="replace"),
                                            err.read().decode(errors="replace"))
    if check:
        assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}{r.stdout}"
    return r


def through_pty(cmd, timeout=60, input=None, env=None):
    """Runs CMD with a terminal on its stdio (util-linux `script`); returns CompletedProcess."""
    return run(["script", "-qec", " ".join(_quote(c) for c in cmd), "/dev/null"],
               timeout=timeout, input=input, env=env)


def _quote(s):
    import shlex
    return shlex.quote(s)


def wait_for(pred, timeout=20, what="condition"):
    if os.environ.get("SKIFF_IN_VM") == "1":
        timeout *= 3  # as in run()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop_pid(pid, timeout=15):
    """Stops a daemon this test module started: TERM, then KILL; reaps it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not os.path.exists(f"/proc/{pid}") or _is_zombie(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


def unmount_under(path):
    for m in sorted(mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL, timeout=60)


def need_vm_controllers(driver, *controllers):
    """Skips unless running inside tests/vm's VM (where the host-side test DRIVER runs
    this one) with CONTROLLERS enabled at the root."""
    if os.environ.get("SKIFF_IN_VM") != "1":
        raise lib.Skip(f"runs inside the VM ({driver})")
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            have = f.read().split()
    except OSError as e:
        raise lib.Skip(f"no cgroup v2 at /sys/fs/cgroup: {e}")
    for c in controllers:
        if c not in have:
            raise lib.Skip(f"the {c} controller is not available in the VM")


def run_tests_in_vm(only, timeout=240, systemd=False):
    """Boots tests/vm's VM (pure cgroup v2) and runs the integration tests whose names
    contain ONLY (a string, or a list of them, all in one boot) there, with this
    runtime (SKIFF_* variables reach the guest); asserts that some ran and all passed.
    A VM that fails to boot (125) gets one more try.  systemd=True boots systemd as PID 1."""
    import vm
    passed, skipped, out = vm.run_tests(only, timeout, {"SKIFF_CLIENT_RUNTIME": RUNTIME},
                                        systemd=systemd)
    if skipped:
        raise lib.Skip("in the VM: " + "; ".join(skipped))
    assert passed > 0, f"nothing ran in the VM:\n{out[-3000:]}"
