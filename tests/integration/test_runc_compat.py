"""Behaviours callers rely on because runc has them (issue 12, §2).

Each test states what runc 1.1 does with the same bundle (seen by running
/usr/sbin/runc on it) and checks that skiff does the same, from inside the
container.
"""
import json
import os
import shlex
import stat

import lib
from lib import Bundle, new_id, skiff, skiff_ok


def run_ok(b, *extra):
    r = skiff("run", *extra, "--bundle", b.path, new_id())
    assert r.returncode == 0, f"run failed ({r.returncode}): {r.stderr}{r.stdout}"
    return r.stdout


def test_mount_data_on_a_bind_is_ignored_not_refused():
    # runc: "mode=755" on a bind is data for a filesystem that a bind does not
    # create; mount(2) ignores it and the bind is made.
    src = os.path.join(lib.WORK, "bind-data-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "seen"), "w") as f:
        f.write("from the host\n")
    b = Bundle(["cat", "/mnt/seen"], edit=lambda c: c["mounts"].append(
        {"destination": "/mnt", "type": "bind", "source": src,
         "options": ["rbind", "ro", "mode=755", "size=64k"]}))
    assert run_ok(b) == "from the host\n"


def test_exec_into_a_created_container():
    # runc: exec works before start; the init keeps waiting for `start`.
    b = Bundle(["sh", "-c", "echo started > /tmp/mark; sleep 30"])
    b.config["root"]["readonly"] = False
    b.write()
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    r = skiff_ok("exec", cid, "sh", "-c", "echo in-$(hostname); ls /tmp")
    assert r.stdout == "in-skiff\n", r.stdout
    assert lib.state(cid)["status"] == "created"
    skiff_ok("start", cid)
    r = skiff_ok("exec", cid, "sh", "-c", "while [ ! -e /tmp/mark ]; do sleep 0.05; done; "
                 "cat /tmp/mark")
    assert r.stdout == "started\n", r.stdout


def _private_root(b):
    os.chmod(os.path.join(b.rootfs, "root"), 0o700)


def test_cwd_the_user_cannot_enter_is_entered_before_the_uid_changes():
    # runc: chdir as root first; the process then works in /root (mode 0700)
    # as nobody, for run and for exec.
    def edit(c):
        c["process"]["cwd"] = "/root"
        c["process"]["user"] = {"uid": 65534, "gid": 65534}
    b = Bundle(["sh", "-c", "pwd; id -u; ls /root 2>/dev/null || echo no-read"], edit=edit)
    _private_root(b)
    assert run_ok(b) == "/root\n65534\nno-read\n"
    b = Bundle(["sleep", "30"])
    _private_root(b)
    cid = new_id()
    skiff_ok("run", "--detach", "--bundle", b.path, cid)
    r = skiff_ok("exec", "--user", "65534:65534", "--cwd", "/root", cid, "sh", "-c", "pwd; id -u")
    assert r.stdout == "/root\n65534\n", r.stdout


def test_home_comes_from_the_containers_passwd_when_env_has_none():
    # runc: HOME from /etc/passwd for the process uid, "/" without an entry,
    # the env's own HOME kept; for run and exec alike.
    b = Bundle(["sh", "-c", "echo $HOME"])
    with open(os.path.join(b.rootfs, "etc", "passwd"), "a") as f:
        f.write("me:x:1234:1234:me:/home/me:/bin/sh\n")
    assert run_ok(b) == "/root\n"
    b.config["process"]["user"] = {"uid": 1234, "gid": 1234}
    b.write()
    assert run_ok(b) == "/home/me\n"
    b.config["process"]["user"] = {"uid": 4321, "gid": 4321}
    b.write()
    assert run_ok(b) == "/\n"
    b.config["process"]["env"].append("HOME=/mine")
    b.write()
    assert run_ok(b) == "/mine\n"
    b = Bundle(["sleep", "30"])
    with open(os.path.join(b.rootfs, "etc", "passwd"), "a") as f:
        f.write("me:x:1234:1234:me:/home/me:/bin/sh\n")
    cid = new_id()
    skiff_ok("run", "--detach", "--bundle", b.path, cid)
    assert skiff_ok("exec", cid, "sh", "-c", "echo $HOME").stdout == "/root\n"
    assert skiff_ok("exec", "--user", "1234", cid, "sh", "-c", "echo $HOME").stdout == "/home/me\n"
    assert skiff_ok("exec", "--env", "HOME=/x", cid, "sh", "-c", "echo $HOME").stdout == "/x\n"


def test_missing_cwd_is_created_inside_the_rootfs():
    # runc and crun: mkdir -p of process.cwd inside the rootfs (root-owned, 0755),
    # even with a read-only root; the process starts there.
    def edit(c):
        c["process"]["cwd"] = "/no/such/dir"
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
    b = Bundle(["sh", "-c", "pwd; stat -c '%u %a' /no/such/dir"], edit=edit)
    assert run_ok(b) == "/no/such/dir\n0 755\n"
    assert os.path.isdir(os.path.join(b.rootfs, "no", "such", "dir"))


def test_bind_source_only_the_host_root_reaches_works_in_a_user_namespace():
    # runc opens bind sources before the init enters the user namespace: a
    # source under a 0700 directory of the host's root is mounted all the same.
    # The clone made on the host must not stay a peer of a shared host mount:
    # a mount the container makes under it never reaches the host.
    import subprocess
    from test_isolation import host_mounts, userns_bundle
    secret = os.path.join(lib.WORK, "root-only")
    os.makedirs(secret, exist_ok=True)
    os.chmod(secret, 0o700)
    inner = os.path.join(secret, "inner")
    os.makedirs(inner, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "skiff-test", inner], check=True,
                   timeout=60)
    try:
        subprocess.run(["mount", "--make-shared", inner], check=True, timeout=60)
        os.chown(inner, 100000, 100000)
        with open(os.path.join(inner, "seen"), "w") as f:
            f.write("reached\n")

        def edit(c):
            c["mounts"].append({"destination": "/mnt", "type": "bind", "source": inner,
                                "options": ["rbind", "rw"]})
            for k in ("bounding", "effective", "permitted"):
                c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
        script = ("cat /mnt/seen; mkdir -p /mnt/sub && mount -t tmpfs tmpfs /mnt/sub && "
                  "echo mounted")
        b = userns_bundle(["sh", "-c", script], edit=edit)
        before = host_mounts()
        r = skiff("run", "--bundle", b.path, new_id())
        assert r.returncode == 0, r
        assert r.stdout == "reached\nmounted\n", r.stdout
        assert host_mounts() == before, "a container mount reached the host"
    finally:
        subprocess.run(["umount", "-R", "-l", inner], timeout=60)


