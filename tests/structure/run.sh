#!/usr/bin/env bash
# run.sh: proves each structure rule of scripts/check-structure.sh fails when it
# should and holds when it should, on small trees built from fixture/. Run by make check.
# fixture/ passes every rule; bad/ holds the files that break one (a pong.c that
# calls and includes ping back, a lower layer including cli/cli.h); the copied
# block and the long files are made here, so that the repository holds neither.
set -uo pipefail
srcdir=${NV_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$srcdir/tests/structure
check=$srcdir/scripts/check-structure.sh
jscpd=${JSCPD:-$srcdir/tests/tools/node_modules/.bin/jscpd}
if [ ! -x "$jscpd" ]; then
	echo "SKIP: no jscpd at $jscpd (scripts/install-deps.sh --test installs it)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0 cases=0

# tree NAME [FILE...]: a copy of fixture/ with the named files of bad/ laid over it
tree() {
	local name=$1; shift
	rm -rf "${work:?}/$name"; mkdir -p "$work/$name"
	cp -r "$here/fixture" "$work/$name/top"
	for f in "$@"; do cp "$here/bad/$f" "$work/$name/top/$f"; done
}

# run NAME RC: builds NAME's libnavette.a as automake lays it out, runs the
# checks on it and expects exit code RC
run() {
	local name=$1 want=$2 top=$work/$1/top build=$work/$1/build rc f o
	mkdir -p "$build"
	for f in $(cd "$top" && find src drivers -name '*.c' | sort); do
		o=$build/${f%.c}.o; mkdir -p "$(dirname "$o")"
		"${CC:-cc}" -c -I"$top/src" -o "$o" "$top/$f" || { echo "cannot compile $f"; exit 99; }
	done
	(cd "$build" && ar rc libnavette.a $(find src drivers -name '*.o' | sort))
	JSCPD=$jscpd bash "$check" "$build" "$top" >"$work/$name.out" 2>&1
	rc=$?
	cases=$((cases + 1))
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; fails=$((fails + 1))
	fi
	sed "s/^/  $name| /" "$work/$name.out"
}

# has NAME PATTERN / lacks NAME PATTERN: the report of NAME has (has not) a line
has() {
	grep -qE -- "$2" "$work/$1.out" ||
		{ echo "FAIL $1: no line matching: $2"; fails=$((fails + 1)); }
}
lacks() {
	! grep -qE -- "$2" "$work/$1.out" ||
		{ echo "FAIL $1: a line matches: $2"; fails=$((fails + 1)); }
}

# longfile PATH LINES [REASON]: a C file of exactly LINES lines
longfile() {
	{
		echo "/* long.c: fixture of tests/structure/run.sh, made long on purpose."
		[ -z "${3:-}" ] || echo " * Long because: $3"
		echo " */"
		local i n=$(($2 - 3 - (${3:+1} + 0)))
		for ((i = 0; i < n; i++)); do echo; done
		echo "int nv_long(void) { return 0; }"
	} >"$1"
}

tree clean
run clean 0
for c in calls includes copies length cli-header; do has clean "^ok   $c: "; done
has clean "all 5 hold"

tree cycle src/ring/pong.c
run cycle 1
has cycle '^FAIL calls cycle 1: 2 files: src/ring/ping.c src/ring/pong.c$'
has cycle '^    src/ring/ping.c -> src/ring/pong.c: uses nv_pong$'
has cycle '^    src/ring/pong.c -> src/ring/ping.c: uses nv_ping$'
has cycle '^FAIL includes cycle 1: 2 files: src/ring/ping src/ring/pong$'
has cycle '^    src/ring/ping -> src/ring/pong: src/ring/ping.c:4 "pong.h"$'
has cycle '^    src/ring/pong -> src/ring/ping: src/ring/pong.c:4 "ring/ping.h"$'
for c in copies length cli-header; do has cycle "^ok   $c: "; done
has cycle 'FAILED: calls includes \('

tree copy
sed 's/nv_sum/nv_total/; s/sum\.c:/total.c:/; s|"sum\.h"|"util/sum.h"|' "$here/fixture/src/util/sum.c" \
	>"$work/copy/top/drivers/total.c"
run copy 1
has copy '^FAIL copies: (src/util/sum.c:[0-9]+-[0-9]+ ~ drivers/total.c|drivers/total.c:[0-9]+-[0-9]+ ~ src/util/sum.c):[0-9]+-[0-9]+ \([0-9]+ lines, [0-9]+ tokens\)$'
for c in calls includes length cli-header; do has copy "^ok   $c: "; done

# below the threshold (10 lines, 80 tokens): the loop alone, 7 lines, is no copy
tree shortcopy
{ echo "int nv_loop(int n, int odd, int even, int total) { int i;"
  sed -n '/for (i = 0/,/^	}/p' "$here/fixture/src/util/sum.c"; echo "return total; }"; } \
	>"$work/shortcopy/top/drivers/loop.c"
run shortcopy 0

tree long
longfile "$work/long/top/src/util/long.c" 701
run long 1
has long "^FAIL length: src/util/long.c has 701 lines \(> 700\)"
for c in calls includes copies cli-header; do has long "^ok   $c: "; done

tree long700
longfile "$work/long700/top/src/util/long.c" 700
run long700 0

tree longwhy
longfile "$work/longwhy/top/src/util/long.c" 701 "one table that reads best whole."
run longwhy 0
has longwhy "with a written reason: src/util/long.c \(701\)"

tree longthin
longfile "$work/longthin/top/src/util/long.c" 701 "yes"
run longthin 1
has longthin "^FAIL length: src/util/long.c has 701 lines"

tree cli src/util/uses_cli.c
run cli 1
has cli '^FAIL cli-header: src/util/uses_cli.c:3 includes "cli/cli.h" \(only src/cli/ may\)$'
lacks cli 'FAIL cli-header: src/cli/'
for c in calls includes copies length; do has cli "^ok   $c: "; done

# a check that could not look has not passed: no archive, no jscpd
tree blind
mkdir -p "$work/blind/build"
JSCPD=$jscpd bash "$check" "$work/blind/build" "$work/blind/top" >"$work/blind.out" 2>&1
rc=$?; cases=$((cases + 1))
[ "$rc" -eq 2 ] || { echo "FAIL blind: exit $rc, expected 2"; fails=$((fails + 1)); }
has blind '^ERROR calls: no archive'
JSCPD=/nonexistent bash "$check" "$work/clean/build" "$work/clean/top" >"$work/blind.out" 2>&1
rc=$?; cases=$((cases + 1))
[ "$rc" -eq 2 ] || { echo "FAIL blind: exit $rc without jscpd, expected 2"; fails=$((fails + 1)); }
has blind '^ERROR copies: no jscpd'

echo "$((cases)) runs of check-structure.sh, $fails failed expectations"
[ "$fails" -eq 0 ]
