# shard_s3.sh: sharded sync and check to and from S3 (s3rver): 3 shards of one
# run copy the awkward tree (less its name that is not UTF-8, which S3 cannot
# hold, and four that s3rver mangles: it escapes '&' and "'" twice in its
# listings, trims a key's trailing space in DeleteObjects, and keeps each
# object in a file named key + 15 bytes) each file once; two shards hold the bucket's lease together while an
# unsharded sync is refused; 3 shards of sync --delete back from S3 refuse
# alike and, allowed, delete what the bucket lacks.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/shard.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
nv_start_s3rver bkt
nv_s3rver_env
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0

A="$NV_TMP/awkward"
nv_awkward_tree "$A"
rm "$A/"$'bad\xffutf8' "$A/glob*?[x]/\$dollar&amp;" "$A/quote'single" "$A/with space/trailing " \
	"$A/$(printf 'L%.0s' $(seq 1 255))"
rmdir "$A/glob*?[x]"
nv_tree_paths "$A" >"$NV_TMP/A.paths"

nv_shards sync 3 s3-run "$A" s3://bkt/t
nv_shards_once "3 shards to S3" copied "$NV_TMP/A.paths" "every file copied once"
nv_shards check 3 s3-check "$A" s3://bkt/t
check "3 shards of check: no difference" nv_all_exit 0
check "their identical files add up" test "$(nv_summed identical)" -eq "$(wc -l <"$NV_TMP/A.paths")"
expect_exit 0 "the bucket, read back whole" "$NAVETTE" sync s3://bkt/t "$NV_TMP/back"
check "is the tree" diff -r "$A" "$NV_TMP/back"

# ---- one run's shards hold the bucket's lease together ----
L="$NV_TMP/slow"
mkdir -p "$L"
for i in $(seq 1 16); do head -c 65536 /dev/urandom >"$L/f$i"; done
leases() { "$NAVETTE" ls s3://bkt/l/navette-lease 2>/dev/null | grep -c '\.json$'; }
for k in 0 1; do
	"$NAVETTE" sync --shard "$k/2" --run together --bwlimit 64K "$L" s3://bkt/l 2>"$NV_TMP/lock.$k" &
	eval "pid$k=$!"
done
nv_at_exit "kill $pid0 $pid1"
for _ in $(seq 1 100); do [ "$(leases)" -eq 2 ] && break; sleep 0.1; done
check "both shards hold the lease at once" test "$(leases)" -eq 2
expect_exit 4 "an unsharded sync is refused meanwhile" "$NAVETTE" sync "$L" s3://bkt/l
expect_err "^navette: error: s3://bkt/l is locked by .* \(sync shared lease of run together, started " \
	"naming the run's shared lease"
wait "$pid0"; rc0=$?; wait "$pid1"; rc1=$?
check "neither shard was refused (exit $rc0 and $rc1)" test "$rc0$rc1" = 00
expect_exit 0 "together they copied the tree" "$NAVETTE" check "$L" s3://bkt/l

# ---- sync --delete from S3 in shards: the guard on the whole listings ----
A2="$NV_TMP/fewer"
cp -a "$A" "$A2"
rm -r "$A2/d1" "$A2/utf8" "$A2/with space" "$A2/a"
"$NAVETTE" -q sync --delete --max-delete 100% "$A2" s3://bkt/t || nv_die "shrinking the bucket"
D="$NV_TMP/back"
for k in 0 1 2; do
	expect_exit 4 "shard $k/3 of sync --delete back refuses" \
		"$NAVETTE" sync --delete --shard "$k/3" --run back s3://bkt/t "$D"
	expect_err "^navette: error: sync --delete refused: 16 of the 29 files at $D \(55%\) would be deleted, more than 50%" \
		"with the whole tree's counts"
done
nv_shards sync 3 back2 --delete --max-delete 16 s3://bkt/t "$D"
check "allowed: every shard exits 0" nv_all_exit 0
check "together they deleted 16 files, each once" \
	test "$(nv_json_paths deleted "$NV_TMP"/log.* | uniq | wc -l)" -eq 16 -a \
	"$(nv_json_paths deleted "$NV_TMP"/log.* | wc -l)" -eq 16
check "the directory is the bucket" diff -r "$A2" "$D"
nv_done
