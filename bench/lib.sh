# lib.sh: the benchmark harness's machinery (case registry, data sets, timed runs,
# statistics, Markdown report). Sourced by bench/run.sh only; cases call the bench_* API.
export LC_ALL=C

declare -a BENCH_CASES=()          # every registered case, in registration order
declare -a BENCH_DEFAULT_CASES=()  # the cases run when none is named
declare -A CASE_DATA CASE_TOOLS CASE_DESC CASE_TARGET CASE_RSS CASE_HOOKS CASE_COMMANDS CASE_REF

# bench_case NAME data=A|B|C|D|R tools="navette ... rclone" [target=R] [rss=MIB]
#            [hooks=PREFIX] [ref=TOOL] [default=no] desc="...": registers a case.
# Its functions are named PREFIX_<hook>, PREFIX being case_<NAME with - as _> unless
# hooks= names a prefix shared by several cases:
#   PREFIX_<tool> or PREFIX_run TOOL: the timed run; calls bench_run exactly once;
#   PREFIX_ready TOOL (optional): prints why not and fails when a tool cannot run;
#   PREFIX_setup TOOL (optional): once per tool before its runs, untimed;
#   PREFIX_prepare TOOL (optional): before each run, untimed;
#   PREFIX_check TOOL (optional): after the first run, untimed: the result is right.
# They see $SRC (the data set), $RUN (a fresh directory per run) and $STATE (kept
# across the runs of one tool). ref: the tool the navette rows are compared with
# (default rclone; the drill cases compare with navette_pull). target: the throughput
# ratio over the ref that navette (at equal durability) must reach; rss: the max RSS
# in MiB it must stay under.
bench_case() {
	local name=$1 kv default=yes
	shift
	CASE_TARGET[$name]=""
	CASE_RSS[$name]=""
	CASE_HOOKS[$name]=case_${name//-/_}
	CASE_REF[$name]=rclone
	for kv in "$@"; do
		case $kv in
		ref=*) CASE_REF[$name]=${kv#ref=} ;;
		hooks=*) CASE_HOOKS[$name]=${kv#hooks=} ;;
		data=*) CASE_DATA[$name]=${kv#data=} ;;
		tools=*) CASE_TOOLS[$name]=${kv#tools=} ;;
		desc=*) CASE_DESC[$name]=${kv#desc=} ;;
		target=*) CASE_TARGET[$name]=${kv#target=} ;;
		rss=*) CASE_RSS[$name]=${kv#rss=} ;;
		default=*) default=${kv#default=} ;;
		*) echo "bench_case $name: bad argument $kv" >&2; exit 2 ;;
		esac
	done
	BENCH_CASES+=("$name")
	[ "$default" = no ] || BENCH_DEFAULT_CASES+=("$name")
}

# bench_at_exit COMMAND: runs COMMAND when run.sh exits, after those registered later.
# Cases use this, never their own `trap ... EXIT` (which would drop the others'); a
# case that sources a file setting its own EXIT trap registers that trap's command
# here afterwards.
BENCH_EXIT_HOOKS=""
bench_at_exit() {
	BENCH_EXIT_HOOKS="$1; $BENCH_EXIT_HOOKS"
	trap 'eval "$BENCH_EXIT_HOOKS"' EXIT
}

bench_fn() { echo "${CASE_HOOKS[$1]}_$2"; }
bench_has() { declare -F "$(bench_fn "$1" "$2")" >/dev/null; }
# bench_call_tool CASE TOOL: the timed run of one tool.
bench_call_tool() {
	if bench_has "$1" "$2"; then "$(bench_fn "$1" "$2")"
	else "$(bench_fn "$1" run)" "$2"; fi
}
bench_log() { echo "bench: $*" >&2; }

# --- set-up -------------------------------------------------------------------------

bench_find_navette() {
	if [ -n "${NAVETTE:-}" ]; then return; fi
	if [ -x "$REPO/build-bench/navette" ]; then NAVETTE=$REPO/build-bench/navette
	else NAVETTE=$(command -v navette || echo navette); fi
}

