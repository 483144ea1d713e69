# sync_lock.sh: copy and sync hold their destination: a lease held by another
# host stops them (exit 4, the holder named); a second run on this host is
# stopped by the local lock before it writes anything (exit 4, naming the
# first run's pid); a stale lease is passed only after a full TTL unchanged,
# with --wait-lock; check and dry runs take no lock.
. "$NV_SRCDIR/tests/lib/common.sh"
export NAVETTE_LEASE_SETTLE_MS=200 NAVETTE_STATE_DIR="$NV_TMP/state"

S="$NV_TMP/src"; D="$NV_TMP/dst"
mkdir -p "$S" "$D/navette-lease"
for i in 1 2 3; do echo "$i" >"$S/f$i"; done
expect_line() {
	if grep -Fxq -- "$1" "$NV_TMP/err"; then ok "$2"; else
		not_ok "$2 (no line '$1')"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
lease() { # lease NAME TTL RENEWALS: another host's lease object, written atomically
	printf '{"command":"sync","holder":"elsewhere pid 42","mode":"exclusive","pid":42,"renewals":%s,"run":"r1","start":"2026-01-01T00:00:00.000000000Z","ttl":%s,"type":"lease","version":1}\n' "$3" "$2" >"$D/navette-lease/.navette-tmp.$1" &&
		mv "$D/navette-lease/.navette-tmp.$1" "$D/navette-lease/$1.json"
}
data() { (cd "$D" && find . -type f ! -path './navette-lease/*' | wc -l); }
held_by_other="navette: error: $D is locked by elsewhere pid 42 (sync exclusive lease of run r1, started 2026-01-01T00:00:00.000000000Z, navette-lease/elsewhere.42.live.json); if that run is dead, its lease goes stale after 60 s unchanged: wait for it with --wait-lock, or remove it with navette unlock"

# ---- a live lease of another host ----
( n=0; while :; do lease elsewhere.42.live 3 $n; n=$((n + 1)); sleep 0.5; done ) &
renewer=$!; nv_at_exit "kill $renewer"
sleep 0.3
expect_exit 4 "sync: a lease held elsewhere" "$NAVETTE" sync "$S" "$D"
expect_line "$held_by_other" "the holder is named"
expect_exit 4 "copy too" "$NAVETTE" copy "$S" "$D"
expect_line "$held_by_other" "the holder is named"
check "nothing copied" test "$(data)" -eq 0
check "the refused runs left no lease" test "$(ls "$D/navette-lease" | wc -l)" -eq 1
expect_exit 0 "a dry run takes no lock" "$NAVETTE" sync --dry-run "$S" "$D"
expect_exit 1 "nor does check" "$NAVETTE" check "$S" "$D"

# ---- a second run on this host: the local lock names the first ----
"$NAVETTE" sync --wait-lock 60s "$S" "$D" 2>"$NV_TMP/first.err" & first=$!
for _ in $(seq 1 50); do
	[ -s "$(ls "$NAVETTE_STATE_DIR"/locks/*.lock 2>/dev/null | head -1)" ] && break
	sleep 0.1
done
lockfile=$(ls "$NAVETTE_STATE_DIR"/locks/*.lock)
expect_exit 4 "a second sync while the first holds the lock" "$NAVETTE" sync "$S" "$D"
expect_err "^navette: error: $D is locked by navette sync \(pid $first, started [0-9T:-]+Z, writing to local:$D\) on this host \(lock $lockfile\); wait for it with --wait-lock DURATION$" \
	"the first run is named, with its pid"
expect_exit 4 "a copy to the same destination too" "$NAVETTE" copy "$S" "$D/"
expect_err "^navette: error: $D/ is locked by navette sync \(pid $first," "the same lock for another spelling"
# The first run waits on the other host's lease: stale once unchanged for its TTL.
kill "$renewer"; wait "$renewer" 2>/dev/null
wait "$first"; rc=$?
check "the first run went on once that lease was stale (exit $rc)" test "$rc" -eq 0
check "and copied" test "$(data)" -eq 3
check "the lock names nobody once released" test ! -s "$lockfile"
check "its own lease is gone, the other's left in place" \
	test "$(ls "$D/navette-lease")" = "elsewhere.42.live.json"

# ---- a stale lease: this observer must watch it for a TTL first ----
echo 4 >"$S/f4"
expect_exit 4 "a stale lease is live to a new observer" "$NAVETTE" sync "$S" "$D"
expect_line "$held_by_other" "the holder is named"
start=$(date +%s)
expect_exit 0 "--wait-lock passes it after its TTL unchanged" "$NAVETTE" sync --wait-lock 20s "$S" "$D"
check "it waited at least the TTL (3 s)" test $(( $(date +%s) - start )) -ge 3
check "and copied" test "$(data)" -eq 4
expect_exit 0 "unlock removes it" env NAVETTE_LEASE_TTL=3 "$NAVETTE" unlock "$D"
expect_exit 0 "then a sync runs at once" "$NAVETTE" sync --delete "$S" "$D"
check "no lease left" test -z "$(ls "$D/navette-lease" 2>/dev/null)"
expect_exit 2 "a bad --wait-lock" "$NAVETTE" sync --wait-lock soon "$S" "$D"
nv_done
