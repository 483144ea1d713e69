# azure.sh: Azure cases (issue 6): uploads and downloads of data sets A and B against
# Azurite on loopback, navette copy against rclone copy. Sourced by bench/run.sh.
# Same work on both sides: 4 transfers, 4 MiB blocks, up to 4 blocks in flight per file
# (navette: within its default memory budget, 48M), an MD5 on every block (rclone's
# default, navette's always). rss=64: navette's peak RSS at its defaults. Azurite (single-threaded
# node) is pinned to CPU 1 with taskset when there is one (the tools to CPU 0), and slows as it fills: every
# upload run gets a fresh Azurite and --location; downloads read one store seeded once.
# Where Azurite is the bottleneck for both tools, compare client CPU seconds instead.
# rclone: azureblob remote with use_emulator = true and endpoint = http://127.0.0.1:PORT/devstoreaccount1.

AZB_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
declare -A AZB_PID AZB_PORT

# azb_start SLOT: a fresh Azurite (new --location) for SLOT ("up" or "down"), replacing
# that slot's previous one, with an empty container "bench" and the rclone config.
azb_start() {
	local slot=$1 main dir pin=() port
	main=${NAVETTE_NODE_MODULES:-$BENCH_SRC/../tests/servers/node_modules}/azurite/dist/src/blob/main.js
	azb_stop "$slot"
	dir=$BENCH_DIR/work/azurite-$slot
	rm -rf "$dir" && mkdir -p "$dir/store" || return 1
	port=$((10000 + RANDOM % 20000))
	AZB_CLIENT_CPU=""
	[ "$(nproc)" -gt 1 ] && command -v taskset >/dev/null && pin=(taskset -c 1) AZB_CLIENT_CPU=0
	"${pin[@]}" node "$main" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/store" \
		--disableTelemetry --silent --skipApiVersionCheck >"$dir/log" 2>&1 &
	AZB_PID[$slot]=$!
	bench_server_track "${AZB_PID[$slot]}"
	AZB_PORT[$slot]=$port
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	printf '[benchaz]\ntype = azureblob\naccount = devstoreaccount1\nkey = %s\nendpoint = http://127.0.0.1:%s/devstoreaccount1\nuse_emulator = true\n' \
		"$AZB_KEY" "$port" >"$dir/rclone.conf" && chmod 600 "$dir/rclone.conf"
	"$RCLONE" --config "$dir/rclone.conf" mkdir benchaz:bench ||
		{ echo "Azurite did not start: $(tail -3 "$dir/log")"; return 1; }
}
azb_stop() {
	local pid=${AZB_PID[$1]:-}
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	AZB_PID[$1]=""
	return 0
}
azb_stop_all() { azb_stop up; azb_stop down; }
bench_at_exit azb_stop_all

# azb_env SLOT: navette's credentials and endpoint for that slot's Azurite.
azb_env() {
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZB_KEY;BlobEndpoint=http://127.0.0.1:${AZB_PORT[$1]}/devstoreaccount1;"
	AZB_CONF=$BENCH_DIR/work/azurite-$1/rclone.conf
	# the server's CPU is reported; the tools run on the other core than Azurite's
	BENCH_SERVER_PID=${AZB_PID[$1]} BENCH_CLIENT_CPU=${AZB_CLIENT_CPU:-}
}

azb_ready() {
	case $1 in
	navette*) bench_navette_has copy || return 1 ;;
	esac
	# rclone makes the container in every case, so it is needed for both tools.
	command -v "$RCLONE" >/dev/null || { echo "no rclone (apt-get install rclone)"; return 1; }
	command -v node >/dev/null || { echo "no node"; return 1; }
	[ -d "${NAVETTE_NODE_MODULES:-$BENCH_SRC/../tests/servers/node_modules}/azurite" ] ||
		{ echo "no Azurite (cd tests/servers && npm install)"; return 1; }
}

azb_copy() { # azb_copy TOOL FROM TO (locations in each tool's own syntax)
	case $1 in
	# Downloads write local files: navette at rclone's durability (no fsync), and
	# at its default (batch) in the navette_batch row.
	navette) bench_run "$NAVETTE" -q copy "$2" "$3" --transfers 4 --fsync none ;;
	navette_batch) bench_run "$NAVETTE" -q copy "$2" "$3" --transfers 4 --fsync batch ;;
	rclone) bench_run "$RCLONE" --config "$AZB_CONF" copy "$2" "$3" --transfers 4 \
		--checkers 8 --azureblob-chunk-size 4M --azureblob-upload-concurrency 4 ;;
	esac
}

# ---- uploads: a fresh Azurite before every run ----
azu_ready() { azb_ready "$1"; }
azu_prepare() { azb_start up && azb_env up; }
azu_run() {
	case $1 in
	navette) azb_copy navette "$SRC" "az://devstoreaccount1/bench/run" ;;
	rclone) azb_copy rclone "$SRC" "benchaz:bench/run" ;;
	esac
}
azu_check() {
	local n
	n=$("$RCLONE" --config "$AZB_CONF" lsf -R --files-only benchaz:bench/run | wc -l)
	[ "$n" -eq "$DATA_FILES" ] || { echo "azure: $n blobs stored, $DATA_FILES expected"; return 1; }
}

# ---- downloads: one Azurite seeded once (untimed, by navette) per data set ----
# Azurite serves a freshly written store slowly at first: the first read of data set
# B after seeding took it 98 CPU-s, the next ones 64, 37 and 34 (same client). The
# tool that ran first paid for that, so both tools read the store once, untimed,
# before any timed run.
azd_ready() { azb_ready "$1"; }
azd_setup() {
	local warm=$BENCH_DIR/work/azurite-warm
	if [ "${AZB_SEEDED:-}" != "$SRC" ]; then
		azb_start down && azb_env down || return 1
		"$NAVETTE" -q copy "$SRC" "az://devstoreaccount1/bench/src" --transfers 4 || return 1
		rm -rf "$warm"
		"$NAVETTE" -q copy "az://devstoreaccount1/bench/src" "$warm/n" --transfers 4 --fsync none &&
			"$RCLONE" --config "$AZB_CONF" copy benchaz:bench/src "$warm/r" --transfers 4 \
				--checkers 8 || return 1
		rm -rf "$warm"
		AZB_SEEDED=$SRC
	fi
	azb_env down
}
azd_run() {
	case $1 in
	navette*) azb_copy "$1" "az://devstoreaccount1/bench/src" "$RUN/out" ;;
	rclone) azb_copy rclone "benchaz:bench/src" "$RUN/out" ;;
	esac
}
azd_check() { bench_same_tree "$SRC" "$RUN/out"; }

bench_case azure-upload-A data=A tools="navette rclone" target=1.5 rss=64 hooks=azu \
	desc="copy of data set A (4 x 256 MiB) to Azurite, 4 MiB blocks, 4 in flight; MB/s"
bench_case azure-upload-B data=B tools="navette rclone" target=1.5 rss=64 hooks=azu \
	desc="copy of data set B (10,000 x 4 KiB) to Azurite; files/s"
bench_case azure-upload-C data=C tools="navette rclone" rss=64 hooks=azu default=no \
	desc="copy of data set C (1 x 4 GiB) to Azurite: memory on a big file; MB/s"
bench_case azure-download-A data=A tools="navette navette_batch rclone" target=1.5 rss=64 hooks=azd \
	desc="copy of data set A from Azurite to local disk; MB/s"
bench_case azure-download-B data=B tools="navette navette_batch rclone" target=1.5 rss=64 hooks=azd \
	desc="copy of data set B from Azurite to local disk; files/s"
