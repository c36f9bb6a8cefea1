"""skiff against runc: the same bundle under both, what the container saw compared.

Each test is one config variant; differ.py runs it under both runtimes and fails on any
difference that allow.txt does not list with a reason.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import differ  # noqa: E402
import lib  # noqa: E402
from differ import differential, script  # noqa: E402


def _bundle(edit=None, extra="true"):
    def make():
        b = lib.Bundle(script(extra))
        if edit:
            edit(b)
            b.write()
        return b
    return make


def test_default_config():
    differential("default", _bundle())


def _edit(fn):
    """An edit of the config dict as an edit of the bundle."""
    return lambda b: fn(b.config)


def _user(c):
    c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20, 1000],
                            "umask": 0o027}


def test_user_with_groups_and_umask():
    differential("user", _bundle(_edit(_user)))


def test_user_whose_cwd_it_cannot_enter():
    def edit(b):
        _user(b.config)
        b.config["process"]["cwd"] = "/root"
        os.chmod(os.path.join(b.rootfs, "root"), 0o700)
    differential("user-cwd", _bundle(edit))


def test_nobody_with_no_home_in_env():
    def edit(c):
        c["process"]["user"] = {"uid": 65534, "gid": 65534}
        c["process"]["env"] = ["PATH=/bin"]
    differential("nobody", _bundle(_edit(edit)))


ALL_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
            "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
            "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
            "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
            "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE"]  # not CAP_SYS_RESOURCE: root's bounding set here lacks it


def test_capabilities_all_sets_differ():
    def edit(c):
        c["process"]["capabilities"] = {
            "bounding": ALL_CAPS, "permitted": ALL_CAPS[:20],
            "effective": ALL_CAPS[:10], "inheritable": ALL_CAPS[:5],
            "ambient": ALL_CAPS[:3]}
    differential("caps", _bundle(_edit(edit)))


def test_capabilities_non_root_user_with_ambient():
    def edit(c):
        _user(c)
        caps = ["CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_KILL"]
        c["process"]["capabilities"] = {k: caps for k in
                                        ("bounding", "permitted", "effective", "inheritable",
                                         "ambient")}
    differential("caps-user", _bundle(_edit(edit)))


def test_capabilities_unknown_name():
    def edit(c):
        c["process"]["capabilities"]["bounding"].append("CAP_NOT_A_CAP")
        c["process"]["capabilities"]["effective"].append("CAP_NOT_A_CAP")
    differential("caps-unknown", _bundle(_edit(edit)))


def test_no_new_privileges_false_and_no_capabilities():
    def edit(c):
        c["process"]["noNewPrivileges"] = False
        del c["process"]["capabilities"]
    differential("no-caps", _bundle(_edit(edit)))


# ---- seccomp: profiles of several ages ----

def _syscall_names(max_nr):
    """x86_64 syscall names numbered up to max_nr: what a profile of that age could list."""
    header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
    if os.uname().machine != "x86_64" or not os.path.exists(header):
        raise lib.Skip("the seccomp profiles here are built for x86_64 from its unistd_64.h")
    names = []
    with open(header) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("__NR_"):
                if int(parts[2]) <= max_nr:
                    names.append(parts[1][5:])
    return names


SECCOMP_PROBES = "probe syscall mkdir /tmp/d; probe syscall personality; probe syscall personality 8"


def _seccomp(profile, extra=SECCOMP_PROBES):
    return _bundle(_edit(lambda c: c["linux"].__setitem__("seccomp", profile)), extra=extra)


def test_seccomp_old_docker_style_profile():
    # An allow-list of 2017 (up to statx, 332): nothing newer is named, default errno.
    names = [n for n in _syscall_names(332) if n not in ("mkdir", "mkdirat", "personality")]
    differential("seccomp-2017", _seccomp({
        "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}))


def test_seccomp_2019_profile_with_default_errno_ret():
    # Up to pidfd_open (434): no clone3, close_range, openat2, faccessat2.
    names = [n for n in _syscall_names(434) if n not in ("mkdir", "mkdirat")]
    differential("seccomp-2019", _seccomp({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]}))


def test_seccomp_modern_deny_list_with_args():
    differential("seccomp-denylist", _seccomp({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
             "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"}]},
        extra=SECCOMP_PROBES + "; probe syscall ptrace; echo ptrace: $?"))


# ---- mounts ----

def _mounts(b):
    for d in ("data", "hostdir"):
        os.makedirs(b.file(d), exist_ok=True)
    with open(b.file("data/file"), "w") as f:
        f.write("x\n")
    b.config["mounts"] += [
        {"destination": "/data", "type": "bind", "source": b.file("data"),
         "options": ["rbind", "ro"]},
        {"destination": "/etc/hosts-file", "type": "bind", "source": b.file("data/file"),
         "options": ["bind", "rw"]},
        {"destination": "/mnt/none-bind", "type": "none", "source": b.file("hostdir"),
         "options": ["bind", "nosuid", "noexec", "nodev", "rprivate"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", "size=1m"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmp",
         "options": ["noatime", "uid=1000", "gid=1000", "mode=0700"]},
        {"destination": "/var", "type": "tmpfs", "source": "tmpfs", "options": ["strictatime", "ro"]},
    ]


def test_mounts_of_several_kinds():
    differential("mounts", _bundle(_mounts))


def test_read_only_dev_bind_then_devpts():
    def edit(b):
        # runc too needs the mount point and the devices there: it cannot create them
        os.makedirs(b.file("devdir/pts"), exist_ok=True)
        for name, minor in (("null", 3), ("zero", 5), ("full", 7), ("random", 8),
                            ("urandom", 9)):
            os.mknod(b.file(f"devdir/{name}"), 0o20666, os.makedev(1, minor))
        os.mknod(b.file("devdir/tty"), 0o20666, os.makedev(5, 0))
        m = b.config["mounts"]
        m[1] = {"destination": "/dev", "type": "bind", "source": b.file("devdir"),
                "options": ["rbind", "ro"]}
        del m[3:5]  # /dev/shm and /dev/mqueue would need a writable /dev too
    differential("ro-dev", _bundle(edit))


def test_masked_and_readonly_paths_of_every_kind():
    def edit(c):
        c["linux"]["maskedPaths"] += ["/etc/group", "/var", "/does/not/exist"]
        c["linux"]["readonlyPaths"] += ["/run", "/does/not/exist/either", "/proc/self/../1/attr"]
        c["root"]["readonly"] = False
    differential("masked", _bundle(_edit(edit)))


# ---- the process ----

def test_terminal_for_a_non_root_user():
    def edit(c):
        c["process"]["terminal"] = True
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
    make = _bundle(_edit(edit))
    differ.have_runc()
    differential("tty", make, tty=True)


def test_env_duplicates_and_empty_values():
    def edit(c):
        c["process"]["env"] += ["A=1", "A=2", "EMPTY=", "HOME=/somewhere", "X=a=b"]
    differential("env", _bundle(_edit(edit)))


def test_rlimits():
    def edit(c):
        c["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
            {"type": "RLIMIT_NPROC", "soft": 500, "hard": 1000},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 2 ** 64 - 1},
            {"type": "RLIMIT_STACK", "soft": 4 << 20, "hard": 8 << 20},
            {"type": "RLIMIT_MEMLOCK", "soft": 1 << 20, "hard": 1 << 20}]
    differential("rlimits", _bundle(_edit(edit)))


def test_cwd_nested_and_missing():
    # made before the rootfs turns read-only, as runc does
    differential("cwd-missing", _bundle(_edit(
        lambda c: c["process"].__setitem__("cwd", "/var/lib/nowhere"))))


def test_cwd_missing_behind_a_symlink_out_of_the_rootfs():
    def edit(b):
        os.symlink("/../../../../tmp", os.path.join(b.rootfs, "var", "link"))
        b.config["process"]["cwd"] = "/var/link/made"
    if os.path.lexists("/tmp/made"):
        raise lib.Skip("/tmp/made exists on the host: it would hide an escape")
    try:
        differential("cwd-symlink", _bundle(edit, extra="ls -d /tmp/made"))
        assert not os.path.lexists("/tmp/made"), "the cwd was made on the host"
    finally:
        if os.path.isdir("/tmp/made") and not os.listdir("/tmp/made"):
            os.rmdir("/tmp/made")


def test_cwd_existing():
    differential("cwd", _bundle(_edit(lambda c: c["process"].__setitem__("cwd", "/etc"))))


def test_hostname_and_domainname_writable_rootfs():
    def edit(c):
        c["hostname"] = "box"
        c["domainname"] = "example.org"
        c["root"]["readonly"] = False
    differential("hostname", _bundle(_edit(edit)))


# ---- hooks: the state each one reads, their order, what a failure does ----

HOOK_NAMES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop")


def _hook(b, name, fail=False):
    """A hook that saves the state it read and appends its name to the order file.

    startContainer's path resolves in the container and it writes to /hookout (the
    bundle's hookout/, bound there); the others run host binaries on host paths."""
    out = "/hookout" if name == "startContainer" else b.file("hookout")
    cmd = f"cat > {out}/{name}.json; echo {name} >> {out}/order"
    if fail:
        cmd += "; exit 3"
    return {"path": "/bin/sh", "args": ["sh", "-c", cmd]}


