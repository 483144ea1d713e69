# leftovers_s3.sh: a sync to S3 killed during a multipart upload leaves an
# incomplete upload (billed, and no listing of objects shows it). s3rver has
# neither ListMultipartUploads nor AbortMultipartUpload (501, 405): against it
# the next sync goes on and says, with -vv only, why it could not look. Our
# test server's addition of those two calls (tests/servers/s3rver.js,
# S3RVER_UPLOADS=1, after Amazon's API reference) lets the next sync, holding
# the lease, abort the upload and say so; the data is whole.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v jq >/dev/null || nv_need "jq"
export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_REGION=us-east-1
export NAVETTE_LIST_SORT=true NAVETTE_CONDITIONAL_WRITES=false NAVETTE_PART_SIZE=5M
export NAVETTE_STATE_DIR="$NV_TMP/state"
unset AWS_SESSION_TOKEN NAVETTE_HTTP_TRACE NAVETTE_FAULT
S=$NV_TMP/src
mkdir -p "$S"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$S/big"
echo small >"$S/a"
# pending: the incomplete uploads in s3rver's own store, one line each.
pending() { find "$S3_DIR/bkt/._S3rver_uploads" -mindepth 1 -maxdepth 1 -type d 2>/dev/null; }

# killed_sync DST: a sync killed once its multipart upload is under way.
killed_sync() {
	expect_exit 137 "a sync to $1 killed mid-upload" env NAVETTE_FAULT=write@12=kill \
		"$NAVETTE" sync --transfers 1 "$S" "$1"
	check "it left an incomplete upload" test "$(pending | wc -l)" -eq 1
	expect_exit 0 "unlock (the dead run's lease)" "$NAVETTE" unlock --remove-all "$1"
}

# ---- s3rver as it is: nothing to list with, the run goes on ----
nv_start_s3rver bkt
export AWS_ENDPOINT_URL="$S3_ENDPOINT"
killed_sync s3://bkt/d1
expect_exit 0 "the next sync" "$NAVETTE" -vv sync "$S" s3://bkt/d1
expect_err "^navette: not cleaning up s3://bkt/d1: s3: GET \(list multipart uploads\) s3://bkt/d1/: 501 NotImplemented" \
	"it says (-vv) that the server cannot list incomplete uploads"
check "no warning" test -z "$(grep -e 'warning' -e 'removed' -e 'aborted' "$NV_TMP/err")"
"$NAVETTE" copy s3://bkt/d1 "$NV_TMP/back1" 2>/dev/null
check "the data is whole" cmp -s "$S/big" "$NV_TMP/back1/big"
nv_stop_s3rver

# ---- with ListMultipartUploads and AbortMultipartUpload ----
S3RVER_UPLOADS=1 nv_start_s3rver bkt
export AWS_ENDPOINT_URL="$S3_ENDPOINT"
killed_sync s3://bkt/d2
expect_exit 0 "the next sync" "$NAVETTE" sync --log-json "$S" s3://bkt/d2
check "it aborted the upload" test -z "$(pending)"
jq -c 'select(.event == "cleanup")' "$NV_TMP/err" >"$NV_TMP/cleanup.json"
check "one JSON cleanup event" test "$(jq -c '[.aborted_uploads, .removed, .kept, .failed]' \
	"$NV_TMP/cleanup.json")" = "[1,0,0,0]"
check "its message says so" test "$(jq -r .msg "$NV_TMP/cleanup.json")" = \
	"aborted 1 incomplete upload left by interrupted runs in s3://bkt/d2"
"$NAVETTE" copy s3://bkt/d2 "$NV_TMP/back2" 2>/dev/null
check "the data is whole" cmp -s "$S/big" "$NV_TMP/back2/big"
# An upload outside the location is not its business.
killed_sync s3://bkt/d3
expect_exit 0 "a sync elsewhere in the bucket" "$NAVETTE" sync "$S" s3://bkt/d2
check "leaves it alone" test "$(pending | wc -l)" -eq 1
expect_exit 0 "a sync there" "$NAVETTE" sync "$S" s3://bkt/d3
check "aborts it" test -z "$(pending)"
# Nor one below another location's root (a prefix with a lease of its own).
expect_exit 137 "a sync to s3://bkt/d4/inner killed mid-upload" env NAVETTE_FAULT=write@12=kill \
	"$NAVETTE" sync --transfers 1 "$S" s3://bkt/d4/inner
check "it left an incomplete upload, and its lease" test "$(pending | wc -l)" -eq 1 -a \
	-n "$(find "$S3_DIR/bkt/d4/inner/navette-lease" -type f 2>/dev/null)"
expect_exit 0 "a sync to the prefix above it" "$NAVETTE" sync "$S" s3://bkt/d4
check "leaves the inner location's upload alone" test "$(pending | wc -l)" -eq 1
expect_exit 0 "unlock the inner location" "$NAVETTE" unlock --remove-all s3://bkt/d4/inner
expect_exit 0 "a sync to it" "$NAVETTE" sync "$S" s3://bkt/d4/inner
check "aborts it" test -z "$(pending)"
nv_done
