"""linux.seccomp end to end: every action and operator, the cache, notify.

The probe makes one raw syscall (`probe syscall NAME [ARG]`) and prints
what the kernel returned, so each test sees the filter from inside.
"""
import ctypes
import errno
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lib  # noqa: E402
from notify import SYS_MKDIR, libc, notif_recv, notif_send  # noqa: E402
import seclib  # noqa: E402
from lib import Bundle, ROOT, new_id, skiff  # noqa: E402

SIGSYS_EXIT = 128 + 31


def with_seccomp(syscalls, default="SCMP_ACT_ALLOW", nnp=True, **extra):
    def edit(c):
        c["linux"]["seccomp"] = {"defaultAction": default,
                                 "architectures": ["SCMP_ARCH_X86_64"],
                                 "syscalls": syscalls, **extra}
        c["process"]["noNewPrivileges"] = nnp
    return edit


def probe_calls(edit, *calls):
    """Runs `probe syscall ...` once per call in one container; returns the reports."""
    script = "; ".join(f"probe syscall {c}" for c in calls)
    r, _ = seclib.sh(script, edit=edit)
    out = seclib.json_lines(r.stdout)
    assert r.returncode == 0 and len(out) == len(calls), r
    return out


def test_errno_with_errno_ret_and_default_eperm():
    edit = with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42},
                         {"names": ["chmod"], "action": "SCMP_ACT_ERRNO"}])
    mk, ch, pid = probe_calls(edit, "mkdir", "chmod", "getpid")
    assert mk["ret"] == -1 and mk["errno"] == 42, mk
    assert ch["ret"] == -1 and ch["errno"] == errno.EPERM, ch
    assert pid["ret"] > 0 and pid["errno"] == 0, pid


def test_kill_process_exits_159():
    edit = with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}])
    # As pid 1 of the container, and as a child the shell reports on.
    r, _ = seclib.run(["probe", "syscall", "mkdir"], edit=edit)
    assert r.returncode == SIGSYS_EXIT and r.stdout == "", r
    r, _ = seclib.sh("probe syscall getpid >/dev/null; echo ok=$?; probe syscall mkdir; "
                     "echo rc=$?", edit=edit)
    assert r.stdout.splitlines() == ["ok=0", f"rc={SIGSYS_EXIT}"], r


def test_kill_thread_and_trap_deliver_sigsys():
    for action in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"):
        edit = with_seccomp([{"names": ["mkdir"], "action": action}])
        r, _ = seclib.sh("probe syscall mkdir; echo rc=$?", edit=edit)
        assert r.stdout.splitlines() == [f"rc={SIGSYS_EXIT}"], (action, r)


def test_log_allows_the_call():
    edit = with_seccomp([{"names": ["getppid"], "action": "SCMP_ACT_LOG"},
                         {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7}])
    pp, ch = probe_calls(edit, "getppid", "chmod")
    assert pp["ret"] >= 0 and pp["errno"] == 0, pp
    assert ch["errno"] == 7, ch  # the filter is really on


# What a static probe and busybox need once the filter is loaded (before execve).
ALLOW_LIST = """execve execveat brk arch_prctl set_tid_address set_robust_list rseq
prlimit64 mprotect mmap munmap mremap readlink readlinkat getrandom uname write writev
read exit exit_group fstat newfstatat stat lstat statx ioctl getpid getppid gettid
rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack close open openat fcntl getuid
geteuid getgid getegid futex madvise clock_gettime poll lseek dup2 dup3 pipe2 wait4
clone fork vfork getcwd chdir access faccessat faccessat2 prctl sched_getaffinity""".split()


def test_allow_list_with_errno_default():
    edit = with_seccomp([{"names": ALLOW_LIST, "action": "SCMP_ACT_ALLOW"}],
                        default="SCMP_ACT_ERRNO", defaultErrnoRet=errno.ENOSYS)
    r, _ = seclib.run(["probe", "syscall", "getpid"], edit=edit)
    (pid,) = seclib.json_lines(r.stdout)
    assert r.returncode == 0 and pid["ret"] > 0, r
    r, _ = seclib.run(["probe", "syscall", "mkdir"], edit=edit)
    (mk,) = seclib.json_lines(r.stdout)
    assert mk["ret"] == -1 and mk["errno"] == errno.ENOSYS, mk