def _hooks(fail=(), extra_poststop=False):
    def edit(b):
        os.makedirs(b.file("hookout"), exist_ok=True)
        b.config["annotations"] = {"org.example.key": "value"}
        b.config["mounts"].append({"destination": "/hookout", "type": "bind",
                                   "source": b.file("hookout"), "options": ["bind", "rw"]})
        b.config["hooks"] = {n: [_hook(b, n, n in fail)] for n in HOOK_NAMES}
        if extra_poststop:  # a second one: must run after a failing first
            b.config["hooks"]["poststop"].append(
                {"path": "/bin/sh",
                 "args": ["sh", "-c", f"echo poststop2 >> {b.file('hookout')}/order"]})
    return edit


# What the spec (runtime.md, State) gives each hook: status ("created" once the runtime
# environment exists, "after step 2 in the lifecycle"; runtime-tools' hooks_stdin wants
# it for prestart), and pid as seen from the namespace the hook runs in (1 inside the
# container's pid namespace), none once stopped.
SPEC_STATE = {"prestart": ("created", "host pid"), "createRuntime": ("created", "host pid"),
              "createContainer": ("created", 1), "startContainer": ("created", 1),
              "poststart": ("running", "host pid"), "poststop": ("stopped", "absent")}


def _spec_check(seen, order):
    """skiff's side against the spec itself, where runc 1.1.5 differs from it."""
    assert seen["hook order"] == " ".join(order), seen["hook order"]
    for name in order:
        if name in SPEC_STATE:
            st = json.loads(seen[f"hook:{name}"])
            assert (st["status"], st["pid"]) == SPEC_STATE[name], (name, st)
            assert st["bundle"] == "BUNDLE" and st["annotations"] == {
                "org.example.key": "value"}, (name, st)


