#!/usr/bin/env bash
# test.sh: the README's second command. Installs everything (packages, stock
# age/ssh-keygen/rclone, the npm test servers), builds with warnings as errors
# and ASan+UBSan, and runs the whole suite; the tests start and stop their own
# servers (sshd, s3rver, Azurite) on 127.0.0.1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh --test
bash scripts/build.sh build-test --enable-werror --enable-sanitizers
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
pass=$(grep -cE '^(PASS|XFAIL):' make-check.out || true)
fail=$(grep -cE '^(FAIL|XPASS|ERROR):' make-check.out || true)
skip=$(grep -cE '^SKIP:' make-check.out || true)
echo "$pass passed, $fail failed, $skip skipped"
exit "$rc"
