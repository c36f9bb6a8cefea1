"""`run` options callers rely on (runc's command line)."""
import os

from lib import ROOT, Bundle, new_id, skiff, skiff_ok, state


def test_run_keep_leaves_the_exited_container_for_delete():
    cid = new_id()
    b = Bundle(["sh", "-c", "exit 3"])
    r = skiff("run", "--keep", "--bundle", b.path, cid)
    assert r.returncode == 3, r
    st = state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0, st
    assert os.path.isdir(os.path.join(ROOT, cid))
    skiff_ok("delete", cid)
    assert not os.path.exists(os.path.join(ROOT, cid))
    # without --keep nothing stays
    cid = new_id()
    assert skiff("run", "--bundle", b.path, cid).returncode == 3
    assert not os.path.exists(os.path.join(ROOT, cid))


def _read_until(fd, needle, timeout=20):
    import select
    import time
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    return buf


def test_run_with_terminal_relays_resizes_and_signals():
    import fcntl
    import signal
    import struct
    import subprocess
    import termios

    import lib
    script = ("trap 'stty size' WINCH; trap 'exit 7' TERM; echo ready; "
              "while :; do sleep 0.1; done")
    b = Bundle(["sh", "-c", script],
               edit=lambda c: c["process"].__setitem__("terminal", True))
    cid = new_id()
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    p = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path, cid],
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        assert b"ready" in _read_until(master, b"ready")
        # a resize of skiff's terminal reaches the container's pty
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        p.send_signal(signal.SIGWINCH)
        assert b"33 101" in _read_until(master, b"33 101")
        # and a signal to skiff reaches the container while the terminal is proxied
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 7
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=20)
        os.close(master)
    assert not os.path.exists(os.path.join(ROOT, cid))


def test_run_detached_with_terminal_needs_a_console_socket():
    b = Bundle(["true"], edit=lambda c: c["process"].__setitem__("terminal", True))
    for cmd in (["run", "-d"], ["create"]):
        cid = new_id()
        r = skiff(*cmd, "--bundle", b.path, cid)
        assert r.returncode == 1, r
        assert r.stderr.count("\n") == 1 and "--console-socket is required" in r.stderr, r
        assert cid in r.stderr, r
        assert not os.path.exists(os.path.join(ROOT, cid))


def test_config_option_reads_another_file_as_crun():
    # crun's `--config FILE` / `-f FILE`: FILE relative to the caller's
    # directory, the rootfs and the state's bundle still the bundle's.
    import json
    b = Bundle(["sh", "-c", "echo from-bundle"])
    alt = dict(b.config, process=dict(b.config["process"], args=["sh", "-c", "echo $WHO"],
                                      env=["PATH=/bin", "WHO=from-alt"]))
    with open(b.file("alt.json"), "w") as f:
        json.dump(alt, f)
    cid = new_id()
    r = skiff_ok("run", "--bundle", b.path, "--config", "alt.json", cid, cwd=b.path)
    assert r.stdout == "from-alt\n", r
    # create -f, then exec with the saved config's process: it is the alt one.
    alt["process"]["args"] = ["sleep", "1000"]
    with open(b.file("alt.json"), "w") as f:
        json.dump(alt, f)
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, "-f", b.file("alt.json"), cid)
    assert state(cid)["bundle"] == b.path
    skiff_ok("start", cid)
    assert skiff_ok("exec", cid, "sh", "-c", "echo $WHO").stdout == "from-alt\n"
    skiff_ok("delete", "--force", cid)
    # A missing or bad FILE is one error naming it, and nothing is left.
    cid = new_id()
    r = skiff("create", "--bundle", b.path, "--config", "missing.json", cid, cwd=b.path)
    assert r.returncode == 1 and "--config" in r.stderr and "missing.json" in r.stderr, r
    with open(b.file("bad.json"), "w") as f:
        json.dump({"ociVersion": "1.0.0", "root": {"path": "rootfs"}}, f)
    r = skiff("create", "--bundle", b.path, "--config", b.file("bad.json"), cid)
    assert r.returncode == 1 and f"{b.file('bad.json')}: process: missing" in r.stderr, r
    assert r.stderr.count("\n") == 1, r
    assert not os.path.exists(os.path.join(ROOT, cid))
