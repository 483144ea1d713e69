# azure.sh: the azure driver against Azurite: the conformance suite (URL and
# named-remote forms, Shared Key and SAS), then what only Azure needs: paging
# past 5,000, a 300 MiB blob through blocks, ranged reads, wrong key (auth error,
# no retry), missing container, names with spaces and unicode, secrets never shown.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
conf="$NV_BUILDDIR/tests/driver/nv-conformance"
tool="$NV_BUILDDIR/tests/driver/azure_tool"

nv_start_azurite
nv_azurite_container conformance
nv_azurite_container bulk
CS="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"

# URL form, credentials and endpoint from the connection string in the environment.
check "conformance: az:// URL, Shared Key from AZURE_STORAGE_CONNECTION_STRING" \
	env AZURE_STORAGE_CONNECTION_STRING="$CS" "$conf" "az://$AZ_ACCOUNT/conformance/url"

# Named remote in a config file: the remote's own keys, nothing from the environment.
nv_azurite_remote "$HOME/.config/navette/navette.conf" azr azure "upload_concurrency = 3"
check "conformance: NAME:container/prefix, account/key/endpoint from the remote" \
	"$conf" "azr:conformance/named/deeper"

az() { "$tool" "azr:$1" "${@:2}"; }

# ---- names with spaces and unicode, mtime kept ----
expect_exit 0 "write a unicode name with spaces" az bulk gen "dir a/é ü/日本 語.txt" 1000 1700000000
expect_exit 0 "stat it" az bulk stat "dir a/é ü/日本 語.txt"
check "size, mtime (ns) and mode come back" grep -q $'^1000\t1700000000.123456789\tM640$' "$NV_TMP/out"
expect_exit 0 "list it" az bulk ls "dir a/"
check "listed with its name, mtime and mode" \
	grep -q $'^dir a/é ü/日本 語.txt\t1000\t1700000000.123456789\tM640$' "$NV_TMP/out"

# ---- ranged reads ----
az bulk gen ranged 100000 >"$NV_TMP/full"
az bulk sum ranged 0 100000 >"$NV_TMP/r1"
check "whole read matches what was written" cmp -s "$NV_TMP/full" "$NV_TMP/r1"
expect_exit 0 "read 1000 bytes at 99500 (crosses the end)" az bulk sum ranged 99500 1000
check "... gets the last 500" grep -q " 500$" "$NV_TMP/out"
expect_exit 0 "read at EOF" az bulk sum ranged 100000 10
check "... gets 0 bytes" grep -q " 0$" "$NV_TMP/out"
expect_exit 0 "read past EOF" az bulk sum ranged 200000 10
check "... gets 0 bytes" grep -q " 0$" "$NV_TMP/out"
NAVETTE_HTTP_TRACE=1 az bulk sum ranged 0 100000 7777 >"$NV_TMP/r2" 2>"$NV_TMP/err"
check "odd-sized ranged reads reassemble the object" cmp -s "$NV_TMP/full" "$NV_TMP/r2"
# a plain Get Blob cut off after the first read, then one kept open for the rest
check "... from two Get Blob (whole, then kept open)" test "$(grep -c 'GET .*/ranged ->' "$NV_TMP/err")" -eq 2
az bulk gen small 5000 >/dev/null
NAVETTE_HTTP_TRACE=1 az bulk sum small 0 5000 1048576 >/dev/null 2>"$NV_TMP/err"
check "a small blob: one Get Blob, on the kept-alive connection" \
	test "$(grep -c 'GET .*/small ->' "$NV_TMP/err")" -eq 1 -a "$(grep -c 'stream' "$NV_TMP/err")" -eq 0

# ---- a source that grows past the size it announced ----
# Announced smaller than a block, the writer plans one Put Blob and takes only the
# whole MD5; once more bytes come, each block must still get its own Content-MD5.
expect_exit 0 "write 300 KiB announced as 50 KiB, in 64 KiB blocks" env NAVETTE_REMOTE_AZR_BLOCK_SIZE=64K \
	"$tool" azr:bulk gen grew 307200 declared=51200
cp "$NV_TMP/out" "$NV_TMP/grew.gen"
az bulk sum grew >"$NV_TMP/grew.sum"
check "... and the blob holds all 300 KiB" \
	sh -c 'grep -q "[[:space:]]307200$" "$1" && cmp -s "$1" "$2"' sh "$NV_TMP/grew.sum" "$NV_TMP/grew.gen"

# ---- exclusive writes through blocks too ----
expect_exit 0 "write 300 KiB in 64 KiB blocks" env NAVETTE_REMOTE_AZR_BLOCK_SIZE=64K \
	"$tool" azr:bulk gen blocks/x 307200
expect_exit 3 "exclusive Put Block List on an existing blob: exists" \
	env NAVETTE_REMOTE_AZR_BLOCK_SIZE=64K "$tool" azr:bulk gen blocks/x 307200 excl
expect_exit 0 "exclusive Put Block List of a new blob" \
	env NAVETTE_REMOTE_AZR_BLOCK_SIZE=64K "$tool" azr:bulk gen blocks/y 307200 excl

# ---- errors ----
expect_exit 2 "missing container: not found" "$tool" azr:nosuchcontainer open
expect_err "container 'nosuchcontainer' does not exist" "... and says which container"
BAD=$(printf 'wrong-key-%054d' 0 | base64 -w0)
expect_exit 4 "wrong key: auth error" env NAVETTE_HTTP_TRACE=1 NAVETTE_REMOTE_AZR_KEY="$BAD" \
	"$tool" azr:bulk stat ranged
