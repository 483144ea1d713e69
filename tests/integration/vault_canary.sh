# vault_canary.sh: scheduled drills without the owner's identity (issue 13,
# FORMAT.md 2.8): a push without a drill document is as before; with one, its
# canary files open with the drill key and nothing else does (checked with stock
# age over the whole store listing, and the canary ids with openssl); drill
# --canary passes, fails naming a tampered canary or object, and a forged,
# unsigned or rolled-back navette-drill.json is refused by push and drill.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v openssl >/dev/null &&
	command -v ssh-keygen >/dev/null || nv_need "stock age, jq, openssl and ssh-keygen"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
"$NAVETTE" keygen -o "$K/drill.txt" >"$K/drill.pub" 2>/dev/null || nv_die "drill keygen"
"$NAVETTE" keygen -o "$K/other.txt" >"$K/other.pub" 2>/dev/null || nv_die "other keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state-owner"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/sub"
echo alpha >"$D/a.txt"; echo gamma >"$D/sub/c.txt"; head -c 300000 /dev/urandom >"$D/big.bin"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
	nv_die "init"
cp "$V/navette-vault.json" "$NV_TMP/descriptor"
S=(--signing-key "$K/sign")
DK=(--identity "$K/drill.txt")
vid=$(jq -r .vault_id "$V/navette-vault.json")
newest() { ls "$V"/manifests/*.json | tail -n 1; }
# drill_host: a host that holds the drill key and the signing public key only
drill_host() { NAVETTE_STATE_DIR="$NV_TMP/state-drill" "$NAVETTE" "$@"; }

# ---- a push without a drill document: as before ----
expect_exit 0 "push without a drill document" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "published generation 1: 3 files, 3 read, 3 uploaded .*, 0 already stored, in [0-9.]+ s$" \
	"...its summary as before (no canary)"
check "...the manifest's header has the fields it always had" test \
	"$(head -n 1 "$(newest)" | jq -c keys)" = \
	'["bytes","catalog","generation","objects","previous","time","type","vault_id","version"]'
check "...3 objects and the catalog, nothing more" test "$(find "$V/objects" -type f | wc -l)" -eq 4
check "...no drill document, no canary state" test ! -e "$V/navette-drill.json" -a \
	! -e "$NAVETTE_STATE_DIR/push/$vid/canary"
expect_exit 0 "an unchanged tree publishes nothing" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "no change, refreshed the heartbeat of generation 1" "...as before"
expect_exit 1 "drill --canary of a generation without canary files" \
	"$NAVETTE" drill --canary "$V" "${DK[@]}"
expect_err "generation 1 has no canary files" "...says so"

# ---- the drill document, and the canary files of the next push ----
expect_exit 0 "drill-key list without a drill document" "$NAVETTE" drill-key list "$V"
check "...lists nothing" test ! -s "$NV_TMP/out"
expect_exit 2 "drill-key frobnicate" "$NAVETTE" drill-key frobnicate "$V"
expect_exit 2 "drill-key add needs the signing key" "$NAVETTE" drill-key add "$V" \
	--recipients-file "$K/drill.pub"
expect_exit 0 "drill-key add" "$NAVETTE" drill-key add "$V" --recipients-file "$K/drill.pub" "${S[@]}"
expect_err "drill document serial 1 signed: 1 drill recipient" "...serial 1"
echo "navette $(cut -d' ' -f1,2 "$K/sign.pub")" >"$NV_TMP/allowed"
sshsig_ok() { ssh-keygen -Y verify "$@" >/dev/null 2>&1; }
check "navette-drill.json: stock ssh-keygen verifies it (namespace navette-drill)" \
	sshsig_ok -f "$NV_TMP/allowed" -I navette -n navette-drill \
	-s "$V/navette-drill.json.sig" <"$V/navette-drill.json"
check "...it names the drill key" test "$(jq -r '.recipients[0]' "$V/navette-drill.json")" = \
	"$(cat "$K/drill.pub")"
expect_exit 0 "drill-key list" "$NAVETTE" drill-key list "$V"
check "...prints the drill recipient" test "$(cat "$NV_TMP/out")" = "$(cat "$K/drill.pub")"
cp "$V/navette-drill.json" "$NV_TMP/drill-1.json"; cp "$V/navette-drill.json.sig" "$NV_TMP/drill-1.json.sig"

# A dry run with a drill recipient: the canaries counted, nothing generated
# into the state, nothing stored (snapshot as in dry_run.sh).
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
before() { snapshot "$V" >"$NV_TMP/before.vault"; snapshot "$NAVETTE_STATE_DIR" >"$NV_TMP/before.state"; }
unchanged() { snapshot "$1" | cmp -s - "$NV_TMP/before.$2"; }
before
expect_exit 0 "push --dry-run with a drill recipient" "$NAVETTE" push "$D" "$V" "${S[@]}" --dry-run
expect_err "dry run: would publish generation 2: 3 files, 0 read, 0 to upload .*; 3 canary files \(3 to store\)$" \
	"...would publish generation 2 with 3 canary files to store"
check "...no canary generated into the state" test ! -e "$NAVETTE_STATE_DIR/push/$vid/canary"
check "...the state directory unchanged" unchanged "$NAVETTE_STATE_DIR" state
check "...the vault unchanged" unchanged "$V" vault

expect_exit 0 "push an unchanged tree with a drill recipient" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "published generation 2: 3 files, 0 read, 0 uploaded .*; 3 canary files \(3 stored now\)" \
	"...publishes generation 2 with 3 canary files"
m2=$(newest)
can=$(head -n 1 "$m2" | jq -r .canary)
check "...the manifest names the canary catalog, listed among its objects" \
	grep -qF "\"name\":\"$can\"" "$m2"
age -d -i "$K/drill.txt" "$V/$can" >"$NV_TMP/canary.jsonl" 2>/dev/null
check "the drill key opens the canary catalog (stock age)" \
	test "$(head -n 1 "$NV_TMP/canary.jsonl" | jq -r '.type + " " + (.generation|tostring)')" = "canary-catalog 2"
check "...three generated canaries of the documented sizes" test \
	"$(tail -n +2 "$NV_TMP/canary.jsonl" | jq -r '"\(.path) \(.size)"' | tr '\n' ' ')" = \
	"canary-1024.bin 1024 canary-204801.bin 204801 canary-65536.bin 65536 "
check "the owner's key opens it too" age -d -i "$K/id.txt" -o /dev/null "$V/$can"
{ echo "$can"; tail -n +2 "$NV_TMP/canary.jsonl" | jq -r .object; } | sort -u >"$NV_TMP/canary.objects"

# Every object of the store: the drill key opens the canary ones and nothing else.
opened=0; refused=0; wrong=
for o in $(cd "$V" && find objects -type f | LC_ALL=C sort); do
	if grep -qxF "$o" "$NV_TMP/canary.objects"; then
		age -d -i "$K/drill.txt" -o /dev/null "$V/$o" 2>/dev/null && opened=$((opened + 1)) ||
			wrong="$wrong $o"
	else
		age -d -i "$K/drill.txt" -o /dev/null "$V/$o" 2>/dev/null && wrong="$wrong $o" ||
			refused=$((refused + 1))
		age -d -i "$K/id.txt" -o /dev/null "$V/$o" 2>/dev/null || wrong="$wrong $o(owner)"
	fi
done
check "stock age -d with the drill key: the 4 canary objects open, the 5 others (3 files, 2 catalogs) do not" \
	test "$opened" -eq 4 -a "$refused" -eq 5 -a -z "$wrong"
[ -z "$wrong" ] || echo "    wrong: $wrong"
jq -r .kid_age "$V/navette-vault.json" | base64 -d >"$NV_TMP/kid.age"
if age -d -i "$K/drill.txt" -o /dev/null "$NV_TMP/kid.age" 2>/dev/null; then
	not_ok "...nor the descriptor's K_id"
else ok "...nor the descriptor's K_id"; fi

# The canary ids are those FORMAT.md 2.8 documents, computed with openssl.
kid=$(age -d -i "$K/id.txt" "$NV_TMP/kid.age" | od -An -tx1 | tr -d ' \n')
kc=$({ printf 'navette-canary-v1\n'; jq -r '.recipients[]' "$V/navette-drill.json"; } |
	openssl dgst -sha256 -mac HMAC -macopt "hexkey:$kid" -r | cut -c1-64)
ids_ok=yes
while read -r sha obj; do
	id=$(printf '%s' "$sha" | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$kc" -r | cut -c1-64)
	[ "objects/${id:0:2}/$id." = "${obj:0:76}" ] || ids_ok=no
done < <(tail -n +2 "$NV_TMP/canary.jsonl" | jq -r '"\(.sha256) \(.object)"')
check "canary ids: HMAC-SHA256 under HMAC-SHA256(K_id, label + drill recipients)" test "$ids_ok" = yes

# ---- the drill, on a host with the drill key and the signing public key only ----
expect_exit 2 "first contact needs the signing public key" drill_host drill --canary "$V" "${DK[@]}"
expect_exit 0 "drill --canary with the drill key" drill_host drill --canary "$V" "${DK[@]}" \
	--signing-pubkey "$K/sign.pub" --max-age 1h --report "$NV_TMP/canary-report.json"
n2=$(($(head -n 1 "$m2" | jq .objects)))
expect_err "drill of .*: passed: 3 of 3 files checked, 0 failures" "...3 canary files"
check "...the $((n2 - 4)) other objects' stored bytes good, 2 manifests verified (stdout)" \
	grep -Eq "objects +$((n2 - 4)) of the $((n2 - 4)) the canary files do not use" "$NV_TMP/out"
check "...271361 bytes, 2 manifests" grep -Eq "^  bytes +271361 of 271361" "$NV_TMP/out"
check "...2 manifests" grep -Eq "^  manifests +2 verified" "$NV_TMP/out"
check "...its JSON report: mode canary, the drill document's serial, the other objects" \
	jq -e --argjson n "$((n2 - 4))" '.mode == "canary" and .result == "passed" and
		.canary == {"drill_serial":1,"other_objects":$n,"other_objects_good":$n} and
		.files.checked == 3' "$NV_TMP/canary-report.json"
expect_exit 0 "drill --canary --to DIR" drill_host drill --canary "$V" "${DK[@]}" --to "$NV_TMP/restored"
(cd "$NV_TMP/restored" && tail -n +2 "$NV_TMP/canary.jsonl" | jq -r '"\(.sha256)  \(.path)"' |
	sha256sum -c --quiet) >/dev/null 2>&1
check "...the canary files restored, their SHA-256 those of the canary catalog" test $? -eq 0
check "...and nothing else" test "$(ls "$NV_TMP/restored" | wc -l)" -eq 3
expect_exit 2 "a key that is no recipient" drill_host drill --canary "$V" --identity "$K/other.txt"
expect_err "opens no canary catalog" "...says so"
expect_exit 2 "pull with the drill key: the real catalog does not open" \
	drill_host pull "$V" "$NV_TMP/nope" "${DK[@]}"
expect_exit 0 "the owner's deep verify still passes" "$NAVETTE" verify --level deep "$V" --identity "$K/id.txt"
expect_exit 0 "the owner's pull" "$NAVETTE" pull "$V" "$NV_TMP/pulled" --identity "$K/id.txt"
check "...restores the tree only, no canary" diff -r "$D" "$NV_TMP/pulled"

# A canary's contents pushed as a real file: another id, another object.
cp "$NV_TMP/restored/canary-1024.bin" "$D/copy-of-canary"
expect_exit 0 "push a file equal to a canary" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "published generation 3: 4 files, 1 read, 1 uploaded" "...it is uploaded: no dedup with the canary"
expect_exit 0 "unchanged again: nothing published" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "no change, refreshed the heartbeat of generation 3: .*3 canary files \(0 stored now\)" \
	"...canaries reused"
before
expect_exit 0 "unchanged: a dry run" "$NAVETTE" push "$D" "$V" "${S[@]}" --dry-run
expect_err "dry run: no change, would refresh the heartbeat of generation 3: .*3 canary files \(0 to store\)$" \
	"...would publish nothing: the canary catalog is the one published"
check "...the state directory unchanged" unchanged "$NAVETTE_STATE_DIR" state
check "...the vault unchanged" unchanged "$V" vault
check "the descriptor did not change" cmp -s "$V/navette-vault.json" "$NV_TMP/descriptor"

# ---- tampering ----
T="$NV_TMP/t"
fresh() { rm -rf "$T"; cp -a "$V" "$T"; }
m3=$(newest)
can3=$(head -n 1 "$m3" | jq -r .canary)
age -d -i "$K/drill.txt" "$V/$can3" >"$NV_TMP/canary3.jsonl"
cobj=$(tail -n +2 "$NV_TMP/canary3.jsonl" | jq -r 'select(.path == "canary-65536.bin") | .object')
fresh
nv_flip_byte "$T/$cobj" 5000
expect_exit 1 "a canary file tampered" drill_host drill --canary "$T" "${DK[@]}"
expect_err "mismatch canary-65536.bin" "...named"
expect_err "drill of .*: failed: 2 of 3 files checked, 1 failure$" "...the two others pass"
real=$(tail -n +2 "$m3" | jq -r .name | grep -vxF -f <(tail -n +2 "$NV_TMP/canary3.jsonl" | jq -r .object; echo "$can3") | head -n 1)
fresh
nv_flip_byte "$T/$real" 100
expect_exit 1 "another object tampered: the hash-level check finds it" \
	drill_host drill --canary "$T" "${DK[@]}"
expect_err "mismatch $real" "...named"
fresh
rm "$T/$real"
expect_exit 1 "an object missing" drill_host drill --canary "$T" "${DK[@]}"
expect_err "missing $real" "...named"

# navette-drill.json forged, unsigned, signed by another key, rolled back
forged() { jq -c --arg r "$(cat "$K/other.pub")" '.recipients = [$r]' "$V/navette-drill.json" >"$T/navette-drill.json"; }
fresh; forged
expect_exit 1 "push refuses a forged drill document" "$NAVETTE" push "$D" "$T" "${S[@]}"
expect_err "navette-drill.json: bad signature" "...bad signature"
check "...and publishes nothing" test "$(newest)" = "$m3" -a ! -e "$T/manifests/00000000000000000004.json"
expect_exit 1 "drill refuses it" drill_host drill --canary "$T" "${DK[@]}"
expect_err "drill-document navette-drill.json: .*bad signature" "...named"
fresh; rm "$T/navette-drill.json.sig"
expect_exit 1 "an unsigned drill document refused" "$NAVETTE" push "$D" "$T" "${S[@]}"
expect_err "navette-drill.json is not signed" "...says so"
fresh; forged
"$NAVETTE" keygen --signing -o "$NV_TMP/evil" >/dev/null 2>&1
rm "$T/navette-drill.json.sig"
ssh-keygen -Y sign -q -f "$NV_TMP/evil" -n navette-drill "$T/navette-drill.json" 2>/dev/null
check "...(signed: stock ssh-keygen)" test -s "$T/navette-drill.json.sig"
expect_exit 1 "a drill document signed by another key" drill_host drill --canary "$T" "${DK[@]}"
expect_err "navette-drill.json: bad signature" "...refused"
# the owner adds a second drill key (serial 2); the store serves serial 1 again
expect_exit 0 "drill-key add a second key" "$NAVETTE" drill-key add "$V" --recipient "$(cat "$K/other.pub")" "${S[@]}"
expect_err "serial 2 signed: 2 drill recipients" "...serial 2"
expect_exit 0 "the drill host pins serial 2" drill_host drill --canary "$V" "${DK[@]}"
fresh
cp "$NV_TMP/drill-1.json" "$T/navette-drill.json"; cp "$NV_TMP/drill-1.json.sig" "$T/navette-drill.json.sig"
expect_exit 1 "push refuses the rolled-back drill document" "$NAVETTE" push "$D" "$T" "${S[@]}"
expect_err "serial 1 but this host pinned serial 2" "...rollback named"
expect_exit 1 "so does the drill host" drill_host drill --canary "$T" "${DK[@]}"
expect_err "refusing a rolled-back drill document" "...refused"

# A change of drill recipients re-encrypts the canaries; removing the last stops them.
expect_exit 0 "push after the second key" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "published generation 4: .*3 canary files \(3 stored now\)" "...new canary objects"
c4=$(head -n 1 "$(newest)" | jq -r .canary)
check "the second drill key opens the new canaries" age -d -i "$K/other.txt" -o /dev/null "$V/$c4"
expect_exit 2 "drill-key remove a key that is no drill recipient" "$NAVETTE" drill-key remove "$V" \
	--recipient "$(sed -n 's/^# public key: //p' "$K/id.txt")" "${S[@]}"
expect_exit 0 "drill-key remove both" "$NAVETTE" drill-key remove "$V" --recipients-file "$K/drill.pub" \
	--recipient "$(cat "$K/other.pub")" "${S[@]}"
expect_err "serial 3 signed: 0 drill recipients" "...serial 3, none left"
expect_exit 0 "push: canaries gone" "$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "published generation 5: 4 files, 0 read, 0 uploaded [^;]*$" "...a generation without canary"
check "...its manifest names none" test "$(head -n 1 "$(newest)" | jq -r '.canary // "none"')" = none

# ---- canary files named in the config: paths of the pushed tree ----
expect_exit 0 "drill-key add again" "$NAVETTE" drill-key add "$V" --recipients-file "$K/drill.pub" "${S[@]}"
expect_exit 2 "canary = a file the tree lacks" env NAVETTE_CANARY="a.txt, nope.txt" \
	"$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "canary = 'nope.txt': no such file" "...named"
expect_exit 0 "canary = a.txt, sub/c.txt" env NAVETTE_CANARY="a.txt, sub/c.txt" \
	"$NAVETTE" push "$D" "$V" "${S[@]}"
expect_err "; 2 canary files" "...two canaries"
rm -rf "$NV_TMP/restored"
expect_exit 0 "drill --canary restores them" drill_host drill --canary "$V" "${DK[@]}" --to "$NV_TMP/restored"
check "...a.txt and sub/c.txt as pushed, nothing else" test \
	"$(cd "$NV_TMP/restored" && find . -type f | LC_ALL=C sort | tr '\n' ' ')" = "./a.txt ./sub/c.txt " -a \
	"$(cat "$NV_TMP/restored/a.txt") $(cat "$NV_TMP/restored/sub/c.txt")" = "alpha gamma"

# ---- replicate carries the drill document; a drill of the replica ----
R="$NV_TMP/replica"
expect_exit 0 "replicate the vault" "$NAVETTE" replicate "$V" "$R"
check "...with its drill document, byte for byte" cmp -s "$V/navette-drill.json" "$R/navette-drill.json"
expect_exit 0 "drill --canary of the replica" drill_host drill --canary "$R" "${DK[@]}"
expect_err "passed: 2 of 2 files checked" "...passes"
cp "$NV_TMP/drill-1.json" "$R/navette-drill.json"; cp "$NV_TMP/drill-1.json.sig" "$R/navette-drill.json.sig"
expect_exit 1 "the replica serving serial 1: refused by the drill host" drill_host drill --canary "$R" "${DK[@]}"
expect_exit 0 "replicate again" "$NAVETTE" replicate "$V" "$R"
check "...puts the newer drill document back" cmp -s "$V/navette-drill.json" "$R/navette-drill.json"
fresh
cp "$NV_TMP/drill-1.json" "$T/navette-drill.json"; cp "$NV_TMP/drill-1.json.sig" "$T/navette-drill.json.sig"
expect_exit 1 "replicate refuses a source whose drill document rolled back" \
	"$NAVETTE" replicate "$T" "$NV_TMP/replica2"
expect_err "refusing a rolled-back drill document" "...says so"
nv_done
