# vault_readback.sh: push reads back the manifest it published, before and
# after signing (FORMAT.md section 10: a store that ignores create-if-absent
# lets a racing pusher replace it unseen). Each read of a push is altered in
# turn (NAVETTE_FAULT=read@K=flip, as a store serving other bytes would):
# when the altered read is a read-back, push stops with exit 4 and publishes
# no heartbeat; whatever read is altered, what was published verifies or is
# refused, never trusted wrongly.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
D="$NV_TMP/data"; mkdir -p "$D"; echo one >"$D/a"; echo two >"$D/b"
# Push reads a file changed in the last 2 s twice (push_job.c, NV_PUSH_RACY_SEC),
# which would shift the read numbers below while the loop runs: let them settle.
sleep 3
caught=0
for k in $(seq 1 40); do
	export NAVETTE_STATE_DIR="$NV_TMP/state-$k"; V="$NV_TMP/v$k"
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
	NAVETTE_FAULT="read@$k=flip" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" >/dev/null 2>"$NV_TMP/err"
	rc=$?
	if grep -q "is not the manifest this push wrote" "$NV_TMP/err"; then
		caught=$((caught + 1))
		check "read $k altered in a read-back: exit 4" test "$rc" -eq 4
		check "read $k: no heartbeat published" test ! -e "$V/heartbeat.json"
	elif [ "$rc" -eq 0 ]; then
		expect_exit 0 "read $k altered elsewhere: what was published verifies" \
			env NAVETTE_STATE_DIR="$NV_TMP/fresh-$k" "$NAVETTE" verify --level hash "$V" --signing-pubkey "$K/sign.pub"
	fi
done
check "both read-backs (before and after signing) were hit ($caught)" test "$caught" -eq 2
unset NAVETTE_FAULT; export NAVETTE_STATE_DIR="$NV_TMP/state-ok"
"$NAVETTE" init "$NV_TMP/ok" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1
expect_exit 0 "an unaltered push reads back its own manifest" "$NAVETTE" push "$D" "$NV_TMP/ok" --signing-key "$K/sign"
nv_done
