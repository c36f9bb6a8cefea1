"""Hooks as the host runs them: clean signal state, only fds 0-2, state fed without blocking."""
import json
import os
import subprocess
import time

import lib
from lib import ROOT, Bundle, new_id, skiff


def _sig_fields(text):
    """{"SigBlk": int, "SigIgn": int} from /proc/PID/status lines within text."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("SigBlk", "SigIgn"):
            out.setdefault(key, []).append(int(value.strip(), 16))
    return out


SIGPIPE_BIT = 1 << 12  # signal 13


def test_hooks_and_container_get_default_signals_and_no_extra_fds():
    cid = new_id()
    b = Bundle(["grep", "^Sig", "/proc/self/status"])
    status_hook = {"path": "/bin/busybox", "args": ["grep", "^Sig", "/proc/self/status"]}
    fd_hook = {"path": "/bin/busybox", "args": ["ls", "/proc/self/fd"]}
    # Two hooks of a kind: the second used to inherit the first's ignored SIGPIPE.
    # A createContainer hook runs in the init: its SIGPIPE must not reach the container.
    b.config["hooks"] = {"prestart": [status_hook], "createRuntime": [status_hook, fd_hook],
                         "createContainer": [{"path": "/bin/true"}]}
    b.write()
    extra = os.open("/dev/null", os.O_RDONLY)
    high = 47
    os.dup2(extra, high, inheritable=True)
    os.close(extra)
    try:
        with open(b.file("out"), "w+") as out:
            # `run` blocks the signals it forwards while it creates: hooks must not inherit that.
            p = subprocess.run([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, cid],
                               stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                               pass_fds=(high,), timeout=60)
            out.seek(0)
            text = out.read()
    finally:
        os.close(high)
    assert p.returncode == 0, p.stderr
    sig = _sig_fields(text)
    # prestart, createRuntime #1, the container's process
    assert len(sig["SigBlk"]) == 3 and len(sig["SigIgn"]) == 3, text
    assert sig["SigBlk"] == [0, 0, 0], text
    assert all(v & SIGPIPE_BIT == 0 for v in sig["SigIgn"]), text
    fds = [line for line in text.splitlines() if line.strip().isdigit()]
    # 0-2 and ls's own directory fd: skiff's inherited fd 47 is not the hook's
    assert str(high) not in fds and "0" in fds, text


def test_state_larger_than_a_pipe_is_fed_and_an_unread_one_still_times_out():
    big = "x" * (300 * 1024)
    cid = new_id()
    b = Bundle(["true"])
    out = b.file("size")
    b.config["annotations"] = {"big": big}
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sh", "args": ["sh", "-c", f"wc -c > {out}"]}]}
    b.write()
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    with open(out) as f:
        size = int(f.read().split()[0])
    st = json.dumps({"big": big})
    assert size > len(st), size

    cid = new_id()
    b.config["hooks"] = {"createRuntime": [
        {"path": "/bin/sleep", "args": ["sleep", "60"], "timeout": 1}]}
    b.write()
    start = time.monotonic()
    r = skiff("create", "--bundle", b.path, cid, timeout=50)
    assert r.returncode == 1 and "timed out after 1 s" in r.stderr, r
    assert time.monotonic() - start < 15
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_hook_that_closes_stdin_unread_does_not_kill_skiff():
    cid = new_id()
    b = Bundle(["true"])
    b.config["annotations"] = {"big": "y" * (300 * 1024)}
    b.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exec 0<&-; sleep 0.2"]}],
                         "poststop": [{"path": "/bin/true"}]}
    b.write()
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 0, r
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_failing_poststart_fails_start_and_stops_the_container():
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    b.config["hooks"] = {"poststart": [{"path": "/bin/false"}]}
    b.write()
    lib.skiff_ok("create", "--bundle", b.path, cid)
    pid = lib.state(cid)["pid"]
    r = skiff("start", cid)
    assert r.returncode == 1 and "poststart hook `/bin/false` exited with status 1" in r.stderr, r
    end = time.monotonic() + 10
    while lib.state(cid)["status"] != "stopped" and time.monotonic() < end:
        time.sleep(0.05)
    assert lib.state(cid)["status"] == "stopped"
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    lib.skiff_ok("delete", cid)


def test_failing_start_container_hook_fails_start_and_runs_no_poststart():
    # runtime-spec lifecycle step 7: error, stop the container, no poststart (step 9).
    cid = new_id()
    b = Bundle(["sleep", "1000"])
    mark = b.file("poststart-ran")
    b.config["hooks"] = {"startContainer": [{"path": "/bin/sh",
                                             "args": ["sh", "-c", "echo nope >&2; exit 4"]}],
                         "poststart": [{"path": "/bin/touch", "args": ["touch", mark]}]}
    b.write()
    lib.skiff_ok("create", "--bundle", b.path, cid)
    r = skiff("start", cid)
    assert r.returncode == 1, r
    assert "startContainer hook `/bin/sh` exited with status 4" in r.stderr, r
    assert not os.path.exists(mark)
    end = time.monotonic() + 10
    while lib.state(cid)["status"] != "stopped" and time.monotonic() < end:
        time.sleep(0.05)
    assert lib.state(cid)["status"] == "stopped"
    lib.skiff_ok("delete", cid)


def test_run_reports_a_failing_start_container_hook_and_leaves_nothing():
    # In the foreground without poststart hooks, `run` reads the init's report only once it
    # has exited: the hook's failure is still its error, and the container goes.
    cid = new_id()
    b = Bundle(["true"])
    b.config["hooks"] = {"startContainer": [{"path": "/bin/sh",
                                             "args": ["sh", "-c", "echo nope >&2; exit 4"]}]}
    b.write()
    r = skiff("run", "--bundle", b.path, cid)
    assert r.returncode == 1, r
    assert "startContainer hook `/bin/sh` exited with status 4" in r.stderr, r
    assert r.stderr.count("skiff:") == 1, r.stderr
    assert not os.path.exists(os.path.join(ROOT, cid))
    # The keep option keeps a container that ran, not one that never did.
    r = skiff("run", "--keep", "--bundle", b.path, cid)
    assert r.returncode == 1 and not os.path.exists(os.path.join(ROOT, cid)), r
