"""The OCI runtime-tools validation suite against skiff (docs/conformance.md).

Runs only where the suite is built: RUNTIME_TOOLS_DIR names its directory
(CI has no copy; the test then skips, saying why).  Every program must pass
unless known-failures (beside this file) lists it with its reason, and a
listed program that passes fails the test too (except a [flaky] one), so the
list stays true.
"""
import importlib.util
import io
import os

import lib

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("conformance_run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def test_runtime_tools_validation_suite():
    suite = os.environ.get("RUNTIME_TOOLS_DIR")
    why = run.suite_problem(suite)
    if why:
        raise lib.Skip(why)
    known = run.known_failures()
    out = io.StringIO()
    results = run.run_suite(os.path.abspath(suite), lib.SKIFF, known=known, out=out)
    new = [r["name"] for r in results if r["verdict"] == "fail" and r["name"] not in known]
    fixed = [r["name"] for r in results if r["verdict"] == "pass" and r["name"] in known
             and not known[r["name"]].startswith("[flaky]")]
    assert not new and not fixed, (
        f"failing and not in tests/conformance/known-failures: {new}; "
        f"listed there but passing: {fixed}\n{out.getvalue()}")
