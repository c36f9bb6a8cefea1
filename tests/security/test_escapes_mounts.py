"""Mount races through a volume shared with another container; each must fail.

The attacker owns one container and writes to a volume another container
also mounts.  While the victim's mounts are set up, the attacker's container
flips a directory on the volume with a symlink to a host path
(`probe swap`: renameat2(RENAME_EXCHANGE) in a loop).  Each test shows the
race was really hit (skiff met the symlink: what it created or mounted
through it is found inside the victim's rootfs) before asserting that
nothing reached the host.
"""
import json
import stat
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lib  # noqa: E402
import seclib  # noqa: E402
from lib import ROOT, Bundle, new_id, skiff  # noqa: E402


def volume(name):
    """A host directory two containers mount: `name/a` and the symlink
    `name/a.lnk` to a host directory, returned as (volume, host directory)."""
    vol = os.path.join(lib.WORK, name)
    host = os.path.join(lib.WORK, name + "-host")
    os.makedirs(os.path.join(vol, "a"))
    os.makedirs(host)
    os.symlink(host, os.path.join(vol, "a.lnk"))
    return vol, host


def bind(src, dest):
    return {"destination": dest, "type": "bind", "source": src, "options": ["rbind"]}


class Racer:
    """The attacker's container: swaps /vol/a and /vol/a.lnk for `seconds`."""

    def __init__(self, vol, seconds):
        b = Bundle(["probe", "swap", "/vol/a", "/vol/a.lnk", str(seconds)],
                   edit=lambda c: c["mounts"].append(bind(vol, "/vol")))
        self.out = open(b.file("racer.out"), "w+")
        self.proc = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", b.path,
                                      new_id()], stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.out)

    def swaps(self):
        """Waits for the racer; the number of swaps it made."""
        self.proc.wait(timeout=60)
        self.out.seek(0)
        text = self.out.read()
        self.out.close()
        (res,) = seclib.json_lines(text)
        assert res["ok"], text
        return res["swaps"]


def under(path):
    """Every path below `path` (relative), walking without following symlinks."""
    found = []
    for dirpath, dirs, files in os.walk(path):
        for n in dirs + files:
            found.append(os.path.relpath(os.path.join(dirpath, n), path))
    return sorted(found)


# ---- CVE-2024-45310: racing volume mounts create files or directories on the host ----

def test_cve_2024_45310_racing_volume_never_creates_on_the_host():
    vol, host = volume("vol45310")
    src_file = os.path.join(lib.WORK, "file45310")
    with open(src_file, "w") as f:
        f.write("x")
    runs = 25

    def victim_edit(i):
        def edit(c):
            c["mounts"].append(bind(vol, "/vol"))
            # Missing destinations under the raced directory: skiff creates each one,
            # a directory (tmpfs) and a file (the bind of a file).
            c["mounts"].append({"destination": f"/vol/a/r{i}/d", "type": "tmpfs",
                                "source": "tmpfs", "options": ["size=1256k"]})
            c["mounts"].append({"destination": f"/vol/a/r{i}/f", "type": "bind",
                                "source": src_file, "options": ["bind"]})
        return edit
    before = seclib.watched_mounts()
    racer = Racer(vol, 6)
    victims, failed = [], 0
    try:
        time.sleep(0.3)  # the racer is swapping
        # Up to twice the runs while no victim has started yet: a loaded host can
        # refuse many in a row (each refusal is the race hit, see below).
        i = 0
        while i < runs or (failed == i and i < 2 * runs):
            i += 1
            b = Bundle(["probe", "mountinfo"], edit=victim_edit(i))
            victims.append(b)
            r = skiff("run", "--bundle", b.path, new_id())
            if r.returncode != 0:
                # A refusal is one line naming the destination; never a partial mount.
                assert r.returncode == 1 and r.stderr.count("\n") == 1, r
                assert f"/vol/a/r{i}" in r.stderr, r.stderr
                failed += 1
                continue
            mi = json.loads(r.stdout)["mountinfo"]
            points = [m["mount_point"] for m in mi if "size=1256k" in m["super_options"]]
            # Wherever the race sent it, the tmpfs is inside the container.
            assert len(points) == 1, points
            assert points[0] in (f"/vol/a/r{i}/d", f"/vol/a.lnk/r{i}/d", f"{host}/r{i}/d"), \
                points
    finally:
        swaps = racer.swaps()
    assert swaps > 1000, ("the racer did not race", swaps)
    # The host: nothing under the symlink's target, no new mount.
    assert under(host) == [], under(host)
    assert seclib.watched_mounts() == before
    # The race was hit: skiff met the symlink while creating destinations and followed
    # it inside the victim's root, where the attacker's target path was created.
    # A refusal is the race hit too: without the racer every destination is made.
    followed = [i for i, b in enumerate(victims) if os.path.isdir(b.rootfs + host)]
    assert followed or failed, ("no run met the symlink", failed, under(vol))
    assert failed < len(victims), "no victim container started at all"


