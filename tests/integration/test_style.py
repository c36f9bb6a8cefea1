"""Style rules: the checked-in .clang-format for every C file; a timeout on every
subprocess call in the tests, so that one hang cannot stall the suite."""
import ast
import os
import shutil
import subprocess

import lib


def test_c_sources_are_clang_formatted():
    tool = shutil.which("clang-format")
    if tool is None:
        raise lib.Skip("clang-format is not installed")
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=lib.TOP, capture_output=True,
                           text=True, timeout=120)
    if files.returncode != 0:
        raise lib.Skip("not a git checkout: the tracked files are unknown")
    names = [f for f in files.stdout.split() if os.path.exists(os.path.join(lib.TOP, f))]
    assert names
    r = subprocess.run([tool, "--dry-run", "-Werror", *names], cwd=lib.TOP,
                       capture_output=True, text=True, timeout=120)
    unformatted = sorted({line.split(":")[0] for line in r.stderr.splitlines()
                          if ": error:" in line})
    assert r.returncode == 0, f"not formatted: {unformatted} (run clang-format -i on them)"


def _calls_without_timeout(path):
    """subprocess.run/call/check_call/check_output and .wait()/.communicate() calls in
    path that give no timeout: each one could hang the suite."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        kws = {k.arg for k in node.keywords}
        if "timeout" in kws or None in kws:  # None: **kwargs passed through
            continue
        name, base = node.func.attr, node.func.value
        if (name in ("run", "call", "check_call", "check_output") and
                isinstance(base, ast.Name) and base.id == "subprocess") or \
                (name in ("wait", "communicate") and not node.args):
            yield f"{os.path.relpath(path, lib.TOP)}:{node.lineno}: {name}() without a timeout"


def test_every_subprocess_call_in_the_tests_has_a_timeout():
    found = []
    for dirpath, _, files in os.walk(os.path.join(lib.TOP, "tests")):
        found += [c for f in sorted(files) if f.endswith(".py")
                  for c in _calls_without_timeout(os.path.join(dirpath, f))]
    assert not found, "\n".join(found)
