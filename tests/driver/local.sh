# local.sh: runs the driver conformance suite against the local driver, in every
# location form and fsync mode, and checks that a run leaves nothing behind.
. "$NV_SRCDIR/tests/lib/common.sh"
conf="$NV_BUILDDIR/tests/driver/nv-conformance"

# leaves_nothing DIR: the root exists and holds nothing (no temp files, no empty dirs).
leaves_nothing() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 | head -1)" ]; }

check "file:// URL, root made at first write" "$conf" "file://$NV_TMP/url/root"
check "file:// run leaves nothing" leaves_nothing "$NV_TMP/url/root"
check "plain absolute path" "$conf" "$NV_TMP/plain"
check "plain run leaves nothing" leaves_nothing "$NV_TMP/plain"
mkdir -p "$NV_TMP/rel"
check "relative path" sh -c 'cd "$1" && "$2" ./here' sh "$NV_TMP/rel" "$conf"
check "relative run leaves nothing" leaves_nothing "$NV_TMP/rel/here"
check "fsync=each" env NAVETTE_FSYNC=each "$conf" "$NV_TMP/each"
check "fsync=none" env NAVETTE_FSYNC=none "$conf" "$NV_TMP/none"
check "without openat2 (component walk)" env NAVETTE_LOCAL_NO_OPENAT2=1 "$conf" "$NV_TMP/walk"
check "walk run leaves nothing" leaves_nothing "$NV_TMP/walk"
check "named temp files (no O_TMPFILE)" env NAVETTE_LOCAL_NO_TMPFILE=1 "$conf" "$NV_TMP/named"
check "named run leaves nothing" leaves_nothing "$NV_TMP/named"
expect_exit 1 "a bad fsync value fails" env NAVETTE_FSYNC=sometimes "$conf" "$NV_TMP/bad"
expect_err "fsync" "the error names the fsync setting"
nv_done
