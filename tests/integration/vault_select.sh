# vault_select.sh: which files a pull restores (src/vault/vault_select.c): an
# empty vault restores nothing (exit 4), every PATH that names nothing is
# named (exit 2, nothing written), a directory PATH takes all beneath it and
# never a sibling that merely shares its prefix.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"; R="$NV_TMP/r"
I=(--identity "$K/id.txt")
mkdir -p "$D/a/b" "$D/a-b"
echo 1 >"$D/a/b/one"; echo 2 >"$D/a/two"; echo 3 >"$D/a-b/three"; echo 4 >"$D/a.txt"

"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
expect_exit 4 "pull of a vault with no generation" "$NAVETTE" pull "$V" "$R/empty" "${I[@]}"
expect_err "no generation yet: nothing to restore" "the empty vault is named"
check "nothing restored" test ! -e "$R/empty"

"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
expect_exit 2 "PATHs that name nothing" "$NAVETTE" pull "$V" "$R/none" "${I[@]}" nope1 a nope2
expect_err "generation 1 is named nope1" "the first is named"
expect_err "generation 1 is named nope2" "the second is named"
check "nothing restored for a bad PATH" test ! -e "$R/none"
expect_exit 0 "a directory PATH, with and without its slash" "$NAVETTE" pull "$V" "$R/dir" "${I[@]}" a/ a/b
check "everything beneath a/" test "$(cd "$R/dir" && find . -type f | sort | tr '\n' ' ')" = "./a/b/one ./a/two "
expect_exit 0 "a file PATH" "$NAVETTE" pull "$V" "$R/file" "${I[@]}" a.txt
check "the file alone" test "$(cd "$R/file" && find . -type f)" = "./a.txt"
nv_done
