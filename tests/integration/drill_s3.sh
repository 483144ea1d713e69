# drill_s3.sh: navette drill of a vault on a real S3 server (s3rver), through a named
# remote: an intact vault passes with its report matching what was pushed, each
# object read with one GET (and, past the buffer, at most one more streamed); one
# flipped byte in the server's copy of one object fails it naming that file; the same
# seed restores the same sample, with the largest file; a server that is gone stops
# the drill with exit 4 and a report that says why.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"
nv_start_s3rver bkt
# jqe FILTER [FILE...]: jq -e, output dropped (the test line stays in the log)
jqe() { jq -e "$@" >/dev/null; }
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN
# s3rver ignores If-None-Match: generations are published with the check-then-write
# fallback (see tests/driver/s3.sh).
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
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="s3v:bkt/vaults/drill"
D="$NV_TMP/data"
mkdir -p "$D/photos/2026" "$D/docs"
head -c 400000 /dev/urandom >"$D/photos/2026/big.jpg"
head -c 70000 /dev/urandom >"$D/photos/small.jpg"
echo "a contract" >"$D/docs/contract.txt"
echo "é, with spaces" >"$D/docs/fichier é.txt"
echo top >"$D/top.txt"
# store_file KEY: where s3rver keeps an object on disk.
store_file() { echo "$S3_DIR/bkt/vaults/drill/$1._S3rver_object"; }
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
	nv_die "init on s3"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push to s3"
nfiles=$(find "$D" -type f | wc -l)
nbytes=$(find "$D" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
I=(--identity "$K/id.txt")

expect_exit 0 "drill of a vault on s3" "$NAVETTE" drill "$V" "${I[@]}" --report "$NV_TMP/ok.json"
check "json: $nfiles files and $nbytes bytes restored and checked, generation 1" jqe \
	'.result == "passed" and .files.checked == '"$nfiles"' and .files.total == '"$nfiles"' and
	 .bytes.checked == '"$nbytes"' and .generation.number == 1 and .manifests_verified == 1 and
	 .heartbeat.generation == 1 and .vault == "s3v:bkt/vaults/drill" and .rto.seconds > 0' \
	"$NV_TMP/ok.json"
expect_exit 0 "drill --to DIR from s3" "$NAVETTE" drill "$V" "${I[@]}" --to "$NV_TMP/kept"
check "the restored tree is the pushed one" diff -r "$D" "$NV_TMP/kept"

# One read per object, as pull reads them: one GET from its start (attempt 1) and, for
# an object larger than the buffer, the rest from one open GET; never a second pass.
# gets_per_object TRACE: "objects, objects read otherwise, objects streamed on"
gets_per_object() {
	grep -o 'GET [^ ]*/objects/[^ ]* -> [0-9]* ([a-z]*' "$1" | awk '
		{ if ($5 == "(attempt") first[$2]++; else if ($4 == 206) more[$2]++ }
		END { for (k in first) { n++; if (first[k] != 1 || more[k] > 1) bad++; if (more[k]) s++ }
		      printf "%d %d %d\n", n, bad, s }'
}
nobj=$(($(wc -l <"$(store_file manifests/00000000000000000001.json)") - 1))
NAVETTE_HTTP_TRACE=1 "$NAVETTE" drill "$V" "${I[@]}" --no-keep --buffer-size 64K --transfers 1 \
	>/dev/null 2>"$NV_TMP/trace"
check "one GET per object from its start, at most one more streamed ($(gets_per_object "$NV_TMP/trace"))" \
	test "$(gets_per_object "$NV_TMP/trace")" = "$nobj 0 2"

# the same seed, the same sample, with the largest file
sample() {
	"$NAVETTE" -q drill "$V" "${I[@]}" --sample 1 --seed "$2" --to "$1" >/dev/null 2>&1 &&
		(cd "$1" && find . -type f | sort)
}
s1=$(sample "$NV_TMP/s1" 11); s2=$(sample "$NV_TMP/s2" 11)
check "a sampled drill on s3 restores files" test -n "$s1"
check "the same seed restores the same files" test "$s1" = "$s2"
check "the sample holds the largest file" grep -qx './photos/2026/big.jpg' <<<"$s1"

# one flipped byte in the server's copy of one object
cat=$(head -n 1 "$(store_file manifests/00000000000000000001.json)" | jq -r .catalog)
age -d -i "$K/id.txt" "$(store_file "$cat")" >"$NV_TMP/catalog"
obj=$(tail -n +2 "$NV_TMP/catalog" | jq -r 'select(.path == "docs/contract.txt") | .object')
check "the object of docs/contract.txt is on the server" test -f "$(store_file "$obj")"
nv_flip_byte "$(store_file "$obj")" 150
expect_exit 1 "a flipped byte on the server fails the drill" "$NAVETTE" drill "$V" "${I[@]}" \
	--report "$NV_TMP/bad.json"
check "stdout: the file named" grep -qF "    mismatch docs/contract.txt: object $obj: SHA-256 of the stored bytes differs" "$NV_TMP/out"
check "json: that file, and only it" jqe '.failures_total == 1 and .failures[0].kind == "mismatch" and
	.failures[0].path == "docs/contract.txt" and .files.checked == '"$((nfiles - 1))" \
	"$NV_TMP/bad.json"
nv_flip_byte "$(store_file "$obj")" 150

# the server gone: exit 4, and a report saying why
nv_stop_s3rver "$S3_PID"
expect_exit 4 "a store that cannot be reached stops the drill (exit 4)" "$NAVETTE" drill "$V" \
	"${I[@]}" --retries 0 --report "$NV_TMP/down.json"
check "json: exit 4 and the reason" jqe '.exit_code == 4 and .result == "failed" and
	(.error | type) == "string" and .generation == null' "$NV_TMP/down.json"
check "nothing left under the state's drill/" test -z "$(ls -A "$NAVETTE_STATE_DIR/drill")"
nv_done
