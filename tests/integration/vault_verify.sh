# vault_verify.sh: verify (list, hash, deep, --max-age) and log through the
# CLI: each kind of damage is reported naming the manifest or object, with
# exit 1; a stale or rolled-back heartbeat is refused.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
	nv_need "stock age, jq and python3"
craft() { python3 "$NV_SRCDIR/tests/integration/vault_craft.py" "$@"; }

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state-A"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/d"
head -c 150000 /dev/urandom >"$D/d/big"; echo a >"$D/a"; echo b >"$D/d/b"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
for i in 1 2 3; do
	echo "$i" >"$D/gen"
	"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push $i"
done
I=(--identity "$K/id.txt")

for level in list hash deep; do
	expect_exit 0 "verify --level $level" "$NAVETTE" verify --level "$level" "$V" "${I[@]}"
	expect_err "3 manifests verified, newest generation 3, [0-9]+ objects good.* 0 problems" "verify $level: summary"
done
expect_exit 0 "verify --max-age after a push" "$NAVETTE" verify --max-age 1h "$V"
expect_exit 2 "deep needs an identity" "$NAVETTE" verify --level deep "$V"
expect_err "identity is needed" "deep without identity says so"
"$NAVETTE" keygen -o "$NV_TMP/other.txt" >/dev/null 2>&1
expect_exit 2 "deep with the wrong identity" "$NAVETTE" verify --level deep "$V" --identity "$NV_TMP/other.txt"
expect_err "no identity matches" "wrong identity named"

expect_exit 0 "log" "$NAVETTE" log "$V"
check "log: one line per generation" test "$(grep -c ' signed$' "$NV_TMP/out")" -eq 3
check "log: generation 3 with its object count" grep -Eq "^ +3  [0-9T:-]+Z +[0-9]+ +[0-9]+  signed$" "$NV_TMP/out"
expect_exit 0 "log --json" "$NAVETTE" log --json "$V"
check "log --json parses" jq -se ".[1] | .generation == 2 and .signature == \"ok\" and .objects > 0" "$NV_TMP/out"
expect_exit 0 "log needs no identity, only the pin" env NAVETTE_IDENTITY= "$NAVETTE" log "$V"

