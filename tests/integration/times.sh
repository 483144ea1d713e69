# times.sh: file times out of range (issue 12, defect 8). Years 1 to 9999 UTC are
# shown and applied; a time outside (a crafted catalog, a file dated 2^63-1) is shown
# as @SECONDS with a warning naming the path and never applied (the written file keeps
# the time of its writing, with a warning), and sync compares such a file by size; a
# time the destination file system cannot hold is stored as it clamps it, with a warning.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
I=(--identity "$K/id.txt")
cd "$NV_TMP" || nv_die "cd"

# within [start, end]: the file got the time of its writing
written_now() { local t; t=$(stat -c %Y "$1"); [ "$t" -ge "$2" ] && [ "$t" -le "$3" ]; }

# ---- a crafted catalog ----
V=V
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
cat >entries.json <<'JSON'
[{"path": "big", "data": "b", "mtime": 9223372036854775807},
 {"path": "fine", "data": "f", "mtime": 1700000000},
 {"path": "neg", "data": "n", "mtime": -9223372036854775808},
 {"path": "y10000", "data": "t", "mtime": 253402300800},
 {"path": "y3000", "data": "3", "mtime": 32503680000}]
JSON
mkdir -p "$V/manifests"
python3 "$NV_SRCDIR/tests/integration/vault_craft.py" gen "$V" "$(cat "$K/id.pub")" "$K/sign" \
	entries.json >/dev/null || nv_die "crafting"
cat >want.ls <<'EOF2'
           1 @9223372036854775807 big
           1 2023-11-14T22:13:20Z fine
           1 @-9223372036854775808 neg
           1 @253402300800        y10000
           1 3000-01-01T00:00:00Z y3000
EOF2
expect_exit 0 "ls of a catalog with out-of-range times" "$NAVETTE" ls "$V" "${I[@]}"
check "ls: out-of-range times printed as @SECONDS, the others as dates" diff want.ls "$NV_TMP/out"
cp "$NV_TMP/out" first.ls
expect_exit 0 "ls again" "$NAVETTE" ls "$V" "${I[@]}"
check "ls: the same output on every run" cmp first.ls "$NV_TMP/out"
expect_err "^navette: warning: big: mtime 9223372036854775807 is outside the years 1 to 9999 \(shown as @9223372036854775807\)$" \
	"ls: a warning names the path"
expect_err "warning: neg: mtime -9223372036854775808 is outside" "ls: the past too"
check "ls: one warning per out-of-range time" test "$(grep -c 'is outside the years' "$NV_TMP/err")" -eq 3
expect_exit 0 "ls --json" "$NAVETTE" ls --json "$V" "${I[@]}"
check "ls --json: the raw number as @SECONDS" \
	grep -qx '{"path":"big","size":1,"mtime":"@9223372036854775807","mode":"0644"}' "$NV_TMP/out"

start=$(date +%s)
expect_exit 0 "pull of a catalog with out-of-range times" "$NAVETTE" pull "$V" R "${I[@]}"
end=$(date +%s)
for f in big neg y10000; do
	check "pull: $f keeps the time of its writing (not clamped)" written_now "R/$f" "$start" "$end"
	expect_err "^navette: warning: $f: mtime -?[0-9]+ is outside the years 1 to 9999: not applied, the file keeps the time of its writing$" \
		"pull: a warning names $f"
done
check "pull: an in-range time is applied" test "$(stat -c %Y R/fine)" = 1700000000
# the file system of R may not hold year 3000 (ext4 stops in 2446): then it says so
if [ "$(stat -c %Y R/y3000)" = 32503680000 ]; then
	check "pull: year 3000 applied, no warning" test "$(grep -c 'y3000' "$NV_TMP/err")" -eq 0
else
	expect_err "^navette: warning: y3000: the file system stored mtime [0-9T:Z-]+ instead of 3000-01-01T00:00:00Z$" \
		"pull: the file system's clamp of year 3000 is said"
fi

# ---- the local driver: files dated far in the future and the past (tmpfs holds them) ----
shm=$(mktemp -d /dev/shm/navette-times.XXXXXX 2>/dev/null) || nv_skip_rest=1
if [ -n "$shm" ]; then
	nv_at_exit "rm -rf '$shm'"
	printf f >"$shm/future"; printf p >"$shm/past"; printf ok >"$shm/ok"
	python3 -c 'import os, sys; os.utime(sys.argv[1], (0, 2**63 - 1)); os.utime(sys.argv[2], (0, -2**63))' \
		"$shm/future" "$shm/past"
fi
if [ -z "$shm" ] || [ "$(stat -c %Y "$shm/future")" != 9223372036854775807 ]; then
	echo "# /dev/shm cannot hold a time of 2^63-1: the local-driver part is skipped"
	nv_done; exit
fi
expect_exit 0 "ls of local files dated 2^63-1 and -2^63" "$NAVETTE" ls "$shm"
check "ls: @SECONDS for both" test "$(awk '{print $2, $3}' "$NV_TMP/out" | tr '\n' ' ')" = \
	"@9223372036854775807 future $(date -u -d "@$(stat -c %Y "$shm/ok")" +%FT%TZ) ok @-9223372036854775808 past "
expect_err "warning: future: mtime 9223372036854775807 is outside the years 1 to 9999" "ls: the future file is named"

start=$(date +%s)
expect_exit 0 "sync of those files" "$NAVETTE" -v sync "$shm" D
end=$(date +%s)
check "sync: future keeps the time of its writing" written_now D/future "$start" "$end"
check "sync: past keeps the time of its writing" written_now D/past "$start" "$end"
expect_err "warning: future: mtime 9223372036854775807 is outside the years 1 to 9999: not applied" \
	"sync: a warning names the file"
expect_err "3 copied" "sync: all three copied"
expect_exit 0 "sync again" "$NAVETTE" sync "$shm" D
expect_err "0 copied \(0\.0 MiB, [0-9.]+ MiB/s\), 3 unchanged" "sync again: compared by size, nothing copied"

# push records the time as the file system gave it; readers apply the rule
"$NAVETTE" init V2 --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init V2"
expect_exit 0 "push of those files" "$NAVETTE" push "$shm" V2 --signing-key "$K/sign"
expect_exit 0 "ls of the pushed vault" "$NAVETTE" ls V2 "${I[@]}"
check "ls: the catalog holds the raw time" grep -q ' @9223372036854775807 future$' "$NV_TMP/out"
start=$(date +%s)
expect_exit 0 "pull of the pushed vault" "$NAVETTE" pull V2 R2 "${I[@]}"
end=$(date +%s)
check "pull: future keeps the time of its writing" written_now R2/future "$start" "$end"
expect_err "warning: past: mtime -9223372036854775808 is outside the years 1 to 9999: not applied" \
	"pull: a warning names the file"
nv_done
