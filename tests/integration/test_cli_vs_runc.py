"""The command line's exit statuses and error records, side by side with runc.

The same commands on the same bundle go to Debian's runc (1.1.5) and to
skiff; what a caller branches on must agree: the exit status of kill with
signal 0 (a liveness probe), of exec failing in the runtime (255) versus the
process exiting 1, of usage errors (1), and the shape of an error record with
--log-format json and no --log (one JSON object on stderr).
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

import lib
from lib import Bundle

RUNC = "/usr/sbin/runc"


class Runtime:
    def __init__(self, binary, root):
        self.binary, self.root = binary, root

    def __call__(self, *args, global_args=()):
        cmd = [self.binary, "--root", self.root, *global_args, *map(str, args)]
        with tempfile.TemporaryFile(dir=lib.WORK) as out, \
                tempfile.TemporaryFile(dir=lib.WORK) as err:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               timeout=60)
            err.seek(0)
            return p.returncode, err.read().decode(errors="replace")


def _stopped(rt, cid):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        code, _ = rt("kill", cid, "0")
        if code != 0:
            return True
        time.sleep(0.05)
    return False


def test_exit_statuses_match_runc():
    if not os.access(RUNC, os.X_OK):
        raise lib.Skip(f"{RUNC} is not installed")
    runc_root = tempfile.mkdtemp(prefix="runc-root-", dir=lib.WORK)
    b = Bundle(["sleep", "1000"])
    cid = lib.new_id("cmp")
    runtimes = {"runc": Runtime(RUNC, runc_root), "skiff": Runtime(lib.SKIFF, lib.ROOT)}
    running = [
        ("kill", cid, "0"), ("kill", "--all", cid, "0"), ("kill", cid, "SIG0"),
        ("exec", cid, "sh", "-c", "exit 1"), ("exec", cid, "sh", "-c", "exit 255"),
        ("exec", "nope-never-made", "true"), ("exec", cid, "/no/such/program"),
        ("exec", "--user", "abc", cid, "true"), ("exec", "--cwd", "/no/such", cid, "true"),
        ("exec", cid), ("exec", "--bogus", cid, "true"), ("exec",),
        ("kill", "nope-never-made", "0"),
    ]
    stopped = [("kill", cid, "0"), ("kill", "--all", cid, "0"), ("exec", cid, "true")]
    seen = {}
    try:
        for name, rt in runtimes.items():
            code, err = rt("run", "-d", "--bundle", b.path, cid)
            assert code == 0, (name, err)
            for args in running:
                seen[(name, "running") + args] = rt(*args)[0]
            rt("kill", cid, "KILL")
            assert _stopped(rt, cid), name
            for args in stopped:
                seen[(name, "stopped") + args] = rt(*args)[0]
            code, err = rt("kill", "nope-never-made", "0", global_args=("--log-format", "json"))
            lines = err.strip().splitlines()
            assert code == 1 and len(lines) == 1, (name, err)
            rec = json.loads(lines[0])
            seen[(name, "json")] = (rec["level"], sorted(rec))
            rt("delete", "--force", cid)
    finally:
        runtimes["runc"]("delete", "--force", cid)
        shutil.rmtree(runc_root, ignore_errors=True)
    diffs = [(k[1:], seen[k], seen[("skiff",) + k[1:]]) for k in seen
             if k[0] == "runc" and seen[k] != seen[("skiff",) + k[1:]]]
    assert not diffs, "(case, runc, skiff): " + repr(diffs)
    # The cases really exercised both answers.
    assert seen[("runc", "running", "kill", cid, "0")] == 0
    assert seen[("runc", "running", "exec", "nope-never-made", "true")] == 255
