#!/usr/bin/env bash
# vault_reread.sh: a store that serves other bytes on any one read of a pull
# (NAVETTE_FAULT=read@K=flip alters the Kth read, K = 1..N: the descriptor,
# manifests, heartbeat, catalog, and the one pass over each object). Every pull
# either restores exactly what was pushed or fails with a verification error,
# and never leaves a partial or temporary file. Each object is read once: the
# large one's five reads of 64 KiB are each caught once, by the stored SHA-256.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"; R="$NV_TMP/r"
mkdir -p "$D"
head -c 300000 /dev/urandom >"$D/large"   # five reads of 64 KiB, in one pass
echo small >"$D/small"                     # one read
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"

restored_ok=0 refused=0 bad=0 large=0 small=0 chunk=0 hb=0
for k in $(seq 1 45); do
	rm -rf "$R"
	NAVETTE_FAULT="read@$k=flip" "$NAVETTE" pull "$V" "$R" --identity "$K/id.txt" \
		--buffer-size 64K --transfers 1 >/dev/null 2>"$NV_TMP/err"
	rc=$?
	# whatever is restored is exactly what was pushed, and nothing temporary stays
	for f in $(cd "$R" 2>/dev/null && find . -type f); do
		cmp -s "$D/$f" "$R/$f" || { bad=$((bad + 1)); echo "# read $k: $f differs"; }
	done
	[ -z "$(find "$R" -name '.navette-tmp*' 2>/dev/null)" ] ||
		{ bad=$((bad + 1)); echo "# read $k: a temporary file stayed"; }
	case $rc in
	0) [ "$(find "$R" -type f | wc -l)" -eq 2 ] && restored_ok=$((restored_ok + 1)) ||
		{ bad=$((bad + 1)); echo "# read $k: exit 0 but files missing"; } ;;
	1|2) refused=$((refused + 1)) ;;
	*) bad=$((bad + 1)); echo "# read $k: exit $rc"; sed 's/^/#   /' "$NV_TMP/err" ;;
	esac
	grep -q "^mismatch large: object objects/.*: SHA-256 of the stored bytes differs from the manifest's (tampered or corrupted)$" "$NV_TMP/err" &&
		[ $rc -eq 1 ] && large=$((large + 1))
	grep -q "^mismatch small: object objects/.*: SHA-256 of the stored bytes differs from the manifest's (tampered or corrupted)$" "$NV_TMP/err" &&
		[ $rc -eq 1 ] && small=$((small + 1))
	grep -q "failed authentication" "$NV_TMP/err" && chunk=$((chunk + 1))
	grep -q "heartbeat ignored" "$NV_TMP/err" && hb=$((hb + 1))
done
echo "# $restored_ok restored, $refused refused"
check "no altered read restores other bytes or leaves a file behind" test "$bad" -eq 0
check "altered reads are refused (descriptor, manifest, catalog, objects)" test "$refused" -ge 10
echo "# large: $large, small: $small, chunk errors: $chunk"
check "each of the large object's five reads, altered, fails it (exit 1): one pass" test "$large" -eq 5
check "the small object's one read, altered, fails it (exit 1)" test "$small" -eq 1
check "the stored bytes' mismatch is reported, not the decryption error it causes" test "$chunk" -eq 0
check "an altered heartbeat is reported" test "$hb" -ge 1
check "reads past the end change nothing (the loop covered every read)" test "$restored_ok" -ge 3
nv_done
