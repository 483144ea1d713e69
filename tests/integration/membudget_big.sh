# membudget_big.sh: one large file (sparse, $NV_BIG_MIB MiB, default 512: ten times
# the budget; README's figures are from NV_BIG_MIB=1024) copied, pushed into a
# vault and pulled back at the defaults, to and from local disk, s3rver, Azurite
# and sshd: the run's buffers stay within the default memory budget (the
# summary's peak_buffer_bytes: the budget's own count, exact under sanitizers
# too) and count what each command draws (push: its plaintext and ciphertext
# buffers and the upload's part; SFTP: the write buffer), no warning, the data
# whole. Peak RSS (/usr/bin/time): within 64 MiB in a build without sanitizers;
# under ASan (its quarantine off for these runs), what the large file adds to the
# same command's run on a one-byte file stays within the budget and its shadow
# (an eighth), so RSS does not grow with the file.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
command -v python3 >/dev/null || nv_need "python3"
[ -x /usr/bin/time ] || nv_need "/usr/bin/time (GNU time, for the peak RSS)"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_SESSION_TOKEN \
	NAVETTE_HTTP_TRACE NAVETTE_FAULT NAVETTE_MAX_MEMORY AZURE_STORAGE_CONNECTION_STRING
MIB=1048576
BIG=${NV_BIG_MIB:-512}
BUDGET=$((48 * MIB)) # --max-memory's default (navette(1))

sanitized=0
if ldd "$NAVETTE" 2>/dev/null | grep -qE 'lib(a|ub|t|l)san' ||
	nm "$NAVETTE" 2>/dev/null | grep -qE '__(a|ub|t)san_'; then
	sanitized=1
	# Freed buffers held in ASan's quarantine would count as RSS the program
	# no longer uses; everything else ASan checks stays on.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
fi

mkdir -p "$NV_TMP/big" "$NV_TMP/tiny"
truncate -s $((BIG * MIB)) "$NV_TMP/big/f" || nv_die "truncate"
printf x >"$NV_TMP/tiny/f"
owner="$NV_TMP/owner"
nv_keys "$owner" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
export NAVETTE_CONFIG="$NV_TMP/navette.conf"
: >"$NAVETTE_CONFIG"
chmod 600 "$NAVETTE_CONFIG"

# measured TREE ARGS...: navette --log-json ARGS (exit 0 expected); its peak RSS
# in KiB in $NV_TMP/rss, the summary's peak_buffer_bytes in $NV_TMP/peak.
measured() {
	local d=$1; shift
	expect_exit 0 "$d" /usr/bin/time -f %M -o "$NV_TMP/rss" "$NAVETTE" --log-json "$@"
	python3 -c 'import json,sys
p = [json.loads(l)["peak_buffer_bytes"] for l in open(sys.argv[1])
     if l.startswith("{") and "\"event\":\"summary\"" in l]
print(p[-1] if p else -1)' "$NV_TMP/err" >"$NV_TMP/peak"
}

# within NAME MIN TINY_ARGS -- BIG_ARGS: runs the command on the one-byte tree,
# then on the large file; checks the large run's buffers (at most the budget, at
# least MIN bytes: what the command must draw), no warning, its RSS.
within() {
	local name=$1 min=$2 args=() rss0 rss p
	shift 2
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	measured "$name: a one-byte file" "${args[@]}"
	rss0=$(cat "$NV_TMP/rss")
	measured "$name: $BIG MiB" "$@"
	rss=$(cat "$NV_TMP/rss")
	p=$(cat "$NV_TMP/peak")
	check "$name: buffers within the default budget (peak_buffer_bytes $p)" \
		test "$p" -ge 0 -a "$p" -le "$BUDGET"
	check "$name: what it draws is counted (at least $min bytes)" test "$p" -ge "$min"
	check "$name: no warning" test "$(grep -c '"level":"warning' "$NV_TMP/err")" -eq 0
	if [ "$sanitized" = 0 ]; then
		check "$name: peak RSS within 64 MiB ($((rss / 1024)) MiB)" test "$rss" -le $((64 * 1024))
	else
		check "$name: RSS grows by at most the budget and its shadow over a one-byte file ($(((rss - rss0) / 1024)) MiB)" \
			test $(((rss - rss0) * 1024)) -le $((BUDGET + BUDGET / 8))
	fi
}

