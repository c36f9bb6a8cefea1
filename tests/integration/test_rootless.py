"""Rootless: a real unprivileged user (made here with useradd, removed after) runs
busybox containers it owns with skiff, with one mapping of its own uid/gid, and
what it sees matches `runc --root DIR` run as the same user."""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import lib
from lib import SKIFF

_users = iter(range(1, 1000))
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _retry_locked(cmd):
    """useradd/userdel fail while another process holds /etc/passwd's lock: try again."""
    for _ in range(50):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or "lock" not in r.stderr.lower():
            break
        time.sleep(0.1)
    assert r.returncode == 0, f"{' '.join(cmd)}: {r.stderr}"


class User:
    """A user with a home and an XDG_RUNTIME_DIR it owns; gone after the test."""

    def __init__(self):
        if shutil.which("useradd") is None or shutil.which("runuser") is None:
            raise lib.Skip("useradd/runuser (passwd, util-linux) are not installed")
        self.name = f"skrl{os.getpid() % 100000}x{next(_users)}"
        _retry_locked(["useradd", "-m", "-s", "/bin/sh", self.name])
        lib.at_cleanup(self.remove)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.xdg = os.path.join(self.home, "run")
        os.mkdir(self.xdg, 0o700)
        os.chown(self.xdg, self.uid, self.gid)
        self.ids = []

    def run(self, *cmd, xdg=True, timeout=60):
        env = ["env", "-i", f"HOME={self.home}", f"USER={self.name}", f"PATH={ENV_PATH}"]
        if xdg:
            env.append(f"XDG_RUNTIME_DIR={self.xdg}")
        # Files, not pipes: a created container holds its stdio long after skiff exits.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run(["runuser", "-u", self.name, "--", *env, *map(str, cmd)],
                               stdout=out, stderr=err, timeout=timeout,
                               stdin=subprocess.DEVNULL, cwd=self.home)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, out.read().decode(),
                                               err.read().decode())

    def skiff(self, *args, **kw):
        if args and args[0] in ("run", "create"):
            self.ids.append(args[-1])
        return self.run(SKIFF, *args, **kw)

    def skiff_ok(self, *args, **kw):
        r = self.skiff(*args, **kw)
        assert r.returncode == 0, f"skiff {' '.join(map(str, args))} as {self.name}: {r.stderr}"
        return r

    def bundle(self, args, edit=None, name="b"):
        """A bundle in the user's home, owned by it, from `skiff spec --rootless`."""
        path = os.path.join(self.home, name)
        shutil.copytree(lib.Bundle().rootfs, os.path.join(path, "rootfs"), symlinks=True)
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", path], check=True,
                       timeout=60)
        self.run(SKIFF, "spec", "--rootless", "--bundle", path)
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        config["process"]["terminal"] = False
        config["process"]["args"] = list(args)
        if edit:
            edit(config)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(config, f)
        return path

    def remove(self):
        for cid in self.ids:
            self.skiff("delete", "--force", cid)
        _retry_locked(["userdel", "-r", self.name])
        shutil.rmtree(self.home, ignore_errors=True)


def test_rootless_spec_is_runcs_rootless_spec():
    u = User()
    for rt, sub in ((SKIFF, "s"), ("/usr/sbin/runc", "r")):
        os.mkdir(os.path.join(u.home, sub))
        os.chown(os.path.join(u.home, sub), u.uid, u.gid)
        r = u.run(rt, "spec", "--rootless", "--bundle", os.path.join(u.home, sub))
        assert r.returncode == 0, (rt, r.stderr)
    got, want = ({m["destination"]: m for m in json.load(
        open(os.path.join(u.home, d, "config.json")))["mounts"]} for d in "sr")
    s = json.load(open(os.path.join(u.home, "s", "config.json")))
    w = json.load(open(os.path.join(u.home, "r", "config.json")))
    assert s["linux"]["uidMappings"] == [{"containerID": 0, "hostID": u.uid, "size": 1}]
    assert s["linux"]["gidMappings"] == [{"containerID": 0, "hostID": u.gid, "size": 1}]
    assert s["linux"]["uidMappings"] == w["linux"]["uidMappings"]
    assert s["linux"]["gidMappings"] == w["linux"]["gidMappings"]
    assert "resources" not in s["linux"] and "resources" not in w["linux"]
    # skiff's default spec has the cgroup namespace runc 1.1.5's lacks (newer runc has it)
    kinds = [n["type"] for n in s["linux"]["namespaces"]]
    assert [k for k in kinds if k != "cgroup"] == [n["type"] for n in w["linux"]["namespaces"]]
    assert "network" not in kinds and kinds[-1] == "user", kinds
    # /sys is the host's, bound read-only; no mount keeps a uid=/gid= the mapping lacks
    assert got == want, (got, want)


