# vault_crafted.sh: generations built by hand with stock age and ssh-keygen,
# as someone holding the signing key could publish them: unsafe, duplicated
# and clashing catalog paths, objects the manifest vouches for that are cut at
# or inside a chunk, sent to another recipient, or that decrypt to other bytes
# than the catalog says. pull must refuse each, name it and leave no file.
# Also: ls of a vault, and the recovery by hand of docs/FORMAT.md section 6.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
	nv_need "stock age, jq and python3"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state-A"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/d"
head -c 333333 /dev/urandom >"$D/d/big"; echo a >"$D/a"; : >"$D/empty"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
I=(--identity "$K/id.txt")
# The crafted copies carry generation 2: this host then refuses V's generation
# 1 as a rollback, so they are read with a copy of the state (same pins).
cp -a "$NV_TMP/state-A" "$NV_TMP/state-C"
export NAVETTE_STATE_DIR="$NV_TMP/state-C"
T="$NV_TMP/t"; R="$NV_TMP/r"; out="$NV_TMP/outside"
mkdir -p "$out"

# crafted JSON ENTRIES: publishes them as generation 2 of a fresh copy T of V
crafted() {
	rm -rf "$T" "$R"; cp -a "$V" "$T"
	printf '%s' "$1" >"$NV_TMP/entries.json"
	python3 "$NV_SRCDIR/tests/integration/vault_craft.py" gen "$T" "$(cat "$K/id.pub")" \
		"$K/sign" "$NV_TMP/entries.json" >/dev/null || nv_die "crafting"
}
nothing_left() { test -z "$(find "$R" -type f 2>/dev/null)" -a -z "$(ls "$out")"; }

check "a crafted generation restores" crafted '[{"path": "x", "data": "hello\n"}]'
expect_exit 0 "pull of a crafted generation" "$NAVETTE" pull "$T" "$R" "${I[@]}"
check "crafted content" test "$(cat "$R/x")" = hello
expect_exit 0 "its objects pass verify --level hash" "$NAVETTE" verify --level hash "$T"
expect_exit 1 "verify --level deep: objects not named after their contents" "$NAVETTE" verify --level deep "$T" "${I[@]}"
expect_err "misnamed x: object objects/.* is not named after the contents" "misnamed object named"

for p in "../outside/x" "/$NV_TMP/outside/x" "a/../../outside/x" "./x" "a//b"; do
	crafted "[{\"path\": \"$p\", \"data\": \"evil\\n\"}]"
	expect_exit 1 "catalog path '$p'" "$NAVETTE" pull "$T" "$R" "${I[@]}"
	expect_err "catalog: unsafe path refused" "'$p' refused as unsafe"
	check "'$p': nothing written" nothing_left
done
crafted '[{"path": "a", "data": "1\n"}, {"path": "a", "data": "2\n"}]'
expect_exit 1 "a duplicated path" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "catalog: path 'a' appears twice" "duplicate named"
check "duplicate: nothing written" nothing_left
crafted '[{"path": "a", "data": "1\n"}, {"path": "a-b", "data": "2\n"}, {"path": "a/c", "data": "3\n"}]'
expect_exit 1 "a file that is also a directory" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "catalog: 'a' is a file and a directory" "clash named"
crafted '[{"path": "b", "data": "1\n"}, {"path": "a", "data": "2\n"}]'
expect_exit 1 "an unsorted catalog" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "catalog: path 'a' is out of order" "disorder named"
crafted '[{"path": "a", "object": "objects/00/0000000000000000000000000000000000000000000000000000000000000000.0000000000000000.age"}]'
expect_exit 1 "an object the manifest does not list" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "the catalog names object objects/00/0+\.0+\.age for a, which the signed manifest" "unlisted object named"

# objects the signed manifest vouches for, broken inside the age layer
big=$(python3 -c 'import json; print(json.dumps([{"path": "big", "data": "x" * 200000, "cut": [1, 0]}, {"path": "ok", "data": "fine\n"}]))')
crafted "$big"
expect_exit 0 "a cut object passes verify --level hash" "$NAVETTE" verify --level hash "$T"
expect_exit 1 "an object cut at a chunk boundary" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "mismatch big: object objects/.*: .*(truncat|last chunk|missing)" "cut at a boundary: object named"
check "cut at a boundary: no partial file" test ! -e "$R/big" -a -z "$(find "$R" -name '.navette-tmp*')"
check "the sound file restored" test "$(cat "$R/ok")" = fine
expect_exit 1 "verify --level deep finds it" "$NAVETTE" verify --level deep "$T" "${I[@]}"
expect_err "mismatch big" "deep names the file"
crafted "${big/\[1, 0\]/[1, 1000]}"
expect_exit 1 "an object cut inside a chunk" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "mismatch big: object objects/" "cut inside a chunk: object named"
check "cut inside a chunk: no partial file" test ! -e "$R/big"

