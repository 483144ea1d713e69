# hostile_list.sh: a server that would page forever stops the listing (issue 12,
# defect 2). Through the fault proxy in front of s3rver and Azurite: an S3 page
# handing back the continuation token it was asked with, an Azure NextMarker
# given twice, a run of empty truncated pages, and pages whose keys do not
# advance. ls, sync and verify each stop with exit 4 and a message naming the
# listing and the server, after a bounded number of requests (counted in the
# proxy's log), never looping. Each command runs under timeout(1), so the test
# fails rather than hangs when the guard is missing.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
. "$NV_SRCDIR/tests/servers/faultproxy.sh"
nv_faultproxy_s3 bkt
export NAVETTE_STATE_DIR="$NV_TMP/state"
nv() { timeout 120 "$NAVETTE" "$@"; }
host="127.0.0.1:$FP_PORT"

# s3_page FILE KEYS TOKEN: a ListObjectsV2 page, truncated, with these keys
# (space-separated; {{n}} is the proxy's page count) and NextContinuationToken.
s3_page() {
	local k
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n'
		printf '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name>'
		printf '<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>'
		for k in $2; do
			printf '<Contents><Key>%s</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>' "$k"
			printf '<ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><Size>1</Size></Contents>'
		done
		printf '<NextContinuationToken>%s</NextContinuationToken></ListBucketResult>' "$3"
	} >"$1"
}
# s3_rule PREFIX FILE: every page of the listing of PREFIX (not the probe's
# max-keys=1, not the lease's own listing) answered with FILE.
s3_rule() {
	nv_faultproxy_clear_log
	nv_faultproxy_rules "[{\"name\":\"page\",\"method\":\"GET\",\"query\":\"max-keys=1000&prefix=$1\$\",
		\"status\":200,\"body_file\":\"$2\"}]"
}
pages() { nv_faultproxy_count -r page "$1"; }

mkdir -p "$NV_TMP/src"
echo a >"$NV_TMP/src/a"
s3_page "$NV_TMP/same-token.xml" 't/k{{n}}' same
s3_page "$NV_TMP/empty.xml" '' 'tok{{n}}'
s3_page "$NV_TMP/stuck.xml" 't/a t/b' 'tok{{n}}'

# ---- S3, ls ----
s3_rule 't%2F' "$NV_TMP/same-token.xml"
expect_exit 4 "s3 ls: the same continuation token again: exit 4" nv ls s3://bkt/t
expect_err "s3: listing s3://bkt/t/ at $host: page 2 hands back the continuation token 'same' an earlier page gave \(the server would page forever\)" \
	"the message names the listing, the server and the token"
check "2 pages asked for, no more" test "$(pages 'list-type')" -eq 2

s3_rule 't%2F' "$NV_TMP/empty.xml"
expect_exit 4 "s3 ls: empty truncated pages without end: exit 4" nv ls s3://bkt/t
expect_err "s3: listing s3://bkt/t/ at $host: 100 pages in a row hold no key yet say more is to come" \
	"the message says so"
check "100 pages asked for, no more" test "$(pages 'list-type')" -eq 100

s3_rule 't%2F' "$NV_TMP/stuck.xml"
expect_exit 4 "s3 ls: a page whose keys do not advance (new tokens): exit 4" nv ls s3://bkt/t
expect_err "s3: listing s3://bkt/t/ at $host: page 2 lists no key past the previous pages'" \
	"the message says the keys do not advance"
check "2 pages asked for" test "$(pages 'list-type')" -eq 2

# list_sort (s3rver's own order) reads every page before sorting: the same guard.
s3_rule 't%2F' "$NV_TMP/stuck.xml"
expect_exit 4 "s3 ls with list_sort: keys listed before: exit 4" env NAVETTE_LIST_SORT=true \
	timeout 120 "$NAVETTE" ls s3://bkt/t
expect_err "page 2 lists no key past the previous pages'" "same message"
s3_rule 't%2F' "$NV_TMP/same-token.xml"
expect_exit 4 "s3 ls with list_sort: the same token: exit 4" env NAVETTE_LIST_SORT=true \
	timeout 120 "$NAVETTE" ls s3://bkt/t
expect_err "hands back the continuation token 'same'" "same message"

# ---- S3, sync: the destination's listing ----
s3_rule 't%2F' "$NV_TMP/same-token.xml"
expect_exit 4 "s3 sync: the destination pages forever: exit 4" nv sync "$NV_TMP/src" s3://bkt/t
expect_err "s3: listing s3://bkt/t/ at $host: page 2 hands back the continuation token 'same'" \
	"sync's message names the listing and the server"
s3_rule 't%2F' "$NV_TMP/empty.xml"
expect_exit 4 "s3 sync: empty truncated pages: exit 4" nv sync "$NV_TMP/src" s3://bkt/t
expect_err "100 pages in a row hold no key" "says so"