bench_init() {
	mkdir -p "$BENCH_DIR/data" "$BENCH_DIR/work" || return 2
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
	BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results.md}
	bench_find_navette
	NAVETTE=$(command -v "$NAVETTE" || echo "$NAVETTE")
	# A private HOME: navette's pins and state, rclone's and restic's caches stay here.
	export HOME=$BENCH_DIR/home
	mkdir -p "$HOME/.config/rclone" && chmod 700 "$HOME"
	# An empty rclone config: no "config file not found" notice; remotes come per case.
	: >>"$HOME/.config/rclone/rclone.conf"
	unset XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME NAVETTE_CONFIG
	if [ -x "$NAVETTE" ] && ldd "$NAVETTE" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		if [ "${BENCH_ALLOW_SANITIZERS:-0}" != 1 ]; then
			echo "run.sh: $NAVETTE is a sanitizer build; build one for benchmarks:" >&2
			echo "  mkdir build-bench && cd build-bench && ../configure CFLAGS='-O2 -g' && make -j2" >&2
			return 2
		fi
		bench_log "WARNING: sanitizer build, figures are not meaningful"
	fi
	[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time missing (apt-get install time)" >&2; return 2; }
	# Outputs of finished runs wait here until the session ends: see bench_discard.
	BENCH_TRASH=$BENCH_DIR/work/.trash
	if [ -d "$BENCH_TRASH" ]; then
		bench_log "deleting an earlier session's runs, then waiting 60 s (see bench_discard)"
		bench_purge_trash
		sync -f "$BENCH_DIR"
		sleep 60
	fi
	bench_at_exit bench_purge_trash
	BENCH_QUICK_TAG=""
	[ "$QUICK" = 1 ] && BENCH_QUICK_TAG=" (quick smoke run: tiny data, figures meaningless)"
	return 0
}

# --- data sets ----------------------------------------------------------------------

# bench_gen_A DIR: 4 files x 256 MiB of random bytes (4 x 4 MiB when quick).
bench_gen_A() {
	local n=$((256 * 1024 * 1024)) i
	[ "$QUICK" = 1 ] && n=$((4 * 1024 * 1024))
	for i in 1 2 3 4; do
		openssl rand -out "$1/file$i.bin" "$n" || return 1
	done
}

# bench_gen_files DIR DIRS PER SIZE DIGITS: DIRS directories d00.. of PER random files
# of SIZE bytes each (f000.bin.., DIGITS digits), every file different.
bench_gen_files() {
	local d
	for ((d = 0; d < $2; d++)); do
		mkdir -p "$1/d$(printf %02d "$d")" || return 1
		openssl rand $(($3 * $4)) |
			split -b "$4" -d -a "$5" --additional-suffix=.bin - "$1/d$(printf %02d "$d")/f" ||
			return 1
	done
}

# bench_gen_B DIR: 10,000 files x 4 KiB in 100 directories (500 in 10 when quick).
bench_gen_B() {
	if [ "$QUICK" = 1 ]; then bench_gen_files "$1" 10 50 4096 2
	else bench_gen_files "$1" 100 100 4096 2; fi
}

# bench_gen_D DIR: 100,000 unique files x 60 bytes in 100 directories (1,000 in 10
# when quick): per-file costs at scale (issue 16), nothing else.
bench_gen_D() {
	if [ "$QUICK" = 1 ]; then bench_gen_files "$1" 10 100 60 3
	else bench_gen_files "$1" 100 1000 60 3; fi
}

# bench_gen_C DIR: one 4 GiB file (64 MiB when quick), for memory bounds on big files.
bench_gen_C() {
	local mib=4096
	[ "$QUICK" = 1 ] && mib=64
	local i
	# openssl rand takes an int: write the file in 64 MiB pieces.
	for ((i = 0; i < mib / 64; i++)); do
		openssl rand $((64 * 1024 * 1024)) || return 1
	done >"$1/big.bin"
}

# bench_gen_R DIR: 4 files x 16 MiB (64 MiB; 4 x 1 MiB when quick), for rate limits.
bench_gen_R() {
	local mib=16 i
	[ "$QUICK" = 1 ] && mib=1
	for i in 1 2 3 4; do
		openssl rand -out "$1/file$i.bin" $((mib * 1024 * 1024)) || return 1
	done
}

