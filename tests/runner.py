#!/usr/bin/python3
"""skiff's test runner: C unit tests (TAP) and integration tests (Python).

Integration tests are functions named test_* in tests/integration/test_*.py.
A test passes by returning, fails by raising, and skips by raising
lib.Skip("why").  The run ends with one line: N passed, N failed, N skipped.
"""
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))

import lib  # noqa: E402

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
    name = os.path.basename(path)
    try:
        out = subprocess.run([path], capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        record(f"unit/{name}", "failed", "timed out")
        return
    results = []  # [test, outcome, detail lines]
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
    for test, outcome, detail in results:
        record(test, outcome, "\n".join(detail))
    seen = len(results)
    if out.returncode != 0 and not any(r[1] == "failed" for r in results):
        record(f"unit/{name}", "failed", f"exit status {out.returncode}\n{out.stderr[-2000:]}")


def run_module(path, only):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
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
            record(test, "skipped", str(e))
        except Exception:
            record(test, "failed", traceback.format_exc())
        else:
            record(test, "passed")
        finally:
            lib.cleanup_after_test()
        if time.monotonic() - start > 30:
            print(f"     (slow: {time.monotonic() - start:.1f}s)")


def main():
    only = sys.argv[1:]
    unit_dir = os.path.join(TOP, "tests", "unit")
    if not only:
        for f in sorted(os.listdir(unit_dir)):
            p = os.path.join(unit_dir, f)
            if f.endswith("_test") and os.access(p, os.X_OK):
                run_unit(p)
    for d in ("integration", "security"):
        folder = os.path.join(HERE, d)
        if not os.path.isdir(folder):
            continue
        for f in sorted(os.listdir(folder)):
            if f.startswith("test_") and f.endswith(".py"):
                run_module(os.path.join(folder, f), only)
    lib.final_cleanup()
    if failures:
        print("\nfailed:")
        for f in failures:
            print(f"  {f}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
