# shard.sh: sync and check in 1, 3 and 8 shards (--shard K/N) over the awkward
# tree and a tree of many small files, on the local driver: the shards' JSON
# logs together copy every file exactly once; the delete guard refuses alike
# in every shard and, allowed, the shards delete exactly what sync --delete
# would; --shard auto from Slurm array and Kubernetes Indexed Job variables
# (sparse arrays and steps refused); two shards of one run hold the
# destination together while an unsharded run and another run's shard are
# refused; the start and summary events, the human summary and the metrics
# name the shard and the run; check --report in shards writes each file in
# one shard's report, its header naming the shard and the run; push refuses
# --shard.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/shard.sh"
command -v jq >/dev/null || nv_need "jq"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0

expect_line() {
	if grep -Fxq -- "$1" "$NV_TMP/err"; then ok "$2"; else
		not_ok "$2 (no line '$1')"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
A="$NV_TMP/awkward"; B="$NV_TMP/small"
nv_awkward_tree "$A"
nv_small_tree "$B" 1000
nv_tree_paths "$A" >"$NV_TMP/A.paths"
nv_tree_paths "$B" >"$NV_TMP/B.paths"
check "the awkward tree holds 34 files" test "$(wc -l <"$NV_TMP/A.paths")" -eq 34

for T in A B; do
	src=$([ "$T" = A ] && echo "$A" || echo "$B")
	for n in 1 3 8; do
		D="$NV_TMP/dst-$T-$n"
		nv_shards sync "$n" "run-$T-$n" "$src" "$D"
		nv_shards_once "$T, $n shards" copied "$NV_TMP/$T.paths" \
			"the copied items are the tree, each once"
		check "$T, $n shards: the destination is the tree" diff -r "$src" "$D"
		check "$T, $n shards: the summaries' files add up" \
			test "$(nv_summed files)" -eq "$(wc -l <"$NV_TMP/$T.paths")"
		k=$((n - 1))
		check "$T, $n shards: the summary names shard $k/$n and the run" test \
			"$(nv_json_event summary shard "$NV_TMP/log.$k") $(nv_json_event summary run "$NV_TMP/log.$k")" \
			= "$k/$n run-$T-$n"
		check "$T, $n shards: the start too" test \
			"$(nv_json_event start shard "$NV_TMP/log.0") $(nv_json_event start run "$NV_TMP/log.0")" \
			= "0/$n run-$T-$n"
		nv_shards check "$n" "run-$T-$n-check" "$src" "$D"
		check "$T, $n shards: check finds no difference in any shard" nv_all_exit 0
		check "$T, $n shards: check's identical files add up" \
			test "$(nv_summed identical)" -eq "$(wc -l <"$NV_TMP/$T.paths")"
	done
done
nv_shards sync 3 again "$A" "$NV_TMP/dst-A-3"
check "a second sharded sync: every shard exits 0" nv_all_exit 0
check "and copies nothing" test -z "$(nv_json_paths copied "$NV_TMP"/log.*)"
check "its unchanged files add up" test "$(nv_summed unchanged)" -eq 34

# ---- the delete guard, on the whole tree in every shard ----
S="$NV_TMP/fewer"; D="$NV_TMP/dst-B-3"
cp -a "$B" "$S"
rm -r "$S"/dir[0-5]
nv_tree_paths "$S" >"$NV_TMP/S.paths"
comm -23 "$NV_TMP/B.paths" "$NV_TMP/S.paths" >"$NV_TMP/gone"
guard="sync --delete refused: 600 of the 1000 files at $D (60%) would be deleted, more than 50% (the default limit; allow more with --max-delete N or N%)"
for dry in "" --dry-run; do
	for k in 0 1 2; do
		expect_exit 4 "guard${dry:+ (dry run)}: shard $k/3 refuses" \
			"$NAVETTE" sync --delete $dry --shard "$k/3" --run g "$S" "$D"
		if [ -n "$dry" ]; then
			expect_line "navette: error: dry run: $guard; nothing would be deleted" \
				"shard $k/3 gives the same reason (dry run)"
		else
			expect_line "navette: error: $guard; nothing deleted" "shard $k/3 gives the same reason"
		fi
	done
done
check "nothing was deleted" test "$(nv_tree_paths "$D" | wc -l)" -eq 1000
mkdir -p "$NV_TMP/empty"
for k in 0 1 2; do
	expect_exit 4 "an empty source: shard $k/3 refuses" \
		"$NAVETTE" sync --delete --shard "$k/3" --run g "$NV_TMP/empty" "$D"
	expect_line "navette: error: sync --delete refused: $NV_TMP/empty lists no files: all 1000 files at $D would be deleted (a mistyped path or prefix lists as empty); if that is meant, add --allow-empty-source; nothing deleted" \
		"shard $k/3 names the whole destination"
done
nv_shards sync 3 g2 --delete --max-delete 60% "$S" "$D"
nv_shards_once "--max-delete 60%" deleted "$NV_TMP/gone" \
	"the shards deleted what the source lacks, each file once"
check "the destination is the source" diff -r "$S" "$D"

# ---- --shard auto: a Slurm job array, a Kubernetes Indexed Job ----
slurm() { # slurm ID COUNT MIN MAX STEP CMD...
	local id=$1 count=$2 min=$3 max=$4 step=$5; shift 5
	env SLURM_ARRAY_TASK_ID="$id" SLURM_ARRAY_TASK_COUNT="$count" SLURM_ARRAY_TASK_MIN="$min" \
		SLURM_ARRAY_TASK_MAX="$max" SLURM_ARRAY_TASK_STEP="$step" SLURM_ARRAY_JOB_ID=777 "$@"
}
D="$NV_TMP/dst-slurm"; rm -f "$NV_TMP"/log.*
for id in 1 2 3; do
	expect_exit 0 "Slurm array task $id of 1-3" slurm "$id" 3 1 3 1 \
		"$NAVETTE" sync --shard auto -v --log-json "$A" "$D"
	cp "$NV_TMP/err" "$NV_TMP/log.$id"
	check "task $id is shard $((id - 1))/3 of run 777" test \
		"$(nv_json_event summary shard "$NV_TMP/log.$id") $(nv_json_event summary run "$NV_TMP/log.$id")" \
		= "$((id - 1))/3 777"
done
nv_json_paths copied "$NV_TMP"/log.* >"$NV_TMP/copied"
nv_same "the array's tasks copied the tree, each file once" "$NV_TMP/A.paths" "$NV_TMP/copied"
expect_exit 2 "a sparse array (--array=0,3,5) is refused" slurm 3 3 0 5 1 \
	"$NAVETTE" sync --shard auto "$A" "$D"
expect_line "navette: error: --shard auto: a sparse Slurm array (3 tasks, indices 0 to 5) leaves shards without a task: give every index, e.g. --array=0-2" \
	"the sparse array is named"
expect_exit 2 "a step of 2 (--array=0-4:2) is refused" slurm 2 3 0 4 2 \
	"$NAVETTE" sync --shard auto "$A" "$D"
expect_err "SLURM_ARRAY_TASK_STEP=2\) leaves holes" "the step is named"
D="$NV_TMP/dst-k8s"; rm -f "$NV_TMP"/log.*
for k in 0 1 2 3; do
	expect_exit 0 "Kubernetes completion index $k of 4" env JOB_COMPLETION_INDEX="$k" \
		"$NAVETTE" copy --shard auto --shard-count 4 --run job-1 -v --log-json "$A" "$D"
	cp "$NV_TMP/err" "$NV_TMP/log.$k"
done
nv_json_paths copied "$NV_TMP"/log.* >"$NV_TMP/copied"
nv_same "the Indexed Job's pods copied the tree, each file once" "$NV_TMP/A.paths" "$NV_TMP/copied"
expect_exit 0 "the run id from \$JOB_NAME" env JOB_COMPLETION_INDEX=1 JOB_NAME=migrate-7 \
	"$NAVETTE" check --shard auto --shard-count 4 --log-json "$A" "$D"
check "is the summary's run" test "$(nv_json_event summary run "$NV_TMP/err")" = migrate-7
expect_exit 2 "no --shard-count on Kubernetes" env JOB_COMPLETION_INDEX=1 \
	"$NAVETTE" copy --shard auto --run job-1 "$A" "$D"
expect_line "navette: error: --shard auto on Kubernetes (JOB_COMPLETION_INDEX is set) needs --shard-count N: the Indexed Job's completions" \
	"says what is missing"
expect_exit 2 "no scheduler" env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX \
	"$NAVETTE" check --shard auto "$A" "$D"
expect_err "no scheduler found" "says so"

# ---- the lock: one run's shards together, nothing else ----
L="$NV_TMP/slow"; D="$NV_TMP/dst-lock"
mkdir -p "$L"
for i in $(seq 1 16); do head -c 65536 /dev/urandom >"$L/f$i"; done
leases() { ls "$D/navette-lease" 2>/dev/null | wc -l; }
for k in 0 1; do
	"$NAVETTE" sync --shard "$k/2" --run together --bwlimit 64K "$L" "$D" 2>"$NV_TMP/lock.$k" &
	eval "pid$k=$!"
done
nv_at_exit "kill $pid0 $pid1"
for _ in $(seq 1 100); do [ "$(leases)" -eq 2 ] && break; sleep 0.1; done
check "both shards of the run hold the lease at once" test "$(leases)" -eq 2
expect_exit 4 "an unsharded sync is refused meanwhile" "$NAVETTE" sync "$L" "$D"
expect_err "^navette: error: $D is locked by .* \(sync shared lease of run together, started " \
	"naming the run's shared lease"
expect_exit 4 "so is another run's shard" "$NAVETTE" sync --shard 0/2 --run other "$L" "$D"
expect_err "(shared lease|shard 0/2) of run together" "naming it too"
check "both shards are still writing" test "$(leases)" -eq 2
wait "$pid0"; rc0=$?; wait "$pid1"; rc1=$?
check "neither shard was refused (exit $rc0 and $rc1)" test "$rc0$rc1" = 00
check "together they copied the tree" diff -r "$L" "$D"
check "each has its own local lock, in its own state folder" \
	test -n "$(ls "$NAVETTE_STATE_DIR"/shard-0-of-2/locks/*.lock "$NAVETTE_STATE_DIR"/shard-1-of-2/locks/*.lock)"
check "and no lease is left" test "$(leases)" -eq 0

# ---- human summary, metrics ----
expect_exit 0 "a shard's human summary" "$NAVETTE" check --shard 2/3 "$A" "$NV_TMP/dst-A-3"
expect_err "^navette: shard 2/3: [0-9]+ identical, 0 differ, 0 missing at destination, 0 only at destination, 0 failed" \
	"begins with the shard"
expect_exit 0 "with a run" "$NAVETTE" sync --shard 2/3 --run r9 --metrics-file "$NV_TMP/m.prom" "$A" "$NV_TMP/dst-A-3"
expect_err "^navette: shard 2/3 of run r9: 0 copied" "names the run too"
check "the metrics are labelled with the shard and the run" grep -q \
	"^navette_last_run_exit_code{command=\"sync\",destination=\"$NV_TMP/dst-A-3\",shard=\"2/3\",run=\"r9\"} 0$" \
	"$NV_TMP/m.prom"
check "the shard keeps its last success in its own state folder" \
	test -n "$(ls "$NAVETTE_STATE_DIR/shard-2-of-3/metrics")"
if command -v promtool >/dev/null; then
	check "promtool accepts them" sh -c 'promtool check metrics <"$1" >/dev/null 2>&1' sh "$NV_TMP/m.prom"
fi

# ---- check --report: each file in one shard's report, the header naming it ----
R="$NV_TMP/rsrc"; cp -a "$A" "$R"; ln -s plain.txt "$R/link"
expect_exit 0 "check --report, unsharded" "$NAVETTE" check "$R" "$NV_TMP/dst-A-3" --report "$NV_TMP/rep.all"
: >"$NV_TMP/rcs"
for k in 0 1 2; do
	"$NAVETTE" check --shard "$k/3" --run rep "$R" "$NV_TMP/dst-A-3" --report "$NV_TMP/rep.$k" 2>/dev/null
	echo $? >>"$NV_TMP/rcs"
done
check "check --report, 3 shards: every shard exits 0" nv_all_exit 0
lines() { jq -c 'select(.type != "header" and .type != "summary") |
	[.type, .path, .path_hex, .verdict, .kind, .source.sha256]' "$@" | LC_ALL=C sort; }
lines "$NV_TMP/rep.all" >"$NV_TMP/lines.all"
lines "$NV_TMP"/rep.[012] >"$NV_TMP/lines.3"
check "check --report: 34 files and the symlink" test "$(wc -l <"$NV_TMP/lines.all")" -eq 35
nv_same "check --report, 3 shards: every file and the symlink once across the reports" \
	"$NV_TMP/lines.all" "$NV_TMP/lines.3"
check "check --report, 3 shards: each header names its shard and the run" \
	jq -e -s '.[0].shard == "2/3" and .[0].run == "rep"' "$NV_TMP/rep.2"
check "check --report, unsharded: shard null" jq -e -s '.[0].shard == null' "$NV_TMP/rep.all"
expect_exit 0 "a shard without a run" "$NAVETTE" check --shard 0/3 "$R" "$NV_TMP/dst-A-3" \
	--report "$NV_TMP/rep.norun"
check "names a null run" jq -e -s '.[0].shard == "0/3" and .[0].run == null and (.[0] | has("run"))' \
	"$NV_TMP/rep.norun"

# ---- usage ----
expect_exit 2 "a push shard needs a run id (publish.sh tests sharded push)" \
	"$NAVETTE" push --shard 0/2 "$A" "$NV_TMP/vault"
expect_line "navette: error: a sharded push needs --run ID, the same for every shard of the run: they hold the destination's lease together under it" \
	"and says so"
expect_exit 2 "a writing shard needs a run id" "$NAVETTE" sync --shard 0/2 "$A" "$D"
expect_line "navette: error: a sharded sync needs --run ID, the same for every shard of the run: they hold the destination's lease together under it" \
	"and says so"
expect_exit 2 "K out of range" "$NAVETTE" check --shard 3/3 "$A" "$D"
expect_line "navette: error: shard 3 of 3: K must be 0 to N-1 and N 1 to 1000000" "named"
expect_exit 2 "malformed" "$NAVETTE" check --shard 1-3 "$A" "$D"
expect_exit 2 "--run alone" "$NAVETTE" check --run x "$A" "$D"
expect_line "navette: error: --shard-count and --run go with --shard" "named"
expect_exit 2 "--shard-count with K/N" "$NAVETTE" check --shard 0/2 --shard-count 2 "$A" "$D"
expect_exit 2 "a run id with a slash" "$NAVETTE" sync --shard 0/2 --run a/b "$A" "$D"
expect_exit 2 "ls takes no --shard" "$NAVETTE" ls --shard 0/2 "$A"
nv_done