crafted '[{"path": "a", "data": "real\n", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}]'
expect_exit 1 "plaintext with another SHA-256 than the catalog's" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "mismatch a: a: object objects/.* decrypts to 5 bytes with another SHA-256" "wrong plaintext named"
check "wrong plaintext: no file" nothing_left
crafted '[{"path": "a", "data": "longer than said\n", "size": 3}]'
expect_exit 1 "plaintext longer than the catalog says" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "decrypts to more than the catalog's 3 bytes" "overlong plaintext named"
check "overlong plaintext: no file" nothing_left

# an object sent to another recipient only
"$NAVETTE" keygen -o "$NV_TMP/o.txt" >"$NV_TMP/o.pub" 2>/dev/null
crafted '[{"path": "a", "data": "x\n"}]'
obj=$(age -d -i "$K/id.txt" "$T/$(head -n 1 "$T/manifests/00000000000000000002.json" | jq -r .catalog)" | tail -n 1 | jq -r .object)
echo x | age -r "$(cat "$NV_TMP/o.pub")" -o "$T/$obj"
python3 - "$T" "$obj" <<'EOF'
import hashlib, json, sys
t, obj = sys.argv[1], sys.argv[2]
p = t + "/manifests/00000000000000000002.json"
lines = [json.loads(l) for l in open(p)]
b = open(t + "/" + obj, "rb").read()
for r in lines[1:]:
    if r["name"] == obj:
        lines[0]["bytes"] += len(b) - r["size"]
        r["size"], r["sha256"] = len(b), hashlib.sha256(b).hexdigest()
open(p, "w").write("".join(json.dumps(l, sort_keys=True, separators=(",", ":")) + "\n" for l in lines))
EOF
rm "$T/manifests/00000000000000000002.json.sig"
ssh-keygen -q -Y sign -n navette-manifest -f "$K/sign" "$T/manifests/00000000000000000002.json" 2>/dev/null
expect_exit 1 "an object for another recipient" "$NAVETTE" pull "$T" "$R" "${I[@]}"
expect_err "mismatch a: object $obj: .*no identity matches" "other recipient: object named"

# ---- ls of a vault ----
export NAVETTE_STATE_DIR="$NV_TMP/state-A"
expect_exit 0 "ls of a vault" "$NAVETTE" ls "$V" "${I[@]}"
check "ls lists the files" test "$(awk '{print $1, $3}' "$NV_TMP/out" | tr '\n' ' ')" = "2 a 333333 d/big 0 empty "
expect_exit 0 "ls --json of a vault" "$NAVETTE" ls --json "$V" "${I[@]}"
check "ls --json has modes" jq -se '.[1].path == "d/big" and .[1].size == 333333 and (.[1].mode | test("^0[0-7]{3}$"))' "$NV_TMP/out"
crafted '[{"path": "x", "data": "hello\n"}]'
export NAVETTE_STATE_DIR="$NV_TMP/state-C"
expect_exit 0 "ls --generation 1" "$NAVETTE" ls --generation 1 "$T" "${I[@]}"
check "generation 1 listed" grep -q "d/big" "$NV_TMP/out"
expect_exit 0 "ls of the newest" "$NAVETTE" ls "$T" "${I[@]}"
check "generation 2 listed" test "$(awk '{print $3}' "$NV_TMP/out")" = x
expect_exit 2 "ls of a vault needs an identity" "$NAVETTE" ls "$V"
expect_err "identity is needed" "ls: identity asked for"
expect_exit 2 "--generation on a plain directory" "$NAVETTE" ls --generation 1 "$D"
expect_err "not a vault" "ls --generation: says why"

export NAVETTE_STATE_DIR="$NV_TMP/state-A"
# ---- recovery by hand (docs/FORMAT.md section 6), then navette, same bytes ----
check "stock tools restore the vault" nv_manual_restore "$V" "$K/id.txt" "$K/sign.pub" "$NV_TMP/byhand"
check "by hand = source" diff -r "$D" "$NV_TMP/byhand"
expect_exit 0 "navette restores it too" "$NAVETTE" pull "$V" "$NV_TMP/bynavette" "${I[@]}"
check "navette = by hand" diff -r "$NV_TMP/byhand" "$NV_TMP/bynavette"

nv_done
