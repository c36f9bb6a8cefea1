"""`skiff exec`: another process in a running container, seen from inside by the probe."""
import errno
import json
import os
import select
import socket
import subprocess
import sys
import time

import lib
import notify
from lib import Bundle, ROOT, new_id, skiff, skiff_ok, state

NS_NAMES = ("pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time")


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def running(edit=None, prepare=None):
    """A started container whose init sleeps; returns (id, bundle, init pid)."""
    b = Bundle(["probe", "sleep", "1000"], edit=edit)
    if prepare:
        prepare(b)
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    st = state(cid)
    assert st["status"] == "running", st
    return cid, b, st["pid"]


def probe(cid, *args, exec_opts=()):
    r = skiff_ok("exec", *exec_opts, cid, "probe", *args)
    return json.loads(r.stdout)


def one_line_error(r, status=255):
    # exec's own failures exit 255 (runc's code), so callers can tell them
    # from a process that exits 1; errors in exec's own options exit 1.
    assert r.returncode == status, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def host_ns(pid):
    return {n: os.stat(f"/proc/{pid}/ns/{n}").st_ino for n in NS_NAMES
            if os.path.exists(f"/proc/{pid}/ns/{n}")}


def v2_cgroup(text):
    return [line[3:] for line in text.splitlines() if line.startswith("0::")][0]


def test_exec_output_and_exit_status():
    cid, _, _ = running()
    r = skiff("exec", cid, "sh", "-c", "echo hi; exit 7")
    assert r.stdout == "hi\n", r
    assert r.returncode == 7, r
    r = skiff("exec", cid, "sh", "-c", "kill -9 $$")
    assert r.returncode == 137, r


def test_exec_own_failures_exit_255_and_the_process_status_passes_through():
    # runc 1.1.5 on the same inputs: 255 for a missing container, a missing
    # executable, a bad --user, a bad cwd, no command; 1 for an unknown option
    # or a missing ID (usage errors), and the process's own 1 stays 1.
    cid, _, _ = running()
    assert skiff("exec", cid, "sh", "-c", "exit 1").returncode == 1
    assert skiff("exec", cid, "sh", "-c", "exit 255").returncode == 255
    for args in (("no-such-container", "true"), (cid, "/no/such/binary"),
                 ("--user", "abc", cid, "true"), ("--cwd", "/nonexistent", cid, "true"),
                 (cid,), ("--process", "/nonexistent.json", cid)):
        one_line_error(skiff("exec", *args), 255)
    one_line_error(skiff("exec", "--bogus", cid, "true"), 1)
    one_line_error(skiff("exec"), 1)
    one_line_error(skiff("exec", "--preserve-fds", "x", cid, "true"), 1)


def test_exec_options_after_id_belong_to_the_command():
    cid, _, _ = running()
    r = skiff_ok("exec", cid, "sh", "-c", 'echo "$@"', "sh", "--env", "-t")
    assert r.stdout == "--env -t\n", r


def test_exec_process_json():
    cid, b, _ = running()
    caps = ["CAP_CHOWN", "CAP_KILL"]
    proc = {
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [7]},
        "args": ["probe", "all"],
        "env": ["PATH=/bin", "FOO=from-json"],
        "cwd": "/tmp",
        "capabilities": {k: caps for k in ("bounding", "effective", "permitted",
                                           "inheritable", "ambient")},
        "noNewPrivileges": True,
    }
    path = b.file("process.json")
    with open(path, "w") as f:
        json.dump(proc, f)
    r = skiff_ok("exec", "--process", path, cid)
    got = json.loads(r.stdout)
    assert (got["uid"], got["gid"], got["euid"], got["egid"]) == (1000, 1000, 1000, 1000), got
    assert got["groups"] == [7], got
    assert got["cwd"] == "/tmp", got
    # HOME from the container's /etc/passwd ("/" for a uid it lacks), as runc sets it
    assert got["env"] == ["PATH=/bin", "FOO=from-json", "HOME=/"], got
    for s in ("bounding", "effective", "permitted", "ambient"):
        assert sorted(got["caps"][s]["names"]) == caps, (s, got["caps"])
    assert got["no_new_privs"] is True, got


