# bwlimit.sh: the accuracy of --bwlimit (issue 11): 64 MiB (data set R, 4 x 16 MiB)
# through each driver at 8 MiB/s, 4 transfers, navette beside rclone at the same limit.
# Sourced by bench/run.sh; not run by default (bench/run.sh bwlimit-local ...).
# After the first run of each tool, the check writes the measured rate (the data set's
# bytes over the wall time, start-up and listing included) to setup.log, and fails
# for navette when it is more than 10 % off the limit. A limited run's time does not
# depend on the machine's speed while the machine is faster than the limit, so these
# cases need no quiet machine; the remote cases reuse the servers of sftp.sh, s3.sh
# and azure.sh.

BWL_RATE=8M
BWL_BYTES=$((8 * 1024 * 1024))

# bwl_accuracy TOOL: the last timed run's rate against the limit.
bwl_accuracy() {
	awk -v b="$DATA_BYTES" -v w="$BENCH_WALL" -v r="$BWL_BYTES" -v t="$1" 'BEGIN {
		m = b / w; e = (m - r) / r * 100
		printf "%s: %d bytes in %.3f s = %.3f MiB/s for a limit of %.3f MiB/s (%+.1f %%)\n",
			t, b, w, m / 1048576, r / 1048576, e
		if (t ~ /^navette/ && (e > 10 || e < -10)) exit 1 }'
}

# local -> local (sync into an empty directory)
bwl_local_ready() { local_ready "$1"; }
bwl_local_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q sync "$SRC" "$RUN/dst" --fsync none --transfers 4 \
			--bwlimit "$BWL_RATE" ;;
	rclone) bench_run "$RCLONE" sync "$SRC" "$RUN/dst" --transfers 4 --checkers 8 \
			--bwlimit "$BWL_RATE" ;;
	esac
}
bwl_local_check() { bench_same_tree "$SRC" "$RUN/dst" && bwl_accuracy "$1"; }

# local -> sshd (upload into a fresh directory, as sftp-up-A)
bwl_sftp_ready() { sftp_bench_ready "$1"; }
bwl_sftp_setup() { sftp_bench_server; }
bwl_sftp_prepare() { sftp_up_prepare "$1"; }
bwl_sftp_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q --config "$NV_SSHD_DIR/bench.conf" copy "$SRC" \
			"bsftp:$RUN/dst" --fsync none --transfers 4 --bwlimit "$BWL_RATE" ;;
	rclone) bench_run "$RCLONE" --config "$NV_SSHD_DIR/rclone.conf" copy "$SRC" \
			"bsftp:$RUN/dst" --transfers 4 --checkers 8 --sftp-disable-hashcheck \
			--bwlimit "$BWL_RATE" ;;
	esac
}
bwl_sftp_check() { bench_same_tree "$SRC" "$RUN/dst" && bwl_accuracy "$1"; }

# local -> s3rver (as s3-upload-A)
bwl_s3_ready() { s3b_ready "$1"; }
bwl_s3_setup() { s3b_setup "$1"; }
bwl_s3_prepare() { s3b_prepare "$1"; }
bwl_s3_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q copy "$SRC" "s3://bench/$S3B_PREFIX" --transfers 4 \
			--bwlimit "$BWL_RATE" ;;
	rclone) bench_run env -u AWS_CA_BUNDLE "$RCLONE" --config "$STATE/rclone.conf" copy \
			"$SRC" "benchs3:bench/$S3B_PREFIX" --transfers 4 --checkers 8 \
			--s3-chunk-size 8M --s3-upload-concurrency 4 --s3-upload-cutoff 8M \
			--bwlimit "$BWL_RATE" ;;
	esac
}
bwl_s3_check() { s3b_check "$1" && bwl_accuracy "$1"; }

# local -> Azurite (a fresh one per run, as azure-upload-A)
bwl_azure_ready() { azb_ready "$1"; }
bwl_azure_prepare() { azb_start up && azb_env up; }
bwl_azure_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q copy "$SRC" "az://devstoreaccount1/bench/run" \
			--transfers 4 --bwlimit "$BWL_RATE" ;;
	rclone) bench_run "$RCLONE" --config "$AZB_CONF" copy "$SRC" "benchaz:bench/run" \
			--transfers 4 --checkers 8 --azureblob-chunk-size 4M \
			--azureblob-upload-concurrency 4 --bwlimit "$BWL_RATE" ;;
	esac
}
bwl_azure_check() { azu_check "$1" && bwl_accuracy "$1"; }

bench_case bwlimit-local data=R tools="navette rclone" hooks=bwl_local default=no \
	desc="sync of data set R (64 MiB) local -> local at --bwlimit 8M; the check: within 10 % of 8 MiB/s"
bench_case bwlimit-sftp data=R tools="navette rclone" hooks=bwl_sftp default=no \
	desc="copy of data set R to a local sshd at --bwlimit 8M; the check: within 10 % of 8 MiB/s"
bench_case bwlimit-s3 data=R tools="navette rclone" hooks=bwl_s3 default=no \
	desc="copy of data set R to s3rver at --bwlimit 8M; the check: within 10 % of 8 MiB/s"
bench_case bwlimit-azure data=R tools="navette rclone" hooks=bwl_azure default=no \
	desc="copy of data set R to Azurite at --bwlimit 8M; the check: within 10 % of 8 MiB/s"