def test_hooks_state_and_order():
    seen = differential("hooks", _bundle(_hooks()), hooks=HOOK_NAMES)
    _spec_check(seen["skiff"], HOOK_NAMES)


def test_hooks_failing_poststop_lets_the_next_run():
    seen = differential("hooks-poststop-fails", _bundle(_hooks(("poststop",), True)),
                        hooks=HOOK_NAMES)
    _spec_check(seen["skiff"], HOOK_NAMES + ("poststop2",))


def test_hooks_failing_prestart():
    # Spec step 3: error, stop the container, continue at step 12 (destroy, poststop).
    seen = differential("hooks-prestart-fails", _bundle(_hooks(("prestart",))),
                        hooks=HOOK_NAMES, runc_runs=False)
    _spec_check(seen["skiff"], ("prestart", "poststop"))


def test_hooks_failing_create_container():
    seen = differential("hooks-createContainer-fails", _bundle(_hooks(("createContainer",))),
                        hooks=HOOK_NAMES, runc_runs=False)
    _spec_check(seen["skiff"], ("prestart", "createRuntime", "createContainer", "poststop"))


def test_hooks_failing_start_container():
    seen = differential("hooks-startContainer-fails", _bundle(_hooks(("startContainer",))),
                        hooks=HOOK_NAMES, runc_runs=False)
    _spec_check(seen["skiff"], ("prestart", "createRuntime", "createContainer",
                                "startContainer", "poststop"))
    assert seen["skiff"]["exit"] != "0" and seen["skiff"]["runtime stderr"] == "present"


