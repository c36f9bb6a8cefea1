"""Behaviours callers rely on because runc has them (issue 12, §2).

Each test states what runc 1.1 does with the same bundle (seen by running
/usr/sbin/runc on it) and checks that skiff does the same, from inside the
container.
"""
import os

import lib
from lib import Bundle, new_id, skiff, skiff_ok


def run_ok(b, *extra):
    r = skiff("run", *extra, "--bundle", b.path, new_id())
    assert r.returncode == 0, f"run failed ({r.returncode}): {r.stderr}{r.stdout}"
    return r.stdout


def test_mount_data_on_a_bind_is_ignored_not_refused():
    # runc: "mode=755" on a bind is data for a filesystem that a bind does not
    # create; mount(2) ignores it and the bind is made.
    src = os.path.join(lib.WORK, "bind-data-src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "seen"), "w") as f:
        f.write("from the host\n")
    b = Bundle(["cat", "/mnt/seen"], edit=lambda c: c["mounts"].append(
        {"destination": "/mnt", "type": "bind", "source": src,
         "options": ["rbind", "ro", "mode=755", "size=64k"]}))
    assert run_ok(b) == "from the host\n"


def test_exec_into_a_created_container():
    # runc: exec works before start; the init keeps waiting for `start`.
    b = Bundle(["sh", "-c", "echo started > /tmp/mark; sleep 30"])
    b.config["root"]["readonly"] = False
    b.write()
    cid = new_id()
    skiff_ok("create", "--bundle", b.path, cid)
    r = skiff_ok("exec", cid, "sh", "-c", "echo in-$(hostname); ls /tmp")
    assert r.stdout == "in-skiff\n", r.stdout
    assert lib.state(cid)["status"] == "created"
    skiff_ok("start", cid)
    r = skiff_ok("exec", cid, "sh", "-c", "while [ ! -e /tmp/mark ]; do sleep 0.05; done; "
                 "cat /tmp/mark")
    assert r.stdout == "started\n", r.stdout
