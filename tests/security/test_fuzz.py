"""Bounded libFuzzer runs over what skiff parses from outside: config.json, a
container's state.json, `exec --process` JSON, `update --resources` JSON (and
the cgroup writes and device program made from it), seccomp profiles (and
their translation to BPF).

tests/fuzz/run.sh builds tests/fuzz/*_fuzz.c with clang
(-fsanitize=fuzzer,address,undefined), replays tests/fuzz/regressions/TARGET/
and fuzzes each target from its seed corpus, FUZZ_SECONDS in all (default 75).
Any crash, leak, sanitizer report or one-line-error violation fails the test.
"""
import os
import re
import shutil
import subprocess

import lib

RUN = os.path.join(lib.TOP, "tests", "fuzz", "run.sh")
TARGETS = ("config", "state", "process", "resources", "seccomp")


def test_parsers_survive_fuzzing():
    if not shutil.which("clang"):
        raise lib.Skip("clang is not installed (scripts/setup.sh installs it)")
    seconds = int(os.environ.get("FUZZ_SECONDS", "75"))
    r = subprocess.run([RUN, str(seconds)], capture_output=True, text=True,
                       timeout=seconds + 600)
    if r.returncode == 77:
        raise lib.Skip((r.stdout + r.stderr).strip().splitlines()[-1])
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, f"fuzzing failed (exit {r.returncode}):\n{tail}"
    ran = re.findall(r"^fuzz: (\w+) for \d+s$", r.stderr, re.M)
    assert list(ran) == list(TARGETS), (ran, tail)
    assert r.stderr.count("stat::number_of_executed_units") == len(TARGETS), tail


def test_every_fuzz_target_is_run_and_every_regression_has_a_target():
    fuzz = os.path.join(lib.TOP, "tests", "fuzz")
    sources = sorted(f[:-len("_fuzz.c")] for f in os.listdir(fuzz) if f.endswith("_fuzz.c"))
    assert sorted(TARGETS) == sources, sources
    regressions = os.path.join(fuzz, "regressions")
    dirs = [d for d in os.listdir(regressions) if os.path.isdir(os.path.join(regressions, d))]
    assert set(dirs) <= set(TARGETS), dirs
    assert all(os.path.isdir(os.path.join(fuzz, "corpus", t)) for t in TARGETS)
