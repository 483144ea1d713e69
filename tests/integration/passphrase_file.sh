# passphrase_file.sh: --passphrase-file on every command that loads a key (ls of a
# vault, pull, verify --level deep: the age identity). Each opens a passphrase-
# protected identity (navette's own scrypt, and stock `age -p`'s), and refuses with
# exit 2 and a message naming the cause a wrong passphrase, a passphrase file that
# group or others may read, a missing one, and none at all without a terminal.
# Signing keys (init, push) take the same passphrase file: sign_passphrase.sh.
# --passphrase-file given to a command that loads no key is refused (exit 2).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
TOOL="$NV_BUILDDIR/tests/age/nv-age-tool"
[ -x "$TOOL" ] || nv_die "missing $TOOL (make check builds it)"

K=$NV_TMP/keys; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR=$NV_TMP/state
V=$NV_TMP/vault; D=$NV_TMP/data
mkdir -p "$D/sub"; echo alpha >"$D/a"; head -c 300000 /dev/urandom >"$D/sub/big"
# Two recipients: navette's key and the stock fixture's (tests/age/README.md).
STOCK_PUB=$(sed -n 's/^# public key: //p' "$NV_SRCDIR/tests/age/testkey.txt")
"$NAVETTE" init "$V" --recipient "$(cat "$K/id.pub")" --recipient "$STOCK_PUB" \
	--signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "push"

PASS='navette-test-passphrase'
NV_AGE_PASSPHRASE=$PASS "$TOOL" encrypt-passphrase 14 <"$K/id.txt" >"$K/id.age" || nv_die "encrypt"
cp "$NV_SRCDIR/tests/age/stock-identity-pass.age" "$K/stock.age"
chmod 600 "$K/id.age" "$K/stock.age"
pf() { printf '%s\n' "$2" >"$NV_TMP/$1"; chmod 600 "$NV_TMP/$1"; echo "$NV_TMP/$1"; }
GOOD=$(pf good "$PASS"); BAD=$(pf bad 'Tr0ub4dor-guess')
GROUP=$(pf group "$PASS"); chmod 640 "$GROUP"
OTHERS=$(pf others "$PASS"); chmod 604 "$OTHERS"

# run CMD IDENTITY [options...]: one of the commands that load the identity.
n=0
run() {
	local cmd=$1 id=$2; shift 2
	n=$((n + 1))
	case $cmd in
	ls) "$NAVETTE" ls "$V" --identity "$id" "$@" ;;
	pull) "$NAVETTE" pull "$V" "$NV_TMP/r$n" --identity "$id" "$@" ;;
	verify) "$NAVETTE" verify "$V" --level deep --identity "$id" "$@" ;;
	esac
}
# What each command shows when it opened the identity and did its work.
worked() {
	case $1 in
	ls) grep -q ' sub/big$' "$NV_TMP/out" ;;
	pull) diff -r "$D" "$NV_TMP/r$n" ;;
	verify) grep -q '3 objects good, 0 older objects, 0 problems' "$NV_TMP/err" ;;
	esac
}
lacks() { ! grep -q "$@"; }