# bench_data NAME: makes the data set once (cached across runs) and sets DATA_PATH,
# DATA_BYTES and DATA_FILES.
bench_data() {
	local name=$1 dir meta
	[ "$QUICK" = 1 ] && name=$name-quick
	dir=$BENCH_DIR/data/$name
	meta=$dir.meta
	if [ ! -f "$meta" ]; then
		bench_log "generating data set $name in $dir"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp" || return 1
		"bench_gen_$1" "$dir.tmp" || { echo "run.sh: generating $name failed" >&2; return 1; }
		mv "$dir.tmp" "$dir" || return 1
		# push reads a file changed in the last 2 s twice (NV_PUSH_RACY_SEC: it may
		# still be being written), which halved the first run's rate on fresh data.
		# Its ctime counts, which touch -d cannot set back: let the data age instead.
		sleep 3
		printf '%s %s\n' "$(du -sb --apparent-size "$dir"/* | awk '{s += $1} END {print s}')" \
			"$(find "$dir" -type f | wc -l)" >"$meta"
	fi
	DATA_PATH=$dir
	read -r DATA_BYTES DATA_FILES <"$meta"
}

# --- scratch space ------------------------------------------------------------------

# Deleting thousands of files just before a run makes the next run's file creations
# slow: ext4 skips inodes deleted in the last 60-300 s, scanning past each of them
# (recently_deleted() in ext4_create), which cost more than the tools themselves in
# the small-file cases. So finished runs are moved aside and deleted when the session
# ends, or earlier only when the disk gets short (said in the log).
# A run of few files (data sets A and C) is deleted at once instead: kept, its GiBs
# stayed in the page cache and later runs were up to 10x slower to write, for any
# tool, in the kernel's copy into the page cache (RESULTS.md, "Local writes in 32
# KiB pieces"); deleting a few files has no inode scan to pay.
bench_discard() {
	local avail
	[ -e "$1" ] || return 0
	if [ "$(find "$1" -type f 2>/dev/null | head -n "$BENCH_FEW_FILES" | wc -l)" -lt "$BENCH_FEW_FILES" ]; then
		rm -rf "$1" && return 0
	fi
	mkdir -p "$BENCH_TRASH"
	mv "$1" "$(mktemp -d "$BENCH_TRASH/XXXXXX")/" || rm -rf "$1"
	avail=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 {print $4}')
	if [ "$avail" -lt $((BENCH_MIN_FREE_GIB * 1024 * 1024)) ]; then
		bench_log "less than $BENCH_MIN_FREE_GIB GiB free: deleting old runs now (next runs may be slower)"
		bench_purge_trash
	fi
}
BENCH_MIN_FREE_GIB=${BENCH_MIN_FREE_GIB:-20}
BENCH_FEW_FILES=100

bench_purge_trash() { [ -z "${BENCH_TRASH:-}" ] || rm -rf "$BENCH_TRASH"; }

# --- timed runs ---------------------------------------------------------------------

