# publish_s3.sh: a sharded push to a vault on S3 (s3rver) and its publication:
# 3 shards from shard hosts holding K_id and no key (the vault pinned with
# --signing-pubkey), one missing shard refused, then publish: the generation
# pulls identical, verifies deep, and its catalog (the vault copied out, read
# with stock age) equals a single push's; the run's folder is gone from the
# bucket. The tree is the awkward one less the names S3 or s3rver cannot
# carry (see shard_s3.sh), with 200 small files.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v jq >/dev/null || nv_need "jq"
command -v age >/dev/null || nv_need "age"
nv_start_s3rver bkt
nv_s3rver_env
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0
unset NAVETTE_SIGNING_KEY NAVETTE_IDENTITY

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
T="$NV_TMP/tree"
nv_awkward_tree "$T"
rm "$T/"$'bad\xffutf8' "$T/glob*?[x]/\$dollar&amp;" "$T/quote'single" "$T/with space/trailing " \
	"$T/$(printf 'L%.0s' $(seq 1 255))"
rmdir "$T/glob*?[x]"
nv_small_tree "$T/small" 200
S=(--signing-key "$K/sign")
V=s3://bkt/v

catalog_of() { nv_catalog_files "$1" "$K/id.txt"; }

"$NAVETTE" init "$NV_TMP/single" --recipients-file "$K/id.pub" "${S[@]}" >/dev/null 2>&1 || nv_die "init single"
"$NAVETTE" push "$T" "$NV_TMP/single" "${S[@]}" 2>/dev/null || nv_die "single push"
catalog_of "$NV_TMP/single" >"$NV_TMP/single.cat"

expect_exit 0 "init on S3" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" "${S[@]}"
vid=$(sed -n 's/.*created vault \([0-9a-f]*\) at.*/\1/p' "$NV_TMP/err")
SH="$NV_TMP/shardstate"
mkdir -p "$SH/push/$vid" && chmod -R 700 "$SH"
cp "$NAVETTE_STATE_DIR/push/$vid/kid" "$SH/push/$vid/kid"
shard() { env -i PATH="$PATH" HOME="$NV_TMP" NAVETTE_STATE_DIR="$SH" NAVETTE_LEASE_SETTLE_MS=0 \
	AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_ENDPOINT_URL="$S3_ENDPOINT" \
	AWS_REGION=us-east-1 NAVETTE_LIST_SORT=true NAVETTE_CONDITIONAL_WRITES=false \
	"$NAVETTE" push --shard "$1/3" --run s3run "$T" "$V" --signing-pubkey "$K/sign.pub"; }

expect_exit 0 "publish --prepare on S3" "$NAVETTE" publish "$V" --prepare --run s3run "${S[@]}"
expect_exit 0 "shard 0/3" shard 0
expect_exit 0 "shard 2/3" shard 2
expect_exit 4 "publish with shard 1 missing" "$NAVETTE" publish "$V" --run s3run "${S[@]}"
expect_err "run s3run: 1 of 3 shards have not written their partial catalog: 1/3" "names it"
expect_exit 0 "shard 1/3" shard 1
check "the shard state holds no private key" test -z "$(grep -rlE 'PRIVATE KEY|AGE-SECRET-KEY' "$SH")"
expect_exit 0 "publish" "$NAVETTE" publish "$V" --run s3run "${S[@]}"
expect_err "^navette: published generation 1 from 3 shards of run s3run: $(wc -l <"$NV_TMP/single.cat") files" \
	"one generation of every file"
expect_exit 0 "the run's folder is gone" "$NAVETTE" ls "$V/runs"
check "nothing listed there" test ! -s "$NV_TMP/out"
expect_exit 0 "pull from S3" "$NAVETTE" pull "$V" "$NV_TMP/back" --identity "$K/id.txt"
check "the pull is the tree" diff -r "$T" "$NV_TMP/back"
expect_exit 0 "verify --level deep" "$NAVETTE" verify --level deep "$V" --identity "$K/id.txt"
expect_exit 0 "the vault copied out" "$NAVETTE" sync "$V" "$NV_TMP/copy"
catalog_of "$NV_TMP/copy" >"$NV_TMP/s3.cat"
check "its catalog is the single push's (path, size, SHA-256, mode, mtime)" \
	diff "$NV_TMP/single.cat" "$NV_TMP/s3.cat"
nv_done