# personality(arg0) with arg0 in 4, 8, 12, 16, 24: which calls the rule matches.
OPERATORS = {
    "SCMP_CMP_NE": ({"value": 8}, [True, False, True, True, True]),
    "SCMP_CMP_LT": ({"value": 8}, [True, False, False, False, False]),
    "SCMP_CMP_LE": ({"value": 8}, [True, True, False, False, False]),
    "SCMP_CMP_EQ": ({"value": 8}, [False, True, False, False, False]),
    "SCMP_CMP_GE": ({"value": 12}, [False, False, True, True, True]),
    "SCMP_CMP_GT": ({"value": 12}, [False, False, False, True, True]),
    # (arg & 12) == 8
    "SCMP_CMP_MASKED_EQ": ({"value": 12, "valueTwo": 8}, [False, True, False, False, True]),
}


def test_every_operator():
    values = [4, 8, 12, 16, 24]
    for op, (arg, expect) in OPERATORS.items():
        rule = {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42,
                "args": [{"index": 0, "op": op, **arg}]}
        out = probe_calls(with_seccomp([rule]), *(f"personality {v}" for v in values))
        seen = [o["errno"] == 42 for o in out]
        assert seen == expect, (op, out)
        assert all(o["ret"] >= 0 for o, m in zip(out, seen) if not m), (op, out)


def test_unknown_syscall_names_are_skipped():
    edit = with_seccomp([{"names": ["no_such_syscall_skiff", "mkdir"],
                          "action": "SCMP_ACT_ERRNO", "errnoRet": 42}])
    (mk,) = probe_calls(edit, "mkdir")
    assert mk["errno"] == 42, mk


def test_unknown_action_is_one_line_and_leaves_nothing():
    b = Bundle(["true"], edit=with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_FOO"}]))
    seclib.refused(b, new_id(), "linux.seccomp.syscalls[0].action", "SCMP_ACT_FOO")


def test_filter_loads_without_no_new_privs_for_a_non_root_user():
    def edit(c):
        with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}],
                     nnp=False)(c)
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
    r, _ = seclib.sh("probe seccomp; probe no_new_privs; probe uid; probe syscall mkdir",
                     edit=edit)
    sc, nnp, uid, mk = seclib.json_lines(r.stdout)
    assert sc["seccomp"] == 2 and nnp["no_new_privs"] == 0 and uid["uid"] == 1000, r
    assert mk["errno"] == 42, mk


def test_cache_keeps_one_entry_and_behaves_the_same():
    root = seclib.private_root()
    try:
        edit = with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}])
        b = Bundle(["probe", "syscall", "mkdir"], edit=edit)
        outs = []
        for _ in range(2):
            r = skiff("run", "--bundle", b.path, new_id(), root=root)
            assert r.returncode == 0, r
            outs.append(seclib.json_lines(r.stdout)[0])
        cache = os.path.join(root, ".seccomp-cache")
        entries = [n for n in os.listdir(cache) if n.endswith(".bpf")]
        assert len(entries) == 1, os.listdir(cache)
        assert outs[0]["errno"] == outs[1]["errno"] == 42, outs
        assert os.stat(cache).st_mode & 0o777 == 0o700
    finally:
        seclib.rm_root(root)


# ---- SCMP_ACT_NOTIFY and listenerPath ----

class Agent:
    """A seccomp agent: accepts one connection, keeps the message and the fd."""

    def __init__(self, path):
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.msg, self.fds, self.conn = b"", [], None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.conn, _ = self.sock.accept()
        msg, fds, _, _ = socket.recv_fds(self.conn, 65536, 4)
        self.msg, self.fds = msg, fds

    def close(self):
        for fd in self.fds:
            os.close(fd)
        if self.conn:
            self.conn.close()
        self.sock.close()


def notify_edit(path, metadata="agent-metadata"):
    return with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
                        listenerPath=path, listenerMetadata=metadata)


