# shard_push.sh: a sharded push (issue 14) against one push, into a fresh local vault
# each run, navette against itself (ref=navette). Sourced by bench/run.sh.
# shard-push-A, shard-push-B: 2 shard processes with 2 transfers each, then publish
# (which reads back every object), against one push with 4 transfers: the overhead of
# sharding (every shard lists the whole tree; publish --prepare, the partial catalogs
# and the read-back) is the difference; the issue asks for under 10 % of the one push.
# shard-bwlimit-B: 8 shards of data set B (10,000 files: the key hash gives each
# 1,186 to 1,323 of them) each at --bwlimit 768K, against one push at 6M (8 x 768K):
# the shards' phase (first shard started to last shard done) must move 8 x 768 KiB/s
# within 10 %; prepare and publish are reported beside it as the run's overhead.
# Each sharded run's breakdown (prepare, shards, publish) is a line of the tool's
# setup.log. All runs at --fsync none (publish too, as the shards: its default batch
# would flush what they left unsynced); one host plays every shard (one state
# directory: each shard keeps its own folder in it).

SHP_BWL=768K SHP_BWL_BYTES=$((768 * 1024)) # 8 shards: B in about 8 s
SHP_BWL_TOTAL=6M                           # the one push: 8 x 768K

shp_ready() {
	bench_navette_has publish || return 1
	command -v age-keygen >/dev/null || { echo "no age-keygen (apt-get install age)"; return 1; }
}

# shp_nv ARGS...: navette with this run's own state directory.
shp_nv() { env NAVETTE_STATE_DIR="$RUN/nv" "$NAVETTE" "$@"; }

# A fresh vault per run, with its own signing key and state (see vault.sh's note on
# pins); $RUN/mark is older than anything the run writes into it.
shp_prepare() {
	ssh-keygen -q -t ed25519 -N '' -C bench -f "$RUN/sign" &&
		{ [ -e "$STATE/id.txt" ] || age-keygen -o "$STATE/id.txt" 2>/dev/null; } &&
		shp_nv -q init "$RUN/vault" --recipient "$(age-keygen -y "$STATE/id.txt")" \
			--signing-key "$RUN/sign" && touch "$RUN/mark" && sleep 0.01
}

# shp_sharded N TRANSFERS [BWLIMIT]: prepare, N shards at once, publish; timed whole.
# $RUN/phases gets (microseconds, shell builtins only inside the timed command):
# "shard K US" per shard, "partials BYTES" (with a limit: the partial catalogs'
# size, which publish removes), "phases PREPARE SHARDS PUBLISH END_OF_SHARDS".
shp_sharded() {
	local rc n
	bench_run env NAVETTE_STATE_DIR="$RUN/nv" bash -c 'set -e
		nv=$1 src=$2 v=$3 sign=$4 n=$5 t=$6 bw=$7 out=$8 pids=""
		t0=${EPOCHREALTIME/./}
		"$nv" -q publish "$v" --prepare --run bench --signing-key "$sign"
		t1=${EPOCHREALTIME/./}
		for k in $(seq 0 $((n - 1))); do
			(s=${EPOCHREALTIME/./}
			 "$nv" -q push "$src" "$v" --shard "$k/$n" --run bench --fsync none \
				--transfers "$t" ${bw:+--bwlimit "$bw"}
			 echo "shard $k $((${EPOCHREALTIME/./} - s))" >>"$out") &
			pids="$pids $!"
		done
		for p in $pids; do wait "$p"; done
		t2=${EPOCHREALTIME/./}
		[ -z "$bw" ] || echo "partials $(du -cb "$v"/runs/bench/shard-*.age | tail -n 1 | cut -f1)" >>"$out"
		t3=${EPOCHREALTIME/./}
		"$nv" -q publish "$v" --run bench --signing-key "$sign" --transfers 4 --fsync none
		t4=${EPOCHREALTIME/./}
		echo "phases $((t1 - t0)) $((t2 - t1)) $((t4 - t3)) $t2" >>"$out"' \
		_ "$NAVETTE" "$SRC" "$RUN/vault" "$RUN/sign" "$1" "$2" "${3:-}" "$RUN/phases"
	rc=$?
	n=$(($(cat "$STATE/runs" 2>/dev/null || echo 0) + 1))
	echo "$n" >"$STATE/runs"
	[ $rc -ne 0 ] || echo "$1 shards, run $n: $(shp_breakdown)" >>"${STATE%/*}/setup.log"
	return $rc
}

