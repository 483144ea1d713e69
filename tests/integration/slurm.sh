# slurm.sh: the Slurm files of conf/slurm on a real one-node cluster
# (tests/servers/slurm.sh). `navette-submit sync ENV --wait` runs the 4-task
# array (each task syncs its shard, then checks it with a report) and the merge
# job after it: the destination is the source; each task was shard K/4 of run
# <array job id>, in its own state folder; the proof is the report one
# unsharded check writes, of that run's 4 shards, signed. A task whose sync
# fails (a fault injected in task 2) leaves no report, and the merge refuses,
# naming that shard: the submission exits 2. Once navette publish is in the
# build, `navette-submit push ENV --wait` prepares the run, runs the 4 push
# shards (with neither the signing key nor an identity in their environment)
# and the dependent publish: one generation, which pulls identical.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/slurm.sh"
command -v jq >/dev/null || nv_need "jq"
command -v ssh-keygen >/dev/null || nv_need "ssh-keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0
unset NAVETTE_FAULT NAVETTE_SIGNING_KEY NAVETTE_IDENTITY NAVETTE_PASSPHRASE_FILE
nv_start_slurm
SUBMIT=$NV_SRCDIR/conf/slurm/navette-submit
cd "$NV_TMP" || nv_die "cd"  # where the jobs' output files go (sbatch --output)

# submit WANT DESCRIPTION MODE ENVFILE: navette-submit MODE ENVFILE --wait exits
# WANT; $run is the run id it named on stderr ("run N: ..."), the jobs' output
# files are shown in the log.
submit() {
	expect_exit "$1" "$2" timeout 600 "$SUBMIT" "$3" "$4" --wait
	run=$(sed -n 's/^navette-submit: run \([0-9]*\): .*/\1/p' "$NV_TMP/err" | head -n 1)
	show navette-*.out
}
jqok() { jq -e "$@" >/dev/null; }
# the jobs' output files, shown in the test's log
show() { local f; for f in "$@"; do [ -e "$f" ] && sed "s|^|# $f: |" "$f"; done; }

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
A="$NV_TMP/awkward"; nv_awkward_tree "$A"; nv_small_tree "$A/small" 200
nfiles=$(nv_tree_paths "$A" | wc -l)
R="$NV_TMP/reports"
cat >"$NV_TMP/mig.env" <<EOF
SRC=$A
DST=$NV_TMP/dst
REPORTS=$R
REPORT_KEY=$K/sign
SHARD_STATE_DIR=$NV_TMP/shardstate
OPTIONS="--transfers 2"
EOF
chmod 600 "$NV_TMP/mig.env"

# ---- a sharded migration: 4 tasks, then the merged proof ----
submit 0 "navette-submit sync --wait: the 4 shards, then the merge" sync "$NV_TMP/mig.env"
check "the run id is the array's job id ($run)" test -n "$run"
check "the destination is the source" diff -r "$A" "$NV_TMP/dst"
for k in 0 1 2 3; do
	check "task $k was shard $k/4 of run $run" \
		grep -q "^navette: shard $k/4 of run $run: [0-9]* identical, 0 differ" "navette-sync-${run}_$k.out"
	check "task $k kept its locks in its own state folder" test -d "$NV_TMP/shardstate/shard-$k-of-4"
	check "task $k wrote its sync and check reports" \
		test -s "$R/sync-$run.$k.jsonl" -a -s "$R/check-$run.$k.jsonl"
	check "task $k's check took the source's hashes from its sync report" \
		jqok -s '.[-1].source_hashes.read == 0' "$R/check-$run.$k.jsonl"
done
P="$R/proof-$run.jsonl"
check "the proof is there, signed" test -s "$P" -a -s "$P.sig"
echo "navette $(cut -d' ' -f1,2 "$K/sign.pub")" >"$NV_TMP/allowed_signers"
check "ssh-keygen verifies it" sh -c 'ssh-keygen -Y verify -f "$1" -I navette -n navette-report \
	-s "$2.sig" <"$2" >/dev/null 2>&1' sh "$NV_TMP/allowed_signers" "$P"
check "it merges the 4 shards of run $run" jqok -s ".[0].merged == {run: \"$run\", shards: 4}" "$P"
check "every file identical, the result identical" \
	jqok -s ".[-1].files == $nfiles and .[-1].identical == $nfiles and .[-1].result == \"identical\"" "$P"
check "the merge job said so" grep -q "^navette: merged the reports of the 4 shards of run $run into $P, signed in $P.sig: $nfiles files, 0 not compared: result identical" \
	navette-merge-*.out
expect_exit 0 "an unsharded check --report of the same two trees" "$NAVETTE" check "$A" "$NV_TMP/dst" \
	--report "$NV_TMP/one.jsonl"
