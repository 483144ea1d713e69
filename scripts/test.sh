#!/usr/bin/env bash
# test.sh: the README's second command. Installs everything (packages, stock
# age/ssh-keygen/rclone, the npm test servers and jscpd), builds with warnings as
# errors and ASan+UBSan, checks the structure rules (scripts/check-structure.sh),
# runs the whole suite (the tests start and stop their own servers: sshd, s3rver,
# Azurite on 127.0.0.1), then make distcheck.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh --test
bash scripts/build.sh build-test --enable-werror --enable-sanitizers
# the structure rules (no cycles, no copies, no long file without a reason, the
# CLI's header kept in the CLI): reported now, counted as one failure below
structure=0
bash scripts/check-structure.sh build-test || structure=$?
cd build-test
export NAVETTE_REQUIRE_SERVERS=1
rc=0
make -j2 check >make-check.out 2>&1 || rc=$?
grep -E '^(PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):' make-check.out || true
if [ "$rc" -ne 0 ]; then
	echo "---- failing tests' logs ----"
	for log in $(grep -lE '^:test-result: (FAIL|ERROR)' $(find . -name '*.trs') 2>/dev/null | sed 's/\.trs$/.log/'); do
		echo "==== $log"; tail -n 60 "$log"
	done
	tail -n 30 make-check.out
fi
# make distcheck: the tarball (from a clean clone: everything it needs is listed in
# EXTRA_DIST) builds, checks and installs under a scratch prefix; its own make check
# runs the compiled tests only (NV_CHECK=unit, Makefile.am): the rest ran just above
distcheck=0
t0=$(date +%s)
make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >make-distcheck.out 2>&1 ||
	distcheck=$?
echo "make distcheck: exit $distcheck in $(($(date +%s) - t0)) s"
if [ "$distcheck" -ne 0 ]; then
	echo "---- make distcheck ----"
	grep -E '^(FAIL|ERROR):' make-distcheck.out || true
	tail -n 40 make-distcheck.out
fi
pass=$(grep -cE '^(PASS|XFAIL):' make-check.out || true)
fail=$(grep -cE '^(FAIL|XPASS|ERROR):' make-check.out || true)
skip=$(grep -cE '^SKIP:' make-check.out || true)
if [ "$structure" -ne 0 ]; then
	echo "FAIL: scripts/check-structure.sh (its report is above the tests')"
	fail=$((fail + 1)); [ "$rc" -ne 0 ] || rc=$structure
fi
if [ "$distcheck" -ne 0 ]; then
	echo "FAIL: make distcheck (its report is above)"
	fail=$((fail + 1)); [ "$rc" -ne 0 ] || rc=$distcheck
fi
echo "$pass passed, $fail failed, $skip skipped"
exit "$rc"
