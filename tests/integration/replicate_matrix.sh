# replicate_matrix.sh: every compiled-in driver is a replication source once
# and a destination once, on real servers: local -> sftp (sshd) -> s3 (s3rver)
# -> azure (Azurite) -> local. Each copy is verified (--level hash) from a
# fresh state directory pinned with --signing-pubkey, a second generation
# travels the same chain incrementally, and the owner pulls the last copy
# identical. The replicating host never holds an identity or a signing key.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
export NAVETTE_LEASE_SETTLE_MS=50
nv_start_sshd
nv_start_s3rver bkt
nv_start_azurite
nv_azurite_container rep
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
conf="$NV_TMP/navette.conf"
{ cat "$NV_SSHD_CONF"; cat <<EOC
[s3v]
type = s3
endpoint = $S3_ENDPOINT
region = us-east-1
access_key_id = $S3_KEY
secret_access_key = $S3_SECRET
conditional_writes = false
EOC
} >"$conf"
chmod 600 "$conf"
export NAVETTE_CONFIG="$conf"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
D="$NV_TMP/data"; mkdir -p "$D/docs"
head -c 300000 /dev/urandom >"$D/big.bin"; : >"$D/empty"
echo same >"$D/docs/one"; echo same >"$D/docs/two"; echo "é" >"$D/docs/fichier é.txt"
L1="$NV_TMP/vault"
NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" init "$L1" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
push() { NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" push "$D" "$L1" --signing-key "$K/sign" 2>/dev/null || nv_die "push"; }
push

export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
PUB=(--signing-pubkey "$K/sign.pub")
chain=("$L1" "ssh:$NV_SSHD_DIR/remote/rep" "s3v:bkt/rep" "az://$AZ_ACCOUNT/rep/v" "$NV_TMP/back")
names=(local sftp s3 azure local)
run_chain() { # run_chain ROUND
	local i src dst
	for i in 0 1 2 3; do
		src=${chain[$i]} dst=${chain[$((i + 1))]}
		expect_exit 0 "round $1: ${names[$i]} -> ${names[$((i + 1))]}" \
			"$NAVETTE" -v --log-json replicate "$src" "$dst" "${PUB[@]}"
		cp "$NV_TMP/err" "$NV_TMP/log-$1-$i"
		expect_exit 0 "round $1: verify --level hash at ${names[$((i + 1))]} from a fresh host" \
			env NAVETTE_STATE_DIR="$NV_TMP/fresh-$1-$i" "$NAVETTE" verify --level hash "$dst" "${PUB[@]}"
	done
}
run_chain 1
n_obj=$(find "$L1/objects" -type f | wc -l)
for i in 0 1 2 3; do
	check "round 1, hop $i: every object copied once" \
		test "$(grep -c '"action":"replicated"' "$NV_TMP/log-1-$i")" -eq "$n_obj"
done
check "the last copy is byte-identical to the first" diff -r "$L1" "$NV_TMP/back"

echo changed >"$D/docs/one"; push
run_chain 2
for i in 0 1 2 3; do
	check "round 2, hop $i: only generation 2's two new objects copied" \
		test "$(grep -c '"action":"replicated"' "$NV_TMP/log-2-$i")" -eq 2
done
expect_exit 0 "the owner pulls the end of the chain" env NAVETTE_STATE_DIR="$NV_TMP/owner2" \
	"$NAVETTE" pull "$NV_TMP/back" "$NV_TMP/restored" --identity "$K/id.txt" "${PUB[@]}"
check "restored identical through sftp, s3 and azure" diff -r "$D" "$NV_TMP/restored"
check "no identity or signing key in the replicating host's state" \
	sh -c "! grep -rl 'AGE-SECRET-KEY\|PRIVATE KEY' '$NV_TMP/replica-host'"
nv_done
