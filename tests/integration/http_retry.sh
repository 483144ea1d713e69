# http_retry.sh: what the network and the servers do wrong is retried under the
# one retry policy (util/retry.h), and what stays wrong fails with the right
# exit code (issue 12: defect 4 and the untested failure paths). Through the
# fault proxy in front of s3rver and Azurite, counting requests in its log:
# - a name that does not resolve says "could not resolve host NAME", is tried
#   1 + --retries times, exit 4 (a handle whose resolution failed once refused
#   its next request with "A libcurl function was given a bad argument");
#   a refused connection likewise;
# - S3 503 SlowDown with Retry-After, 500 InternalError, Azure 503 ServerBusy
#   with x-ms-retry-after-ms, a reset and a cut answer, when transient: the run
#   succeeds, the server saw the retries, and the pause was at least what was
#   asked (the gap between the requests as the proxy saw them: a lower bound);
# - the same faults when permanent: the file fails (exit 3), a listing stops
#   the run (exit 4), after exactly 1 + --retries requests;
# - an <Error> inside a 200 from CompleteMultipartUpload is a failure, retried,
#   never a success: once, and the upload completes; always, and the file fails
#   (exit 3) with nothing stored.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
. "$NV_SRCDIR/tests/servers/faultproxy.sh"
nv() { timeout 300 "$NAVETTE" "$@"; }
src=$NV_TMP/src
mkdir -p "$src"
printf 'alpha\n' >"$src/a"
printf 'beta\n' >"$src/b"
# rules JSON: the proxy's rules, its log emptied.
rules() { nv_faultproxy_clear_log; nv_faultproxy_rules "$1"; }
# traced: attempts counted from navette's own side too (NAVETTE_HTTP_TRACE).
attempts() { grep -c "^http: $1: .*$2.*(attempt" "$NV_TMP/err"; }

# ---- a name that does not resolve, a port nobody listens on ----
export AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s AWS_REGION=us-east-1
expect_exit 4 "s3 ls at an unresolvable host: exit 4" \
	env AWS_ENDPOINT_URL=https://nonexistent.invalid NAVETTE_HTTP_TRACE=1 "$NAVETTE" ls s3://bkt/t
expect_err "could not resolve host bkt\.nonexistent\.invalid \(4 attempts\)$" \
	"the message names the real cause and the host, and the attempts"
check "tried 1 + 3 times (--retries default 3), each a resolution" \
	test "$(attempts s3 "Couldn't resolve host name")" -eq 4 -a "$(attempts s3 '')" -eq 4
check "never 'given a bad argument'" sh -c '! grep -q "bad argument" "$1"' sh "$NV_TMP/err"
expect_exit 4 "copy --retries 1: 2 attempts" env AWS_ENDPOINT_URL=https://nonexistent.invalid \
	NAVETTE_HTTP_TRACE=1 "$NAVETTE" copy --retries 1 "$src" s3://bkt/t
check "2 attempts traced" test "$(attempts s3 '')" -eq 2
expect_err "could not resolve host bkt\.nonexistent\.invalid \(2 attempts\)$" "and said"
expect_exit 4 "s3 sync to an unresolvable host: exit 4" \
	env AWS_ENDPOINT_URL=https://nonexistent.invalid "$NAVETTE" sync "$src" s3://bkt/t
expect_err "could not resolve host bkt\.nonexistent\.invalid" "sync names the cause"
expect_exit 4 "azure ls at an unresolvable host: exit 4" env NAVETTE_HTTP_TRACE=1 \
	AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey=$AZ_KEY;BlobEndpoint=https://nonexistent.invalid/devstoreaccount1;" \
	"$NAVETTE" ls az://devstoreaccount1/cnt/t
expect_err "could not resolve host nonexistent\.invalid \(4 attempts\)" "azure names the cause"
check "azure: 4 attempts" test "$(attempts azure '')" -eq 4
dead=$(nv_free_port) || nv_die "no free port"
expect_exit 4 "s3 ls at a port nobody listens on: exit 4" \
	env AWS_ENDPOINT_URL="http://127.0.0.1:$dead" NAVETTE_HTTP_TRACE=1 "$NAVETTE" ls s3://bkt/t
expect_err "127\.0\.0\.1.*$dead.*\(4 attempts\)" "the message names the address and the attempts"
check "a refused connection is tried 4 times" test "$(attempts s3 "Couldn't connect")" -eq 4

