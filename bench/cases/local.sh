# local.sh: foundation cases (issue 2), plain sync local -> local, navette against rclone.
# Sourced by bench/run.sh. navette runs at rclone's durability (--fsync none) and at its
# default (--fsync batch) beside it; both tools run 4 transfers.

# local_sync TOOL DST [RUNNER]: one sync of $SRC into DST, timed when RUNNER is bench_run.
local_sync() {
	local tool=$1 dst=$2 run=${3:-}
	case $tool in
	navette) $run "$NAVETTE" sync "$SRC" "$dst" --delete --fsync none --transfers 4 ;;
	navette_batch) $run "$NAVETTE" sync "$SRC" "$dst" --delete --fsync batch --transfers 4 ;;
	rclone) $run "$RCLONE" sync "$SRC" "$dst" --transfers 4 --checkers 8 ;;
	*) echo "local_sync: unknown tool $tool" >&2; return 2 ;;
	esac
}

local_ready() {
	case $1 in
	navette*) bench_navette_has sync ;;
	rclone) command -v "$RCLONE" >/dev/null || { echo "no rclone (apt-get install rclone)"; return 1; } ;;
	esac
}

# Sync into an empty directory (local-sync-A, local-sync-B).
local_fresh_ready() { local_ready "$1"; }
local_fresh_run() { local_sync "$1" "$RUN/dst" bench_run; }
local_fresh_check() { bench_same_tree "$SRC" "$RUN/dst"; }

bench_case local-sync-A data=A tools="navette navette_batch rclone" target=1.0 rss=32 \
	hooks=local_fresh desc="sync of data set A (4 x 256 MiB) into an empty directory; MB/s"
bench_case local-sync-B data=B tools="navette navette_batch rclone" target=2.0 rss=32 \
	hooks=local_fresh desc="sync of data set B (10,000 x 4 KiB in 100 dirs) into an empty directory; files/s"

# The no-change re-run: each tool first syncs B once (untimed) into its own copy, then
# every timed run syncs onto that up-to-date copy; nothing should be transferred.
# Target: <= 1/2 of rclone's time, i.e. >= 2x its files/s.
bench_case local-resync-B data=B tools="navette navette_batch rclone" target=3.0 rss=32 \
	hooks=local_resync desc="no-change re-run of sync of B onto an up-to-date copy (size + mtime compare); files/s"
local_resync_ready() { local_ready "$1"; }
local_resync_setup() { local_sync "$1" "$STATE/dst"; }
local_resync_run() { local_sync "$1" "$STATE/dst" bench_run; }
local_resync_check() { bench_same_tree "$SRC" "$STATE/dst"; }
