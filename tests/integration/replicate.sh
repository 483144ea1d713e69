# replicate.sh: navette replicate between local vaults, by a host without any
# key: trust first, objects checked against the signed manifests, publication
# order, incremental and idempotent runs, repairs, refusals (tamper, rollback,
# fork, another vault, replica ahead), chains, and the sync warning.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null || nv_need "stock age, jq and python3"
export NAVETTE_LEASE_SETTLE_MS=50

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
V="$NV_TMP/src"; D="$NV_TMP/data"; R="$NV_TMP/replica"
mkdir -p "$D/sub"
head -c 300000 /dev/urandom >"$D/sub/big"; echo a >"$D/a"; echo same >"$D/b"; echo same >"$D/c"
NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
push() { NAVETTE_STATE_DIR="$NV_TMP/owner" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"; }
push; echo 2 >"$D/gen2"; push

# The replicating host: its own state, the signing public key only.
export NAVETTE_STATE_DIR="$NV_TMP/replica-host"
PUB=(--signing-pubkey "$K/sign.pub")
expect_exit 2 "first contact needs --signing-pubkey" "$NAVETTE" replicate "$V" "$R"
check "nothing written without trust" test ! -e "$R"
expect_exit 0 "replicate to an empty destination" "$NAVETTE" -v --log-json replicate "$V" "$R" "${PUB[@]}"
check "summary names the vault and generation 2" grep -q 'generation 2: [0-9]* objects copied' "$NV_TMP/err"
n_obj=$(find "$V/objects" -type f | wc -l)
check "every object copied once" test "$(grep -c '"action":"replicated"' "$NV_TMP/err")" -eq "$n_obj"
check "the replica is byte-identical (no lease left behind)" diff -r "$V" "$R"
# publication order in the log: objects, then catalogs, then manifests
last_obj=$(grep -n '"action":"replicated"' "$NV_TMP/err" | tail -n 1 | cut -d: -f1)
first_man=$(grep -n '"action":"published"' "$NV_TMP/err" | head -n 1 | cut -d: -f1)
check "manifests published after every object" test "$first_man" -gt "$last_obj"
expect_exit 0 "verify --level hash of the replica from a fresh host" env NAVETTE_STATE_DIR="$NV_TMP/fresh" "$NAVETTE" verify --level hash "$R" "${PUB[@]}"
expect_exit 0 "the owner pulls the replica" env NAVETTE_STATE_DIR="$NV_TMP/owner2" "$NAVETTE" pull "$R" "$NV_TMP/restored" --identity "$K/id.txt" "${PUB[@]}"
check "restored tree equals the data" diff -r "$D" "$NV_TMP/restored"
check "no key of the owner in the replicating host's state" sh -c "! grep -rl 'AGE-SECRET-KEY\|PRIVATE KEY' '$NV_TMP/replica-host'"

# nothing new: nothing copied, idempotent
expect_exit 0 "a second run" "$NAVETTE" -v --log-json replicate "$V" "$R"
check "nothing copied again" test "$(grep -c '"action":"replicated"' "$NV_TMP/err")" -eq 0
check "still identical" diff -r "$V" "$R"

# incremental: a new generation copies only its new objects
echo new >"$D/new"; push
expect_exit 0 "replicate generation 3" "$NAVETTE" -v --log-json replicate "$V" "$R"
check "two objects copied (file and catalog)" test "$(grep -c '"action":"replicated"' "$NV_TMP/err")" -eq 2
check "identical after generation 3" diff -r "$V" "$R"

# a missing object at the destination is put back; a damaged one is repaired with --verify hash
obj=$(tail -n +2 "$V/manifests/00000000000000000003.json" | jq -r .name | head -n 1)
rm "$R/$obj"
expect_exit 0 "a missing object is copied again" "$NAVETTE" replicate "$V" "$R"
check "it is back" cmp "$V/$obj" "$R/$obj"
nv_flip_byte "$R/$obj" 10
expect_exit 0 "--verify hash repairs a damaged object" "$NAVETTE" replicate --verify hash "$V" "$R"
check "repaired to the source's bytes" cmp "$V/$obj" "$R/$obj"
expect_exit 0 "--verify reread" "$NAVETTE" replicate --verify reread "$V" "$R"

# a tampered source object is refused, not copied, and nothing is published
echo more >"$D/more"; push
new=$(tail -n +2 "$V/manifests/00000000000000000004.json" | jq -r .name | while read -r o; do [ -e "$R/$o" ] || echo "$o"; done | head -n 1)
cp "$V/$new" "$NV_TMP/keep"; nv_flip_byte "$V/$new" 40
expect_exit 1 "a tampered source object is refused" "$NAVETTE" replicate "$V" "$R"
expect_err "at the source \(not copied\).*SHA-256 of the stored bytes differs" "the refusal says why"
check "the tampered object is not at the destination" test ! -e "$R/$new"
check "generation 4 not published" test ! -e "$R/manifests/00000000000000000004.json"
cp "$NV_TMP/keep" "$V/$new"
expect_exit 0 "repaired source: replicated" "$NAVETTE" replicate "$V" "$R"
check "identical after generation 4" diff -r "$V" "$R"

# a tampered source manifest: nothing copied
cp -a "$V" "$NV_TMP/src-bad"; nv_flip_byte "$NV_TMP/src-bad/manifests/00000000000000000002.json" 5
expect_exit 1 "a source manifest with a bad signature is refused" "$NAVETTE" replicate "$NV_TMP/src-bad" "$NV_TMP/r-bad"
check "nothing written" test ! -e "$NV_TMP/r-bad"

# rollback: the source withdrawn below what this host has seen
cp -a "$V" "$NV_TMP/src-old"; rm "$NV_TMP/src-old/manifests/00000000000000000004.json"*
expect_exit 1 "a source rolled back below the seen generation is refused" "$NAVETTE" replicate "$NV_TMP/src-old" "$NV_TMP/r-old"
expect_err "rollback" "named a rollback"

# the replica ahead of its source, and a fork
rm "$NV_TMP/src-old/heartbeat.json"*  # else its heartbeat betrays the withheld generation
cp -a "$R" "$NV_TMP/r-ahead"
expect_exit 4 "a destination ahead of the source is refused" env NAVETTE_STATE_DIR="$NV_TMP/other-host" "$NAVETTE" replicate "$NV_TMP/src-old" "$NV_TMP/r-ahead" "${PUB[@]}"
expect_err "ahead of its source.*other direction" "the refusal suggests the reverse"
cp -a "$R" "$NV_TMP/r-fork"
cp "$NV_TMP/src-bad/manifests/00000000000000000002.json" "$NV_TMP/r-fork/manifests/"
expect_exit 1 "a forked destination is refused" "$NAVETTE" replicate "$V" "$NV_TMP/r-fork"
expect_err "forked" "the fork is named"

# a destination holding another vault
K2="$NV_TMP/keys2"; nv_keys "$K2" || nv_die "keygen 2"
NAVETTE_STATE_DIR="$NV_TMP/owner-b" "$NAVETTE" init "$NV_TMP/other" --recipients-file "$K2/id.pub" --signing-key "$K2/sign" >/dev/null 2>&1
expect_exit 4 "a destination holding another vault is refused" "$NAVETTE" replicate "$V" "$NV_TMP/other"
expect_err "holds another vault" "another vault named"

# chains: replica of a replica; the owner pulls the last one identical
expect_exit 0 "replicate the replica further" "$NAVETTE" replicate "$R" "$NV_TMP/third"
expect_exit 0 "the owner pulls the third copy" env NAVETTE_STATE_DIR="$NV_TMP/owner3" "$NAVETTE" pull "$NV_TMP/third" "$NV_TMP/restored3" --identity "$K/id.txt" "${PUB[@]}"
check "identical data through the chain" diff -r "$D" "$NV_TMP/restored3"

# the destination's heartbeat is never replaced by an older one
cp "$R/heartbeat.json" "$NV_TMP/hb"; cp "$R/heartbeat.json.sig" "$NV_TMP/hb.sig"
sleep 1; push  # nothing changed: only the heartbeat moves on
expect_exit 0 "a newer heartbeat is replicated" "$NAVETTE" replicate "$V" "$R"
check "the replica's heartbeat is the newer one" cmp "$V/heartbeat.json" "$R/heartbeat.json"
cp "$NV_TMP/hb" "$V/heartbeat.json"; cp "$NV_TMP/hb.sig" "$V/heartbeat.json.sig"
expect_exit 0 "an older source heartbeat" "$NAVETTE" replicate "$V" "$R"
check "does not replace a newer one at the destination" sh -c "! cmp -s '$NV_TMP/hb' '$R/heartbeat.json'"

# a source whose two signed manifests give one object name different bytes (a
# signing key holder contradicting itself) is refused before anything is copied
S2="$NV_TMP/src-contra"; mkdir -p "$S2"; cp -a "$V/." "$S2/"
python3 - "$S2" <<'PY' || nv_die "crafting"
import json, sys
v = sys.argv[1]
m1 = open(v + "/manifests/00000000000000000001.json").read().splitlines()
names1 = {json.loads(l)["name"] for l in m1[1:]}
n = sorted(int(f[:20]) for f in __import__("os").listdir(v + "/manifests") if f.endswith(".json"))[-1]
p = v + "/manifests/%020d.json" % n
lines = open(p).read().splitlines()
for i, l in enumerate(lines[1:], 1):
    o = json.loads(l)
    if o["name"] in names1:
        o["sha256"] = "0" * 64
        lines[i] = json.dumps(o, sort_keys=True, separators=(",", ":"))
        break
open(p, "w").write("\n".join(lines) + "\n")
PY
last=$(ls "$S2"/manifests/*.json | tail -n 1); rm -f "$last.sig"
ssh-keygen -q -Y sign -n navette-manifest -f "$K/sign" "$last" >/dev/null 2>&1 || nv_die "re-signing"
rm -f "$S2/heartbeat.json" "$S2/heartbeat.json.sig"
expect_exit 1 "two manifests disagreeing on one object are refused" env NAVETTE_STATE_DIR="$NV_TMP/contra-host" "$NAVETTE" replicate "$S2" "$NV_TMP/r-contra" "${PUB[@]}"
expect_err "two manifests give object .* different bytes" "the object is named"
check "nothing written for a self-contradicting source" test ! -e "$NV_TMP/r-contra"

# sync of a vault warns and points to replicate; --verify hash is replicate's only
expect_exit 0 "sync of a vault" "$NAVETTE" sync "$V" "$NV_TMP/plain"
expect_err "is a navette vault.*navette replicate" "sync points to replicate"
expect_exit 2 "sync --verify hash is a usage error" "$NAVETTE" sync --verify hash "$V" "$NV_TMP/plain"
nv_done