def test_rootless_state_root_is_xdg_runtime_dir_and_unset_is_one_clear_error():
    u = User()
    b = u.bundle(["true"])
    r = u.skiff("run", "--bundle", b, "x", xdg=False)
    assert r.returncode == 1, r
    assert r.stderr.count("\n") == 1 and "XDG_RUNTIME_DIR" in r.stderr, r.stderr
    assert "--root" in r.stderr, r.stderr
    # spec needs no state root
    r = u.skiff("spec", "--rootless", "--bundle", u.home, xdg=False)
    assert r.returncode == 0 and os.path.exists(os.path.join(u.home, "config.json")), r
    assert u.skiff("features", xdg=False).returncode == 0
    r = u.skiff("list", xdg=False)
    assert r.returncode == 1 and "XDG_RUNTIME_DIR" in r.stderr, r
    assert os.listdir(u.xdg) == []
    u.skiff_ok("run", "--bundle", b, "x1")
    st = os.stat(os.path.join(u.xdg, "skiff"))
    assert (st.st_uid, st.st_mode & 0o777) == (u.uid, 0o700), st
    # run deleted what it made; the root stays, the user's alone
    assert [d for d in os.listdir(os.path.join(u.xdg, "skiff")) if d[0] != "."] == []


def test_rootless_lifecycle_with_the_callers_ids_mapped_to_root():
    u = User()
    b = u.bundle(["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map; "
                              "grep -c . /proc/self/cgroup; exec sleep 100"])
    u.skiff_ok("create", "--bundle", b, "c")
    st = json.loads(u.skiff_ok("state", "c").stdout)
    assert st["status"] == "created" and st["bundle"] == b, st
    pid = st["pid"]
    assert os.stat(f"/proc/{pid}").st_uid == u.uid
    # no writable cgroup, no resources asked: the init stays in the caller's cgroups
    with open(f"/proc/{pid}/cgroup") as f:
        mine = f.read()
    r = u.run("cat", "/proc/self/cgroup")
    assert mine == r.stdout, (mine, r.stdout)
    u.skiff_ok("start", "c")
    lines = u.skiff_ok("list").stdout.splitlines()
    assert len(lines) == 2 and lines[1].split()[:3] == ["c", str(pid), "running"], lines
    assert lines[1].split()[-1] == u.name, lines
    # exec: in the container's pid namespace, as its root, the exit status passed on
    r = u.skiff_ok("exec", "c", "sh", "-c", "id -u; readlink /proc/self/ns/pid; "
                                            "readlink /proc/1/ns/pid; ls /proc | grep -c '^[0-9]'")
    out = r.stdout.split()
    assert out[0] == "0" and out[1] == out[2] and int(out[3]) <= 5, out  # not the host's hundreds
    assert u.skiff("exec", "c", "sh", "-c", "exit 7").returncode == 7
    r = u.skiff("exec", "c", "/nope")
    assert r.returncode == 255 and "/nope" in r.stderr, r
    u.skiff_ok("kill", "c", "KILL")
    for _ in range(100):
        if json.loads(u.skiff_ok("state", "c").stdout)["status"] == "stopped":
            break
        time.sleep(0.05)
    assert json.loads(u.skiff_ok("state", "c").stdout)["status"] == "stopped"
    u.skiff_ok("delete", "c")
    assert u.skiff_ok("list", "-q").stdout == ""
    b2 = u.bundle(["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map; "
                               "grep ' /sys sysfs ' /proc/self/mounts"], name="b2")
    r = u.skiff_ok("run", "--bundle", b2, "r")
    w = u.run("/usr/sbin/runc", "--root", os.path.join(u.xdg, "runc"), "run", "--bundle", b2,
              "r")
    assert w.returncode == 0, w.stderr
    out = r.stdout.split()
    assert out[:3] == ["uid=0(root)", "gid=0(root)", "groups=0(root)"], out
    assert out[3:9] == ["0", str(u.uid), "1", "0", str(u.gid), "1"], out
    assert r.stdout == w.stdout, (r.stdout, w.stdout)
    assert out[9:11] == ["sysfs", "/sys"] and out[12].startswith("ro,"), out


