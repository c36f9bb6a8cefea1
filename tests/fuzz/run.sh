#!/bin/sh
# Builds tests/fuzz/config_fuzz.c with clang's libFuzzer + ASan + UBSan and
# fuzzes libocispec's config.json parser for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS]        (default 60; needs a configured tree)
#
# First every file in tests/fuzz/regressions/ is replayed (each is an input
# that once crashed: it must not crash again), then the fuzzer runs from a
# scratch copy of the seed corpus (tests/fuzz/corpus/, tests/unit/corpus/,
# tests/unit/ocispec_full_config.json), so the tree is never written to.
# A crash exits non-zero and keeps the input under a /var/tmp/skiff-fuzz.* dir; copy it into
# tests/fuzz/regressions/ when fixing the bug.  Exit 77: clang/libFuzzer missing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
# A directory per run: concurrent suites must not share a corpus or a binary.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/skiff-fuzz.XXXXXX")
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT
cc=${CLANG:-clang}

command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc is not installed"; exit 77; }
[ -f "$top/config.h" ] || { echo "fuzz: run ./configure first (config.h is missing)"; exit 77; }
bin="$work/config_fuzz"
src="$top/libocispec"
# shellcheck disable=SC2046
if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DHAVE_CONFIG_H -I"$top" -I"$src" "$top/tests/fuzz/config_fuzz.c" \
	"$src/json_walk.c" "$src/json_gen.c" "$src/json_equal.c" "$src/json_doc.c" \
	"$src/config_tables.c" "$src/config.c" "$src/state.c" "$src/features.c" \
	$(pkg-config --cflags --libs yajl) -o "$bin.new" 2>"$work/build.log"; then
	if grep -q -e 'fuzzer' -e 'libclang_rt' "$work/build.log"; then
		echo "fuzz: clang cannot link libFuzzer (install libclang-rt-dev)"
		exit 77
	fi
	cat "$work/build.log" >&2
	exit 1
fi
mv "$bin.new" "$bin"

regressions=$(find "$top/tests/fuzz/regressions" -type f ! -name '.*' ! -name README 2>/dev/null | sort)
if [ -n "$regressions" ]; then
	# shellcheck disable=SC2086
	"$bin" -runs=1 $regressions
fi

corpus="$work/corpus"
mkdir -p "$corpus" "$work/artifacts"
cp "$top"/tests/fuzz/corpus/* "$corpus/"
find "$top/tests/unit/corpus" -name '*.json' -exec cp {} "$corpus/" \;
cp "$top/tests/unit/ocispec_full_config.json" "$corpus/"
status=0
"$bin" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$corpus" || status=$?
if [ "$status" != 0 ]; then
	keep=1
	echo "fuzz: failed (exit $status); crashing input(s) kept in $work/artifacts/" >&2
fi
exit "$status"
