"""The probe (tests/probe/probe) run on the host: its reports match what Python sees.

Every container test trusts the probe's JSON, so this checks the probe itself
outside any container first.
"""
import errno
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import tempfile

import lib

PROBE = getattr(lib, "PROBE", os.path.join(lib.TOP, "tests", "probe", "probe"))


def _need_probe():
    if not os.access(PROBE, os.X_OK):
        raise lib.Skip(f"{PROBE} is not built (make check TESTS=)")


def run(*args, **kw):
    """Runs the probe; returns CompletedProcess with stdout as bytes."""
    _need_probe()
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([PROBE, *map(str, args)], capture_output=True, timeout=30, **kw)


def probe(*args, **kw):
    """Runs the probe, expects exit 0 and one JSON object on stdout."""
    r = run(*args, **kw)
    assert r.returncode == 0, f"probe {args} exited {r.returncode}: {r.stderr!r}"
    out = r.stdout.decode("utf-8")  # strict: the probe must emit valid UTF-8
    assert out.endswith("\n") and out.count("\n") == 1, out
    return json.loads(out)


def status_field(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    return None


def test_probe_is_static():
    _need_probe()
    with open(PROBE, "rb") as f:
        elf = f.read()
    assert elf[:4] == b"\x7fELF" and elf[4] == 2, "not a 64-bit ELF"
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    types = [struct.unpack_from("<I", elf, phoff + i * phentsize)[0] for i in range(phnum)]
    assert 3 not in types, "probe has a PT_INTERP: it is dynamically linked"


def test_all_ids_match():
    d = probe("all")
    assert (d["uid"], d["gid"], d["euid"], d["egid"]) == \
        (os.getuid(), os.getgid(), os.geteuid(), os.getegid())
    assert (d["suid"], d["sgid"]) == (os.getresuid()[2], os.getresgid()[2])
    assert sorted(d["groups"]) == sorted(os.getgroups())
    assert d["ppid"] == os.getpid()


def test_all_has_every_field():
    d = probe("all")
    for key in ("pid", "ppid", "uid", "gid", "euid", "egid", "groups", "caps", "no_new_privs",
                "seccomp", "rlimits", "cwd", "env", "umask", "hostname", "domainname",
                "oom_score_adj", "fds", "tty", "sched", "ioprio", "personality",
                "cpus_allowed", "ns", "cgroup", "label"):
        assert key in d, key
    assert "mountinfo" not in d


def test_pid_is_the_child():
    _need_probe()
    p = subprocess.Popen([PROBE, "pid"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    out, _ = p.communicate(timeout=30)
    assert json.loads(out) == {"pid": p.pid}


def test_single_fields_share_all():
    assert probe("uid") == {"uid": os.getuid()}
    ids = probe("ids")
    assert set(ids) == {"uid", "gid", "euid", "egid", "suid", "sgid", "groups"}
    assert probe("hostname") == {"hostname": os.uname().nodename}
    assert list(probe("caps")) == ["caps"]


def test_cwd():
    with tempfile.TemporaryDirectory(dir=lib.WORK) as d:
        assert probe("cwd", cwd=d)["cwd"] == os.path.realpath(d)


def test_env_is_exactly_what_was_passed():
    env = {"A": "1", "SPACED": "x y", "QUOTE": 'say "hi"\\', "EMPTY": ""}
    got = probe("env", env=env)["env"]
    assert sorted(got) == sorted(f"{k}={v}" for k, v in env.items())


def test_hostname_and_domainname():
    d = probe("all")
    u = os.uname()
    assert d["hostname"] == u.nodename == socket.gethostname()
    with open("/proc/sys/kernel/domainname") as f:
        assert d["domainname"] == f.read().strip()


def test_caps_match_proc_status():
    caps = probe("caps")["caps"]
    for key, field in (("bounding", "CapBnd"), ("inheritable", "CapInh"),
                       ("ambient", "CapAmb")):
        want = status_field(field)
        assert caps[key]["hex"] == want, (key, caps[key]["hex"], want)
        assert len(caps[key]["names"]) == bin(int(want, 16)).count("1")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    if last <= 40:  # every bit the kernel knows has a name
        assert all(not n[4:].isdigit() for n in caps["bounding"]["names"])
    if int(status_field("CapBnd"), 16) & (1 << 21):
        assert "CAP_SYS_ADMIN" in caps["bounding"]["names"]
    if int(status_field("CapBnd"), 16) & 1:
        assert caps["bounding"]["names"][0] == "CAP_CHOWN"


def test_security_fields_match_proc_status():
    d = probe("all")
    assert d["no_new_privs"] == (status_field("NoNewPrivs") == "1")
    assert d["seccomp"] == int(status_field("Seccomp"))
    with open("/proc/self/oom_score_adj") as f:
        assert d["oom_score_adj"] == int(f.read())
    with open("/proc/self/cgroup") as f:
        assert d["cgroup"] == f.read()
    assert d["label"] is None or isinstance(d["label"], str)


def test_rlimits():
    def as_json(v):
        return -1 if v == resource.RLIM_INFINITY else v

    lims = probe("rlimits")["rlimits"]
    for name in ("RLIMIT_NOFILE", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_AS"):
        soft, hard = resource.getrlimit(getattr(resource, name))
        assert lims[name] == {"soft": as_json(soft), "hard": as_json(hard)}, name

    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 128))
    lims = probe("rlimits", preexec_fn=lower)["rlimits"]
    assert lims["RLIMIT_NOFILE"] == {"soft": 64, "hard": 128}


def test_umask_and_nice():
    def setup():
        os.umask(0o027)
        os.nice(5)
    d = probe("all", preexec_fn=setup)
    assert d["umask"] == "0027"
    assert d["sched"]["nice"] == min(os.nice(0) + 5, 19)
    assert d["sched"]["policy"] == "SCHED_OTHER"


def test_namespaces_match_python():
    ns = probe("ns")["ns"]
    for name in ("pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"):
        path = f"/proc/self/ns/{name}"
        if os.path.exists(path):
            assert ns[name] == os.stat(path).st_ino, name
        else:
            assert ns[name] is None, name


def test_cpus_allowed():
    cpus = sorted(os.sched_getaffinity(0))
    got = set()
    for part in probe("cpus_allowed")["cpus_allowed"].split(","):
        lo, _, hi = part.partition("-")
        got.update(range(int(lo), int(hi or lo) + 1))
    assert sorted(got) == cpus


def test_fds_and_tty():
    with tempfile.NamedTemporaryFile(dir=lib.WORK) as f:
        d = probe("all", pass_fds=(f.fileno(),))
        assert d["fds"]["0"] == "/dev/null"
        assert d["fds"]["1"].startswith("pipe:")
        assert d["fds"][str(f.fileno())] == f.name
    assert len(d["fds"]) == 4, d["fds"]  # the listing directory is left out
    assert d["tty"]["stdin"] is False and d["tty"]["stdout"] is False
    assert d["tty"]["ttyname"] is None


def test_open_missing_is_enoent():
    d = probe("open", "/nonexistent/probe-file")
    assert d == {"path": "/nonexistent/probe-file", "mode": "r", "ok": False,
                 "errno": errno.ENOENT, "error": os.strerror(errno.ENOENT)}
    assert probe("open", "/dev/null", "rw")["ok"] is True


def test_write_read_stat_roundtrip():
    with tempfile.TemporaryDirectory(dir=lib.WORK) as d:
        path = os.path.join(d, "f")
        data = 'line 1\n"quoted" \\ tab\t é'
        w = probe("write", path, data)
        assert w["ok"] and w["written"] == len(data.encode())
        with open(path) as f:
            assert f.read() == data
        assert probe("read", path)["content"] == data
        os.chmod(path, 0o640)
        st = probe("stat", path)
        assert (st["type"], st["mode"], st["uid"], st["size"]) == \
            ("file", "0640", os.getuid(), len(data.encode()))
        with open(path, "wb") as f:
            f.write(b"\xff\x01ok")  # not UTF-8: escaped byte by byte
        assert probe("read", path)["content"] == "\u00ff\u0001ok"
        os.symlink("f", os.path.join(d, "link"))
        assert probe("readlink", os.path.join(d, "link"))["target"] == "f"
        assert probe("lstat", os.path.join(d, "link"))["type"] == "symlink"
        assert probe("ls", d)["entries"] == ["f", "link"]
        missing = probe("read", os.path.join(d, "nope"))
        assert missing["errno"] == errno.ENOENT and missing["content"] is None


def test_stat_dev_null():
    st = probe("stat", "/dev/null")
    assert (st["type"], st["major"], st["minor"]) == ("char", 1, 3)


def test_mknod():
    if os.geteuid() != 0:
        raise lib.Skip("needs root")
    with tempfile.TemporaryDirectory(dir=lib.WORK) as d:
        path = os.path.join(d, "null")
        r = probe("mknod", path)
        if not r["ok"]:
            raise lib.Skip(f"mknod not allowed here: {r['error']}")
        st = probe("stat", path)
        assert (st["type"], st["major"], st["minor"]) == ("char", 1, 3)


def test_mountinfo_matches():
    def table():
        with open("/proc/self/mountinfo") as f:
            return f.read().splitlines()

    for _ in range(5):  # other tests may mount meanwhile: retry until stable
        before = table()
        mounts = probe("mountinfo")["mountinfo"]
        lines = table()
        if before == lines:
            break
    assert len(mounts) == len(lines)
    assert any(m["mount_point"] == "/" for m in mounts)
    for m, line in zip(mounts, lines):
        fields = line.split()
        assert m["id"] == int(fields[0]) and m["options"] == fields[5]
        assert m["fs_type"] == fields[fields.index("-") + 1]


def test_exit_returns_n():
    for n in (0, 3, 42, 255):
        r = run("exit", n)
        assert r.returncode == n and r.stdout == b"", (n, r)


def test_unknown_command_is_usage_exit_2():
    r = run("frobnicate")
    assert r.returncode == 2 and r.stdout == b""
    assert b"usage: probe" in r.stderr
    assert run().returncode == 2
    assert run("exit").returncode == 2


def test_kill_self():
    assert run("kill-self", "USR1").returncode == -signal.SIGUSR1
    assert run("kill-self", "SIGTERM").returncode == -signal.SIGTERM
    assert run("kill-self", "9").returncode == -signal.SIGKILL


def test_sleep_reports_pid_and_exits_143_on_sigterm():
    _need_probe()
    p = subprocess.Popen([PROBE, "sleep", "60"], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    try:
        assert json.loads(p.stdout.readline()) == {"pid": p.pid}
        p.terminate()
        assert p.wait(timeout=10) == 143
    finally:
        p.kill()
        p.wait(timeout=20)
        p.stdout.close()


def test_count_memhog_forkbomb():
    r = run("count", 3)
    assert r.returncode == 0 and r.stdout.split() == [b"1", b"2", b"3"]
    r = run("memhog", 4)
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and lines[-1] == {"mb": 4, "done": True}
    assert [x["mb"] for x in lines[:-1]] == [1, 2, 3, 4]
    assert probe("forkbomb", 8) == {"requested": 8, "forked": 8, "errno": 0, "error": None}


def test_syscalls():
    _need_probe()
    p = subprocess.Popen([PROBE, "syscall", "getpid"], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    out, _ = p.communicate(timeout=30)
    assert json.loads(out)["ret"] == p.pid
    assert probe("syscall", "getppid")["ret"] == os.getpid()
    s = probe("syscall", "socket")
    assert s["ret"] >= 0 and s["errno"] == 0
    assert probe("syscall", "personality")["ret"] == probe("personality")["personality"]
    with tempfile.TemporaryDirectory(dir=lib.WORK) as d:
        target = os.path.join(d, "made")
        assert probe("syscall", "mkdir", target)["ret"] == 0
        assert not os.path.exists(target), "probe left its directory behind"
    assert run("syscall", "bogus").returncode == 2


def test_ptrace_missing_pid_is_esrch():
    d = probe("ptrace", 2 ** 22 + 1)  # above pid_max's ceiling
    assert d["ok"] is False and d["errno"] == errno.ESRCH