# ---- exec into a container ----

def _sleeper(edit=None):
    def make():
        b = lib.Bundle(["sleep", "1000"])
        if edit:
            edit(b)
            b.write()
        return b
    return make


def test_exec_into_a_running_container():
    differential("exec", _sleeper(), exec_args=[script()])


def test_exec_into_a_created_container():
    differential("exec-created", _sleeper(), exec_args=[script()], start=False)


def test_exec_as_a_user_with_a_cwd_it_cannot_enter_and_env():
    def edit(b):
        os.chmod(os.path.join(b.rootfs, "root"), 0o700)
    differential("exec-user", _sleeper(edit),
                 exec_args=["--user", "1000:1000", "--additional-gids", "20", "--cwd", "/root",
                            "--env", "FOO=bar", script()])


def test_exec_with_capabilities_and_no_new_privs():
    differential("exec-caps", _sleeper(),
                 exec_args=["--cap", "CAP_SYS_ADMIN", "--cap", "CAP_NET_RAW",
                            "--no-new-privs", script()])


def test_exec_exit_status_and_a_missing_program():
    differential("exec-exit", _sleeper(), exec_args=[["sh", "-c", "exit 3"]], runc_runs=False)
    differential("exec-missing", _sleeper(), exec_args=[["/no/such/program"]],
                 runc_runs=False)


# ---- user namespace, --no-pivot, configs both must refuse ----

def test_user_namespace_with_two_ranges():
    maps = [{"containerID": 0, "hostID": 100000, "size": 1000},
            {"containerID": 1000, "hostID": 101000, "size": 64536}]

    def edit(b):
        b.config["linux"]["namespaces"].append({"type": "user"})
        b.config["linux"]["uidMappings"] = maps
        b.config["linux"]["gidMappings"] = maps
        _user(b.config)
        for d, dirs, files in os.walk(b.rootfs):
            for name in [d] + [os.path.join(d, n) for n in dirs + files]:
                os.lchown(name, 100000, 100000)
        # the mapped root has no rights over host-owned inodes: it needs search on the path
        os.chmod(lib.WORK, 0o711)
        os.chmod(b.path, 0o711)
    differential("userns", _bundle(edit, extra="cat /proc/self/uid_map /proc/self/gid_map"))


def test_run_no_pivot():
    # With CAP_SYS_ADMIN the container must still not mount a proc that shows what the
    # masked paths hide (runc's no-pivot protection).
    def edit(c):
        for k in ("bounding", "effective", "permitted"):
            c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")
    differential("no-pivot", _bundle(_edit(edit), extra="mount -t proc proc /root; echo $?"),
                 run_args=["--no-pivot"])


def test_rootfs_whose_proc_is_a_symlink():
    def edit(b):
        os.rmdir(os.path.join(b.rootfs, "proc"))
        os.symlink("/tmp", os.path.join(b.rootfs, "proc"))
    differential("proc-symlink", _bundle(edit), runc_runs=False)


def test_bind_mount_of_a_missing_source():
    def edit(c):
        c["mounts"].append({"destination": "/data", "type": "bind", "source": "/no/such/dir",
                            "options": ["bind"]})
    differential("bind-missing", _bundle(_edit(edit)), runc_runs=False)


