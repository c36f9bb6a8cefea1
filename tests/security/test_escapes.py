"""Known container escapes, replayed against skiff's defaults; each must fail.

Every test names the CVE it replays.  The attacker is a process inside a
container made from the usual test bundle (root in the container, the
default capabilities: no CAP_SYS_PTRACE, no CAP_SYS_ADMIN).
"""
import ctypes
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lib  # noqa: E402
import seclib  # noqa: E402
from lib import Bundle, ROOT, new_id, skiff, skiff_ok, state  # noqa: E402


def join_pid_ns_of(pid):
    def edit(c):
        c["linux"]["namespaces"] = [
            {"type": "pid", "path": f"/proc/{pid}/ns/pid"} if n["type"] == "pid" else n
            for n in c["linux"]["namespaces"]]
    return edit


# ---- CVE-2019-5736: overwriting the runtime through /proc/PID/exe ----

def test_cve_2019_5736_exe_is_the_containers_and_no_skiff_is_visible():
    script = ("probe readlink /proc/1/exe; "
              "for p in /proc/[0-9]*; do probe readlink $p/exe; done")
    r, _ = seclib.sh(script)
    first, *rest = seclib.json_lines(r.stdout)
    assert r.returncode == 0 and first["target"] == "/bin/busybox", r
    targets = [x["target"] for x in rest]
    assert targets and all(t in ("/bin/busybox", "/bin/probe") for t in targets), targets
    assert not any("skiff" in (t or "") for t in targets), targets


def test_cve_2019_5736_created_init_is_not_dumpable():
    """Until it execs, the init is skiff: no container process may reach its exe or fds."""
    a = Bundle(["true"])
    cid = new_id()
    skiff_ok("create", "--bundle", a.path, cid)
    pid = state(cid)["pid"]
    # On the host it is skiff, reachable to a process with CAP_SYS_PTRACE only.
    assert os.readlink(f"/proc/{pid}/exe") == os.path.realpath(lib.SKIFF)
    nocap = subprocess.run(["setpriv", "--inh-caps=-all", "--bounding-set=-sys_ptrace", "--",
                            "readlink", f"/proc/{pid}/exe"], capture_output=True, text=True,
                           timeout=60)
    assert nocap.returncode != 0 and nocap.stdout == "", nocap
    # A process of another container in the same pid namespace: root, no CAP_SYS_PTRACE.
    r, _ = seclib.sh("probe readlink /proc/1/exe; probe open /proc/1/exe r; "
                     "probe open /proc/1/exe w; probe ls /proc/1/fd",
                     edit=join_pid_ns_of(pid))
    link, rd, wr, fds = seclib.json_lines(r.stdout)
    assert not link["ok"] and link["errno"] == 13, link
    assert not rd["ok"] and rd["errno"] == 13, rd
    assert not wr["ok"], wr
    # Listing the numbers is harmless; every one of them must be unreachable.
    assert fds["ok"] and fds["entries"], fds  # at least stdio and the exec fifo
    opens = seclib.sh("; ".join(f"probe open /proc/1/fd/{n} r" for n in fds["entries"]),
                      edit=join_pid_ns_of(pid))[0]
    tried = seclib.json_lines(opens.stdout)
    assert len(tried) == len(fds["entries"]), (opens, fds)
    for o in tried:
        assert not o["ok"] and o["errno"] in (13, 1), o


# The init and an exec'd process are clones of skiff until their execve.  A program
# whose interpreter is /proc/self/exe (or args[0] = /proc/self/exe) would make the
# kernel load that image, the host's skiff, in the container; skiff execs through a
# sealed memfd trampoline first, so /proc/self/exe is never the host binary there.

