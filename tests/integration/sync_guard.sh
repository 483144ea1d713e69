# sync_guard.sh: what keeps a nightly sync from wiping its replica, on the local
# driver: the delete guard (an empty source, --max-delete N and N%, the default
# 50 %, each also as a dry run), --backup-dir, filters with --delete and
# --delete-excluded, file ages, and the usage errors of these options.
. "$NV_SRCDIR/tests/lib/common.sh"

S="$NV_TMP/src"; D="$NV_TMP/dst"; E="$NV_TMP/empty"
mkdir -p "$S" "$D" "$E"
# expect_line LINE DESCRIPTION: the last expect_exit's stderr holds exactly LINE.
expect_line() {
	if grep -Fxq -- "$1" "$NV_TMP/err"; then ok "$2"; else
		not_ok "$2 (no line '$1')"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
files() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | tr '\n' ' '); }
for i in 1 2 3 4 5 6 7 8 9 10; do echo "$i" >"$S/f$i"; done
expect_exit 0 "first sync" "$NAVETTE" sync --delete "$S" "$D"

# ---- an empty source: refused, dry run too; allowed only when asked ----
expect_exit 4 "empty source: dry run" "$NAVETTE" sync --delete --dry-run "$E" "$D"
expect_line "navette: error: dry run: sync --delete refused: $E lists no files: all 10 files at $D would be deleted (a mistyped path or prefix lists as empty); if that is meant, add --allow-empty-source; nothing would be deleted" \
	"the dry run says what the guard would say"
check "no 'would delete' line" sh -c '! grep -q "^would delete" "$1"' sh "$NV_TMP/err"
expect_exit 4 "empty source: refused" "$NAVETTE" sync --delete "$E" "$D"
expect_line "navette: error: sync --delete refused: $E lists no files: all 10 files at $D would be deleted (a mistyped path or prefix lists as empty); if that is meant, add --allow-empty-source; nothing deleted" \
	"the refusal names the count"
check "nothing deleted" test "$(files "$D")" = "$(files "$S")"
cp -a "$D" "$NV_TMP/dst-copy"
expect_exit 0 "--allow-empty-source empties it" "$NAVETTE" sync --delete --allow-empty-source "$E" "$NV_TMP/dst-copy"
check "emptied" test -z "$(files "$NV_TMP/dst-copy")"

# ---- --max-delete N: 3 to delete ----
rm "$S/f1" "$S/f2" "$S/f3"
expect_exit 4 "--max-delete 2: dry run" "$NAVETTE" sync --delete --max-delete 2 --dry-run "$S" "$D"
expect_line "navette: error: dry run: sync --delete refused: 3 files at $D would be deleted, more than --max-delete 2 allows; nothing would be deleted" \
	"dry run names the count and the limit"
expect_exit 4 "--max-delete 2: refused" "$NAVETTE" sync --delete --max-delete 2 "$S" "$D"
expect_line "navette: error: sync --delete refused: 3 files at $D would be deleted, more than --max-delete 2 allows; nothing deleted" \
	"the refusal names the count and the limit"
check "nothing deleted" test -e "$D/f1" -a -e "$D/f2" -a -e "$D/f3"
# ---- N%: 3 of 10 is 30 % ----
expect_exit 4 "--max-delete 20%: dry run" "$NAVETTE" sync --delete --max-delete 20% --dry-run "$S" "$D"
expect_line "navette: error: dry run: sync --delete refused: 3 of the 10 files at $D (30%) would be deleted, more than 20% (--max-delete); nothing would be deleted" \
	"dry run names the share"
expect_exit 4 "--max-delete 20%: refused" "$NAVETTE" sync --delete --max-delete 20% "$S" "$D"
expect_line "navette: error: sync --delete refused: 3 of the 10 files at $D (30%) would be deleted, more than 20% (--max-delete); nothing deleted" \
	"the refusal names the share"
expect_exit 0 "--max-delete 30%: a dry run lists them" "$NAVETTE" sync --delete --max-delete 30% --dry-run "$S" "$D"
check "three 'would delete' lines" test "$(grep -c '^would delete f[123]$' "$NV_TMP/err")" -eq 3
expect_exit 0 "--max-delete 3: done" "$NAVETTE" sync --delete --max-delete 3 "$S" "$D"
expect_err "^navette: 0 copied \(0\.0 MiB, 0\.0 MiB/s\), 7 unchanged, 3 deleted, 0 failed, 0 failed verification, in [0-9.]+ s$" \
	"3 deleted"
# ---- the default: more than 50 % ----
rm "$S/f4" "$S/f5" "$S/f6" "$S/f7"
expect_exit 4 "4 of 7 (57 %): refused by default, dry run" "$NAVETTE" sync --delete --dry-run "$S" "$D"
expect_line "navette: error: dry run: sync --delete refused: 4 of the 7 files at $D (57%) would be deleted, more than 50% (the default limit; allow more with --max-delete N or N%); nothing would be deleted" \
	"dry run: the default limit is named"
expect_exit 4 "4 of 7 (57 %): refused by default" "$NAVETTE" sync --delete "$S" "$D"
expect_line "navette: error: sync --delete refused: 4 of the 7 files at $D (57%) would be deleted, more than 50% (the default limit; allow more with --max-delete N or N%); nothing deleted" \
	"the default limit is named"
check "nothing deleted" test "$(files "$D" | wc -w)" -eq 7