# ---- S3 through the proxy ----
nv_faultproxy_s3 bkt
export NAVETTE_HTTP_TRACE=1
# Transient: two 503 SlowDown asking for 2 s, then the server's answer.
rules '[{"name":"slow","method":"PUT","path":"^/bkt/t/a$","preset":"s3-slowdown",
	"headers":{"Retry-After":"2"},"times":2}]'
expect_exit 0 "s3: PUT answered 503 SlowDown twice: the copy succeeds" nv copy "$src" s3://bkt/t
check "the server saw 3 PUTs of a, 2 answered SlowDown" \
	test "$(nv_faultproxy_count '^PUT /bkt/t/a$')" -eq 3 -a "$(nv_faultproxy_count -r slow '^PUT')" -eq 2
check "each pause at least the 2 s Retry-After asked (shortest: $(nv_faultproxy_min_gap '^PUT /bkt/t/a$') ms)" \
	test "$(nv_faultproxy_min_gap '^PUT /bkt/t/a$')" -ge 1900
rules '[{"name":"ie","method":"GET","path":"^/bkt/t/b$","preset":"s3-internal","times":2}]'
expect_exit 0 "s3: GET answered 500 InternalError twice: the copy back succeeds" \
	nv copy s3://bkt/t "$NV_TMP/back1"
check "the bytes are right" diff -r "$src" "$NV_TMP/back1"
check "3 GETs of b, 2 answered 500" test "$(nv_faultproxy_count '^GET /bkt/t/b$')" -eq 3 -a \
	"$(nv_faultproxy_count -r ie '^GET')" -eq 2
rules '[{"name":"rst","method":"PUT","path":"^/bkt/t2/a$","action":"reset","times":1}]'
expect_exit 0 "s3: a reset PUT is sent again" nv copy "$src" s3://bkt/t2
check "the proxy reset 1 PUT of a, it was sent again" \
	test "$(nv_faultproxy_count -r rst '^PUT /bkt/t2/a$')$(nv_faultproxy_count '^PUT /bkt/t2/a$')" = 12
rules '[{"name":"cut","method":"GET","path":"^/bkt/t2/b$","action":"cut","times":1},
	{"name":"busy","method":"GET","query":"max-keys=1000&prefix=t2%2F$","preset":"s3-unavailable","times":1}]'
expect_exit 0 "s3: a listing answered 503 and an answer cut mid-body are asked again" \
	nv copy s3://bkt/t2 "$NV_TMP/back2"
check "the bytes are right" diff -r "$src" "$NV_TMP/back2"
got="$(nv_faultproxy_count '^GET /bkt/t2/b$')$(nv_faultproxy_count 'max-keys=1000&prefix=t2%2F$')"
check "the proxy cut 1 GET and refused 1 listing; each asked again ($got)" test "$got" = 22

# Permanent: every PUT of a refused; --retries 2 gives 3 requests, then exit 3.
rules '[{"name":"slow","method":"PUT","path":"^/bkt/t3/a$","preset":"s3-slowdown","headers":{"Retry-After":"0"}}]'
expect_exit 3 "s3: PUT always 503 SlowDown: that file fails, exit 3" nv copy --retries 2 "$src" s3://bkt/t3
expect_err "s3: PUT s3://bkt/t3/a: 503 SlowDown" "the message names the object and the server's code"
check "exactly 1 + 2 PUTs of a" test "$(nv_faultproxy_count '^PUT /bkt/t3/a$')" -eq 3
check "the other file was copied" grep -q "^PUT /bkt/t3/b 200 " "$FP_LOG"
rules '[{"name":"ie","method":"GET","query":"max-keys=1000&prefix=t%2F$","preset":"s3-internal"}]'
expect_exit 4 "s3: the listing always 500: the run stops, exit 4" nv copy --retries 2 s3://bkt/t "$NV_TMP/none"
expect_err "InternalError" "the server's code is shown"
check "the listing asked exactly 1 + 2 times" test "$(nv_faultproxy_count -r ie 'list-type')" -eq 3

# CompleteMultipartUpload: an <Error> in a 200 (S3 answers 200 before the work
# is done). Once: asked again, the upload completes. Always: the file fails.
mkdir -p "$NV_TMP/big"
head -c 9000000 /dev/urandom >"$NV_TMP/big/big"
inerr='<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>fp</RequestId></Error>'
rules "[{\"name\":\"e200\",\"method\":\"POST\",\"query\":\"^uploadId=\",\"status\":200,\"body\":\"$inerr\",\"times\":1}]"
expect_exit 0 "s3: CompleteMultipartUpload 200 with an <Error> once: asked again, it completes" \
	nv copy "$NV_TMP/big" s3://bkt/m1