def add_script(b, name, text):
    path = os.path.join(b.rootfs, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def add_host_libs(rootfs, binary):
    """The shared objects `binary` loads, at their host paths: without them the host's
    skiff could not start in the container and an attack would fail for the wrong
    reason."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=60).stdout
    for path in re.findall(r"(/\S+) \(0x", out):
        dest = os.path.join(rootfs, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(path, dest)


def assert_refused_by_trampoline(r):
    out = r.stdout + r.stderr
    assert r.returncode == 126 and "skiff-trampoline: refusing" in r.stderr, r
    assert "usage" not in out and "unknown command" not in out, r


def test_cve_2019_5736_proc_self_exe_interpreter_never_runs_skiff():
    b = Bundle(["/evil", "run"])
    add_script(b, "evil", "#!/proc/self/exe --help\n")
    os.symlink("/proc/self/exe", os.path.join(b.rootfs, "bin", "selfexe"))
    add_host_libs(b.rootfs, lib.SKIFF)
    assert_refused_by_trampoline(skiff("run", "--bundle", b.path, new_id()))
    cid = new_id()
    b.config["process"]["args"] = ["probe", "sleep", "inf"]
    b.write()
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    assert_refused_by_trampoline(skiff("exec", cid, "/evil", "run"))
    # args[0] naming /proc/self/exe itself, or a symlink to it.
    for arg0 in ("/proc/self/exe", "/bin/selfexe"):
        assert_refused_by_trampoline(skiff("exec", cid, arg0, "--help"))
    skiff_ok("kill", cid, "KILL")


def test_cve_2019_5736_trampoline_without_execveat():
    """A seccomp profile that denies execveat: the trampoline runs via /proc/self/fd."""
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["execveat"], "action": "SCMP_ACT_ERRNO"}]}
    b = Bundle(["probe", "readlink", "/proc/self/exe"], edit=edit)
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 0 and json.loads(r.stdout)["target"] == "/bin/probe", r
    b.config["process"]["args"] = ["/evil"]
    b.write()
    add_script(b, "evil", "#!/proc/self/exe\n")
    add_host_libs(b.rootfs, lib.SKIFF)
    assert_refused_by_trampoline(skiff("run", "--bundle", b.path, new_id()))


def test_cve_2019_5736_trampoline_keeps_exe_args_and_env_exact():
    """The container sees its program as configured, not the trampoline's argv."""
    args = ["sh", "-c", "probe readlink /proc/$$/exe; probe read /proc/$$/cmdline; exit 0",
            "arg 0", "", "x"]
    # sh rewrites its environment: probe reports the one it was given.
    env_args = ["probe", "read", "/proc/self/environ"]
    env = ["PATH=/bin", "EMPTY=", "SP=a  b", "TERM=xterm", "PATH=/usr/bin:/bin"]

    def check(out, env_out):
        exe, cmdline = seclib.json_lines(out)
        (environ,) = seclib.json_lines(env_out)
        assert exe["target"] == "/bin/busybox", exe
        assert cmdline["content"] == "\0".join(args) + "\0", cmdline
        # HOME is added from the container's passwd when the env has none (as runc).
        assert environ["content"] == "\0".join(env + ["HOME=/root"]) + "\0", environ

    outs = []
    for a in (args, env_args):
        b = Bundle(a, edit=lambda c: c["process"].update(env=env))
        r = skiff("run", "--bundle", b.path, new_id())
        assert r.returncode == 0, r
        outs.append(r.stdout)
    check(*outs)
    # The same through `exec`, which ends in the same process_exec().
    b.config["process"]["args"] = ["probe", "sleep", "inf"]
    b.write()
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    outs = []
    for a in (args, env_args):
        path = os.path.join(b.path, "process.json")
        with open(path, "w") as f:
            json.dump({"args": a, "env": env, "cwd": "/", "user": {"uid": 0, "gid": 0}}, f)
        outs.append(skiff_ok("exec", "--process", path, cid).stdout)
    check(*outs)
    skiff_ok("kill", cid, "KILL")


# The exploit: a process exec'd into the container whose program is a script run by
# /proc/self/exe.  Unprotected, that is the host's skiff (here a copy, so a failure
# cannot destroy the build), which blocks opening its --log (a fifo); with skiff's
# trampoline it is the sealed memfd, which blocks writing its refusal to a full
# stderr pipe.  Either way the container's init finds that process, holds its
# /proc/PID/exe open, lets it finish, then reopens the held file for writing.
ATTACK = r"""
v=
for i in $(seq 150); do
  for p in /proc/[0-9]*; do
    case "$(readlink $p/exe 2>/dev/null)" in *skiff-victim*|*skiff-trampoline*) v=$p;; esac
  done
  [ -n "$v" ] && break
  sleep 0.1
done
echo "victim=$v"
[ -n "$v" ] || exit 0
exec 3< $v/exe && echo held
echo "target=$(readlink /proc/self/fd/3)"
cat /fifo > /dev/null &
while readlink $v/exe > /dev/null 2>&1; do sleep 0.1; done
for i in $(seq 20); do
  if echo pwned 2>/dev/null > /proc/self/fd/3; then echo overwritten; exit 0; fi
  sleep 0.1
done
echo refused
"""


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def full_pipe():
    """(read end, write end) of a pipe with no room left: a write to it blocks."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w


def wait_for_text(path, text, seconds):
    for _ in range(int(seconds * 10)):
        with open(path) as f:
            if text in f.read():
                return
        time.sleep(0.1)


def test_cve_2019_5736_host_binary_cannot_be_overwritten():
    copy = os.path.join(lib.WORK, "skiff-victim")
    shutil.copy2(lib.SKIFF, copy)
    before = sha256(copy)
    b = Bundle(["sh", "-c", ATTACK])
    add_script(b, "evil", "#!/proc/self/exe --log=/fifo\n")
    os.mkfifo(os.path.join(b.rootfs, "fifo"))
    add_host_libs(b.rootfs, copy)
    cid = new_id()
    out_path = os.path.join(b.path, "out")
    open(out_path, "w").close()

    def victim_skiff(*args, stderr=None):
        with open(out_path, "a") as out:
            return subprocess.run([copy, "--root", ROOT, *args], stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=stderr or out, timeout=30).returncode

    assert victim_skiff("create", "--bundle", b.path, cid) == 0
    assert victim_skiff("start", cid) == 0
    pipe_r, pipe_w = full_pipe()
    try:
        assert victim_skiff("exec", "-d", cid, "/evil", stderr=pipe_w) == 0
        os.close(pipe_w)
        pipe_w = -1
        wait_for_text(out_path, "held", 15)
    finally:
        os.close(pipe_r)  # the victim's write fails (EPIPE): it ends
        if pipe_w >= 0:
            os.close(pipe_w)
    # Wait with the build's skiff: a running copy would keep the target busy (ETXTBSY).
    for _ in range(200):
        if state(cid)["status"] == "stopped":
            break
        time.sleep(0.1)
    with open(out_path) as f:
        out = f.read()
    assert state(cid)["status"] == "stopped", out
    assert "overwritten" not in out and sha256(copy) == before, out
    # The attack reached a process started by skiff and held its executable ...
    assert re.search(r"^victim=/proc/\d+$", out, re.M) and "\nheld\n" in out, out
    # ... which was the sealed trampoline, not the host's binary, and stayed unwritable.
    assert "target=/memfd:skiff-trampoline" in out and "\nrefused\n" in out, out


# ---- CVE-2016-9962: ptracing the init while it holds the runtime's fds ----

def test_cve_2016_9962_init_cannot_be_ptraced_during_setup():
    a = Bundle(["true"])
    cid = new_id()
    skiff_ok("create", "--bundle", a.path, cid)
    pid = state(cid)["pid"]
    r, _ = seclib.sh("probe ptrace 1", edit=join_pid_ns_of(pid))
    (pt,) = seclib.json_lines(r.stdout)
    assert not pt["ok"] and pt["errno"] == 1, pt
    # After execve the process is the container's own and dumpable again: that is
    # correct (it no longer holds anything of skiff's), and not testable as "before".
    skiff_ok("start", cid)


# ---- CVE-2024-21626: leaked fds and a cwd through /proc/self/fd ----

def test_cve_2024_21626_only_stdio_reaches_the_container():
    r, _ = seclib.run(["probe", "fds"])
    fds = json.loads(r.stdout)["fds"]
    assert sorted(fds) == ["0", "1", "2"], fds


def cwd_run(n, preserve_dir=None):
    """`skiff run` with process.cwd /proc/self/fd/N; with preserve_dir, the init gets a
    directory fd of the host at 3 (--preserve-fds 1), as a leaked one would be."""
    cid = new_id()
    b = Bundle(["probe", "cwd"], edit=lambda c: c["process"].update(cwd=f"/proc/self/fd/{n}"))
    cmd = [lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, cid]
    if preserve_dir:
        cmd = ["sh", "-c", 'exec 3< "$0" && exec "$@"', preserve_dir, cmd[0], *cmd[1:3],
               "run", "--preserve-fds", "1", *cmd[4:]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert not os.path.exists(os.path.join(ROOT, cid)), (n, "state left", r)
    return r


# Ways a /proc/self/fd/N cwd may be refused: resolved inside the rootfs, where /proc/self
# is a symlink skiff does not follow; chdir finding no such fd, or no directory; or,
# after a chdir into a leaked directory, the check that the cwd is inside the root.
CWD_REFUSALS = ("(refusing a symlink)", "No such file or directory", "Not a directory",
                "is outside the container's root")


def test_cve_2024_21626_leaked_host_directory_fd_is_no_cwd():
    """The attack itself: a host directory fd is open in the init at chdir time."""
    hostdir = os.path.join(lib.WORK, "host-secret")
    os.makedirs(hostdir, exist_ok=True)
    r = cwd_run(3, preserve_dir=hostdir)
    assert r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1, r
    assert 'process.cwd' in r.stderr and "/proc/self/fd/3" in r.stderr, r
    assert any(w in r.stderr for w in (CWD_REFUSALS[0], CWD_REFUSALS[3])), r


def test_cve_2024_21626_cwd_through_proc_self_fd_is_refused():
    """Whatever fd N the init holds at chdir time (its sync socket, the exec fifo, the
    trampoline memfd), none is a directory that chdir could enter: each cwd is refused
    before, or by chdir, never found outside the root after it; nothing starts."""
    why = {}
    for n in range(3, 20):
        r = cwd_run(n)
        assert r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1, (n, r)
        assert "process.cwd" in r.stderr and f"/proc/self/fd/{n}" in r.stderr, r
        why[n] = [w for w in CWD_REFUSALS if w in r.stderr]
    assert all(w and w[0] != CWD_REFUSALS[3] for w in why.values()), why


# ---- CVE-2021-30465: mount destinations through symlinks ----

def tmpfs_points(stdout, size):
    return [m["mount_point"] for m in json.loads(stdout)["mountinfo"]
            if m["fs_type"] == "tmpfs" and f"size={size}" in m["super_options"]]


def test_cve_2021_30465_symlinked_destinations_stay_inside_the_rootfs():
    hostdir = os.path.join(lib.WORK, "hostdir")
    os.makedirs(hostdir, exist_ok=True)

    def edit(c):
        c["mounts"].append({"destination": "/evil/x", "type": "tmpfs", "source": "tmpfs",
                            "options": ["size=1232k"]})
        c["mounts"].append({"destination": "/evil2", "type": "tmpfs", "source": "tmpfs",
                            "options": ["size=1240k"]})
    b = Bundle(["probe", "mountinfo"], edit=edit)
    os.symlink("/", os.path.join(b.rootfs, "evil"))
    os.symlink(hostdir, os.path.join(b.rootfs, "evil2"))
    os.makedirs(b.rootfs + hostdir)
    before = seclib.watched_mounts()
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    # Both land inside the container's root, where it can see them.
    assert tmpfs_points(r.stdout, "1232k") == ["/x"], r.stdout
    assert tmpfs_points(r.stdout, "1240k") == [hostdir], r.stdout
    assert seclib.watched_mounts() == before and os.listdir(hostdir) == []


def test_cve_2021_30465_swapping_symlink_race():
    """A directory swapped for a symlink to the host in a loop while containers start."""
    hostdir = os.path.join(lib.WORK, "race-target")
    os.makedirs(hostdir, exist_ok=True)

    def edit(c):
        c["mounts"].append({"destination": "/race/m", "type": "tmpfs", "source": "tmpfs",
                            "options": ["size=1248k"]})
    b = Bundle(["probe", "mountinfo"], edit=edit)
    os.makedirs(b.rootfs + hostdir + "/m")
    race = os.path.join(b.rootfs, "race")
    os.makedirs(os.path.join(race, "m"))
    os.symlink(hostdir, race + ".lnk")
    stop = threading.Event()
    libc = ctypes.CDLL(None, use_errno=True)
    swaps, swap_errors = [0], []

    def swapper():
        # renameat2(RENAME_EXCHANGE): /race flips between the directory and the symlink.
        while not stop.is_set():
            if libc.renameat2(-100, race.encode(), -100, (race + ".lnk").encode(), 2) < 0:
                swap_errors.append(os.strerror(ctypes.get_errno()))
                return
            swaps[0] += 1
    before = seclib.watched_mounts()
    t = threading.Thread(target=swapper, daemon=True)
    t.start()
    ok = 0
    try:
        for _ in range(20):
            r = skiff("run", "--bundle", b.path, new_id())
            if r.returncode != 0:
                assert r.stderr.count("\n") == 1, r.stderr
                continue
            ok += 1
            # Wherever the race sent it, the mount is inside the container's root (the
            # directory may have been swapped away to /race.lnk after the mount).
            points = tmpfs_points(r.stdout, "1248k")
            assert points in (["/race/m"], ["/race.lnk/m"], [hostdir + "/m"]), points
            assert seclib.watched_mounts() == before
    finally:
        stop.set()
        t.join()
    assert not swap_errors and swaps[0] > 20, ("the swapper did not race", swaps, swap_errors)
    assert seclib.watched_mounts() == before
    assert os.listdir(hostdir) == [], os.listdir(hostdir)
    assert ok > 0, "no container started at all"


# ---- CVE-2019-16884 / CVE-2023-28642: /proc in the image is a symlink ----

def test_cve_2019_16884_proc_symlink_in_image_is_refused():
    for target in ("/tmp", "..", "/"):
        b = Bundle(["true"])
        os.rmdir(os.path.join(b.rootfs, "proc"))
        os.symlink(target, os.path.join(b.rootfs, "proc"))
        seclib.refused(b, new_id(), "/proc", "symlink")


# ---- CVE-2025-31133: /dev/null replaced before masking ----

def test_cve_2025_31133_dev_null_symlink_cannot_unmask():
    def edit(c):
        c["mounts"] = [m for m in c["mounts"] if not m["destination"].startswith("/dev")]
        c["mounts"].append({"destination": "/dev", "type": "bind", "source": "devsrc",
                            "options": ["rbind"]})
    b = Bundle(["probe", "read", "/proc/kcore"], edit=edit)
    os.mkdir(b.file("devsrc"))
    os.symlink("/etc/passwd", os.path.join(b.file("devsrc"), "null"))
    with open("/etc/passwd", "rb") as f:
        passwd = f.read()
    seclib.refused(b, new_id(), "maskedPaths", "/dev/null", "not the null device")
    with open("/etc/passwd", "rb") as f:
        assert f.read() == passwd


def test_default_dev_is_a_fresh_tmpfs_with_a_real_null():
    r, _ = seclib.sh("probe stat /dev/null; probe mountinfo")
    assert r.returncode == 0, r
    st, mi = seclib.json_lines(r.stdout)
    dev = [m for m in mi["mountinfo"] if m["mount_point"] == "/dev"]
    assert dev and dev[-1]["fs_type"] == "tmpfs", dev
    assert (st["ok"], st["type"], st["major"], st["minor"]) == (True, "char", 1, 3), st


# ---- CVE-2022-29162: inheritable capabilities ----

def test_cve_2022_29162_inheritable_caps_are_empty_unless_configured():
    r, _ = seclib.run(["probe", "caps"])
    caps = json.loads(r.stdout)["caps"]
    assert caps["inheritable"]["names"] == [], caps
    assert caps["ambient"]["names"] == [], caps

    def edit(c):
        c["process"]["capabilities"]["inheritable"] = ["CAP_KILL"]
    r, _ = seclib.run(["probe", "caps"], edit=edit)
    assert json.loads(r.stdout)["caps"]["inheritable"]["names"] == ["CAP_KILL"]


# ---- the state store ----

def test_hostile_container_ids_are_refused():
    b = Bundle(["true"])
    before = sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else []
    for bad in ("/", "a/b", "..", ".", "../x", "a\x01b", "a\tb", "x" * 4096, "é",
                "/etc/passwd", ".hidden"):
        r = skiff("create", "--bundle", b.path, bad)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (bad, r.stderr)
        assert "container id" in r.stderr, (bad, r.stderr)
        # Nothing made in the state root, nor next to it ("../x").
        assert (sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else []) == before, bad
        assert not os.path.exists(os.path.join(os.path.dirname(ROOT), "x")), bad


def test_symlinked_state_root_is_refused():
    real = seclib.private_root()
    link = real + ".lnk"
    os.symlink(real, link)
    try:
        b = Bundle(["true"])
        cid = new_id()
        r = skiff("create", "--bundle", b.path, cid, root=link)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert os.listdir(real) == []
    finally:
        os.unlink(link)
        seclib.rm_root(real)


def test_state_files_are_private():
    b = Bundle(["true"])
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    assert stat.S_IMODE(os.stat(ROOT).st_mode) == 0o700
    d = os.path.join(ROOT, cid)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    for name in os.listdir(d):
        st = os.lstat(os.path.join(d, name))
        if stat.S_ISREG(st.st_mode):
            assert stat.S_IMODE(st.st_mode) == 0o600, (name, oct(st.st_mode))
    assert stat.S_IMODE(os.stat(os.path.join(d, "state.json")).st_mode) == 0o600