for cmd in ls pull verify; do
	expect_exit 0 "$cmd: passphrase-protected identity with --passphrase-file" \
		run $cmd "$K/id.age" --passphrase-file "$GOOD"
	check "  $cmd did its work" worked $cmd
	expect_exit 0 "$cmd: an identity encrypted by stock age -p, with --passphrase-file" \
		run $cmd "$K/stock.age" --passphrase-file "$GOOD"
	check "  $cmd did its work" worked $cmd
	expect_exit 2 "$cmd: wrong passphrase (exit 2)" run $cmd "$K/id.age" --passphrase-file "$BAD"
	expect_err "^navette: error: identity file $K/id.age: wrong passphrase\$" "  the message says so"
	check "  the passphrase never appears in messages" lacks -e 'Tr0ub4dor' -e "$PASS" "$NV_TMP/err"
	[ "$cmd" = pull ] && check "  nothing restored" test ! -e "$NV_TMP/r$n"
	expect_exit 2 "$cmd: a passphrase file group may read is refused (exit 2)" \
		run $cmd "$K/id.age" --passphrase-file "$GROUP"
	expect_err "^navette: error: passphrase file: $GROUP is accessible by group or others \\(mode 0640\\)" \
		"  the message names the file and its mode"
	expect_exit 2 "$cmd: a passphrase file others may read is refused (exit 2)" \
		run $cmd "$K/id.age" --passphrase-file "$OTHERS"
	expect_err "passphrase file: $OTHERS is accessible by group or others \\(mode 0604\\): refusing a secret file others can read; run chmod 600 $OTHERS\$" \
		"  the message names the file and its mode"
	expect_exit 2 "$cmd: a missing passphrase file (exit 2)" \
		run $cmd "$K/id.age" --passphrase-file "$NV_TMP/none"
	expect_err "^navette: error: passphrase file: $NV_TMP/none: No such file or directory\$" \
		"  the message names the passphrase file"
	expect_exit 2 "$cmd: no passphrase and no terminal: refused, no prompt (exit 2)" \
		run $cmd "$K/id.age" </dev/null
	expect_err "$K/id.age is passphrase-protected: give --passphrase-file \\(stdin is not a terminal\\)" \
		"  the message says what to give"
	check "  no prompt written" lacks 'Passphrase for' "$NV_TMP/err"
done

# The other ways to name the file, and which wins.
expect_exit 0 "NAVETTE_PASSPHRASE_FILE names the file" \
	env NAVETTE_PASSPHRASE_FILE="$GOOD" "$NAVETTE" ls "$V" --identity "$K/id.age"
expect_exit 0 "--passphrase-file wins over NAVETTE_PASSPHRASE_FILE" \
	env NAVETTE_PASSPHRASE_FILE="$BAD" "$NAVETTE" ls "$V" --identity "$K/id.age" --passphrase-file "$GOOD"
C=$NV_TMP/navette.conf
printf '[navette]\nidentity = %s\npassphrase_file = %s\n' "$K/id.age" "$GOOD" >"$C"; chmod 600 "$C"
expect_exit 0 "passphrase_file in the config's [navette] section" \
	"$NAVETTE" --config "$C" pull "$V" "$NV_TMP/from-conf"
check "  restored" diff -r "$D" "$NV_TMP/from-conf"
printf '%s\r\nsecond line, ignored\n' "$PASS" >"$NV_TMP/crlf"; chmod 600 "$NV_TMP/crlf"
expect_exit 0 "only the first line is the passphrase (CRLF too)" \
	"$NAVETTE" ls "$V" --identity "$K/id.age" --passphrase-file "$NV_TMP/crlf"
# verify below deep opens no identity: an encrypted one is not even asked for.
expect_exit 0 "verify --level hash needs no passphrase" \
	"$NAVETTE" verify "$V" --level hash --identity "$K/id.age" </dev/null

# The signing key's other refusals (its passphrase: sign_passphrase.sh); replicate
# loads no key, so it takes no --passphrase-file.
echo changed >"$D/a"
expect_exit 2 "push: a missing signing key (exit 2, was 4)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/none"
expect_err "^navette: error: signing key: $K/none: No such file or directory\$" "  the message names the key"
chmod 604 "$K/sign"
expect_exit 2 "push: a signing key others may read is refused (exit 2)" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "signing key: $K/sign is accessible by group or others \\(mode 0604\\)" "  the message names it"
chmod 600 "$K/sign"
expect_exit 2 "init: a missing recipients file (exit 2, was 4)" \
	"$NAVETTE" init "$NV_TMP/v2" --recipients-file "$K/none" --signing-key "$K/sign"
expect_err "^navette: error: cannot open recipients file $K/none" "  the message names it"
expect_exit 2 "replicate --passphrase-file: a usage error (exit 2)" \
	"$NAVETTE" replicate "$V" "$NV_TMP/replica" --passphrase-file "$GOOD"
expect_err "this command does not take --passphrase-file" "  the message names the option"
check "  nothing replicated" test ! -e "$NV_TMP/replica"
expect_exit 0 "push with the plain signing key still works" \
	"$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
nv_done