def test_rootless_limits_without_a_cgroup_fail_naming_the_controller():
    u = User()
    b = u.bundle(["true"], edit=lambda c: c["linux"].__setitem__(
        "resources", {"memory": {"limit": 100 << 20}}))
    r = u.skiff("run", "--bundle", b, "m")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "memory" in r.stderr and "linux.resources" in r.stderr, r.stderr
    assert os.listdir(os.path.join(u.xdg, "skiff")) == [], "state left behind"
    w = u.run("/usr/sbin/runc", "--root", os.path.join(u.xdg, "runc"), "run", "--bundle", b,
              "m")
    assert w.returncode != 0 and "memory" in w.stderr, w.stderr
    # device rules alone need no cgroup: the user namespace bounds the devices
    b = u.bundle(["true"], name="d", edit=lambda c: c["linux"].__setitem__(
        "resources", {"devices": [{"allow": False, "access": "rwm"}]}))
    u.skiff_ok("run", "--bundle", b, "d")


def test_rootless_user_cannot_see_or_touch_roots_containers():
    u = User()
    b = lib.Bundle(["sleep", "100"])
    cid = lib.new_id()
    lib.skiff_ok("run", "-d", "--bundle", b.path, cid)
    assert os.stat(lib.ROOT).st_mode & 0o777 == 0o700
    for args in (["list"], ["state", cid], ["kill", cid, "KILL"], ["delete", "--force", cid]):
        r = u.skiff("--root", lib.ROOT, *args)
        assert r.returncode == 1 and "Permission denied" in r.stderr, (args, r)
    assert lib.state(cid)["status"] == "running"
    # and its own default root lists nothing of root's
    assert u.skiff_ok("list", "-q").stdout == ""


def test_rootless_rlimits_up_to_the_callers_hard_limit():
    u = User()
    hard = int(u.run("sh", "-c", "ulimit -Hn").stdout)

    def nofile(n):
        return lambda c: c["process"].__setitem__(
            "rlimits", [{"type": "RLIMIT_NOFILE", "hard": n, "soft": n}])
    b = u.bundle(["sh", "-c", "ulimit -Hn; ulimit -Sn"], edit=nofile(hard))
    assert u.skiff_ok("run", "--bundle", b, "ok").stdout.split() == [str(hard)] * 2
    b = u.bundle(["true"], edit=nofile(hard + 1), name="over")
    r = u.skiff("run", "--bundle", b, "over")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "process.rlimits[0]" in r.stderr and f"hard limit {hard}" in r.stderr, r.stderr
    assert [d for d in os.listdir(os.path.join(u.xdg, "skiff")) if d[0] != "."] == []
    w = u.run("/usr/sbin/runc", "--root", os.path.join(u.xdg, "runc"), "run", "--bundle", b,
              "over")
    assert w.returncode != 0 and "rlimit" in w.stderr, w.stderr


