# proof_report.sh: check --report, the proof of migration (docs/FORMAT.md
# section 13), between local trees: every field checked against the trees
# (sha256sum, stat), a differing file gives verdict differ and exit 1, a
# filtered or --size-only run records it and never reads "identical", what is
# no file is listed as not compared, the signed report passes stock
# `ssh-keygen -Y verify` and fails once one byte of it changed; copy --report
# and check --hashes-from; sync --delete's deletions.
. "$NV_SRCDIR/tests/lib/common.sh"
command -v jq >/dev/null && command -v ssh-keygen >/dev/null || nv_need "jq and ssh-keygen"

S="$NV_TMP/src"; D="$NV_TMP/dst"; R="$NV_TMP/r.jsonl"
mkdir -p "$S/photos/2024" "$S/docs"
echo one >"$S/docs/a.txt"
head -c 300000 /dev/urandom >"$S/photos/2024/big.jpg"
printf 'x' >"$S/top"
printf 'bad name\n' >"$S/docs/$(printf 'caf\xe9')"   # not UTF-8: path_hex
: >"$S/empty"

# sides FILE: one line "path size sha256" per regular file of the tree, sorted
sides() { (cd "$1" && export LC_ALL=C && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
	printf '%s %s %s\n' "$(printf '%s' "$f" | od -An -tx1 | tr -d ' \n')" "$(stat -c %s "$f")" \
		"$(sha256sum <"$f" | cut -d' ' -f1)"; done); }
# the same from a report's file lines, for one side (source or destination)
rep_sides() { jq -r --arg s "$2" 'select(.type == "file") | [(.path_hex // (.path | @text)), .[$s].size, .[$s].sha256] | @tsv' "$1" |
	while IFS=$'\t' read -r p size sha; do
		case $p in *[!0-9a-f]*|"") p=$(printf '%s' "$p" | od -An -tx1 | tr -d ' \n');; esac
		printf '%s %s %s\n' "$p" "$size" "$sha"; done | LC_ALL=C sort; }

expect_exit 0 "copy --report" "$NAVETTE" copy "$S" "$D" --report "$NV_TMP/copy.jsonl"
expect_err "report written to $NV_TMP/copy.jsonl: result complete" "copy says where the report is"
check "copy report: the SHA-256 sent is each file's" cmp -s <(sides "$S") <(rep_sides "$NV_TMP/copy.jsonl" source)
check "copy report: every file copied, read at the source, the destination's size confirmed" \
	jqt -s '[.[] | select(.type == "file")] | length == 5 and all(.verdict == "copied" and
		.source.how == "read" and .destination.how == "size" and .destination.size == .source.size)' "$NV_TMP/copy.jsonl"
check "copy report: header and summary" jqt -s '.[0].type == "header" and .[0].command == "copy" and
	.[-1].type == "summary" and .[-1].copied == 5 and .[-1].result == "complete" and .[-1].exit == 0' "$NV_TMP/copy.jsonl"
check "no .part left" test ! -e "$NV_TMP/copy.jsonl.part"

# A symlink and a fifo: not compared, listed; the run cannot read "identical".
ln -s docs/a.txt "$S/link"; mkfifo "$S/pipe"; ln -s ../top "$D/dlink"
expect_exit 0 "check --report: identical files" "$NAVETTE" check "$S" "$D" --report "$R"
expect_err "report written to $R: result incomplete" "says the result"
check "every file of both trees, with size and SHA-256 read on each side" \
	sh -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' sh <(sides "$S") <(rep_sides "$R" source) <(sides "$D") <(rep_sides "$R" destination)
check "verdicts identical, both sides read" jqt -s '[.[] | select(.type == "file")] | length == 5 and
	all(.verdict == "identical" and .source.how == "read" and .destination.how == "read")' "$R"
check "the name that is not UTF-8 has its bytes in path_hex" \
	jqt -s --arg h "$(printf 'docs/caf\xe9' | od -An -tx1 | tr -d ' \n')" 'any(.[]; .path_hex == $h)' "$R"
check "mtime of each side as RFC 3339 with nanoseconds" jqt -s --arg m "$(date -u -d @"$(stat -c %Y "$S/top")" +%Y-%m-%dT%H:%M:%S)" \
	'.[] | select(.path == "top") | .source.mtime | startswith($m) and test("\\.[0-9]{9}Z$")' "$R"
check "the symlinks and the fifo listed as not compared" jqt -s '[.[] | select(.type == "not_compared") | [.side, .path, .kind]] | sort ==
	[["destination", "dlink", "symlink"], ["source", "link", "symlink"], ["source", "pipe", "special"]]' "$R"
