#!/bin/bash
# run.sh: benchmark harness; runs navette and the reference tools side by side on the
# standard data sets and reports medians and ratios. Run by hand, never by make check.
#
# Usage: bench/run.sh [--runs N] [--quick] [--cache warm|dropped|full] [--list] [CASE...]
# Environment: BENCH_DIR (cache and scratch, default /var/tmp/navette-bench),
#   BENCH_RESULTS (results file appended to, default $BENCH_DIR/results.md),
#   NAVETTE (binary, default build-bench/navette of this checkout, else PATH),
#   RCLONE, RESTIC (default from PATH). See bench/README.md.
set -u
set -o pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_SRC/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/navette-bench}
RCLONE=${RCLONE:-rclone}
RESTIC=${RESTIC:-restic}
RUNS=3
QUICK=0
CACHE=warm
LIST=0
SELECTED=()

usage() {
	sed -n '5,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--runs) [ $# -ge 2 ] || usage; RUNS=$2; shift 2 ;;
	--runs=*) RUNS=${1#--runs=}; shift ;;
	--quick) QUICK=1; shift ;;
	--cache) [ $# -ge 2 ] || usage; CACHE=$2; shift 2 ;;
	--cache=*) CACHE=${1#--cache=}; shift ;;
	--list) LIST=1; shift ;;
	-h|--help) usage 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; usage ;;
	*) SELECTED+=("$1"); shift ;;
	esac
done
case $CACHE in
warm|full) ;;
dropped) [ -w /proc/sys/vm/drop_caches ] ||
	{ echo "run.sh: --cache dropped needs root (/proc/sys/vm/drop_caches)" >&2; exit 2; } ;;
*) echo "run.sh: --cache is warm, dropped or full" >&2; exit 2 ;;
esac
case $RUNS in ''|*[!0-9]*|0) echo "run.sh: --runs needs a positive number" >&2; exit 2 ;; esac

case $BENCH_DIR in
"$REPO"|"$REPO"/*) echo "run.sh: BENCH_DIR must be outside the repository" >&2; exit 2 ;;
esac

# shellcheck source=bench/lib.sh
. "$BENCH_SRC/lib.sh"
for f in "$BENCH_SRC"/cases/*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

if [ "$LIST" = 1 ]; then
	for c in "${BENCH_CASES[@]}"; do
		printf '%-20s data %s, tools: %s\n    %s\n' "$c" "${CASE_DATA[$c]}" \
			"${CASE_TOOLS[$c]}" "${CASE_DESC[$c]}"
	done
	exit 0
fi

if [ ${#SELECTED[@]} -eq 0 ]; then
	SELECTED=("${BENCH_DEFAULT_CASES[@]}")
fi
for c in "${SELECTED[@]}"; do
	[ -n "${CASE_DATA[$c]:-}" ] || { echo "run.sh: unknown case $c (try --list)" >&2; exit 2; }
done

bench_init || exit $?
bench_report_header "${SELECTED[@]}"
for c in "${SELECTED[@]}"; do
	bench_one_case "$c"
done
bench_report_footer