check "Complete sent twice, the first answered 200 + <Error>" \
	test "$(nv_faultproxy_count '^POST /bkt/m1/big\?uploadId=')" -eq 2 -a "$(nv_faultproxy_count -r e200 '^POST')" -eq 1
expect_exit 0 "read it back" nv copy s3://bkt/m1 "$NV_TMP/back3"
check "the object is whole" cmp "$NV_TMP/big/big" "$NV_TMP/back3/big"
rules "[{\"name\":\"e200\",\"method\":\"POST\",\"query\":\"^uploadId=\",\"status\":200,\"body\":\"$inerr\"}]"
expect_exit 3 "s3: CompleteMultipartUpload always 200 with an <Error>: the file fails, exit 3" \
	nv copy --retries 2 "$NV_TMP/big" s3://bkt/m2
expect_err "s3: POST \(complete multipart upload\) s3://bkt/m2/big: 200 InternalError" \
	"the message names the object and the error inside the 200"
check "never counted as copied" grep -q " 0 copied.* 1 failed" "$NV_TMP/err"
check "Complete asked exactly 1 + 2 times" test "$(nv_faultproxy_count -r e200 '^POST /bkt/m2/big')" -eq 3
rules '[]'
expect_exit 0 "nothing was stored" nv ls s3://bkt/m2
check "ls is empty" test ! -s "$NV_TMP/out"
# A code that says nothing is to be retried, inside a 200: one request, exit 3.
denied='<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
rules "[{\"name\":\"d200\",\"method\":\"POST\",\"query\":\"^uploadId=\",\"status\":200,\"body\":\"$denied\"}]"
expect_exit 3 "s3: CompleteMultipartUpload 200 with AccessDenied: exit 3" nv copy "$NV_TMP/big" s3://bkt/m3
check "... after one request" test "$(nv_faultproxy_count -r d200 '^POST')" -eq 1

# ---- Azure through the proxy ----
nv_faultproxy_azure plain
A="az://$AZ_ACCOUNT/plain"
rules '[{"name":"busy","method":"PUT","path":"/plain/t/a$","preset":"azure-busy",
	"headers":{"x-ms-retry-after-ms":"1500"},"times":2}]'
expect_exit 0 "azure: Put Blob answered 503 ServerBusy twice: the copy succeeds" nv copy "$src" "$A/t"
check "3 PUTs of a, 2 answered ServerBusy" test "$(nv_faultproxy_count 'PUT /devstoreaccount1/plain/t/a$')" -eq 3 -a \
	"$(nv_faultproxy_count -r busy PUT)" -eq 2
check "each pause at least the 1.5 s x-ms-retry-after-ms asked (shortest: $(nv_faultproxy_min_gap 'PUT /devstoreaccount1/plain/t/a$') ms)" \
	test "$(nv_faultproxy_min_gap 'PUT /devstoreaccount1/plain/t/a$')" -ge 1400
rules '[{"name":"ie","method":"GET","path":"/plain/t/b$","preset":"azure-internal","times":2},
	{"name":"lb","method":"GET","query":"comp=list&include=metadata.*prefix=t%2F(&|$)","preset":"azure-busy","times":1}]'
expect_exit 0 "azure: Get Blob 500 twice and a listing 503 once: the copy back succeeds" \
	nv copy "$A/t" "$NV_TMP/back4"
check "the bytes are right" diff -r "$src" "$NV_TMP/back4"
check "the failed requests were asked again" test "$(nv_faultproxy_count -r ie GET)$(nv_faultproxy_count -r lb GET)" = 21 -a \
	"$(nv_faultproxy_count 'GET /devstoreaccount1/plain/t/b$')" -ge 3
rules '[{"name":"busy","method":"PUT","path":"/plain/t5/a$","preset":"azure-busy","headers":{"x-ms-retry-after-ms":"10"}}]'
expect_exit 3 "azure: Put Blob always 503: that file fails, exit 3" nv copy --retries 2 "$src" "$A/t5"
expect_err "azure: PUT plain/t5/a: HTTP 503 ServerBusy" "the message names the blob and the code"
check "exactly 1 + 2 PUTs" test "$(nv_faultproxy_count -r busy PUT)" -eq 3
rules '[{"name":"ie","method":"GET","query":"comp=list&include=metadata.*prefix=t%2F(&|$)","preset":"azure-internal"}]'
expect_exit 4 "azure: the listing always 500: exit 4" nv copy --retries 2 "$A/t" "$NV_TMP/none"
check "the listing asked exactly 1 + 2 times" test "$(nv_faultproxy_count -r ie GET)" -eq 3
nv_done
