# s3.sh: S3 cases (issue 5): uploads of data sets A and B to one s3rver on loopback,
# navette copy against rclone copy. Sourced by bench/run.sh.
# Same work on both sides: 4 transfers, 8 MiB parts, up to 4 parts in flight per file
# (navette: as many as its default memory budget, 48M, holds: each transfer's first
# part, the others lent from what is left; rclone holds 4 x 4 chunks), and each tool
# checks the server's ETag against the MD5 of what it sent (rclone's default; navette's
# commit check). rss=64: navette's peak RSS at its defaults, whatever the file sizes
# (s3-upload-C: one 4 GiB file). s3rver (single-threaded node) is pinned to CPU 1 with taskset
# when there is one, and the tools to CPU 0: where the server uses >= 0.9 of a core for
# both tools, the floor applies to client CPU seconds (the report shows both).

S3B_PORT=""
S3B_PID=""
S3B_CLIENT_CPU=""

# s3b_server: one s3rver for every S3 case of this bench process, started on first use
# with its store under $BENCH_DIR/work/s3rver, stopped when run.sh exits.
s3b_server() {
	local js="$BENCH_SRC/../tests/servers/s3rver.js" mods dir pin=()
	[ -n "$S3B_PID" ] && kill -0 "$S3B_PID" 2>/dev/null && return 0
	mods=${NAVETTE_NODE_MODULES:-$BENCH_SRC/../tests/servers/node_modules}
	[ -d "$mods/@20minutes/s3rver" ] || { echo "no s3rver (cd tests/servers && npm install)"; return 1; }
	command -v node >/dev/null || { echo "no node"; return 1; }
	dir=$BENCH_DIR/work/s3rver
	rm -rf "$dir" && mkdir -p "$dir/store" || return 1
	S3B_PORT=$((10000 + RANDOM % 20000))
	S3B_CLIENT_CPU=""
	[ "$(nproc)" -gt 1 ] && command -v taskset >/dev/null && pin=(taskset -c 1) S3B_CLIENT_CPU=0
	NAVETTE_NODE_MODULES=$mods "${pin[@]}" node --openssl-legacy-provider "$js" "$S3B_PORT" \
		"$dir/store" bench >"$dir/log" 2>&1 &
	S3B_PID=$!
	bench_server_track "$S3B_PID"
	bench_at_exit s3b_stop
	for _ in $(seq 1 100); do
		grep -q '^ready' "$dir/log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '^ready' "$dir/log" || { echo "s3rver did not start: $(tail -3 "$dir/log")"; return 1; }
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL=http://127.0.0.1:$S3B_PORT
	# s3rver ignores If-None-Match (tests/driver/s3.sh); plain copies never ask for it.
	export NAVETTE_CONDITIONAL_WRITES=false
}
s3b_stop() { [ -n "$S3B_PID" ] && kill "$S3B_PID" 2>/dev/null && wait "$S3B_PID" 2>/dev/null; }

s3b_ready() {
	case $1 in
	navette) bench_navette_has copy || return 1 ;;
	rclone) command -v "$RCLONE" >/dev/null || { echo "no rclone (apt-get install rclone)"; return 1; } ;;
	esac
	[ -d "${NAVETTE_NODE_MODULES:-$BENCH_SRC/../tests/servers/node_modules}/@20minutes/s3rver" ] ||
		{ echo "no s3rver (cd tests/servers && npm install)"; return 1; }
}

# The server starts here, not in _ready: run.sh calls _ready in a subshell.
s3b_setup() {
	s3b_server || return 1
	# the server's CPU is reported; the tools run on the other core than s3rver's
	BENCH_SERVER_PID=$S3B_PID BENCH_CLIENT_CPU=$S3B_CLIENT_CPU
	[ "$1" = rclone ] || return 0
	printf '[benchs3]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nendpoint = %s\nregion = us-east-1\nforce_path_style = true\n' \
		"$AWS_ENDPOINT_URL" >"$STATE/rclone.conf" && chmod 600 "$STATE/rclone.conf"
}

