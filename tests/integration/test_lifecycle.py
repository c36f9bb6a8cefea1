"""The container lifecycle: run, create/start/state/kill/delete, errors, hooks, tty."""
import array
import json
import os
import signal
import socket
import subprocess
import time

import lib
from lib import Bundle, ROOT, new_id, skiff, skiff_ok, state


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_run_prints_output_and_exit_status():
    b = Bundle(["sh", "-c", "echo hello from skiff; exit 3"])
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.stdout == "hello from skiff\n", r
    assert r.returncode == 3, r


def test_run_reports_signal_as_128_plus_n():
    # Without a pid namespace the shell is not pid 1, so its own SIGKILL kills it.
    def edit(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "pid"]
    b = Bundle(["sh", "-c", "kill -9 $$"], edit=edit)
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 137, r


def test_run_leaves_no_state():
    cid = new_id()
    b = Bundle(["true"])
    skiff_ok("run", "--bundle", b.path, cid)
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_split_lifecycle_with_pid_file():
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    pidfile = b.file("pid")
    skiff_ok("create", "--bundle", b.path, "--pid-file", pidfile, cid)
    st = state(cid)
    assert st["status"] == "created" and st["id"] == cid, st
    assert st["bundle"] == b.path and st["ociVersion"].startswith("1.")
    with open(pidfile) as f:
        assert int(f.read()) == st["pid"] > 0
    skiff_ok("start", cid)
    st = state(cid)
    assert st["status"] == "running", st
    skiff_ok("kill", cid, "KILL")
    assert wait_for(lambda: state(cid)["status"] == "stopped")
    skiff_ok("delete", cid)
    r = skiff("state", cid)
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_list_shows_live_status():
    cid = new_id()
    b = Bundle(["sleep", "1000"],
               edit=lambda c: c.update(annotations={"org.skiff.test": "yes"}))
    skiff_ok("create", "--bundle", b.path, cid)
    r = skiff_ok("list", "--format", "json")
    entries = {e["id"]: e for e in json.loads(r.stdout)}
    assert entries[cid]["status"] == "created", entries
    e = entries[cid]
    assert e["rootfs"] == b.rootfs and e["bundle"] == b.path and e["owner"] == "root", e
    assert e["annotations"] == {"org.skiff.test": "yes"}, e
    assert e["pid"] == state(cid)["pid"] > 0
    assert cid in skiff_ok("list", "-q").stdout.split()
    assert cid in skiff_ok("list").stdout
    skiff_ok("delete", "--force", cid)


def test_create_existing_id_fails_and_changes_nothing():
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    skiff_ok("create", "--bundle", b.path, cid)
    before = state(cid)
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 1 and "already exists" in r.stderr, r
    assert r.stderr.count("\n") == 1
    assert state(cid) == before
    skiff_ok("delete", "--force", cid)


def test_start_twice_and_kill_stopped_and_delete_running_fail():
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    r = skiff("start", cid)
    assert r.returncode == 1 and "not created" in r.stderr, r
    r = skiff("delete", cid)
    assert r.returncode == 1 and "running" in r.stderr, r
    assert state(cid)["status"] == "running"
    skiff_ok("kill", cid, "SIGKILL")
    assert wait_for(lambda: state(cid)["status"] == "stopped")
    r = skiff("kill", cid, "TERM")
    assert r.returncode == 1 and "not running" in r.stderr, r
    skiff_ok("delete", cid)


# The init traps each signal it may get and writes the name of the one that arrived.
TRAPS = "; ".join(f"trap 'echo {n} > /got; exit 0' {n}" for n in ("HUP", "INT", "USR1", "TERM")) + \
    "; touch /ready; while :; do sleep 0.05; done"


