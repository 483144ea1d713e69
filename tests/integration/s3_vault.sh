# s3_vault.sh: an encrypted vault on a real S3 server (s3rver), through a named
# remote: init, push, incremental push, verify, pull, log; the ciphertext copied out
# with rclone restores with stock age/ssh-keygen; tampering is caught; a push cut by
# the server dying publishes nothing and completes on the next run.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"
nv_start_s3rver bkt
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN
# A named remote: NAME:bucket/prefix. s3rver ignores If-None-Match, so generations
# are published with the check-then-write fallback (see tests/driver/s3.sh).
cat >"$NV_TMP/navette.conf" <<EOC
[s3v]
type = s3
endpoint = $S3_ENDPOINT
region = us-east-1
access_key_id = $S3_KEY
secret_access_key = $S3_SECRET
conditional_writes = false
EOC
chmod 600 "$NV_TMP/navette.conf"
export NAVETTE_CONFIG="$NV_TMP/navette.conf"
owner="$NV_TMP/owner"
nv_keys "$owner" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="s3v:bkt/vaults/one"
D="$NV_TMP/data"
mkdir -p "$D/docs" "$D/img"
head -c 300000 /dev/urandom >"$D/img/a.bin"
: >"$D/empty"
echo same >"$D/docs/one"; echo same >"$D/docs/two"
echo "é spaces" >"$D/docs/fichier é.txt"
echo plus >"$D/docs/1+1=2"
# store_file KEY: where s3rver keeps an object on disk.
store_file() { echo "$S3_DIR/bkt/vaults/one/$1._S3rver_object"; }

expect_exit 0 "init on s3" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" \
	--signing-key "$owner/sign"
expect_exit 2 "init twice refused" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" \
	--signing-key "$owner/sign"
expect_exit 0 "push to s3" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
if command -v rclone >/dev/null; then
	nv_s3rver_rclone_conf "$NV_TMP/rclone.conf"
	# --fast-list: one recursive listing. s3rver's delimiter listing never shows
	# a "directory" holding only directories (objects/), so rclone's default
	# walk would miss every object there.
	env -u AWS_CA_BUNDLE rclone --config "$NV_TMP/rclone.conf" copy --fast-list \
		s3r:bkt/vaults/one "$NV_TMP/copied" 2>"$NV_TMP/err"
	check "rclone copies the vault out of S3" test -f "$NV_TMP/copied/navette-vault.json"
else
	"$NAVETTE" -q copy "$V" "$NV_TMP/copied"
	check "navette copies the vault out of S3" test -f "$NV_TMP/copied/navette-vault.json"
fi
check "stock tools restore what S3 holds" \
	nv_manual_restore "$NV_TMP/copied" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/manual"
check "manual restore identical" diff -r "$D" "$NV_TMP/manual"

echo changed >"$D/docs/one"
head -c 100000 /dev/urandom >"$D/img/b.bin"
expect_exit 0 "incremental push to s3" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
check "generation 2 published" test -f "$(store_file manifests/00000000000000000002.json)"
expect_exit 0 "verify --level hash on s3" "$NAVETTE" verify "$V" --level hash \
	--signing-pubkey "$owner/sign.pub"
expect_exit 0 "verify --level deep on s3" "$NAVETTE" verify "$V" --level deep \
	--identity "$owner/id.txt" --signing-pubkey "$owner/sign.pub"
expect_exit 0 "log on s3" "$NAVETTE" log "$V" --signing-pubkey "$owner/sign.pub"
check "log lists two generations" test "$(grep -c . "$NV_TMP/out")" -ge 2
expect_exit 0 "pull from s3" "$NAVETTE" pull "$V" "$NV_TMP/pulled" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
check "pulled tree identical" diff -r "$D" "$NV_TMP/pulled"

