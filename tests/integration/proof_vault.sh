# proof_vault.sh: check --report on a vault pair (a replica against its
# source), without any key but the pin: every object the signed manifests
# name, read on both sides against the manifest's size and SHA-256, the
# documents byte for byte; a damaged, missing or extra object is named
# (exit 1), and a push that did not finish leaves objects not compared.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v jq >/dev/null || nv_need "jq"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; C="$NV_TMP/replica"; D="$NV_TMP/data"; R="$NV_TMP/r.jsonl"
mkdir -p "$D/x"
for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/urandom >"$D/x/f$i"; done
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 1"
echo more >"$D/more"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 2"
"$NAVETTE" replicate "$V" "$C" 2>/dev/null || nv_die "replicate"

# the objects the manifests name: name size sha256, sorted
named() { for m in "$V"/manifests/*.json; do tail -n +2 "$m" | jq -r '"\(.name) \(.size) \(.sha256)"'; done | LC_ALL=C sort -u; }
named >"$NV_TMP/named"
nobj=$(wc -l <"$NV_TMP/named")
ndoc=$(cd "$V" && find . -type f ! -path './objects/*' ! -path './navette-lease/*' | wc -l)

expect_exit 0 "check --report of a replica" env NAVETTE_IDENTITY= "$NAVETTE" check "$V" "$C" --report "$R"
expect_err "report written to $R: result identical" "result identical"
expect_err "2 manifests: $nobj objects and $ndoc documents: $((nobj + ndoc)) identical" "human summary counts objects and documents"
check "header: objects of a vault, its id" jqt -s --arg id "$(jq -r .vault_id "$V/navette-vault.json")" \
	'.[0].compare == "objects" and .[0].vault_id == $id' "$R"
check "one line per object: the manifest's size and SHA-256, both sides read and equal to them" \
	cmp -s "$NV_TMP/named" <(jq -r 'select(.type == "file" and .expected) | select(.verdict == "identical" and
		.source.how == "read" and .destination.how == "read" and .source.sha256 == .expected.sha256 and
		.destination.sha256 == .expected.sha256 and .destination.size == .expected.size) |
		"\(.path) \(.expected.size) \(.expected.sha256)"' "$R" | LC_ALL=C sort)
check "the stored bytes' SHA-256 is sha256sum's" sh -c 'cd "$1" && while read -r n s h; do
	[ "$(sha256sum <"$n" | cut -d" " -f1)" = "$h" ] || exit 1; done <"$2"' sh "$C" "$NV_TMP/named"
check "documents compared byte for byte: manifests, signatures, descriptor, heartbeat" \
	jqt -s --argjson n "$ndoc" '[.[] | select(.type == "file" and (.expected | not) and .verdict == "identical" and
		.source.sha256 == .destination.sha256)] | length == $n and any(.path == "navette-vault.json.sig") and
		any(.path == "heartbeat.json")' "$R"
check "summary: full, identical" jqt -s --argjson t "$((nobj + ndoc))" '.[-1] | .files == $t and .identical == $t and .full and .result == "identical" and .exit == 0' "$R"

# damage the replica: one flipped byte, one missing object, one extra file
obj=$(sed -n 2p "$NV_TMP/named" | cut -d' ' -f1)
gone=$(sed -n 3p "$NV_TMP/named" | cut -d' ' -f1)
nv_flip_byte "$C/$obj" 20
rm "$C/$gone"
echo stray >"$C/objects/stray"
expect_exit 1 "a damaged replica" "$NAVETTE" check "$V" "$C" --report "$R"
expect_err "differ $obj: the destination's bytes are not the manifest's" "the damaged object named"
expect_err "missing $gone" "the missing object named"
expect_err "extra objects/stray" "the extra file named"
check "report: differ, missing, extra; result differ" jqt -s --arg o "$obj" --arg g "$gone" '
	any(.[]; .path == $o and .verdict == "differ" and .destination.sha256 != .expected.sha256) and
	any(.[]; .path == $g and .verdict == "missing" and .destination == null) and
	any(.[]; .path == "objects/stray" and .verdict == "extra") and
	(.[-1] | .differ == 1 and .missing == 1 and .extra == 1 and .result == "differ" and .exit == 1)' "$R"

# the source damaged, the replica right: still a difference, said so
rm -rf "$C"; "$NAVETTE" replicate "$V" "$C" 2>/dev/null || nv_die "replicate again"
cp "$V/$obj" "$NV_TMP/keep"; nv_flip_byte "$V/$obj" 20
expect_exit 1 "the source's copy damaged" "$NAVETTE" check "$V" "$C" --report "$R"
check "said of the source" jqt -s --arg o "$obj" 'any(.[]; .path == $o and .verdict == "differ" and
	.reason == "the source'"'"'s bytes are not the manifest'"'"'s")' "$R"
cp "$NV_TMP/keep" "$V/$obj"

# an object no manifest names (a push that did not finish): not compared
mkdir -p "$V/objects/ff"
echo orphan >"$V/objects/ff/orphan"
expect_exit 0 "an unreferenced source object" "$NAVETTE" check "$V" "$C" --report "$R"
check "listed as not compared, so the proof is not full" jqt -s 'any(.[]; .type == "not_compared" and
	.path == "objects/ff/orphan" and .kind == "unreferenced" and .side == "source") and .[-1].result == "incomplete"' "$R"
rm -r "$V/objects/ff"

expect_exit 2 "filters do not apply to a vault pair" "$NAVETTE" check "$V" "$C" --report "$R" --exclude 'x'
expect_err "is a vault: check --report reads every object" "says so"
expect_exit 0 "without --report, check compares the files as ever" "$NAVETTE" check "$V" "$C"
expect_exit 2 "an unknown vault needs --signing-pubkey" env NAVETTE_STATE_DIR="$NV_TMP/state2" "$NAVETTE" check "$V" "$C" --report "$R"
expect_exit 0 "--signing-pubkey on first contact" env NAVETTE_STATE_DIR="$NV_TMP/state2" "$NAVETTE" check "$V" "$C" --report "$R" --signing-pubkey "$K/sign.pub"
nv_done
