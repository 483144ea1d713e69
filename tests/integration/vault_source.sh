# vault_source.sh: what push takes from the source driver's listing: size,
# mtime, mode, ctime and inode. A file is read again whenever its ctime or
# inode moved, even with its size and mtime kept (touch -r, a rename over it,
# chmod); the catalog carries the listed mode and mtime; the host's cache
# keeps its documented columns (docs/FORMAT.md 4).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"

K="$NV_TMP/keys"
nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/sub"
head -c 70000 /dev/urandom >"$D/a.bin"
head -c 3000 /dev/urandom >"$D/sub/b"
echo "c" >"$D/c"
chmod 640 "$D/c"
touch -d '2001-02-03 04:05:06.5' "$D/sub/b"
push() { expect_exit 0 "$1" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"; }
# catalog FIELD PATH: a field of PATH's line in the newest generation's catalog
catalog() {
	rm -rf "$NV_TMP/r"
	nv_manual_restore "$V" "$K/id.txt" "$K/sign.pub" "$NV_TMP/r" >/dev/null || return 1
	jq -r --arg p "$2" "select(.path == \$p) | .$1" "$NV_TMP/catalog.jsonl"
}

expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign"
push "push"
expect_err "generation 1: 3 files, 3 read, 3 uploaded" "every file read once"
check "catalog mtime is the file's (seconds)" test "$(catalog mtime sub/b)" = "$(stat -c %Y "$D/sub/b")"
check "catalog mtime is the file's (nanoseconds)" test "$(catalog mtime_ns sub/b)" = 500000000
check "catalog mode is the file's" test "$(catalog mode c)" = $((8#640))
vid=$(jq -r .vault_id "$V/navette-vault.json")
cache="$NAVETTE_STATE_DIR/push/$vid/cache.tsv"
check "cache: one line per file, six columns" \
	test "$(awk -F '\t' 'NF == 6' "$cache" | wc -l)" -eq 3
check "cache: size, mtime_ns, ctime_ns, inode and SHA-256 of the file" \
	test "$(awk -F '\t' '$1 == "sub/b" { print $2, $3, $4, $5, $6 }' "$cache")" = \
	"$(stat -c '%s %Y500000000 %.9Z %i' "$D/sub/b" | tr -d .) $(sha256sum <"$D/sub/b" | cut -d' ' -f1)"

push "unchanged push"
expect_err "no change.*3 files, 0 read, 0 uploaded" "the cache spares every read"

# same size, same mtime, other bytes: only the ctime tells
cp -p "$D/a.bin" "$NV_TMP/a.orig"
head -c 70000 /dev/urandom >"$D/a.bin"
touch -r "$NV_TMP/a.orig" "$D/a.bin"
check "size and mtime kept" test "$(stat -c '%s %Y' "$D/a.bin")" = "$(stat -c '%s %Y' "$NV_TMP/a.orig")"
push "push after a rewrite that kept size and mtime"
expect_err "generation 2: 3 files, 1 read, 1 uploaded" "the rewritten file is read (ctime moved)"
check "its new contents are stored" test "$(catalog sha256 a.bin)" = "$(sha256sum <"$D/a.bin" | cut -d' ' -f1)"

# the same bytes and times under a new inode (a copy renamed over it)
cp -p "$D/sub/b" "$D/sub/.b.new" && mv "$D/sub/.b.new" "$D/sub/b"
push "push after a rename over a file"
expect_err "no change.*3 files, 1 read, 0 uploaded" "the replaced file is read (new inode), nothing new stored"

chmod 600 "$D/c"
push "push after chmod"
expect_err "generation 3: 3 files, 1 read, 0 uploaded" "a chmod reads the file again (ctime moved)"
check "the catalog has the new mode" test "$(catalog mode c)" = $((8#600))
push "unchanged push again"
expect_err "no change.*0 read" "the cache holds again"
nv_done
