# push_filter.sh: push takes sync's filters (--exclude, --include,
# --exclude-from, --files-from, --min-age, --max-age) with the same semantics,
# and a filtered push publishes a generation of exactly the files that pass,
# as a push of that smaller tree would. On a table of patterns: the files of
# each generation (navette ls) are the table's, and the ones `navette copy
# --dry-run` would copy with the same options; older generations keep what a
# later filter left out.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
set -f # patterns are the commands', never the shell's

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
D="$NV_TMP/tree"; V="$NV_TMP/vault"
for f in docs/a.txt docs/b.tmp docs/sub/c.txt photos/x.jpg photos/old/y.jpg \
	photos/old/z.png cache/k.bin cache/deep/l.jpg top.tmp readme; do
	mkdir -p "$D/$(dirname "$f")"; echo "$f" >"$D/$f"
done
touch -d '10 days ago' "$D/photos/old/y.jpg" "$D/photos/old/z.png" "$D/readme"
printf '# comment\n*.tmp\n\ncache/\n' >"$NV_TMP/excludes"
printf 'docs/a.txt\n/photos/x.jpg\nnot/there\n' >"$NV_TMP/list"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"

# options<TAB>the files of the generation (sorted, space-separated)
while IFS=$'\t' read -r opts want; do
	opts=${opts//@EX@/$NV_TMP/excludes}; opts=${opts//@LIST@/$NV_TMP/list}
	# shellcheck disable=SC2086 # word splitting of the options is meant
	expect_exit 0 "push $opts" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" $opts
	expect_exit 0 "  ls of the generation" "$NAVETTE" ls "$V" --identity "$K/id.txt"
	got=$(awk '{print $NF}' "$NV_TMP/out" | LC_ALL=C sort | tr '\n' ' ')
	check "  its files: $want" test "$got" = "$want "
	# shellcheck disable=SC2086
	expect_exit 0 "  copy --dry-run $opts" "$NAVETTE" copy --dry-run "$D" "$NV_TMP/none" $opts
	same=$(sed -n 's/^would copy //p' "$NV_TMP/err" | LC_ALL=C sort | tr '\n' ' ')
	check "  the files copy would take" test "$same" = "$want "
done <<'EOF'
--exclude *.tmp	cache/deep/l.jpg cache/k.bin docs/a.txt docs/sub/c.txt photos/old/y.jpg photos/old/z.png photos/x.jpg readme
--include *.jpg	cache/deep/l.jpg photos/old/y.jpg photos/x.jpg
--exclude cache/	docs/a.txt docs/b.tmp docs/sub/c.txt photos/old/y.jpg photos/old/z.png photos/x.jpg readme top.tmp
--include /docs/**	docs/a.txt docs/b.tmp docs/sub/c.txt
--exclude photos/old/** --include *.jpg	cache/deep/l.jpg photos/x.jpg
--include *.jpg --exclude photos/old/**	cache/deep/l.jpg photos/old/y.jpg photos/x.jpg
--include {readme,*.png}	photos/old/z.png readme
--exclude-from @EX@ --exclude photos/	docs/a.txt docs/sub/c.txt readme
--files-from @LIST@	docs/a.txt photos/x.jpg
--min-age 2d	photos/old/y.jpg photos/old/z.png readme
--max-age 2d --exclude *.tmp	cache/deep/l.jpg cache/k.bin docs/a.txt docs/sub/c.txt photos/x.jpg
--max-age 2d --include docs/	docs/a.txt docs/b.tmp docs/sub/c.txt
EOF

expect_exit 0 "ls of the first generation" "$NAVETTE" ls "$V" --identity "$K/id.txt" --generation 1
check "it still holds cache/k.bin, left out since" grep -q ' cache/k.bin$' "$NV_TMP/out"
expect_exit 0 "an unfiltered push has every file again" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "published generation 13: 10 files" "all ten"
expect_exit 2 "--files-from with another filter is refused, as for sync" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" --files-from "$NV_TMP/list" --exclude x
expect_err "files-from" "the message says why"
expect_exit 2 "a malformed pattern is refused" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" --exclude '[a'
check "nothing published by the refused runs" test "$(ls "$V/manifests" | grep -c '\.json$')" -eq 13
expect_exit 0 "pull restores the filtered generation as it was" "$NAVETTE" pull "$V" "$NV_TMP/r2" \
	--identity "$K/id.txt" --generation 2
check "  its three files" test "$(cd "$NV_TMP/r2" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = \
	"./cache/deep/l.jpg ./photos/old/y.jpg ./photos/x.jpg "
nv_done
