#!/usr/bin/python3
"""skiff's test runner: C unit tests (TAP) and integration tests (Python).

Integration tests are functions named test_* in tests/{integration,security,conformance}/test_*.py.
A test passes by returning, fails by raising, and skips by raising
lib.Skip("why").  The run ends with one line: N passed, N failed, N skipped.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))

import lib  # noqa: E402

MAIN_PID = os.getpid()

counts = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def record(name, outcome, detail=""):
    counts[outcome] += 1
    mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[outcome]
    line = f"{mark} {name}"
    if detail and outcome == "skipped":
        line += f"  ({detail})"
    print(line, flush=True)
    if outcome == "failed":
        failures.append(name)
        for d in detail.rstrip().splitlines():
            print(f"     {d}")


TAP_LINE = re.compile(r"^(not )?ok \d+ - (.*?)(?: # SKIP (.*))?$")


def run_unit(path):
    """Runs one TAP program; a crash, a bad exit status or a short plan is a failure."""
    name = os.path.basename(path)
    try:
        out = subprocess.run([path], capture_output=True, text=True, errors="replace",
                             timeout=600)
    except subprocess.TimeoutExpired:
        record(f"unit/{name}", "failed", "timed out")
        return
    except OSError as e:
        record(f"unit/{name}", "failed", f"cannot run: {e}")
        return
    results = []  # [test, outcome, detail lines]
    plan = None
    for line in out.stdout.splitlines():
        m = TAP_LINE.match(line)
        if line.startswith("#") and results:
            results[-1][2].append(line)
        elif m and m.group(1):
            results.append([f"unit/{name}: {m.group(2)}", "failed", []])
        elif m and m.group(3) is not None:
            results.append([f"unit/{name}: {m.group(2)}", "skipped", [m.group(3)]])
        elif m:
            results.append([f"unit/{name}: {m.group(2)}", "passed", []])
        elif re.match(r"^1\.\.\d+$", line):
            plan = int(line[3:])
    for test, outcome, detail in results:
        record(test, outcome, "\n".join(detail))
    # stdout is a pipe, so a crash loses what was buffered: trust only a full plan
    # and a clean exit.  A signal is reported even after failed tests.
    why = []
    if out.returncode < 0:
        why.append(f"killed by signal {-out.returncode}")
    elif out.returncode != 0 and not any(r[1] == "failed" for r in results):
        why.append(f"exit status {out.returncode} with no failed test")
    if plan is None:
        why.append(f"no plan line (1..N) after {len(results)} results")
    elif plan != len(results):
        why.append(f"plan 1..{plan} but {len(results)} results")
    if why:
        record(f"unit/{name}", "failed", "; ".join(why) + "\n" + out.stderr[-2000:])


def _live_containers():
    """(id, pid, pidStart) of every container in the tests' state root."""
    found = []
    if not os.path.isdir(lib.ROOT):
        return found
    for cid in os.listdir(lib.ROOT):
        if cid.startswith("."):
            continue
        try:
            with open(os.path.join(lib.ROOT, cid, "state.json")) as f:
                st = json.load(f)
            found.append((cid, int(st.get("pid") or 0), st.get("pidStart")))
        except (OSError, ValueError):
            found.append((cid, 0, None))
    return found


def _start_time(pid):
    """pid's start time (field 22 of /proc/PID/stat), None when gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _cleanup_problems():
    """Runs lib's cleanup, then checks it worked; returns what was left behind.

    Every container a test made is deleted by lib.cleanup_after_test(); one it made
    under an id lib does not know, or one whose delete failed, would leak into the
    next test (and its process would outlive the run), so both are failures."""
    problems = []
    before = _live_containers()
    try:
        lib.cleanup_after_test()
    except Exception:
        problems.append("cleanup_after_test raised:\n" + traceback.format_exc())
    for cid, pid, start in before:
        if pid > 0 and start is not None and _start_time(pid) == start:
            problems.append(f"the init of container {cid} (pid {pid}) still runs after "
                            "delete --force")
    left = [c for c, _, _ in _live_containers()]
    if left:
        problems.append(f"left in the state root {lib.ROOT}: {left}")
        for cid in left:  # so that the next test starts clean
            lib.skiff("delete", "--force", cid)
            shutil.rmtree(os.path.join(lib.ROOT, cid), ignore_errors=True)
    return problems


def _in_forked_child():
    # A test that forks and lets the child raise must not have that child run
    # the rest of the suite and print a second closing line.
    if os.getpid() != MAIN_PID:
        os._exit(1)


def run_module(path, only):
    name = os.path.splitext(os.path.basename(path))[0]
    rel = os.path.relpath(path, HERE)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except KeyboardInterrupt:
        raise
    except BaseException:
        _in_forked_child()
        # A broken module is never a silent skip, whatever the filter.
        record(f"{name} (import of {rel})", "failed", traceback.format_exc())
        return
    for attr in sorted(vars(mod), key=lambda a: getattr(getattr(mod, a), "__code__", None)
                       and getattr(mod, a).__code__.co_firstlineno or 0):
        fn = getattr(mod, attr)
        if not attr.startswith("test_") or not callable(fn):
            continue
        test = f"{name}.{attr}"
        if only and not any(o in test for o in only):
            continue
        start = time.monotonic()
        try:
            fn()
        except lib.Skip as e:
            outcome, detail = "skipped", str(e)
        except KeyboardInterrupt:
            raise
        except BaseException:  # SystemExit too: a test must not end the run
            _in_forked_child()
            outcome, detail = "failed", traceback.format_exc()
        else:
            outcome, detail = "passed", ""
        _in_forked_child()
        problems = _cleanup_problems()
        if problems:
            if outcome != "failed":
                detail = ""
            outcome = "failed"
            detail += "".join(f"after the test: {p}\n" for p in problems)
        record(test, outcome, detail)
        if time.monotonic() - start > 30:
            print(f"     (slow: {time.monotonic() - start:.1f}s)")


def main():
    only = sys.argv[1:]
    unit_dir = os.path.join(TOP, "tests", "unit")
    if not only:
        for f in sorted(os.listdir(unit_dir)):
            # A unit test that was never built (missing from tests/Makemodule.am) must
            # not vanish from the run.
            if f.endswith("_test.c") and not os.access(os.path.join(unit_dir, f[:-2]), os.X_OK):
                record(f"unit/{f[:-2]}", "failed", f"tests/unit/{f} has no built program")
        for f in sorted(os.listdir(unit_dir)):
            p = os.path.join(unit_dir, f)
            if f.endswith("_test") and os.access(p, os.X_OK):
                run_unit(p)
    for d in ("integration", "security", "differential", "conformance"):
        folder = os.path.join(HERE, d)
        if not os.path.isdir(folder):
            continue
        for f in sorted(os.listdir(folder)):
            if f.startswith("test_") and f.endswith(".py"):
                run_module(os.path.join(folder, f), only)
    try:
        lib.final_cleanup()
    except Exception:
        record("final cleanup", "failed", traceback.format_exc())
    if failures:
        print("\nfailed:")
        for f in failures:
            print(f"  {f}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
