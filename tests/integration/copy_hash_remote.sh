# copy_hash_remote.sh: what S3 and Azure destinations confirm of a copy (issue
# 12, defect 10), with the fault proxy (tests/servers/faultproxy.js) flipping
# one byte of an upload body in flight. Every copied item carries sha256sum's
# SHA-256 of the source and what the destination confirmed.
# Azure (Azurite) checks Content-MD5: a damaged Put Blob or Put Block is
# refused (400 Md5Mismatch, seen in the proxy's log) and sent again, the copy
# ends whole (exit 0); damaged at every try, the file fails (exit 3), nothing
# stored. s3rver checks neither Content-MD5 nor the signed SHA-256: it stores
# the damaged bytes, its ETag then is not our MD5 (confirmed "size" only), and
# --verify reread catches it: exit 1, a "mismatch" event, the object removed,
# recopied whole by the next run. Real S3 refuses such a body (BadDigest,
# XAmzContentSHA256Mismatch): the proxy answers that once, and it is sent again.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/hashlog.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
. "$NV_SRCDIR/tests/servers/faultproxy.sh"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN \
	AZURE_STORAGE_CONNECTION_STRING

S=$NV_TMP/src
mkdir -p "$S/d"
head -c 200000 /dev/urandom >"$S/small"    # one PUT, one Put Blob
head -c 11000000 /dev/urandom >"$S/d/big"  # S3: 3 parts of 5 MiB; Azure: 3 blocks of 4 MiB
echo é >"$S/d/é t"
small_sha=$(sha256sum "$S/small" | cut -d' ' -f1)
big_sha=$(sha256sum "$S/d/big" | cut -d' ' -f1)
# back NAME LOCATION: the destination copied back to $NV_TMP/NAME (no fault then).
back() {
	rm -rf "${NV_TMP:?}/$1"
	nv_faultproxy_rules '[]'
	"$NAVETTE" -q copy "$2" "$NV_TMP/$1" && diff -r -x navette-lease "$S" "$NV_TMP/$1"
}
# confirmed FILE: "confirmed  path" of each copied item.
confirmed() { nv_json_items "$1" copied confirmed; }

# ---------------- S3: s3rver behind the proxy ----------------
nv_start_s3rver bkt
nv_start_faultproxy "$S3_ENDPOINT"
S3_FP=$FP_PID
cat >"$NV_TMP/navette.conf" <<EOC
[s3p]
type = s3
endpoint = $FP_URL
region = us-east-1
access_key_id = $S3_KEY
secret_access_key = $S3_SECRET
conditional_writes = false
part_size = 5M
EOC
chmod 600 "$NV_TMP/navette.conf"
export NAVETTE_CONFIG=$NV_TMP/navette.conf

expect_exit 0 "s3: copy, no fault" "$NAVETTE" -v --log-json copy "$S" s3p:bkt/a
cp "$NV_TMP/err" "$NV_TMP/s3a.jsonl"
nv_json_same_sha "s3: each item's sha256 is sha256sum's" "$NV_TMP/s3a.jsonl" "$S"
check "s3: ETags equal to the MD5s sent: size and MD5 confirmed, single PUT and multipart" \
	test "$(confirmed "$NV_TMP/s3a.jsonl" | cut -d' ' -f1 | uniq)" = size+md5
check "s3: the summary counts them" test \
	"$(nv_json_summary "$NV_TMP/s3a.jsonl" hashed size_confirmed md5_confirmed reread)" = "3 3 3 0"
check "s3: 3 parts for big" test "$(nv_faultproxy_count '^PUT /bkt/a/d/big\?partNumber=')" = 3

# One byte of the single PUT flipped: s3rver stores it. Without --verify reread
# only the ETag shows it (md5 not confirmed); with it, the run fails (exit 1).
nv_faultproxy_rules '[{"name":"flip","method":"PUT","path":"^/bkt/b/small$","action":"corrupt_request","times":1}]'
expect_exit 0 "s3: a damaged PUT, no read back: not caught (s3rver checks no digest)" \
	"$NAVETTE" -v --log-json copy "$S" s3p:bkt/b
check "s3: ... but its MD5 is not confirmed" grep -q '"path":"small",.*"confirmed":"size"}' "$NV_TMP/err"
check "s3: the proxy flipped that PUT" test "$(nv_faultproxy_count -r flip '^PUT /bkt/b/small$')" = 1

nv_faultproxy_rules '[{"name":"flip","method":"PUT","path":"^/bkt/c/small$","action":"corrupt_request","times":1},
 {"name":"flip2","method":"PUT","path":"^/bkt/c/d/big$","query":"partNumber=2&","action":"corrupt_request","times":1}]'
expect_exit 1 "s3: damaged PUT and part, --verify reread: exit 1" \
	"$NAVETTE" -v --log-json copy --verify reread "$S" s3p:bkt/c
cp "$NV_TMP/err" "$NV_TMP/s3c.jsonl"
check "s3: a mismatch event for each, with the SHA-256 sent" test \
	"$(nv_json_items "$NV_TMP/s3c.jsonl" mismatch sha256)" = \
	"$(printf '%s  d/big\n%s  small\n' "$big_sha" "$small_sha" | LC_ALL=C sort)"
