# sftp_sync.sh: navette ls / copy / sync to and from a real sshd: global key order,
# unicode and spaces, mtime and mode kept, unchanged re-run, --delete, sftp -> local;
# no directory left empty by a removal (the lease's navette-lease/, a deleted
# file's folder), as on a local disk.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF
R=$NV_SSHD_DIR/remote

# Listing order is global byte order: a-b/c < a/c < a0 (per-directory sorting gives a/c first).
mkdir -p "$R/ord/a-b" "$R/ord/a" "$R/ord/sub/deeper"
for f in a-b/c a/c a0 sub/deeper/z sub/y; do echo "$f" >"$R/ord/$f"; done
touch "$R/ord/.navette-tmp.0123456789abcdef"          # a writer's temp file: never listed
ln -s a0 "$R/ord/link"                                 # symlinks are not followed
expect_exit 0 "ls over sftp" "$NAVETTE" ls "ssh:$R/ord"
awk '{print $NF}' "$NV_TMP/out" >"$NV_TMP/keys"
printf 'a-b/c\na/c\na0\nsub/deeper/z\nsub/y\n' >"$NV_TMP/want"
check "listing in global byte order, temp files and symlinks skipped" cmp -s "$NV_TMP/keys" "$NV_TMP/want"
expect_exit 0 "ls of the URL form, absolute path" env NAVETTE_KEY_FILE="$NV_SSHD_KEY" \
	NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" "$NAVETTE" ls "sftp://root@127.0.0.1:$NV_SSHD_PORT$R/ord"
check "URL form lists the same keys" cmp -s <(awk '{print $NF}' "$NV_TMP/out") "$NV_TMP/want"

# A tree with unicode, spaces, empty and larger files, odd modes and old mtimes.
S=$NV_TMP/src
mkdir -p "$S/dir one/sous-répertoire" "$S/z"
printf 'hello\n' >"$S/dir one/a file.txt"
printf 'été\n' >"$S/dir one/sous-répertoire/café ☕.txt"
: >"$S/empty"
head -c 5000000 /dev/urandom >"$S/z/big.bin"
chmod 600 "$S/empty"; chmod 755 "$S/z/big.bin"
touch -d '2001-02-03 04:05:06' "$S/dir one/a file.txt"
expect_exit 0 "copy local -> sftp" "$NAVETTE" copy "$S" "ssh:$R/dst"
check "tree arrived intact" diff -r "$S" "$R/dst"
check "the lease's folder went with the lease" test ! -e "$R/dst/navette-lease"
check "mtime kept" [ "$(stat -c %Y "$R/dst/dir one/a file.txt")" = "$(stat -c %Y "$S/dir one/a file.txt")" ]
check "mode kept (0600)" [ "$(stat -c %a "$R/dst/empty")" = 600 ]
check "mode kept (0755)" [ "$(stat -c %a "$R/dst/z/big.bin")" = 755 ]
check "no temp file left" [ -z "$(find "$R/dst" -name '.navette-tmp.*')" ]

expect_exit 0 "sync again: nothing to do" "$NAVETTE" sync "$S" "ssh:$R/dst"
check "unchanged files skipped" grep -q ' 0 copied' "$NV_TMP/err"

printf 'changed\n' >"$S/dir one/a file.txt"
rm "$S/empty"
mv "$S/dir one/sous-répertoire/café ☕.txt" "$S/dir one/"; rmdir "$S/dir one/sous-répertoire"
expect_exit 0 "sync --delete after a change and a removal" "$NAVETTE" sync --delete --max-delete 100% "$S" "ssh:$R/dst"
check "changed file replaced" cmp -s "$S/dir one/a file.txt" "$R/dst/dir one/a file.txt"
check "removed file deleted" [ ! -e "$R/dst/empty" ]
check "the folder it emptied removed" [ ! -e "$R/dst/dir one/sous-répertoire" ]
check "the folders still holding files kept" [ -d "$R/dst/dir one" ] && [ -d "$R/dst/z" ]
check "the same tree" diff -r "$S" "$R/dst"

expect_exit 0 "copy sftp -> local" "$NAVETTE" copy "ssh:$R/dst" "$NV_TMP/back"
check "round trip identical" diff -r "$S" "$NV_TMP/back"
check "mtime kept on the way back" \
	[ "$(stat -c %Y "$NV_TMP/back/z/big.bin")" = "$(stat -c %Y "$S/z/big.bin")" ]

expect_exit 0 "copy sftp -> sftp" "$NAVETTE" copy "ssh:$R/dst" "ssh:$R/dst2"
check "sftp -> sftp identical" diff -r "$S" "$R/dst2"

expect_exit 0 "check finds no difference" "$NAVETTE" check "$S" "ssh:$R/dst"

# SFTP version 3 sends times as 32 unsigned bits (1970 to 2106): a file of 2200 or
# of 1960 keeps the time of its writing there, and says so, never a time cut to another
T=$NV_TMP/times; mkdir -p "$T"; echo a >"$T/y2200"; echo b >"$T/y1960"; echo c >"$T/y2001"
touch -d @7258118400 "$T/y2200"; touch -d @-315619200 "$T/y1960"; touch -d @978307200 "$T/y2001"
start=$(date +%s)
expect_exit 0 "sync of files dated 1960 and 2200 to sftp" "$NAVETTE" sync "$T" "ssh:$R/times"
end=$(date +%s)
for f in y2200:7258118400 y1960:-315619200; do
	t=$(stat -c %Y "$R/times/${f%%:*}")
	check "${f%%:*}: the time of its writing at the server" test "$t" -ge "$start" -a "$t" -le "$end"
	expect_err "^navette: warning: ${f%%:*}: SFTP holds times from 1970 to 2106 only: mtime ${f#*:} not applied, the file keeps the time of its writing$" \
		"${f%%:*}: a warning names the file"
done
check "y2001: its time" test "$(stat -c %Y "$R/times/y2001")" = 978307200
nv_done