def test_exec_process_json_errors():
    cid, b, _ = running()
    path = b.file("bad.json")
    with open(path, "w") as f:
        json.dump({"args": ["true"], "cwd": "/", "user": {"uid": "root"}}, f)
    line = one_line_error(skiff("exec", "--process", path, cid))
    assert "user.uid" in line, line
    with open(path, "w") as f:
        json.dump({"args": ["true"], "cwd": "relative"}, f)
    line = one_line_error(skiff("exec", "--process", path, cid))
    assert "process.cwd" in line, line
    line = one_line_error(skiff("exec", "--process", b.file("missing.json"), cid))
    assert "missing.json" in line, line
    line = one_line_error(skiff("exec", "--process", path, cid, "true"))
    assert "--process" in line, line


def test_exec_flags_override_the_config_process():
    cid, _, _ = running()
    got = probe(cid, "all", exec_opts=("--env", "FOO=bar", "-e", "TERM=dumb", "--cwd", "/tmp",
                                       "--user", "1000:1001", "-g", "5", "-g", "6"))
    assert (got["uid"], got["gid"]) == (1000, 1001), got
    assert got["groups"] == [5, 6], got
    assert got["cwd"] == "/tmp", got
    assert "FOO=bar" in got["env"], got["env"]
    # Replaced in place: a second TERM= would be invisible to getenv().
    assert [e for e in got["env"] if e.startswith("TERM=")] == ["TERM=dumb"], got["env"]
    # Not root and no ambient caps: execve leaves none.
    assert got["caps"]["effective"]["names"] == [], got["caps"]

    got = probe(cid, "all", exec_opts=("--cap", "CAP_SYS_CHROOT"))
    assert got["uid"] == 0, got
    for s in ("bounding", "effective", "permitted"):
        assert "CAP_SYS_CHROOT" in got["caps"][s]["names"], (s, got["caps"])
        assert "CAP_KILL" in got["caps"][s]["names"], (s, got["caps"])
    got = probe(cid, "caps")
    assert "CAP_SYS_CHROOT" not in got["caps"]["bounding"]["names"], got


def test_exec_flag_errors():
    cid, _, _ = running()
    line = one_line_error(skiff("exec", "--user", "root", cid, "true"))
    assert "--user" in line, line
    line = one_line_error(skiff("exec", "--env", "NOEQUALS", cid, "true"))
    assert "--env" in line, line
    line = one_line_error(skiff("exec", "--cwd", "/does-not-exist", cid, "true"))
    assert "/does-not-exist" in line, line
    line = one_line_error(skiff("exec", cid, "/no/such/binary"))
    assert "/no/such/binary" in line, line
    line = one_line_error(skiff("exec", "-t", "-d", cid, "true"))
    assert "--console-socket" in line, line
    # Nothing was left running in the container.
    names = skiff_ok("exec", cid, "ls", "/proc").stdout.split()
    assert sorted(int(n) for n in names if n.isdigit())[:1] == [1], names
    assert len([n for n in names if n.isdigit()]) == 2, names  # the init and ls


def test_exec_joins_every_namespace_of_the_init():
    cid, _, pid = running(edit=lambda c: c["linux"]["namespaces"].append({"type": "cgroup"}))
    want = host_ns(pid)
    got = probe(cid, "all")
    for n, ino in want.items():
        assert got["ns"][n] == ino, (n, got["ns"], want)
    assert got["ns"]["pid_for_children"] == want["pid"], got["ns"]
    assert got["hostname"] == "skiff", got
    # A new pid namespace: skiff, its parent, is outside it.
    assert got["ppid"] == 0, got


def _own_session_keyring():
    import ctypes
    buf = ctypes.create_string_buffer(512)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    n = libc.syscall(250, 6, -3, buf, ctypes.c_size_t(512), 0)  # keyctl DESCRIBE @s
    assert n > 0, ctypes.get_errno()
    return buf.value.decode()


