# replicate_resume.sh: replicate killed at seeded points (NAVETTE_FAULT=...=kill
# makes the process die at the Nth call of a driver slot, as a crash would),
# then run again: it completes, the replica is identical, and no object that
# was committed at the destination before the re-run is uploaded again. (A
# local write killed mid-way leaves its .navette-tmp.* file, which listings
# ignore; like the dead run's lease, it is not the replica's content.)
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
export NAVETTE_LEASE_SETTLE_MS=20 NAVETTE_LEASE_TTL=1

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
V="$NV_TMP/src"; D="$NV_TMP/data"
mkdir -p "$D/a" "$D/b"
for i in $(seq 1 40); do echo "file $i" >"$D/a/$i"; done
head -c 200000 /dev/urandom >"$D/b/big"
NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
for g in 1 2; do
	echo "$g" >"$D/gen"
	NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
done
export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
"$NAVETTE" log "$V" --signing-pubkey "$K/sign.pub" >/dev/null 2>&1 || nv_die "pin"
n_obj=$(find "$V/objects" -type f | wc -l)

# Seeded crash points: commits of objects, of catalogs, of manifests and of
# their signatures, the heartbeat, mid-object writes, reads, the final flush.
points="write_commit@1 write_commit@7 write_commit@20 write_commit@$((n_obj - 1)) \
write_commit@$((n_obj + 1)) write_commit@$((n_obj + 2)) write_commit@$((n_obj + 4)) \
write_commit@$((n_obj + 6)) write@3 write@30 read@12 flush@2"
i=0
for p in $points; do
	i=$((i + 1)); R="$NV_TMP/r$i"
	NAVETTE_FAULT="$p=kill" "$NAVETTE" replicate --transfers 2 "$V" "$R" >/dev/null 2>&1
	killed=$?
	( cd "$R" 2>/dev/null && find objects -type f ! -name '.navette-tmp.*' 2>/dev/null | sort ) >"$NV_TMP/before"
	"$NAVETTE" -v --log-json replicate --wait-lock 20s "$V" "$R" 2>"$NV_TMP/log" >/dev/null
	again=$?
	grep '"action":"replicated"' "$NV_TMP/log" | jq -r .path | sort >"$NV_TMP/uploaded"
	check "$p: the first run died ($killed)" test "$killed" -eq 137
	check "$p: the re-run completes" test "$again" -eq 0
	check "$p: nothing committed before is uploaded again" test -z "$(comm -12 "$NV_TMP/before" "$NV_TMP/uploaded")"
	check "$p: every object is there once" test "$(( $(wc -l <"$NV_TMP/before") + $(wc -l <"$NV_TMP/uploaded") ))" -eq "$n_obj"
	check "$p: the replica is the source" diff -r -x navette-lease -x '.navette-tmp.*' "$V" "$R"
done
expect_exit 0 "the last replica verifies from a fresh host" env NAVETTE_STATE_DIR="$NV_TMP/fresh" "$NAVETTE" verify --level hash "$R" --signing-pubkey "$K/sign.pub"
nv_done
