"""A bounded libFuzzer run over libocispec's config.json parser.

tests/fuzz/run.sh builds tests/fuzz/config_fuzz.c with clang
(-fsanitize=fuzzer,address,undefined), replays tests/fuzz/regressions/ and
fuzzes from the seed corpus for FUZZ_SECONDS (default 60).  Any crash, leak,
sanitizer report or one-line-error violation fails the test.
"""
import os
import shutil
import subprocess

import lib

RUN = os.path.join(lib.TOP, "tests", "fuzz", "run.sh")


def test_config_parser_survives_fuzzing():
    if not shutil.which("clang"):
        raise lib.Skip("clang is not installed (scripts/setup.sh installs it)")
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    r = subprocess.run([RUN, str(seconds)], capture_output=True, text=True,
                       timeout=seconds + 300)
    if r.returncode == 77:
        raise lib.Skip((r.stdout + r.stderr).strip().splitlines()[-1])
    tail = (r.stdout + r.stderr)[-4000:]
    assert r.returncode == 0, f"fuzzing failed (exit {r.returncode}):\n{tail}"
    assert "Done " in r.stderr and "stat::number_of_executed_units" in r.stderr, tail