def test_notify_sends_listener_fd_and_state_and_waits_for_the_answer():
    path = os.path.join(lib.WORK, f"{new_id('agent')}.sock")
    agent = Agent(path)
    cid = new_id()
    b = Bundle(["probe", "syscall", "mkdir"], edit=notify_edit(path))
    out = open(b.file("out"), "w+")
    proc = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, cid],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        agent.thread.join(20)
        assert len(agent.fds) == 1, (agent.msg, open(b.file("out")).read())
        msg = json.loads(agent.msg)
        assert set(msg) == {"ociVersion", "fds", "pid", "metadata", "state"}, msg
        assert msg["fds"] == ["seccompFd"] and msg["metadata"] == "agent-metadata", msg
        assert msg["ociVersion"].startswith("1."), msg
        st = msg["state"]
        assert st["id"] == cid and st["bundle"] == b.path and st["pid"] == msg["pid"] > 0, msg
        # The probe's mkdir waits on the agent.
        time.sleep(0.5)
        assert proc.poll() is None, "the notified syscall did not wait for the agent"
        nid, pid, nr = notif_recv(agent.fds[0])
        assert nr == SYS_MKDIR and pid == msg["pid"], (nr, pid, msg)
        notif_send(agent.fds[0], nid, 0, -errno.ENOTUNIQ)
        assert proc.wait(20) == 0
        out.seek(0)
        (report,) = seclib.json_lines(out.read())
        assert report["ret"] == -1 and report["errno"] == errno.ENOTUNIQ, report
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)
        agent.close()
        out.close()
        os.unlink(path)


def test_notify_fake_success_without_metadata():
    path = os.path.join(lib.WORK, f"{new_id('agent')}.sock")
    agent = Agent(path)
    b = Bundle(["probe", "syscall", "mkdir"], edit=notify_edit(path, metadata=None))
    del b.config["linux"]["seccomp"]["listenerMetadata"]
    b.write()
    proc = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, new_id()],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        agent.thread.join(20)
        msg = json.loads(agent.msg)
        assert "metadata" not in msg and msg["fds"] == ["seccompFd"], msg
        nid, _, _ = notif_recv(agent.fds[0])
        notif_send(agent.fds[0], nid, 0, 0)
        out, _ = proc.communicate(timeout=20)
        (report,) = seclib.json_lines(out.decode())
        assert report["ret"] == 0 and report["errno"] == 0, report
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=20)
        agent.close()
        os.unlink(path)


def test_notify_without_an_agent_fails_create_cleanly():
    path = os.path.join(lib.WORK, "nobody-listens.sock")
    b = Bundle(["true"], edit=notify_edit(path))
    seclib.refused(b, new_id(), "linux.seccomp.listenerPath", path)


def test_notify_without_listener_path_is_refused():
    b = Bundle(["true"], edit=with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]))
    seclib.refused(b, new_id(), "linux.seccomp.listenerPath")


# ---- profiles older than the kernel and libc (issue 12 §2 item 1) ----

_libseccomp = ctypes.CDLL("libseccomp.so.2")
_libseccomp.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p
NATIVE = 0  # SCMP_ARCH_NATIVE


def names_below(limit):
    """Every x86_64 syscall name numbered below limit: a profile written before it."""
    names = []
    for nr in range(limit):
        p = _libseccomp.seccomp_syscall_resolve_num_arch(NATIVE, nr)
        if p:
            names.append(ctypes.string_at(p).decode())
            libc.free(ctypes.c_void_p(p))
    return names


# Linux 4.13's table ends with pkey_free (331): a profile of that age names
# nothing newer (statx is 332, clone3 435, close_range 436, faccessat2 439).
OLD_PROFILE = [n for n in names_below(332) if n not in ("mkdir", "chmod")]
SYS_CLONE3, SYS_FACCESSAT2 = 435, 439


def old_profile(nnp, extra=(), **kw):
    """Default errno (EPERM), the old names allowed, mkdir and chmod not named."""
    return with_seccomp([{"names": OLD_PROFILE, "action": "SCMP_ACT_ALLOW"}, *extra],
                        default="SCMP_ACT_ERRNO", nnp=nnp, **kw)


def errnos(reports):
    return [r["errno"] if r["ret"] == -1 else 0 for r in reports]


