# s3_tls.sh: the HTTP plumbing's TLS checks, for real, against s3rver serving https
# with a certificate from a throwaway CA: refused without the CA, refused on a host
# name mismatch, accepted with ca_file (or AWS_CA_BUNDLE), multipart workers included.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v openssl >/dev/null || nv_need "openssl (to make a test CA)"
tool="$NV_BUILDDIR/tests/driver/azure_tool"
pki="$NV_TMP/pki"; mkdir -p "$pki"
(
	cd "$pki" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
		-subj "/CN=navette test CA" &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost" &&
	printf 'subjectAltName=DNS:localhost\n' >ext &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
		-days 2 -extfile ext
) >"$NV_TMP/pki.log" 2>&1 || { cat "$NV_TMP/pki.log"; nv_die "cannot make the test CA"; }

S3RVER_KEY="$pki/srv.key" S3RVER_CERT="$pki/srv.pem" nv_start_s3rver bkt
export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="https://localhost:$S3_PORT" NAVETTE_RETRIES=0
unset AWS_CA_BUNDLE AWS_SESSION_TOKEN

expect_exit 2 "without the CA: refused" "$NAVETTE" ls s3://bkt/
expect_err "TLS certificate not trusted" "the message says why"
expect_exit 0 "with ca_file: accepted" env NAVETTE_CA_FILE="$pki/ca.pem" "$NAVETTE" ls s3://bkt/
expect_exit 0 "with AWS_CA_BUNDLE: accepted" env AWS_CA_BUNDLE="$pki/ca.pem" "$NAVETTE" ls s3://bkt/
expect_exit 2 "host name mismatch (cert for localhost, URL 127.0.0.1): refused" \
	env NAVETTE_CA_FILE="$pki/ca.pem" AWS_ENDPOINT_URL="https://127.0.0.1:$S3_PORT" \
	"$NAVETTE" ls s3://bkt/
expect_err "TLS certificate not trusted" "the message says why"
export NAVETTE_CA_FILE="$pki/ca.pem"
"$tool" s3://bkt gen tls/12m $((12 << 20)) >"$NV_TMP/w.sum" 2>"$NV_TMP/err"
check "12 MiB over TLS, parts uploaded by the workers' own connections" test -s "$NV_TMP/w.sum"
check "read back identical" sh -c '[ "$("$1" s3://bkt sum tls/12m)" = "$(cat "$2")" ]' \
	sh "$tool" "$NV_TMP/w.sum"
nv_done
