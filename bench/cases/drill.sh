# drill.sh: disaster-recovery drills (issue 13): the RTO of `navette drill` of a vault of
# data set A against a plain `navette pull` of the same vault, on S3 (s3rver) and on
# Azure (Azurite). Sourced by bench/run.sh; not run by default (bench/run.sh
# drill-s3-A drill-azure-A). The issue's bound: a drill within 1.2x of the pull, so
# target=0.83 on the throughput ratio drill / pull (the "vs rclone" column is against
# navette_pull here, ref=navette_pull).
# Rows: navette = drill --to $RUN/dst (restores as pull does, plus the manifest chain and
# the heartbeat; what the RTO of the report measures), navette_pull = pull into
# $RUN/dst, navette_stream = drill --no-keep (decrypts and checks, writes nothing).
# All at navette's default durability (--fsync batch: one syncfs before success), 4
# transfers. The vault is pushed once per server and data set (untimed, navette push,
# its own keys and state under $BENCH_DIR/work/drill-*); the server is pinned to CPU 1,
# the tools to CPU 0, as in s3.sh and azure.sh.

DRILL_KEYS=""

# drill_keys: an age identity and a signing key, made once per bench process.
drill_keys() {
	[ -n "$DRILL_KEYS" ] && [ -f "$DRILL_KEYS/id.txt" ] && return 0
	DRILL_KEYS=$BENCH_DIR/work/drill-keys
	rm -rf "$DRILL_KEYS" && mkdir -p "$DRILL_KEYS" && chmod 700 "$DRILL_KEYS" || return 1
	age-keygen -o "$DRILL_KEYS/id.txt" 2>/dev/null &&
		ssh-keygen -q -t ed25519 -N '' -C bench -f "$DRILL_KEYS/sign"
}

# drill_seed WHERE VAULT: a fresh state and a vault of $SRC at VAULT (untimed).
drill_seed() {
	local st=$BENCH_DIR/work/drill-state-$1
	rm -rf "$st" && mkdir -p "$st" && chmod 700 "$st" || return 1
	drill_keys &&
		NAVETTE_STATE_DIR=$st "$NAVETTE" init "$2" \
			--recipient "$(age-keygen -y "$DRILL_KEYS/id.txt")" --signing-key "$DRILL_KEYS/sign" &&
		NAVETTE_STATE_DIR=$st "$NAVETTE" -q push "$SRC" "$2" --signing-key "$DRILL_KEYS/sign" \
			--transfers 4
}

drill_ready() {
	bench_navette_has drill || return 1
	command -v age-keygen >/dev/null || { echo "no age-keygen (apt-get install age)"; return 1; }
	command -v ssh-keygen >/dev/null || { echo "no ssh-keygen"; return 1; }
}

# drill_run TOOL WHERE VAULT: the timed run of one row.
drill_run() {
	local st=$BENCH_DIR/work/drill-state-$2 id=$DRILL_KEYS/id.txt
	case $1 in
	navette) bench_run env NAVETTE_STATE_DIR="$st" "$NAVETTE" -q drill "$3" --identity "$id" \
			--to "$RUN/dst" --transfers 4 ;;
	navette_pull) bench_run env NAVETTE_STATE_DIR="$st" "$NAVETTE" -q pull "$3" "$RUN/dst" \
			--identity "$id" --transfers 4 ;;
	navette_stream) bench_run env NAVETTE_STATE_DIR="$st" "$NAVETTE" -q drill "$3" \
			--identity "$id" --no-keep --transfers 4 ;;
	esac
}

drill_check() {
	case $1 in
	navette_stream) return 0 ;; # nothing written; its exit status 0 is the check
	*) bench_same_tree "$SRC" "$RUN/dst" ;;
	esac
}

# ---- S3: one s3rver for the bench process (s3.sh), the vault under bench/drill ----
drill_s3_ready() { drill_ready "$1" && s3b_ready navette; }
drill_s3_setup() {
	s3b_server || return 1
	BENCH_SERVER_PID=$S3B_PID BENCH_CLIENT_CPU=$S3B_CLIENT_CPU
	# seeded once per data set, and again if an upload case emptied the bucket since
	if [ "${DRILL_S3_SEEDED:-}" != "$SRC" ] ||
		[ ! -e "$BENCH_DIR/work/s3rver/store/bench/drill/heartbeat.json._S3rver_object" ]; then
		rm -rf "$BENCH_DIR/work/s3rver/store/bench/drill"
		drill_seed s3 s3://bench/drill || return 1
		DRILL_S3_SEEDED=$SRC
	fi
}
drill_s3_run() { drill_run "$1" s3 s3://bench/drill; }
drill_s3_check() { drill_check "$1"; }

# ---- Azure: an Azurite of its own (slot "drill"), seeded once per data set, then
# read once untimed: a freshly written store serves its first reads slowly (azure.sh).
drill_az_ready() { drill_ready "$1" && azb_ready navette; }
drill_az_setup() {
	local warm=$BENCH_DIR/work/drill-warm
	if [ "${DRILL_AZ_SEEDED:-}" != "$SRC" ]; then
		[ -n "${DRILL_AZ_EXIT:-}" ] || { bench_at_exit "azb_stop drill"; DRILL_AZ_EXIT=1; }
		azb_start drill && azb_env drill || return 1
		drill_seed az az://devstoreaccount1/bench/drill || return 1
		rm -rf "$warm"
		NAVETTE_STATE_DIR=$BENCH_DIR/work/drill-state-az "$NAVETTE" -q pull \
			az://devstoreaccount1/bench/drill "$warm" --identity "$DRILL_KEYS/id.txt" \
			--transfers 4 || return 1
		rm -rf "$warm"
		DRILL_AZ_SEEDED=$SRC
	fi
	azb_env drill
}
drill_az_run() { drill_run "$1" az az://devstoreaccount1/bench/drill; }
drill_az_check() { drill_check "$1"; }

DRILL_TOOLS="navette navette_pull navette_stream"
bench_case drill-s3-A data=A tools="$DRILL_TOOLS" ref=navette_pull target=0.83 rss=64 \
	hooks=drill_s3 default=no \
	desc="drill of a vault of A on s3rver (drill --to; --no-keep) vs navette pull of it: RTO within 1.2x of the pull; MB/s"
bench_case drill-azure-A data=A tools="$DRILL_TOOLS" ref=navette_pull target=0.83 rss=64 \
	hooks=drill_az default=no \
	desc="drill of a vault of A on Azurite (drill --to; --no-keep) vs navette pull of it: RTO within 1.2x of the pull; MB/s"
