# azure_tls.sh: TLS for real against an Azurite serving https with a certificate
# from a throwaway CA: refused without ca_file, refused on a host name the
# certificate does not name, accepted with it; plain http only on loopback.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
command -v openssl >/dev/null || nv_need "openssl(1)"
tool="$NV_BUILDDIR/tests/driver/azure_tool"

P=$NV_TMP/pki
mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=navette test CA" \
	-keyout "$P/ca.key" -out "$P/ca.pem" 2>/dev/null || nv_die "CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$P/srv.key" -out "$P/srv.csr" 2>/dev/null || nv_die "server key"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$P/ext"
openssl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
	-days 2 -extfile "$P/ext" -out "$P/srv.pem" 2>/dev/null || nv_die "server cert"

nv_start_azurite --cert "$P/srv.pem" --key "$P/srv.key"
NODE_EXTRA_CA_CERTS="$P/ca.pem" nv_azurite_container tls

nv_azurite_remote "$HOME/.config/navette/navette.conf" tls azure
unset AZURE_STORAGE_CONNECTION_STRING SSL_CERT_FILE CURL_CA_BUNDLE

expect_exit 4 "https without ca_file: certificate not trusted" "$tool" tls:tls open
expect_err "certificate" "... and the message says so"
expect_exit 0 "with ca_file: works" env NAVETTE_REMOTE_TLS_CA_FILE="$P/ca.pem" \
	"$tool" tls:tls gen over-tls 300000
cp "$NV_TMP/out" "$NV_TMP/w"
expect_exit 0 "read back over TLS" env NAVETTE_REMOTE_TLS_CA_FILE="$P/ca.pem" \
	"$tool" tls:tls sum over-tls
check "same bytes" cmp -s "$NV_TMP/w" "$NV_TMP/out"
expect_exit 4 "a host name the certificate does not name: refused" \
	env NAVETTE_REMOTE_TLS_CA_FILE="$P/ca.pem" \
	NAVETTE_REMOTE_TLS_ENDPOINT="https://localhost:$AZ_PORT/$AZ_ACCOUNT" "$tool" tls:tls open
expect_exit 8 "plain http to a non-loopback host: refused before connecting" \
	env NAVETTE_REMOTE_TLS_ENDPOINT="http://192.0.2.1:9/$AZ_ACCOUNT" "$tool" tls:tls open
expect_err "http" "... and says why"
nv_done