check "header: what was compared, no filter, no shard" jqt -s --arg s "$S" --arg d "$D" '.[0] | .format == "navette-report" and
	.version == 1 and .command == "check" and .compare == "files" and .source == $s and .destination == $d and
	.filters == [] and .size_only == false and .shard == null and .hashes_from == null and (.started | test("Z$"))' "$R"
check "summary: totals, locations, times; not full, so not identical" jqt -s --arg s "$S" --arg d "$D" '.[-1] |
	.type == "summary" and .files == 5 and .identical == 5 and .not_compared == 3 and .full == false and
	.result == "incomplete" and .exit == 0 and .source == $s and .destination == $d and .started <= .ended and
	.source_hashes.read == 5 and .source_hashes.bytes == 300014' "$R"
rm "$S/link" "$S/pipe" "$D/dlink"
expect_exit 0 "check --report of the whole trees" "$NAVETTE" check "$S" "$D" --report "$R"
check "nothing left out: full, identical" jqt -s '.[-1] | .full == true and .result == "identical" and .not_compared == 0' "$R"

# Signed with SSHSIG: stock ssh-keygen verifies it, and refuses it changed.
"$NAVETTE" keygen --signing -o "$NV_TMP/report.key" >/dev/null 2>&1 || nv_die "keygen"
echo "navette $(cut -d' ' -f1,2 "$NV_TMP/report.key.pub")" >"$NV_TMP/allowed_signers"
expect_exit 0 "check --report --signing-key" "$NAVETTE" check "$S" "$D" --report "$R" --signing-key "$NV_TMP/report.key"
expect_err "report written to $R, signed in $R.sig: result identical" "says where the signature is"
refused() { ! verify; }
verify() { ssh-keygen -Y verify -f "$NV_TMP/allowed_signers" -I navette -n navette-report -s "$R.sig" <"$R" >/dev/null 2>&1; }
check "stock ssh-keygen -Y verify accepts the report" verify
check "in namespace navette-report only" sh -c '! ssh-keygen -Y verify -f "$1" -I navette -n navette-manifest -s "$2.sig" <"$2" >/dev/null 2>&1' sh "$NV_TMP/allowed_signers" "$R"
cp "$R" "$NV_TMP/r.orig"
nv_flip_byte "$R" 100
check "one byte changed: refused" refused
cp "$NV_TMP/r.orig" "$R"
sed -i 's/"identical":5/"identical":6/' "$R"
check "a count edited: refused" refused

# A differing file (same size): verdict differ, both hashes, exit 1.
nv_flip_byte "$D/photos/2024/big.jpg" 1000
expect_exit 1 "check --report: one file differs" "$NAVETTE" check "$S" "$D" --report "$R"
expect_err "report written to $R: result differ" "result differ"
check "its line: differ, the two SHA-256 as read" jqt -s --arg a "$(sha256sum <"$S/photos/2024/big.jpg" | cut -d' ' -f1)" \
	--arg b "$(sha256sum <"$D/photos/2024/big.jpg" | cut -d' ' -f1)" '[.[] | select(.verdict == "differ")] |
	length == 1 and .[0].path == "photos/2024/big.jpg" and .[0].source.sha256 == $a and .[0].destination.sha256 == $b' "$R"
check "summary: 1 differ, exit 1" jqt -s '.[-1] | .differ == 1 and .identical == 4 and .result == "differ" and .exit == 1' "$R"

# Missing and extra, found from the listings (sizes only, no read).
rm "$D/top"; echo extra >"$D/new"
expect_exit 1 "missing and extra" "$NAVETTE" check "$S" "$D" --report "$R"
check "missing: the source side, no destination" jqt -s 'any(.[]; .path == "top" and .verdict == "missing" and
	.destination == null and .source.size == 1 and .source.how == "size")' "$R"
check "extra: the destination side, no source" jqt -s 'any(.[]; .path == "new" and .verdict == "extra" and
	.source == null and .destination.size == 6)' "$R"
rm -rf "$D"; "$NAVETTE" copy "$S" "$D" 2>/dev/null || nv_die "copy"

# A filtered run records its filters and is never a full proof.
printf '# rules\n*.tmp\n' >"$NV_TMP/rules"
expect_exit 0 "check --exclude --report" "$NAVETTE" check "$S" "$D" --exclude '*.jpg' --exclude-from "$NV_TMP/rules" --max-age 30d --report "$R"
check "header: the filters, rule by rule" jqt -s '.[0].filters == ["exclude *.jpg", "exclude *.tmp", "max-age 2592000s"]' "$R"
check "summary: not full, incomplete (exit 0: nothing differs among what was compared)" \
	jqt -s '.[-1] | .files == 4 and .identical == 4 and .full == false and .result == "incomplete"' "$R"
