# shard_push.sh: a sharded push (issue 14) against one push, into a fresh local vault
# each run, navette against itself (ref=navette). Sourced by bench/run.sh.
# shard-push-A, shard-push-B: 2 shard processes with 2 transfers each, then publish
# (which reads back every object), against one push with 4 transfers: the overhead of
# sharding (every shard lists the whole tree; publish --prepare, the partial catalogs
# and the read-back) is the difference; the issue asks for under 10 % of the one push.
# shard-bwlimit-R: 8 shards of data set R each at --bwlimit 1M against one push at 8M:
# the shards together must reach 8 MiB/s within 10 % (the check says the rate, as
# bwlimit.sh does, publish included). All runs at --fsync none (publish too, as the
# shards: its default batch would flush what they left unsynced); one host plays every
# shard (one state directory: each shard keeps its own folder in it).

shp_ready() {
	bench_navette_has publish || return 1
	command -v age-keygen >/dev/null || { echo "no age-keygen (apt-get install age)"; return 1; }
}

# shp_nv ARGS...: navette with this run's own state directory.
shp_nv() { env NAVETTE_STATE_DIR="$RUN/nv" "$NAVETTE" "$@"; }

# A fresh vault per run, with its own signing key and state (see vault.sh's note on pins).
shp_prepare() {
	ssh-keygen -q -t ed25519 -N '' -C bench -f "$RUN/sign" &&
		{ [ -e "$STATE/id.txt" ] || age-keygen -o "$STATE/id.txt" 2>/dev/null; } &&
		shp_nv -q init "$RUN/vault" --recipient "$(age-keygen -y "$STATE/id.txt")" \
			--signing-key "$RUN/sign"
}

# shp_sharded N TRANSFERS [BWLIMIT]: prepare, N shards at once, publish; timed whole.
shp_sharded() {
	bench_run env NAVETTE_STATE_DIR="$RUN/nv" bash -c 'set -e
		nv=$1 src=$2 v=$3 sign=$4 n=$5 t=$6 bw=$7 pids=""
		"$nv" -q publish "$v" --prepare --run bench --signing-key "$sign"
		for k in $(seq 0 $((n - 1))); do
			"$nv" -q push "$src" "$v" --shard "$k/$n" --run bench --fsync none \
				--transfers "$t" ${bw:+--bwlimit "$bw"} &
			pids="$pids $!"
		done
		for p in $pids; do wait "$p"; done
		"$nv" -q publish "$v" --run bench --signing-key "$sign" --transfers 4 --fsync none' \
		_ "$NAVETTE" "$SRC" "$RUN/vault" "$RUN/sign" "$1" "$2" "${3:-}"
}

shp_check() {
	shp_nv -q pull "$RUN/vault" "$RUN/check" --identity "$STATE/id.txt" --fsync none &&
		bench_same_tree "$SRC" "$RUN/check"
}

shard_push_ready() { shp_ready "$1"; }
shard_push_prepare() { shp_prepare "$1"; }
shard_push_run() {
	case $1 in
	navette) bench_run env NAVETTE_STATE_DIR="$RUN/nv" "$NAVETTE" -q push "$SRC" "$RUN/vault" \
			--signing-key "$RUN/sign" --fsync none --transfers 4 ;;
	navette_shards2) shp_sharded 2 2 ;;
	esac
}
shard_push_check() { shp_check "$1"; }
bench_case shard-push-A data=A tools="navette navette_shards2" ref=navette hooks=shard_push \
	desc="push of A: 2 shards (2 transfers each) then publish, against one push (4 transfers); MB/s"
bench_case shard-push-B data=B tools="navette navette_shards2" ref=navette hooks=shard_push \
	desc="push of B: 2 shards (2 transfers each) then publish, against one push (4 transfers); files/s"

shard_bwl_ready() { shp_ready "$1"; }
shard_bwl_prepare() { shp_prepare "$1"; }
shard_bwl_run() {
	case $1 in
	navette) bench_run env NAVETTE_STATE_DIR="$RUN/nv" "$NAVETTE" -q push "$SRC" "$RUN/vault" \
			--signing-key "$RUN/sign" --fsync none --transfers 8 --bwlimit 8M ;;
	navette_shards8) shp_sharded 8 1 1M ;;
	esac
}
# (quick data is over before the limit matters: the rate is said, not judged)
shard_bwl_check() { shp_check "$1" && { bwl_accuracy "$1" || [ "$QUICK" = 1 ]; }; }
bench_case shard-bwlimit-R data=R tools="navette navette_shards8" ref=navette hooks=shard_bwl \
	default=no desc="push of R at 8 MiB/s: 8 shards at --bwlimit 1M each then publish, against one push at 8M; MB/s"
