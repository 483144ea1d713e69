# limits.sh: --bwlimit and --max-transfer from the command line on the local
# driver: usage errors, a capped sync that stops cleanly (whole files only,
# nothing deleted) and resumes, capped push, replicate and pull that publish or
# restore nothing half-done and resume, and the pace of a limited sync (a lower
# bound only: a loaded machine is slower, never faster; the accuracy figure is
# bench/cases/bwlimit.sh's).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"
export NAVETTE_LEASE_SETTLE_MS=50

src="$NV_TMP/src"; dst="$NV_TMP/dst"
mkdir -p "$src" "$dst"
for i in 1 2 3 4; do head -c 1048576 /dev/urandom >"$src/f$i"; done
echo extra >"$dst/extra"

# usage
expect_exit 2 "--bwlimit refuses a bad rate" "$NAVETTE" sync "$src" "$dst" --bwlimit 10X
expect_err "not a rate" "the refusal says why"
expect_exit 2 "--bwlimit refuses rclone's UP:DOWN" "$NAVETTE" sync "$src" "$dst" --bwlimit 10M:1M
expect_exit 2 "--bwlimit refuses a bad timetable" "$NAVETTE" sync "$src" "$dst" --bwlimit "25:00,1M"
expect_err "not a time" "the refusal names the time"
expect_exit 2 "--max-transfer needs a size" "$NAVETTE" sync "$src" "$dst" --max-transfer 0
expect_exit 2 "check takes no --bwlimit" "$NAVETTE" check "$src" "$dst" --bwlimit 1M
expect_exit 2 "ls takes no --max-transfer" "$NAVETTE" ls "$src" --max-transfer 1M
check "refused commands wrote nothing" test "$(ls "$dst")" = extra

# the cap: two whole files of four, the third abandoned, nothing deleted
expect_exit 3 "--max-transfer stops the sync: partial" "$NAVETTE" sync --delete --transfers 1 --max-transfer 2500K "$src" "$dst"
expect_err "max-transfer reached" "the stop says why"
check "two files copied" test "$(ls "$dst" | grep -c '^f')" -eq 2
check "whole ones" cmp "$src/f1" "$dst/f1"
check "whole ones (2)" cmp "$src/f2" "$dst/f2"
check "no temporary file left" test -z "$(find "$dst" -name '.navette-tmp*')"
check "nothing deleted" test -e "$dst/extra"
expect_exit 0 "the next run goes on from there" "$NAVETTE" -v sync --delete "$src" "$dst"
check "only the rest copied" test "$(grep -c '^copied' "$NV_TMP/err")" -eq 2
check "identical" diff -r "$src" "$dst"

# the pace: 4 MiB at 8 MiB/s, read and written (a copy counts each byte once)
t0=$EPOCHREALTIME
expect_exit 0 "a limited sync" "$NAVETTE" sync --fsync none --bwlimit 8M "$src" "$NV_TMP/paced"
t1=$EPOCHREALTIME
check "takes half a second at least" awk -v a="$t0" -v b="$t1" 'BEGIN {exit !(b - a >= 0.45)}'
check "limited copy identical" diff -r "$src" "$NV_TMP/paced"
expect_exit 0 "a timetable that is off all the time" "$NAVETTE" sync --bwlimit "00:00,off Sat-12:00,off" "$src" "$NV_TMP/free"

# vaults: a capped push publishes no generation, a capped replicate no manifest,
# a capped pull renames no half-restored file; each resumes
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
V="$NV_TMP/vault"; R="$NV_TMP/replica"
export NAVETTE_STATE_DIR="$NV_TMP/state"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
expect_exit 3 "--max-transfer stops the push" "$NAVETTE" push "$src" "$V" --signing-key "$K/sign" --transfers 1 --max-transfer 1500K
check "no generation published" test -z "$(ls "$V/manifests" 2>/dev/null)"
expect_exit 0 "the next push publishes" "$NAVETTE" push "$src" "$V" --signing-key "$K/sign"
check "generation 1" test -e "$V/manifests/00000000000000000001.json"

expect_exit 3 "--max-transfer stops replicate" env NAVETTE_STATE_DIR="$NV_TMP/rhost" "$NAVETTE" replicate "$V" "$R" --signing-pubkey "$K/sign.pub" --transfers 1 --max-transfer 1500K
check "no manifest published at the replica" test -z "$(ls "$R/manifests" 2>/dev/null)"
check "no lease left behind" test -z "$(ls "$R/navette-lease" 2>/dev/null)"
expect_exit 0 "replicate resumes" env NAVETTE_STATE_DIR="$NV_TMP/rhost" "$NAVETTE" replicate "$V" "$R"
check "the replica is whole" diff -r "$V" "$R"

expect_exit 3 "--max-transfer stops the pull" "$NAVETTE" pull "$V" "$NV_TMP/restored" --identity "$K/id.txt" --transfers 1 --max-transfer 1500K
check "one file restored" test "$(ls "$NV_TMP/restored" | wc -l)" -eq 1
check "no temporary file left by the pull" test -z "$(find "$NV_TMP/restored" -name '.navette-tmp*')"
expect_exit 0 "the next pull restores all" "$NAVETTE" pull "$V" "$NV_TMP/restored" --identity "$K/id.txt"
check "restored tree equals the data" diff -r "$src" "$NV_TMP/restored"

nv_done
