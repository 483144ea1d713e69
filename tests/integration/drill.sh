# drill.sh: navette drill on local vaults. An intact vault passes (exit 0) and its
# reports (stdout, --report JSON, --report-md Markdown) say what was restored: files,
# bytes, generation, chain, heartbeat, and every key of the JSON schema; the scratch
# directory is gone afterwards, --to keeps the tree, --no-keep writes none. One
# flipped byte in one object fails it (exit 1) naming that file, escaped for each
# output; a heartbeat older than --max-age fails it, a quiet vault (old generation,
# fresh heartbeat) passes with both ages reported; a sample is the same for the
# same seed and holds the largest file and one file per top-level directory.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null && command -v python3 >/dev/null ||
	nv_need "stock age, jq and python3"
# jqe FILTER [FILE...]: jq -e, output dropped (the test line stays in the log)
jqe() { jq -e "$@" >/dev/null; }
craft() { python3 "$NV_SRCDIR/tests/integration/vault_craft.py" "$@"; }

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"
# A name with Markdown's and the terminal's dangerous characters: | * _ [ ] ( ),
# a backslash and U+202E (right-to-left override).
weird=$'docs/e|v*i_l[x](y)\\z\u202etxt.exe'
mkdir -p "$D/docs" "$D/img" "$D/src"
head -c 300000 /dev/urandom >"$D/img/big.bin"
head -c 5000 /dev/urandom >"$D/img/small.bin"
echo "read me" >"$D/docs/readme.txt"
echo "notes" >"$D/docs/notes.md"
head -c 3000 /dev/urandom >"$D/$weird"
echo "int main;" >"$D/src/main.c"
echo top >"$D/top.txt"
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
	nv_die "init"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 1"
