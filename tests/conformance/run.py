#!/usr/bin/python3
"""Runs the OCI runtime-tools validation suite against a runtime.

    tests/conformance/run.py [--suite DIR] [--runtime PATH] [--only NAME]... [--json FILE]
    tests/conformance/run.py --table docs/conformance.md [--suite DIR] [--vm]

The skiff binary is $SKIFF, default ./skiff.

The suite is runtime-tools' validation programs (validation/*/*.t) and its
runtimetest, built outside this repository (see docs/conformance.md); DIR is
its top directory, default $RUNTIME_TOOLS_DIR.  Exit status: 0 when every
program ran, 77 when the suite is not built (one line says why).

Each program runs in its own directory: its own TMPDIR (where it makes its
bundles), inside a private mount namespace (`unshare --mount --propagation
slave`: some programs leave shared mounts behind), with RUNTIME set to a
wrapper that gives the runtime a state root of its own, so whatever a
program leaves running is found and deleted afterwards.

One line per program: name, verdict, TAP counts (pass/fail/skip), time.
A program passes when it exits 0 with a complete plan and no failed test (a
plan of "1..0" passes only without an "error" diagnostic: the hook programs
report nothing else; the *_fail programs print nothing when the runtime refuses
as it must, so exit 0 without TAP passes too); it is a skip when every test it
ran was skipped.  With --table, the suite
runs under skiff, runc and crun (and, with --vm, the same three inside the
pure cgroup v2 VM of tests/vm) and the results table replaces the part of
the given markdown file between its two `<!-- table -->` markers.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
KNOWN = os.path.join(HERE, "known-failures")
TIMEOUT = 180  # seconds per program; the slowest take about 30
RUNTIMES = [("skiff", os.environ.get("SKIFF", os.path.join(TOP, "skiff"))),
            ("runc", "/usr/sbin/runc"), ("crun", "/usr/bin/crun")]
MARK = "<!-- table -->"

TAP = re.compile(r"^(not )?ok \d+\b(.*)$")


def parse_tap(text):
    """(passed, failed, skipped, plan) of a TAP stream; a TODO counts as skipped.
    Some programs print several TAP documents one after the other: plans add up."""
    passed = failed = skipped = 0
    plan = None
    for line in text.splitlines():
        m = TAP.match(line)
        if m:
            directive = m.group(2).upper()
            if "# SKIP" in directive or "# TODO" in directive:
                skipped += 1
            elif m.group(1):
                failed += 1
            else:
                passed += 1
        elif re.match(r"^1\.\.\d+$", line):
            plan = (plan or 0) + int(line[3:])
    return passed, failed, skipped, plan


def verdict(rc, passed, failed, skipped, plan, output):
    """Some programs (the hook ones) report only errors, as YAML, then "1..0":
    "1..0" alone passes, "1..0" after an error fails.  The *_fail programs print
    nothing at all when the runtime refuses the config as it must, and exit 1
    (util.Fatal) when it does not: exit 0 without TAP passes."""
    if rc == 0 and plan is None and not output.strip():
        return "pass"
    if rc != 0 or failed or plan is None or plan != passed + failed + skipped:
        return "fail"
    if plan == 0:
        return "fail" if re.search(r'^\s*"error":', output, re.M) else "pass"
    return "skip" if passed == 0 else "pass"


def suite_problem(suite):
    """Why the suite cannot run (None when it can)."""
    if not suite:
        return "RUNTIME_TOOLS_DIR is not set (build runtime-tools: see docs/conformance.md)"
    if not os.access(os.path.join(suite, "runtimetest"), os.X_OK):
        return f"{suite}/runtimetest is not built (see docs/conformance.md)"
    if not programs(suite):
        return f"{suite}/validation has no built programs (make validation-executables)"
    if shutil.which("unshare") is None:
        return "unshare(1) is missing"
    if os.geteuid() != 0:
        return "the suite needs root"
    return None


def programs(suite):
    """Every built validation program, by name."""
    found = []
    vdir = os.path.join(suite, "validation")
    for name in sorted(os.listdir(vdir)) if os.path.isdir(vdir) else []:
        path = os.path.join(vdir, name, name + ".t")
        if os.access(path, os.X_OK):
            found.append((name, path))
    return found


def known_failures(path=KNOWN):
    """{program: reason} from the known-failures file."""
    known = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            known[name] = reason.strip()
    return known


def cleanup(runtime, root):
    """Deletes whatever a program left in its state root."""
    if not os.path.isdir(root):
        return
    for cid in os.listdir(root):
        if os.path.isdir(os.path.join(root, cid)):
            subprocess.run([runtime, "--root", root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


UNIFIED = "/sys/fs/cgroup/unified"


def crun_needs_v1_view(runtime):
    """crun 1.8 refuses a hybrid host whose cgroup2 mount has controllers ("cgroups in
    hybrid mode not supported"); this host's has hugetlb."""
    try:
        with open(os.path.join(UNIFIED, "cgroup.controllers")) as f:
            return "crun" in os.path.basename(runtime) and f.read().strip() != ""
    except OSError:
        return False


# The cgroups the programs ask for (cgroups.AbsCgroupPath, and the relative
# "testdir/cgrouptest/container"): runtimes leave the parents behind.
SUITE_CGROUPS = ("cgrouptest", "testdir")


def cleanup_cgroups():
    """Removes the suite's cgroups once empty (rmdir fails on a cgroup in use)."""
    for hier in os.listdir("/sys/fs/cgroup"):
        for name in SUITE_CGROUPS:
            top = os.path.join("/sys/fs/cgroup", hier, name)
            if not os.path.isdir(top) or os.path.islink(os.path.join("/sys/fs/cgroup", hier)):
                continue
            for d, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(d)
                except OSError:
                    pass


def run_program(suite, runtime, name, path):
    work = tempfile.mkdtemp(prefix=f"skiff-conf-{name}-", dir="/tmp")
    tmp, root = os.path.join(work, "tmp"), os.path.join(work, "root")
    os.mkdir(tmp)
    # Searchable, as /tmp itself is: a user namespace's root must reach the bundles.
    os.chmod(work, 0o755)
    os.chmod(tmp, 0o755)
    wrapper = os.path.join(work, "runtime")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {runtime} --root {root} "$@"\n')
    os.chmod(wrapper, 0o755)
    env = dict(os.environ, RUNTIME=wrapper, TMPDIR=tmp)
    cmd = ["unshare", "--mount", "--propagation", "slave", path]
    if crun_needs_v1_view(runtime):
        # Hidden in the program's own mount namespace only; the host's mount is untouched.
        cmd[4:] = ["sh", "-c", f'mount -t tmpfs -o size=64k skiff-hide {UNIFIED} && exec "$0"',
                   path]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=suite,
                           env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=TIMEOUT)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
        err = (e.stderr or b"").decode(errors="replace")
    elapsed = time.monotonic() - start
    try:
        cleanup(runtime, root)
        cleanup_cgroups()
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", work], check=False, timeout=600)
    passed, failed, skipped, plan = parse_tap(out)
    v = verdict(0 if rc == 0 else 1, passed, failed, skipped, plan, out)
    return {"name": name, "verdict": v, "pass": passed, "fail": failed, "skip": skipped,
            "rc": rc, "time": round(elapsed, 1), "failures": failures(out),
            "output": out[-3000:], "stderr": err[-3000:]}


