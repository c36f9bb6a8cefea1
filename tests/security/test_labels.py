"""process.apparmorProfile, process.selinuxLabel and linux.mountLabel.

The host has neither SELinux nor AppArmor: there a requested AppArmor
profile must fail `create` with one line and leave nothing, while an SELinux
label is ignored (a debug line says so), as runc does.  AppArmor is active in
the tests/vm VM, where a profile that denies one file is loaded and the
container's read of that file must fail only while the profile applies, and
where a /proc the container planted (CVE-2023-28642, CVE-2023-27561) must fail
`create` or still end with the profile applied.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lib  # noqa: E402
import seclib  # noqa: E402
from lib import Bundle, new_id, skiff  # noqa: E402

PROFILE = "skiff-test-deny-secret"


def host_lsm():
    if os.path.exists("/sys/fs/selinux/enforce"):
        return "selinux"
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            if f.read().startswith("Y") and os.path.exists("/sys/kernel/security/apparmor"):
                return "apparmor"
    except OSError:
        pass
    return None


def test_apparmor_profile_without_apparmor_is_refused():
    if host_lsm() == "apparmor":
        raise lib.Skip("AppArmor is enabled on this host")

    def edit(c):
        c["process"]["apparmorProfile"] = "docker-default"
    b = Bundle(["true"], edit=edit)
    seclib.refused(b, new_id(), "process.apparmorProfile", "docker-default",
                   "AppArmor is not enabled")


def test_selinux_label_without_selinux_is_a_noop():
    if host_lsm() == "selinux":
        raise lib.Skip("SELinux is enabled on this host")

    def edit(c):
        c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
        c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    b = Bundle(["sh", "-c", "probe label; probe mountinfo"], edit=edit)
    r = skiff("--debug", "run", "--bundle", b.path, new_id())
    assert r.returncode == 0, r
    label, mi = seclib.json_lines(r.stdout)
    # No LSM: nothing was written, and no mount got a context= option.
    assert not any("context=" in m["super_options"] for m in mi["mountinfo"]), mi
    assert "selinuxLabel: ignored" in r.stderr, r.stderr


# ---- AppArmor in the tests/vm VM: one boot for both tests below ----

VM_PROLOGUE = r"""
set -u
cat > /tmp/profile <<PROFILE_END
profile {profile} flags=(attach_disconnected,mediate_deleted) {{
  file,
  capability,
  mount,
  umount,
  signal,
  deny /secret.txt r,
}}
PROFILE_END
if ! /usr/sbin/apparmor_parser -r -W /tmp/profile; then echo "LOAD-FAILED"; exit 3; fi
S="{skiff} --root /run/skiff-aa"
"""

# One section per container: "==> NAME", its output, "==< rc=N".
VM_RUN = """
echo "==> {name}"; $S run --bundle {bundle} c-{name} 2>&1; echo "==< rc=$?"
"""

# The exec target covers its own /proc with a fake tree; then a confined exec.
VM_EXEC = """
echo "==> {name}"
$S create --bundle {bundle} c-{name} </dev/null >/dev/null 2>&1 && $S start c-{name}
i=0; while [ ! -e {bundle}/rootfs/covered ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
$S exec --apparmor {profile} c-{name} sh -c '{script}' 2>&1; echo "==< rc=$?"
$S delete --force c-{name} >/dev/null 2>&1
"""

# The racer shares the victim's rootfs and swaps its /proc with a symlink to a fake
# tree while the victim starts {n} times.  The victim runs from a copy on tmpfs: the
# VM's / is an overlay, where renaming a directory of the lower layer fails (EXDEV).
VM_RACE = """
cp -a {bundle} {copy}
$S run --bundle {racer} c-racer >/tmp/racer.out 2>&1 &
sleep 1
for i in $(seq {n}); do
  echo "==> {name}"; $S run --bundle {copy} c-{name}-$i 2>&1; echo "==< rc=$?"
  $S delete --force c-{name}-$i >/dev/null 2>&1
done
wait
echo "==> racer"; cat /tmp/racer.out; echo "==< rc=0"
"""

CONFINED = "probe open /secret.txt; probe apparmor"
FAKE_FILES = ("thread-self/attr/apparmor/exec", "thread-self/attr/apparmor/current",
              "thread-self/attr/exec", "self/attr/apparmor/exec", "self/attr/apparmor/current",
              "self/attr/exec", "self/attr/current")
RACES = 12
RACE_COPY = "/run/skiff-aa-victim"

_vm_sections = None


def fake_proc(path):
    """A plain directory tree posing as procfs's attr files, all empty."""
    for f in FAKE_FILES:
        os.makedirs(os.path.dirname(os.path.join(path, f)), exist_ok=True)
        open(os.path.join(path, f), "w").close()


def aa_bundle(args, edit=None, prep=None, profile=PROFILE):
    """A bundle whose /secret.txt the profile denies, with /fakeproc a fake attr tree.
    The root is writable: a label written into a planted file must not fail with EROFS
    by luck, it must never reach that file."""
    def e(c):
        c["root"]["readonly"] = False
        if profile:
            c["process"]["apparmorProfile"] = profile
        if edit:
            edit(c)
    b = Bundle(args, edit=e)
    with open(os.path.join(b.rootfs, "secret.txt"), "w") as f:
        f.write("secret\n")
    fake_proc(os.path.join(b.rootfs, "fakeproc"))
    if prep:
        prep(b.rootfs)
    return b


def mount(dest, type_, source, options=()):
    return {"destination": dest, "type": type_, "source": source, "options": list(options)}


def insert_mount(m):
    return lambda c: c["mounts"].insert(1, m)


def no_proc(c):
    c["mounts"] = [m for m in c["mounts"] if m["type"] != "proc"]
    c["linux"]["maskedPaths"] = []
    c["linux"]["readonlyPaths"] = []


def proc_elsewhere(c):
    for m in c["mounts"]:
        if m["type"] == "proc":
            m["destination"] = "/p"


def proc_symlink(rootfs):
    os.rmdir(os.path.join(rootfs, "proc"))
    os.symlink("/fakeproc", os.path.join(rootfs, "proc"))


def privileged(c):
    c["process"]["capabilities"] = {k: ["CAP_SYS_ADMIN"]
                                    for k in ("bounding", "effective", "permitted")}


def vm_bundles():
    """The bundles of every case the one VM run replays."""
    fake = os.path.join(lib.WORK, "fakeproc-host")
    fake_proc(fake)
    confined = ["sh", "-c", CONFINED]
    runs = {
        "profile": aa_bundle(["sh", "-c", CONFINED + "; probe open /etc/passwd"]),
        "none": aa_bundle(["sh", "-c", CONFINED + "; probe open /etc/passwd"], profile=None),
        "missing": aa_bundle(["true"], profile="skiff-no-such-profile"),
        # CVE-2023-28642: the image's /proc is a symlink to a fake attr tree.
        "proc-symlink": aa_bundle(confined, prep=proc_symlink),
        # CVE-2023-27561 (and CVE-2019-16884): a volume or tmpfs over /proc, directly,
        # through a symlinked destination, or over the attr directory itself.
        "bind-over-proc": aa_bundle(confined, insert_mount(mount("/proc", "bind", fake,
                                                                 ["rbind"]))),
        "tmpfs-over-proc": aa_bundle(confined, insert_mount(mount("/proc", "tmpfs", "tmpfs"))),
        "bind-via-symlink": aa_bundle(
            confined, insert_mount(mount("/myproc", "bind", fake, ["rbind"])),
            prep=lambda r: os.symlink("/proc", os.path.join(r, "myproc"))),
        "bind-over-attr": aa_bundle(confined, insert_mount(mount(
            "/proc/thread-self/attr", "bind", fake + "/thread-self/attr", ["rbind"]))),
        # No procfs on /proc: the image's fake tree is all the container has there.
        "no-proc": aa_bundle(["sh", "-c", "probe open /secret.txt; "
                              "probe read /proc/thread-self/attr/apparmor/exec"],
                             edit=no_proc, prep=lambda r: fake_proc(os.path.join(r, "proc"))),
        "proc-elsewhere": aa_bundle(
            ["sh", "-c", "probe open /secret.txt; probe read /p/self/attr/apparmor/current"],
            edit=proc_elsewhere,
            prep=lambda r: (os.mkdir(os.path.join(r, "p")), fake_proc(os.path.join(r, "proc")))),
    }
    exec_target = aa_bundle(["sh", "-c", "mount --rbind /fakeproc /proc && touch /covered; "
                             "sleep 60"], edit=privileged, profile=None)
    victim = aa_bundle(["sh", "-c", "probe readlink /proc; " + CONFINED])
    os.symlink("/fakeproc", os.path.join(victim.rootfs, "proc.lnk"))
    racer = Bundle(["probe", "swap", "/vol/proc", "/vol/proc.lnk", "8"],
                   edit=lambda c: c["mounts"].append(
                       mount("/vol", "bind", RACE_COPY + "/rootfs", ["rbind"])))
    return runs, exec_target, victim, racer


def vm_sections():
    """Runs every case in one VM boot, once per test run: {name: [(output, status)]}."""
    global _vm_sections
    if _vm_sections is not None:
        return _vm_sections
    import vm  # tests/integration/vm.py
    if not shutil.which("apparmor_parser", path="/usr/sbin:/sbin:/usr/bin"):
        raise lib.Skip("apparmor_parser is not installed (package apparmor)")
    runs, exec_target, victim, racer = vm_bundles()
    body = VM_PROLOGUE.format(profile=PROFILE, skiff=lib.SKIFF)
    for name, b in runs.items():
        body += VM_RUN.format(name=name, bundle=b.path)
    body += VM_EXEC.format(name="exec", bundle=exec_target.path, profile=PROFILE,
                           script=CONFINED)
    body += VM_RACE.format(name="race", bundle=victim.path, copy=RACE_COPY, racer=racer.path,
                           n=RACES)
    status, out = vm.run_script("aa-test.sh", body, timeout=400)
    if "LOAD-FAILED" in out:
        raise lib.Skip("the VM kernel refused the test profile:\n" + out[-1000:])
    assert status == 0, out[-3000:]
    sections = vm.sections(out)
    assert set(sections) == set(runs) | {"exec", "race", "racer"}, out[-3000:]
    _vm_sections = sections
    return sections


def confined(text):
    """Whether the first probe report, `open /secret.txt`, met the profile's deny."""
    first = seclib.json_lines(text)[0]
    assert first["path"] == "/secret.txt", text
    return not first["ok"] and first["errno"] == 13


def test_apparmor_profile_denies_in_the_vm():
    sec = vm_sections()
    (out, rc), = sec["profile"]
    assert rc == 0, out
    secret, aa, passwd = seclib.json_lines(out)
    assert aa["apparmor"].startswith(PROFILE), aa
    assert not secret["ok"] and secret["errno"] == 13, secret
    assert passwd["ok"], passwd
    (out, rc), = sec["none"]
    secret0, aa0, passwd0 = seclib.json_lines(out)
    assert secret0["ok"] and passwd0["ok"], (secret0, passwd0)
    assert not (aa0["apparmor"] or "").startswith(PROFILE), aa0
    # A profile the kernel does not have: create fails with one line.
    (out, rc), = sec["missing"]
    assert "skiff-no-such-profile" in out and "not loaded" in out, out
    assert rc == 1 and out.count("\n") == 1, out


def test_cve_2023_28642_27561_planted_proc_never_leaves_the_process_unconfined():
    """AppArmor's exec label is a write to /proc/thread-self/attr/apparmor/exec: a /proc
    the container planted (a symlink, a volume or tmpfs over it, a fake tree, a race
    swapping it) must either fail `create` with one line or end with the profile
    applied, never with the process running unconfined."""
    sec = vm_sections()
    refusals = {"proc-symlink": "symlink", "bind-over-proc": "only procfs",
                "tmpfs-over-proc": "only procfs", "bind-via-symlink": "only procfs",
                "bind-over-attr": "inside /proc"}
    for name, words in refusals.items():
        (out, rc), = sec[name]
        assert rc == 1 and out.count("\n") == 1 and words in out, (name, out)
    # No procfs on /proc: the label still reaches the kernel, the fake file stays empty.
    (out, rc), = sec["no-proc"]
    assert rc == 0 and confined(out), out
    assert seclib.json_lines(out)[1]["content"] == "", out
    (out, rc), = sec["proc-elsewhere"]
    assert rc == 0 and confined(out), out
    assert seclib.json_lines(out)[1]["content"].startswith(PROFILE), out
    # exec into a container that covered its own /proc.
    (out, rc), = sec["exec"]
    assert rc == 0 and confined(out), out
    # The race: every victim is refused or confined, and the race was really hit.
    hit = 0
    for out, rc in sec["race"]:
        if rc != 0:
            assert rc == 1 and out.count("\n") == 1 and "/proc" in out, out
            hit += "symlink" in out
            continue
        link, secret, _ = seclib.json_lines(out)
        hit += link["ok"]  # /proc was swapped for the symlink after its mount
        assert not secret["ok"] and secret["errno"] == 13, out
    (racer, _), = sec["racer"]
    (res,) = seclib.json_lines(racer)
    assert res["ok"] and res["swaps"] > 1000, racer
    assert hit > 0, sec["race"]
