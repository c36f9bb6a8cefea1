"""skiff on the Kubernetes path: a CRI client -> containerd's CRI plugin -> the runc v2 shim
-> skiff, driven the way the kubelet drives it (RunPodSandbox, CreateContainer, StartContainer,
ContainerStatus, ExecSync, UpdateContainerResources, StopContainer, RemoveContainer,
StopPodSandbox, RemovePodSandbox).

A private containerd (its own config, root, state and sockets under a temp dir) runs the CRI
plugin with the runc runtime's BinaryName set to the runtime under test; the client is Python
gRPC with the messages of tests/integration/cri/runtime_v1.proto (compiled here with
grpc_tools).  PullImage is replaced by importing the local test image and a local "pause"
image (the same rootfs, sleeping) into containerd's k8s.io namespace.

Pods use the host network; a pod network through the bridge CNI plugin (Debian's
containernetworking-plugins) is tested only in tests/vm's VM, since on the host it would add a
bridge and veths to the host's interfaces, which the tests must never touch.  Exec streaming needs the
kubelet's SPDY/WebSocket client and is not driven here; ExecSync runs through the same
runtime path (`runc exec` of a process spec).

Limits are read back on the host from the cgroup the container's init is in (cgroup v2, or the
v1 memory and cpu hierarchies of a hybrid host); test_in_vm_on_cgroup_v2 runs the tests again
in tests/vm's pure cgroup v2 VM when this host is not one.

SKIFF_CLIENT_RUNTIME=/usr/sbin/runc runs the same tests against runc.
"""
import atexit
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time

import clients
import lib

HERE = os.path.dirname(os.path.abspath(__file__))
PAUSE = "localhost/skiff-pause:latest"
PAUSE_CMD = ["sleep", "2147483647"]
NS = "k8s.io"  # the containerd namespace the CRI plugin uses
_d = {}


def pure_v2():
    """True when /sys/fs/cgroup is cgroup2 with the cpu and memory controllers."""
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            have = f.read().split()
    except OSError:
        return False
    return "cpu" in have and "memory" in have


def in_vm():
    """Inside tests/vm's VM, whose network interfaces are its own to change."""
    return os.environ.get("SKIFF_IN_VM") == "1"


POD_SUBNET = "10.88.77."


def cni_conflist(top):
    """A bridge network with host-local addresses, used only inside the VM."""
    return json.dumps({
        "cniVersion": "1.0.0", "name": "skiff-test",
        "plugins": [{"type": "bridge", "bridge": "skiff-cni0", "isGateway": True,
                     "ipMasq": False, "ipam": {"type": "host-local",
                                               "ranges": [[{"subnet": POD_SUBNET + "0/24"}]],
                                               "dataDir": f"{top}/cni-ipam"}}]})


def has_sys_resource():
    with open("/proc/self/status") as f:
        bnd = [line.split()[1] for line in f if line.startswith("CapBnd:")][0]
    return bool(int(bnd, 16) & (1 << 24))


def _config(top):
    return f"""version = 2
root = "{top}/root"
state = "{top}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "{top}/containerd.sock"
[ttrpc]
  address = "{top}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{top}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_cgroup = false
  disable_apparmor = true
  # sandboxes get oomScoreAdj -998, which needs CAP_SYS_RESOURCE (see `skiff check`)
  restrict_oom_score_adj = {"false" if has_sys_resource() else "true"}
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{"/usr/lib/cni" if in_vm() else top + "/cni-bin"}"
    conf_dir = "{top}/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{clients.RUNTIME}"
        Root = "{top}/runtime-root"
        SystemdCgroup = false
"""


def _api(top):
    """The runtime.v1 messages and stubs, compiled from the test's own .proto."""
    out = os.path.join(top, "api")
    os.mkdir(out)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{HERE}/cri",
                    f"--python_out={out}", f"--grpc_python_out={out}",
                    f"{HERE}/cri/runtime_v1.proto"], check=True, capture_output=True, timeout=60)
    sys.path.insert(0, out)
    try:
        return (importlib.import_module("runtime_v1_pb2"),
                importlib.import_module("runtime_v1_pb2_grpc"))
    finally:
        sys.path.remove(out)