def test_read_only_dev_bind_takes_a_devpts_mount_below_it():
    # crun: a read-only bind turns read-only after every mount is made, so devpts
    # on /dev/pts gets its mount point in a read-only /dev bind that lacks one.
    dev = os.path.join(lib.WORK, "ro-dev")
    os.makedirs(dev, exist_ok=True)
    os.mknod(os.path.join(dev, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))

    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if not m["destination"].startswith("/dev")]
        c["mounts"] += [
            {"destination": "/dev", "type": "bind", "source": dev, "options": ["rbind", "ro"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}]
    b = Bundle(["sh", "-c", "grep -E ' /dev(/pts)? ' /proc/self/mountinfo | cut -d' ' -f5,6,9; "
                "touch /dev/x 2>/dev/null || echo read-only"], edit=edit)
    out = run_ok(b).splitlines()
    assert out[0].startswith("/dev ro,") and out[1].startswith("/dev/pts rw,"), out
    assert out[1].endswith(" devpts") and out[2] == "read-only", out


def _in_a_terminal(*args):
    import subprocess
    if not os.path.exists("/usr/bin/script"):
        raise lib.Skip("script(1) from util-linux is not installed")
    cmd = shlex.join([lib.SKIFF, "--root", lib.ROOT, *args])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    return r.stdout.replace("\x00", "").replace("^@", "").replace("\r", "")


def test_console_is_owned_by_the_process_uid():
    # runc: the pty's owner is the process's uid; its group is what devpts gave
    # it (gid=5, the tty group, in runc's default config).
    def edit(c):
        c["process"]["terminal"] = True
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
        next(m for m in c["mounts"] if m["destination"] == "/dev/pts")["options"].append("gid=5")
    b = Bundle(["sh", "-c", "stat -c '%u %g' $(tty) /dev/console"], edit=edit)
    assert _in_a_terminal("run", "--bundle", b.path, new_id()) == "1000 5\n1000 5\n"
    b = Bundle(["sleep", "30"])
    cid = new_id()
    skiff_ok("run", "--detach", "--bundle", b.path, cid)
    out = _in_a_terminal("exec", "--tty", "--user", "1234:1234", cid, "sh", "-c",
                         "stat -c %u $(tty)")
    assert out == "1234\n", out


def _skiff_with_groups(groups, *args):
    import subprocess
    with open(os.path.join(lib.WORK, "groups.out"), "w+") as out:
        p = subprocess.run([lib.SKIFF, "--root", lib.ROOT, *args], stdout=out,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                           timeout=60, preexec_fn=lambda: os.setgroups(groups))
        out.seek(0)
        assert p.returncode == 0, p.stderr
        return json.loads(out.read())


def test_keep_original_groups_annotation_keeps_the_callers_groups():
    # crun (and podman --group-add keep-groups, which sends the annotation):
    # no setgroups, the process keeps the supplementary groups of the caller.
    def edit(c):
        c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [7]}
    b = Bundle(["probe", "groups"], edit=edit)
    assert _skiff_with_groups([4242, 4343], "run", "--bundle", b.path, new_id()) == \
        {"groups": [7]}
    b.config["annotations"] = {"run.oci.keep_original_groups": "1"}
    b.write()
    got = _skiff_with_groups([4242, 4343], "run", "--bundle", b.path, new_id())
    assert sorted(got["groups"]) == [4242, 4343], got
    b = Bundle(["sleep", "30"], edit=lambda c: c.__setitem__(
        "annotations", {"run.oci.keep_original_groups": "1"}))
    cid = new_id()
    skiff_ok("run", "--detach", "--bundle", b.path, cid)
    got = _skiff_with_groups([4545], "exec", "--user", "1000:1000", cid, "probe", "groups")
    assert got["groups"] == [4545], got


