# merge_reports.sh: check --merge-reports OUT REPORT... over the reports of
# check --shard K/N --run ID --report: 1, 3 and 8 shards of the awkward tree
# merge into what one unsharded check --report writes (timing fields aside),
# also with a difference and a symlink, with filters, and for a vault pair;
# the set is refused (exit 2, naming what) when a shard is missing, given
# twice, of another run, of other locations or filters, or not a shard's; a
# report edited after it was signed is refused (exit 1) and so is a damaged
# unsigned one; the merged report is signed as check's and stock ssh-keygen
# verifies it.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v jq >/dev/null || nv_need "jq"
command -v ssh-keygen >/dev/null || nv_need "ssh-keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0

expect_line() {
	if grep -Fxq -- "$1" "$NV_TMP/err"; then ok "$2"; else
		not_ok "$2 (no line '$1')"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
# norm REPORT: its lines without the fields that say when (and, for a merged
# report, which shards), sorted: what two reports of the same comparison share.
norm() {
	jq -c 'if .type == "header" then del(.started, .navette, .merged)
		elif .type == "summary" then del(.started, .ended) else . end' "$1" | LC_ALL=C sort
}
same_report() { # DESCRIPTION A B
	norm "$2" >"$NV_TMP/norm.a" && norm "$3" >"$NV_TMP/norm.b" || { not_ok "$1 (not JSON)"; return; }
	if [ "$(wc -l <"$NV_TMP/norm.a")" -gt 2 ] && diff "$NV_TMP/norm.a" "$NV_TMP/norm.b" >"$NV_TMP/diff"; then ok "$1"; else
		not_ok "$1"; head -20 "$NV_TMP/diff" | sed 's/^/    /'; fi
}
# shard_reports N RUN ARGS...: check --shard K/N --run RUN ARGS --report
# $NV_TMP/RUN.K for every K; their exit codes in $NV_TMP/rcs.
shard_reports() {
	local n=$1 run=$2 k; shift 2
	: >"$NV_TMP/rcs"
	for k in $(seq 0 $((n - 1))); do
		"$NAVETTE" check --shard "$k/$n" --run "$run" "$@" --report "$NV_TMP/$run.$k" 2>/dev/null
		echo $? >>"$NV_TMP/rcs"
	done
}
# field TYPE NAME REPORT...: that field of each report's line of that type.
field() { local t=$1 f=$2; shift 2; jq -r "select(.type == \"$t\") | .$f" "$@"; }
jqok() { jq -e "$@" >/dev/null; }
reports() { local k; for k in $(seq 0 $(($2 - 1))); do echo "$NV_TMP/$1.$k"; done; }

A="$NV_TMP/awkward"; D="$NV_TMP/copy"
nv_awkward_tree "$A"
"$NAVETTE" sync "$A" "$D" 2>/dev/null || nv_die "sync"
expect_exit 0 "unsharded check --report" "$NAVETTE" check "$A" "$D" --report "$NV_TMP/all"
check "its result is identical" jqok -s '.[-1].result == "identical"' "$NV_TMP/all"

# ---- 1, 3 and 8 shards merge into the unsharded report ----
for n in 1 3 8; do
	shard_reports "$n" "r$n" "$A" "$D"
	expect_exit 0 "$n shards: merged" "$NAVETTE" check --merge-reports "$NV_TMP/m$n" $(reports "r$n" "$n")
	expect_line "navette: merged the reports of the $n shards of run r$n into $NV_TMP/m$n: 34 files, 0 not compared: result identical" \
		"$n shards: the summary says what was merged"
	same_report "$n shards: the merged report is the unsharded one" "$NV_TMP/all" "$NV_TMP/m$n"
	check "$n shards: its header names no shard, and the run and shard count merged" \
		jqok -s ".[0].shard == null and (.[0] | has(\"run\") | not) and
			.[0].merged == {run: \"r$n\", shards: $n}" "$NV_TMP/m$n"
	check "$n shards: it starts with the earliest shard and ends with the latest" test \
		"$(field header started "$NV_TMP/m$n") $(field summary ended "$NV_TMP/m$n")" = \
		"$(field header started $(reports "r$n" "$n") | sort | head -n 1) $(field summary ended $(reports "r$n" "$n") | sort | tail -n 1)"
	check "$n shards: each shard's lines byte for byte" test "$(grep -v -e '"type":"header"' \
		-e '"type":"summary"' "$NV_TMP/m$n" | LC_ALL=C sort | sha256sum)" = \
		"$(cat $(reports "r$n" "$n") | grep -v -e '"type":"header"' -e '"type":"summary"' |
		LC_ALL=C sort | sha256sum)"
done
check "no merged report left a .part" test -z "$(ls "$NV_TMP" | grep '\.part$')"

# ---- a difference, a symlink, a changed file: the merge says what one run says ----
R="$NV_TMP/rsrc"; cp -a "$A" "$R"; ln -s plain.txt "$R/link"; echo new >"$R/new file"
echo changed >"$NV_TMP/copy/a0"
expect_exit 1 "unsharded check, with differences" "$NAVETTE" check "$R" "$D" --report "$NV_TMP/diff.all"
shard_reports 3 d3 "$R" "$D"
check "3 shards: one or more exit 1" grep -qx 1 "$NV_TMP/rcs"
expect_exit 1 "3 shards with differences: merged, exit 1" \
	"$NAVETTE" check --merge-reports "$NV_TMP/dm" $(reports d3 3)
same_report "with differences: the merged report is the unsharded one" "$NV_TMP/diff.all" "$NV_TMP/dm"
check "its result is differ, exit 1, the symlink not compared" jqok -s \
	'.[-1].result == "differ" and .[-1].exit == 1 and .[-1].not_compared == 1 and .[-1].differ == 1 and .[-1].missing == 1' \
	"$NV_TMP/dm"
cp -a "$A/a0" "$D/a0"

# ---- filters: the same in every shard, and the merge keeps them ----
F=(--exclude 'd1/**' --include '*.txt' --exclude 'a*')
expect_exit 0 "unsharded check with filters" "$NAVETTE" check "$A" "$D" "${F[@]}" --report "$NV_TMP/f.all"
shard_reports 3 f3 "$A" "$D" "${F[@]}"
expect_exit 0 "3 filtered shards: merged" "$NAVETTE" check --merge-reports "$NV_TMP/fm" $(reports f3 3)
same_report "filtered: the merged report is the unsharded one (incomplete)" "$NV_TMP/f.all" "$NV_TMP/fm"

# ---- refusals: the set is not one run's ----
expect_exit 2 "a missing shard" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/r3.0" "$NV_TMP/r3.2"
expect_line "navette: error: the report of shard 1/3 of run r3 is missing: a merged report needs every shard's, 0/3 to 2/3" \
	"names the missing shard"
expect_exit 2 "several missing" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/r8.3" "$NV_TMP/r8.5"
expect_line "navette: error: the reports of shards 0/8, 1/8, 2/8, 4/8, 6/8, 7/8 of run r8 are missing: a merged report needs every shard's, 0/8 to 7/8" \
	"names every one"
expect_exit 2 "a shard given twice" "$NAVETTE" check --merge-reports "$NV_TMP/x" $(reports r3 3) "$NV_TMP/r3.1"
expect_line "navette: error: shard 1/3 of run r3 is given twice: $NV_TMP/r3.1 and $NV_TMP/r3.1" "names it"
cp "$NV_TMP/r3.2" "$NV_TMP/copy-of-2"
expect_exit 2 "a shard given twice under two names" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	$(reports r3 3) "$NV_TMP/copy-of-2"
expect_err "shard 2/3 of run r3 is given twice" "names it"
"$NAVETTE" check --shard 1/3 --run other "$A" "$D" --report "$NV_TMP/other.1" 2>/dev/null
expect_exit 2 "another run's shard" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	"$NV_TMP/r3.0" "$NV_TMP/other.1" "$NV_TMP/r3.2"
expect_line "navette: error: $NV_TMP/other.1 is of run other, $NV_TMP/r3.0 of run r3: only the shards of one run merge" \
	"names both runs"
expect_exit 2 "shards of another count" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/r3.0" "$NV_TMP/r8.1"
expect_err "is of run r8, .* of run r3" "named"
"$NAVETTE" sync "$A" "$NV_TMP/copy2" 2>/dev/null || nv_die "sync 2"
"$NAVETTE" check --shard 1/3 --run r3 "$A" "$NV_TMP/copy2" --report "$NV_TMP/loc.1" 2>/dev/null
expect_exit 2 "a shard of the same run over another destination" "$NAVETTE" check --merge-reports \
	"$NV_TMP/x" "$NV_TMP/r3.0" "$NV_TMP/loc.1" "$NV_TMP/r3.2"
expect_line "navette: error: $NV_TMP/loc.1 and $NV_TMP/r3.0 are not shards of one run over the same two locations with the same options: their headers' \"destination\" differ (\"$NV_TMP/copy2\" against \"$NV_TMP/copy\")" \
	"names the destinations"
"$NAVETTE" check --shard 1/3 --run r3 "$A" "$D" --exclude '*.bin' --report "$NV_TMP/flt.1" 2>/dev/null
expect_exit 2 "a shard of the same run with other filters" "$NAVETTE" check --merge-reports \
	"$NV_TMP/x" "$NV_TMP/r3.0" "$NV_TMP/flt.1" "$NV_TMP/r3.2"
expect_err "their headers' \"filters\" differ \(\[\"exclude \*.bin\"\] against \[\]\)" "names the filters"
expect_exit 2 "an unsharded report" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/all"
expect_line "navette: error: $NV_TMP/all is the report of an unsharded run (its shard is null): there is nothing to merge it with" \
	"says so"
"$NAVETTE" check --shard 0/1 "$A" "$D" --report "$NV_TMP/norun.0" 2>/dev/null
expect_exit 2 "a shard of no run" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/norun.0"
expect_err "is shard 0/1 of no run" "says so"
echo '{"type":"file"}' >"$NV_TMP/junk"
expect_exit 2 "not a report" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/junk"
expect_line "navette: error: $NV_TMP/junk is not a navette report (its first line is no report header)" "says so"
expect_exit 2 "a report that is not there" "$NAVETTE" check --merge-reports "$NV_TMP/x" "$NV_TMP/nothing"
expect_exit 2 "OUT one of the reports" "$NAVETTE" check --merge-reports "$NV_TMP/r1.0" "$NV_TMP/r1.0"
expect_exit 2 "no report" "$NAVETTE" check --merge-reports "$NV_TMP/x"
expect_exit 2 "check's other options do not go with it" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	--shard 0/3 "$NV_TMP/r3.0"
expect_line "navette: check --merge-reports does not take --shard" "says so"
check "no refusal wrote a merged report" test ! -e "$NV_TMP/x" -a ! -e "$NV_TMP/x.part"

# ---- damaged or edited reports ----
head -n -1 "$NV_TMP/r3.1" >"$NV_TMP/cut.1"
expect_exit 1 "a report cut short" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	"$NV_TMP/r3.0" "$NV_TMP/cut.1" "$NV_TMP/r3.2"
expect_line "navette: error: $NV_TMP/cut.1 ends before its summary: not a whole report" "says so"
sed '2d' "$NV_TMP/r3.1" >"$NV_TMP/less.1"
expect_exit 1 "a report missing a line" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	"$NV_TMP/r3.0" "$NV_TMP/less.1" "$NV_TMP/r3.2"
expect_line "navette: error: $NV_TMP/less.1: its summary's \"files\" is not what its lines say: the report was edited or damaged" \
	"says which count"
for k in 0 1 2; do grep -q '"result":"differ"' "$NV_TMP/d3.$k" && sed \
	's/"verdict":"differ"/"verdict":"identical"/; s/"result":"differ"/"result":"identical"/' \
	"$NV_TMP/d3.$k" >"$NV_TMP/lie.$k" || cp "$NV_TMP/d3.$k" "$NV_TMP/lie.$k"; done
expect_exit 1 "a report whose verdicts were turned to identical" "$NAVETTE" check --merge-reports \
	"$NV_TMP/x" $(reports lie 3)
expect_err "is not what its lines say" "its counts give it away"
{ head -n 1 "$NV_TMP/r3.1"; grep '"type":"file"' "$NV_TMP/r3.2" | head -n 1; tail -n +2 "$NV_TMP/r3.1"; } \
	>"$NV_TMP/mixed.1"
expect_exit 1 "a report holding another shard's line" "$NAVETTE" check --merge-reports "$NV_TMP/x" \
	"$NV_TMP/r3.0" "$NV_TMP/mixed.1" "$NV_TMP/r3.2"
expect_err "mixed.1: line 2 \(.*\) belongs to shard 2/3, not to this report's 1/3" "names the line"
check "no damaged report gave a merged one" test ! -e "$NV_TMP/x" -a ! -e "$NV_TMP/x.part"

# ---- signed shards, a signed merge ----
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
"$NAVETTE" keygen --signing -o "$K/other" >/dev/null || nv_die "keygen 2"
for k in 0 1 2; do
	"$NAVETTE" check --shard "$k/3" --run s3 "$A" "$D" --report "$NV_TMP/s3.$k" --signing-key "$K/sign" \
		2>/dev/null || nv_die "signed shard $k"
done
expect_exit 0 "signed shards merged with --signing-key" "$NAVETTE" check --merge-reports "$NV_TMP/sm" \
	--signing-key "$K/sign" $(reports s3 3)
expect_line "navette: merged the reports of the 3 shards of run s3 (3 signatures checked) into $NV_TMP/sm, signed in $NV_TMP/sm.sig: 34 files, 0 not compared: result identical" \
	"the summary counts the signatures checked and names the new one"
echo "navette $(cut -d' ' -f1,2 "$K/sign.pub")" >"$NV_TMP/allowed_signers"
check "ssh-keygen verifies the merged report" sh -c 'ssh-keygen -Y verify -f "$1" -I navette \
	-n navette-report -s "$2.sig" <"$2" >/dev/null 2>&1' sh "$NV_TMP/allowed_signers" "$NV_TMP/sm"
same_report "signed: the merged report is the unsharded one" "$NV_TMP/all" "$NV_TMP/sm"
expect_exit 0 "checked with --signing-pubkey alone, the merge unsigned" "$NAVETTE" check \
	--merge-reports "$NV_TMP/sm2" --signing-pubkey "$K/sign.pub" $(reports s3 3)
check "and no signature written" test ! -e "$NV_TMP/sm2.sig"
expect_exit 2 "signed shards, no key to check them" "$NAVETTE" check --merge-reports "$NV_TMP/x" $(reports s3 3)
expect_err "s3.0 is signed \(.*s3.0.sig\): give --signing-pubkey" "says which key is needed"
expect_exit 1 "another key" "$NAVETTE" check --merge-reports "$NV_TMP/x" --signing-pubkey "$K/other.pub" \
	$(reports s3 3)
expect_err "s3.0.sig: signature was made by another key" "says so"
expect_exit 1 "unsigned shards with --signing-pubkey: refused" "$NAVETTE" check --merge-reports \
	"$NV_TMP/x" --signing-pubkey "$K/sign.pub" $(reports r3 3)
expect_line "navette: error: $NV_TMP/r3.0 has no signature ($NV_TMP/r3.0.sig): with --signing-pubkey every shard's report must be signed by that key" \
	"says so"
mv "$NV_TMP/s3.2.sig" "$NV_TMP/s3.2.sig.away"
expect_exit 1 "a signed run whose one signature was removed, with --signing-pubkey: refused" \
	"$NAVETTE" check --merge-reports "$NV_TMP/x" --signing-pubkey "$K/sign.pub" $(reports s3 3)
expect_err "s3.2 has no signature" "names it"
mv "$NV_TMP/s3.2.sig.away" "$NV_TMP/s3.2.sig"
expect_exit 0 "unsigned shards with --signing-key alone: merged and signed (nothing to check)" \
	"$NAVETTE" check --merge-reports "$NV_TMP/us" --signing-key "$K/sign" $(reports r3 3)
expect_line "navette: merged the reports of the 3 shards of run r3 into $NV_TMP/us, signed in $NV_TMP/us.sig: 34 files, 0 not compared: result identical" \
	"no signature checked"
cp "$NV_TMP/s3.1" "$NV_TMP/s3.1.orig"
python3 - "$NV_TMP/s3.1" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
i = lines[1].index(b'"sha256":"') + 10
lines[1] = lines[1][:i] + (b"1" if lines[1][i:i + 1] == b"0" else b"0") + lines[1][i + 1:]
open(p, "wb").write(b"\n".join(lines))
PY
check "the edit changed one digit of a hash" test "$(cmp -l "$NV_TMP/s3.1" "$NV_TMP/s3.1.orig" | wc -l)" -eq 1
expect_exit 1 "a signed report edited" "$NAVETTE" check --merge-reports "$NV_TMP/x" --signing-key "$K/sign" \
	$(reports s3 3)
expect_line "navette: error: $NV_TMP/s3.1 does not match its signature $NV_TMP/s3.1.sig (edited after it was signed?): bad signature: the data or the signature was altered" \
	"names the report and its signature"
sed 's/"result":"identical"/"result":"incomplete"/' "$NV_TMP/s3.1.orig" >"$NV_TMP/s3.1"
expect_exit 1 "a signed report whose edit its lines betray too: the signature speaks first" \
	"$NAVETTE" check --merge-reports "$NV_TMP/x" --signing-key "$K/sign" $(reports s3 3)
expect_err "s3.1 does not match its signature" "the signature is named"
check "no edited report gave a merged one" test ! -e "$NV_TMP/x" -a ! -e "$NV_TMP/x.sig"
mv "$NV_TMP/s3.1.orig" "$NV_TMP/s3.1"

# ---- per-shard --hashes-from: each shard's copy report ----
for k in 0 1 2; do
	"$NAVETTE" copy --shard "$k/3" --run c3 "$A" "$NV_TMP/copy3" --report "$NV_TMP/c3copy.$k" \
		2>/dev/null || nv_die "copy shard $k"
	"$NAVETTE" check --shard "$k/3" --run h3 "$A" "$NV_TMP/copy3" --hashes-from "$NV_TMP/c3copy.$k" \
		--report "$NV_TMP/h3.$k" 2>/dev/null || nv_die "check shard $k"
done
expect_exit 0 "shards whose --hashes-from differ: merged" "$NAVETTE" check --merge-reports \
	"$NV_TMP/hm" $(reports h3 3)
check "the header lists each shard's --hashes-from, in shard order" jqok -s \
	".[0].hashes_from == [\"$NV_TMP/c3copy.0\", \"$NV_TMP/c3copy.1\", \"$NV_TMP/c3copy.2\"]" "$NV_TMP/hm"
check "every source hash recorded, the result identical" jqok -s \
	'.[-1].source_hashes.recorded == 34 and .[-1].result == "identical"' "$NV_TMP/hm"
check "copy reports merge too (complete)" sh -c '"$1" check --merge-reports "$2" "$3" "$4" "$5" 2>/dev/null &&
	jq -e -s ".[-1].result == \"complete\" and .[-1].copied == 34 and .[0].command == \"copy\"" "$2" >/dev/null' \
	sh "$NAVETTE" "$NV_TMP/cm" $(reports c3copy 3)

# ---- a vault pair (objects) ----
V="$NV_TMP/vault"; C="$NV_TMP/replica"; T="$NV_TMP/small"
nv_small_tree "$T" 60
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$T" "$V" --signing-key "$K/sign" 2>/dev/null || nv_die "push"
"$NAVETTE" replicate "$V" "$C" 2>/dev/null || nv_die "replicate"
echo stray >"$C/objects/stray"
expect_exit 1 "vault pair, unsharded (an extra file)" "$NAVETTE" check "$V" "$C" --report "$NV_TMP/v.all"
shard_reports 3 v3 "$V" "$C"
expect_exit 1 "vault pair, 3 shards: merged, exit 1" "$NAVETTE" check --merge-reports "$NV_TMP/vm" $(reports v3 3)
same_report "vault pair: the merged report is the unsharded one" "$NV_TMP/v.all" "$NV_TMP/vm"
check "vault pair: objects compared, the vault named" jqok -s \
	'.[0].compare == "objects" and (.[0].vault_id | length) > 0 and .[-1].extra == 1' "$NV_TMP/vm"
nv_done
