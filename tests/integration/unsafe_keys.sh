# unsafe_keys.sh: a name navette cannot hold as a key (a control character,
# an absolute path) is reported the same way whatever the driver that lists
# it: the engine's lister skips it, names it escaped, and the run exits 3
# (resumable: the other files are copied). Local, SFTP, S3 (s3rver) and Azure
# (Azurite); before, the S3 and Azure drivers dropped such keys themselves and
# sync exited 0.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
nv_start_sshd
nv_start_s3rver bkt
nv_start_azurite
nv_azurite_container plain
export NAVETTE_CONFIG=$NV_SSHD_CONF
nv_s3rver_env
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
export NAVETTE_STATE_DIR="$NV_TMP/state"

# A control character (a newline, which an S3 listing's XML can carry) that
# would forge a line of output; escaped as every output writes it.
evil=$'a\nnavette: copied 0 files, all fine'
shown='a\x0anavette: copied 0 files, all fine'
# sync_reports NAME LOCATION KEY-AS-SHOWN REASON: a sync from LOCATION holding
# "ok" and one unsafe key skips that key, names it, and exits 3.
sync_reports() {
	local name=$1 loc=$2 key=$3 reason=$4 back="$NV_TMP/back-$1"
	expect_exit 3 "$name: sync exits 3 (one item failed)" "$NAVETTE" sync "$loc" "$back"
	check "$name: the key named by the lister, escaped" test "$(grep -c '' "$NV_TMP/err")" -eq 2 -a \
		"$(head -n 1 "$NV_TMP/err")" = "navette: warning: $loc: skipping unsafe name: key '$key' $reason"
	expect_err "^navette: 1 copied .* 1 failed," "$name: the other file copied, the skipped one counted"
	check "$name: only the safe file arrived" test "$(ls -A "$back")" = ok
	expect_exit 0 "$name: ls lists the rest, with the same warning" "$NAVETTE" ls "$loc"
	expect_err "^navette: warning: $loc: skipping unsafe name: key '" "$name: ls names it too"
	check "$name: ls shows the safe file only" test "$(awk '{print $NF}' "$NV_TMP/out")" = ok
}

# local and SFTP: a file of that name on disk
L="$NV_SSHD_DIR/remote/u"
mkdir -p "$L"
echo fine >"$L/ok"; echo bad >"$L/$evil"
sync_reports local "$L" "$shown" "holds a control character"
sync_reports sftp "ssh:$L" "$shown" "holds a control character"

# S3: a key no client of navette could write, placed in s3rver's own files
# beside a stored object
mkdir -p "$NV_TMP/one"; echo fine >"$NV_TMP/one/ok"
"$NAVETTE" -q copy "$NV_TMP/one" s3://bkt/t 2>/dev/null || nv_die "copy to s3"
for s in ._S3rver_object ._S3rver_object.md5 ._S3rver_metadata.json; do
	cp "$S3_DIR/bkt/t/ok$s" "$S3_DIR/bkt/t/$evil$s" || nv_die "placing the key"
done
sync_reports s3 s3://bkt/t "$shown" "holds a control character"

# Azure: a blob whose name below the prefix is absolute (t//abs)
nv_azurite_blob plain/t/ok fine || nv_die "blob"
nv_azurite_blob plain/t//abs bad || nv_die "blob"
sync_reports azure "az://$AZ_ACCOUNT/plain/t" /abs "is absolute: keys are relative"

# and the JSON event, the same for all: one item "skipped" with the reason
expect_exit 3 "s3 under --log-json" "$NAVETTE" --log-json sync s3://bkt/t "$NV_TMP/back-json"
skipped() { jq -r "select(.event == \"item\" and .action == \"skipped\") | .$1" "$NV_TMP/err"; }
check "a skipped item event, the key exact" test "$(skipped path)" = "$evil"
check "its reason" test "$(skipped reason)" = "key '$evil' holds a control character"
nv_done