bench_quote() {
	local a out=""
	for a in "$@"; do out+="$(printf '%q' "$a") "; done
	out=${out% }
	out=${out//$BENCH_DIR/\$BENCH_DIR}
	echo "${out//$REPO\//./}"
}

# Machine-wide busy CPU time in clock ticks, to tell how much others ran beside us.
bench_cpu_ticks() {
	local _c u n s i w q sq st _rest
	read -r _c u n s i w q sq st _rest </proc/stat
	BENCH_TICKS=$((u + n + s + q + sq + st))
}

# bench_server_track PID: called by a case right after it started its server. With a
# cgroup CPU controller at hand, PID moves into a cgroup of its own, so that everything
# it forks later is counted, even processes that end unreaped (sshd's per-connection
# children do: their CPU never reaches sshd's cutime). Without one, /proc is walked.
bench_server_track() {
	local cg
	for cg in "/sys/fs/cgroup/cpuacct/navette-bench.$1" "/sys/fs/cgroup/navette-bench.$1"; do
		[ -d "$(dirname "$cg")" ] && [ -w "$(dirname "$cg")" ] || continue
		mkdir "$cg" 2>/dev/null && echo "$1" >"$cg/cgroup.procs" 2>/dev/null && break
		rmdir "$cg" 2>/dev/null
	done
	bench_at_exit "rmdir /sys/fs/cgroup/cpuacct/navette-bench.$1 /sys/fs/cgroup/navette-bench.$1 2>/dev/null"
}

# CPU ticks used so far by the case's server (BENCH_SERVER_PID) and everything it
# forked (see bench_server_track), or -1 without a server.
bench_server_ticks() {
	local hz cg=/sys/fs/cgroup/cpuacct/navette-bench.${BENCH_SERVER_PID:-x} v2=/sys/fs/cgroup/navette-bench.${BENCH_SERVER_PID:-x}
	BENCH_STICKS=-1
	[ -n "${BENCH_SERVER_PID:-}" ] || return 0
	hz=$(getconf CLK_TCK)
	if [ -r "$cg/cpuacct.usage" ]; then
		BENCH_STICKS=$(awk -v hz="$hz" '{printf "%d", $1 * hz / 1e9}' "$cg/cpuacct.usage")
		return 0
	fi
	if [ -r "$v2/cpu.stat" ]; then
		BENCH_STICKS=$(awk -v hz="$hz" '$1 == "usage_usec" {printf "%d", $2 * hz / 1e6}' "$v2/cpu.stat")
		return 0
	fi
	[ -r "/proc/$BENCH_SERVER_PID/stat" ] || return 0
	# the server, its live and zombie descendants and what it reaped: after the ")"
	# closing the command name, ppid is field 2 and utime stime cutime cstime 12-15
	BENCH_STICKS=$(for f in /proc/[0-9]*/stat; do
			l=$(<"$f") 2>/dev/null || continue
			echo "${f//[^0-9]/} ${l##*) }"
		done 2>/dev/null | awk -v root="$BENCH_SERVER_PID" '
		{ pid = $1; ppid[pid] = $3; t[pid] = $13 + $14 + $15 + $16 }
		END { for (p in t) { q = p; while (q != "" && q != root && q in ppid && q != 1) q = ppid[q]
			if (q == root) sum += t[p] }
			print sum + 0 }')
}

# bench_run COMMAND...: the one timed command of a run, under /usr/bin/time -v.
# Wall time is taken by the shell around it (/usr/bin/time -v prints only centiseconds).
# With BENCH_CLIENT_CPU set (cases whose server is pinned elsewhere), the tool is
# pinned to that CPU with taskset.
bench_run() {
	local t0 t1 k0 k1 s0 s1 rc pin=()
	BENCH_LAST_CMD=$(bench_quote "$@")
	[ -n "${BENCH_CLIENT_CPU:-}" ] && pin=(taskset -c "$BENCH_CLIENT_CPU")
	bench_server_ticks; s0=$BENCH_STICKS
	bench_cpu_ticks; k0=$BENCH_TICKS
	t0=$EPOCHREALTIME
	"${pin[@]}" /usr/bin/time -v -o "$BENCH_TIMEF" "$@" >"$BENCH_LOGF" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	bench_cpu_ticks; k1=$BENCH_TICKS
	bench_server_ticks; s1=$BENCH_STICKS
	BENCH_RAN=1
	BENCH_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", b - a}')
	BENCH_OTHER_TICKS=$((k1 - k0))
	BENCH_SERVER_RUN_TICKS=-1
	[ "$s0" -ge 0 ] && [ "$s1" -ge "$s0" ] && BENCH_SERVER_RUN_TICKS=$((s1 - s0))
	[ -n "${BENCH_CLIENT_CPU:-}" ] && BENCH_LAST_CMD="taskset -c $BENCH_CLIENT_CPU $BENCH_LAST_CMD"
	return $rc
}

# bench_parse_time FILE: prints "maxrss_kib cpu_seconds" from /usr/bin/time -v output.
bench_parse_time() {
	awk -F': ' '/Maximum resident set size/ {r = $2}
		/User time \(seconds\)/ {u = $2} /System time \(seconds\)/ {s = $2}
		END {printf "%d %.2f\n", r, u + s}' "$1"
}

bench_median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan";
	else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# bench_one_run CASE TOOL N: prepares, runs and records run N; fails when the tool did.
bench_one_run() {
	local c=$1 tool=$2 n=$3 dir=$BENCH_DIR/work/$1/$2 rc rss cpu clk load
	BENCH_WHY=""
	export RUN=$dir/run STATE=$dir/state
	bench_discard "$RUN"
	mkdir -p "$RUN"
	if bench_has "$c" prepare; then
		"$(bench_fn "$c" prepare)" "$tool" >>"$dir/setup.log" 2>&1 ||
			{ BENCH_WHY="prepare failed, see $dir/setup.log"; return 1; }
	fi
	# Flush what earlier runs left dirty so their writeback is not billed to this run.
	sync -f "$BENCH_DIR/work" 2>/dev/null
	bench_cache_before_run "$dir" "$n"
	BENCH_TIMEF=$dir/time.$n BENCH_LOGF=$dir/log.$n BENCH_RAN=0
	load=$(cut -d' ' -f1 /proc/loadavg)
	bench_call_tool "$c" "$tool"
	rc=$?
	[ "$BENCH_RAN" = 1 ] || { BENCH_WHY="case function did not call bench_run"; return 1; }
	[ -z "${CASE_COMMANDS[$c|$tool]:-}" ] && CASE_COMMANDS[$c|$tool]=$BENCH_LAST_CMD
	if [ $rc -ne 0 ]; then
		BENCH_WHY="exit $rc, see $BENCH_LOGF: $(tail -n 3 "$BENCH_LOGF" | tr '\n' ' ')"
		return 1
	fi
	if [ "$n" = 1 ] && bench_has "$c" check; then
		"$(bench_fn "$c" check)" "$tool" >>"$dir/setup.log" 2>&1 ||
			{ BENCH_WHY="result check failed after run 1, see $dir/setup.log"; return 1; }
	fi
	read -r rss cpu < <(bench_parse_time "$BENCH_TIMEF")
	clk=$(getconf CLK_TCK)
	# others' CPU = machine-wide busy time minus our own, in cores over the run
	# (the server's included); server = the case's server alone (-1: none).
	awk -v w="$BENCH_WALL" -v r="$rss" -v c="$cpu" -v t="$BENCH_OTHER_TICKS" -v hz="$clk" \
		-v l="$load" -v st="$BENCH_SERVER_RUN_TICKS" 'BEGIN {o = t / hz - c; if (o < 0) o = 0;
		printf "%s %s %s %.2f %s %.2f\n", w, r, c, o / w, l, st < 0 ? -1 : st / hz / w}' >>"$dir/runs"
	bench_discard "$RUN"
	return 0
}

# --- page-cache states (--cache) ----------------------------------------------------
# warm: the source read once before the case, nothing dropped (the default).
# dropped: every cache dropped before each timed run (source read from disk, free
#   memory plentiful). full: before the case, clean filler files take all memory but
#   BENCH_CACHE_FREE_MIB (default 512), as earlier runs' output would: every page a
#   run writes must first be reclaimed. Each run's free memory goes to setup.log.

bench_cache_words() {
	case $CACHE in
	warm) echo "warm (source read before the case; nothing dropped)" ;;
	dropped) echo "dropped before every run (source cold)" ;;
	full) echo "full (filler up to ${BENCH_CACHE_FREE_MIB:-512} MiB free; source warm)" ;;
	esac
}

