#!/bin/sh
# Runs the whole test suite (build included); needs root and scripts/setup.sh's packages.
# The last line is "N passed, N failed, N skipped".
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" check TESTS= >/dev/null
exec /usr/bin/python3 tests/runner.py "$@"
