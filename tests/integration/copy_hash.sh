# copy_hash.sh: the default copy hashes what it sends (issue 12, defect 10), on
# the local and SFTP drivers: every copied file's SHA-256 in the JSON item
# events is sha256sum's of the source, with what the destination confirmed
# (its stored size), and the summary says so in both forms. --verify reread
# catches a stored copy that reads back other bytes (NAVETTE_FAULT flips a
# byte of the read back): exit 1, a "mismatch" event carrying the SHA-256
# sent and the one read, the copy removed so the next run copies it again
# (its size and mtime are the source's: kept, it would be skipped).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/hashlog.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"

S=$NV_TMP/src
mkdir -p "$S/sous dir"
head -c 3000000 /dev/urandom >"$S/big"   # three reads of the 1 MiB buffer
echo small >"$S/small"
: >"$S/empty"
printf 'été\n' >"$S/sous dir/café ☕"
big_sha=$(sha256sum "$S/big" | cut -d' ' -f1)

# hash_case NAME DST-LOCATION DST-PATH: the whole story on one destination.
hash_case() {
	local n=$1 d=$2 p=$3

	expect_exit 0 "$n: copy with the default options" "$NAVETTE" -v --log-json copy "$S" "$d/a"
	cp "$NV_TMP/err" "$NV_TMP/$n.jsonl"
	nv_json_same_sha "$n: each copied item's sha256 is sha256sum's of the source" \
		"$NV_TMP/$n.jsonl" "$S"
	check "$n: the destination confirmed each stored size" test \
		"$(nv_json_items "$NV_TMP/$n.jsonl" copied confirmed | cut -d' ' -f1 | uniq)" = size
	check "$n: the summary counts them" test \
		"$(nv_json_summary "$NV_TMP/$n.jsonl" files hashed size_confirmed md5_confirmed reread)" = "4 4 4 0 0"
	check "$n: the copy is whole" diff -r -x navette-lease "$S" "$p/a"

	expect_exit 0 "$n: sync, human summary" "$NAVETTE" sync "$S" "$d/b"
	expect_err "^navette: 4 copied .* 0 failed verification, in [0-9.]+ s; SHA-256 computed for 4, size confirmed for 4, MD5 for 0, read back for 0$" \
		"$n: the human summary says what was computed and confirmed"

	# Reads, one worker in key order: big 1-3, its read back 4-6.
	expect_exit 1 "$n: --verify reread, the read back altered: exit 1" env NAVETTE_FAULT=read@4=flip \
		"$NAVETTE" --log-json copy --transfers 1 --verify reread "$S" "$d/c"
	cp "$NV_TMP/err" "$NV_TMP/$n-bad.jsonl"
	check "$n: a mismatch event for big, with the SHA-256 sent" test \
		"$(nv_json_items "$NV_TMP/$n-bad.jsonl" mismatch sha256)" = "$big_sha  big"
	expect_err '"action":"mismatch","path":"big","sha256":"[0-9a-f]{64}","reason":"read back, the stored copy \(3000000 bytes, SHA-256 [0-9a-f]{64}\) differs from the bytes sent \(3000000, SHA-256 '"$big_sha"'\): removed it, so that the next run copies it again"' \
		"$n: its reason names both SHA-256 and the removal"
	check "$n: the summary counts it as failed verification, the rest read back" test \
		"$(nv_json_summary "$NV_TMP/$n-bad.jsonl" files mismatched reread exit)" = "3 1 3 1"
	check "$n: the bad copy is gone" test ! -e "$p/c/big"
	expect_exit 0 "$n: the next run copies it again" "$NAVETTE" --log-json copy --verify reread "$S" "$d/c"
	check "$n: only big, read back" test "$(nv_json_summary "$NV_TMP/err" files reread unchanged)" = "1 1 3"
	check "$n: now whole" diff -r -x navette-lease "$S" "$p/c"
}

hash_case local "$NV_TMP/dst" "$NV_TMP/dst"

nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF
R=$NV_SSHD_DIR/remote
hash_case sftp "ssh:$R" "$R"
nv_done