def test_session_keyring_of_init_and_exec_is_the_containers_as_runc():
    """The init joins a keyring named `_ses.<id>` that its owner may search, and `exec`
    joins the same one, so no key of the caller's session is reachable from either (runc's
    rule; exec used to keep the caller's). With --no-new-keyring both keep the caller's."""
    runc = "/usr/sbin/runc"
    if not os.access(runc, os.X_OK):
        raise lib.Skip("runc is not installed")
    rroot = os.path.join(lib.WORK, "runc-root")
    caller = _own_session_keyring()
    seen = {}
    for rt in ("skiff", "runc"):
        for opts in ((), ("--no-new-keyring",)):
            cid = new_id("k")

            def edit(name):
                return lambda c: c["linux"].__setitem__("cgroupsPath", f"/{rt}-{name}")
            argv = [lib.SKIFF, "--root", ROOT] if rt == "skiff" else [runc, "--root", rroot]

            def call(*a, argv=argv):
                return subprocess.run([*argv, *a], capture_output=True, text=True,
                                      stdin=subprocess.DEVNULL, timeout=60)
            b = Bundle(["probe", "keyring"], edit=edit(cid))
            r = call("run", *opts, "--bundle", b.path, cid)
            assert r.returncode == 0, (rt, r.stderr)
            init = json.loads(r.stdout)["keyring"]
            # Detached: the container keeps its stdio, so not the pipes of call().
            b = Bundle(["probe", "sleep", "1000"], edit=edit(cid + "x"))
            subprocess.run([*argv, "run", "-d", *opts, "--bundle", b.path, cid + "x"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, check=True)
            try:
                ex = [call("exec", cid + "x", "probe", "keyring") for _ in range(2)]
            finally:
                call("delete", "--force", cid + "x")
            assert all(e.returncode == 0 for e in ex), (rt, ex)
            execs = [json.loads(e.stdout)["keyring"] for e in ex]
            seen[rt, opts] = [init.replace(cid, "ID"), *(e.replace(cid + "x", "ID") for e in execs)]
    assert seen["skiff", ()] == seen["runc", ()], seen
    assert seen["skiff", ()][0].endswith(";_ses.ID") and ";3f1b0000;" in seen["skiff", ()][0]
    assert seen["skiff", ()][0] == seen["skiff", ()][1], seen
    for rt in ("skiff", "runc"):
        assert seen[rt, ("--no-new-keyring",)] == [caller] * 3, (rt, seen)


def test_exec_is_born_in_the_container_cgroup():
    cid, _, pid = running()
    with open(f"/proc/{pid}/cgroup") as f:
        init_cg = v2_cgroup(f.read())
    assert cid in init_cg, init_cg
    got = probe(cid, "cgroup")
    assert v2_cgroup(got["cgroup"]) == init_cg, (got, init_cg)


def test_exec_in_a_user_namespace():
    base = 100000

    def edit(c):
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": base, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": base, "size": 65536}]

    def chown(b):
        # The container's root (host uid 100000) must reach its rootfs.
        for d in (lib.WORK, b.path):
            os.chmod(d, 0o711)
        for top, dirs, files in os.walk(b.rootfs):
            for name in dirs + files + ["."]:
                p = os.path.join(top, name)
                st = os.lstat(p)
                os.lchown(p, base + st.st_uid, base + st.st_gid)

    cid, _, pid = running(edit=edit, prepare=chown)
    want = host_ns(pid)
    assert want["user"] != os.stat("/proc/self/ns/user").st_ino
    got = probe(cid, "all", exec_opts=("--user", "1000:1000"))
    for n, ino in want.items():
        assert got["ns"][n] == ino, (n, got["ns"], want)
    assert (got["uid"], got["gid"]) == (1000, 1000), got
    r = skiff_ok("exec", cid, "cat", "/proc/self/uid_map", "/proc/self/gid_map")
    assert r.stdout.split() == ["0", str(base), "65536"] * 2, r.stdout
    # The host sees the mapped ids.
    r = skiff_ok("exec", "-d", "--pid-file", lib.WORK + f"/{cid}.pid", "--user", "1000:1000",
                 cid, "probe", "sleep", "30")
    with open(lib.WORK + f"/{cid}.pid") as f:
        epid = int(f.read())
    with open(f"/proc/{epid}/status") as f:
        uid_line = [line for line in f if line.startswith("Uid:")][0]
    assert uid_line.split()[1:] == [str(base + 1000)] * 4, uid_line


