# replicate_all.sh: one vault per dataset, each with its own owner keys and
# signing key: replicate --all and verify --all find every vault under a
# prefix, handle each under its own pin (--signing-pubkeys FILE), and a
# tampered one is refused and named without stopping the others (exit 1).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v jq >/dev/null || nv_need "jq"
export NAVETTE_LEASE_SETTLE_MS=20
P="$NV_TMP/platform"; Q="$NV_TMP/replica"; keys="$NV_TMP/signing-pubkeys"
: >"$keys"
for ds in cardio neuro onco; do
	nv_keys "$NV_TMP/k-$ds" || nv_die "keygen $ds"
	mkdir -p "$NV_TMP/d-$ds"; echo "$ds data" >"$NV_TMP/d-$ds/records.csv"
	export NAVETTE_STATE_DIR="$NV_TMP/producer-$ds"
	"$NAVETTE" init "$P/$ds/vault" --recipients-file "$NV_TMP/k-$ds/id.pub" --signing-key "$NV_TMP/k-$ds/sign" >/dev/null 2>&1 || nv_die "init $ds"
	"$NAVETTE" push "$NV_TMP/d-$ds" "$P/$ds/vault" --signing-key "$NV_TMP/k-$ds/sign" 2>/dev/null || nv_die "push $ds"
	echo "$(jq -r .vault_id "$P/$ds/vault/navette-vault.json") $(cut -d' ' -f1,2 "$NV_TMP/k-$ds/sign.pub")" >>"$keys"
done
# neuro's newest object is tampered at the source
obj=$(tail -n +2 "$P/neuro/vault/manifests/00000000000000000001.json" | jq -r .name | head -n 1)
nv_flip_byte "$P/neuro/vault/$obj" 30

export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
expect_exit 2 "--signing-pubkeys needs --all" "$NAVETTE" replicate --signing-pubkeys "$keys" "$P/cardio/vault" "$Q/x"
expect_exit 1 "replicate --all: the tampered vault fails, exit 1" "$NAVETTE" replicate --all "$P" "$Q" --signing-pubkeys "$keys"
expect_err "vault neuro/vault: FAILED" "the failing vault is named"
expect_err "3 vaults, 2 replicated, 1 failed" "one summary"
check "cardio replicated" diff -r -x navette-lease "$P/cardio/vault" "$Q/cardio/vault"
check "onco replicated" diff -r -x navette-lease "$P/onco/vault" "$Q/onco/vault"
check "neuro's manifest not published" test ! -e "$Q/neuro/vault/manifests/00000000000000000001.json"
expect_exit 0 "verify --all of the replica, from the pins this host now has" "$NAVETTE" verify --all "$Q" --level hash
expect_err "2 vaults, 2 good, 0 failed" "both good"
expect_exit 1 "verify --all of the source names the tampered vault" env NAVETTE_STATE_DIR="$NV_TMP/auditor" "$NAVETTE" verify --all "$P" --level hash --signing-pubkeys "$keys"
expect_err "vault neuro/vault .*FAILED" "neuro named"
expect_err "3 vaults, 2 good, 1 failed" "verify summary"
expect_exit 2 "an unknown vault without its key line" env NAVETTE_STATE_DIR="$NV_TMP/auditor2" "$NAVETTE" verify --all "$P"
expect_err "no pinned signing key verifies" "the missing pin is named"
nv_done