def daemon():
    """Starts the private containerd once, imports both images; returns (pb, stub)."""
    if "stub" in _d:
        return _d["pb"], _d["stub"]
    clients.require_tools("containerd", "ctr", "containerd-shim-runc-v2")
    try:
        import grpc
    except ImportError:
        raise lib.Skip("python3-grpcio is not installed")
    top = tempfile.mkdtemp(prefix="skiff-cri-", dir="/tmp")
    for d in ("cni-bin", "cni-conf", "runtime-root"):
        os.mkdir(os.path.join(top, d))
    _d.update(dir=top, sock=f"{top}/containerd.sock",
              run_existed={p for p in ("/run/containerd", "/run/containerd/s",
                                       "/run/containerd/fifo") if os.path.isdir(p)})
    with open(f"{top}/config.toml", "w") as f:
        f.write(_config(top))
    if in_vm() and os.path.exists("/usr/lib/cni/bridge"):
        with open(f"{top}/cni-conf/10-skiff-test.conflist", "w") as f:
            f.write(cni_conflist(top))
    log = open(f"{top}/containerd.log", "w")
    _d["proc"] = subprocess.Popen(["containerd", "--config", f"{top}/config.toml"],
                                  stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    atexit.register(teardown)
    clients.wait_for(lambda: ctr("version").returncode == 0, what="containerd to answer")
    ctr("images", "import", clients.oci_archive(os.path.join(lib.WORK, "skiff-busybox-oci.tar")),
        check=True)
    ctr("images", "import", clients.oci_archive(os.path.join(lib.WORK, "skiff-pause-oci.tar"),
                                                image=PAUSE, cmd=PAUSE_CMD), check=True)
    pb, rpc = _api(top)
    _d["channel"] = grpc.insecure_channel(f"unix://{top}/containerd.sock")
    _d.update(pb=pb, stub=rpc.RuntimeServiceStub(_d["channel"]))
    return pb, _d["stub"]


def ctr(*args, check=False, timeout=60):
    return clients.run(["ctr", "-a", _d["sock"], "-n", NS, *args], check=check, timeout=timeout)


def runtime_ids():
    """What the runtime under test holds in the state root the shim gives it."""
    r = subprocess.run([clients.RUNTIME, "--root", os.path.join(_d["dir"], "runtime-root", NS),
                        "list", "-q"], capture_output=True, text=True, timeout=60)
    return set(r.stdout.split())


def pod_config(pb, name, **security):
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=f"uid-{name}-{os.getpid()}",
                                       namespace="skiff-test", attempt=0),
        # no hostname: a host-network pod shares the host's uts namespace (as the kubelet does)
        log_directory=os.path.join(_d["dir"], "logs", name),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.POD, ipc=pb.POD),
            seccomp=pb.SecurityProfile(profile_type=pb.SecurityProfile.RuntimeDefault),
            **security)))


def container_config(pb, name, command, user=None, readonly=False):
    sc = pb.LinuxContainerSecurityContext(
        namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.POD, ipc=pb.POD),
        readonly_rootfs=readonly,
        seccomp=pb.SecurityProfile(profile_type=pb.SecurityProfile.RuntimeDefault))
    if user is not None:
        sc.run_as_user.value = user
    return pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(
        image=clients.IMAGE), command=command, log_path=f"{name}.log",
        envs=[pb.KeyValue(key="GREETING", value="hello")],
        linux=pb.LinuxContainerConfig(security_context=sc))


def wait_state(pb, stub, cid, state, timeout=20):
    def reached():
        return stub.ContainerStatus(pb.ContainerStatusRequest(container_id=cid)).status.state \
            == state
    clients.wait_for(reached, timeout, f"container {cid} to reach state {state}")
    return stub.ContainerStatus(pb.ContainerStatusRequest(container_id=cid)).status


def exec_sync(pb, stub, cid, *cmd):
    r = stub.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=list(cmd), timeout=20))
    return r.exit_code, r.stdout.decode(), r.stderr.decode()


# ---- tests ----

def test_cri_version():
    pb, stub = daemon()
    v = stub.Version(pb.VersionRequest(version="v1"))
    assert v.runtime_name == "containerd" and v.runtime_api_version == "v1", v


def remove_pod(pb, stub, sid):
    """StopPodSandbox and RemovePodSandbox, which also remove the pod's containers."""
    stub.StopPodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=sid))
    stub.RemovePodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=sid))


def test_cri_pod_lifecycle():
    """A pod (host network, shared pid namespace, RuntimeDefault seccomp) with a non-root,
    read-only container, from RunPodSandbox to RemovePodSandbox."""
    pb, stub = daemon()
    pod = pod_config(pb, "web")
    sid = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod)).pod_sandbox_id
    try:
        check_pod(pb, stub, sid, pod)
    except BaseException:
        remove_pod(pb, stub, sid)
        raise
    stub.StopPodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=sid))
    status = stub.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
    assert status.state == pb.SANDBOX_NOTREADY, status
    assert sid not in runtime_ids(), "StopPodSandbox left the sandbox in the runtime"
    stub.RemovePodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=sid))