# ---- --backup-dir: what is deleted or overwritten is moved there first ----
echo "new f8, longer" >"$S/f8"
B="$NV_TMP/backup"
expect_exit 0 "--backup-dir" "$NAVETTE" -v sync --delete --max-delete 60% --backup-dir "$B" "$S" "$D"
check "the deleted files are in the backup" test "$(files "$B")" = "f4 f5 f6 f7 f8 "
check "with their contents" test "$(cat "$B/f4")" = 4
check "the overwritten file's old version" test "$(cat "$B/f8")" = 8
check "the new version at the destination" test "$(cat "$D/f8")" = "new f8, longer"
check "the destination is the source" test "$(files "$D")" = "$(files "$S")"
expect_line "navette: 5 files backed up to $B before being deleted or replaced" "the summary counts them"
check "a 'backed up' line per file" test "$(grep -c '^backed up f[45678]$' "$NV_TMP/err")" -eq 5
expect_exit 2 "--backup-dir cannot be the destination" "$NAVETTE" sync --backup-dir "$D/" "$S" "$D"
expect_line "navette: error: --backup-dir $D/ is the destination itself" "and says so"
expect_exit 2 "nor hold it" "$NAVETTE" sync --backup-dir "$NV_TMP" "$S" "$D"
expect_line "navette: error: the destination $D lies inside --backup-dir $NV_TMP: a backup could land on a destination file" "and says so"
mkdir -p "$D/.old" && echo kept >"$D/.old/x"
expect_exit 0 "a backup dir inside the destination is left out" "$NAVETTE" sync --delete --backup-dir "$D/.old" "$S" "$D"
check "its files are not deleted" test "$(cat "$D/.old/x")" = kept

# ---- filters with --delete: excluded destination files stay ----
rm -rf "$D/.old"
mkdir -p "$S/logs" "$D/logs"
echo a >"$S/logs/a.log"; echo b >"$S/b.log"
echo old >"$D/logs/old.log"; echo gone >"$D/gone.txt"
expect_exit 0 "--exclude with --delete" "$NAVETTE" sync --delete --max-delete 100% --exclude '*.log' "$S" "$D"
check "excluded source files not copied" test ! -e "$D/logs/a.log" -a ! -e "$D/b.log"
check "excluded destination files not deleted" test -e "$D/logs/old.log"
check "others deleted" test ! -e "$D/gone.txt"
expect_exit 0 "--delete-excluded" "$NAVETTE" sync --delete --max-delete 100% --exclude '*.log' --delete-excluded "$S" "$D"
check "now the excluded destination file went" test ! -e "$D/logs/old.log"
printf '# rules\n*.log\n\nf9\n' >"$NV_TMP/rules"
expect_exit 0 "--exclude-from, dry run" "$NAVETTE" copy --dry-run --exclude-from "$NV_TMP/rules" "$S" "$NV_TMP/fresh"
check "only f10 and f8 would be copied" test "$(grep '^would copy' "$NV_TMP/err" | tr '\n' ' ')" = "would copy f10 would copy f8 "
printf 'f9\n/logs/a.log\n' >"$NV_TMP/list"
expect_exit 0 "--files-from" "$NAVETTE" copy --files-from "$NV_TMP/list" "$S" "$NV_TMP/fresh"
check "exactly the listed files" test "$(files "$NV_TMP/fresh")" = "f9 logs/a.log "
expect_exit 1 "check with --include sees one side only" "$NAVETTE" check --include 'f*' "$S" "$NV_TMP/fresh"
expect_err "^navette: warning: 1 identical, 0 differ, 2 missing at destination, 0 only at destination, 0 failed \([0-9.]+ s\)$" \
	"check counts only the included files"
# ---- file ages: --min-age / --max-age ----
A="$NV_TMP/aged"; mkdir -p "$A"
echo o >"$A/old"; touch -d '10 days ago' "$A/old"
echo n >"$A/new"
expect_exit 0 "--min-age 2d" "$NAVETTE" copy --min-age 2d "$A" "$NV_TMP/a1"
check "only the old file" test "$(files "$NV_TMP/a1")" = "old "
expect_exit 0 "--max-age 1d" "$NAVETTE" copy --max-age 1d "$A" "$NV_TMP/a2"
check "only the new file" test "$(files "$NV_TMP/a2")" = "new "

# ---- usage errors: exit 2 ----
expect_exit 2 "--max-delete without --delete" "$NAVETTE" sync --max-delete 5 "$S" "$D"
expect_line "navette: error: --delete-excluded, --allow-empty-source and --max-delete go with --delete" "says which"
expect_exit 2 "a bad --max-delete" "$NAVETTE" sync --delete --max-delete 120% "$S" "$D"
expect_line "navette: --max-delete takes a number of files (100) or a share of the destination (10%), not '120%'" "says which"
expect_exit 2 "a bad pattern" "$NAVETTE" sync --exclude 'a[b' "$S" "$D"
expect_line "navette: bad pattern 'a[b': unmatched '['" "names the pattern"
expect_exit 2 "--files-from with --exclude" "$NAVETTE" copy --files-from "$NV_TMP/list" --exclude x "$S" "$D"
expect_exit 2 "--min-age above --max-age" "$NAVETTE" copy --min-age 3d --max-age 1d "$S" "$D"
expect_line "navette: error: --min-age (259200s) is larger than --max-age (86400s): no file could pass" "says so"
expect_exit 2 "copy takes no --max-delete" "$NAVETTE" copy --max-delete 5 "$S" "$D"
nv_done
