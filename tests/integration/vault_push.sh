# vault_push.sh: keygen, init and push on the local driver: what lands is
# readable with stock age/ssh-keygen/sha256sum, pushes are incremental and
# deduplicated, the pushing host holds no identity, and a push killed at any
# point leaves the previous generation restorable and is completed next time.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"

owner="$NV_TMP/owner"; pusher="$NV_TMP/pusher"
nv_keys "$owner" || nv_die "keygen"
# The pushing host gets the recipient and the signing key, never the identity.
mkdir -p "$pusher"; cp "$owner/id.pub" "$owner/sign" "$owner/sign.pub" "$pusher/"
rm "$owner/sign"
export NAVETTE_STATE_DIR="$pusher/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/docs" "$D/img"
head -c 200000 /dev/urandom >"$D/img/a.bin"
head -c 65536 /dev/urandom >"$D/img/exact64k"
head -c 65537 /dev/urandom >"$D/img/64k+1"
: >"$D/empty"
echo "same" >"$D/docs/one"; echo "same" >"$D/docs/two"
echo "é spaces" >"$D/docs/fichier é.txt"

check "keygen wrote a private identity" test "$(stat -c %a "$owner/id.txt")" = 600
check "keygen printed the recipient" grep -q '^age1' "$owner/id.pub"
check "signing key is OpenSSH" ssh-keygen -y -f "$pusher/sign" >/dev/null
expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$pusher/id.pub" --signing-key "$pusher/sign"
expect_exit 2 "init twice refused" "$NAVETTE" init "$V" --recipients-file "$pusher/id.pub" --signing-key "$pusher/sign"
expect_err "already a vault" "init twice says why"
expect_exit 0 "push" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"
expect_err "published generation 1: 7 files, 7 read, 6 uploaded" "push counts (equal files stored once)"
check "no identity on the pushing host" sh -c "! grep -rq AGE-SECRET-KEY '$pusher'"
check "stock tools restore generation 1" nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/r1"
check "restore identical" diff -r "$D" "$NV_TMP/r1"

hb1=$(cat "$V/heartbeat.json")
sleep 1
expect_exit 0 "no-change push" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"
expect_err "no change.*7 files, 0 read, 0 uploaded" "unchanged files not re-read"
check "no new generation" test ! -e "$V/manifests/00000000000000000002.json"
check "heartbeat refreshed" test "$hb1" != "$(cat "$V/heartbeat.json")"

echo changed >"$D/docs/one"
expect_exit 0 "incremental push" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"
expect_err "generation 2: 7 files, 1 read, 1 uploaded" "only the changed file is read"
check "manifest 2 chains to 1" test "$(head -n 1 "$V/manifests/00000000000000000002.json" | jq -r .previous)" = "$(sha256sum <"$V/manifests/00000000000000000001.json" | cut -d' ' -f1)"
check "stock tools restore generation 2" nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/r2"
check "restore 2 identical" diff -r "$D" "$NV_TMP/r2"

# wrong signing key, and a vault that does not match the pin
"$NAVETTE" keygen --signing -o "$NV_TMP/other" >/dev/null
expect_exit 2 "push with another signing key refused" "$NAVETTE" push "$D" "$V" --signing-key "$NV_TMP/other"
expect_err "not the vault's" "wrong signing key named"
chmod 644 "$pusher/sign"
expect_exit 2 "signing key readable by others refused" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"
chmod 600 "$pusher/sign"

# the signing key from the environment, then from the config file's [navette] section
echo env >"$D/docs/env"
expect_exit 0 "signing key from NAVETTE_SIGNING_KEY" env NAVETTE_SIGNING_KEY="$pusher/sign" "$NAVETTE" push "$D" "$V"
echo conf >"$D/docs/conf"
printf '[navette]\nsigning_key = %s\n' "$pusher/sign" >"$NV_TMP/nv.conf"; chmod 600 "$NV_TMP/nv.conf"
expect_exit 0 "signing key from the config file" "$NAVETTE" --config "$NV_TMP/nv.conf" push "$D" "$V"
expect_exit 2 "no signing key at all" "$NAVETTE" push "$D" "$V"
expect_err "signing key is needed" "missing key named"

# regression: a second vault signed by the same key (pins were matched by key,
# not by vault id, so the second vault was checked against the first one's pin)
expect_exit 0 "second vault with the same signing key" "$NAVETTE" init "$NV_TMP/vault2" --recipients-file "$pusher/id.pub" --signing-key "$pusher/sign"
expect_exit 0 "push to the second vault" "$NAVETTE" push "$D" "$NV_TMP/vault2" --signing-key "$pusher/sign"
expect_exit 0 "push to the first vault again" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"