def _subid_range(user, path):
    """The user's range in /etc/subuid or /etc/subgid, added when useradd gave none;
    the user's lines are removed again after the test."""
    with open(path) as f:
        lines = f.read().splitlines()
    def drop():
        with open(path) as f:
            keep = [x for x in f.read().splitlines() if x.split(":")[0] != user.name]
        with open(path, "w") as f:
            f.write("".join(x + "\n" for x in keep))
    lib.at_cleanup(drop)
    for x in lines:
        name, start, count = x.split(":")
        if name == user.name and int(count) >= 65536:
            return int(start)
    top = max([int(x.split(":")[1]) + int(x.split(":")[2]) for x in lines if x.count(":") == 2]
              + [100000])
    with open(path, "a") as f:
        f.write(f"{user.name}:{top}:65536\n")
    return top


def test_rootless_multi_range_mappings_through_newuidmap():
    if shutil.which("newuidmap") is None or shutil.which("newgidmap") is None:
        raise lib.Skip("newuidmap/newgidmap (Debian uidmap) are not installed")
    u = User()
    sub_u, sub_g = _subid_range(u, "/etc/subuid"), _subid_range(u, "/etc/subgid")

    def maps(uid_base, gid_base, user=None):
        def edit(c):
            c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": u.uid, "size": 1},
                                         {"containerID": 1, "hostID": uid_base, "size": 65536}]
            c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": u.gid, "size": 1},
                                         {"containerID": 1, "hostID": gid_base, "size": 65536}]
            if user:
                c["process"]["user"] = {"uid": user, "gid": user}
        return edit
    b = u.bundle(["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
                              "exec sleep 100"], edit=maps(sub_u, sub_g, 1000))
    u.skiff_ok("create", "--bundle", b, "m")
    pid = json.loads(u.skiff_ok("state", "m").stdout)["pid"]
    u.skiff_ok("start", "m")
    # container uid 1000 is the 999th id of the user's subordinate range on the host
    for _ in range(100):
        with open(f"/proc/{pid}/status") as f:
            st = dict(x.split(":", 1) for x in f.read().splitlines())
        if st["Uid"].split()[0] == str(sub_u + 999):
            break
        time.sleep(0.05)
    assert st["Uid"].split()[0] == str(sub_u + 999) and st["Gid"].split()[0] == str(sub_g + 999)
    u.skiff_ok("delete", "--force", "m")
    # a range /etc/subuid does not grant: refused by newuidmap, said in one line
    b = u.bundle(["true"], edit=maps(sub_u + 65536 * 4, sub_g), name="bad")
    r = u.skiff("run", "--bundle", b, "bad")
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "linux.uidMappings" in r.stderr and "newuidmap" in r.stderr, r.stderr
    assert "/etc/subuid" in r.stderr, r.stderr
    assert [d for d in os.listdir(os.path.join(u.xdg, "skiff")) if d[0] != "."] == []
    w = u.run("/usr/sbin/runc", "--root", os.path.join(u.xdg, "runc"), "run", "--bundle", b,
              "bad")
    assert w.returncode != 0 and "newuid" in w.stderr, w.stderr