def test_exec_tty_through_console_socket():
    cid, b, _ = running()
    sock_path = b.file("console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    try:
        p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "exec", "--tty", "--console-socket",
                              sock_path, cid, "sh", "-c", "tty; probe tty; echo done"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv.settimeout(60)
        conn, _ = srv.accept()
        _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        assert len(fds) == 1
        master = fds[0]
        data = b""
        end = time.monotonic() + 10
        while b"done" not in data and time.monotonic() < end:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        out, err = p.communicate(timeout=30)
        os.close(master)
        conn.close()
        assert p.returncode == 0, err
        text = data.decode()
        # The container's own devpts (new instance): its first pty.
        assert "/dev/pts/0" in text, text
        info = json.loads(text[text.index("{"):text.rindex("}") + 1])["tty"]
        assert info["stdin"] and info["stdout"] and info["controlling"], info
    finally:
        srv.close()


def test_exec_tty_in_the_foreground_proxies_the_terminal():
    import pty
    cid, _, _ = running()
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "exec", "-t", cid,
                              "sh", "-c", "tty; read line; echo got:$line; exit 3"],
                             stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        slave = -1
        data = b""
        end = time.monotonic() + 30

        def read_until(want):
            # select first: a hung skiff must fail the test, not block it forever.
            nonlocal data
            while want not in data and time.monotonic() < end:
                if not select.select([master], [], [], 0.2)[0]:
                    continue
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
        read_until(b"/dev/pts/")
        os.write(master, b"hello\r")
        read_until(b"got:hello")
        assert p.wait(timeout=30) == 3, data
        text = data.decode(errors="replace")
        assert "/dev/pts/0" in text and "got:hello" in text, text
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


SUBREAPER_HELPER = r"""
import ctypes, json, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
# Files, not pipes: the detached process inherits skiff's stdio.
with open(os.devnull, "w") as out, open(sys.argv[1], "w+") as err:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=err).returncode
    err.seek(0)
    stderr = err.read()
pidfile = sys.argv[sys.argv.index("--pid-file") + 1]
pid = int(open(pidfile).read())
alive = os.path.exists(f"/proc/{pid}")
exe = os.readlink(f"/proc/{pid}/exe") if alive else None
ns = os.stat(f"/proc/{pid}/ns/mnt").st_ino if alive else None
_, status = os.waitpid(pid, 0)
print(json.dumps({"rc": rc, "stderr": stderr, "pid": pid, "alive": alive,
                  "exe": exe, "mnt": ns, "status": os.waitstatus_to_exitcode(status)}))
"""


