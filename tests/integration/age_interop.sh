#!/bin/sh
# age_interop.sh: navette's age code against stock age both ways: sizes at chunk
# edges, keys from either side, recipients files, passphrase-protected identities.
. "$NV_SRCDIR/tests/lib/common.sh"

TOOL="$NV_BUILDDIR/tests/age/nv-age-tool"
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 ||
	nv_need "stock age and age-keygen (Debian package age)"
[ -x "$TOOL" ] || nv_die "missing $TOOL (make check builds it)"
T=$NV_TMP

# Keys: one made by navette, one by stock age-keygen.
"$TOOL" keygen >"$T/nkey.txt" 2>/dev/null && chmod 600 "$T/nkey.txt"
check "navette keygen writes an identity file" grep -q '^AGE-SECRET-KEY-1[0-9A-Z]*$' "$T/nkey.txt"
age-keygen -o "$T/skey.txt" 2>/dev/null
NPUB=$(sed -n 's/^# public key: //p' "$T/nkey.txt")
SPUB=$(age-keygen -y "$T/skey.txt")
check "age-keygen -y derives the public key navette wrote" \
	test "$(age-keygen -y "$T/nkey.txt")" = "$NPUB"

for size in 0 1 65536 65537 5242880; do
	head -c "$size" /dev/urandom >"$T/p"
	"$TOOL" encrypt "$SPUB" <"$T/p" >"$T/c" 2>"$T/err"
	check "$size B: size is nv_age_ciphertext_size" \
		test "$(wc -c <"$T/c")" -eq "$("$TOOL" size "$size" 1)"
	age -d -i "$T/skey.txt" "$T/c" >"$T/out" 2>"$T/err"
	check "$size B: stock age decrypts navette's file (age-keygen identity)" cmp -s "$T/p" "$T/out"
	"$TOOL" encrypt "$NPUB" <"$T/p" >"$T/c"
	age -d -i "$T/nkey.txt" "$T/c" >"$T/out" 2>"$T/err"
	check "$size B: stock age decrypts with navette's identity file" cmp -s "$T/p" "$T/out"
	age -r "$NPUB" -o "$T/c" "$T/p"
	"$TOOL" decrypt "$T/nkey.txt" <"$T/c" >"$T/out" 2>"$T/err"
	check "$size B: navette decrypts stock age's file (navette identity)" cmp -s "$T/p" "$T/out"
	age -r "$SPUB" -o "$T/c" "$T/p"
	"$TOOL" decrypt "$T/skey.txt" <"$T/c" >"$T/out" 2>"$T/err"
	check "$size B: navette decrypts stock age's file (age-keygen identity)" cmp -s "$T/p" "$T/out"
done

# Recipients files (comments, blanks) and two recipients, both ways.
head -c 70000 /dev/urandom >"$T/p"
printf '# team\n\n%s\n# stock key\n%s\n' "$NPUB" "$SPUB" >"$T/recipients"
"$TOOL" encrypt -R "$T/recipients" <"$T/p" >"$T/c"
age -d -i "$T/skey.txt" "$T/c" >"$T/out"
check "two recipients from a file: stock age decrypts with the second" cmp -s "$T/p" "$T/out"
age -R "$T/recipients" -o "$T/c" "$T/p"
"$TOOL" decrypt "$T/nkey.txt" <"$T/c" >"$T/out"
check "stock age -R file: navette decrypts with the first" cmp -s "$T/p" "$T/out"
cat "$T/skey.txt" "$T/nkey.txt" >"$T/both.txt" && chmod 600 "$T/both.txt"
"$TOOL" decrypt "$T/both.txt" <"$T/c" >"$T/out"
check "an identity file with two keys decrypts" cmp -s "$T/p" "$T/out"

# Refusals.
age -r "$SPUB" -o "$T/c" "$T/p"
expect_exit 1 "wrong identity refused" "$TOOL" decrypt "$T/nkey.txt" <"$T/c"
expect_err "no identity matches any recipient stanza" "wrong identity names the failure"
# One recipient: 184 bytes of header and nonce, then 65552-byte chunks.
head -c $((184 + 65552)) "$T/c" >"$T/cut"
expect_exit 1 "stock file truncated at a chunk boundary refused" "$TOOL" decrypt "$T/skey.txt" <"$T/cut"
expect_err "last chunk missing" "truncation is named"
chmod 644 "$T/skey.txt"
expect_exit 1 "identity file readable by others refused" "$TOOL" decrypt "$T/skey.txt" <"$T/c"
chmod 600 "$T/skey.txt"

# Passphrase-protected identities. The committed one was made once by stock
# `age -p` (scrypt work factor 18, a few seconds; see tests/age/README.md).
PASS=navette-test-passphrase
cp "$NV_SRCDIR/tests/age/stock-identity-pass.age" "$T/spass.age" && chmod 600 "$T/spass.age"
KEY1=$(sed -n 's/^# public key: //p' "$NV_SRCDIR/tests/age/testkey.txt")
printf 'under a passphrase\n' >"$T/p"
age -r "$KEY1" -o "$T/c" "$T/p"
NV_AGE_PASSPHRASE=$PASS "$TOOL" decrypt "$T/spass.age" <"$T/c" >"$T/out" 2>"$T/err"
check "navette opens an identity file encrypted by stock age -p" cmp -s "$T/p" "$T/out"
# navette's own passphrase encryption, at a cheaper work factor.
NV_AGE_PASSPHRASE=$PASS "$TOOL" encrypt-passphrase 14 <"$T/nkey.txt" >"$T/npass.age"
chmod 600 "$T/npass.age"
"$TOOL" encrypt "$NPUB" <"$T/p" >"$T/c"
NV_AGE_PASSPHRASE=$PASS "$TOOL" decrypt "$T/npass.age" <"$T/c" >"$T/out" 2>"$T/err"
check "navette opens its own passphrase-protected identity" cmp -s "$T/p" "$T/out"
expect_exit 1 "wrong passphrase refused" env NV_AGE_PASSPHRASE=nope "$TOOL" decrypt "$T/npass.age" <"$T/c"
expect_err "wrong passphrase" "wrong passphrase is named"
expect_exit 1 "missing passphrase refused" "$TOOL" decrypt "$T/npass.age" <"$T/c"
expect_err "passphrase-protected" "missing passphrase is named"

# Stock age reads passphrases only from a terminal: give it one with script(1).
# The command line holds only our own temporary paths.
if command -v script >/dev/null 2>&1; then
	rm -f "$T/out"
	printf '%s\n' "$PASS" |
		timeout 60 script -qec "age -d -i $T/npass.age -o $T/out $T/c" /dev/null >/dev/null 2>&1
	check "stock age opens navette's passphrase-protected identity" cmp -s "$T/p" "$T/out"
else
	echo "# script(1) missing: stock age's passphrase prompt not exercised"
fi

nv_done
