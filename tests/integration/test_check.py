"""skiff check: each row agrees with what the test finds on the host by its own means,
the exit status is non-zero only when skiff cannot run, and checking changes nothing."""
import json
import os
import shutil
import subprocess
import tempfile

import lib
from lib import SKIFF, WORK, skiff

NAMES = ["kernel", "syscalls", "pidfd", "clone-into-cgroup", "namespaces", "privileges",
         "user-namespaces", "cgroup", "cgroup-delegation", "systemd", "seccomp",
         "seccomp-notify", "idmapped-mounts", "selinux", "apparmor", "exec-trampoline",
         "state-root", "checkpoint"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]


def check_json(*args, root=lib.ROOT, prefix=()):
    cmd = [*prefix, SKIFF, "--root", root, "check", "--format", "json", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    report = json.loads(r.stdout)
    rows = {c["name"]: c for c in report["checks"]}
    return r, report, rows


def mount_types():
    """mount point -> filesystem type, the last mount on a point winning."""
    types = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            types[left.split()[4]] = right.split()[0]
    return types


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def test_check_reports_every_feature_and_exits_0_on_this_host():
    r, report, rows = check_json()
    assert r.returncode == 0, r.stderr
    assert report["runnable"] is True
    assert [c["name"] for c in report["checks"]] == NAMES, list(rows)
    for c in report["checks"]:
        assert c["status"] in ("ok", "limited", "no"), c
        assert c["detail"] and isinstance(c["advice"], list), c
    t = subprocess.run([SKIFF, "--root", lib.ROOT, "check"], capture_output=True, text=True,
                       timeout=60)
    assert t.returncode == 0 and t.stderr == "", t.stderr
    lines = t.stdout.splitlines()
    assert lines[0].split() == ["FEATURE", "STATUS", "DETAIL"], lines[0]
    named = [line.split()[0] for line in lines[1:] if not line.startswith(" ")]
    assert named == NAMES, named
    # no line of the table is wider than the 100 columns it is laid out for
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)


def test_cgroup_rows_match_the_mounts():
    _, _, rows = check_json()
    types = mount_types()
    cg = rows["cgroup"]
    if types.get("/sys/fs/cgroup") == "cgroup2":
        assert cg["detail"].startswith("unified: cgroup v2 at /sys/fs/cgroup "), cg
        v2 = "/sys/fs/cgroup"
    elif types.get("/sys/fs/cgroup/unified") == "cgroup2":
        assert cg["detail"].startswith("hybrid: cgroup v2 at /sys/fs/cgroup/unified "), cg
        # the fs1 driver drives the v1 controllers: the clients' defaults work
        assert cg["status"] == "ok" and "fs1 driver" in cg["detail"], cg
        v2 = "/sys/fs/cgroup/unified"
        # every v1 hierarchy's controller is named
        for point, kind in types.items():
            if kind == "cgroup" and not point.endswith("/systemd"):
                assert os.path.basename(point) in cg["detail"], (point, cg)
    else:
        assert cg["status"] == "no", cg
        return
    controllers = read(v2 + "/cgroup.controllers") or "no controllers"
    assert controllers in cg["detail"], (controllers, cg)
    with open("/proc/self/cgroup") as f:
        own = [line.strip().split(":", 2)[2] for line in f if line.startswith("0::")][0]
    deleg = rows["cgroup-delegation"]
    assert deleg["status"] == "ok", deleg
    assert f"skiff's cgroup is {own};" in deleg["detail"], (own, deleg)


def test_kernel_feature_rows_match_the_host():
    _, _, rows = check_json()
    actions = read("/proc/sys/kernel/seccomp/actions_avail") or ""
    assert (rows["seccomp-notify"]["status"] == "ok") == ("user_notif" in actions.split())
    assert actions in rows["seccomp"]["detail"]
    userns = subprocess.run(["unshare", "--user", "true"], capture_output=True, timeout=60)
    assert (rows["user-namespaces"]["status"] == "ok") == (userns.returncode == 0), rows
    selinux = mount_types().get("/sys/fs/selinux") == "selinuxfs"
    assert (rows["selinux"]["status"] != "no") == selinux, rows["selinux"]
    apparmor = read("/sys/module/apparmor/parameters/enabled") == "Y"
    assert (rows["apparmor"]["status"] != "no") == apparmor, rows["apparmor"]
    systemd = os.path.isdir("/run/systemd/system") and read("/proc/1/comm") == "systemd"
    if not systemd:
        assert rows["systemd"]["status"] == "no", rows["systemd"]
    bnd = int([line.split()[1] for line in open("/proc/self/status")
               if line.startswith("CapBnd:")][0], 16)
    last = int(read("/proc/sys/kernel/cap_last_cap"))
    full = bnd == (1 << (last + 1)) - 1
    assert (rows["privileges"]["status"] == "ok") == full, rows["privileges"]
    if not bnd & (1 << 24):  # CAP_SYS_RESOURCE
        assert "CAP_SYS_RESOURCE" in rows["privileges"]["detail"]
        assert "default_ulimits" in " ".join(rows["privileges"]["advice"])
        assert "restrict_oom_score_adj" in " ".join(rows["privileges"]["advice"])


