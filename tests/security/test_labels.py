"""process.apparmorProfile, process.selinuxLabel and linux.mountLabel.

The host has neither SELinux nor AppArmor: there a requested AppArmor
profile must fail `create` with one line and leave nothing, while an SELinux
label is ignored (a debug line says so), as runc does.  AppArmor is active in
the tests/vm VM, where a profile that denies one file is loaded and the
container's read of that file must fail only while the profile applies.
"""
import json
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


VM_SCRIPT = r"""
set -u
cat > /tmp/profile <<EOF
profile {profile} flags=(attach_disconnected,mediate_deleted) {{
  file,
  capability,
  deny /secret.txt r,
}}
EOF
if ! /usr/sbin/apparmor_parser -r -W /tmp/profile; then echo "LOAD-FAILED"; exit 3; fi
for b in {bundles}; do
  echo "== $b"
  {skiff} --root /run/skiff-aa run --bundle "$b" "c-$(basename $b)" 2>&1
  echo "== rc=$?"
done
"""


def test_apparmor_profile_denies_in_the_vm():
    import vm  # tests/integration/vm.py
    ok, reason = vm.available()
    if not ok:
        raise lib.Skip(f"vm unavailable: {reason}")
    if not shutil.which("apparmor_parser", path="/usr/sbin:/sbin:/usr/bin"):
        raise lib.Skip("apparmor_parser is not installed (package apparmor)")
    script = "probe apparmor; probe open /secret.txt; probe open /etc/passwd"
    with_profile = Bundle(["sh", "-c", script], edit=lambda c: c["process"].update(
        apparmorProfile=PROFILE))
    without = Bundle(["sh", "-c", script])
    missing = Bundle(["true"], edit=lambda c: c["process"].update(
        apparmorProfile="skiff-no-such-profile"))
    for b in (with_profile, without):
        with open(os.path.join(b.rootfs, "secret.txt"), "w") as f:
            f.write("secret\n")
    body = VM_SCRIPT.format(profile=PROFILE, skiff=lib.SKIFF,
                            bundles=" ".join((with_profile.path, without.path, missing.path)))
    path = os.path.join(lib.WORK, "aa-test.sh")
    with open(path, "w") as f:
        f.write(body)
    status, out = vm.run(["/bin/sh", path], timeout=300, cwd=lib.WORK)
    if status == 77:
        raise lib.Skip("vm unavailable")
    if "LOAD-FAILED" in out:
        raise lib.Skip("the VM kernel refused the test profile:\n" + out[-1000:])
    parts = out.split("== ")[1:]
    assert len(parts) == 6 and status == 0, out
    reports = [seclib.json_lines(parts[i]) for i in (0, 2)]
    (aa, secret, passwd), (aa0, secret0, passwd0) = reports
    assert aa["apparmor"].startswith(PROFILE), aa
    assert not secret["ok"] and secret["errno"] == 13, secret
    assert passwd["ok"], passwd
    assert secret0["ok"] and passwd0["ok"], (secret0, passwd0)
    assert not (aa0["apparmor"] or "").startswith(PROFILE), aa0
    # A profile the kernel does not have: create fails with one line.
    assert "skiff-no-such-profile" in parts[4] and "not loaded" in parts[4], parts[4]
    assert parts[5].startswith("rc=1"), parts[5]