expect_err '"action":"mismatch","path":"small",.*"reason":"read back, the stored copy \(200000 bytes, SHA-256 [0-9a-f]{64}\) differs from the bytes sent \(200000, SHA-256 '"$small_sha"'\): removed it' \
	"s3: the reason names both SHA-256 and the removal"
check "s3: the summary: 1 copied and read back, 2 failed verification" test \
	"$(nv_json_summary "$NV_TMP/s3c.jsonl" files reread mismatched failed exit)" = "1 1 2 0 1"
check "s3: both removed (DELETE through the proxy)" test \
	"$(nv_faultproxy_count '^DELETE /bkt/c/(small|d/big)$')" = 2
expect_exit 0 "s3: the next run copies them again" "$NAVETTE" --log-json copy --verify reread "$S" s3p:bkt/c
check "s3: 2 copied, read back" test "$(nv_json_summary "$NV_TMP/err" files reread unchanged)" = "2 2 1"
check "s3: whole now" back s3c s3p:bkt/c
# What real S3 answers a damaged body (BadDigest; the proxy plays it, once per
# request kind): sent again, whole.
nv_faultproxy_rules '[{"name":"bd","method":"PUT","path":"^/bkt/e/small$","status":400,"times":1,
  "body":"<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what we received.</Message></Error>"},
 {"name":"sha","method":"PUT","path":"^/bkt/e/d/big$","query":"partNumber=3&","status":400,"times":1,
  "body":"<Error><Code>XAmzContentSHA256Mismatch</Code><Message>The provided x-amz-content-sha256 header does not match what was computed.</Message></Error>"}]'
expect_exit 0 "s3: BadDigest and XAmzContentSHA256Mismatch: sent again" "$NAVETTE" copy "$S" s3p:bkt/e
check "s3: each refused once, then landed" test "$(nv_faultproxy_count -r bd '^PUT /bkt/e/small$') \
$(nv_faultproxy_count -r - '^PUT /bkt/e/small$') $(nv_faultproxy_count -r sha '^PUT /bkt/e/d/big\?partNumber=3&') \
$(nv_faultproxy_count -r - '^PUT /bkt/e/d/big\?partNumber=3&')" = "1 1 1 1"
check "s3: whole" back s3e s3p:bkt/e
nv_stop_faultproxy "$S3_FP"

# ---------------- Azure: Azurite behind the proxy ----------------
nv_start_azurite
nv_azurite_container plain
nv_start_faultproxy "http://127.0.0.1:$AZ_PORT"
cat >"$NV_TMP/navette.conf" <<EOC
[azp]
type = azure
account = $AZ_ACCOUNT
key = $AZ_KEY
endpoint = $FP_URL/$AZ_ACCOUNT
EOC
A=azp:plain

nv_faultproxy_rules '[{"name":"flip","method":"PUT","path":"^/devstoreaccount1/plain/a/small$","action":"corrupt_request","times":1},
 {"name":"flipb","method":"PUT","path":"^/devstoreaccount1/plain/a/d/big$","query":"comp=block&","action":"corrupt_request","skip":1,"times":1}]'
expect_exit 0 "azure: a damaged Put Blob and Put Block are sent again" "$NAVETTE" -v --log-json copy "$S" "$A/a"
cp "$NV_TMP/err" "$NV_TMP/aza.jsonl"
check "azure: Azurite refused each damaged body (400), the second try landed" test \
	"$(grep -c ' 400 flip [0-9]*$' "$FP_LOG") $(grep -c '^PUT /devstoreaccount1/plain/a/small 201 - [0-9]*$' "$FP_LOG")" = "1 1"
check "azure: ... the block too" test "$(grep -c 'comp=block.* 400 flipb [0-9]*$' "$FP_LOG")" = 1
nv_json_same_sha "azure: each item's sha256 is sha256sum's" "$NV_TMP/aza.jsonl" "$S"
check "azure: size and MD5 confirmed" test "$(confirmed "$NV_TMP/aza.jsonl" | cut -d' ' -f1 | uniq)" = size+md5
check "azure: whole" back aza "$A/a"

nv_faultproxy_rules '[{"name":"flip","method":"PUT","path":"^/devstoreaccount1/plain/b/small$","action":"corrupt_request"}]'
expect_exit 3 "azure: damaged at every try: the file fails (exit 3)" "$NAVETTE" --log-json copy "$S" "$A/b"
# (Azure says Md5Mismatch; Azurite InvalidOperation with this message.)
expect_err '"action":"failed","path":"small","reason":"azure: PUT plain/b/small: HTTP 400 InvalidOperation: Provided contentMD5 doesn.t match' \
	"azure: the failure names the refused MD5"
check "azure: tried 4 times (--retries 3)" test "$(nv_faultproxy_count -r flip '^PUT /devstoreaccount1/plain/b/small$')" = 4
nv_faultproxy_rules '[]'
expect_exit 0 "azure: nothing of small was stored" "$NAVETTE" ls "$A/b"
check "azure: ... the other two are" test "$(grep -c ' d/' "$NV_TMP/out")" = 2
nv_done
