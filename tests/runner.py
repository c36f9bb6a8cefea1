#!/usr/bin/python3
"""skiff's test runner: C unit tests (TAP) and integration tests (Python).

Integration tests are functions named test_* in tests/{integration,security,conformance}/test_*.py.
A test passes by returning, fails by raising, and skips by raising
lib.Skip("why").  The run ends with one line: N passed, N failed, N skipped.

Each test has DEFAULT_TIMEOUT seconds (lib.needs_time() extends it); after each
one the runner checks that it left the host as found (tests/hostcheck.py).
Names given on the command line select the tests whose name contains one of
them; a name that selects nothing is an error.
"""
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))

import hostcheck  # noqa: E402
import lib  # noqa: E402

MAIN_PID = os.getpid()
DEFAULT_TIMEOUT = 300


class TimedOut(BaseException):
    """Raised in a test that ran past its limit; a BaseException so that a test's
    `except Exception` cannot swallow it."""


def _on_alarm(signum, frame):
    raise TimedOut()

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


def _in_forked_child():
    # A test that forks and lets the child raise must not have that child run
    # the rest of the suite and print a second closing line.
    if os.getpid() != MAIN_PID:
        os._exit(1)


def run_module(path, only, matched):
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
        for o in only:
            if o in test:
                matched.add(o)
        before = hostcheck.Snapshot()
        start = time.monotonic()
        signal.alarm(DEFAULT_TIMEOUT)
        try:
            fn()
        except lib.Skip as e:
            outcome, detail = "skipped", str(e)
        except KeyboardInterrupt:
            raise
        except TimedOut:
            _in_forked_child()
            outcome, detail = "failed", "timed out\n" + traceback.format_exc()
        except BaseException:  # SystemExit too: a test must not end the run
            _in_forked_child()
            outcome, detail = "failed", traceback.format_exc()
        else:
            outcome, detail = "passed", ""
        finally:
            signal.alarm(0)
        _in_forked_child()
        problems = hostcheck.after_test(before)
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
    matched = set()
    hostcheck.mark_environment()
    signal.signal(signal.SIGALRM, _on_alarm)
    # A killed run cannot clean up after itself; the next one does.
    for path in lib.sweep_dead_runs():
        print(f"     (removed {path}, left by a killed run)")
    # SIGTERM (a timeout, a CI cancel) ends the run through the same cleanup as ^C.
    signal.signal(signal.SIGTERM, _on_term)
    try:
        _run_all(only, matched)
    finally:
        try:
            lib.final_cleanup()
        except Exception:
            record("final cleanup", "failed", traceback.format_exc())
    for o in only:
        if o not in matched:
            record(f"filter {o!r}", "failed", "selects no test")
    if failures:
        print("\nfailed:")
        for f in failures:
            print(f"  {f}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


def _on_term(signum, frame):
    raise KeyboardInterrupt


def _run_all(only, matched):
    unit_dir = os.path.join(TOP, "tests", "unit")

    def unit_wanted(name):
        # A filter selects unit tests as "unit/NAME" ("unit/" for all of them).
        hits = [o for o in only if o in f"unit/{name}"]
        matched.update(hits)
        return not only or bool(hits)
    for f in sorted(os.listdir(unit_dir)):
        # A unit test that was never built (missing from tests/Makemodule.am) must
        # not vanish from the run.
        if (f.endswith("_test.c") and unit_wanted(f[:-2])
                and not os.access(os.path.join(unit_dir, f[:-2]), os.X_OK)):
            record(f"unit/{f[:-2]}", "failed", f"tests/unit/{f} has no built program")
    for f in sorted(os.listdir(unit_dir)):
        p = os.path.join(unit_dir, f)
        if f.endswith("_test") and os.access(p, os.X_OK) and unit_wanted(f):
            run_unit(p)
    for d in ("integration", "security", "differential", "conformance"):
        folder = os.path.join(HERE, d)
        if not os.path.isdir(folder):
            continue
        for f in sorted(os.listdir(folder)):
            if f.startswith("test_") and f.endswith(".py"):
                run_module(os.path.join(folder, f), only, matched)


if __name__ == "__main__":
    sys.exit(main())