def failures(tap):
    """Each failed test's line and the diagnostic lines after it."""
    kept, keep = [], 0
    for line in tap.splitlines():
        if TAP.match(line) or re.match(r"^1\.\.\d+$", line):
            keep = 25 if line.startswith("not ok") else 0
        elif line.startswith("#") or line.startswith("  "):
            pass
        if keep:
            kept.append(line)
            keep -= 1
    return "\n".join(kept)


def run_suite(suite, runtime, only=(), known=None, verbose=False, out=sys.stdout):
    results = []
    for name, path in programs(suite):
        if only and not any(o in name for o in only):
            continue
        r = run_program(suite, runtime, name, path)
        results.append(r)
        note = ""
        if known is not None and r["verdict"] != "pass" and name in known:
            note = "  (known: " + known[name][:70] + ")"
        elif (known is not None and r["verdict"] == "pass" and name in known
              and not known[name].startswith("[flaky]")):
            note = "  (listed in known-failures but passes)"
        print(f"{name:<36} {r['verdict']:<4}  {r['pass']:>3} pass {r['fail']:>3} fail "
              f"{r['skip']:>3} skip  {r['time']:6.1f}s{note}", file=out, flush=True)
        if verbose and r["verdict"] == "fail":
            text = (r["failures"] or r["output"][-1500:]) + "\n" + r["stderr"]
            for line in text.splitlines():
                print("    " + line, file=out)
    totals = {v: sum(r["verdict"] == v for r in results) for v in ("pass", "fail", "skip")}
    print(f"total: {len(results)} programs: {totals['pass']} pass, {totals['fail']} fail, "
          f"{totals['skip']} skip; tests: {sum(r['pass'] for r in results)} pass, "
          f"{sum(r['fail'] for r in results)} fail, {sum(r['skip'] for r in results)} skip",
          file=out, flush=True)
    return results


