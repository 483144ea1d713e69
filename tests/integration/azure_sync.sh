# azure_sync.sh: the CLI with Azure (Azurite) as target and as source: copy,
# unchanged re-run, sync --delete, Azure -> local, rclone interop (rclone check
# finds navette's blobs identical, rclone reads navette's mtime), and a vault
# pushed to Azure, verified there and pulled back.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
nv_start_azurite
nv_azurite_container plain
nv_azurite_container vault
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
A="az://$AZ_ACCOUNT/plain/tree"

S=$NV_TMP/src
mkdir -p "$S/dir one/sous-répertoire" "$S/z" "$S/a-b"
printf 'hello\n' >"$S/dir one/a file.txt"
printf 'été\n' >"$S/dir one/sous-répertoire/café ☕.txt"
printf 'order\n' >"$S/a-b/c"; printf 'order\n' >"$S/a0"
: >"$S/empty"
head -c 9000000 /dev/urandom >"$S/z/big.bin" # > 2 blocks of 4 MiB
chmod 600 "$S/empty"
touch -d '2021-02-03 04:05:06.5' "$S/dir one/a file.txt"
TZ=UTC touch -d '2021-02-03 04:05:06.5' "$S/dir one/sous-répertoire/café ☕.txt"

expect_exit 0 "copy local -> azure" env NAVETTE_HTTP_TRACE=1 "$NAVETTE" copy "$S" "$A"
# (The run's own lease, under navette-lease/, is written and read back: not counted.)
check "one PUT per small file, no HEAD (the MD5-checked commit vouches for the size)" \
	sh -c '! grep " HEAD " "$1" | grep -vq "/navette-lease/" && test "$(grep -c " PUT .*/tree/a0 " "$1")" -eq 1' sh "$NV_TMP/err"
expect_exit 0 "ls azure" "$NAVETTE" ls "$A"
check "ls lists the 6 files" test "$(wc -l <"$NV_TMP/out")" -eq 6
check "in global byte order (a-b/c < a0 < dir one/...)" \
	test "$(grep -no -e 'a-b/c$' -e 'a0$' -e 'café ☕.txt$' "$NV_TMP/out" | cut -d: -f1 | tr '\n' ' ')" = "1 2 4 "
expect_exit 0 "sync again: nothing to do" "$NAVETTE" sync "$S" "$A"
check "unchanged files skipped (size + mtime from blob metadata)" grep -q ' 0 copied' "$NV_TMP/err"

printf 'changed\n' >"$S/dir one/a file.txt"
rm "$S/a0"
expect_exit 0 "sync --delete after a change and a removal" "$NAVETTE" sync --delete "$S" "$A"
expect_exit 0 "copy azure -> local" env NAVETTE_HTTP_TRACE=1 "$NAVETTE" copy "$A" "$NV_TMP/back"
check "one GET per small file, no HEAD but for the empty one (the re-check uses the GET's answer)" \
	sh -c '! grep " HEAD " "$1" | grep -qv "/tree/empty " && test "$(grep -c " GET .*/tree/a-b/c " "$1")" -eq 1' sh "$NV_TMP/err"
check "round trip identical" diff -r "$S" "$NV_TMP/back"
check "mtime kept on the way back" \
	[ "$(stat -c %Y "$NV_TMP/back/z/big.bin")" = "$(stat -c %Y "$S/z/big.bin")" ]
check "mode kept on the way back (0600)" [ "$(stat -c %a "$NV_TMP/back/empty")" = 600 ]
expect_exit 0 "copy azure -> azure (another prefix)" "$NAVETTE" copy "$A" "az://$AZ_ACCOUNT/plain/copy2"
expect_exit 0 "copy that back" "$NAVETTE" copy "az://$AZ_ACCOUNT/plain/copy2" "$NV_TMP/back2"
check "azure -> azure identical" diff -r "$S" "$NV_TMP/back2"

if command -v rclone >/dev/null; then
	nv_azurite_remote "$NV_TMP/rclone.conf" azr azureblob "use_emulator = true"
	expect_exit 0 "rclone check finds navette's blobs identical (sizes and MD5s)" \
		rclone --config "$NV_TMP/rclone.conf" check "$S" azr:plain/tree
	TZ=UTC rclone --config "$NV_TMP/rclone.conf" lsl "azr:plain/tree/dir one/sous-répertoire" \
		>"$NV_TMP/lsl" 2>&1
	check "rclone reads navette's mtime (metadata mtime, RFC 3339)" \
		grep -q "2021-02-03 04:05:06.5" "$NV_TMP/lsl"
	head -c 3000000 /dev/urandom >"$NV_TMP/fromrclone.bin"
	touch -d '2019-05-06 07:08:09' "$NV_TMP/fromrclone.bin"
	rclone --config "$NV_TMP/rclone.conf" copy "$NV_TMP/fromrclone.bin" azr:plain/byrclone
	expect_exit 0 "navette copies rclone's blob" "$NAVETTE" copy "az://$AZ_ACCOUNT/plain/byrclone" "$NV_TMP/r"
	check "... intact" cmp -s "$NV_TMP/fromrclone.bin" "$NV_TMP/r/fromrclone.bin"
	check "... with rclone's mtime" \
		[ "$(stat -c %Y "$NV_TMP/r/fromrclone.bin")" = "$(stat -c %Y "$NV_TMP/fromrclone.bin")" ]
else
	echo "# rclone not installed: interop check skipped"
fi

# ---- a vault on Azure: push, verify, pull ----
if command -v age >/dev/null && [ -f "$NV_SRCDIR/tests/lib/vault.sh" ]; then
	. "$NV_SRCDIR/tests/lib/vault.sh"
	export NAVETTE_STATE_DIR="$NV_TMP/state"
	nv_keys "$NV_TMP/keys" || nv_die "keygen"
	V="az://$AZ_ACCOUNT/vault/v1"
	expect_exit 0 "init a vault on azure" "$NAVETTE" init "$V" \
		--recipients-file "$NV_TMP/keys/id.pub" --signing-key "$NV_TMP/keys/sign"
	expect_exit 0 "push to azure" "$NAVETTE" push "$S" "$V" --signing-key "$NV_TMP/keys/sign"
	expect_exit 0 "verify on azure (hash)" "$NAVETTE" verify "$V" --level hash
	expect_exit 0 "pull from azure" "$NAVETTE" pull "$V" "$NV_TMP/pulled" \
		--identity "$NV_TMP/keys/id.txt"
	check "pulled tree identical" diff -r "$S" "$NV_TMP/pulled"
	expect_exit 0 "copy the vault's ciphertext from azure" "$NAVETTE" copy "$V" "$NV_TMP/vcopy"
	check "stock tools restore it" nv_manual_restore "$NV_TMP/vcopy" "$NV_TMP/keys/id.txt" \
		"$NV_TMP/keys/sign.pub" "$NV_TMP/r2"
	check "stock restore identical" diff -r "$S" "$NV_TMP/r2"
else
	echo "# age or the vault helpers missing: vault on azure skipped"
fi
nv_done
