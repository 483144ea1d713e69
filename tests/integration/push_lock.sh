# push_lock.sh: push holds this host's locks and the lease at the vault, so two
# pushes to one vault never interleave (a second one exits 4 naming the first,
# or waits with --wait-lock): on a local vault and on S3 (s3rver, which ignores
# If-None-Match: there the create-if-absent probe warns, once). pull holds the
# local lock of its restore directory, and writes no lease there.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v jq >/dev/null || nv_need "jq"
export NAVETTE_LEASE_SETTLE_MS=200

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/host1"
D="$NV_TMP/data"; V="$NV_TMP/vault"
mkdir -p "$D/sub"
for i in 1 2 3 4 5; do echo "file $i" >"$D/sub/f$i"; done
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
vid=$(jq -r .vault_id "$V/navette-vault.json")
# another host pushing to the same vault: a state of its own, holding K_id
mkdir -p "$NV_TMP/host2/push/$vid" && chmod -R 700 "$NV_TMP/host2"
cp "$NV_TMP/host1/push/$vid/kid" "$NV_TMP/host2/push/$vid/kid"
host2() { NAVETTE_STATE_DIR="$NV_TMP/host2" "$NAVETTE" "$@"; }
host2 log "$V" --signing-pubkey "$K/sign.pub" >/dev/null 2>&1 || nv_die "pin on host2"
manifests() { ls "$V/manifests" | grep -c '\.json$'; }
leases() { ls -A "$1/navette-lease" 2>/dev/null | grep -c '\.json$'; }   # (a renewer's temp file is no lease)
# wait_for CMD...: up to 60 s for a held run to reach its point
wait_for() { for _ in $(seq 1 600); do "$@" && return 0; sleep 0.1; done; return 1; }
has_lease() { [ -n "$(ls "$1/navette-lease" 2>/dev/null)" ]; }
lock_of() { # the local lock file a run of command $1 holds (fails when none)
	local f
	f=$(grep -l "^navette $1 " "$NAVETTE_STATE_DIR"/locks/*.lock 2>/dev/null | head -1)
	[ -n "$f" ] && echo "$f"
}
P=(push "$D" "$V" --signing-key "$K/sign")

# ---- a lease of another host, written by hand and renewed ----
lease() { # lease NAME RENEWALS
	mkdir -p "$V/navette-lease"
	printf '{"command":"push","holder":"elsewhere pid 42","mode":"exclusive","pid":42,"renewals":%s,"run":"r1","start":"2026-01-01T00:00:00.000000000Z","ttl":3,"type":"lease","version":1}\n' "$2" >"$V/navette-lease/.navette-tmp.$1" &&
		mv "$V/navette-lease/.navette-tmp.$1" "$V/navette-lease/$1.json"
}
( n=0; while :; do lease elsewhere.42.live $n; n=$((n + 1)); sleep 0.5; done ) &
renewer=$!; nv_at_exit "kill $renewer"
wait_for has_lease "$V"
echo changed >"$D/sub/f1"
objects=$(find "$V/objects" -type f | wc -l)
expect_exit 4 "a push while another host holds the vault's lease" "$NAVETTE" "${P[@]}"
check "the holder named, exactly" test "$(head -n 1 "$NV_TMP/err")" = "navette: error: $V is locked by elsewhere pid 42 (push exclusive lease of run r1, started 2026-01-01T00:00:00.000000000Z, navette-lease/elsewhere.42.live.json); if that run is dead, its lease goes stale after 60 s unchanged: wait for it with --wait-lock, or remove it with navette unlock"
check "nothing uploaded" test "$(find "$V/objects" -type f | wc -l)" -eq "$objects"
check "nothing published" test "$(manifests)" -eq 1
check "the refused push left no lease of its own" test "$(leases "$V")" -eq 1
expect_exit 0 "a dry run takes no lease: it runs" "$NAVETTE" --dry-run "${P[@]}"
kill "$renewer"; wait "$renewer" 2>/dev/null
expect_exit 0 "unlock" "$NAVETTE" unlock --remove-all "$V"

# ---- a push held after its locks and lease (at its first flush) ----
touch "$NV_TMP/hold"
NAVETTE_FAULT=flush@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" "$NAVETTE" "${P[@]}" 2>"$NV_TMP/first.err" &
first=$!
check "the first push holds the lease" wait_for has_lease "$V"
lockfile=$(lock_of push)
check "and this host's lock, naming it" test -n "$lockfile"
expect_exit 4 "a second push on this host" "$NAVETTE" "${P[@]}"
check "the local lock names the first push" test "$(head -n 1 "$NV_TMP/err")" = \
	"navette: error: $V is locked by $(cat "$lockfile") on this host (lock $lockfile); wait for it with --wait-lock DURATION"
expect_err "^navette: error: [^ ]+ is locked by navette push \(pid $first, started [0-9T:-]+Z, writing to local:$V\) on this host" \
	"pid, start time and place"
expect_exit 4 "a push from another host (its own state and locks)" host2 "${P[@]}"
expect_err "^navette: error: $V is locked by [^ ]+ pid $first \(push exclusive lease of run [0-9a-f]+, started [0-9T:.-]+Z, navette-lease/[^ ]+\.$first\.[0-9a-f]+\.json\); if that run is dead" \
	"the lease names the first push"
check "the refused pushes left no lease" test "$(leases "$V")" -eq 1
check "nothing published meanwhile" test "$(manifests)" -eq 1
echo "another change" >"$D/sub/f2"
host2 "${P[@]}" --wait-lock 60s 2>"$NV_TMP/waiter.err" &
waiter=$!
rm "$NV_TMP/hold"
wait "$first"; c1=$?
wait "$waiter"; c2=$?
check "the held push then published (exit $c1)" test "$c1" -eq 0
check "the waiting one ran after it (exit $c2)" test "$c2" -eq 0
check "two generations, one after the other" test "$(manifests)" -eq 3
check "no lease left" test "$(leases "$V")" -eq 0
check "no lock names a holder" test -z "$(cat "$NAVETTE_STATE_DIR"/locks/*.lock "$NAVETTE_STATE_DIR/push/$vid/lock")"
expect_exit 0 "the vault verifies" env NAVETTE_STATE_DIR="$NV_TMP/reader" "$NAVETTE" verify --level hash "$V" --signing-pubkey "$K/sign.pub"
expect_exit 4 "a push while the vault's push lock is held by hand" \
	flock "$NAVETTE_STATE_DIR/push/$vid/lock" "$NAVETTE" "${P[@]}"
expect_err "^navette: error: vault $vid is locked by a process that has not said who it is yet on this host" \
	"push/<vault_id>/lock is the second local lock"
check "and the vault's own lock was released" test -z "$(cat "$NAVETTE_STATE_DIR"/locks/*.lock)"

# ---- pull: the local lock of its restore directory, no lease there ----
R="$NV_TMP/restore"
touch "$NV_TMP/hold"
NAVETTE_FAULT=write_commit@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" \
	"$NAVETTE" pull "$V" "$R" --identity "$K/id.txt" --transfers 1 2>"$NV_TMP/pull.err" &
puller=$!
check "the pull holds its directory's lock" wait_for lock_of pull >/dev/null
lockfile=$(lock_of pull)
expect_exit 4 "a second pull into the same directory" "$NAVETTE" pull "$V" "$R" --identity "$K/id.txt"
check "it names the first" test "$(head -n 1 "$NV_TMP/err")" = \
	"navette: error: $R is locked by $(cat "$lockfile") on this host (lock $lockfile); wait for it with --wait-lock DURATION"
expect_err "locked by navette pull \(pid $puller, started [0-9T:-]+Z, writing to local:$R\)" "pid and place"
expect_exit 0 "a pull into another directory meanwhile" "$NAVETTE" pull "$V" "$NV_TMP/other" --identity "$K/id.txt"
rm "$NV_TMP/hold"
wait "$puller"; rc=$?
check "the held pull then finished (exit $rc)" test "$rc" -eq 0
check "restored" diff -r "$D" "$R"
check "no lease written into the restore target" test ! -e "$R/navette-lease"
check "the lock released" test ! -s "$lockfile"

# ---- S3: s3rver ignores If-None-Match ----
nv_start_s3rver bkt
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN NAVETTE_FAULT
nv_s3rver_remote "$NV_TMP/navette.conf" s3v
nv_s3rver_remote "$NV_TMP/navette.conf" s3f "conditional_writes = false"
export NAVETTE_CONFIG="$NV_TMP/navette.conf"
S="s3v:bkt/v"
warning="navette: warning: $S does not enforce create-if-absent (If-None-Match): a second create of one name was accepted. Publication is kept apart by the lease and the read-back only; for an S3 store, set conditional_writes = false so that navette checks before each such write"
expect_exit 0 "init on s3" "$NAVETTE" init "$S" --recipients-file "$K/id.pub" --signing-key "$K/sign"
vid=$(sed -n 's/^navette: created vault \([0-9a-f]*\) .*/\1/p' "$NV_TMP/err")
mkdir -p "$NV_TMP/host2/push/$vid" && cp "$NAVETTE_STATE_DIR/push/$vid/kid" "$NV_TMP/host2/push/$vid/kid"
host2 log "$S" --signing-pubkey "$K/sign.pub" >/dev/null 2>&1 || nv_die "pin on host2"
PS=(push "$D" "$S" --signing-key "$K/sign")
expect_exit 0 "push to s3, conditional_writes = true (the default)" "$NAVETTE" "${PS[@]}"
check "the probe warns that s3rver ignores If-None-Match, once" \
	test "$(grep -cF "$warning" "$NV_TMP/err")" -eq 1
expect_exit 0 "a replicate to it warns the same way" "$NAVETTE" replicate "$V" s3v:bkt/replica
expect_err "^navette: warning: s3v:bkt/replica does not enforce create-if-absent" "named there too"
expect_exit 0 "with conditional_writes = false (HEAD before the write)" "$NAVETTE" replicate "$V" s3f:bkt/replica2
check "no warning" test "$(grep -c 'create-if-absent' "$NV_TMP/err")" -eq 0
s3_leases() { ls "$S3_DIR/bkt/v/navette-lease/" 2>/dev/null | grep -c '._S3rver_object$'; }
has_s3_lease() { [ "$(s3_leases)" -gt 0 ]; }
echo "third" >"$D/sub/f3"
touch "$NV_TMP/hold"
NAVETTE_FAULT=flush@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" "$NAVETTE" "${PS[@]}" 2>"$NV_TMP/first.err" &
first=$!
check "the first push holds the lease on s3" wait_for has_s3_lease
expect_exit 4 "a push from another host to the s3 vault" host2 "${PS[@]}"
expect_err "^navette: error: $S is locked by [^ ]+ pid $first \(push exclusive lease of run " "the lease names it"
expect_exit 4 "a second push on this host" "$NAVETTE" "${PS[@]}"
expect_err "^navette: error: $S is locked by navette push \(pid $first, started [0-9T:-]+Z, writing to s3://\[s3v\]/bkt/v\) on this host" \
	"the local lock names it"
rm "$NV_TMP/hold"
wait "$first"; rc=$?
check "the held push then published (exit $rc)" test "$rc" -eq 0
check "no lease and no probe left on s3" test -z "$(ls -A "$S3_DIR/bkt/v/navette-lease" 2>/dev/null)"
expect_exit 0 "host2 pushes now" host2 "${PS[@]}"
expect_exit 0 "the s3 vault verifies" env NAVETTE_STATE_DIR="$NV_TMP/reader2" "$NAVETTE" verify --level hash "$S" --signing-pubkey "$K/sign.pub"
nv_done