def check_pod(pb, stub, sid, pod):
    status = stub.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid)).status
    assert status.state == pb.SANDBOX_READY, status
    assert sid in runtime_ids(), f"the sandbox did not run under {clients.RUNTIME}"
    cfg = container_config(pb, "app", ["sleep", "1000"], user=1000, readonly=True)
    cid = stub.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=sid, config=cfg,
                                                         sandbox_config=pod)).container_id
    assert wait_state(pb, stub, cid, pb.CONTAINER_CREATED).state == pb.CONTAINER_CREATED
    stub.StartContainer(pb.ContainerIdRequest(container_id=cid))
    wait_state(pb, stub, cid, pb.CONTAINER_RUNNING)
    assert cid in runtime_ids()

    # what the container sees: its user, its environment, a read-only root
    assert exec_sync(pb, stub, cid, "id", "-u") == (0, "1000\n", "")
    assert exec_sync(pb, stub, cid, "sh", "-c", "echo $GREETING")[1] == "hello\n"
    code, _, err = exec_sync(pb, stub, cid, "touch", "/written")
    assert code != 0 and "Read-only file system" in err, (code, err)
    # the pod's pid namespace: the sandbox's pause process is pid 1 here
    code, out, _ = exec_sync(pb, stub, cid, "cat", "/proc/1/cmdline")
    assert out.split("\0")[:2] == PAUSE_CMD, out
    # RuntimeDefault: the process runs under a seccomp filter
    code, out, _ = exec_sync(pb, stub, cid, "grep", "^Seccomp:", "/proc/self/status")
    assert out.split() == ["Seccomp:", "2"], out
    # a failing command's status comes back as it is
    assert exec_sync(pb, stub, cid, "sh", "-c", "exit 7")[0] == 7

    stub.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=2))
    st = wait_state(pb, stub, cid, pb.CONTAINER_EXITED)
    assert st.exit_code in (137, 143), st
    stub.RemoveContainer(pb.ContainerIdRequest(container_id=cid))
    assert cid not in runtime_ids(), "RemoveContainer left the runtime's state"


def test_cri_container_exit_code():
    pb, stub = daemon()
    pod = pod_config(pb, "batch")
    sid = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod)).pod_sandbox_id
    try:
        cfg = container_config(pb, "job", ["sh", "-c", "echo done; exit 3"])
        cid = stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=sid, config=cfg, sandbox_config=pod)).container_id
        stub.StartContainer(pb.ContainerIdRequest(container_id=cid))
        st = wait_state(pb, stub, cid, pb.CONTAINER_EXITED)
        assert st.exit_code == 3 and st.reason == "Error", st
        with open(os.path.join(_d["dir"], "logs", "batch", "job.log")) as f:
            assert "stdout F done" in f.read()
        stub.RemoveContainer(pb.ContainerIdRequest(container_id=cid))
    finally:
        remove_pod(pb, stub, sid)


def test_cri_pod_network():
    """A pod with a network namespace of its own, on a bridge through the CNI plugins: the
    address the CRI reports is the one the container has, and the pod's hostname is set."""
    if not in_vm():
        raise lib.Skip("the bridge plugin would add a bridge and veths to this host's "
                       "interfaces; runs in the VM (test_in_vm_on_cgroup_v2)")
    if not os.path.exists("/usr/lib/cni/bridge"):
        raise lib.Skip("containernetworking-plugins is not installed")
    pb, stub = daemon()
    pod = pod_config(pb, "net")
    pod.hostname = "skiff-pod"
    pod.linux.security_context.namespace_options.network = pb.POD
    sid = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod)).pod_sandbox_id
    try:
        ip = stub.PodSandboxStatus(pb.PodSandboxStatusRequest(
            pod_sandbox_id=sid)).status.network.ip
        assert ip.startswith(POD_SUBNET), ip
        cfg = container_config(pb, "app", ["sleep", "1000"])
        cfg.linux.security_context.namespace_options.network = pb.POD
        cid = stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=sid, config=cfg, sandbox_config=pod)).container_id
        stub.StartContainer(pb.ContainerIdRequest(container_id=cid))
        wait_state(pb, stub, cid, pb.CONTAINER_RUNNING)
        code, out, err = exec_sync(pb, stub, cid, "ip", "-4", "-o", "addr", "show", "eth0")
        assert code == 0 and f"inet {ip}/24" in out, (out, err)
        assert exec_sync(pb, stub, cid, "hostname")[1] == "skiff-pod\n"
        stub.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=2))
        stub.RemoveContainer(pb.ContainerIdRequest(container_id=cid))
    finally:
        remove_pod(pb, stub, sid)