def test_kill_signal_forms():
    forms = [("15", "TERM"), ("TERM", "TERM"), ("SIGTERM", "TERM"), ("sigterm", "TERM"),
             ("1", "HUP"), ("SIGHUP", "HUP"), ("usr1", "USR1"), ("SIGINT", "INT"), ("2", "INT")]
    b = Bundle(["sh", "-c", TRAPS], edit=lambda c: c["root"].update(readonly=False))
    for form, want in forms:
        for f in ("ready", "got"):
            if os.path.exists(os.path.join(b.rootfs, f)):
                os.unlink(os.path.join(b.rootfs, f))
        cid = new_id()
        skiff_ok("create", "--bundle", b.path, cid)
        skiff_ok("start", cid)
        assert wait_for(lambda: os.path.exists(os.path.join(b.rootfs, "ready"))), form
        skiff_ok("kill", cid, form)
        assert wait_for(lambda: state(cid)["status"] == "stopped"), form
        with open(os.path.join(b.rootfs, "got")) as f:
            assert f.read().strip() == want, (form, want)
        skiff_ok("delete", cid)
    r = skiff("kill", "x", "SIGNOPE")
    assert r.returncode == 1 and "SIGNOPE" in r.stderr


def test_kill_signal_0_probes_liveness_as_runc():
    # runc sends signal 0 ("is it alive?"): 0 while the container runs, with
    # or without --all; on a stopped container plain kill says "not running"
    # and --all succeeds (nothing left to signal).  "SIG0" is no signal name.
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    skiff_ok("kill", cid, "0")
    skiff_ok("kill", "--all", cid, "0")
    assert state(cid)["status"] == "running"
    r = skiff("kill", cid, "SIG0")
    assert r.returncode == 1 and "SIG0" in r.stderr, r
    skiff_ok("kill", cid, "KILL")
    assert wait_for(lambda: state(cid)["status"] == "stopped")
    r = skiff("kill", cid, "0")
    # runc's words exactly: containerd's shim takes "container not running" for "exited"
    assert r.returncode == 1 and "container not running" in r.stderr, r
    skiff_ok("kill", "--all", cid, "0")
    skiff_ok("delete", cid)


def test_delete_force_of_unknown_id_is_not_an_error():
    assert skiff("delete", "--force", "nope-never-made").returncode == 0
    r = skiff("delete", "nope-never-made")
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_state_of_missing_id_is_one_line_exit_1():
    r = skiff("state", "nope")
    assert r.returncode == 1
    assert r.stderr == "skiff: container `nope` does not exist\n", r.stderr


def test_bad_ids_are_refused():
    b = Bundle(["true"])
    before = sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else []
    for bad in ("a/b", "..", "", "x" * 4096, "a\nb"):
        r = skiff("create", "--bundle", b.path, bad)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (bad, r.stderr)
        after = sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else []
        assert after == before, (bad, after)


def test_bad_config_leaves_nothing():
    cid = new_id()
    b = Bundle(["true"])
    b.config["process"]["rlimits"][0]["hard"] = "lots"
    b.write()
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 1, r
    assert r.stderr.count("\n") == 1 and "process.rlimits[0].hard" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(ROOT, cid))


# Other test runs (podman, containerd, another suite) mount and unmount under these
# meanwhile; of them only our own directories are compared.
_BUSY = ("/tmp/", "/run/", "/var/run/", "/var/lib/containers/", "/var/lib/containerd/")


def host_mounts():
    return [p for p in lib.mountinfo()
            if not p.startswith(_BUSY) or p.startswith((lib.WORK, lib.ROOT))]


def test_failure_inside_init_is_reported_and_leaves_nothing():
    cid = new_id()
    b = Bundle(["no-such-command"])
    mounts_before = host_mounts()
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 1, r
    assert "no-such-command" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not os.path.exists(os.path.join(ROOT, cid))
    assert host_mounts() == mounts_before
    # the id is immediately reusable
    b2 = Bundle(["true"])
    skiff_ok("run", "--bundle", b2.path, cid)