def host_description():
    with open("/proc/self/mountinfo") as f:
        v1 = any(" - cgroup " in line for line in f)
    return f"Linux {platform.release()}, {'hybrid cgroup v1/v2' if v1 else 'cgroup v2'}"


def run_all(suite, runtimes, out):
    """{runtime name: results} for every runtime, plus the host's description."""
    data = {"host": host_description(), "results": {}}
    for rname, rpath in runtimes:
        print(f"## {rname} ({rpath})", file=out, flush=True)
        data["results"][rname] = run_suite(suite, rpath, out=out)
    return data


JSON_MARK = "conformance-json: "


def run_in_vm(suite, out):
    """The same runs inside tests/vm's pure cgroup v2 VM, one VM per runtime (each under
    the VM lock, so others' VM jobs interleave); the VM writes nothing to the host, so the
    results come back on its output, as one JSON line."""
    data = {"results": {}}
    for rname, rpath in RUNTIMES:
        if re.match(r"^/(tmp|run)/", os.path.abspath(rpath)):
            raise SystemExit(f"{rpath}: the VM has its own /tmp and /run; use another path")
        print(f"## {rname} in the VM", file=out, flush=True)
        # One VM at a time: the lock is the VM script itself, so no lock file is left.
        vm_script = os.path.join(TOP, "tests/vm/run-in-vm.sh")
        cmd = ["flock", vm_script, vm_script,
               "--timeout", "2400", "--", "/usr/bin/python3", os.path.abspath(__file__),
               "--suite", suite, "--vm-half", rname]
        # The VM's own limit is 2400 s; flock may first wait for another suite's VM.
        p = subprocess.run(cmd, cwd=TOP, capture_output=True, text=True, errors="replace",
                           timeout=3 * 3600)
        lines = p.stdout.splitlines()
        got = [json.loads(line[len(JSON_MARK):]) for line in lines if line.startswith(JSON_MARK)]
        print("\n".join(line for line in lines if not line.startswith(JSON_MARK)), file=out)
        if p.returncode != 0 or not got:
            raise SystemExit(f"the VM run failed ({p.returncode}): {p.stderr[-2000:]}")
        data["host"] = got[0]["host"]
        data["results"][rname] = got[0]["results"]
    return data


def cell(r):
    if r is None:
        return "-"
    mark = {"pass": "pass", "fail": "**fail**", "skip": "skip"}[r["verdict"]]
    return f"{mark} {r['pass']}/{r['fail']}/{r['skip']}"