bench_cache_free_mib() { awk '/^MemFree:/ {print int($2 / 1024)}' /proc/meminfo; }

# bench_cache_fill: filler files (zeros, written through the page cache and synced,
# so clean) until MemFree is down to BENCH_CACHE_FREE_MIB; deleted at exit.
bench_cache_fill() {
	local want=${BENCH_CACHE_FREE_MIB:-512} free i=0 mib
	local fill=$BENCH_DIR/filler
	mkdir -p "$fill"
	bench_at_exit "rm -rf '$fill'"
	free=$(bench_cache_free_mib)
	while [ "$free" -gt $((want + 64)) ]; do
		mib=$((free - want)); [ "$mib" -gt 1024 ] && mib=1024
		[ -e "$fill/f$i" ] || dd if=/dev/zero of="$fill/f$i" bs=1M count="$mib" status=none ||
			return 1
		cat "$fill/f$i" >/dev/null
		i=$((i + 1))
		free=$(bench_cache_free_mib)
		[ "$i" -lt 256 ] || break
	done
	sync -f "$fill"
	bench_log "page cache filled: $(bench_cache_free_mib) MiB free ($i filler files)"
}

# bench_cache_before_run DIR N: the cache state a timed run starts from.
bench_cache_before_run() {
	case $CACHE in
	dropped) sync; echo 3 >/proc/sys/vm/drop_caches ;;
	full) bench_cache_fill >/dev/null 2>&1 ;; # topped up: deleted runs freed memory
	esac
	echo "run $2: $(bench_cache_free_mib) MiB free at start ($CACHE cache)" >>"$1/setup.log"
}

