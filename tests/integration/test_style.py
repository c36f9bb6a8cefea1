"""The checked-in .clang-format is the law for every C file in the tree."""
import os
import shutil
import subprocess

import lib


def test_c_sources_are_clang_formatted():
    tool = shutil.which("clang-format")
    if tool is None:
        raise lib.Skip("clang-format is not installed")
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=lib.TOP, capture_output=True,
                           text=True)
    if files.returncode != 0:
        raise lib.Skip("not a git checkout: the tracked files are unknown")
    names = [f for f in files.stdout.split() if os.path.exists(os.path.join(lib.TOP, f))]
    assert names
    r = subprocess.run([tool, "--dry-run", "-Werror", *names], cwd=lib.TOP,
                       capture_output=True, text=True)
    unformatted = sorted({line.split(":")[0] for line in r.stderr.splitlines()
                          if ": error:" in line})
    assert r.returncode == 0, f"not formatted: {unformatted} (run clang-format -i on them)"