T="$NV_TMP/t"
fresh() { rm -rf "$T"; cp -a "$V" "$T"; }
m3=$(ls "$V"/manifests/*.json | tail -n 1)
obj=$(tail -n 1 "$m3" | jq -r .name)

fresh
nv_flip_byte "$T/$obj" 200
expect_exit 0 "a flipped byte passes the list level" "$NAVETTE" verify "$T"
expect_exit 1 "a flipped byte fails the hash level" "$NAVETTE" verify --level hash "$T"
expect_err "mismatch $obj.*SHA-256 of the stored bytes differs" "flipped byte: object named"
expect_err "1 problem$" "flipped byte: one problem"
expect_exit 1 "a flipped byte fails the deep level" "$NAVETTE" verify --level deep "$T" "${I[@]}"

fresh
truncate -s -1 "$T/$obj"
expect_exit 1 "a truncated object fails the list level" "$NAVETTE" verify "$T"
expect_err "mismatch $obj: the store holds" "truncated object named"
fresh
rm "$T/$obj"
expect_exit 1 "a missing object" "$NAVETTE" verify "$T"
expect_err "missing $obj" "missing object named"

fresh
rm "$T/manifests/00000000000000000002.json" "$T/manifests/00000000000000000002.json.sig"
expect_exit 1 "a missing middle manifest" "$NAVETTE" verify "$T"
expect_err "manifest 2 missing: the chain is broken" "missing manifest named"
expect_exit 0 "log without it lists the others" "$NAVETTE" log "$T"
check "log: 1 and 3" test "$(grep -c ' signed$' "$NV_TMP/out")" -eq 2

fresh
sed -i '1s/"time":"2/"time":"1/' "$T/manifests/00000000000000000001.json"
expect_exit 1 "an edited old manifest" "$NAVETTE" verify "$T"
expect_err "bad-manifest manifests/00000000000000000001.json: .*bad signature" "edited manifest named"
expect_exit 1 "log marks it" "$NAVETTE" log "$T"
check "log: BAD line" grep -q "^ *1  .*BAD: .*bad signature" "$NV_TMP/out"

# a chain link replaced by a validly signed manifest that does not chain
fresh
python3 - "$T/manifests/00000000000000000002.json" <<'EOF'
import json, sys
p = sys.argv[1]; lines = open(p).read().splitlines(True)
h = json.loads(lines[0]); h["previous"] = "0" * 64
open(p, "w").write(json.dumps(h, sort_keys=True, separators=(",", ":")) + "\n" + "".join(lines[1:]))
EOF
rm "$T/manifests/00000000000000000002.json.sig"
ssh-keygen -q -Y sign -n navette-manifest -f "$K/sign" "$T/manifests/00000000000000000002.json" 2>/dev/null
expect_exit 1 "a broken hash chain" "$NAVETTE" verify "$T"
expect_err "chain manifests/00000000000000000002.json: its 'previous' is not the SHA-256 of manifest 1" "broken link named"
expect_err "chain manifests/00000000000000000003.json" "and the next link too"

# ---- heartbeat ----
fresh
craft heartbeat "$T" "$K/sign" 2020-01-01T00:00:00Z
expect_exit 1 "a heartbeat older than --max-age" "$NAVETTE" verify --max-age 26h "$T"
expect_err "stale heartbeat.json: the last push was at 2020-01-01T00:00:00Z.*older than --max-age" "stale heartbeat named"
expect_exit 0 "the same with a longer --max-age" "$NAVETTE" verify --max-age 100000d "$T"
expect_exit 0 "and without --max-age" "$NAVETTE" verify "$T"
fresh
rm "$T/heartbeat.json.sig"
expect_exit 1 "an unsigned heartbeat" "$NAVETTE" verify --max-age 1h "$T"
expect_err "heartbeat.json is not signed" "unsigned heartbeat named"
fresh
rm "$T/heartbeat.json" "$T/heartbeat.json.sig"
expect_exit 1 "no heartbeat" "$NAVETTE" verify --max-age 1h "$T"
expect_err "no heartbeat" "missing heartbeat said"
fresh
sed -i 's/"time":"2/"time":"1/' "$T/heartbeat.json"
expect_exit 1 "an edited heartbeat" "$NAVETTE" verify --max-age 1h "$T"
expect_err "heartbeat.json: bad signature" "edited heartbeat named"

# a heartbeat rolled back to an older push (saved before the last push)
cp "$V/heartbeat.json" "$NV_TMP/hb3"; cp "$V/heartbeat.json.sig" "$NV_TMP/hb3.sig"
echo 4 >"$D/gen"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 4"
fresh
cp "$NV_TMP/hb3" "$T/heartbeat.json"; cp "$NV_TMP/hb3.sig" "$T/heartbeat.json.sig"
expect_exit 1 "a rolled-back heartbeat" "$NAVETTE" verify --max-age 1h "$T"
expect_err "rollback heartbeat.json: names generation 3, older than generation 4" "heartbeat rollback named"
# a heartbeat newer than every manifest: the newest manifest was withheld
fresh
rm "$T/manifests/00000000000000000004.json" "$T/manifests/00000000000000000004.json.sig"
expect_exit 1 "a withheld newest manifest" "$NAVETTE" verify --max-age 1h "$T"
expect_err "newest generation is 3 but this host has seen generation 4" "withheld manifest: rollback refused"

# a whole vault rolled back: this host has seen generation 4
expect_exit 1 "a rolled-back vault" "$NAVETTE" verify "$NV_TMP/t"
expect_err "refusing a rollback" "rollback named"
# and another host that has seen nothing yet learns generation 4 from the heartbeat
export NAVETTE_STATE_DIR="$NV_TMP/state-B"
expect_exit 1 "fresh host: the heartbeat betrays the withheld manifest" "$NAVETTE" verify --max-age 1h "$T" --signing-pubkey "$K/sign.pub"
expect_err "names generation 4, but the newest manifest is 3" "withheld manifest named"
expect_exit 1 "and the host remembers it" "$NAVETTE" verify "$T"
expect_err "seen generation 4" "remembered"

nv_done
