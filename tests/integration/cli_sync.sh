# cli_sync.sh: copy, sync and check of plain trees on the local driver.
. "$NV_SRCDIR/tests/lib/common.sh"

src="$NV_TMP/src"; dst="$NV_TMP/dst"
mkdir -p "$src/a/deep/er" "$src/b" "$src/sp ace"
head -c 3000000 /dev/urandom >"$src/a/big"
echo one >"$src/a-b"; echo two >"$src/a0"; echo three >"$src/a/deep/er/x"
echo "é" >"$src/sp ace/fichier é+1.txt"
: >"$src/b/empty"
chmod 640 "$src/a0"
touch -d '2001-02-03 04:05:06' "$src/a-b"

expect_exit 0 "sync to a new directory" "$NAVETTE" sync "$src" "$dst"
check "trees identical" diff -r "$src" "$dst"
check "mtime kept" test "$(stat -c %Y "$dst/a-b")" = "$(stat -c %Y "$src/a-b")"
check "mode kept" test "$(stat -c %a "$dst/a0")" = 640
expect_exit 0 "check finds them identical" "$NAVETTE" check "$src" "$dst"
expect_err "6 identical, 0 differ" "check counts"

expect_exit 0 "no-change sync" "$NAVETTE" -v sync "$src" "$dst"
grep -q "^copied" "$NV_TMP/err" && not_ok "nothing recopied" || ok "nothing recopied"

# same size and mtime but other content: skipped by default, found by --checksum
printf 'ONE\n' >"$dst/a-b"; touch -r "$src/a-b" "$dst/a-b"
expect_exit 1 "check sees the difference" "$NAVETTE" check "$src" "$dst"
expect_err "differ a-b" "check names the file"
expect_exit 0 "size+mtime sync skips it" "$NAVETTE" sync "$src" "$dst"
check "still different" test "$(cat "$dst/a-b")" = ONE
expect_exit 0 "--checksum sync fixes it" "$NAVETTE" -v sync --checksum "$src" "$dst"
check "fixed" test "$(cat "$dst/a-b")" = one

# dry run changes nothing
echo new >"$src/new"
echo extra >"$dst/extra"
expect_exit 0 "dry run" "$NAVETTE" sync --dry-run --delete "$src" "$dst"
expect_err "would copy new" "dry run names the copy"
expect_err "would delete extra" "dry run names the deletion"
check "dry run copied nothing" test ! -e "$dst/new"
check "dry run deleted nothing" test -e "$dst/extra"

# copy never deletes; sync without --delete neither; sync --delete does
expect_exit 0 "copy" "$NAVETTE" copy "$src" "$dst"
check "copy copied" test -e "$dst/new"
check "copy kept extra" test -e "$dst/extra"
expect_exit 0 "sync --delete" "$NAVETTE" sync --delete --verify reread "$src" "$dst"
check "extra deleted" test ! -e "$dst/extra"
check "identical after --delete" diff -r "$src" "$dst"

# a failed transfer: partial (3), the rest done, nothing deleted, no temp files.
# (The first write of a sync is its lease object at DST: the files' come after.)
echo extra >"$dst/extra2"
echo c1 >"$src/c1"; echo c2 >"$src/c2"; echo c3 >"$src/c3"
expect_exit 3 "one write fails: partial" env NAVETTE_FAULT=write_commit@3=io "$NAVETTE" sync --delete --transfers 1 --retries 0 "$src" "$dst"
expect_err "failed .*injected fault" "failure names the file"
expect_err "not deleting" "no deletion after an error"
check "extra kept after error" test -e "$dst/extra2"
n=$(ls "$dst"/c? 2>/dev/null | wc -l)
check "the other files copied" test "$n" -eq 2
check "no temp file left" test -z "$(find "$dst" -name '.navette-tmp*')"
# transient errors are retried
expect_exit 0 "a transient error is retried" env NAVETTE_FAULT=write_commit@2=retry "$NAVETTE" -v sync --delete "$src" "$dst"
expect_err "^retry c2: .*injected fault" "the retry is the file's"
check "identical after retry" diff -r "$src" "$dst"
# disk full: fatal (4), clear error
echo d >"$src/d1"
expect_exit 4 "disk full is fatal" env NAVETTE_FAULT=write@2=nospc "$NAVETTE" sync "$src" "$dst"
expect_err "injected fault" "disk full reported"
check "nothing half-written" test ! -e "$dst/d1"

# never write outside DST: keys are relative; a symlink in SRC is not followed
ln -s /etc "$src/etc-link"
expect_exit 0 "symlinks are skipped" "$NAVETTE" sync "$src" "$dst"
check "symlink not copied" test ! -e "$dst/etc-link"
rm "$src/etc-link"

# JSON logs
expect_exit 0 "json log" "$NAVETTE" --log-json -v sync --checksum "$src" "$NV_TMP/dst2"
check "json lines" grep -q '"event":"item","action":"copied","path":"a/big","sha256":"[0-9a-f]\{64\}"' "$NV_TMP/err"
big_sha=$(sha256sum "$src/a/big" | cut -d' ' -f1)
check "json carries the SHA-256" grep -q "$big_sha" "$NV_TMP/err"

# ls in both forms, and --progress
expect_exit 0 "ls" "$NAVETTE" ls "$src"
check "ls lists in byte order" sh -c "awk '{print \$NF}' '$NV_TMP/out' | head -3 | tr '\n' ' ' | grep -q '^a-b a/big a/deep/er/x'"
expect_exit 0 "ls --json" "$NAVETTE" ls --json "$src"
check "ls --json lines" grep -q '^{"path":"a/big","size":3000000,"mtime":"[0-9T:Z-]*","mode":"0[0-7]*"}$' "$NV_TMP/out"
expect_exit 0 "sync --progress" "$NAVETTE" sync --progress "$src" "$NV_TMP/dst3"
check "identical with --progress" diff -r "$src" "$NV_TMP/dst3"

# the check command: missing and extra files
rm "$NV_TMP/dst2/new"; echo z >"$NV_TMP/dst2/zz"
expect_exit 1 "check: missing and extra" "$NAVETTE" check "$src" "$NV_TMP/dst2"
expect_err "missing new" "missing reported"
expect_err "extra zz" "extra reported"
nv_done