def cgroup_limits(cid):
    """(memory limit, cpu quota, cpu period) of the container, read on the host from the
    cgroup its init is in: cgroup v2 files, or the v1 memory and cpu hierarchies'."""
    r = subprocess.run([clients.RUNTIME, "--root", os.path.join(_d["dir"], "runtime-root", NS),
                        "state", cid], capture_output=True, text=True, check=True, timeout=60)
    pid = json.loads(r.stdout)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    v1 = {c: path for _, cs, path in lines for c in cs.split(",") if c}
    if "memory" not in v1:  # cgroup v2
        d = "/sys/fs/cgroup" + [path for _, cs, path in lines if cs == ""][0]
        quota, period = read(f"{d}/cpu.max").split()
        return int(read(f"{d}/memory.max")), int(quota), int(period)
    mem, cpu = v1_mount("memory") + v1["memory"], v1_mount("cpu") + v1["cpu"]
    return (int(read(f"{mem}/memory.limit_in_bytes")), int(read(f"{cpu}/cpu.cfs_quota_us")),
            int(read(f"{cpu}/cpu.cfs_period_us")))


def v1_mount(controller):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fstype, _, opts = right.split()[:3]
            if fstype == "cgroup" and controller in opts.split(","):
                return left.split()[4]
    raise AssertionError(f"no cgroup v1 hierarchy has {controller}")


def read(path):
    with open(path) as f:
        return f.read().strip()


def test_cri_update_container_resources():
    """Limits at CreateContainer, then UpdateContainerResources, as the cgroup holds them."""
    pb, stub = daemon()
    pod = pod_config(pb, "limits")
    sid = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod)).pod_sandbox_id
    try:
        cfg = container_config(pb, "app", ["sleep", "1000"])
        cfg.linux.resources.memory_limit_in_bytes = 64 << 20
        cfg.linux.resources.cpu_quota = 50000
        cfg.linux.resources.cpu_period = 100000
        cid = stub.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=sid, config=cfg, sandbox_config=pod)).container_id
        stub.StartContainer(pb.ContainerIdRequest(container_id=cid))
        wait_state(pb, stub, cid, pb.CONTAINER_RUNNING)
        assert cgroup_limits(cid) == (64 << 20, 50000, 100000)
        stub.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
            container_id=cid, linux=pb.LinuxContainerResources(
                memory_limit_in_bytes=128 << 20, cpu_quota=20000, cpu_period=100000)))
        assert cgroup_limits(cid) == (128 << 20, 20000, 100000)
        stub.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=2))
        stub.RemoveContainer(pb.ContainerIdRequest(container_id=cid))
    finally:
        remove_pod(pb, stub, sid)


def test_in_vm_on_cgroup_v2():
    """Where this host has no cgroup v2 cpu and memory controllers: every test_cri_* test
    again in tests/vm's pure cgroup v2 VM (the cgroup v2 driver, as on most Kubernetes nodes)."""
    if pure_v2() or os.environ.get("SKIFF_IN_VM") == "1":
        raise lib.Skip("this host has cgroup v2 controllers: the tests above ran with them")
    clients.require_tools("containerd", "ctr", "containerd-shim-runc-v2")
    clients.run_tests_in_vm("test_cri.test_cri_")


def teardown():
    """Stops the daemon by pid and removes what it and the runtime left; idempotent."""
    proc = _d.get("proc")
    if proc is None:
        return []
    left = []
    if "channel" in _d:
        _d["channel"].close()
    for c in runtime_ids():
        left.append(f"runtime state {c}")
        subprocess.run([clients.RUNTIME, "--root", os.path.join(_d["dir"], "runtime-root", NS),
                        "delete", "--force", c], capture_output=True, timeout=60)
    for c in ctr("containers", "ls", "-q").stdout.split():
        left.append(f"container {c}")
        ctr("task", "kill", "-s", "SIGKILL", c)
        ctr("task", "delete", "--force", c)
        ctr("containers", "delete", c)
    clients.stop_pid(proc.pid)
    proc.wait(timeout=20)
    # the shims of stopped sandboxes exit on their own once the daemon is gone
    deadline = time.time() + 10
    while time.time() < deadline and clients.mounts_under(_d["dir"]):
        clients.unmount_under(_d["dir"])
        time.sleep(0.2)
    left += [f"mount {m}" for m in clients.mounts_under(_d["dir"])]
    for p in ("/run/containerd/fifo", "/run/containerd/s", "/run/containerd"):
        if p not in _d["run_existed"] and os.path.isdir(p):
            try:
                os.rmdir(p)
            except OSError:
                left.append(f"{p} not empty: {os.listdir(p)}")
    import shutil
    shutil.rmtree(_d["dir"], ignore_errors=True)
    _d.clear()
    return left


def test_cri_zz_teardown_leaves_nothing():
    """Last: every pod was removed by the tests; stopping the daemon leaves nothing."""
    if "proc" not in _d:
        raise lib.Skip("containerd was not started")
    left = teardown()
    assert not left, f"left behind: {left}"
