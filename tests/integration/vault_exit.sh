# vault_exit.sh: push, pull and verify run on the one worker pool and end
# with the one exit rule (util/exit.h): an unreadable source file fails that
# file only (exit 3, no generation published, the others landed and kept); a
# transient error is retried; failures outrank differences (3, not 1); a full
# disk stops the run (4).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"; R="$NV_TMP/r"
I=(--identity "$K/id.txt")
mkdir -p "$D/s"
head -c 2000000 /dev/urandom >"$D/a-big"   # read 64 KiB at a time: 31 reads
echo b >"$D/b"; echo c >"$D/s/c"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
vid=$(jq -r .vault_id "$V/navette-vault.json")
P=(push "$D" "$V" --signing-key "$K/sign" --transfers 1 --buffer-size 65536)

# ---- push ----
# read 20 falls in a-big (the vault's own documents take the first few)
NAVETTE_FAULT="read@20=perm" expect_exit 3 "push: one unreadable file fails that file" "$NAVETTE" "${P[@]}"
expect_err "failed a-big: injected fault" "the unreadable file is named"
expect_err "1 file\(s\) could not be pushed: no generation published" "nothing published, said so"
check "no generation published" test ! -e "$V/manifests/00000000000000000001.json"
check "the other files were pushed all the same" \
	test "$(wc -l <"$NAVETTE_STATE_DIR/push/$vid/landed.tsv")" -eq 2
# and a transient error while reading a-big again: that file is tried again
NAVETTE_FAULT="read@20=retry" expect_exit 0 "push: next time all goes, a transient error retried" \
	"$NAVETTE" -v "${P[@]}"
expect_err "retry a-big: injected fault in read" "the retry is said"
expect_err "generation 1: 3 files, 3 read, 1 uploaded" "what landed is not uploaded again"

# ---- pull ----
expect_exit 0 "pull" "$NAVETTE" pull "$V" "$R/all" "${I[@]}"
check "restore identical" diff -r "$D" "$R/all"
obj_of() { jq -r --arg p "$1" 'select(.path == $p) | .object' "$NV_TMP/catalog.jsonl"; }
nv_manual_restore "$V" "$K/id.txt" "$K/sign.pub" "$NV_TMP/manual" >/dev/null || nv_die "manual restore"
# a failure (s/ leads outside through a symlink) and a difference (b tampered)
T="$NV_TMP/tampered"; cp -a "$V" "$T"
nv_flip_byte "$T/$(obj_of b)" 190
mkdir -p "$R/both" "$NV_TMP/outside"; ln -s "$NV_TMP/outside" "$R/both/s"
expect_exit 3 "pull: a failure and a difference give 3 (was 1)" "$NAVETTE" pull "$T" "$R/both" "${I[@]}"
expect_err "failed s/c" "the failure is named"
expect_err "mismatch b" "the difference is named"
check "nothing written through the symlink" test -z "$(ls "$NV_TMP/outside")"
expect_exit 1 "pull: a difference alone gives 1" "$NAVETTE" pull "$T" "$R/diff" "${I[@]}"
NAVETTE_FAULT="write@1=nospc" expect_exit 4 "pull: a full disk stops the run" \
	"$NAVETTE" pull "$V" "$R/full" "${I[@]}" --transfers 1
expect_err "injected fault in write" "the full disk is named"
NAVETTE_FAULT="read@20=retry" expect_exit 0 "pull: a transient read error is retried" \
	"$NAVETTE" -v pull "$V" "$R/retried" "${I[@]}" --transfers 1 --buffer-size 65536
expect_err "retry a-big: injected fault in read" "the retry is said"
check "the retried restore is whole" diff -r "$D" "$R/retried"

# ---- verify ----
# a failed read (io) of one object and a tampered other: which read hits an
# object depends on the documents read first, so the fault walks forward
found=
for n in $(seq 1 40); do
	NAVETTE_FAULT="read@$n=io" "$NAVETTE" verify --level hash "$T" --transfers 1 \
		>"$NV_TMP/out" 2>"$NV_TMP/err"
	rc=$?
	if grep -q "failed objects/" "$NV_TMP/err" && grep -q "mismatch objects/" "$NV_TMP/err"; then
		found=$n; break
	fi
done
check "verify: an unreadable object and a tampered one (read $found) give 3" test "${rc:-0}" -eq 3 -a -n "$found"
expect_exit 1 "verify: the tampered one alone gives 1" "$NAVETTE" verify --level hash "$T"
nv_done