echo "second" >"$D/docs/notes.md"
"$NAVETTE" push "$D" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push 2"
nfiles=$(find "$D" -type f | wc -l)
nbytes=$(find "$D" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
I=(--identity "$K/id.txt")
R="$NV_TMP/reports"; mkdir -p "$R"

# ---- an intact vault ----
expect_exit 0 "drill of an intact vault" "$NAVETTE" drill "$V" "${I[@]}" \
	--report "$R/ok.json" --report-md "$R/ok.md"
check "stdout: passed" grep -q "^navette drill of .*: passed$" "$NV_TMP/out"
check "stdout: $nfiles files restored and checked" \
	grep -Eq "^  files +$nfiles of $nfiles restored and checked \($nfiles in the generation\)$" "$NV_TMP/out"
check "stdout: the RTO" grep -Eq "^  RTO +[0-9.]+ s \([0-9.]+ MB/s\)$" "$NV_TMP/out"
check "stdout: the last push's age, the RPO" grep -Eq "^  last push +[0-9T:-]+Z \(.* ago: the RPO\)$" "$NV_TMP/out"
check "stdout: exit status 0" grep -Eq "^  exit status +0$" "$NV_TMP/out"
check "the JSON report parses" jqe . "$R/ok.json"
j() { jq -r "$1" "$R/ok.json"; }
check "json: passed, exit 0" test "$(j '.result, .exit_code' | tr '\n' ' ')" = "passed 0 "
check "json: files total, selected, checked = $nfiles" \
	test "$(j '[.files.total, .files.selected, .files.checked] | map(tostring) | join(" ")')" = "$nfiles $nfiles $nfiles"
check "json: bytes total, selected, checked = $nbytes" \
	test "$(j '[.bytes.total, .bytes.selected, .bytes.checked] | map(tostring) | join(" ")')" = "$nbytes $nbytes $nbytes"
check "json: generation 2, its time is the manifest's" \
	test "$(j '.generation.number, .generation.time' | tr '\n' ' ')" = \
	"2 $(head -n 1 "$V/manifests/00000000000000000002.json" | jq -r .time) "
check "json: 2 manifests verified" test "$(j .manifests_verified)" = 2
check "json: the heartbeat names generation 2, its time is the heartbeat's" \
	test "$(j '.heartbeat.generation, .heartbeat.time' | tr '\n' ' ')" = "2 $(jq -r .time "$V/heartbeat.json") "
check "json: both ages, no bound, not exceeded" \
	jqe '.rpo.heartbeat_age_seconds >= 0 and .rpo.generation_age_seconds >= 0 and
		.rpo.max_age_seconds == null and .rpo.exceeded == false' "$R/ok.json"
check "json: the RTO and its throughput" \
	jqe '.rto.seconds > 0 and .rto.bytes_per_second > 0' "$R/ok.json"
check "json: no failures" jqe '.failures == [] and .failures_total == 0 and .error == null' "$R/ok.json"
check "json: vault, its id, full mode, no sample" \
	test "$(j '.vault, .vault_id, .mode, .sample' | tr '\n' ' ')" = \
	"$V $(jq -r .vault_id "$V/navette-vault.json") full null "
check "json: restored into a scratch directory, removed" \
	jqe '.restore.to == "scratch" and .restore.kept == false and (.restore.path | type) == "string"' \
	"$R/ok.json"
check "the scratch directory is gone" test ! -e "$(j .restore.path)"
check "nothing left under the state's drill/" test -z "$(ls -A "$NAVETTE_STATE_DIR/drill")"
check "json: the schema's keys, in order" test "$(j 'keys_unsorted | join(" ")')" = \
	"format version navette result exit_code error vault vault_id mode started finished duration_seconds restore sample generation heartbeat rpo manifests_verified files bytes rto failures failures_total"
check "json: format and version" test "$(j '.format, .version' | tr '\n' ' ')" = "navette-drill-report 1 "
check "json: the nested keys" test "$(jq -c '[(.restore, .generation, .heartbeat, .rpo, .files, .bytes, .rto) | keys_unsorted]' "$R/ok.json")" = \
	'[["to","path","kept"],["number","time","age_seconds"],["generation","time","age_seconds"],["exceeded","heartbeat_age_seconds","generation_age_seconds","max_age_seconds"],["total","selected","checked"],["total","selected","checked"],["seconds","bytes_per_second"]]'
check "json: started and finished are RFC 3339 UTC" \
	jqe '[.started, .finished] | all(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' "$R/ok.json"
check "the reports are private (0600)" test "$(stat -c %a "$R/ok.json") $(stat -c %a "$R/ok.md")" = "600 600"
check "no temporary file beside the reports" test "$(ls "$R")" = "$(printf 'ok.json\nok.md')"
check "markdown: the verdict" grep -qx "# navette disaster-recovery drill: PASSED" "$R/ok.md"
check "markdown: files checked" grep -qF "| Files checked | $nfiles of $nfiles selected ($nfiles in the generation) |" "$R/ok.md"
check "markdown: the chain" grep -qF "| Manifest chain | 2 manifests verified back to generation 1 |" "$R/ok.md"
check "markdown: the RTO" grep -Eq "^\| Time to restore \(RTO\) \| [0-9.]+ s, [0-9.]+ MB/s \|$" "$R/ok.md"

expect_exit 0 "drill --to DIR" "$NAVETTE" drill "$V" "${I[@]}" --to "$NV_TMP/kept" --report "$R/to.json"
check "--to: the restored tree is the pushed one" diff -r "$D" "$NV_TMP/kept"
check "json: restored into DIR, kept" test "$(jq -r '.restore.to, .restore.path, .restore.kept' "$R/to.json" | tr '\n' ' ')" = "dir $NV_TMP/kept true "
expect_exit 2 "--to a directory that is not empty" "$NAVETTE" drill "$V" "${I[@]}" --to "$NV_TMP/kept"
expect_err "--to .*kept is not empty" "...says so"
expect_exit 0 "drill --no-keep" "$NAVETTE" drill "$V" "${I[@]}" --no-keep --report "$R/nk.json"
check "--no-keep: streamed and checked" grep -Eq "^  files +$nfiles of $nfiles streamed and checked" "$NV_TMP/out"
check "json: restored nowhere" jqe '.restore.to == "none" and .restore.path == null and .files.checked == '"$nfiles" "$R/nk.json"
check "--no-keep: no scratch directory either" test -z "$(ls -A "$NAVETTE_STATE_DIR/drill")"

# ---- usage and keys ----
expect_exit 2 "--seed without --sample" "$NAVETTE" drill "$V" "${I[@]}" --seed 3
expect_exit 2 "--sample 0" "$NAVETTE" drill "$V" "${I[@]}" --sample 0
expect_exit 2 "--no-keep with --to" "$NAVETTE" drill "$V" "${I[@]}" --no-keep --to "$NV_TMP/x"
expect_exit 2 "no identity" env -u NAVETTE_IDENTITY "$NAVETTE" drill "$V"
"$NAVETTE" keygen -o "$NV_TMP/other.txt" >/dev/null 2>&1
expect_exit 2 "the wrong identity" "$NAVETTE" drill "$V" --identity "$NV_TMP/other.txt" --report "$R/key.json"
expect_err "no identity matches" "...says so"
check "json: a stopped drill says why" jqe '.exit_code == 2 and (.error | test("no identity matches"))' "$R/key.json"
expect_exit 4 "no vault there" "$NAVETTE" drill "$NV_TMP/nothing" "${I[@]}"

# ---- one flipped byte ----
T="$NV_TMP/t"
fresh() { rm -rf "$T"; cp -a "$V" "$T"; }
fresh
m2="$T/manifests/00000000000000000002.json"
age -d -i "$K/id.txt" "$T/$(head -n 1 "$m2" | jq -r .catalog)" >"$NV_TMP/catalog"
obj=$(tail -n +2 "$NV_TMP/catalog" | jq -r --arg p "$weird" 'select(.path == $p) | .object')
check "the object holding the weird name exists" test -f "$T/$obj"
nv_flip_byte "$T/$obj" 300
expect_exit 1 "a flipped byte fails the drill" "$NAVETTE" drill "$T" "${I[@]}" \
	--report "$R/bad.json" --report-md "$R/bad.md"
esc='docs/e|v*i_l[x](y)\\z\u{202e}txt.exe'
check "stdout: FAILED" grep -q "^navette drill of .*: FAILED$" "$NV_TMP/out"
check "stdout: the file named, escaped" grep -qF "    mismatch $esc: object $obj: SHA-256 of the stored bytes differs" "$NV_TMP/out"
check "stdout: the others restored" grep -Eq "^  files +$((nfiles - 1)) of $nfiles restored and checked" "$NV_TMP/out"
check "stderr: the file named, escaped" grep -qF "mismatch $esc: object $obj" "$NV_TMP/err"
check "no raw U+202E on stdout or stderr" sh -c "! grep -q \$(printf '\\342\\200\\256') '$NV_TMP/out' '$NV_TMP/err'"
check "json: one failure, the file's path exactly" \
	jqe --arg p "$weird" '.result == "failed" and .exit_code == 1 and .failures_total == 1 and
		.failures[0].kind == "mismatch" and .failures[0].path == $p' "$R/bad.json"
check "json: the bidi control written as \\u202e" grep -qF '\u202e' "$R/bad.json"
check "json: files checked $((nfiles - 1))" test "$(jq .files.checked "$R/bad.json")" = $((nfiles - 1))
check "markdown: FAILED" grep -qx "# navette disaster-recovery drill: FAILED" "$R/bad.md"
check "markdown: the path escaped for Markdown" \
	grep -qF '| mismatch | docs/e\|v\*i\_l\[x\]\(y\)\\\\z\\u{202e}txt.exe | object ' "$R/bad.md"
check "markdown: one failure row" test "$(grep -c '^| mismatch |' "$R/bad.md")" = 1

# a broken chain is a failure of the drill too
fresh
rm "$T/manifests/00000000000000000001.json.sig"
expect_exit 1 "an unsigned old manifest fails the drill" "$NAVETTE" drill "$T" "${I[@]}" --report "$R/chain.json"
check "json: the manifest named" jqe '.failures[0].kind == "bad-manifest" and
	.failures[0].path == "manifests/00000000000000000001.json" and .files.checked == '"$nfiles" \
	"$R/chain.json"

# ---- the RPO ----
fresh
craft heartbeat "$T" "$K/sign" 2020-01-01T00:00:00Z
expect_exit 1 "a heartbeat older than --max-age fails the drill" "$NAVETTE" drill "$T" "${I[@]}" \
	--max-age 26h --report "$R/stale.json" --report-md "$R/stale.md"
check "stdout: older than --max-age" grep -q "^  last push    2020-01-01T00:00:00Z (.* ago: the RPO, OLDER than --max-age 1d 2h)$" "$NV_TMP/out"
check "json: exceeded, the heartbeat's age" jqe '.rpo.exceeded == true and .rpo.max_age_seconds == 93600 and
	.rpo.heartbeat_age_seconds > 93600 and .heartbeat.time == "2020-01-01T00:00:00Z" and
	.failures[0].kind == "stale" and .failures[0].path == "heartbeat.json" and
	.files.checked == '"$nfiles" "$R/stale.json"
check "markdown: RPO not within --max-age" grep -qF "| RPO within --max-age | **no** (at most 1d 2h) |" "$R/stale.md"
expect_exit 0 "the same without --max-age passes" "$NAVETTE" drill "$T" "${I[@]}" --no-keep
expect_exit 0 "and with a longer one" "$NAVETTE" drill "$T" "${I[@]}" --no-keep --max-age 100000d
# a quiet vault: its newest generation is old, its heartbeat fresh (pushes that found
# nothing to change): the RPO is the heartbeat's age, and both are reported. Read
# from another host's state: this one would then refuse the vault's generation 2
# (it saw a 3: the rollback rule).
fresh
echo '[{"path": "q/quiet.txt", "data": "quiet"}]' >"$NV_TMP/quiet.json"
craft gen "$T" "$(cat "$K/id.pub")" "$K/sign" "$NV_TMP/quiet.json" 2020-06-01T00:00:00Z >/dev/null
expect_exit 0 "a quiet vault with a fresh heartbeat passes --max-age 26h" env \
	NAVETTE_STATE_DIR="$NV_TMP/state-quiet" "$NAVETTE" drill "$T" "${I[@]}" --max-age 26h \
	--signing-pubkey "$K/sign.pub" --report "$R/quiet.json"
check "json: an old generation, a young heartbeat, both reported" \
	jqe '.generation.number == 3 and .generation.time == "2020-06-01T00:00:00Z" and
		.rpo.generation_age_seconds > 86400 * 365 and .rpo.heartbeat_age_seconds < 3600 and
		.rpo.exceeded == false and .files.checked == 1' "$R/quiet.json"

# ---- a sample ----
sample() { # sample DIR SEED [ARGS]: the sorted files a sampled drill restored into DIR
	local dir=$1 seed=$2; shift 2
	"$NAVETTE" -q drill "$V" "${I[@]}" --sample 2 --seed "$seed" --to "$dir" "$@" >/dev/null 2>&1 &&
		(cd "$dir" && find . -type f | sort)
}
s1=$(sample "$NV_TMP/s1" 7 --report "$R/s1.json"); s2=$(sample "$NV_TMP/s2" 7)
check "a sampled drill passes" test -n "$s1"
check "the same seed restores the same files" test "$s1" = "$s2"
check "the sample holds the largest file" grep -qx './img/big.bin' <<<"$s1"
for dir in docs img src; do
	check "the sample holds a file of $dir/" grep -q "^\./$dir/" <<<"$s1"
done
check "json: the sample, its seed, what it selected" jqe --argjson n "$(wc -l <<<"$s1")" \
	'.mode == "sample" and .sample.asked == "2" and .sample.seed == 7 and
	 .files.selected == $n and .files.checked == $n and .files.total == '"$nfiles" "$R/s1.json"
# the seeds the report names check every file together
runs=$(jq .sample.runs_for_all "$R/s1.json")
all=$(for s in $(seq 7 $((7 + runs - 1))); do sample "$NV_TMP/r$s" "$s"; done | sort -u | wc -l)
check "seeds 7 to $((7 + runs - 1)) restore every file together ($all of $nfiles)" test "$all" = "$nfiles"
nv_done