def test_an_old_profile_runs_and_newer_syscalls_get_enosys():
    # Failed before: skiff's own faccessat2/close_range after the load got EPERM
    # ("executable file not found in $PATH" / exec: Operation not permitted), and
    # a syscall newer than the profile got EPERM, so glibc could not fall back.
    for nnp in (True, False):
        for user in ({"uid": 0, "gid": 0}, {"uid": 1000, "gid": 1000}):
            def edit(c, nnp=nnp, user=user):
                old_profile(nnp)(c)
                c["process"]["user"] = user
            out = probe_calls(edit, "nr 1000", f"nr {SYS_FACCESSAT2}", f"nr {SYS_CLONE3}",
                              "mkdir", "getpid")
            assert errnos(out) == [errno.ENOSYS] * 3 + [errno.EPERM, 0], (nnp, user, out)


def test_named_syscalls_keep_their_action_and_set_the_limit():
    # faccessat2 and close_range named with EPERM: skiff must not need them after
    # the load, clone3 (older than faccessat2) now counts as known: EPERM.
    named = [{"names": ["faccessat2", "close_range"], "action": "SCMP_ACT_ERRNO"},
             {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}]
    for nnp in (True, False):
        out = probe_calls(old_profile(nnp, named), "nr 1000", f"nr {SYS_FACCESSAT2}",
                          f"nr {SYS_CLONE3}", "mkdir", "chmod")
        assert errnos(out) == [errno.ENOSYS, errno.EPERM, errno.EPERM, 42, errno.EPERM], \
            (nnp, out)


def test_enosys_only_under_a_refusing_default():
    # Default allow, or errno with a profile naming everything up to 1000: no stub.
    edit = with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}])
    out = probe_calls(edit, "nr 1000", "mkdir")
    assert errnos(out) == [errno.ENOSYS, 42], out  # the kernel's own ENOSYS
    edit = with_seccomp([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}],
                        default="SCMP_ACT_LOG")
    out = probe_calls(edit, f"nr {SYS_FACCESSAT2}", "mkdir")
    assert errnos(out) == [errno.EFAULT, 42], out  # faccessat2(0, NULL): allowed, EFAULT


def test_exec_under_an_old_profile():
    for nnp in (True, False):
        b = Bundle(["sleep", "30"], edit=old_profile(nnp))
        cid = new_id()
        skiff("run", "-d", "--bundle", b.path, cid)
        try:
            r = skiff("exec", cid, "probe", "syscall", "nr", str(SYS_FACCESSAT2))
            assert r.returncode == 0, r
            (rep,) = seclib.json_lines(r.stdout)
            assert rep["errno"] == errno.ENOSYS, rep
            r = skiff("exec", cid, "/no/such/program")
            assert r.returncode != 0 and "/no/such/program" in r.stderr, r
        finally:
            skiff("delete", "--force", cid)


def test_cache_serves_the_enosys_prefix():
    root = seclib.private_root()
    try:
        b = Bundle(["probe", "syscall", "nr", "1000"], edit=old_profile(True))
        for _ in range(2):
            r = skiff("run", "--bundle", b.path, new_id(), root=root)
            assert r.returncode == 0, r
            (rep,) = seclib.json_lines(r.stdout)
            assert rep["errno"] == errno.ENOSYS, rep
        assert len(os.listdir(os.path.join(root, ".seccomp-cache"))) == 1
    finally:
        seclib.rm_root(root)


def test_no_write_of_skiffs_reaches_an_agent_notified_on_write():
    # Failed before with noNewPrivileges false: the filter was loaded before
    # create's READY message and start's exec fifo write, which then waited on
    # the agent.  The agent here never answers: any write of skiff's hangs.
    for nnp in (True, False):
        path = os.path.join(lib.WORK, f"{new_id('agent')}.sock")
        agent = Agent(path)
        edit = with_seccomp([{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}], nnp=nnp,
                            listenerPath=path)
        b = Bundle(["true"], edit=edit)
        try:
            r = skiff("run", "--bundle", b.path, new_id(), timeout=20)
            assert r.returncode == 0, (nnp, r)
            agent.thread.join(5)
            assert len(agent.fds) == 1, agent.msg
        finally:
            agent.close()
            os.unlink(path)