def test_hooks_run_in_order_with_state_on_stdin():
    cid = new_id()
    b = Bundle(["true"])
    log = b.file("hooks.log")
    os.makedirs(b.file("shared"))

    def hook(name, path):
        return {"path": "/bin/sh", "args": ["sh", "-c", f"read s; echo {name} \"$s\" >> {path}"]}

    host_log = log
    in_ctr = "/shared/hooks.log"
    b.config["mounts"].append({"destination": "/shared", "type": "bind",
                               "source": b.file("shared"), "options": ["rbind", "rw"]})
    b.config["hooks"] = {
        "createRuntime": [hook("createRuntime", host_log)],
        "createContainer": [hook("createContainer", host_log)],
        "startContainer": [hook("startContainer", in_ctr)],
        "poststart": [hook("poststart", host_log)],
        "poststop": [hook("poststop", host_log)],
    }
    b.config["process"]["args"] = ["sleep", "1000"]
    b.write()
    skiff_ok("create", "--bundle", b.path, cid)
    skiff_ok("start", cid)
    # the hook's echo creates the file before it writes the line: wait for the line
    def logged():
        p = b.file("shared/hooks.log")
        return os.path.exists(p) and open(p).read().endswith("\n")
    assert wait_for(logged)
    skiff_ok("delete", "--force", cid)
    with open(log) as f:
        lines = f.read().splitlines()
    names = [line.split(" ", 1)[0] for line in lines]
    assert names == ["createRuntime", "createContainer", "poststart", "poststop"], lines
    st = json.loads(lines[0].split(" ", 1)[1])
    # "created": the runtime environment exists (spec: state, "after step 2")
    assert st["id"] == cid and st["status"] == "created" and st["pid"] > 0
    with open(b.file("shared/hooks.log")) as f:
        assert f.read().startswith("startContainer {")


def test_failing_hook_fails_create_and_leaves_nothing():
    cid = new_id()
    b = Bundle(["true"])
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    b.write()
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 1 and "createRuntime hook" in r.stderr, r
    assert not os.path.exists(os.path.join(ROOT, cid))


def _probe(args=("probe", "all"), edit=None):
    b = Bundle(list(args), edit=edit)
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def test_process_setup_seen_from_inside():
    def edit(c):
        p = c["process"]
        p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 6], "umask": 0o027}
        p["env"] = ["PATH=/bin", "FOO=bar"]
        p["cwd"] = "/tmp"
        p["oomScoreAdj"] = 123
        p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768}]
        c["hostname"] = "probe-host"
        c["domainname"] = "probe-domain"
    seen = _probe(edit=edit)
    assert (seen["uid"], seen["gid"], seen["euid"]) == (1000, 1000, 1000), seen
    assert sorted(seen["groups"]) == [5, 6], seen["groups"]
    assert seen["umask"] == "0027"
    # HOME from the container's /etc/passwd ("/" for a uid it lacks), as runc sets it
    assert seen["env"] == ["PATH=/bin", "FOO=bar", "HOME=/"]
    assert seen["cwd"] == "/tmp"
    assert seen["oom_score_adj"] == 123
    assert seen["rlimits"]["RLIMIT_NOFILE"] == {"soft": 512, "hard": 768}
    assert seen["hostname"] == "probe-host" and seen["domainname"] == "probe-domain"
    assert seen["no_new_privs"] is True
    assert seen["pid"] == 1
    caps = seen["caps"]
    assert sorted(caps["bounding"]["names"]) == ["CAP_AUDIT_WRITE", "CAP_KILL",
                                                 "CAP_NET_BIND_SERVICE"], caps
    assert caps["inheritable"]["names"] == [] and caps["ambient"]["names"] == []
    # uid 1000 without ambient caps: effective and permitted are dropped by the kernel
    assert caps["effective"]["names"] == []


def test_root_process_keeps_listed_caps_only():
    seen = _probe()
    caps = seen["caps"]
    for s in ("effective", "permitted", "bounding"):
        assert sorted(caps[s]["names"]) == ["CAP_AUDIT_WRITE", "CAP_KILL",
                                            "CAP_NET_BIND_SERVICE"], (s, caps)
    assert caps["inheritable"]["names"] == []