# Each run writes under a prefix of its own; the previous run's objects are dropped
# from s3rver's store first, so the server never fills up across runs.
s3b_prepare() {
	rm -rf "$BENCH_DIR/work/s3rver/store/bench/"* 2>/dev/null
	S3B_PREFIX=run-$1-$RANDOM$RANDOM
}

s3b_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q copy "$SRC" "s3://bench/$S3B_PREFIX" --transfers 4 ;;
	# rclone 1.60's AWS SDK refuses these machines' AWS_CA_BUNDLE (http here anyway).
	rclone) bench_run env -u AWS_CA_BUNDLE "$RCLONE" --config "$STATE/rclone.conf" copy \
		"$SRC" "benchs3:bench/$S3B_PREFIX" --transfers 4 --checkers 8 \
		--s3-chunk-size 8M --s3-upload-concurrency 4 --s3-upload-cutoff 8M ;;
	esac
}

s3b_check() {
	local n
	n=$(find "$BENCH_DIR/work/s3rver/store/bench/$S3B_PREFIX" -name '*._S3rver_object' | wc -l)
	[ "$n" -eq "$DATA_FILES" ] || { echo "s3: $n objects stored, $DATA_FILES expected"; return 1; }
}

bench_case s3-upload-A data=A tools="navette rclone" target=1.4 rss=64 hooks=s3b \
	desc="copy of data set A (4 x 256 MiB) to s3rver, 8 MiB parts, 4 in flight; MB/s"
bench_case s3-upload-B data=B tools="navette rclone" target=1.5 rss=64 hooks=s3b \
	desc="copy of data set B (10,000 x 4 KiB) to s3rver; files/s"
bench_case s3-upload-C data=C tools="navette rclone" rss=64 hooks=s3b default=no \
	desc="copy of data set C (1 x 4 GiB) to s3rver: memory on a big file; MB/s"

# Push of data set A into a fresh vault on s3rver (one recipient, --fsync none) against
# rclone copy into a crypt remote over the same s3rver, the same parts on both sides:
# push's buffers, the encryptor's and its upload's parts within navette's default memory
# budget (rss=64: issue 16 measured 71 MiB before they were drawn from it). Helpers of
# vault.sh; one signing key per vault (see vault_push_prepare).
s3v_ready() { s3b_ready "$1" && vault_ready push "$1"; }
s3v_setup() {
	local crypt=""
	if [ "$1" = rclone ]; then
		vault_keys rclone && crypt=$(cat "$STATE/rclone.conf") || return 1
	fi
	s3b_setup "$1" || return 1
	if [ "$1" = rclone ]; then printf '%s\n' "$crypt" >>"$STATE/rclone.conf"; else vault_keys "$1"; fi
}
s3v_prepare() {
	s3b_prepare "$1"
	[ "$1" = rclone ] && return 0
	VAULT_SIGN=$RUN/sign
	ssh-keygen -q -t ed25519 -N '' -C bench -f "$VAULT_SIGN" && vault_init "$1" "s3://bench/$S3B_PREFIX"
}
# s3v_crypt [RUNNER] FROM TO: rclone copy through the crypt remote of this run.
s3v_crypt() {
	local run=""
	[ "$#" -eq 3 ] && { run=$1; shift; }
	$run env -u AWS_CA_BUNDLE "$RCLONE" --config "$STATE/rclone.conf" copy "$@" \
		--crypt-remote "benchs3:bench/$S3B_PREFIX" --transfers 4 --checkers 8 \
		--s3-chunk-size 8M --s3-upload-concurrency 4 --s3-upload-cutoff 8M
}
s3v_run() {
	case $1 in
	navette) vault_push navette "s3://bench/$S3B_PREFIX" bench_run ;;
	rclone) s3v_crypt bench_run "$SRC" benchcrypt: ;;
	esac
}
s3v_check() {
	case $1 in
	navette) vault_pull navette "s3://bench/$S3B_PREFIX" "$RUN/check" ;;
	rclone) s3v_crypt benchcrypt: "$RUN/check" ;;
	esac && bench_same_tree "$SRC" "$RUN/check"
}
bench_case vault-push-s3-A data=A tools="navette rclone" target=1.5 rss=64 hooks=s3v \
	desc="push of data set A into a fresh vault on s3rver (rclone: copy into a crypt remote on it); MB/s"