def test_config_without_a_mount_namespace_shares_the_runtimes():
    # runc and crun run it in the runtime's mount namespace (chroot, no
    # pivot_root).  Run from a private namespace of the test's own, so the
    # mounts it makes there go away with it; the host must not change.
    import subprocess
    from test_isolation import host_mounts

    def edit(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"]
                                    if n["type"] != "mount"]
        del c["linux"]["maskedPaths"], c["linux"]["readonlyPaths"]
    b = Bundle(["sh", "-c", "readlink /proc/self/ns/mnt; ls /bin/probe; "
                "touch /x 2>/dev/null || echo read-only"], edit=edit)
    cmd = shlex.join([lib.SKIFF, "--root", lib.ROOT, "run", "--bundle", b.path, new_id()])
    before = host_mounts()
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        f"readlink /proc/self/ns/mnt; {cmd}"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    outer, inner, probe, ro = r.stdout.splitlines()
    assert inner == outer != os.readlink("/proc/self/ns/mnt"), r.stdout
    assert probe == "/bin/probe" and ro == "read-only", r.stdout
    assert host_mounts() == before
    # masking would change the mounts of the namespace it shares: refused
    b.config["linux"]["maskedPaths"] = ["/proc/kcore"]
    b.write()
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 1 and "linux.maskedPaths" in r.stderr, r
    assert len(r.stderr.splitlines()) == 1, r.stderr