def test_unknown_capability_is_one_warning_and_the_container_runs():
    # config.md: a capability that cannot be mapped MUST be logged as a
    # warning and SHOULD NOT fail; runc 1.1.5 runs this config with the known
    # caps (CapEff 0x20000420) and one warning naming both unknown names.
    def edit(c):
        for s in ("bounding", "effective", "permitted", "inheritable", "ambient"):
            c["process"]["capabilities"].setdefault(s, [])
            c["process"]["capabilities"][s] += ["CAP_NOPE", "cap_kill", "CAP_NOPE"]
    b = Bundle(["probe", "caps"], edit=edit)
    log = b.file("log.json")
    r = skiff("--log", log, "--log-format", "json", "run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    caps = json.loads(r.stdout)["caps"]
    for s in ("effective", "permitted", "bounding"):
        assert sorted(caps[s]["names"]) == ["CAP_AUDIT_WRITE", "CAP_KILL",
                                            "CAP_NET_BIND_SERVICE"], (s, caps)
    assert r.stderr.count("\n") == 1 and "warning" in r.stderr, r.stderr
    assert r.stderr.count("CAP_NOPE") == 1 and "cap_kill" in r.stderr, r.stderr
    with open(log) as f:
        recs = [json.loads(line) for line in f]
    assert [x["level"] for x in recs] == ["warning"], recs
    assert "CAP_NOPE cap_kill" in recs[0]["msg"], recs
    # exec --cap with an unknown name: the same warning, the process runs.
    cid = new_id()
    skiff_ok("run", "-d", "--bundle", Bundle(["sleep", "1000"]).path, cid)
    r = skiff("exec", "--cap", "CAP_NOPE", cid, "probe", "caps")
    assert r.returncode == 0 and "CAP_NOPE" in r.stderr, r
    assert "CAP_KILL" in json.loads(r.stdout)["caps"]["effective"]["names"], r.stdout


def test_no_fd_of_skiff_leaks_and_preserve_fds_passes_them():
    seen = _probe(("probe", "fds"))
    assert sorted(seen["fds"]) == ["0", "1", "2"], seen
    b = Bundle(["probe", "fds"])
    r_fd, w_fd = os.pipe()
    try:
        os.dup2(r_fd, 3) if r_fd != 3 else None
        r = subprocess.run([lib.SKIFF, "--root", ROOT, "run", "--preserve-fds", "1",
                            "--bundle", b.path, new_id()], capture_output=True, text=True,
                           pass_fds=(3,), timeout=60)
    finally:
        os.close(w_fd)
        os.close(r_fd)
    assert r.returncode == 0, r
    fds = json.loads(r.stdout)["fds"]
    assert sorted(fds) == ["0", "1", "2", "3"] and fds["3"].startswith("pipe:"), fds


def test_cwd_must_be_a_directory_inside_rootfs():
    # A missing cwd is made (test_runc_compat); one that is a file is an error, as in runc.
    cid = new_id()
    b = Bundle(["true"], edit=lambda c: c["process"].update(cwd="/etc/passwd/dir"))
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1 and "/etc/passwd" in r.stderr, r
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_root_readonly_is_enforced():
    seen = _probe(("probe", "write", "/x", "data"))
    assert seen["ok"] is False and seen["errno"] == 30, seen  # EROFS


def _console_server(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    return srv


def test_tty_through_console_socket():
    cid = new_id()
    b = Bundle(["sh", "-c", "tty; stty size; echo done"],
               edit=lambda c: c["process"].update(terminal=True,
                                                   consoleSize={"height": 30, "width": 100}))
    sock_path = b.file("console.sock")
    srv = _console_server(sock_path)
    try:
        p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "create", "--bundle", b.path,
                              "--console-socket", sock_path, cid],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv.settimeout(60)
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert len(fds) == 1
        master = fds[0]
        skiff_ok("start", cid)
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
        os.close(master)
        conn.close()
        text = data.decode()
        assert "/dev/pts/0" in text, text
        assert "30 100" in text, text
    finally:
        srv.close()
        skiff("delete", "--force", cid)


def test_socket_activation_fds_are_passed():
    # LISTEN_PID must name skiff itself: a shell sets it, then execs skiff in place.
    b = Bundle(["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; probe fds"])
    r_fd, w_fd = os.pipe()
    os.set_inheritable(r_fd, True)
    try:
        script = (f'exec 3<&{r_fd}; export LISTEN_FDS=1 LISTEN_PID=$$; '
                  f'exec {lib.SKIFF} --root {ROOT} run --bundle {b.path} {new_id()}')
        r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=60,
                           pass_fds=(r_fd,))
    finally:
        os.close(r_fd)
        os.close(w_fd)
    assert r.returncode == 0, r
    first, rest = r.stdout.split("\n", 1)
    assert first == "1 1", r.stdout
    fds = json.loads(rest)["fds"]
    assert sorted(fds) == ["0", "1", "2", "3"] and fds["3"].startswith("pipe:"), fds