def test_checkpoint_row_quotes_criu_check():
    criu = shutil.which("criu") or (os.path.exists("/usr/sbin/criu") and "/usr/sbin/criu")
    _, _, rows = check_json()
    row = rows["checkpoint"]
    if "checkpoint" not in subprocess.run([lib.SKIFF, "--help"], capture_output=True,
                                          text=True, timeout=60).stdout:
        assert row["status"] == "no" and "without libcriu" in row["detail"], row
        return
    if not criu:
        assert row["status"] == "no" and "not installed" in row["detail"], row
        return
    c = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=60)
    out = c.stdout + c.stderr
    if c.returncode == 0:
        assert row["status"] == "ok" and "passes `criu check`" in row["detail"], row
        return
    assert row["status"] == "no" and "no checkpoint/restore" in row["detail"], row
    first = [line for line in out.splitlines() if line.startswith("Error")][0]
    assert first.split("): ", 1)[1] in row["detail"], (first, row)
    with open("/proc/self/maps") as f:
        split_vdso = "[vvar_vclock]" in f.read()
    if "vdso" in out and split_vdso:
        assert "[vvar_vclock]" in " ".join(row["advice"]), row


def test_state_root_rows_and_exit_status():
    d = tempfile.mkdtemp(dir=WORK)
    missing = os.path.join(d, "a", "b")
    r, report, rows = check_json(root=missing)
    assert r.returncode == 0 and rows["state-root"]["status"] == "ok", rows["state-root"]
    assert "will be made" in rows["state-root"]["detail"]
    assert not os.path.exists(os.path.join(d, "a")), "check created the state root"
    link = os.path.join(d, "link")
    os.symlink(d, link)
    r, report, rows = check_json(root=link)
    assert r.returncode == 1 and report["runnable"] is False
    assert rows["state-root"]["status"] == "FATAL" and "symlink" in rows["state-root"]["detail"]
    assert r.stderr == "skiff: check: skiff cannot run on this host\n", r.stderr


def test_unprivileged_caller_gets_reasons_not_a_crash():
    if shutil.which("setpriv") is None:
        raise lib.Skip("setpriv (util-linux) is not installed")
    d = tempfile.mkdtemp(dir=WORK)
    os.chmod(WORK, 0o755)
    os.chmod(d, 0o700)
    # the default-like root is root's and 0700: nobody cannot run skiff with it
    os.makedirs(os.path.join(d, "root"), mode=0o700)
    os.chmod(d, 0o755)
    r, report, rows = check_json(root=os.path.join(d, "root"), prefix=NOBODY)
    assert r.returncode == 1 and rows["state-root"]["status"] == "FATAL", rows["state-root"]
    assert rows["privileges"]["status"] == "limited" and "uid 65534" in rows["privileges"]["detail"]
    assert rows["idmapped-mounts"]["status"] == "no", rows["idmapped-mounts"]
    # with a root of its own, it can
    own = os.path.join(d, "own")
    os.mkdir(own, 0o700)
    os.chown(own, 65534, 65534)
    r, report, rows = check_json(root=own, prefix=NOBODY)
    assert r.returncode == 0 and report["runnable"], r.stderr


def test_check_changes_nothing():
    def ours():
        pids = set()
        for p in os.listdir("/proc"):
            try:
                if p.isdigit() and os.readlink(f"/proc/{p}/exe") in (SKIFF, shutil.which("criu")):
                    pids.add(p)
            except OSError:
                pass
        return pids

    before, procs = lib.mountinfo(), ours()
    r = skiff("check")
    assert r.returncode == 0, r.stderr
    assert lib.mountinfo() == before
    # nothing of its own left running (the user namespace holder, criu)
    assert ours() - procs == set()


def test_bad_format_is_one_line():
    r = skiff("check", "--format", "yaml")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "skiff: check: --format: unknown format `yaml` (table or json)\n", r.stderr


def test_unprivileged_caller_without_a_state_root_still_gets_the_report():
    """An unprivileged caller's default root is $XDG_RUNTIME_DIR/skiff: without the variable
    every other command fails at once, but check reports, with the reason in its row."""
    if shutil.which("setpriv") is None:
        raise lib.Skip("setpriv (util-linux) is not installed")
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    cmd = [*NOBODY, SKIFF, "check", "--format", "json"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    rows = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert r.returncode == 1 and rows["state-root"]["status"] == "FATAL", (r.stderr, rows)
    assert "XDG_RUNTIME_DIR" in rows["state-root"]["detail"], rows["state-root"]
    xdg = tempfile.mkdtemp(dir=WORK)
    os.chmod(WORK, 0o755)
    os.chown(xdg, 65534, 65534)
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, XDG_RUNTIME_DIR=xdg),
                       timeout=60)
    rows = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert r.returncode == 0, r.stderr
    assert rows["state-root"]["detail"].startswith(f"{xdg}/skiff does not exist yet"), rows