# shp_phase prepare|shards|publish|end: that phase's seconds in the last sharded run;
# end: when the shards were all done (epoch seconds, to the microsecond).
shp_phase() {
	awk -v k="$1" '$1 == "phases" { i = k == "prepare" ? 2 : k == "shards" ? 3 : k == "publish" ? 4 : 5
		if (k == "end") printf "%d.%06d", int($i / 1e6), $i % 1e6; else printf "%.3f", $i / 1e6 }' \
		"$RUN/phases"
}

# The last sharded run's breakdown, one line.
shp_breakdown() {
	awk -v w="$BENCH_WALL" '$1 == "shard" { s = $3 / 1e6; n++
			if (n == 1 || s < lo) lo = s; if (n == 1 || s > hi) hi = s }
		$1 == "phases" { p = $2 / 1e6; sh = $3 / 1e6; pub = $4 / 1e6 }
		END { printf "prepare %.3f s, shards %.3f s (%d processes, each %.3f-%.3f s), " \
			"publish %.3f s; %.3f s in all\n", p, sh, n, lo, hi, pub, w }' "$RUN/phases"
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
# run 1's breakdown again beside its check (the table has the wall times)
shard_push_check() {
	shp_check "$1" || return 1
	case $1 in navette_shards2) echo "$1: run 1 checked: $(shp_breakdown)" ;; esac
}
bench_case shard-push-A data=A tools="navette navette_shards2" ref=navette hooks=shard_push \
	desc="push of A: 2 shards (2 transfers each) then publish, against one push (4 transfers); MB/s"
bench_case shard-push-B data=B tools="navette navette_shards2" ref=navette hooks=shard_push \
	desc="push of B: 2 shards (2 transfers each) then publish, against one push (4 transfers); files/s"

# shp_rate TOOL BYTES SECONDS LIMIT_BYTES N WHAT: BYTES over SECONDS against N x the
# limit; fails for navette rows more than 10 % off (not on quick data, over before
# the limit matters).
shp_rate() {
	awk -v t="$1" -v b="$2" -v w="$3" -v l="$4" -v n="$5" -v what="$6" -v q="$QUICK" 'BEGIN {
		m = b / w; r = l * n; e = (m - r) / r * 100
		printf "%s: %s %d bytes in %.3f s = %.3f MiB/s for %d x %.0f KiB/s = %.3f MiB/s (%+.1f %%)", \
			t, what, b, w, m / 1048576, n, l / 1024, r / 1048576, e
		exit q != 1 && (e > 10 || e < -10) }'
}

# The bytes --bwlimit counts for a push: each stored byte once (the file read, then
# what its object adds), catalogs and manifests too. The one push: every file it
# wrote into the vault. The shards: their objects (before publish wrote its catalog)
# and their partial catalogs.
shp_stored() { find "$RUN/vault" -type f -newer "$RUN/mark" "$@" -printf '%s\n' |
	awk '{s += $1} END {printf "%d", s}'; }

shard_bwl_ready() { shp_ready "$1"; }
shard_bwl_prepare() { shp_prepare "$1"; }
shard_bwl_run() {
	case $1 in
	navette) bench_run env NAVETTE_STATE_DIR="$RUN/nv" "$NAVETTE" -q push "$SRC" "$RUN/vault" \
			--signing-key "$RUN/sign" --fsync none --transfers 8 --bwlimit "$SHP_BWL_TOTAL" ;;
	navette_shards8) shp_sharded 8 1 "$SHP_BWL" ;;
	esac
}
shard_bwl_check() {
	local b rc
	shp_check "$1" || return 1
	case $1 in
	navette)
		shp_rate "$1" "$(shp_stored)" "$BENCH_WALL" "$SHP_BWL_BYTES" 8 "the one push stored"
		rc=$?
		echo " (data $DATA_BYTES bytes)" ;;
	navette_shards8)
		b=$(($(shp_stored -path "$RUN/vault/objects/*" ! -newermt "@$(shp_phase end)") +
			$(awk '$1 == "partials" {print $2}' "$RUN/phases")))
		shp_rate "$1" "$b" "$(shp_phase shards)" "$SHP_BWL_BYTES" 8 \
			"the shards stored (objects, partial catalogs)"
		rc=$?
		awk -v p="$(shp_phase prepare)" -v u="$(shp_phase publish)" -v s="$(shp_phase shards)" \
			-v d="$DATA_BYTES" 'BEGIN { printf " (data %d bytes); overhead of the run: " \
			"prepare %.3f s, publish %.3f s (%+.1f %% of the phase of the shards)\n", d, p, u,
			(p + u) / s * 100 }' ;;
	esac
	return $rc
}
bench_case shard-bwlimit-B data=B tools="navette navette_shards8" ref=navette hooks=shard_bwl \
	default=no desc="push of B at 6 MiB/s: 8 shards at --bwlimit 768K each then publish, against one push at 6M; files/s"
