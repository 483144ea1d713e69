# dry_run.sh: push --dry-run and replicate --dry-run say what would be uploaded
# (items, counts and bytes, as JSON events too) and write nothing: the store's
# whole listing (hidden names, leases and temp files included) and the state
# directory (pins, generations seen, push state, metrics state, locks) are the
# same, byte for byte and time for time, before and after. First push,
# incremental push, no change; replicate to a new and to an existing replica;
# on a local vault and on S3 (s3rver). What a dry run predicts, the real run
# then does.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v jq >/dev/null || nv_need "jq"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
D="$NV_TMP/data"; V="$NV_TMP/vault"
mkdir -p "$D/a" "$D/b"
for i in 1 2 3 4; do echo "file $i" >"$D/a/f$i"; done
echo "file 1" >"$D/b/same-as-f1"
head -c 300000 /dev/urandom >"$D/b/big"

# snapshot DIR: every entry under DIR (type, mode, size, mtime) and every
# file's SHA-256; nothing when DIR does not exist
snapshot() {
	[ -e "$1" ] || return 0
	(cd "$1" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
before() { snapshot "$1" >"$NV_TMP/before.$2"; }
unchanged() { snapshot "$1" | cmp -s - "$NV_TMP/before.$2"; }
# summary FIELD: a field of the last run's JSON summary
summary() { jq -r "select(.event == \"summary\") | .$1" "$NV_TMP/err"; }
items() { jq -r "select(.event == \"item\" and .action == \"$1\") | .path" "$NV_TMP/err" | sort; }
# one worker: of two equal files, which one is uploaded and which "already
# stored" then does not depend on which worker gets there first
P=(push "$D" "$V" --signing-key "$K/sign" --transfers 1)

# dry_push NAME LOCATION-DIR: a dry run of ${P[@]} (JSON log, metrics file)
# that writes nothing at LOCATION-DIR (the store's files) nor in the state
dry_push() {
	before "$2" store; before "$NAVETTE_STATE_DIR" state
	expect_exit 0 "$1: push --dry-run" "$NAVETTE" --log-json "${P[@]}" --dry-run \
		--metrics-file "$NV_TMP/m.prom"
	check "$1: the store unchanged (every name, size, time and byte)" unchanged "$2" store
	check "$1: the state directory unchanged" unchanged "$NAVETTE_STATE_DIR" state
}
# real_push NAME: the real push uploads what the dry run said
real_push() {
	local n=$(summary uploaded) b=$(summary bytes) g=$(summary generation) w=$(items "would upload")
	expect_exit 0 "$1: the real push" "$NAVETTE" --log-json -v "${P[@]}"
	check "$1: it uploaded what the dry run said ($n files, $b bytes)" \
		test "$(summary uploaded) $(summary bytes)" = "$n $b"
	check "$1: the same files" test "$(items pushed)" = "$w"
	check "$1: and published the generation it named ($g)" test "$(summary generation)" = "$g"
}

expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign"
dry_push "first push" "$V"
check "first push: summary says dry run, would publish generation 1" \
	test "$(summary dry_run) $(summary would_publish) $(summary generation) $(summary published)" = "true true 1 false"
check "first push: 6 files, 5 to upload (two share contents)" \
	test "$(summary files) $(summary uploaded) $(summary already_stored)" = "6 5 1"
check "first push: one item per upload" test "$(items "would upload" | wc -l)" -eq 5
check "first push: the bytes are the objects' (age sizes)" test "$(summary bytes)" -gt 300000
check "first push: the human summary" sh -c 'grep -q "\"msg\":\"dry run: would publish generation 1: 6 files, 6 read, 5 to upload" "$1"' sh "$NV_TMP/err"
check "first push: no metrics state" test ! -e "$NAVETTE_STATE_DIR/metrics"
real_push "first push"

echo "changed" >"$D/a/f2"; echo "new" >"$D/a/f5"
dry_push "incremental" "$V"
check "incremental: would publish generation 2, 2 to upload" \
	test "$(summary would_publish) $(summary generation) $(summary uploaded)" = "true 2 2"
check "incremental: the changed and the new file" test "$(items "would upload" | tr '\n' ' ')" = "a/f2 a/f5 "
real_push "incremental"

dry_push "no change" "$V"
check "no change: nothing to upload, no generation" \
	test "$(summary would_publish) $(summary generation) $(summary uploaded)" = "false 2 0"
expect_err '"msg":"dry run: no change, would refresh the heartbeat of generation 2' "no change: said so"
expect_exit 0 "human form" "$NAVETTE" "${P[@]}" --dry-run
check "one line" test "$(grep -c '' "$NV_TMP/err")" -eq 1
expect_err '^navette: dry run: no change, would refresh the heartbeat of generation 2: 7 files, 0 read, 0 to upload \(0\.0 MiB\), 7 already stored, in [0-9.]+ s$' "the summary"

# ---- replicate --dry-run: a new replica, from a host that never saw the vault ----
R="$NV_TMP/replica"
export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
before "$R" store; before "$NAVETTE_STATE_DIR" state
expect_exit 0 "replicate --dry-run to a new place, first contact" "$NAVETTE" --log-json \
	replicate --dry-run "$V" "$R" --signing-pubkey "$K/sign.pub"
check "nothing created there" test ! -e "$R"
check "no state: no pin, no generation seen" test ! -e "$NAVETTE_STATE_DIR"
n_obj=$(find "$V/objects" -type f | wc -l)
check "every object would be copied ($n_obj)" test "$(summary files)" -eq "$n_obj"
check "an item per object" test "$(items "would copy" | wc -l)" -eq "$n_obj"
check "two manifests would be published" test "$(items "would publish" | tr '\n' ' ')" = \
	"manifests/00000000000000000001.json manifests/00000000000000000002.json "
check "summary: dry run, the heartbeat" test "$(summary dry_run) $(summary manifests_published) $(summary heartbeat_updated)" = "true 2 true"
want="$(summary files) $(summary bytes)"
expect_exit 0 "the real replicate" "$NAVETTE" --log-json replicate "$V" "$R" --signing-pubkey "$K/sign.pub"
check "it copied what the dry run said ($want)" test "$(summary files) $(summary bytes)" = "$want"

echo "third" >"$D/a/f3"
NAVETTE_STATE_DIR="$NV_TMP/state" "$NAVETTE" "${P[@]}" 2>/dev/null || nv_die "push 3"
before "$R" store; before "$NAVETTE_STATE_DIR" state
expect_exit 0 "replicate --dry-run to the replica" "$NAVETTE" --log-json replicate --dry-run "$V" "$R" \
	--metrics-file "$NV_TMP/m.prom"
check "the replica unchanged" unchanged "$R" store
check "the state unchanged (no generation seen recorded)" unchanged "$NAVETTE_STATE_DIR" state
check "2 objects (the file, the catalog), generation 3" \
	test "$(summary files) $(items "would publish")" = "2 manifests/00000000000000000003.json"
expect_exit 0 "the real one" "$NAVETTE" replicate "$V" "$R"
expect_exit 0 "the replica verifies" env NAVETTE_STATE_DIR="$NV_TMP/fresh" "$NAVETTE" verify --level hash "$R" --signing-pubkey "$K/sign.pub"

# ---- S3: the bucket's files on s3rver's disk, hidden names included ----
nv_start_s3rver bkt
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN
nv_s3rver_remote "$NV_TMP/navette.conf" s3v
export NAVETTE_CONFIG="$NV_TMP/navette.conf" NAVETTE_STATE_DIR="$NV_TMP/state"
V=s3v:bkt/v
P=(push "$D" "$V" --signing-key "$K/sign" --transfers 1)
expect_exit 0 "init on s3" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign"
dry_push "s3 first push" "$S3_DIR"
check "s3 first push: 7 files, 6 to upload" test "$(summary files) $(summary uploaded)" = "7 6"
real_push "s3 first push"
echo "fourth" >"$D/a/f4"
dry_push "s3 incremental" "$S3_DIR"
check "s3 incremental: 1 to upload" test "$(summary uploaded) $(summary generation)" = "1 2"
real_push "s3 incremental"
export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
before "$S3_DIR" store; before "$NAVETTE_STATE_DIR" state
expect_exit 0 "replicate --dry-run to s3" "$NAVETTE" --log-json replicate --dry-run "$R" s3v:bkt/r
check "the bucket unchanged" unchanged "$S3_DIR" store
check "the state unchanged" unchanged "$NAVETTE_STATE_DIR" state
check "every object would be copied" test "$(summary files)" -eq "$(find "$R/objects" -type f | wc -l)"
nv_done
