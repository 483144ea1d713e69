#!/usr/bin/env bash
# fuzz.sh: what `make fuzz` runs (tests/fuzz/README.md): builds the fuzz targets
# with clang and libFuzzer in BUILDDIR (configure CC=clang --enable-fuzzing), then
# fuzzes each in turn for SECONDS.
#   scripts/fuzz.sh SRCDIR BUILDDIR SECONDS NAME...
# A target starts from its committed corpus (SRCDIR/tests/fuzz/corpus/NAME, only
# read) and what earlier runs found (BUILDDIR/corpus/NAME, where new inputs go).
# A crash, leak, timeout, out-of-memory, failed property or slow unit (over 10 s:
# libFuzzer's slow-unit-*, a parser an input can stall) is written to
# BUILDDIR/crashes/NAME/ and makes the script exit 1 once every target ran; the
# fuzzer's output is in BUILDDIR/logs/NAME.log (the target's own stderr is
# closed: listings warn a lot).
set -euo pipefail
src=$1 build=$2 seconds=$3
shift 3
if ! command -v clang >/dev/null; then
	echo "make fuzz needs clang and libclang-rt-14-dev (scripts/install-deps.sh --test)" >&2
	exit 2
fi
if [ -f "$src/config.status" ]; then
	echo "make fuzz needs an out-of-tree build (scripts/build.sh DIR): the clang build" \
		"is configured from $src, which is configured in place" >&2
	exit 2
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	echo "configuring $build (clang, --enable-fuzzing)"
	"$src/configure" -q CC=clang CFLAGS="-g -O1 -Wno-unknown-warning-option" --enable-fuzzing
fi
progs=()
for t in "$@"; do progs+=("tests/fuzz/fuzz_$t"); done
if ! make -j2 "${progs[@]}" >build.log 2>&1; then
	tail -n 30 build.log
	echo "the fuzz targets did not build (all of it in $build/build.log)" >&2
	exit 2
fi
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TMPDIR="${TMPDIR:-/tmp}"
failed=()
for t in "$@"; do
	mkdir -p "corpus/$t" "crashes/$t" logs
	before=$(find "crashes/$t" -type f | wc -l)
	start=$(date +%s)
	rc=0
	"./tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
		-close_fd_mask=2 -use_value_profile=1 -print_final_stats=1 \
		-artifact_prefix="crashes/$t/" "corpus/$t" "$src/tests/fuzz/corpus/$t" \
		>"logs/$t.log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "logs/$t.log" | tail -n 1 || true)
	new=$(( $(find "crashes/$t" -type f | wc -l) - before ))
	printf '%-12s %4ss  %10s runs  %-10s corpus %4s  new findings %s\n' "$t" \
		"$(( $(date +%s) - start ))" "${runs:-?}" "${cov:-cov: ?}" \
		"$(find "corpus/$t" -type f | wc -l)" "$new"
	if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
		failed+=("$t")
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|Slowest unit|artifact_prefix)' \
			"logs/$t.log" | head -n 8 | sed 's/^/    /'
	fi
done
if [ "${#failed[@]}" -gt 0 ]; then
	echo "findings in: ${failed[*]} (inputs under $build/crashes/, logs under $build/logs/)" >&2
	exit 1
fi
echo "no crash in ${#} targets, ${seconds}s each"