# ---- CVE-2019-19921: a volume raced over /proc ----

def test_cve_2019_19921_symlinked_proc_into_a_raced_volume_is_refused():
    """The advisory's layout: the image's /proc is a symlink to /evil/level1 on the
    shared volume, where the racer swaps level1 with level1~ (a symlink)."""
    vol = os.path.join(lib.WORK, "vol19921")
    os.makedirs(os.path.join(vol, "level1", "level2"))
    os.symlink("/", os.path.join(vol, "level1~"))
    before = seclib.watched_mounts()
    b = Bundle(["probe", "readlink", "/proc/self"],
               edit=lambda c: c["mounts"].insert(0, bind(vol, "/evil")))
    racer = Bundle(["probe", "swap", "/vol/level1", "/vol/level1~", "3"],
                   edit=lambda c: c["mounts"].append(bind(vol, "/vol")))
    proc = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", racer.path, new_id()],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        os.rmdir(os.path.join(b.rootfs, "proc"))
        os.symlink("/evil/level1", os.path.join(b.rootfs, "proc"))
        time.sleep(0.3)
        for _ in range(10):
            cid = new_id()
            r = skiff("create", "--bundle", b.path, cid)
            # The proc mount step is reached and refuses the symlink, every time.
            assert r.returncode == 1 and r.stderr.count("\n") == 1, r
            assert "/proc" in r.stderr and "symlink" in r.stderr, r.stderr
            seclib.assert_nothing_left(cid, before)
    finally:
        out, _ = proc.communicate(timeout=60)
    (res,) = seclib.json_lines(out)
    assert res["ok"] and res["swaps"] > 1000, out
    # No procfs landed on the volume.
    assert under(vol) in (["level1", "level1/level2", "level1~"],
                          ["level1", "level1~", "level1~/level2"]), under(vol)


PROC_CHECK = ("probe mountinfo; probe write /proc/sys/kernel/hostname x; "
              "probe stat /proc/timer_list")


def assert_proc_intact(stdout):
    mi, wr, timer_list = seclib.json_lines(stdout)
    proc = [m for m in mi["mountinfo"] if m["mount_point"] == "/proc"]
    assert proc and proc[-1]["fs_type"] == "proc", proc
    # Under /proc only the masks (tmpfs, the null device) and procfs itself.
    under_proc = [m for m in mi["mountinfo"] if m["mount_point"].startswith("/proc/")
                  and (m["fs_type"] not in ("proc", "tmpfs") or "size=12" in m["super_options"])]
    assert not under_proc, under_proc
    # /proc/sys read-only, /proc/timer_list masked by the null device.
    assert not wr["ok"] and wr["errno"] == 30, wr
    assert timer_list["ok"] and timer_list["type"] == "char", timer_list
    assert (timer_list["major"], timer_list["minor"]) == (1, 3), timer_list