# one STORE DST WRITE: copy, push and pull of the large file with DST (a
# location prefix) as the copy's target and the vault's place. The worker that
# moves it holds its 1 MiB buffer (push, pull: two, plaintext and ciphertext)
# all along, and when it writes to DST also WRITE bytes: its upload's first
# part, or SFTP's write buffer (2 x 16 requests of 30000 bytes). Idle workers
# end once the listing is done: what they held is not counted on here.
one() {
	local st=$1 dst=$2 w=$3
	within "$st copy" $((MIB + w)) copy "$NV_TMP/tiny" "$dst/tiny" -- \
		copy "$NV_TMP/big" "$dst/plain"
	expect_exit 0 "$st: ls" "$NAVETTE" ls "$dst/plain"
	check "$st: the whole file stored" grep -q "^ *$((BIG * MIB)) " "$NV_TMP/out"
	for v in vtiny vbig; do
		expect_exit 0 "$st: init $v" "$NAVETTE" init "$dst/$v" \
			--recipients-file "$owner/id.pub" --signing-key "$owner/sign"
	done
	within "$st push" $((2 * MIB + w)) push "$NV_TMP/tiny" "$dst/vtiny" --signing-key "$owner/sign" -- \
		push "$NV_TMP/big" "$dst/vbig" --signing-key "$owner/sign"
	within "$st pull" $((2 * MIB)) pull "$dst/vtiny" "$NV_TMP/pulled-tiny" --identity "$owner/id.txt" -- \
		pull "$dst/vbig" "$NV_TMP/pulled" --identity "$owner/id.txt"
	check "$st: pulled whole" cmp -s "$NV_TMP/big/f" "$NV_TMP/pulled/f"
	rm -rf "$NV_TMP/pulled" "$NV_TMP/pulled-tiny"
}

# exact NAME MIN ARGS...: with one worker the count is exact, whatever the
# timing: at least MIN bytes held.
exact() {
	local name=$1 min=$2
	shift 2
	measured "$name" "$@" --transfers 1
	check "$name: at least $min bytes counted ($(cat "$NV_TMP/peak"))" \
		test "$(cat "$NV_TMP/peak")" -ge "$min"
}
mkdir -p "$NV_TMP/mid"
head -c $((3 * MIB)) /dev/urandom >"$NV_TMP/mid/f"

# ---------------- local disk: no part, the buffers alone ----------------
one local "$NV_TMP/dst" 0
# push's plaintext and ciphertext buffers and its encryptor's chunk (64 KiB)
expect_exit 0 "init vmid" "$NAVETTE" init "$NV_TMP/dst/vmid" \
	--recipients-file "$owner/id.pub" --signing-key "$owner/sign"
exact "local push, one worker" $((2 * MIB + 65536)) push "$NV_TMP/mid" "$NV_TMP/dst/vmid" \
	--signing-key "$owner/sign"
rm -rf "$NV_TMP/dst"

# ---------------- S3 (s3rver): 8 MiB parts ----------------
nv_start_s3rver bkt
nv_s3rver_remote "$NAVETTE_CONFIG" s3r "conditional_writes = false"
one s3 s3r:bkt $((8 * MIB))
nv_stop_s3rver

# ---------------- Azure (Azurite): 4 MiB blocks ----------------
nv_start_azurite
nv_azurite_container mem
nv_azurite_remote "$NAVETTE_CONFIG" azr azure
one azure azr:mem $((4 * MIB))
nv_stop_azurite

# ---------------- SFTP (sshd): the write buffer ----------------
nv_start_sshd
cat "$NV_SSHD_CONF" >>"$NAVETTE_CONFIG" # remote "ssh"
one sftp "ssh:$NV_SSHD_DIR/remote" 960000
exact "sftp copy, one worker" $((MIB + 960000)) copy "$NV_TMP/mid" "ssh:$NV_SSHD_DIR/remote/mid"
nv_stop_sshd
nv_done