def test_run_attaches_the_callers_terminal():
    if not os.path.exists("/usr/bin/script"):
        raise lib.Skip("script(1) from util-linux is not installed")
    b = Bundle(["sh", "-c", "tty; stty size"],
               edit=lambda c: c["process"].update(terminal=True))
    cmd = f"stty rows 33 cols 101; {lib.SKIFF} --root {ROOT} run --bundle {b.path} {new_id()}"
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    assert "/dev/pts/0" in r.stdout and "33 101" in r.stdout, r.stdout


def test_hook_env_args_and_timeout():
    cid = new_id()
    b = Bundle(["true"])
    out = b.file("env.out")
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f'echo "$0 $HOOKVAR" > {out}', "arg0"],
         "env": ["HOOKVAR=from-config"]}]}
    b.write()
    skiff_ok("run", "--bundle", b.path, cid)
    with open(out) as f:
        assert f.read() == "arg0 from-config\n"
    cid = new_id()
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"],
                                            "timeout": 1}]}
    b.write()
    start = time.monotonic()
    r = skiff("create", "--bundle", b.path, cid)
    assert r.returncode == 1 and "timed out" in r.stderr, r
    assert time.monotonic() - start < 15
    assert not os.path.exists(os.path.join(ROOT, cid))


def _cgroup2_super_options():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[sep + 3]
    raise lib.Skip("the host has no cgroup2 mount")


def test_cgroup_mount_without_cgroupns_leaves_host_options_alone():
    # A fresh cgroup2 mount from the host's cgroup namespace would re-apply
    # mount options (nsdelegate...) to the host's one shared hierarchy.
    before = _cgroup2_super_options()

    def edit(c):
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                            "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]})
    b = Bundle(["probe", "mountinfo"], edit=edit)
    cid = new_id()
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    info = json.loads(r.stdout)["mountinfo"]
    mounts = [m for m in info if m["mount_point"] == "/sys/fs/cgroup"]
    assert len(mounts) == 1, mounts
    if lib.cgroup_v1_mounts():
        # a v1 host: runc's layout, a tmpfs with a bind of the container's cgroup per hierarchy
        assert mounts[0]["fs_type"] == "tmpfs", mounts
        mounts = [m for m in info if m["mount_point"] == "/sys/fs/cgroup/memory"]
        assert len(mounts) == 1 and mounts[0]["fs_type"] == "cgroup", mounts
    # a bind of the container's own cgroup, not the hierarchy's root
    assert mounts[0]["root"].endswith(cid), mounts
    assert _cgroup2_super_options() == before