# bench_one_run_quiet CASE TOOL N: one timed run, run again (up to BENCH_RERUNS
# times, default 3) while other processes used more than BENCH_MAX_OTHERS cores
# (default 0.2; the case's own server not counted): a loaded machine slows
# rclone's scheduler more than navette's threads. The last try stays, flagged by
# its others' cores in the table; each discarded try is named in setup.log.
bench_one_run_quiet() {
	local dir=$BENCH_DIR/work/$1/$2 try=0 last
	while :; do
		bench_one_run "$@" || return 1
		last=$(tail -n 1 "$dir/runs")
		awk -v m="${BENCH_MAX_OTHERS:-0.2}" '{o = $4; if ($6 >= 0) o -= $6
			exit !(o > m)}' <<<"$last" || return 0
		try=$((try + 1))
		[ "$try" -le "${BENCH_RERUNS:-3}" ] || return 0
		echo "run $3: discarded (others' cores over ${BENCH_MAX_OTHERS:-0.2}: $last)" >>"$dir/setup.log"
		bench_log "$1: $2 run $3: others used more than ${BENCH_MAX_OTHERS:-0.2} cores, again"
		sed -i '$d' "$dir/runs"
	done
}

# bench_stat CASE TOOL COLUMN: the median of one column of the runs file.
bench_stat() { awk -v k="$3" '{print $k}' "$BENCH_DIR/work/$1/$2/runs" | bench_median; }

bench_one_case() {
	local c=$1 tool dir why round max need t
	local -a tools=() active=()
	local -A status=()
	read -r -a tools <<<"${CASE_TOOLS[$c]}"
	BENCH_SERVER_PID="" BENCH_CLIENT_CPU="" # a case with a server sets them in its hooks
	bench_data "${CASE_DATA[$c]}" || { bench_row_skip "$c" all "data set generation failed"; return; }
	export SRC=$DATA_PATH
	# Warm the page cache the same way for every tool (--cache dropped drops it again
	# before each run; --cache full fills the rest of memory first).
	[ "$CACHE" = full ] && bench_cache_fill
	find "$SRC" -type f -exec cat {} + >/dev/null
	for tool in "${tools[@]}"; do
		dir=$BENCH_DIR/work/$c/$tool
		bench_discard "$dir"
		mkdir -p "$dir/state"
		export RUN=$dir/run STATE=$dir/state
		if bench_has "$c" ready && ! why=$("$(bench_fn "$c" ready)" "$tool" 2>&1); then
			status[$tool]="skipped: $why"
			continue
		fi
		if ! bench_has "$c" "$tool" && ! bench_has "$c" run; then
			status[$tool]="skipped: no case function"
			continue
		fi
		if bench_has "$c" setup && ! "$(bench_fn "$c" setup)" "$tool" >"$dir/setup.log" 2>&1; then
			status[$tool]="skipped: setup failed, see ${dir/#$BENCH_DIR/\$BENCH_DIR}/setup.log"
			continue
		fi
		active+=("$tool")
	done
	# Rounds interleave the tools, so a burst of load from others hits all of them.
	max=$RUNS
	for ((round = 1; round <= max; round++)); do
		for tool in "${active[@]}"; do
			[ -n "${status[$tool]:-}" ] && continue
			bench_log "$c: $tool run $round/$max"
			if ! bench_one_run_quiet "$c" "$tool" "$round"; then
				status[$tool]="FAILED run $round: $BENCH_WHY"
			fi
		done
		# Cases shorter than a second get at least 11 runs.
		if [ "$round" -eq "$max" ] && [ "$max" -lt 11 ]; then
			need=0
			for tool in "${active[@]}"; do
				[ -n "${status[$tool]:-}" ] && continue
				t=$(bench_stat "$c" "$tool" 1)
				awk -v t="$t" 'BEGIN {exit !(t < 1.0)}' && need=1
			done
			[ "$need" = 1 ] && max=11
		fi
	done
	for tool in "${tools[@]}"; do
		if [ -n "${status[$tool]:-}" ]; then bench_row_skip "$c" "$tool" "${status[$tool]}"
		else bench_row "$c" "$tool"; fi
	done
}