expect_exit 0 "check --size-only --report" "$NAVETTE" check "$S" "$D" --size-only --report "$R"
check "--size-only: recorded, sizes only, incomplete" jqt -s '.[0].size_only == true and
	all(.[] | select(.type == "file"); .source.how == "size" and .source.sha256 == null) and .[-1].result == "incomplete"' "$R"

# A file that cannot be read: not compared (exit 3, the run is incomplete).
expect_exit 3 "check --report, one read refused" env NAVETTE_FAULT='read@1=perm' "$NAVETTE" check "$S" "$D" --transfers 1 --retries 0 --report "$R"
check "the unreadable file is named, with the side and the reason" jqt -s '[.[] | select(.type == "not_compared")] |
	length == 1 and .[0].kind == "unreadable" and .[0].side == "source" and (.[0].reason | length > 0)' "$R"
check "summary: 4 identical, 1 not compared, incomplete, exit 3" jqt -s '.[-1] | .identical == 4 and .not_compared == 1 and .result == "incomplete" and .exit == 3' "$R"

# check --hashes-from: the source's SHA-256 as sent, for files unchanged since.
touch -d '2001-01-01 00:00:00' "$S/top"
rm -rf "$D"; "$NAVETTE" copy "$S" "$D" --report "$NV_TMP/copy.jsonl" 2>/dev/null || nv_die "copy"
expect_exit 0 "check --hashes-from the copy's report" "$NAVETTE" check "$S" "$D" --hashes-from "$NV_TMP/copy.jsonl" --report "$R"
check "every source hash recorded, the destination read" jqt -s '[.[] | select(.type == "file")] | length == 5 and
	all(.source.how == "recorded" and .destination.how == "read" and .source.sha256 == .destination.sha256)' "$R"
check "header names the hash file; summary counts recorded hashes" jqt -s --arg h "$NV_TMP/copy.jsonl" '.[0].hashes_from == $h and
	.[-1].source_hashes.recorded == 5 and .[-1].source_hashes.read == 0 and .[-1].result == "identical"' "$R"
# the source is not read again: bytes changed under the same size and mtime go unseen
printf 'y' >"$S/top"; touch -d '2001-01-01 00:00:00' "$S/top"
printf 'y' >"$D/top"
expect_exit 1 "the source is not read again: its recorded hash against the destination's new bytes" "$NAVETTE" check "$S" "$D" --hashes-from "$NV_TMP/copy.jsonl"
touch "$S/docs/a.txt"
expect_exit 1 "a source file touched since is read again" "$NAVETTE" check "$S" "$D" --hashes-from "$NV_TMP/copy.jsonl" --report "$R"
check "its source side read, the others recorded" jqt -s '[.[] | select(.type == "file" and .source.how == "read") | .path] == ["docs/a.txt"]' "$R"
expect_exit 2 "--hashes-from a report of another source" "$NAVETTE" check "$D" "$S" --hashes-from "$NV_TMP/copy.jsonl"
expect_err "made for another source than $D" "says so"
expect_exit 2 "--hashes-from a file that is no report" "$NAVETTE" check "$S" "$D" --hashes-from "$S/docs/a.txt"
expect_err "not a line of a navette report" "says so"

# sync --delete --report: deletions are lines too.
rm -rf "$D"; "$NAVETTE" copy "$S" "$D" 2>/dev/null || nv_die "copy"
echo gone >"$D/old"
expect_exit 0 "sync --delete --report" "$NAVETTE" sync "$S" "$D" --delete --report "$R"
check "sync report: unchanged files and the deletion" jqt -s '[.[] | select(.type == "file") | .verdict] | sort ==
	["deleted", "unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]' "$R"

expect_exit 2 "--signing-key without --report" "$NAVETTE" check "$S" "$D" --signing-key "$NV_TMP/report.key"
expect_err "--signing-key signs the report" "says so"
expect_exit 2 "--report with --dry-run" "$NAVETTE" copy "$S" "$D" --dry-run --report "$R"
expect_exit 2 "copy takes no --hashes-from" "$NAVETTE" copy "$S" "$D" --hashes-from "$R"
expect_exit 4 "a report that cannot be written" "$NAVETTE" check "$S" "$D" --report "$NV_TMP/no/such/dir/r.jsonl"
expect_err "--report $NV_TMP/no/such/dir/r.jsonl.part" "names the file"
nv_done