def test_rootless_mounts_and_devices_the_kernel_allows_in_a_user_namespace():
    u = User()
    locked = os.path.join(u.home, "locked-src")  # unmounted before the user goes
    os.mkdir(locked)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,size=1m", "tmpfs",
                    locked], check=True, timeout=30)
    lib.at_cleanup(lambda: subprocess.run(["umount", locked], timeout=30))

    def edit(c, with_locked):
        c["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                  "fileMode": 0o666, "uid": 0, "gid": 0}]
        c["mounts"] += [
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "size=1m"]},
            {"destination": "/mnt", "type": "bind", "source": u.home, "options": ["rbind", "ro"]}]
        if with_locked:
            c["mounts"].append({"destination": "/mnt2", "type": "bind", "source": locked,
                                "options": ["bind", "ro"]})
    show = ("ls -ln /dev/fuse /dev/null | cut -c1-10,35-; "
            "grep -E ' (/tmp|/dev/mqueue|/mnt|/mnt2|/proc|/dev) ' /proc/self/mounts")
    b = u.bundle(["sh", "-c", show], edit=lambda c: edit(c, False))
    r = u.skiff_ok("run", "--bundle", b, "m")
    w = u.run("/usr/sbin/runc", "--root", os.path.join(u.xdg, "runc"), "run", "--bundle", b, "m")
    assert w.returncode == 0, w.stderr
    # devices are the host's nodes bound in (no mknod in a user namespace), as runc
    assert "10, 229" in r.stdout and "1,   3" in r.stdout, r.stdout
    assert r.stdout == w.stdout, (r.stdout, w.stdout)
    # a bind of a nosuid,nodev,noexec mount keeps those locked flags instead of EPERM
    # (runc 1.1.5 fails here; newer runc and crun carry them over too)
    b = u.bundle(["sh", "-c", "grep ' /mnt2 ' /proc/self/mounts"], name="locked",
                 edit=lambda c: edit(c, True))
    out = u.skiff_ok("run", "--bundle", b, "l").stdout.split()
    assert out[1] == "/mnt2", out
    assert set(out[3].split(",")) >= {"ro", "nosuid", "nodev", "noexec"}, out