strip() { jq -c 'del(.started, .ended, .navette, .merged, .hashes_from) |
	if .type == "file" then .source.how = "*" else . end |
	if .type == "summary" then .source_hashes = "*" else . end' "$1" | LC_ALL=C sort; }
strip "$P" >"$NV_TMP/p.lines"; strip "$NV_TMP/one.jsonl" >"$NV_TMP/one.lines"
check "the proof is the unsharded check's report (how the source was hashed aside)" \
	cmp -s "$NV_TMP/p.lines" "$NV_TMP/one.lines"

# ---- a task that fails: no report of its shard, the merge refuses ----
sed "s|^DST=.*|DST=$NV_TMP/dst2|" "$NV_TMP/mig.env" >"$NV_TMP/fail.env"
cat >>"$NV_TMP/fail.env" <<'EOF'
if [ "${SLURM_ARRAY_TASK_ID:-}" = 2 ]; then NAVETTE_FAULT=write@1-=perm; fi
EOF
rm -f navette-*.out
submit 2 "navette-submit sync --wait, task 2 failing: the merge refuses (exit 2)" sync "$NV_TMP/fail.env"
run2=$run
check "task 2's sync failed, so it checked nothing and wrote no check report" sh -c \
	'test -e "$1" && ! grep -q "identical" "$1" && test ! -e "$2"' sh "navette-sync-${run2}_2.out" \
	"$R/check-$run2.2.jsonl"
check "the other tasks wrote theirs" test -s "$R/check-$run2.0.jsonl" -a -s "$R/check-$run2.1.jsonl" \
	-a -s "$R/check-$run2.3.jsonl"
check "the merge names the missing shard" grep -q \
	"^navette: error: the report of shard 2/4 of run $run2 is missing: a merged report needs every shard's, 0/4 to 3/4" \
	navette-merge-*.out
check "and wrote no proof" test ! -e "$R/proof-$run2.jsonl"

# ---- a sharded push and the dependent publish ----
if "$NAVETTE" help publish >/dev/null 2>&1; then
	T="$NV_TMP/tree"; V="$NV_TMP/vault"; SH="$NV_TMP/pushstate"
	cp -a "$A" "$T"; rm "$T/"$'bad\xffutf8' # no catalog holds a name that is not UTF-8
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
		nv_die "init"
	vid=$(jq -r .vault_id "$V/navette-vault.json")
	# the shard hosts' state: K_id only (the vault pinned by --signing-pubkey)
	mkdir -p "$SH/push/$vid" && chmod -R 700 "$SH" &&
		cp "$NAVETTE_STATE_DIR/push/$vid/kid" "$SH/push/$vid/kid" || nv_die "K_id"
	# navette as the jobs run it, each run's command and environment kept
	W="$NV_TMP/navette-logged"
	printf '#!/bin/sh\n{ echo "navette $*"; env; } >"%s/env.$$"\nexec "%s" "$@"\n' \
		"$NV_TMP" "$NAVETTE" >"$W" && chmod 755 "$W"
	cat >"$NV_TMP/push.env" <<-EOF
	NAVETTE=$W
	SRC=$T
	VAULT=$V
	SIGNING_KEY=$K/sign
	SHARD_STATE_DIR=$SH
	OPTIONS="--signing-pubkey $K/sign.pub --transfers 2"
	EOF
	chmod 600 "$NV_TMP/push.env"
	rm -f navette-*.out
	submit 0 "navette-submit push --wait: prepare, the 4 shards, then publish" push "$NV_TMP/push.env"
	prun=$run
	check "4 shards pushed" test "$(grep -l "^navette push --shard auto --run $prun " "$NV_TMP"/env.* | wc -l)" -eq 4
	check "no shard's environment held the signing key or an identity" sh -c \
		'! grep -l "^navette push " "$@" | xargs -r grep -lE "^(NAVETTE_SIGNING_KEY|NAVETTE_IDENTITY|SIGNING_KEY)=|/sign$"' \
		sh "$NV_TMP"/env.*
	check "one generation published" test "$(ls "$V"/manifests/*.json | wc -l)" -eq 1
	expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pulled" --identity "$K/id.txt"
	check "identical to the tree" diff -r "$T" "$NV_TMP/pulled"
else
	echo "# navette publish is not in this build: the sharded push on Slurm waits for it"
	check "the push scripts are shell" sh -c 'for f in "$@"; do bash -n "$f" || exit 1; done' sh \
		"$SUBMIT" "$NV_SRCDIR"/conf/slurm/navette-push.sbatch "$NV_SRCDIR"/conf/slurm/navette-publish.sbatch
fi
nv_done
