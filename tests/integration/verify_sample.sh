# verify_sample.sh: verify --sample through the CLI: the same seed reads the
# same objects, consecutive seeds read every object over the documented number
# of runs (navette(1), SAMPLING), the summary says the share, and a damaged
# object is found by the run whose share holds it.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v jq >/dev/null || nv_need "jq"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/a" "$D/b"
for i in $(seq 1 40); do head -c $((i * 97)) /dev/urandom >"$D/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i"; done
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
m=$(ls "$V"/manifests/*.json | tail -n 1)
tail -n +2 "$m" | jq -r .name | sort >"$NV_TMP/all"
total=$(wc -l <"$NV_TMP/all")
[ "$total" -eq 41 ] || nv_die "expected 41 objects (40 files and the catalog), got $total"

# read SEED LEVEL [ARGS]: the objects one sampled run read, sorted, in $NV_TMP/read.SEED
read_by() {
	local seed=$1 level=$2; shift 2
	"$NAVETTE" verify --level "$level" --sample 1/4 --seed "$seed" "$V" -v --log-json "$@" \
		2>"$NV_TMP/log.$seed" || return 1
	jq -r 'select(.event == "item" and .action == "verified") | .path' "$NV_TMP/log.$seed" |
		sort >"$NV_TMP/read.$seed"
}

for s in 1000 1001 1002 1003; do
	check "hash, seed $s: exit 0" read_by "$s" hash
done
check "every object read once over the 4 runs of 1/4 (seeds 1000 to 1003)" \
	sh -c 'sort -u "$1"/read.100? | cmp -s - "$1/all"' sh "$NV_TMP"
check "the 3 first runs alone leave some unread" \
	sh -c 'test "$(sort -u "$1"/read.1000 "$1"/read.1001 "$1"/read.1002 | wc -l)" -lt "$2"' sh "$NV_TMP" "$total"
check "a run reads about a quarter (the largest and the catalog always)" \
	sh -c 'n=$(wc -l <"$1/read.1001"); [ "$n" -ge 4 ] && [ "$n" -le 22 ]' sh "$NV_TMP"
cp "$NV_TMP/read.1001" "$NV_TMP/again"
read_by 1001 hash
check "seed 1001 again: same objects" cmp -s "$NV_TMP/read.1001" "$NV_TMP/again"
read_by 1005 hash
check "seed 1005 = seed 1001 (mod 4): same objects" cmp -s "$NV_TMP/read.1005" "$NV_TMP/again"
check "a shifted seed reads others" sh -c '! cmp -s "$1/read.1000" "$1/read.1001"' sh "$NV_TMP"

n=$(wc -l <"$NV_TMP/read.1001")
check "JSON summary: the share, the seed, the counts and the runs to cover" \
	jqt -s --argjson n "$n" --argjson t "$total" 'map(select(.event == "summary"))[0] |
		.sample == "1/4" and .seed == 1001 and .sampled_objects == $n and
		.sample_of == $t and .runs_to_cover == 4 and .files == $n and
		(.coverage - ($n / $t) | fabs) < 0.001 and .sample_of_bytes > .sampled_bytes' "$NV_TMP/log.1001"
expect_exit 0 "human summary" "$NAVETTE" verify --level hash --sample 1/4 --seed 1001 "$V"
expect_err "sample 1/4 \(seed 1001\): $n of $total objects read \([0-9.]+%\), [0-9]+ of [0-9]+ bytes \([0-9.]+%\); seeds 1001 to 1004 read every object" \
	"human summary: the share read and the seeds that read every object"

# deep: the same share, decrypted
check "deep, seed 1002" read_by 1002 deep --identity "$K/id.txt"
check "deep reads the catalog's objects of the share" test -s "$NV_TMP/read.1002"

# a damaged object: only the run whose share holds it fails
bad=$(comm -23 "$NV_TMP/read.1003" <(sort -u "$NV_TMP/read.1000" "$NV_TMP/read.1001") | head -n 1)
[ -n "$bad" ] || nv_die "no object read by seed 1003 alone"
nv_flip_byte "$V/$bad" 30
expect_exit 0 "a run whose share lacks the damaged object passes" \
	"$NAVETTE" verify --level hash --sample 1/4 --seed 1000 "$V"
expect_exit 1 "the run whose share holds it fails" \
	"$NAVETTE" verify --level hash --sample 1/4 --seed 1003 "$V"
expect_err "mismatch $bad" "the damaged object named"

# count: 10 objects a run, ceil(41/10) = 5 runs
expect_exit 0 "--sample 10" "$NAVETTE" verify --level hash --sample 10 --seed 0 "$V" --log-json
check "--sample 10: 5 runs to cover" jqt -s 'map(select(.event == "summary"))[0] | .runs_to_cover == 5 and .sampled_objects >= 10' "$NV_TMP/err"

# the default seed is the day number, printed
expect_exit 0 "--sample without --seed" "$NAVETTE" verify --level hash --sample 50% "$V"
expect_err "sample 50% \(seed $(( $(date -u +%s) / 86400 ))\)" "the default seed is the day number"

expect_exit 2 "--seed without --sample" "$NAVETTE" verify --level hash --seed 3 "$V"
expect_err "--seed goes with --sample" "says so"
expect_exit 2 "--sample with --level list" "$NAVETTE" verify --sample 1/7 "$V"
expect_err "--sample goes with --level hash or deep" "says so"
expect_exit 2 "a bad share" "$NAVETTE" verify --level hash --sample 0% "$V"
expect_err "--sample 0%: the share must be above 0" "says why"
expect_exit 2 "a bad seed" "$NAVETTE" verify --level hash --sample 1/7 --seed -2 "$V"
expect_err "--seed takes a number" "says why"
nv_done
