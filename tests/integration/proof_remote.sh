# proof_remote.sh: reports against real servers: a symlink on an SFTP server
# is listed as not compared; a copy to S3 (s3rver) records that the server
# confirmed the MD5 of the bytes sent ("server-md5"), and a later check of the
# migration takes the source's hashes from that report while reading S3.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v jq >/dev/null || nv_need "jq"
nv_start_sshd
nv_start_s3rver bkt
export NAVETTE_CONFIG=$NV_SSHD_CONF
nv_s3rver_env
R="$NV_TMP/r.jsonl"

S="$NV_TMP/src"
mkdir -p "$S/d"
echo one >"$S/d/a"; head -c 70000 /dev/urandom >"$S/big"

# SFTP: the remote tree has a symlink and a fifo beside the copied files.
T=$NV_SSHD_DIR/remote/t
expect_exit 0 "copy to sftp" "$NAVETTE" copy "$S" "ssh:$T"
ln -s big "$T/link"; mkfifo "$T/fifo"
expect_exit 0 "check local -> sftp --report" "$NAVETTE" check "$S" "ssh:$T" --report "$R"
check "the sftp side's symlink and fifo: not compared" jqt -s '[.[] | select(.type == "not_compared") | [.side, .path, .kind]] | sort ==
	[["destination", "fifo", "special"], ["destination", "link", "symlink"]]' "$R"
check "the files identical, the proof incomplete" jqt -s '.[-1] | .identical == 2 and .result == "incomplete"' "$R"
check "the sftp location as given" jqt -s --arg t "ssh:$T" '.[0].destination == $t' "$R"

# S3: the copy's report says what the server vouched for.
expect_exit 0 "copy to s3 --report" "$NAVETTE" copy "$S" s3://bkt/m --report "$NV_TMP/copy.jsonl"
check "each object: the MD5 of the bytes sent checked by the server" jqt -s '[.[] | select(.type == "file")] |
	length == 2 and all(.verdict == "copied" and .destination.how == "server-md5" and
	.destination.sha256 == .source.sha256)' "$NV_TMP/copy.jsonl"
expect_exit 0 "check s3 -> local with the copy's hashes" "$NAVETTE" check "$S" s3://bkt/m --hashes-from "$NV_TMP/copy.jsonl" --report "$R"
check "the source's hashes recorded, S3 read" jqt -s '(map(select(.type == "file")) | length == 2 and
	all(.verdict == "identical" and .source.how == "recorded" and .destination.how == "read")) and
	.[-1].result == "identical" and .[-1].destination == "s3://bkt/m"' "$R"
nv_done
