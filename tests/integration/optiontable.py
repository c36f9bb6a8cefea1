"""The parser's option tables, as `skiff --help` and `skiff COMMAND --help` print them
(cli_print_options walks the same tables cli_parse reads)."""
import re
import subprocess

from lib import SKIFF

OPTION = re.compile(r"^  (?:-(\w), |    )--([\w-]+)( VALUE)? ")


def _options(text):
    """[(long, short or None, takes_value)] from the lines after "options:"."""
    return [(m[2], m[1], bool(m[3])) for m in map(OPTION.match, text.splitlines()) if m]


def _help(*args):
    return subprocess.run([SKIFF, *args, "--help"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def commands():
    """[(name, summary)] in --help's order."""
    top = _help()
    start = top.index("commands:\n") + len("commands:\n")
    block = top[start:top.index("\n\n", start)]
    return [tuple(line.split(None, 1)) for line in block.splitlines()]


def global_options():
    top = _help()
    return _options(top[top.index("global options:"):])


def command_options(name):
    text = _help(name)
    return _options(text[text.index("options:"):])