# --- report -------------------------------------------------------------------------

bench_out() { printf '%s\n' "$*" | tee -a "$BENCH_RESULTS"; }

bench_version() { "$@" 2>/dev/null | head -n 1; }

bench_report_header() {
	local disk
	disk=$(findmnt -no SOURCE,FSTYPE --target "$BENCH_DIR" 2>/dev/null | tr -s ' ')
	{
		echo
		echo "## $(date -u '+%Y-%m-%d %H:%M UTC'): bench/run.sh $*$BENCH_QUICK_TAG"
		echo
		echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
		echo "- disk under BENCH_DIR=$BENCH_DIR: $disk (rotational=$(cat "/sys/block/$(basename "$(findmnt -no SOURCE --target "$BENCH_DIR")")/queue/rotational" 2>/dev/null || echo '?'))"
		echo "- navette: $NAVETTE, $(bench_version "$NAVETTE" --version || echo 'not built'), built $(date -u -r "$NAVETTE" '+%H:%M UTC' 2>/dev/null || echo '?'), checkout at commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') (rebuild after a rebase)"
		echo "- $(bench_version "$RCLONE" version); $(bench_version "$RESTIC" version)"
		echo "- load at start: $(cut -d' ' -f1-3 /proc/loadavg); page cache: $(bench_cache_words)"
		echo "- runs: $RUNS per tool (at least 11 when a case takes under 1 s), interleaved; medians"
		echo
		echo "| case | tool | runs | median s (min-max) | throughput | vs rclone | max RSS MiB | CPU s | CPU vs rclone | server cores | others' cores | target |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	} | tee -a "$BENCH_RESULTS"
}

bench_row_skip() { bench_out "| $1 | $2 | - | - | - | - | - | - | - | - | - | $3 |"; }

bench_row() {
	local c=$1 tool=$2 f=$BENCH_DIR/work/$1/$2/runs n wall lo hi rss cpu oth thr unit ratio="" verdict=""
	local rthr srv rsrv="" cratio="" ref=${CASE_REF[$1]} rf=$BENCH_DIR/work/$1/${CASE_REF[$1]}/runs
	n=$(wc -l <"$f")
	wall=$(bench_stat "$c" "$tool" 1)
	lo=$(awk '{print $1}' "$f" | sort -g | head -n 1)
	hi=$(awk '{print $1}' "$f" | sort -g | tail -n 1)
	rss=$(awk '$2 > m {m = $2} END {printf "%.1f", m / 1024}' "$f")
	cpu=$(bench_stat "$c" "$tool" 3 | xargs printf '%.2f')
	oth=$(bench_stat "$c" "$tool" 4 | xargs printf '%.2f')
	srv=$(awk '{print ($6 == "" ? -1 : $6)}' "$f" | bench_median | xargs printf '%.2f')
	read -r thr unit < <(bench_throughput "$c" "$wall")
	if [ "${tool#navette}" != "$tool" ] && [ -s "$rf" ]; then
		read -r rthr _ < <(bench_throughput "$c" "$(bench_stat "$c" "$ref" 1)")
		ratio=$(awk -v a="$thr" -v b="$rthr" 'BEGIN {printf "%.2fx", a / b}')
		cratio=$(awk -v a="$cpu" -v b="$(bench_stat "$c" "$ref" 3)" 'BEGIN {printf "%.2fx", b / a}')
		rsrv=$(awk '{print ($6 == "" ? -1 : $6)}' "$rf" | bench_median)
	fi
	if [ "$tool" = navette ]; then
		verdict=$(bench_verdict "$c" "${ratio%x}" "$rss" "${cratio%x}" "$srv" "$rsrv")
	fi
	[ "$srv" = "-1.00" ] && srv=-
	bench_out "$(printf '| %s | %s | %s | %.3f (%.3f-%.3f) | %s %s | %s | %s | %s | %s | %s | %s | %s |' \
		"$c" "$tool" "$n" "$wall" "$lo" "$hi" "$thr" "$unit" "$ratio" "$rss" "$cpu" "$cratio" \
		"$srv" "$oth" "$verdict")"
}

# bench_throughput CASE WALL: "N MB/s" (10^6 bytes) for the big-file sets, "N files/s"
# for B and D.
bench_throughput() {
	bench_data "${CASE_DATA[$1]}" || return 1
	if [ "${CASE_DATA[$1]}" = B ] || [ "${CASE_DATA[$1]}" = D ] || [ "${CASE_DATA[$1]}" = M ]; then
		awk -v n="$DATA_FILES" -v w="$2" 'BEGIN {printf "%.0f files/s\n", n / w}'
	else
		awk -v n="$DATA_BYTES" -v w="$2" 'BEGIN {printf "%.0f MB/s\n", n / 1e6 / w}'
	fi
}

# bench_verdict CASE RATIO RSS CPU_RATIO SERVER_CORES RCLONE_SERVER_CORES: where the
# server used >= 0.9 of a core for both tools, the floor applies to client CPU seconds.
bench_verdict() {
	local c=$1 ratio=$2 rss=$3 cratio=${4:-} srv=${5:--1} rsrv=${6:--1} out="" what=ratio
	if [ -n "$cratio" ] && awk -v a="$srv" -v b="$rsrv" 'BEGIN {exit !(a >= 0.9 && b >= 0.9)}'; then
		what="server-bound: CPU ratio" ratio=$cratio
	fi
	if [ -n "${CASE_TARGET[$c]}" ] && [ -n "$ratio" ]; then
		if awk -v r="$ratio" -v t="${CASE_TARGET[$c]}" 'BEGIN {exit !(r >= t)}'
		then out="$what >= ${CASE_TARGET[$c]} ok"; else out="$what >= ${CASE_TARGET[$c]} MISSED"; fi
	fi
	if [ -n "${CASE_RSS[$c]}" ]; then
		if awk -v r="$rss" -v t="${CASE_RSS[$c]}" 'BEGIN {exit !(r <= t)}'
		then out+="${out:+, }RSS <= ${CASE_RSS[$c]} ok"; else out+="${out:+, }RSS <= ${CASE_RSS[$c]} MISSED"; fi
	fi
	echo "$out"
}

bench_report_footer() {
	local k
	{
		echo
		echo "Commands (first run of each; \$SRC is the data set, \$RUN a fresh scratch dir):"
		echo
		for k in "${!CASE_COMMANDS[@]}"; do
			echo "- $k: \`${CASE_COMMANDS[$k]}\`"
		done | sort
		echo
		echo "Throughput from the median wall time; max RSS is the largest over all runs; CPU s"
		echo "is the median user+sys of the tool; CPU vs rclone = rclone's CPU s over navette's;"
		echo "server cores = the case's server's CPU over the run (median); others' cores = CPU"
		echo "everything else used meanwhile (the server included)."
		for k in "${!CASE_REF[@]}"; do
			[ "${CASE_REF[$k]}" = rclone ] || [ -z "${CASE_COMMANDS[$k|navette]:-}" ] ||
				echo "In $k, \"vs rclone\" and \"CPU vs rclone\" compare with ${CASE_REF[$k]}, not rclone."
		done
	} | tee -a "$BENCH_RESULTS"
	bench_log "appended to $BENCH_RESULTS"
}

# --- helpers for cases --------------------------------------------------------------

# bench_same_tree A B: same files with the same contents (used by _check hooks).
bench_same_tree() { diff -rq "$1" "$2"; }

# bench_navette_has COMMAND: the navette binary knows COMMAND (else print why not).
bench_navette_has() {
	if [ ! -x "$NAVETTE" ]; then echo "no navette binary at $NAVETTE"; return 1; fi
	if ! "$NAVETTE" help "$1" >/dev/null 2>&1; then
		echo "navette $1 does not exist yet ($("$NAVETTE" --version 2>&1 | head -n 1))"
		return 1
	fi
}
