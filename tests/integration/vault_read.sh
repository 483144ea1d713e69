# vault_read.sh: pull through the CLI: whole and partial restores, older
# generations, first contact on a fresh host, and every way a pull must refuse
# (wrong or unsafe keys, tampered, truncated or missing objects, edited,
# unsigned or renamed manifests, rollback, swapped descriptors, symlinks in
# the target), each with its exit code, a message naming the object or path,
# and no partial file left behind.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
	nv_need "stock age, jq and python3"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state-A"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/docs/sub" "$D/img"
head -c 300000 /dev/urandom >"$D/img/big.bin"   # several 64 KiB chunks
head -c 65536 /dev/urandom >"$D/img/exact64k"
: >"$D/empty"
echo one >"$D/docs/one"; echo two >"$D/docs/sub/two"; echo same >"$D/docs/same"
chmod 4750 "$D/docs/one"
touch -d '2001-02-03 04:05:06.25' "$D/docs/sub/two"
I=(--identity "$K/id.txt")

"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 1"

# ---- restores ----
R="$NV_TMP/r"
expect_exit 0 "pull everything" "$NAVETTE" pull "$V" "$R/all" "${I[@]}"
expect_err "6 of 6 files restored" "pull counts the files"
check "restore identical" diff -r "$D" "$R/all"
check "mtime kept to the nanosecond" test "$(stat -c %y "$R/all/docs/sub/two")" = "$(stat -c %y "$D/docs/sub/two")"
check "modes masked to 0777" test "$(stat -c %a "$R/all/docs/one")" = 750
check "no temporary file left" test -z "$(find "$R/all" -name '.navette-tmp*')"
expect_exit 0 "pull --keep-modes" "$NAVETTE" pull --keep-modes "$V" "$R/keep" "${I[@]}" docs/one
check "--keep-modes keeps set-id bits" test "$(stat -c %a "$R/keep/docs/one")" = 4750

expect_exit 0 "pull a file and a directory" "$NAVETTE" pull "$V" "$R/part" "${I[@]}" docs/sub/ img/exact64k
check "the file" cmp "$D/img/exact64k" "$R/part/img/exact64k"
check "the directory" cmp "$D/docs/sub/two" "$R/part/docs/sub/two"
check "nothing else" test "$(find "$R/part" -type f | wc -l)" -eq 2
expect_exit 2 "a PATH that names nothing" "$NAVETTE" pull "$V" "$R/none" "${I[@]}" docs/nope
expect_err "named docs/nope" "the PATH is named"
expect_exit 2 "a prefix is not a directory" "$NAVETTE" pull "$V" "$R/none" "${I[@]}" doc
check "nothing restored by a refused pull" test ! -e "$R/none"

# an older generation
cp -a "$V" "$NV_TMP/vault-gen1"
echo changed >"$D/docs/sub/two"; rm "$D/docs/same"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 2"
expect_exit 0 "pull generation 2" "$NAVETTE" pull "$V" "$R/g2" "${I[@]}"
check "generation 2 identical" diff -r "$D" "$R/g2"
expect_exit 0 "pull --generation 1" "$NAVETTE" pull --generation 1 "$V" "$R/g1" "${I[@]}"
check "generation 1 content" test "$(cat "$R/g1/docs/sub/two")" = two -a -e "$R/g1/docs/same"
expect_exit 2 "pull --generation 9" "$NAVETTE" pull --generation 9 "$V" "$R/g9" "${I[@]}"
expect_err "no generation 9" "missing generation named"

# ---- keys ----
"$NAVETTE" keygen -o "$NV_TMP/other.txt" >/dev/null 2>&1
expect_exit 2 "wrong identity" "$NAVETTE" pull "$V" "$R/wrong" --identity "$NV_TMP/other.txt"
expect_err "catalog objects/.*no identity matches" "wrong identity: the catalog object is named"
check "wrong identity restores nothing" test ! -e "$R/wrong"
expect_exit 2 "no identity" "$NAVETTE" pull "$V" "$R/wrong"
expect_err "identity is needed" "no identity: says so"
chmod 644 "$K/id.txt"
expect_exit 2 "identity readable by others" "$NAVETTE" pull "$V" "$R/wrong" "${I[@]}"
expect_err "id.txt is accessible by group or others" "unsafe identity file named"
chmod 600 "$K/id.txt"