def test_idmapped_bind_with_its_own_mappings():
    # An idmap with the mount's own mappings: on-disk uid 0 seen as 1000
    # (containerID 0 -> hostID 1000).  skiff makes the mount's user namespace
    # and idmaps the tree before the clone: from the init, in its pid
    # namespace, /proc named the helper by the wrong pid.
    src = os.path.join(lib.WORK, "idmap-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("x")
    maps = [{"containerID": 0, "hostID": 1000, "size": 1}]
    b = Bundle(["sh", "-c", "stat -c %u:%g /plain/f /mapped/f"], edit=lambda c: c["mounts"].extend([
        {"destination": "/plain", "type": "bind", "source": src, "options": ["rbind"]},
        {"destination": "/mapped", "type": "bind", "source": src, "options": ["rbind", "idmap"],
         "uidMappings": maps, "gidMappings": maps}]))
    assert run_ok(b) == "0:0\n1000:1000\n"


def test_idmapped_bind_in_a_user_namespace_shows_host_root_files_as_the_containers():
    # podman's --mount ...,idmap: the container's own mappings on the mount, so
    # files of the host's root are the container root's, and what the container
    # root writes there belongs to the host's root.  The init cannot idmap a
    # mount of a host filesystem from its user namespace; skiff does it before.
    from test_isolation import ID_MAPS, userns_bundle
    src = os.path.join(lib.WORK, "idmap-userns-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("x")
    # Without mappings of its own the mount takes the container's user namespace
    # (spec 1.2): skiff idmaps it once the init's maps are written.
    b = userns_bundle(["sh", "-c", "stat -c %u:%g /mnt/f /own/f; touch /mnt/g"],
                      edit=lambda c: c["mounts"].extend([
                          {"destination": "/mnt", "type": "bind", "source": src,
                           "options": ["rbind", "idmap"],
                           "uidMappings": ID_MAPS, "gidMappings": ID_MAPS},
                          {"destination": "/own", "type": "bind", "source": src,
                           "options": ["rbind", "idmap"]}]))
    assert run_ok(b) == "0:0\n0:0\n"
    st = os.stat(os.path.join(src, "g"))
    assert (st.st_uid, st.st_gid) == (0, 0), st


def test_devices_in_a_user_namespace_get_their_uid_gid_and_mode():
    # Without a user namespace a linux.devices node is mknod'ed with its uid,
    # gid and fileMode (test_isolation).  In one, mknod is impossible and runc
    # binds the host's node, keeping the host's owner and mode; skiff makes the
    # node itself on a private tmpfs, owned by the mapped ids, never touching
    # the host's /dev.
    from test_isolation import userns_bundle
    host = os.stat("/dev/zero")

    def edit(c):
        c["linux"]["devices"] = [{"path": "/dev/myzero", "type": "c", "major": 1, "minor": 5,
                                  "fileMode": 0o640, "uid": 1000, "gid": 1001}]
        c["linux"]["resources"]["devices"].append(
            {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"})
        c["process"]["user"] = {"uid": 1000, "gid": 1001}  # the owner may read (0640)
    b = userns_bundle(["sh", "-c", "stat -c '%u %g %a %t:%T' /dev/myzero; "
                       "head -c 4 /dev/myzero | od -An -tx1"], edit=edit)
    out = run_ok(b)
    assert out.split("\n")[:2] == ["1000 1001 640 1:5", " 00 00 00 00"], out
    after = os.stat("/dev/zero")
    assert (after.st_uid, after.st_gid, after.st_mode) == (host.st_uid, host.st_gid, host.st_mode)