# a vault deleted and made anew at the same place is not a "swap" for its creator
rm -rf "$NV_TMP/vault2"
expect_exit 0 "init again where a vault was deleted" "$NAVETTE" init "$NV_TMP/vault2" --recipients-file "$pusher/id.pub" --signing-key "$pusher/sign"
expect_exit 0 "push to the new vault there" "$NAVETTE" push "$D" "$NV_TMP/vault2" --signing-key "$pusher/sign"

# one push at a time
vid=$(jq -r .vault_id "$V/navette-vault.json")
# The lock is held until the test says so, and the push starts only once it is
# (a fixed "sleep 3" holder and a 0.5 s head start raced on a loaded machine).
lock="$pusher/state/push/$vid/lock"
flock "$lock" sh -c 'while [ ! -e "$1" ]; do sleep 0.05; done' sh "$NV_TMP/release" &
holder=$!
for _ in $(seq 1 600); do flock -n "$lock" true || break; sleep 0.05; done
expect_exit 4 "a second concurrent push is refused" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign"
expect_err "vault $vid is locked by a process that has not said who it is yet on this host" "lock named"
touch "$NV_TMP/release"; wait "$holder"

# killed at several points: the previous generation stays restorable, the
# next push completes without uploading again what landed
# (Counted after the lease and the create-if-absent probe: three commits. The
# next push removes the lease the dead one left, at once: it holds this host's
# lock on the vault, so it knows that run is over.)
for point in 2 5 6 7 8; do
	head -c 100000 /dev/urandom >"$D/k1"; head -c 100000 /dev/urandom >"$D/k2"
	head -c 100000 /dev/urandom >"$D/k3"; head -c 100000 /dev/urandom >"$D/k4"
	before=$(ls "$V"/manifests/*.json | tail -n 1)
	NAVETTE_FAULT="write_commit@$((point + 3))=kill" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign" --transfers 1 >/dev/null 2>&1
	rc=$?
	check "kill at commit $point: process died" test "$rc" -eq 137
	gen=$(basename "$before" .json | sed 's/^0*//')
	rm -rf "$NV_TMP/rk"
	check "kill at commit $point: generation $gen still restorable" nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/rk" "$gen"
	expect_exit 0 "kill at commit $point: next push completes" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign" --transfers 1
	expect_err "^navette: removed the lease navette-lease/[^ ]+ that an earlier run of this host left at $V$" \
		"kill at commit $point: the dead push's lease removed"
	uploaded=$(sed -n 's/.* \([0-9]*\) uploaded.*/\1/p' "$NV_TMP/err")
	landed=$((point - 1)); [ "$landed" -gt 4 ] && landed=4
	check "kill at commit $point: $landed object(s) not uploaded again ($uploaded uploaded)" test "$uploaded" -eq $((4 - landed))
	rm -rf "$NV_TMP/rk"
	check "kill at commit $point: newest restorable" nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/rk"
	check "kill at commit $point: restore identical" diff -r "$D" "$NV_TMP/rk"
done
check "no lease left" test -z "$(ls -A "$V/navette-lease" 2>/dev/null)"

# a file that changes while it is read is reported, never stored
head -c 20000000 /dev/urandom >"$D/moving"
# one process rewriting random blocks without pause, so every read pass sees changes
python3 -c '
import os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, os.urandom(4096), 0)
open(sys.argv[2], "w").close()
while True:
    os.pwrite(fd, os.urandom(4096), random.randrange(0, 4880) * 4096)
' "$D/moving" "$NV_TMP/mover-started" &
mover=$!
for _ in $(seq 1 300); do [ -e "$NV_TMP/mover-started" ] && break; sleep 0.1; done
check "the file is changing" test -e "$NV_TMP/mover-started"
expect_exit 3 "a file changing during push is reported" "$NAVETTE" push "$D" "$V" --signing-key "$pusher/sign" --retries 1
kill "$mover"; wait "$mover" 2>/dev/null
expect_err "moving.*changed while being" "the changing file is named"
check "no generation published from a changing file" sh -c "! grep -q moving '$NV_TMP/err' || test \$(ls '$V'/manifests/*.json | wc -l) -eq $(ls "$V"/manifests/*.json | wc -l)"
nv_done
