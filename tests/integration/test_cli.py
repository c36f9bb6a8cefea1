"""The command line: global options, errors, --version (runc's shape)."""
import json
import os
import re
import subprocess
import tempfile

from lib import SKIFF, skiff


def test_version_has_runc_shape():
    r = subprocess.run([SKIFF, "--version"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.match(r"^skiff version \d+\.\d+\.\d+$", lines[0]), lines
    assert lines[1].startswith("commit: "), lines
    assert re.match(r"^spec: 1\.\d+\.\d+$", lines[2]), lines


def test_unknown_global_flag_is_one_line_exit_1():
    r = subprocess.run([SKIFF, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "--bogus" in r.stderr, r.stderr


def test_unknown_command_is_one_line_exit_1():
    r = skiff("frobnicate")
    assert r.returncode == 1
    assert r.stderr == "skiff: unknown command `frobnicate` (see `skiff --help`)\n", r.stderr


def test_no_command_is_an_error():
    r = subprocess.run([SKIFF], capture_output=True, text=True)
    assert r.returncode == 1 and "no command" in r.stderr


def test_help_lists_commands():
    r = subprocess.run([SKIFF, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: skiff" in r.stdout


def test_bad_log_format_names_the_option():
    r = skiff("--log-format", "yaml", "list")
    assert r.returncode == 1 and "--log-format" in r.stderr and "yaml" in r.stderr


def test_json_log_records_the_error():
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "log.json")
        r = skiff("--log", log, "--log-format=json", "frobnicate")
        assert r.returncode == 1
        with open(log) as f:
            recs = [json.loads(line) for line in f]
        assert len(recs) == 1, recs
        assert recs[0]["level"] == "error" and "frobnicate" in recs[0]["msg"]
        assert re.match(r"^\d{4}-\d\d-\d\dT", recs[0]["time"])