def test_unknown_rlimit():
    def edit(c):
        c["process"]["rlimits"].append({"type": "RLIMIT_NOPE", "soft": 1, "hard": 1})
    differential("rlimit-unknown", _bundle(_edit(edit)), runc_runs=False)


# ---- kernel settings and devices ----

def test_sysctl_oom_score_adj_and_personality():
    def edit(c):
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"}
        c["process"]["oomScoreAdj"] = 123
        c["linux"]["personality"] = {"domain": "LINUX32"}
    differential("sysctl", _bundle(_edit(edit), extra="cat /proc/sys/kernel/msgmax"))


def test_devices_with_owner_and_mode():
    def edit(c):
        c["linux"]["devices"] = [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
             "uid": 1000, "gid": 20},
            {"path": "/dev/sub/loop-ish", "type": "b", "major": 7, "minor": 200,
             "fileMode": 0o600}]
    differential("devices", _bundle(_edit(edit)))


def test_devices_with_owner_in_a_fully_mapped_user_namespace():
    full = [{"containerID": 0, "hostID": 0, "size": 4294967295}]

    def edit(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = full
        c["linux"]["gidMappings"] = full
        c["linux"]["devices"] = [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640,
             "uid": 1000, "gid": 20}]
    differential("devices-userns", _bundle(_edit(edit)))


def test_hooks_failing_poststart():
    # Spec step 9: error, stop the container, continue at step 12 (destroy, poststop).
    seen = differential("hooks-poststart-fails", _bundle(_hooks(("poststart",))),
                        hooks=HOOK_NAMES, runc_runs=False)
    _spec_check(seen["skiff"], HOOK_NAMES)
    assert seen["skiff"]["exit"] != "0" and seen["skiff"]["runtime stderr"] == "present"


# ---- cgroups as the container sees them ----

def _cgroup_mount(c):
    c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})


def test_cgroup_mount():
    differential("cgroup-mount", _bundle(_edit(_cgroup_mount)))


def test_cgroup_mount_in_a_cgroup_namespace():
    def edit(c):
        _cgroup_mount(c)
        c["linux"]["namespaces"].append({"type": "cgroup"})
    differential("cgroupns", _bundle(_edit(edit), extra="cat /proc/self/cgroup"))


def test_seccomp_unknown_syscall_log_and_trace_actions():
    differential("seccomp-odd", _seccomp({
        "defaultAction": "SCMP_ACT_ALLOW",  # no "flags": runc 1.1.5 refuses them all
        "syscalls": [
            {"names": ["no_such_syscall", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
             "errnoRet": 71},  # EPROTO: not what a read-only rootfs would say
            {"names": ["getppid"], "action": "SCMP_ACT_LOG"},
            {"names": ["personality"], "action": "SCMP_ACT_TRACE"}]}))


def test_mounts_recursive_read_only_and_propagation():
    def edit(b):
        os.makedirs(b.file("tree/inner"), exist_ok=True)
        os.makedirs(b.file("shared"), exist_ok=True)
        b.config["mounts"] += [
            {"destination": "/tree", "type": "bind", "source": b.file("tree"),
             "options": ["rbind", "rro"]},
            {"destination": "/shared", "type": "bind", "source": b.file("shared"),
             "options": ["rbind", "rshared"]},
            {"destination": "/slave", "type": "bind", "source": b.file("shared"),
             "options": ["rbind", "rslave"]},
            {"destination": "/tree/inner", "type": "tmpfs", "source": "tmpfs",
             "options": ["size=1m"]}]
        b.config["linux"]["rootfsPropagation"] = "slave"
    differential("mounts-propagation", _bundle(edit))


def test_cgroup_files_against_runc_in_vm():
    """Runs test_cgroup_vm_diff.py (every resource and update flag, skiff against runc, on
    a pure cgroup v2 hierarchy) inside the VM: one boot for all of it."""
    import vm  # tests/integration/vm.py
    differ.have_runc()
    passed, skipped, out = vm.run_tests("test_cgroup_vm_diff.")
    assert passed > 0 and not skipped, f"nothing ran in the VM:\n{out[-3000:]}"
