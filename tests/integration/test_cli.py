"""The command line: global options, errors, --version (runc's shape)."""
import json
import os
import re
import subprocess
import tempfile
import time

import lib

from lib import SKIFF, skiff


def test_version_has_runc_shape():
    r = subprocess.run([SKIFF, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.match(r"^skiff version \d+\.\d+\.\d+$", lines[0]), lines
    assert lines[1].startswith("commit: "), lines
    assert lines[2] == "spec: 1.3.0", lines


def test_unknown_global_flag_is_one_line_exit_1():
    r = subprocess.run([SKIFF, "--bogus"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "--bogus" in r.stderr, r.stderr


def test_unknown_command_is_one_line_exit_1():
    r = skiff("frobnicate")
    assert r.returncode == 1
    assert r.stderr == "skiff: unknown command `frobnicate` (see `skiff --help`)\n", r.stderr


def test_no_command_is_an_error():
    r = subprocess.run([SKIFF], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no command" in r.stderr


# runc's commands that skiff implements (checkpoint and restore are not); skiff may have more.
RUNC_COMMANDS = {"create", "delete", "events", "exec", "features", "kill", "list", "pause", "ps",
            "resume", "run", "spec", "start", "state", "update"}


def test_help_lists_commands():
    r = subprocess.run([SKIFF, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("usage: skiff "), r
    listed = r.stdout.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    names = [line.split()[0] for line in listed]
    assert RUNC_COMMANDS <= set(names) and len(set(names)) == len(names), names
    assert all(len(line.split(None, 1)) == 2 for line in listed), listed  # each says what
    for name in names:  # every listed command exists and has its own help
        h = subprocess.run([SKIFF, name, "--help"], capture_output=True, text=True,
                           timeout=60)
        assert h.returncode == 0 and h.stdout.startswith(f"usage: skiff {name}"), (name, h)


def test_bad_log_format_names_the_option():
    r = skiff("--log-format", "yaml", "list")
    assert r.returncode == 1 and "--log-format" in r.stderr and "yaml" in r.stderr


def test_json_log_records_the_error():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "log.json")
        r = skiff("--log", log, "--log-format=json", "frobnicate")
        assert r.returncode == 1
        with open(log) as f:
            recs = [json.loads(line) for line in f]
        assert len(recs) == 1, recs
        assert recs[0]["level"] == "error" and "frobnicate" in recs[0]["msg"]
        assert re.match(r"^\d{4}-\d\d-\d\dT", recs[0]["time"])


def test_spec_writes_a_config_skiff_runs_and_features_is_truthful():
    from lib import Bundle, new_id, skiff_ok
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([SKIFF, "spec"], cwd=d, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        r = subprocess.run([SKIFF, "spec"], cwd=d, capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "exists" in r.stderr and r.stderr.count("\n") == 1
        r = subprocess.run([SKIFF, "spec", "--rootless", "--bundle", d + "/x"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "--bundle" in r.stderr
        os.mkdir(d + "/x")
        subprocess.run([SKIFF, "spec", "--rootless", "--bundle", d + "/x"], check=True, timeout=60)
        with open(d + "/x/config.json") as f:
            rootless = json.load(f)
    assert {"type": "user"} in rootless["linux"]["namespaces"]
    assert rootless["linux"]["uidMappings"][0]["hostID"] == os.getuid()
    # the generated config runs as it is, but for a command that needs no tty
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sh", "-c", "echo spec-ok"]
    b = Bundle(config=cfg)
    r = skiff_ok("run", "--bundle", b.path, new_id())
    assert r.stdout == "spec-ok\n"
    feats = json.loads(subprocess.run([SKIFF, "features"], capture_output=True, text=True,
                                      check=True, timeout=60).stdout)
    assert cfg["ociVersion"] == "1.3.0", cfg["ociVersion"]
    assert feats["ociVersionMin"] == "1.0.0" and feats["ociVersionMax"] == "1.3.0", feats
    assert set(feats["linux"]["namespaces"]) >= {"pid", "user", "time", "cgroup"}
    assert "CAP_KILL" in feats["linux"]["capabilities"]
    assert feats["linux"]["cgroup"]["v2"] is True and feats["linux"]["cgroup"]["v1"] is True
    assert feats["linux"]["seccomp"]["enabled"] is True
    assert "SCMP_ACT_NOTIFY" in feats["linux"]["seccomp"]["actions"]
    assert "rbind" in feats["mountOptions"]
    # Accepted for compatibility but without their effect: not listed as supported.
    assert not {"tmpcopyup", "iversion", "loud"} & set(feats["mountOptions"]), feats
    assert "defaults" in feats["mountOptions"]
    assert feats["linux"]["netDevices"] == {"enabled": True}
    assert feats["linux"]["intelRdt"] == {"enabled": True, "schemata": True,
                                          "monitoring": True}, feats["linux"]["intelRdt"]
    assert "MPOL_BIND" in feats["linux"]["memoryPolicy"]["modes"]
    # The annotations skiff acts on (crun's, which podman sends): listed, and only they.
    assert feats["potentiallyUnsafeConfigAnnotations"] == ["run.oci.keep_original_groups"]
    # Implementation status, not the host's (features-linux.md).
    assert feats["linux"]["apparmor"]["enabled"] is True
    assert feats["linux"]["selinux"]["enabled"] is True
    assert feats["linux"]["mountExtensions"]["idmap"]["enabled"] is True
    assert "CAP_CHECKPOINT_RESTORE" in feats["linux"]["capabilities"]


def test_limit_on_an_unavailable_controller_fails_cleanly():
    from lib import Bundle, ROOT, new_id, skiff
    mounts = lib.cgroup_v1_mounts()
    if not mounts:
        raise lib.Skip("a unified cgroup host: the fs2 driver's refusals are tested in the VM")
    if "net_cls" in mounts:
        raise lib.Skip("the net_cls controller is mounted here")
    cid = new_id()
    b = Bundle(["true"], edit=lambda c: c["linux"]["resources"].update(
        memory={"limit": 16 * 1024 * 1024}, network={"classID": 0x100001}))
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1, r
    assert r.stderr.count("\n") == 1, r.stderr
    assert ("linux.resources.network.classID requested but the net_cls controller is not "
            "mounted") in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(ROOT, cid))
    for mnt in set(mounts.values()) | {"/sys/fs/cgroup/unified"}:
        assert not os.path.exists(os.path.join(mnt, "skiff-" + cid)), mnt


def test_systemd_cgroup_driver_without_systemd_fails_clearly_and_leaves_nothing():
    """The build host has no systemd: the driver says so in one line (the VM tests the rest)."""
    from lib import Bundle, ROOT, new_id, skiff
    if os.path.isdir("/run/systemd/system"):
        raise lib.Skip("systemd runs here (tests/integration/test_cgroup_systemd.py)")
    cid = new_id()
    b = Bundle(["true"], edit=lambda c: c["linux"].update(cgroupsPath="system.slice:skiff:" + cid))
    for flags in (["--systemd-cgroup"], ["--cgroup-manager", "systemd"]):
        r = skiff(*flags, "run", "--bundle", b.path, cid)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert ("systemd cgroup driver: cannot connect to the system bus: "
                in r.stderr), r.stderr
        assert not os.path.exists(os.path.join(ROOT, cid))
    # A cgroupsPath not in the systemd form is named before anything else is tried.
    b = Bundle(["true"], edit=lambda c: c["linux"].update(cgroupsPath="/skiff-test-" + cid))
    r = skiff("--systemd-cgroup", "run", "--bundle", b.path, cid)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    assert "linux.cgroupsPath" in r.stderr and "slice:prefix:name" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_cgroup_manager_disabled_runs_without_a_cgroup():
    from lib import Bundle, new_id, skiff
    b = Bundle(["cat", "/proc/self/cgroup"])
    r = skiff("--cgroup-manager", "disabled", "run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    with open("/proc/self/cgroup") as f:
        mine = [line for line in f.read().splitlines() if line.startswith("0::")]
    theirs = [line for line in r.stdout.splitlines() if line.startswith("0::")]
    assert theirs == mine, (theirs, mine)


DEBUG_STEPS = ("create `", "init: namespaces entered", "init: ready", "start `", "delete `")


def test_debug_logs_each_step_in_the_chosen_format():
    b = lib.Bundle(["sh", "-c", "echo out; echo err >&2"])
    # Off: nothing but the container's own output.
    r = skiff("run", "--bundle", b.path, lib.new_id())
    assert (r.returncode, r.stdout, r.stderr) == (0, "out\n", "err\n"), r
    # --debug, no --log: text records on stderr, one per step, in order.
    r = skiff("--debug", "run", "--bundle", b.path, lib.new_id())
    assert r.returncode == 0 and r.stdout == "out\n", r
    lines = r.stderr.splitlines()
    assert "err" in lines, lines
    recs = [x for x in lines if x != "err"]
    assert all(re.match(r'^time="\d{4}-[^"]+" level=debug msg=".*"$', x) for x in recs), recs
    at = [next((i for i, x in enumerate(recs) if step in x), -1) for step in DEBUG_STEPS]
    assert -1 not in at and at == sorted(at), (at, recs)
    # --debug --log FILE --log-format json: JSON records in the file, stderr the container's.
    log = b.file("debug.json")
    r = skiff("--debug", "--log", log, "--log-format", "json", "run", "--bundle", b.path,
              lib.new_id())
    assert (r.returncode, r.stdout, r.stderr) == (0, "out\n", "err\n"), r
    with open(log) as f:
        recs = [json.loads(line) for line in f]
    assert {x["level"] for x in recs} == {"debug"}, recs
    for step in DEBUG_STEPS:
        assert any(step in x["msg"] for x in recs), (step, recs)
    # Without --debug the log gets no debug record.
    os.unlink(log)
    skiff("--log", log, "--log-format", "json", "run", "--bundle", b.path, lib.new_id())
    assert not os.path.exists(log) or open(log).read() == ""


def test_debug_does_not_keep_the_callers_stderr_open_after_create():
    # With a console socket the init's fd 2 is the pty; its copy of skiff's
    # stderr (where debug records go) must be closed when create returns, or
    # a caller that reads stderr to EOF (conmon) would wait for `start`.
    import select
    import socket
    b = lib.Bundle(["sleep", "1000"], edit=lambda c: c["process"].update(terminal=True))
    sock_path = b.file("console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    cid = lib.new_id()
    p = subprocess.Popen([SKIFF, "--root", lib.ROOT, "--debug", "create", "--console-socket",
                          sock_path, "--bundle", b.path, cid], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        srv.settimeout(30)
        conn, _ = srv.accept()
        conn.recvmsg(64, socket.CMSG_SPACE(4))
        assert p.wait(timeout=30) == 0
        fd, err, deadline = p.stderr.fileno(), b"", time.monotonic() + 10
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                err += chunk
        else:
            raise AssertionError("stderr still open 10 s after create returned")
        err = err.decode()
        assert "level=debug" in err and "init: ready" in err, err
        assert lib.state(cid)["status"] == "created"
    finally:
        p.kill()
        p.wait(timeout=20)
        srv.close()


def test_json_format_without_log_file_puts_records_on_stderr():
    # runc's behaviour callers parse: --log-format json and no --log means
    # the records (error, warning) are what stderr carries, one per line.
    r = skiff("--log-format", "json", "kill", "nope-never-made")
    assert r.returncode == 1, r
    recs = [json.loads(line) for line in r.stderr.splitlines()]
    assert len(recs) == 1 and recs[0]["level"] == "error" and "nope-never-made" in recs[0]["msg"]
    b = lib.Bundle(["sh", "-c", "echo ran"], edit=lambda c: c["process"]["capabilities"][
        "bounding"].append("CAP_NOPE"))
    r = skiff("--log-format", "json", "run", "--bundle", b.path, lib.new_id())
    assert r.returncode == 0 and r.stdout == "ran\n", r
    recs = [json.loads(line) for line in r.stderr.splitlines()]
    assert [x["level"] for x in recs] == ["warning"] and "CAP_NOPE" in recs[0]["msg"], recs