def test_exec_detach_with_pid_file():
    cid, b, pid = running()
    pidfile = b.file("exec.pid")
    # The caller is a subreaper (as a shim or conmon is): the detached
    # process becomes its child, and it can reap the exit status.  It sleeps
    # long enough for the helper to read its /proc/PID/exe while it still runs
    # (a zombie has none), even on a loaded host.
    out = subprocess.run([sys.executable, "-c", SUBREAPER_HELPER, b.file("stderr"),
                          lib.SKIFF, "--root", ROOT,
                          "exec", "--detach", "--pid-file", pidfile, cid,
                          "sh", "-c", "sleep 3; exit 5"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["rc"] == 0, got
    assert got["alive"], got
    assert got["mnt"] == os.stat(f"/proc/{pid}/ns/mnt").st_ino, got
    # execve replaced skiff's image: /proc/PID/exe is the container's binary.
    assert got["exe"].endswith("/bin/busybox"), got
    assert got["status"] == 5, got


def _write_exec_file(b, name, content):
    path = os.path.join(b.rootfs, name)
    with open(path, "wb") as f:
        f.write(content)
    os.chmod(path, 0o755)


def test_exec_reports_a_failed_final_execve():
    # The file exists and is executable (skiff's own check passes); the
    # execve that fails is the trampoline's, which reports it back to skiff.
    def prepare(b):
        _write_exec_file(b, "noint.sh", b"#!/nonexistent/sh\necho ran\n")
        _write_exec_file(b, "garbage", b"\x7fELF not really an ELF file\n" * 4)

    cid, _, _ = running(prepare=prepare)
    for detach in ((), ("--detach",)):
        r = skiff("exec", *detach, cid, "/noint.sh")
        line = one_line_error(r)
        assert f"exec in `{cid}`" in line, line
        assert 'exec "/noint.sh": No such file or directory' in line, line
        assert "ran" not in r.stdout, r
    line = one_line_error(skiff("exec", cid, "/garbage"))
    assert 'exec "/garbage": Exec format error' in line, line
    # The container is untouched, and a good program still runs (EOF: success).
    assert state(cid)["status"] == "running"
    r = skiff_ok("exec", "--detach", cid, "sh", "-c", "exit 0")
    assert r.stderr == "", r
    r = skiff("exec", cid, "sh", "-c", "echo ok; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "ok\n", ""), r


def test_exec_preserve_fds():
    cid, b, _ = running()
    path = b.file("passed.txt")
    with open(path, "w") as f:
        f.write("x")
    fd = os.open(path, os.O_RDONLY)
    try:
        os.set_inheritable(fd, True)
        cmd = [lib.SKIFF, "--root", ROOT, "exec", "--preserve-fds", "1", cid, "probe", "fds"]
        if fd != 3:
            os.dup2(fd, 3)
        r = subprocess.run(cmd, capture_output=True, text=True, pass_fds=(3,), timeout=60)
        assert r.returncode == 0, r.stderr
        fds = json.loads(r.stdout)["fds"]
        assert "3" in fds and fds["3"].endswith("passed.txt"), fds
        r = skiff_ok("exec", cid, "probe", "fds")
        assert "3" not in json.loads(r.stdout)["fds"], r.stdout
    finally:
        os.close(fd)
        if fd != 3:
            try:
                os.close(3)
            except OSError:
                pass


def test_exec_into_a_stopped_container_fails():
    b = Bundle(["true"])
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    assert wait_for(lambda: state(cid)["status"] == "stopped")
    line = one_line_error(skiff("exec", cid, "true"))
    assert "stopped" in line and "not running" in line, line


def test_exec_without_command_fails():
    cid, _, _ = running()
    line = one_line_error(skiff("exec", cid))
    assert "COMMAND" in line, line
    line = one_line_error(skiff("exec", "no-such-container", "true"))
    assert "does not exist" in line, line


def test_exec_in_a_no_pivot_container_sees_its_root():
    # setns into the mount namespace lands at the namespace's root, which for
    # a chroot'ed (--no-pivot) container is the host's: exec must use the init's.
    b = Bundle(["probe", "sleep", "1000"])
    cid = new_id()
    skiff_ok("create", "--no-pivot", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    r = skiff_ok("exec", cid, "cat", "/etc/passwd")
    assert r.stdout == ("root:x:0:0:root:/root:/bin/sh\n"
                        "nobody:x:65534:65534:nobody:/:/bin/sh\n"), r.stdout


def test_exec_gets_the_container_seccomp_filter():
    profile = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 13}]}
    cid, b, _ = running(edit=lambda c: c["linux"].update(seccomp=profile))
    for opts in ((), ("--user", "1000:1000")):
        got = probe(cid, "syscall", "mkdir", "/dev/shm/d", exec_opts=opts)
        assert got["errno"] == 13, (opts, got)
        got = probe(cid, "all", exec_opts=opts)
        assert got["seccomp"] == 2 and got["seccomp_filters"] >= 1, got
    # Without no_new_privs the filter is loaded while skiff still has CAP_SYS_ADMIN.
    path = b.file("process.json")
    with open(path, "w") as f:
        json.dump({"args": ["probe", "syscall", "mkdir", "/dev/shm/d"], "cwd": "/",
                   "user": {"uid": 0, "gid": 0}, "noNewPrivileges": False}, f)
    got = json.loads(skiff_ok("exec", "--process", path, cid).stdout)
    assert got["errno"] == 13, got


def frozen(pid):
    """Whether the freezer reports every task of pid's cgroup frozen: the v1 freezer's
    freezer.state where the container uses it, else cgroup v2's cgroup.events."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    v1 = [p for _, ctl, p in lines if "freezer" in ctl.split(",")]
    if v1 and os.path.exists(f"/sys/fs/cgroup/freezer{v1[0]}/freezer.state"):
        with open(f"/sys/fs/cgroup/freezer{v1[0]}/freezer.state") as f:
            return f.read().strip() == "FROZEN"
    cg = [p for n, _, p in lines if n == "0"][0]
    mnt = next(m for m in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
               if os.path.exists(m + cg + "/cgroup.events"))
    with open(mnt + cg + "/cgroup.events") as f:
        return "frozen 1" in f.read().splitlines()


def test_exec_in_a_paused_container():
    cid, b, _ = running()
    # pause works on this host (test_cgroup_ops tests it): a failure is a failure.
    skiff_ok("pause", cid)
    try:
        line = one_line_error(skiff("exec", cid, "true"))
        assert "paused" in line and "--ignore-paused" in line, line
        skiff_ok("exec", "--ignore-paused", "--detach", "--pid-file", b.file("p"), cid,
                 "sh", "-c", "echo ran > /dev/shm/mark")
        with open(b.file("p")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cgroup") as f:
            text = f.read()
        cg = v2_cgroup(text)
        assert cid in cg, cg
        assert all(cid in line for line in text.splitlines() if ":freezer:" in line), text
        # Frozen with the container (every task of the cgroup, the new one too), so it
        # cannot have run.
        assert wait_for(lambda: frozen(pid)), f"{cg} is not frozen with the exec in it"
        assert not os.path.exists(f"/proc/{state(cid)['pid']}/root/dev/shm/mark")
    finally:
        skiff_ok("resume", cid)
    assert wait_for(lambda: skiff("exec", cid, "cat", "/dev/shm/mark").stdout == "ran\n")


def test_exec_hands_a_seccomp_notify_listener_to_the_agent():
    import threading
    sock_path = os.path.join(lib.WORK, f"agent-{os.getpid()}.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(4)
    srv.settimeout(20)
    messages, answered = [], []

    def agent():
        # One connection from create (the init), closed at once: the init's notified
        # syscalls would fail with ENOSYS.  The exec's listener is used: its mkdir
        # must arrive there, from the exec'd process, and get the agent's answer.
        try:
            for n in range(2):
                conn, _ = srv.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
                messages.append((json.loads(msg), len(fds)))
                if n == 1 and len(fds) == 1:
                    nid, pid, nr = notify.notif_recv(fds[0])
                    answered.append((pid, nr))
                    notify.notif_send(fds[0], nid, 0, -errno.ENOTUNIQ)
                for fd in fds:
                    os.close(fd)
                conn.close()
        except OSError as e:
            answered.append(e)

    t = threading.Thread(target=agent, daemon=True)
    t.start()
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sock_path,
               "listenerMetadata": "exec-test",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
    try:
        cid, _, pid = running(edit=lambda c: c["linux"].update(seccomp=profile))
        got = probe(cid, "syscall", "mkdir", "/dev/shm/d")
        t.join(20)
        assert len(messages) == 2, messages
        msg, nfds = messages[1]
        assert nfds == 1 and msg["fds"] == ["seccompFd"], msg
        assert msg["metadata"] == "exec-test" and msg["state"]["id"] == cid, msg
        # The exec'd process's mkdir, not the init's, reached this listener.
        assert len(answered) == 1 and isinstance(answered[0], tuple), answered
        assert answered[0][1] == notify.SYS_MKDIR and answered[0][0] not in (pid, 0), answered
        assert got["errno"] == errno.ENOTUNIQ, got  # the agent's answer reached the exec
    finally:
        srv.close()


VM_LEAF_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, os.path.join(os.environ["SKIFF_TOP"], "tests", "integration"))
import lib
try:
    b = lib.Bundle(["probe", "sleep", "1000"],
                   edit=lambda c: c["linux"]["resources"].update(pids={"limit": 100}))
    cid = lib.new_id()
    lib.skiff_ok("create", "--bundle", b.path, cid)
    lib.skiff_ok("start", cid)
    pid = lib.state(cid)["pid"]
    cg = [l[3:] for l in open(f"/proc/{pid}/cgroup") if l.startswith("0::")][0].strip()
    d = "/sys/fs/cgroup" + cg
    os.mkdir(d + "/init")
    with open(d + "/init/cgroup.procs", "w") as f:
        f.write(str(pid))
    with open(d + "/cgroup.subtree_control", "w") as f:
        f.write("+pids")
    r = lib.skiff("exec", cid, "probe", "cgroup")
    print("RESULT " + json.dumps({"rc": r.returncode, "stderr": r.stderr, "stdout": r.stdout,
                                  "cg": cg}))
finally:
    lib.final_cleanup()
"""


def test_exec_with_controllers_delegated_below_the_container_cgroup():
    # cgroup v2's no-internal-process rule: once the container's cgroup
    # enables controllers for its children, exec goes where the init went.
    try:
        import vm
    except ImportError:
        raise lib.Skip("tests/integration/vm.py is missing")
    ok, reason = vm.available()
    if not ok:
        raise lib.Skip(f"vm unavailable: {reason}")
    status, out = vm.run([sys.executable, "-c", VM_LEAF_SCRIPT], timeout=300,
                         env={"SKIFF_TOP": lib.TOP})
    if status == vm.UNAVAILABLE:
        raise lib.Skip("vm unavailable")
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert status == 0 and lines, out[-3000:]
    got = json.loads(lines[-1][len("RESULT "):])
    assert got["rc"] == 0, got
    assert v2_cgroup(json.loads(got["stdout"])["cgroup"]) == got["cg"] + "/init", got


def _allowed_cpus(text):
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Cpus_allowed_list:")][0]


def test_exec_cpu_affinity_initial_and_final():
    # process.execCPUAffinity (spec 1.3.0): `initial` is the runtime's affinity
    # before the process joins the container's cgroup (the process inherits it),
    # `final` is set once it has joined; the init is not affected.
    if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        raise lib.Skip("needs CPUs 0 and 1")
    aff = {"initial": "1", "final": "0"}
    cid, b, pid = running(edit=lambda c: c["process"].update(execCPUAffinity=aff))
    with open(f"/proc/{pid}/status") as f:
        assert _allowed_cpus(f.read()) != "0", "the init got execCPUAffinity"
    status = "grep Cpus_allowed_list /proc/self/status"
    r = skiff_ok("exec", cid, "sh", "-c", status)
    assert _allowed_cpus(r.stdout) == "0", r.stdout
    # --process: its own execCPUAffinity, else the config's.
    for own, want in (({"initial": "1"}, "1"), (None, "0"), ({"final": "1"}, "1")):
        proc = {"args": ["sh", "-c", status], "cwd": "/", "env": ["PATH=/bin"]}
        if own is not None:
            proc["execCPUAffinity"] = own
        path = b.file("process.json")
        with open(path, "w") as f:
            json.dump(proc, f)
        r = skiff_ok("exec", "--process", path, cid)
        assert _allowed_cpus(r.stdout) == want, (own, r.stdout)
    proc["execCPUAffinity"] = {"final": "0-x"}
    with open(path, "w") as f:
        json.dump(proc, f)
    line = one_line_error(skiff("exec", "--process", path, cid))
    assert "process.execCPUAffinity.final" in line and "0-x" in line, line