def test_rootless_tty_hooks_seccomp_ps():
    u = User()
    hook_out = os.path.join(u.home, "hook-state")

    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
        c["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                         "args": ["sh", "-c", f"cat > {hook_out}"]}]}
    b = u.bundle(["sleep", "100"], edit=edit)
    u.skiff_ok("run", "-d", "--bundle", b, "h")
    with open(hook_out) as f:
        assert json.load(f)["id"] == "h"  # the hook ran, as the user, with the state
    assert os.stat(hook_out).st_uid == u.uid
    r = u.skiff("exec", "h", "mkdir", "/dev/shm/x")
    assert r.returncode == 1 and "Operation not permitted" in r.stderr, r
    assert u.skiff("exec", "h", "touch", "/dev/shm/x").returncode == 0
    ps = u.skiff_ok("ps", "h").stdout.splitlines()
    assert len(ps) == 2 and ps[1].split()[1] != "1" and ps[1].endswith("sleep 100"), ps
    # without a cgroup pause has nothing to freeze: one line saying so, and what is missing
    for cmd in (["pause", "h"], ["events", "--stats", "h"], ["update", "--pids-limit", "9", "h"]):
        r = u.skiff(*cmd)
        assert r.returncode == 1 and "no cgroup" in r.stderr and r.stderr.count("\n") == 1, r
        assert "delegated to its user" in r.stderr, r.stderr
    u.skiff_ok("delete", "--force", "h")
    if shutil.which("script") is None:
        raise lib.Skip("script (util-linux) is not installed: no tty check")
    t = u.bundle(["sh", "-c", "tty; ls -ln $(tty) | cut -c1-20"], name="t",
                 edit=lambda c: c["process"].__setitem__("terminal", True))
    outs = []
    for rt, root in ((SKIFF, os.path.join(u.xdg, "skiff")), ("/usr/sbin/runc",
                                                             os.path.join(u.xdg, "runc"))):
        r = u.run("script", "-qec", f"{rt} --root {root} run --bundle {t} t", "/dev/null")
        assert r.returncode == 0, (rt, r)
        # the pty may echo a NUL as "^@", whichever runtime runs: not the container's output
        outs.append(r.stdout.replace("\x00", "").replace("^@", "").replace("\r", ""))
    assert "/dev/pts/0" in outs[0] and outs[0] == outs[1], outs


def _kill_pause_process(u):
    """Rootless podman leaves a pause process holding its user namespace: ours, by pid."""
    for dirpath, _, files in os.walk(u.xdg):
        if "pause.pid" in files:
            try:
                with open(os.path.join(dirpath, "pause.pid")) as f:
                    os.kill(int(f.read().strip()), 9)
            except (OSError, ValueError):
                pass


def test_rootless_podman_run_exec_stop_rm():
    """Rootless podman runs skiff as root of its own user namespace (subuid-mapped)."""
    import fcntl
    import clients
    if shutil.which("podman") is None or shutil.which("newuidmap") is None:
        raise lib.Skip("podman or newuidmap (uidmap) is not installed")
    u = User()
    _subid_range(u, "/etc/subuid")
    _subid_range(u, "/etc/subgid")
    lib.at_cleanup(lambda: _kill_pause_process(u))
    archive = os.path.join(u.home, "image.tar")
    clients.oci_archive(archive)
    os.chown(archive, u.uid, u.gid)
    pod = ["podman", "--root", os.path.join(u.home, "storage"), "--runroot",
           os.path.join(u.xdg, "runroot"), "--storage-driver", "vfs", "--runtime", SKIFF,
           "--cgroup-manager", "cgroupfs"]
    # One podman at a time across concurrent runs; locking podman's own binary leaves
    # no lock file behind.
    with open(shutil.which("podman"), "rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = u.run(*pod, "load", "-i", archive, timeout=120)
        assert r.returncode == 0, r.stderr
        r = u.run(*pod, "run", "--rm", clients.IMAGE, "sh", "-c",
                  "id -u; cat /proc/self/uid_map; ls -ln /dev/null | cut -c1-10")
        assert r.returncode == 0, r.stderr
        out = r.stdout.split()
        assert out[0] == "0" and out[1:4] == ["0", str(u.uid), "1"], out
        assert out[-1] == "crw-rw-rw-", out  # the host's /dev/null, bound in
        r = u.run(*pod, "run", "-d", "--name", "p", clients.IMAGE, "sleep", "1000")
        assert r.returncode == 0, r.stderr
        r = u.run(*pod, "exec", "p", "sh", "-c", "echo $$; exit 3")
        assert r.returncode == 3 and r.stdout.strip() != "1" and r.stderr == "", r
        r = u.run(*pod, "stop", "-t", "1", "p", timeout=60)
        assert r.returncode == 0, r.stderr
        assert u.run(*pod, "rm", "p").returncode == 0
        assert u.run(*pod, "ps", "-aq").stdout.strip() == ""


# ---- a delegated cgroup v2 subtree, in the tests/vm VM (pure cgroup v2) ----

# As root in the VM: a user (the VM's /etc is a throw-away overlay), a cgroup /deleg
# delegated to it as systemd's Delegate=yes does (the directory and its cgroup.procs,
# cgroup.subtree_control and cgroup.threads chowned), and the user's shell in
# /deleg/shell, so that moving a process between its cgroups needs only /deleg.
DELEGATE_SCRIPT = r"""
set -u
useradd -m -s /bin/sh {user} || exit 3
H=$(getent passwd {user} | cut -d: -f6)
mkdir -p $H/run && cp -a {rootfs} $H/rootfs && chown -R {user}: $H
CG=/sys/fs/cgroup/deleg
mkdir $CG $CG/shell
chown {user}: $CG $CG/cgroup.procs $CG/cgroup.subtree_control $CG/cgroup.threads
chown -R {user}: $CG/shell
echo "+cpu +memory +pids" > $CG/cgroup.subtree_control
cp {script} $H/t.sh && chown {user}: $H/t.sh
sh -c "echo \$\$ > $CG/shell/cgroup.procs; exec runuser -u {user} -- env -i HOME=$H \
  USER={user} PATH=/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR=$H/run sh $H/t.sh" 2>&1
"""

# As the user: one section per step, "==> STEP", its output, "==< rc=N".
USER_SCRIPT = r"""
S={skiff}
CG=/sys/fs/cgroup/deleg
cd $HOME
step() {{ name=$1; shift; echo "==> $name"; "$@" 2>&1; echo "==< rc=$?"; }}
bundle() {{
  mkdir -p $1 && ln -s ../rootfs $1/rootfs && $S spec --rootless --bundle $1 &&
  python3 -c "import json, sys; c = json.load(open('$1/config.json'));
c['process'].update(terminal=False, args=['sleep', '100']); c['linux'].update(json.loads(sys.argv[1]))
json.dump(c, open('$1/config.json', 'w'))" "$2"
}}
bundle d '{{"cgroupsPath": "/deleg/c1", "resources": {{"memory": {{"limit": 104857600}}, "pids": {{"limit": 50}}}}}}'
bundle n '{{"cgroupsPath": "/elsewhere/c2"}}'
step shell cat /proc/self/cgroup
step run $S run -d --bundle d c1
step procs sh -c "cat $CG/c1/cgroup.procs; $S state c1"
step pause $S pause c1
step paused sh -c "$S state c1; cat $CG/c1/cgroup.freeze"
step resume $S resume c1
step resumed sh -c "$S state c1; cat $CG/c1/cgroup.freeze"
step stats $S events --stats c1
step update $S update --memory 200M --pids-limit 60 c1
step limits cat $CG/c1/memory.max $CG/c1/pids.max
step stream timeout 3 $S events --interval 1s c1
step ps $S ps c1
step delete sh -c "$S delete --force c1 && ls $CG"
step undelegated $S run -d --bundle n c2
step pause2 $S pause c2
step events2 $S events --stats c2
$S delete --force c2 >/dev/null 2>&1
"""


def test_rootless_pause_events_update_in_a_delegated_cgroup_in_the_vm():
    import vm  # tests/integration/vm.py
    user = "skrldeleg"
    script = os.path.join(lib.WORK, "rootless-deleg.sh")
    with open(script, "w") as f:
        f.write(USER_SCRIPT.format(skiff=SKIFF))
    body = DELEGATE_SCRIPT.format(user=user, rootfs=lib.Bundle().rootfs, script=script)
    status, out = vm.run_script("rootless-deleg-root.sh", body)
    assert status == 0, out[-3000:]
    sec = {name: runs[0] for name, runs in vm.sections(out).items()}
    for step in ("shell", "run", "procs", "pause", "paused", "resume", "resumed", "stats",
                 "update", "limits", "ps", "delete", "undelegated"):
        assert sec[step][1] == 0, (step, sec[step][0])
    assert sec["shell"][0] == "0::/deleg/shell\n", sec["shell"]
    # The init is in the delegated cgroup skiff made for it.
    procs, state = sec["procs"][0].split("\n", 1)
    st = json.loads(state)
    assert procs == str(st["pid"]) and st["status"] == "running", sec["procs"]
    paused, freeze = sec["paused"][0].rsplit("}", 1)
    assert json.loads(paused + "}")["status"] == "paused" and freeze.strip() == "1", sec["paused"]
    resumed, freeze = sec["resumed"][0].rsplit("}", 1)
    assert json.loads(resumed + "}")["status"] == "running" and freeze.strip() == "0"
    stats = json.loads(sec["stats"][0])
    assert stats["type"] == "stats" and stats["id"] == "c1", stats
    assert stats["data"]["memory"]["usage"]["limit"] == 100 << 20, stats
    assert stats["data"]["pids"]["current"] >= 1 and stats["data"]["pids"]["limit"] == 50
    assert sec["limits"][0].split() == [str(200 << 20), "60"], sec["limits"]
    # The stream goes on until timeout(1) ends it.
    stream, rc = sec["stream"]
    lines = [json.loads(x) for x in stream.splitlines() if x.startswith("{")]
    assert rc == 124 and lines and lines[0]["data"]["memory"]["usage"]["limit"] == 200 << 20
    assert sec["ps"][0].splitlines()[1].endswith("sleep 100"), sec["ps"]
    assert "c1" not in sec["delete"][0].split(), sec["delete"]
    # Outside the delegation: no cgroup, and pause/events say what is missing.
    for step in ("pause2", "events2"):
        text, rc = sec[step]
        assert rc == 1 and text.count("\n") == 1, (step, text)
        assert "has no cgroup" in text and "delegated" in text, (step, text)