def test_run_forwards_signals_to_the_container():
    cid = new_id()
    b = Bundle(["probe", "sleep", "1000"])
    out = open(b.file("out"), "w+")
    p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, cid],
                         stdout=out, stderr=subprocess.STDOUT)
    try:
        # the probe prints its pid once its SIGTERM handler is in place
        assert wait_for(lambda: os.path.getsize(b.file("out")) > 0, timeout=20)
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 143
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=20)
        out.close()
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_failed_create_keeps_a_cgroup_that_existed_before():
    unified = "/sys/fs/cgroup/unified"
    if not os.path.isdir(unified):
        raise lib.Skip("no cgroup2 mount at /sys/fs/cgroup/unified on this host")
    mine = os.path.join(unified, f"skiff-pre-{os.getpid()}")
    os.mkdir(mine)
    try:
        cid = new_id()
        b = Bundle(["no-such-command"], edit=lambda c: c["linux"].update(
            cgroupsPath="/" + os.path.basename(mine)))
        r = skiff("create", "--bundle", b.path, cid)
        assert r.returncode == 1 and "no-such-command" in r.stderr, r
        assert os.path.isdir(mine), "a failed create removed a cgroup it did not make"
        assert not os.path.exists(os.path.join(ROOT, cid))
        # ...and removed the ones it made (the v1 hierarchies' on a hybrid host)
        for mnt in set(lib.cgroup_v1_mounts().values()):
            assert not os.path.exists(os.path.join(mnt, os.path.basename(mine))), mnt
    finally:
        os.rmdir(mine)


def test_list_does_not_wait_for_a_create_in_progress():
    cid = new_id()
    b = Bundle(["true"])
    gate = b.file("gate")
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"]}]}
    b.write()
    p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "create", "--bundle", b.path, cid],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: os.path.isdir(os.path.join(ROOT, cid)), timeout=20)
        start = time.monotonic()
        r = skiff("list", "--format", "json", timeout=10)
        assert r.returncode == 0, r
        entries = {e["id"]: e for e in json.loads(r.stdout)}
        assert entries[cid]["status"] == "creating", entries
        assert time.monotonic() - start < 5
    finally:
        open(gate, "w").close()
        assert p.wait(timeout=30) == 0
    assert state(cid)["status"] == "created"


def test_signals_ignored_by_skiffs_caller_are_default_in_the_container():
    # nohup (SIGHUP) or a shell's background job (SIGINT, SIGQUIT) leaves signals
    # ignored, and ignored dispositions survive execve; runc's processes start with
    # none ignored and none blocked, whoever started runc.
    import signal as sig

    def ignore():
        for s in (sig.SIGHUP, sig.SIGINT, sig.SIGQUIT, sig.SIGPIPE, sig.SIGUSR1):
            sig.signal(s, sig.SIG_IGN)
        sig.pthread_sigmask(sig.SIG_BLOCK, {sig.SIGTERM})

    def masks(text):
        return {k: v.strip() for k, v in (l.split(":", 1) for l in text.splitlines())
                if k in ("SigIgn", "SigBlk")}
    cid = new_id()
    b = Bundle(["sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status > /dev/shm/seen; "
                "exec sleep 1000"])
    cmd = [lib.SKIFF, "--root", ROOT, "run", "-d", "--bundle", b.path, cid]
    # No pipes: the detached container keeps skiff's stdio open.
    r = subprocess.run(cmd, preexec_fn=ignore, timeout=60, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert r.returncode == 0, r
    assert wait_for(lambda: skiff("exec", cid, "cat", "/dev/shm/seen").stdout), "no report"
    seen = masks(skiff_ok("exec", cid, "cat", "/dev/shm/seen").stdout)
    assert seen == {"SigIgn": "0000000000000000", "SigBlk": "0000000000000000"}, seen
    r = subprocess.run([lib.SKIFF, "--root", ROOT, "exec", cid, "grep", "-E", "^Sig(Ign|Blk)",
                        "/proc/self/status"], preexec_fn=ignore, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    assert masks(r.stdout) == seen, r.stdout
    skiff_ok("kill", cid, "KILL")