# ---- S3, verify: the vault's objects ----
nv_faultproxy_rules '[]'
nv_keys "$NV_TMP/k" || nv_die "keygen"
expect_exit 0 "init a vault on s3" nv init s3://bkt/v --recipients-file "$NV_TMP/k/id.pub" \
	--signing-key "$NV_TMP/k/sign"
expect_exit 0 "push to it" env NAVETTE_LIST_SORT=true timeout 120 "$NAVETTE" push "$NV_TMP/src" \
	s3://bkt/v --signing-key "$NV_TMP/k/sign"
s3_page "$NV_TMP/objects.xml" 'v/objects/00/x{{n}}' same
s3_rule 'v%2Fobjects%2F' "$NV_TMP/objects.xml"
expect_exit 4 "s3 verify: the objects' listing repeats its token: exit 4" nv verify s3://bkt/v
expect_err "s3: listing s3://bkt/v/objects/ at $host: page 2 hands back the continuation token 'same'" \
	"verify's message names the listing and the server"
nv_faultproxy_rules '[]'
expect_exit 0 "without the fault, verify passes" env NAVETTE_LIST_SORT=true timeout 120 \
	"$NAVETTE" verify s3://bkt/v

# ---- Azure ----
nv_faultproxy_azure plain
# az_page FILE NAMES MARKER: a List Blobs page with these blob names and NextMarker.
az_page() {
	local k
	{
		printf '<?xml version="1.0" encoding="utf-8"?>\n<EnumerationResults ServiceEndpoint="%s/" ContainerName="plain">' "$FP_URL/$AZ_ACCOUNT"
		printf '<MaxResults>5000</MaxResults><Blobs>'
		for k in $2; do
			printf '<Blob><Name>%s</Name><Properties><Last-Modified>Tue, 02 Jan 2024 03:04:05 GMT</Last-Modified>' "$k"
			printf '<Content-Length>1</Content-Length><BlobType>BlockBlob</BlobType></Properties></Blob>'
		done
		printf '</Blobs><NextMarker>%s</NextMarker></EnumerationResults>' "$3"
	} >"$1"
}
az_rule() {
	nv_faultproxy_clear_log
	nv_faultproxy_rules "[{\"name\":\"page\",\"method\":\"GET\",\"query\":\"comp=list&include=metadata&.*prefix=$1(&marker=.*)?\$\",
		\"status\":200,\"body_file\":\"$2\"}]"
}
az_page "$NV_TMP/az-same.xml" 't/k{{n}}' same
az_page "$NV_TMP/az-empty.xml" '' 'mk{{n}}'
az_page "$NV_TMP/az-stuck.xml" 't/a t/b' 'mk{{n}}'
A="az://$AZ_ACCOUNT/plain/t"
ahost="$FP_URL/$AZ_ACCOUNT"

az_rule 't%2F' "$NV_TMP/az-same.xml"
expect_exit 4 "azure ls: the same NextMarker again: exit 4" nv ls "$A"
expect_err "azure: listing plain/t/ at $ahost: page 2 hands back the continuation token 'same' an earlier page gave" \
	"the message names the listing, the server and the marker"
check "2 pages asked for" test "$(pages 'comp=list')" -eq 2
az_rule 't%2F' "$NV_TMP/az-empty.xml"
expect_exit 4 "azure ls: empty pages with a NextMarker without end: exit 4" nv ls "$A"
expect_err "azure: listing plain/t/ at $ahost: 100 pages in a row hold no key" "says so"
check "100 pages asked for" test "$(pages 'comp=list')" -eq 100
az_rule 't%2F' "$NV_TMP/az-stuck.xml"
expect_exit 4 "azure ls: keys that do not advance: exit 4" nv ls "$A"
expect_err "page 2 lists no key past the previous pages'" "says so"
az_rule 't%2F' "$NV_TMP/az-same.xml"
expect_exit 4 "azure sync: the destination pages forever: exit 4" nv sync "$NV_TMP/src" "$A"
expect_err "azure: listing plain/t/ at $ahost: page 2 hands back" "sync's message"
# A few empty pages are legal on Azure: the listing goes on past them.
az_page "$NV_TMP/az-few.xml" '' 'mk{{n}}'
nv_faultproxy_rules "[{\"name\":\"page\",\"method\":\"GET\",\"query\":\"comp=list&include=metadata&.*prefix=t%2F(&marker=.*)?\$\",
	\"times\":3,\"status\":200,\"body_file\":\"$NV_TMP/az-few.xml\"}]"
expect_exit 0 "azure: 3 empty pages, then the real listing: sync works" nv sync "$NV_TMP/src" "$A"
expect_exit 0 "azure ls after it" nv ls "$A"
check "lists the file" grep -q ' a$' "$NV_TMP/out"
nv_done
