# shard_vault.sh: pull, verify and replicate in 1, 3 and 8 shards (--shard
# K/N) of a vault holding the awkward tree (less its name that is not UTF-8,
# which no catalog can hold) and many small files, on the local driver. pull
# restores every catalog path exactly once across the shards' JSON logs;
# verify (hash, deep, list) checks every object exactly once, and a damaged
# object is reported by its one shard; a sharded replicate copies every
# object exactly once and publishes nothing, and the unsharded replicate
# after it copies nothing and publishes. verify --sample in shards reads the
# unsharded sample, each object once; check --report of a vault pair in
# shards writes each line in one shard's report, its header naming the shard.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/shard.sh"
command -v jq >/dev/null || nv_need "jq"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0

hexlines() { python3 -c 'import sys; [print(l.rstrip("\n").encode().hex()) for l in sys.stdin]' | LC_ALL=C sort; }

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
T="$NV_TMP/tree"; V="$NV_TMP/vault"
nv_awkward_tree "$T"
rm "$T/"$'bad\xffutf8'
nv_small_tree "$T/small" 300
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$T" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 1"
echo changed >"$T/small/dir0/f10.txt"
"$NAVETTE" push "$T" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 2"
nv_tree_paths "$T" >"$NV_TMP/tree.paths"
newest=$(ls "$V"/manifests/*.json | tail -n 1)
tail -n +2 "$newest" | jq -r .name | hexlines >"$NV_TMP/newest.objects"
for m in "$V"/manifests/*.json; do tail -n +2 "$m" | jq -r .name; done | sort -u | hexlines >"$NV_TMP/all.objects"
nobj=$(wc -l <"$NV_TMP/newest.objects")
I=(--identity "$K/id.txt")


for n in 1 3 8; do
	P="$NV_TMP/pull-$n"
	nv_shards pull "$n" "pull-$n" "$V" "$P" "${I[@]}"
	nv_shards_once "pull, $n shards" restored "$NV_TMP/tree.paths" "every file restored once"
	check "pull, $n shards: the restore is the tree" diff -r "$T" "$P"
	check "pull, $n shards: the summary names the shard" \
		test "$(nv_json_event summary shard "$NV_TMP/log.0")" = "0/$n"

	nv_shards verify "$n" "verify-$n" "$V" --level hash
	nv_shards_once "verify hash, $n shards" verified "$NV_TMP/newest.objects" \
		"every object of the newest generation once"
	nv_shards verify "$n" "deep-$n" "$V" --level deep "${I[@]}"
	check "verify deep, $n shards: every shard exits 0" nv_all_exit 0
	check "verify deep, $n shards: the objects found good add up" test "$(nv_summed files)" -eq "$nobj"
	nv_shards verify "$n" "list-$n" "$V"
	check "verify list, $n shards: every shard exits 0" nv_all_exit 0
	check "verify list, $n shards: the objects found good add up" test "$(nv_summed files)" -eq "$nobj"
	check "verify list, $n shards: so do the older objects" test "$(nv_summed older_objects)" -eq \
		"$(( $(wc -l <"$NV_TMP/all.objects") - nobj ))"

	R="$NV_TMP/replica-$n"
	nv_shards replicate "$n" "repl-$n" "$V" "$R"
	nv_shards_once "replicate, $n shards" replicated "$NV_TMP/all.objects" \
		"every object of every generation once"
	check "replicate, $n shards: nothing published" \
		test ! -e "$R/manifests" -a ! -e "$R/navette-vault.json" -a ! -e "$R/heartbeat.json"
	check "replicate, $n shards: no shard published a manifest" test "$(nv_summed manifests_published)" -eq 0
	expect_exit 0 "replicate, $n shards: then an unsharded replicate" "$NAVETTE" replicate --log-json "$V" "$R"
	check "copies nothing" test "$(nv_json_event summary files "$NV_TMP/err")" -eq 0
	check "and publishes both generations" test "$(nv_json_event summary manifests_published "$NV_TMP/err")" -eq 2
	expect_exit 0 "replicate, $n shards: the replica verifies" "$NAVETTE" verify --level deep "$R" "${I[@]}"
done
grep -q "objects only, nothing published; once every shard of run repl-8 is done, replicate without --shard to publish" "$NV_TMP/log.0" &&
	ok "a replicate shard says how publication is done" || not_ok "a replicate shard says how publication is done"

# ---- verify --sample: the unsharded run's sample, each shard reading its own ----
S=(--level hash --sample 1/3 --seed 7)
expect_exit 0 "verify --sample, unsharded" "$NAVETTE" verify "$V" "${S[@]}" -v --log-json
nv_json_paths verified "$NV_TMP/err" >"$NV_TMP/sampled"
kept=$(nv_json_event summary sampled_objects "$NV_TMP/err")
check "verify --sample, unsharded: reads a share" test "$kept" -gt 0 -a "$kept" -lt "$nobj"
nv_shards verify 3 sample "$V" "${S[@]}"
nv_shards_once "verify --sample, 3 shards" verified "$NV_TMP/sampled" \
	"together they read the unsharded sample, each object once"
check "verify --sample, 3 shards: their sampled objects add up to the sample" \
	test "$(nv_summed sampled_objects)" -eq "$kept"
check "verify --sample, 3 shards: each counts its own objects" test "$(nv_summed sample_of)" -eq "$nobj"

# ---- check --report of a vault pair: each line in one shard's report ----
C="$NV_TMP/replica-3"
echo stray >"$C/objects/stray"
echo orphan >"$V/objects/orphan" # no object is named so
expect_exit 1 "check --report of the replica, unsharded (an extra file)" \
	"$NAVETTE" check "$V" "$C" --report "$NV_TMP/rep.all"
: >"$NV_TMP/rcs"
for k in 0 1 2; do
	"$NAVETTE" check --shard "$k/3" --run chk "$V" "$C" --report "$NV_TMP/rep.$k" 2>/dev/null
	echo $? >>"$NV_TMP/rcs"
done
check "check --report, 3 shards: the one with the extra file exits 1" \
	test "$(sort "$NV_TMP/rcs" | tr '\n' ' ')" = "0 0 1 "
lines() { jq -c 'select(.type != "header" and .type != "summary") | [.type, .path, .verdict, .kind]' "$@" |
	LC_ALL=C sort; }
lines "$NV_TMP/rep.all" >"$NV_TMP/lines.all"
check "check --report: the unsharded report names the unreferenced file" \
	grep -q '"not_compared","objects/orphan",null,"unreferenced"' "$NV_TMP/lines.all"
lines "$NV_TMP"/rep.[012] >"$NV_TMP/lines.3"
nv_same "check --report, 3 shards: every object, document, extra and unreferenced name once" \
	"$NV_TMP/lines.all" "$NV_TMP/lines.3"
check "check --report, 3 shards: the header names the shard and the run" \
	jq -e -s '.[0].shard == "1/3" and .[0].run == "chk" and .[0].compare == "objects"' "$NV_TMP/rep.1"
check "check --report, unsharded: shard null, no run" \
	jq -e -s '.[0].shard == null and (.[0] | has("run") | not)' "$NV_TMP/rep.all"
rm "$C/objects/stray" "$V/objects/orphan"

# ---- a sharded dry run of replicate would publish nothing either ----
expect_exit 0 "replicate --dry-run, one shard" "$NAVETTE" replicate --dry-run --shard 1/3 --run dry \
	-v --log-json "$V" "$NV_TMP/dry"
check "it would copy its objects" test "$(nv_json_paths "would copy" "$NV_TMP/err" | wc -l)" -gt 0
check "it would publish nothing" test "$(nv_json_paths "would publish" "$NV_TMP/err" | wc -l)" -eq 0
check "and wrote nothing" test ! -e "$NV_TMP/dry"

# ---- a damaged object is reported by its one shard ----
obj=$(tail -n +2 "$newest" | jq -r .name | grep -v "$(head -n 1 "$newest" | jq -r .catalog)" | head -n 1)
nv_flip_byte "$V/$obj" 20
nv_shards verify 3 damaged "$V" --level hash
check "one shard exits 1, two exit 0" test "$(sort "$NV_TMP/rcs" | tr '\n' ' ')" = "0 0 1 "
check "the damaged object is reported once" test "$(nv_json_paths mismatch "$NV_TMP"/log.*)" = \
	"$(printf '%s' "$obj" | hexlines)"
expect_exit 2 "replicate shards need a run id" "$NAVETTE" replicate --shard 0/2 "$V" "$NV_TMP/r"
expect_exit 0 "pull and verify do not" "$NAVETTE" verify --shard 0/2 "$NV_TMP/replica-3"
nv_done