def table(runs):
    """Markdown: one row per program, one column per (place, runtime)."""
    cols = [(place, rname) for place, data in runs for rname in data["results"]]
    by = {(place, rname): {r["name"]: r for r in res}
          for place, data in runs for rname, res in data["results"].items()}
    names = sorted({n for d in by.values() for n in d})
    lines = ["| program | " + " | ".join(f"{r} ({p})" for p, r in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for n in names:
        lines.append(f"| {n} | " + " | ".join(cell(by[c].get(n)) for c in cols) + " |")
    totals = []
    for c in cols:
        res = by[c].values()
        totals.append(f"**{sum(r['verdict'] == 'pass' for r in res)}** pass, "
                      f"{sum(r['verdict'] == 'fail' for r in res)} fail, "
                      f"{sum(r['verdict'] == 'skip' for r in res)} skip")
    lines.append("| **programs** | " + " | ".join(totals) + " |")
    hosts = "; ".join(f"{p}: {d['host']}" for p, d in runs)
    return "\n".join(lines) + f"\n\nCells: verdict, then TAP tests pass/fail/skip. {hosts}.\n"


def read_table(md, place):
    """The columns of one place ("v2 VM") back from a table write_table wrote."""
    with open(md) as f:
        text = f.read().split(MARK)
    rows = [line.strip("|").split(" | ") for line in text[1].splitlines()
            if line.startswith("| ")] if len(text) == 3 else []
    if not rows:
        return None
    head = [c.strip() for c in rows[0]]
    data = {"results": {}, "host": ""}
    m = re.search(rf"{re.escape(place)}: ([^;]*?)\.?(;|$)", text[1], re.M)
    data["host"] = m.group(1) if m else "?"
    for i, col in enumerate(head):
        if not col.endswith(f"({place})"):
            continue
        res = []
        for row in rows[1:]:
            cellv = row[i].strip().replace("*", "").split()
            if row[0].strip().startswith("*") or len(cellv) != 2:
                continue
            p, f, sk = map(int, cellv[1].split("/"))
            res.append({"name": row[0].strip(), "verdict": cellv[0], "pass": p, "fail": f,
                        "skip": sk})
        data["results"][col[:-len(place) - 3]] = res
    return data if data["results"] else None


def write_table(md, runs):
    with open(md) as f:
        text = f.read()
    parts = text.split(MARK)
    if len(parts) != 3:
        raise SystemExit(f"{md}: wants exactly two `{MARK}` lines around the table")
    with open(md, "w") as f:
        f.write(parts[0] + MARK + "\n" + table(runs) + MARK + parts[2])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", default=os.environ.get("RUNTIME_TOOLS_DIR"))
    ap.add_argument("--runtime", default=RUNTIMES[0][1])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--verbose", "-v", action="store_true", help="print failing output")
    ap.add_argument("--table", metavar="MD", help="run skiff, runc and crun; update MD")
    ap.add_argument("--vm", action="store_true", help="with --table: also in tests/vm")
    ap.add_argument("--keep-vm", action="store_true",
                    help="with --table: keep the VM columns MD has (no VM run)")
    ap.add_argument("--vm-half", help=argparse.SUPPRESS)  # inside the VM: one runtime
    a = ap.parse_args()
    why = suite_problem(a.suite)
    if why:
        print(f"skip: {why}")
        return 77
    suite = os.path.abspath(a.suite)
    if a.vm_half:
        data = run_all(suite, [r for r in RUNTIMES if r[0] == a.vm_half], sys.stdout)
        for res in data["results"].values():
            for r in res:  # the table needs the counts only
                r["failures"] = r["output"] = r["stderr"] = ""
        print(JSON_MARK + json.dumps(data), flush=True)
        return 0
    if a.table:
        runs = [("host", run_all(suite, RUNTIMES, sys.stdout))]
        if a.vm:
            runs.append(("v2 VM", run_in_vm(suite, sys.stdout)))
        elif a.keep_vm and read_table(a.table, "v2 VM"):
            runs.append(("v2 VM", read_table(a.table, "v2 VM")))
        write_table(a.table, runs)
        return 0
    results = run_suite(suite, os.path.abspath(a.runtime), a.only, known_failures(),
                        a.verbose)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
