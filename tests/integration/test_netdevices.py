"""linux.netDevices (spec 1.3.0): an interface of skiff's network namespace
moved into the container's, renamed, with its permanent global addresses, up.

skiff runs inside a throw-away network namespace (`unshare --net`) that owns
the interfaces it moves: the host's interfaces are never touched.  The
kernel here may lack the dummy driver; one end of a veth pair serves then.
"""
import os
import re
import shutil
import subprocess

import lib
from lib import Bundle, new_id

# Makes interface $1 in the current namespace: a dummy, else a veth end.
MAKE_DEV = ('mk() { ip link add "$1" type dummy 2>/dev/null || '
            'ip link add "$1-peer" type veth peer name "$1"; }')


def in_throwaway_netns(script):
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        raise lib.Skip("needs iproute2's ip and util-linux's unshare")
    full = f"set -e\n{MAKE_DEV}\nSKIFF='{lib.SKIFF} --root {lib.ROOT}'\n{script}"
    return subprocess.run(["unshare", "--net", "sh", "-c", full], capture_output=True,
                          text=True, timeout=120)


def bundle(devices, args=("sh", "-c", "ip addr show"), edit=None):
    def e(c):
        c["linux"]["netDevices"] = devices
        if edit:
            edit(c)
    return Bundle(list(args), edit=e)


def test_net_devices_are_moved_renamed_addressed_and_up():
    b = bundle({"nd1": {"name": "ctr0"}, "nd2": {"name": "eth%d"}, "nd3": {}})
    r = in_throwaway_netns(f"""
mk nd1; mk nd2; mk nd3
ip addr add 10.9.8.7/24 dev nd1
ip -6 addr add fd00::7/64 dev nd1
ip addr add 10.1.1.1/16 dev nd2
$SKIFF run --bundle {b.path} {new_id()}
echo "left: $(ip -o link show | grep -c 'nd[123]:' || true)"
""")
    assert r.returncode == 0, r
    out = r.stdout
    links = dict(re.findall(r"^\d+: ([^:@]+)[^<]*<([^>]*)>", out, re.M))
    assert set(links) == {"lo", "ctr0", "eth0", "nd3"}, out
    for name in ("ctr0", "eth0", "nd3"):
        assert "UP" in links[name].split(","), (name, out)
    assert re.search(r"inet 10\.9\.8\.7/24 .*ctr0", out), out
    assert "inet6 fd00::7/64" in out, out
    assert re.search(r"inet 10\.1\.1\.1/16 .*eth0", out), out
    # They left skiff's namespace (the kernel destroys virtual ones with the container's).
    assert "left: 0" in out, out


def test_net_devices_work_with_a_user_namespace():
    def userns(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b = bundle({"nd1": {"name": "ctr0"}}, edit=userns)
    for d, dirs, files in os.walk(b.rootfs):
        for name in [d] + [os.path.join(d, n) for n in dirs + files]:
            os.lchown(name, 100000, 100000)
    # The mapped root has no rights over host-owned inodes: it needs search on the path.
    os.chmod(lib.WORK, 0o711)
    os.chmod(b.path, 0o711)
    r = in_throwaway_netns(f"mk nd1\nip addr add 10.9.8.7/24 dev nd1\n"
                           f"$SKIFF run --bundle {b.path} {new_id()}")
    assert r.returncode == 0, r
    assert re.search(r"inet 10\.9\.8\.7/24 .*ctr0", r.stdout), r.stdout


def _one_error(r, *words):
    assert r.returncode == 1, r
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words), r.stderr
    return err[0]


def test_net_devices_errors_leave_nothing_behind():
    cases = [
        ({"nd9": {}}, ("linux.netDevices", "nd9", "no such interface")),
        ({"nd1": {"name": "bad/name"}}, ("linux.netDevices.nd1.name", "bad/name")),
        ({"nd1": {"name": "x"}, "nd2": {"name": "x"}}, ("two devices", "`x`")),
        # The container already has an `lo`: the kernel refuses, create undoes everything.
        ({"nd1": {"name": "lo"}}, ("nd1", "already has a device `lo`")),
    ]
    for devices, words in cases:
        cid = new_id()
        b = bundle(devices)
        r = in_throwaway_netns(f"mk nd1; mk nd2\n$SKIFF run --bundle {b.path} {cid} || true\n"
                               "ip -o link show | grep -c 'nd1:'")
        _one_error(subprocess.CompletedProcess(r.args, 1, r.stdout, r.stderr), *words)
        assert not os.path.exists(os.path.join(lib.ROOT, cid)), cid
        if "lo" not in str(devices):
            assert r.stdout.strip().endswith("1"), r.stdout  # nd1 was not moved
    # Without a network namespace of its own there is nowhere to move to.
    b = bundle({"nd1": {}}, edit=lambda c: c["linux"].update(
        namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "network"]))
    cid = new_id()
    r = in_throwaway_netns(f"mk nd1\n$SKIFF run --bundle {b.path} {cid} || true")
    _one_error(subprocess.CompletedProcess(r.args, 1, r.stdout, r.stderr),
               "linux.netDevices", "network namespace")
    assert not os.path.exists(os.path.join(lib.ROOT, cid))
