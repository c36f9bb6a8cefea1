#!/bin/sh
# Builds the libFuzzer targets in tests/fuzz (clang, libFuzzer + ASan + UBSan)
# and fuzzes each for a bounded time:
#
#   config     libocispec's config.json parser (config_fuzz.c)
#   state      a container's state.json as skiff reads it back (state_fuzz.c)
#   process    `exec --process` JSON: parse and validate (process_fuzz.c)
#   resources  `update --resources` JSON: parse, cgroup writes, device program
#   seccomp    seccomp profile translation to BPF (seccomp_fuzz.c)
#
#   tests/fuzz/run.sh [SECONDS [TARGET...]]   (SECONDS in all, default 60, split
#                                              evenly; needs a configured tree)
#
# First every file in tests/fuzz/regressions/TARGET/ is replayed (each is an
# input that once crashed: it must not crash again), then the fuzzer runs from
# a scratch copy of tests/fuzz/corpus/TARGET/ (config also gets the unit
# tests' corpus), so the tree is never written to.  A crash exits non-zero and
# keeps the input under a /var/tmp/skiff-fuzz.* dir: copy it into
# tests/fuzz/regressions/TARGET/ with the fix.  Exit 77: clang/libFuzzer missing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-config state process resources seccomp}
# A directory per run: concurrent suites must not share a corpus or a binary.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/skiff-fuzz.XXXXXX")
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT
cc=${CLANG:-clang}

command -v "$cc" >/dev/null 2>&1 || { echo "fuzz: $cc is not installed"; exit 77; }
[ -f "$top/config.h" ] || { echo "fuzz: run ./configure first (config.h is missing)"; exit 77; }
[ -f "$top/src/libskiff/trampoline_blob.c" ] || { echo "fuzz: run make first"; exit 77; }
flags="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -DHAVE_CONFIG_H"
# shellcheck disable=SC2046
incs="-I$top -I$top/src $(pkg-config --cflags yajl libseccomp)"

# skiff's own code and libocispec, instrumented once for every target.
mkdir -p "$work/obj"
for f in "$top"/libocispec/*.c "$top"/src/libskiff/*.c; do
	case "$f" in */trampoline.c) continue ;; esac
	echo "$f"
done >"$work/sources"
# shellcheck disable=SC2086
if ! xargs -P "$(nproc)" -I{} sh -c "$cc $flags -fsanitize=fuzzer-no-link $incs -c {} \
	-o $work/obj/\$(basename {} .c).o" <"$work/sources" 2>"$work/build.log"; then
	cat "$work/build.log" >&2
	exit 1
fi
ar rcs "$work/libfuzzed.a" "$work"/obj/*.o

n=$(echo "$targets" | wc -w)
each=$((seconds / n))
[ "$each" -ge 5 ] || each=5
status=0
for t in $targets; do
	bin="$work/${t}_fuzz"
	# shellcheck disable=SC2046,SC2086
	if ! "$cc" $flags -fsanitize=fuzzer $incs "$top/tests/fuzz/${t}_fuzz.c" \
		"$work/libfuzzed.a" $(pkg-config --libs yajl libseccomp) -o "$bin" \
		2>"$work/build-$t.log"; then
		if grep -q -e 'fuzzer' -e 'libclang_rt' "$work/build-$t.log"; then
			echo "fuzz: clang cannot link libFuzzer (install libclang-rt-dev)"
			exit 77
		fi
		cat "$work/build-$t.log" >&2
		exit 1
	fi
	regressions=$(find "$top/tests/fuzz/regressions/$t" -type f ! -name '.*' 2>/dev/null | sort)
	if [ -n "$regressions" ]; then
		echo "fuzz: $t: replaying $(echo "$regressions" | wc -l) regression(s)" >&2
		# shellcheck disable=SC2086
		"$bin" -runs=1 -error_exitcode=1 $regressions || { status=1; keep=1; continue; }
	fi
	corpus="$work/corpus-$t"
	mkdir -p "$corpus" "$work/artifacts-$t"
	cp "$top/tests/fuzz/corpus/$t"/* "$corpus/"
	if [ "$t" = config ]; then
		find "$top/tests/unit/corpus" -name '*.json' -exec cp {} "$corpus/" \;
		cp "$top/tests/unit/ocispec_full_config.json" "$corpus/"
	fi
	echo "fuzz: $t for ${each}s" >&2
	"$bin" -max_total_time="$each" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
		-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts-$t/" "$corpus" || {
		status=$?
		keep=1
		echo "fuzz: $t failed (exit $status); crashing input(s) kept in $work/artifacts-$t/" >&2
	}
done
exit "$status"
