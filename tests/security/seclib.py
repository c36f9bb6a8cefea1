"""Helpers shared by the security tests (tests/security/test_*.py).

Every test replays an attack or a policy end to end through the real
binary and asserts on what the container saw and on what is left on the
host.  lib (tests/integration/lib.py) supplies bundles, ids and cleanup.
"""
import json
import os
import shutil
import subprocess

import lib
from lib import ROOT, Bundle, new_id, skiff


def json_lines(text):
    """Every line of probe output that is a JSON object, parsed."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def run(args, edit=None, root=ROOT, timeout=60):
    """`skiff run` of a fresh bundle; returns (CompletedProcess, bundle)."""
    b = Bundle(args, edit=edit)
    return skiff("run", "--bundle", b.path, new_id(), root=root, timeout=timeout), b


def sh(script, edit=None, **kw):
    return run(["sh", "-c", script], edit=edit, **kw)


def watched_mounts():
    """Host mount points an escape from a test bundle could hit: "/" and anything under
    the tests' work directory and state roots.  The rest of the host's table is left
    out, since other suites running at the same time mount and unmount there."""
    return sorted(m for m in lib.mountinfo()
                  if m == "/" or m.startswith(lib.WORK) or m.startswith(lib.ROOT)
                  or m.startswith("/run/skiff-secroot-"))


def assert_nothing_left(cid, mounts_before=None, root=ROOT):
    """A refused create leaves no state directory, cgroup or mount."""
    assert not os.path.exists(os.path.join(root, cid)), f"state of {cid} left behind"
    if mounts_before is not None:
        assert watched_mounts() == mounts_before, "the host mount table changed"
    for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        for dirpath, dirs, _ in os.walk(base):
            assert cid not in dirs, f"cgroup {dirpath}/{cid} left behind"
            break


def refused(b, cid, *words, root=ROOT):
    """Asserts `create` fails with one line naming `words`, leaving nothing."""
    before = watched_mounts()
    r = skiff("create", "--bundle", b.path, cid, root=root)
    assert r.returncode == 1, r
    assert r.stderr.count("\n") == 1, r.stderr
    for w in words:
        assert w in r.stderr, (w, r.stderr)
    assert_nothing_left(cid, before, root=root)
    return r


def private_root():
    """A state root of the test's own (the runner checks and removes it after the test)."""
    return lib.private_root()


def rm_root(path):
    subprocess.run([lib.SKIFF, "--root", path, "list", "-q"], capture_output=True, timeout=60)
    shutil.rmtree(path, ignore_errors=True)
