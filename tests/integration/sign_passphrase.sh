# sign_passphrase.sh: passphrase-protected signing keys (ssh-keygen -N) on every
# command that loads one (init, push), through --passphrase-file, the variable and
# the config: the signatures made verify with stock ssh-keygen -Y verify; a wrong
# passphrase, a passphrase file others may read, and no passphrase without a
# terminal are refused with exit 2 and a message, nothing published.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"

K=$NV_TMP/keys; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR=$NV_TMP/state
V=$NV_TMP/vault; D=$NV_TMP/data
mkdir -p "$D"; echo alpha >"$D/a"; head -c 200000 /dev/urandom >"$D/big"
PASS='sign-test passphrase'
ssh-keygen -q -t ed25519 -N "$PASS" -C esign -f "$K/esign" || nv_die "ssh-keygen"
# The same key under the other ciphers ssh-keygen offers (default: aes256-ctr).
for z in aes256-gcm@openssh.com chacha20-poly1305@openssh.com aes256-cbc; do
	cp "$K/esign" "$K/esign-$z"
	ssh-keygen -q -p -P "$PASS" -N "$PASS" -Z "$z" -f "$K/esign-$z" >/dev/null || nv_die "ssh-keygen -p $z"
done
pf() { printf '%s\n' "$2" >"$NV_TMP/$1"; chmod 600 "$NV_TMP/$1"; echo "$NV_TMP/$1"; }
GOOD=$(pf good "$PASS"); BAD=$(pf bad 'Tr0ub4dor-guess')
OTHERS=$(pf others "$PASS"); chmod 604 "$OTHERS"
echo "navette $(cut -d' ' -f1,2 "$K/esign.pub")" >"$NV_TMP/allowed_signers"
lacks() { ! grep -q "$@"; }
# sigok FILE NAMESPACE: stock ssh-keygen accepts FILE.sig by the encrypted key.
sigok() {
	ssh-keygen -Y verify -f "$NV_TMP/allowed_signers" -I navette -n "$2" -s "$1.sig" <"$1" >/dev/null 2>&1
}
gen() { printf '%s/manifests/%020d.json' "$V" "$1"; }

expect_exit 2 "init: wrong passphrase (exit 2)" \
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/esign" --passphrase-file "$BAD"
expect_err "^navette: error: signing key: $K/esign: wrong passphrase\$" "  the message says so"
check "  the passphrase never appears in messages" lacks -e 'Tr0ub4dor' -e "$PASS" "$NV_TMP/err"
check "  no vault made" test ! -e "$V/navette-vault.json"
expect_exit 0 "init with an encrypted signing key and --passphrase-file" \
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/esign" --passphrase-file "$GOOD"
check "  ssh-keygen -Y verify accepts the descriptor's signature" sigok "$V/navette-vault.json" navette-vault

expect_exit 0 "push with an encrypted signing key and --passphrase-file" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/esign" --passphrase-file "$GOOD"
check "  ssh-keygen -Y verify accepts the manifest's signature" sigok "$(gen 1)" navette-manifest
check "  and the heartbeat's" sigok "$V/heartbeat.json" navette-manifest
expect_exit 0 "  navette verify pins and accepts it" \
	"$NAVETTE" verify "$V" --level hash --signing-pubkey "$K/esign.pub"
n=1
for z in aes256-gcm@openssh.com chacha20-poly1305@openssh.com aes256-cbc; do
	n=$((n + 1)); echo "$z" >"$D/a"
	expect_exit 0 "push with the key encrypted by $z" \
		"$NAVETTE" push "$D" "$V" --signing-key "$K/esign-$z" --passphrase-file "$GOOD"
	check "  ssh-keygen -Y verify accepts generation $n" sigok "$(gen $n)" navette-manifest
	expect_exit 2 "  $z: wrong passphrase (exit 2)" \
		"$NAVETTE" push "$D" "$V" --signing-key "$K/esign-$z" --passphrase-file "$BAD"
	expect_err "^navette: error: signing key: $K/esign-$z: wrong passphrase\$" "  the message says so"
done

echo changed >"$D/a"; next=$(gen $((n + 1)))
expect_exit 2 "push: wrong passphrase (exit 2)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/esign" --passphrase-file "$BAD"
expect_err "^navette: error: signing key: $K/esign: wrong passphrase\$" "  the message says so"
check "  the passphrase never appears in messages" lacks -e 'Tr0ub4dor' -e "$PASS" "$NV_TMP/err"
check "  nothing published" test ! -e "$next"
expect_exit 2 "push: a passphrase file others may read is refused (exit 2)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/esign" --passphrase-file "$OTHERS"
expect_err "passphrase file: $OTHERS is accessible by group or others \\(mode 0604\\)" \
	"  the message names the file and its mode"
check "  nothing published" test ! -e "$next"
expect_exit 2 "push: no passphrase and no terminal: refused, no prompt (exit 2)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/esign" </dev/null
expect_err "signing key: $K/esign is passphrase-protected: give --passphrase-file \\(stdin is not a terminal\\), or set NAVETTE_PASSPHRASE_FILE or passphrase_file = in \\[navette\\] of the config\$" \
	"  the message says how to give it"
check "  no prompt written" lacks 'Passphrase for' "$NV_TMP/err"
check "  nothing published" test ! -e "$next"
expect_exit 2 "init: no passphrase and no terminal (exit 2)" \
	"$NAVETTE" init "$NV_TMP/v2" --recipients-file "$K/id.pub" --signing-key "$K/esign" </dev/null
expect_err "is passphrase-protected: give --passphrase-file" "  the message says how to give it"
check "  no vault made" test ! -e "$NV_TMP/v2/navette-vault.json"

# The other routes to the passphrase file, as for the identity.
expect_exit 0 "push: NAVETTE_PASSPHRASE_FILE names the file" \
	env NAVETTE_PASSPHRASE_FILE="$GOOD" "$NAVETTE" push "$D" "$V" --signing-key "$K/esign"
check "  ssh-keygen -Y verify accepts it" sigok "$next" navette-manifest
C=$NV_TMP/navette.conf
printf '[navette]\nsigning_key = %s\npassphrase_file = %s\n' "$K/esign" "$GOOD" >"$C"; chmod 600 "$C"
echo again >"$D/a"
expect_exit 0 "push: signing_key and passphrase_file in the config's [navette] section" \
	"$NAVETTE" --config "$C" push "$D" "$V"
check "  ssh-keygen -Y verify accepts it" sigok "$(gen $((n + 2)))" navette-manifest
expect_exit 0 "a plain signing key ignores a passphrase file" \
	"$NAVETTE" init "$NV_TMP/v3" --recipients-file "$K/id.pub" --signing-key "$K/sign" --passphrase-file "$GOOD"
# navette signs with Ed25519 keys only; an encrypted key of another type says so.
ssh-keygen -q -t ecdsa -N "$PASS" -f "$K/ecdsa" || nv_die "ssh-keygen ecdsa"
expect_exit 2 "push: an encrypted ECDSA key is refused (exit 2)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/ecdsa" --passphrase-file "$GOOD"
expect_err "only ssh-ed25519 keys are supported, not \"ecdsa-sha2-nistp256\"" "  naming the type"
nv_done
