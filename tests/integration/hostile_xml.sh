# hostile_xml.sh: hostile XML from a server (a DTD with an exponential entity,
# an external entity, nesting 100,000 deep, a 1 MiB element) is the server's
# fault, not the user's configuration (issue 12, defect 9): a listing that gets
# it stops with exit 4 (not 2) and a message naming the listing and the
# server; a CreateMultipartUpload answered with it fails that file (exit 3)
# with the server named. Served through the fault proxy in front of s3rver and
# Azurite; each command under timeout(1), so that an entity expansion eating
# the machine fails the test rather than hanging it.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
. "$NV_SRCDIR/tests/servers/faultproxy.sh"
nv_faultproxy_s3 bkt
nv() { timeout 120 "$NAVETTE" "$@"; }
host="127.0.0.1:$FP_PORT"

# The documents, each with the root element ROOT (ListBucketResult, ...).
X=$NV_TMP/xml
mkdir -p "$X"
# mkdocs ROOT: $X/ROOT.{laughs,external,deep,long}.xml
mkdocs() {
	local r=$1 i
	{
		printf '<?xml version="1.0"?>\n<!DOCTYPE %s [\n<!ENTITY l0 "lol">\n' "$r"
		for i in 1 2 3 4 5 6 7 8 9; do
			printf '<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">\n' \
				"$i" $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) $((i - 1)) \
				$((i - 1)) $((i - 1)) $((i - 1)) $((i - 1))
		done
		printf ']>\n<%s><Name>&l9;</Name></%s>\n' "$r" "$r"
	} >"$X/$r.laughs.xml"
	printf '<?xml version="1.0"?>\n<!DOCTYPE %s [<!ENTITY x SYSTEM "file:///etc/passwd">]><%s><Name>&x;</Name></%s>\n' \
		"$r" "$r" "$r" >"$X/$r.external.xml"
	{
		printf '<?xml version="1.0"?>\n<%s>' "$r"
		yes '<a>' | head -n 100000 | tr -d '\n'
		yes '</a>' | head -n 100000 | tr -d '\n'
		printf '</%s>\n' "$r"
	} >"$X/$r.deep.xml"
	{
		printf '<?xml version="1.0"?>\n<%s><Name>' "$r"
		head -c 1048576 /dev/zero | tr '\0' x
		printf '</Name></%s>\n' "$r"
	} >"$X/$r.long.xml"
}
mkdocs ListBucketResult
mkdocs EnumerationResults
mkdocs InitiateMultipartUploadResult
# serve QUERY FILE: the GETs whose query matches answered 200 with FILE.
serve() {
	nv_faultproxy_clear_log
	nv_faultproxy_rules "[{\"name\":\"bad\",\"method\":\"${3:-GET}\",\"query\":\"$1\",\"status\":200,\"body_file\":\"$2\"}]"
}
mkdir -p "$NV_TMP/src"
echo a >"$NV_TMP/src/a"

# ---- S3 listings ----
for kind in laughs external deep long; do
	case $kind in
	laughs|external) why="XML with a DTD refused" ;;
	deep) why="XML nested too deeply" ;;
	long) why="XML element text too long" ;;
	esac
	serve 'max-keys=1000&prefix=t%2F$' "$X/ListBucketResult.$kind.xml"
	expect_exit 4 "s3 ls: a listing page with $kind XML: exit 4" nv ls s3://bkt/t
	expect_err "s3: listing s3://bkt/t/ at $host: its answer is refused: $why" \
		"the message names the listing, the server and the refusal"
done
check "it was asked once: refusing is not retried" test "$(nv_faultproxy_count -r bad 'list-type')" -eq 1
serve 'max-keys=1000&prefix=t%2F$' "$X/ListBucketResult.laughs.xml"
expect_exit 4 "s3 sync: the destination's listing has a DTD: exit 4" nv sync "$NV_TMP/src" s3://bkt/t
expect_err "s3: listing s3://bkt/t/ at $host: its answer is refused: XML with a DTD refused" \
	"sync's message names the server"
# The probe of the bucket at open reads only the status, never the body.
serve 'max-keys=1&' "$X/ListBucketResult.laughs.xml"
expect_exit 0 "the open's probe ignores its body" nv ls s3://bkt/t

# ---- S3 CreateMultipartUpload (a file over one 8 MiB part) ----
head -c 9000000 /dev/urandom >"$NV_TMP/src/big"
serve '^uploads=$' "$X/InitiateMultipartUploadResult.laughs.xml" POST
expect_exit 3 "s3 copy: CreateMultipartUpload answered with a DTD: that file fails (exit 3)" \
	nv copy "$NV_TMP/src" s3://bkt/m
expect_err "s3: CreateMultipartUpload of big at $host: its answer is refused: XML with a DTD refused" \
	"the message names the file and the server"
rm "$NV_TMP/src/big"

# ---- Azure listings ----
nv_faultproxy_azure plain
A="az://$AZ_ACCOUNT/plain/t"
for kind in laughs external deep long; do
	case $kind in
	laughs|external) why="XML with a DTD refused" ;;
	deep) why="XML nested too deeply" ;;
	long) why="XML element text too long" ;;
	esac
	serve 'comp=list&include=metadata.*prefix=t%2F(&|$)' "$X/EnumerationResults.$kind.xml"
	expect_exit 4 "azure ls: a listing page with $kind XML: exit 4" nv ls "$A"
	expect_err "azure: listing plain/t/ at $FP_URL/$AZ_ACCOUNT: its answer is refused: $why" \
		"the message names the listing, the server and the refusal"
done
serve 'comp=list&include=metadata.*prefix=t%2F(&|$)' "$X/EnumerationResults.deep.xml"
expect_exit 4 "azure sync: the destination's listing nests too deep: exit 4" nv sync "$NV_TMP/src" "$A"
expect_err "azure: listing plain/t/ at $FP_URL/$AZ_ACCOUNT: its answer is refused" "sync's message"
nv_faultproxy_rules '[]'
expect_exit 0 "without the proxy's faults, the same sync works" nv sync "$NV_TMP/src" "$A"
nv_done