# One read per object: one GET from its start (attempt 1) and, for an object
# larger than the buffer, the rest from one open GET (stream): never a second
# pass. Eight objects: seven contents and the catalog; a.bin and b.bin exceed 64K.
# gets_per_object TRACE: "objects, objects read otherwise, objects streamed on"
gets_per_object() {
	grep -o 'GET [^ ]*/objects/[^ ]* -> [0-9]* ([a-z]*' "$1" | awk '
		{ if ($5 == "(attempt") first[$2]++; else if ($4 == 206) more[$2]++ }
		END { for (k in first) { n++; if (first[k] != 1 || more[k] > 1) bad++; if (more[k]) s++ }
		      printf "%d %d %d\n", n, bad, s }'
}
NAVETTE_HTTP_TRACE=1 "$NAVETTE" pull "$V" "$NV_TMP/pulled-t" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub" --buffer-size 64K --transfers 1 >/dev/null 2>"$NV_TMP/trace"
check "pull: one GET per object from its start, at most one more streamed ($(gets_per_object "$NV_TMP/trace"))" \
	test "$(gets_per_object "$NV_TMP/trace")" = "8 0 2"
check "pull with the trace restores the same tree" diff -r "$D" "$NV_TMP/pulled-t"
# verify has no --buffer-size: at 1 MiB every object is one GET, the catalog too
NAVETTE_HTTP_TRACE=1 "$NAVETTE" verify "$V" --level deep --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub" --transfers 1 >/dev/null 2>"$NV_TMP/trace"
check "verify --level deep: one GET per object ($(gets_per_object "$NV_TMP/trace"))" \
	test "$(gets_per_object "$NV_TMP/trace")" = "8 0 0"

# Tampering on the server is caught.
# an object of the newest generation (an older catalog would not be checked)
newest=$(ls "$S3_DIR/bkt/vaults/one/manifests/"*.json._S3rver_object | tail -n 1)
obj="$S3_DIR/bkt/vaults/one/$(sed -n 2p "$newest" | jq -r .name)._S3rver_object"
check "the object to alter exists" test -f "$obj"
cp "$obj" "$NV_TMP/saved-object"
nv_flip_byte "$obj" 100
expect_exit 1 "verify --level hash finds an object altered on the server" \
	"$NAVETTE" verify "$V" --level hash --signing-pubkey "$owner/sign.pub"
cp "$NV_TMP/saved-object" "$obj"

# The server dies during a push (a multipart upload in flight): nothing is
# published; with the server back, the next push completes it.
head -c $((40 * 1024 * 1024)) /dev/urandom >"$D/img/large.bin"
NAVETTE_HTTP_TRACE=1 "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign" --retries 0 \
	>"$NV_TMP/p.out" 2>"$NV_TMP/p.err" &
pid=$!
for _ in $(seq 1 300); do
	grep -q 'partNumber=' "$NV_TMP/p.err" 2>/dev/null && break
	sleep 0.1
done
nv_stop_s3rver "$S3_PID" KILL
wait "$pid"; rc=$?
# The large file fails alone (--retries 0), so nothing is published: exit 3.
check "push cut by the server's death: that file fails (exit $rc, wanted 3)" test "$rc" -eq 3
grep -v '^http: ' "$NV_TMP/p.err" >"$NV_TMP/err"
expect_err "^failed img/large\.bin: s3: (PUT|POST) http://127\.0\.0\.1:$S3_PORT/bkt/vaults/one/objects/.*uploadId=" \
	"  the message names the file and the multipart request that broke"
expect_err "^navette: error: 1 file\(s\) could not be pushed: no generation published \(what landed is kept for the next push\)\$" \
	"  and says that nothing was published"
check "generation 3 not published by the cut push" \
	test ! -e "$(store_file manifests/00000000000000000003.json)"
nv_restart_s3rver
expect_exit 0 "next push completes" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
check "generation 3 published" test -f "$(store_file manifests/00000000000000000003.json)"
expect_exit 0 "pull after the completed push" "$NAVETTE" pull "$V" "$NV_TMP/pulled3" \
	--identity "$owner/id.txt" --signing-pubkey "$owner/sign.pub"
check "pulled tree identical after the cut" diff -r "$D" "$NV_TMP/pulled3"
nv_done
