# shard.sh: running the shards of one run and adding up what their JSON logs
# say (sourced after common.sh and tree.sh).

# nv_shards CMD N RUN ARGS...: shards 0..N-1 of run RUN, one after the other
# (-v --log-json), each one's log in $NV_TMP/log.K, the exit codes in $NV_TMP/rcs.
nv_shards() {
	local cmd=$1 n=$2 run=$3 k; shift 3
	: >"$NV_TMP/rcs"; rm -f "$NV_TMP"/log.*
	for k in $(seq 0 $((n - 1))); do
		"$NAVETTE" "$cmd" --shard "$k/$n" --run "$run" -v --log-json "$@" 2>"$NV_TMP/log.$k"
		echo $? >>"$NV_TMP/rcs"
	done
}
# nv_summed FIELD: that field of every shard's summary, added up.
nv_summed() {
	local t=0 f
	for f in "$NV_TMP"/log.*; do t=$((t + $(nv_json_event summary "$1" "$f"))); done
	echo "$t"
}
# nv_all_exit CODE: every shard of the last nv_shards exited CODE.
nv_all_exit() { test "$(sort -u "$NV_TMP/rcs")" = "$1"; }
# nv_same DESCRIPTION A B: two files hold the same lines (the difference shown).
nv_same() {
	if diff "$2" "$3" >"$NV_TMP/diff"; then ok "$1"; else
		not_ok "$1"; head -20 "$NV_TMP/diff" | sed 's/^/    /'; fi
}
# nv_shards_once DESC ACTION EXPECTED WHAT: every shard of the last nv_shards
# exited 0, and their JSON logs together name ACTION for exactly the paths
# (hex lines) of the file EXPECTED, each once: "DESC: WHAT" says so.
nv_shards_once() {
	check "$1: every shard exits 0" nv_all_exit 0
	nv_json_paths "$2" "$NV_TMP"/log.* >"$NV_TMP/$2.paths"
	nv_same "$1: $4" "$3" "$NV_TMP/$2.paths"
}