# another host: first contact needs the signing public key, then the pin holds
export NAVETTE_STATE_DIR="$NV_TMP/state-B"
expect_exit 2 "first contact without --signing-pubkey" "$NAVETTE" pull "$V" "$R/b" "${I[@]}"
expect_err "first contact.*--signing-pubkey" "first contact: says what to pass"
"$NAVETTE" keygen --signing -o "$NV_TMP/othersign" >/dev/null 2>&1
expect_exit 2 "first contact with another key" "$NAVETTE" pull "$V" "$R/b" "${I[@]}" --signing-pubkey "$NV_TMP/othersign.pub"
expect_err "not signed by SHA256:" "the key that failed is named"
expect_exit 0 "first contact with --signing-pubkey" "$NAVETTE" pull "$V" "$R/b" "${I[@]}" --signing-pubkey "$K/sign.pub"
check "restore on the other host identical" diff -r "$D" "$R/b"
expect_exit 0 "then pinned" "$NAVETTE" pull "$V" "$R/b2" "${I[@]}"
export NAVETTE_STATE_DIR="$NV_TMP/state-A"

# ---- tampering: each in a copy of the vault ----
obj_of() { # the object holding path $2 in the newest generation of vault $1
	local m cat
	m=$(ls "$1"/manifests/*.json | tail -n 1)
	cat=$(head -n 1 "$m" | jq -r .catalog)
	age -d -i "$K/id.txt" "$1/$cat" | tail -n +2 | jq -r --arg p "$2" 'select(.path == $p) | .object'
}
payload_start() { # offset of the first payload chunk: after the header and the 16-byte nonce
	python3 -c 'import sys; b=open(sys.argv[1],"rb").read(); i=b.index(b"\n---"); print(b.index(b"\n", i+1)+1+16)' "$1"
}
fresh() { rm -rf "$T"; cp -a "$V" "$T"; rm -rf "$R/t"; }
T="$NV_TMP/t"
big=$(obj_of "$V" img/big.bin)
check "found the big file's object" test -n "$big"

fresh
nv_flip_byte "$T/$big" 70000
expect_exit 1 "a flipped byte" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "mismatch img/big.bin: object $big: SHA-256 of the stored bytes differs" "flipped byte: path and object named"
check "flipped: no file, no temp file" test ! -e "$R/t/img/big.bin" -a -z "$(find "$R/t" -name '.navette-tmp*')"
check "flipped: the others restored" cmp "$D/docs/one" "$R/t/docs/one"

for cut in mid boundary; do
	fresh
	p=$(payload_start "$T/$big")
	if [ $cut = mid ]; then n=$((p + 65552 + 1000)); else n=$((p + 65552)); fi
	truncate -s "$n" "$T/$big"
	expect_exit 1 "an object truncated ($cut-chunk)" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
	expect_err "object $big holds $n bytes, the manifest says" "truncated ($cut): object named"
	check "truncated ($cut): no partial file" test ! -e "$R/t/img/big.bin"
done

fresh
rm "$T/$big"
expect_exit 1 "a missing object" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "missing img/big.bin: object $big is missing" "missing object named"

m2="manifests/00000000000000000002.json"
fresh
sed -i '1s/"time":"2/"time":"1/' "$T/$m2"
expect_exit 1 "an edited manifest" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "$m2: bad signature" "edited manifest named"
check "edited manifest: nothing restored" test ! -e "$R/t"
fresh
rm "$T/$m2.sig"
expect_exit 1 "a missing signature" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "$m2 is not signed" "missing signature named"
expect_err "--generation 1" "missing signature: the way back is named"
expect_exit 0 "--generation 1 still restores" "$NAVETTE" pull --generation 1 "$T" "$R/t" "${I[@]}"
fresh
cp "$T/manifests/00000000000000000001.json.sig" "$T/$m2.sig"
expect_exit 1 "a signature of another manifest" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "$m2: bad signature" "bad signature named"
fresh
mv "$T/$m2" "$T/manifests/00000000000000000003.json"
mv "$T/$m2.sig" "$T/manifests/00000000000000000003.json.sig"
expect_exit 1 "a manifest renamed to another generation" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "00000000000000000003.json holds generation 2: a manifest was renamed" "renamed manifest named"

# rollback: this host has seen generation 2; the store serves the old copy
expect_exit 1 "a vault rolled back to generation 1" "$NAVETTE" pull "$NV_TMP/vault-gen1" "$R/t" "${I[@]}"
expect_err "newest generation is 1 but this host has seen generation 2: refusing a rollback" "rollback refused"
check "rollback: nothing restored" test ! -e "$R/t"

# a withheld newest manifest: a host that never saw generation 2 learns it
# from the signed heartbeat
fresh
rm "$T/$m2" "$T/$m2.sig"
NAVETTE_STATE_DIR="$NV_TMP/state-D" expect_exit 1 "a withheld newest manifest" "$NAVETTE" pull "$T" "$R/t" "${I[@]}" --signing-pubkey "$K/sign.pub"
expect_err "heartbeat names generation 2 but the newest manifest is 1: the store withholds" "withheld manifest: refused"
check "withheld: nothing restored" test ! -e "$R/t"
NAVETTE_STATE_DIR="$NV_TMP/state-D" expect_exit 1 "and remembered" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "has seen generation 2" "withheld: remembered"

# swapped descriptors: another vault's descriptor and signature over this one
"$NAVETTE" keygen -o "$NV_TMP/o2.txt" >"$NV_TMP/o2.pub" 2>/dev/null
NAVETTE_STATE_DIR="$NV_TMP/state-W" "$NAVETTE" init "$NV_TMP/w1" --recipients-file "$NV_TMP/o2.pub" --signing-key "$NV_TMP/othersign" >/dev/null 2>&1
NAVETTE_STATE_DIR="$NV_TMP/state-W" "$NAVETTE" init "$NV_TMP/w2" --recipients-file "$NV_TMP/o2.pub" --signing-key "$K/sign" >/dev/null 2>&1
fresh
cp "$NV_TMP/w1/navette-vault.json" "$NV_TMP/w1/navette-vault.json.sig" "$T/"
expect_exit 2 "a swapped descriptor (other signing key)" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "no pinned signing key verifies" "other signing key: refused"
fresh
cp "$NV_TMP/w2/navette-vault.json" "$NV_TMP/w2/navette-vault.json.sig" "$T/"
expect_exit 1 "a swapped descriptor (same signing key, other recipients)" "$NAVETTE" pull "$T" "$R/t" "${I[@]}"
expect_err "does not match the pin" "other recipients: refused"
check "swapped descriptors: nothing restored" test ! -e "$R/t"

# ---- the target: symlinks are never followed ----
out="$NV_TMP/outside"; mkdir -p "$out"; echo keep >"$out/big.bin"
rm -rf "$R/s"; mkdir -p "$R/s/docs"
ln -s "$out" "$R/s/img"                   # a directory that leads outside
ln -s "$out/big.bin" "$R/s/docs/one"      # a file that leads outside
expect_exit 3 "a symlinked directory in the target" "$NAVETTE" pull "$V" "$R/s" "${I[@]}"
expect_err "failed img/big.bin" "the refused path is named"
check "nothing written outside" test "$(ls "$out")" = big.bin -a "$(cat "$out/big.bin")" = keep
check "a symlinked file is replaced, not followed" test ! -L "$R/s/docs/one" -a "$(cat "$R/s/docs/one")" = one
check "the rest restored" cmp "$D/docs/sub/two" "$R/s/docs/sub/two"

nv_done