def test_cve_2019_19921_raced_volume_cannot_cover_proc():
    """The victim's /proc is a real directory; its mounts go under /vol/a, which the
    racer flips with a symlink to /proc: a bind over /proc, a tmpfs over /proc/sys and a
    file over /proc/sys/kernel/core_pattern.  Each must land in the volume or be
    refused; /proc stays the container's procfs with its read-only and masked paths."""
    vol = os.path.join(lib.WORK, "vol19921b")
    os.makedirs(os.path.join(vol, "a"))
    os.symlink("/proc", os.path.join(vol, "a.lnk"))
    src_file = os.path.join(lib.WORK, "file19921")
    with open(src_file, "w") as f:
        f.write("|/evil\n")

    def victim_edit(i):
        def edit(c):
            c["mounts"].append(bind(vol, "/vol"))
            c["mounts"].append({"destination": "/vol/a/sys", "type": "tmpfs",
                                "source": "tmpfs", "options": ["size=1272k"]})
            c["mounts"].append({"destination": "/vol/a/sys/kernel/core_pattern",
                                "type": "bind", "source": src_file, "options": ["bind"]})
            c["mounts"].append(bind(vol, "/vol/a"))
        return edit
    before = seclib.watched_mounts()
    racer = Racer(vol, 6)
    refused = {"on": 0, "inside": 0}
    started = 0
    try:
        time.sleep(0.3)
        for i in range(30):
            b = Bundle(["sh", "-c", PROC_CHECK], edit=victim_edit(i))
            r = skiff("run", "--bundle", b.path, new_id())
            if r.returncode != 0:
                assert r.returncode == 1 and r.stderr.count("\n") == 1, r
                if "only procfs may be mounted on /proc" in r.stderr:
                    refused["on"] += 1
                elif "the destination is inside /proc" in r.stderr:
                    refused["inside"] += 1
                continue
            started += 1
            assert_proc_intact(r.stdout)
    finally:
        swaps = racer.swaps()
    assert swaps > 1000, swaps
    assert seclib.watched_mounts() == before
    with open("/proc/sys/kernel/core_pattern") as f:
        assert "evil" not in f.read()
    # The race was hit: skiff resolved the symlink into /proc and refused it.
    assert refused["on"] + refused["inside"] > 0, (refused, started)
    # Three raced destinations rarely all land in the volume: once the racer is done,
    # with /vol/a the directory, the same container starts and keeps its /proc.
    if os.path.islink(os.path.join(vol, "a")):
        os.rename(os.path.join(vol, "a"), os.path.join(vol, "a.tmp"))
        os.rename(os.path.join(vol, "a.lnk"), os.path.join(vol, "a"))
    b = Bundle(["sh", "-c", PROC_CHECK], edit=victim_edit(0))
    r = skiff("run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    assert_proc_intact(r.stdout)


# ---- CVE-2025-52565: /dev/console swapped for a symlink while the pty is bound there ----

def test_cve_2025_52565_console_bind_is_never_redirected():
    """The victim's /dev is a volume the racer shares; with terminal: true skiff binds
    the pty on /dev/console while the racer flips it with a symlink to
    /proc/sys/kernel/core_pattern."""
    dev = os.path.join(lib.WORK, "dev52565")
    os.makedirs(os.path.join(dev, "pts"))
    os.mknod(os.path.join(dev, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.symlink("pts/ptmx", os.path.join(dev, "ptmx"))
    with open(os.path.join(dev, "console"), "w"):
        pass
    os.symlink("/proc/sys/kernel/core_pattern", os.path.join(dev, "console.lnk"))
    with open("/proc/sys/kernel/core_pattern") as f:
        core_pattern = f.read()

    def victim(c):
        c["process"]["terminal"] = True
        c["mounts"] = [m for m in c["mounts"] if not m["destination"].startswith("/dev")]
        c["mounts"].append(bind(dev, "/dev"))
        c["mounts"].append({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666"]})
    b = Bundle(["probe", "mountinfo"], edit=victim)
    racer = Bundle(["probe", "swap", "/d/console", "/d/console.lnk", "6"],
                   edit=lambda c: c["mounts"].append(bind(dev, "/d")))
    before = seclib.watched_mounts()
    proc = subprocess.Popen([lib.SKIFF, "--root", ROOT, "run", "--bundle", racer.path, new_id()],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    refused = started = 0
    try:
        time.sleep(0.3)
        for _ in range(30):
            r = skiff("run", "--bundle", b.path, new_id())
            if r.returncode != 0:
                assert r.returncode == 1 and r.stderr.count("\n") == 1, r
                assert "/dev/console" in r.stderr and "symlink" in r.stderr, r.stderr
                refused += 1
                continue
            started += 1
            (mi,) = seclib.json_lines(r.stdout)
            points = {m["mount_point"]: m["fs_type"] for m in mi["mountinfo"]}
            # The pty is on /dev/console (or where the racer moved the file, inside
            # /dev), never on the procfs file.
            assert "/proc/sys/kernel/core_pattern" not in points, points
            assert [p for p, t in points.items() if t == "devpts" and p != "/dev/pts"] in (
                ["/dev/console"], ["/dev/console.lnk"]), points
    finally:
        out, _ = proc.communicate(timeout=60)
    (res,) = seclib.json_lines(out)
    assert res["ok"] and res["swaps"] > 1000, out
    assert seclib.watched_mounts() == before
    with open("/proc/sys/kernel/core_pattern") as f:
        assert f.read() == core_pattern
    # The race was hit: skiff met the symlink at /dev/console and refused it.
    assert refused > 0 and started > 0, (refused, started)


# ---- CVE-2025-52881: skiff's writes to /proc redirected through racing mounts ----

def test_cve_2025_52881_sysctl_write_never_reaches_a_raced_mount():
    """The racer flips /vol/a with a symlink to /proc/sys/net/ipv4 while the victim binds
    a host file on /vol/a/ip_forward and sets net.ipv4.ip_forward: had the bind landed on
    the procfs file, skiff's sysctl write would go to the host file instead."""
    vol = os.path.join(lib.WORK, "vol52881")
    os.makedirs(os.path.join(vol, "a"))
    os.symlink("/proc/sys/net/ipv4", os.path.join(vol, "a.lnk"))
    target = os.path.join(lib.WORK, "file52881")
    with open(target, "w") as f:
        f.write("untouched\n")

    def victim(c):
        c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        c["mounts"].append(bind(vol, "/vol"))
        c["mounts"].append({"destination": "/vol/a/ip_forward", "type": "bind",
                            "source": target, "options": ["bind"]})
    b = Bundle(["probe", "read", "/proc/sys/net/ipv4/ip_forward"], edit=victim)
    before = seclib.watched_mounts()
    racer = Racer(vol, 6)
    refused = started = 0
    try:
        time.sleep(0.3)
        for _ in range(30):
            r = skiff("run", "--bundle", b.path, new_id())
            if r.returncode != 0:
                # One line naming the destination: met inside /proc, or (another turn
                # of the race) a symlink whose target is missing.
                assert r.returncode == 1 and r.stderr.count("\n") == 1, r
                assert "/vol/a/ip_forward" in r.stderr, r.stderr
                refused += "the destination is inside /proc" in r.stderr
                continue
            started += 1
            # The write reached the container's procfs.
            (fwd,) = seclib.json_lines(r.stdout)
            assert fwd["ok"] and fwd["content"] == "1\n", fwd
    finally:
        swaps = racer.swaps()
    assert swaps > 1000, swaps
    assert seclib.watched_mounts() == before
    with open(target) as f:
        assert f.read() == "untouched\n"
    # The race was hit: the bind's destination resolved into /proc and was refused.
    assert refused > 0 and started > 0, (refused, started)