expect_err "HTTP 403.*check the account key" "... says so clearly"
check "... after exactly one request (403 is never retried)" \
	test "$(grep -c '^http: azure:' "$NV_TMP/err")" -eq 1
check "... and shows neither key" sh -c '! grep -qF -e "$1" -e "$2" "$3"' sh "$BAD" "$AZ_KEY" "$NV_TMP/err"
expect_exit 8 "a key that is not base64: invalid" env NAVETTE_REMOTE_AZR_KEY='not base64!' \
	"$tool" azr:bulk open
expect_exit 8 "a container name Azure refuses: invalid" "$tool" azr:Bad_Name open

# Connection errors are retried, with backoff, as many times as the one retry
# budget allows (util/retry.h; the tool sets it as navette's --retries does).
DEAD=$(nv_free_port)
expect_exit 5 "nobody listening: a transient error" env NAVETTE_HTTP_TRACE=1 \
	NV_TOOL_RETRIES=2 NAVETTE_REMOTE_AZR_ENDPOINT="http://127.0.0.1:$DEAD/$AZ_ACCOUNT" \
	"$tool" azr:bulk open
check "... after 1 + 2 attempts" test "$(grep -c '^http: azure:' "$NV_TMP/err")" -eq 3
expect_exit 5 "the default budget: 3 retries" env NAVETTE_HTTP_TRACE=1 \
	NAVETTE_REMOTE_AZR_ENDPOINT="http://127.0.0.1:$DEAD/$AZ_ACCOUNT" "$tool" azr:bulk open
check "... after 1 + 3 attempts" test "$(grep -c '^http: azure:' "$NV_TMP/err")" -eq 4

# ---- SAS: an account SAS made with the emulator key (Azurite checks it) ----
SAS=$(node -e '
const crypto = require("crypto");
const acct = process.env.AZ_ACCOUNT, sv = "2021-08-06", ss = "b", srt = "sco", sp = "rwdlac";
const se = new Date(Date.now() + 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
const sts = [acct, sp, ss, srt, "", se, "", "http", sv, ""].join("\n") + "\n";
const sig = crypto.createHmac("sha256", Buffer.from(process.env.AZ_KEY, "base64")).update(sts).digest("base64");
console.log(`sv=${sv}&ss=${ss}&srt=${srt}&sp=${sp}&se=${encodeURIComponent(se)}&spr=http&sig=${encodeURIComponent(sig)}`);')
SASCS="BlobEndpoint=$AZ_ENDPOINT;SharedAccessSignature=$SAS"
check "conformance: SAS token from a connection string" \
	env AZURE_STORAGE_CONNECTION_STRING="$SASCS" "$conf" "az://$AZ_ACCOUNT/conformance/sas"
SIG=$(printf '%s' "$SAS" | sed 's/.*sig=//')
expect_exit 4 "a tampered SAS: auth error" env NAVETTE_HTTP_TRACE=1 \
	AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$AZ_ENDPOINT;SharedAccessSignature=${SAS%sig=*}sig=AAAA$SIG" \
	"$tool" "az://$AZ_ACCOUNT/bulk" stat ranged
expect_err "sas_token" "... names the SAS as the suspect"
check "... and never shows the signature" sh -c '! grep -qF -e "$1" "$2"' sh "$SIG" "$NV_TMP/err"

# ---- 12,000 blobs: three pages of 5,000, uploaded through 8 connections ----
expect_exit 0 "upload 12,000 small blobs" "$tool" azr:bulk many many/ 12000 8
expect_exit 0 "list them (default 5,000 per page)" env NAVETTE_HTTP_TRACE=1 "$tool" azr:bulk ls many/
check "all 12,000 listed, in order" \
	sh -c 'cut -f1 "$1" | LC_ALL=C sort -c && test "$(wc -l <"$1")" -eq 12000' sh "$NV_TMP/out"
check "in three List Blobs pages" \
	test "$(grep -c 'comp=list.*-> 200' "$NV_TMP/err")" -eq 4 # + the one at open

# ---- 300 MiB through blocks (4 MiB, 4 in flight) ----
expect_exit 0 "write 300 MiB" "$tool" azr:bulk gen big 314572800
mv "$NV_TMP/out" "$NV_TMP/bigw"
expect_exit 0 "read it back in 1 MiB reads" env NAVETTE_HTTP_TRACE=1 "$tool" azr:bulk sum big 0 314572800 1048576
check "same SHA-256 and size" cmp -s "$NV_TMP/bigw" "$NV_TMP/out"
# a plain Get Blob cut off after the first 1 MiB, then one kept open for the rest
check "... in two Get Blob" test "$(grep -c 'GET .*/big ->' "$NV_TMP/err")" -eq 2
expect_exit 0 "read its tail in 1 MiB reads (read-ahead, then a stream)" "$tool" azr:bulk sum big 104857600 209715200 1048576
mv "$NV_TMP/out" "$NV_TMP/tail1"
expect_exit 0 "read its tail in 8 MiB reads (one ranged Get Blob each)" "$tool" azr:bulk sum big 104857600 209715200 8388608
check "... the same bytes both ways" cmp -s "$NV_TMP/tail1" "$NV_TMP/out"
expect_exit 0 "stat it" "$tool" azr:bulk stat big
check "size 314572800" grep -q $'^314572800\t' "$NV_TMP/out"
expect_exit 0 "remove it" "$tool" azr:bulk rm big
expect_exit 2 "then it is gone" "$tool" azr:bulk stat big
nv_done
