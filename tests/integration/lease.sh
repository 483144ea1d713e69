# lease.sh: the lease at a destination (docs/FORMAT.md section 10): a held
# lease stops a second writer (exit 4, holder named); two replicates started
# together: exactly one runs; a stale lease is passed only after a full TTL
# unchanged, and never deleted by a writer; navette unlock removes it.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
export NAVETTE_LEASE_SETTLE_MS=200

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
V="$NV_TMP/src"; D="$NV_TMP/data"; R="$NV_TMP/replica"
mkdir -p "$D"
for i in $(seq 1 300); do echo "$i" >"$D/f$i"; done
NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
"$NAVETTE" log "$V" --signing-pubkey "$K/sign.pub" >/dev/null 2>&1 || nv_die "pin"

lease() { # lease NAME TTL RENEWALS: a lease object as another host writes it (atomically)
	mkdir -p "$R/navette-lease"
	printf '{"command":"replicate","holder":"elsewhere pid 42","mode":"exclusive","pid":42,"renewals":%s,"run":"r1","start":"2026-01-01T00:00:00.000000000Z","ttl":%s,"type":"lease","version":1}\n' "$3" "$2" >"$R/navette-lease/.navette-tmp.$1" &&
		mv "$R/navette-lease/.navette-tmp.$1" "$R/navette-lease/$1.json"
}

# a live holder: renewed by a background loop
mkdir -p "$R"
( n=0; while :; do lease elsewhere.42.live 3 $n; n=$((n + 1)); sleep 0.5; done ) &
renewer=$!; nv_at_exit "kill $renewer"
sleep 0.3
expect_exit 4 "a held lease stops a second writer" "$NAVETTE" replicate "$V" "$R"
expect_err "locked by elsewhere pid 42 \(replicate exclusive lease of run r1" "the holder is named"
check "nothing copied while locked" test ! -e "$R/objects"
check "the loser removed its own lease" test "$(ls "$R/navette-lease" | wc -l)" -eq 1
expect_exit 4 "--wait-lock does not pass a live lease" "$NAVETTE" replicate --wait-lock 4s "$V" "$R"
kill "$renewer"; wait "$renewer" 2>/dev/null

# the same object, no longer renewed: stale only after its TTL (3 s) unchanged
expect_exit 4 "a lease just stopped is still live for this observer" "$NAVETTE" replicate "$V" "$R"
start=$(date +%s)
expect_exit 0 "--wait-lock passes it once unchanged for a full TTL" "$NAVETTE" replicate --wait-lock 20s "$V" "$R"
check "it waited at least the TTL" test $(( $(date +%s) - start )) -ge 3
check "the writer did not delete another's lease" test -e "$R/navette-lease/elsewhere.42.live.json"
check "its own lease is gone" test "$(ls "$R/navette-lease" | wc -l)" -eq 1
check "and the vault arrived" test -e "$R/heartbeat.json"

# unlock: the stale one after watching it, a live one only with --remove-all
expect_exit 0 "unlock removes a stale lease" env NAVETTE_LEASE_TTL=3 "$NAVETTE" unlock "$R"
expect_err "1 lease removed" "unlock counts it"
check "the stale lease is gone" test ! -e "$R/navette-lease/elsewhere.42.live.json"
( n=0; while :; do lease elsewhere.43.live 3 $n; n=$((n + 1)); sleep 0.5; done ) &
renewer=$!; nv_at_exit "kill $renewer"
sleep 0.3
expect_exit 0 "unlock leaves a live lease" env NAVETTE_LEASE_TTL=3 "$NAVETTE" unlock "$R"
expect_err "0 leases removed" "nothing removed"
kill "$renewer"; wait "$renewer" 2>/dev/null
expect_exit 0 "unlock --remove-all" "$NAVETTE" unlock --remove-all "$R"
check "every lease gone" test -z "$(ls "$R/navette-lease" 2>/dev/null)"

# two replicates started together: exactly one runs, the other names it
for round in 1 2 3; do
	rm -rf "$R"
	"$NAVETTE" replicate "$V" "$R" 2>"$NV_TMP/e1" & p1=$!
	"$NAVETTE" replicate "$V" "$R" 2>"$NV_TMP/e2" & p2=$!
	wait $p1; c1=$?; wait $p2; c2=$?
	check "round $round: one ran, the other was refused ($c1, $c2)" \
		test "$(printf '%s\n' "$c1" "$c2" | sort | tr '\n' ' ')" = "0 4 "
	check "round $round: the refusal names the holder" grep -qh "is locked by" "$NV_TMP/e1" "$NV_TMP/e2"
done
expect_exit 0 "the replica verifies" env NAVETTE_STATE_DIR="$NV_TMP/fresh" "$NAVETTE" verify --level hash "$R" --signing-pubkey "$K/sign.pub"
nv_done
