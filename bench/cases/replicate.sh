# replicate.sh: vault replication (issue 15), local -> local: navette replicate of a
# vault of data set B (10,000 x 4 KiB: 10,001 objects) against rclone copy of the same
# vault directory. Sourced by bench/run.sh. Both tools run 4 transfers; navette at
# rclone's durability (--fsync none). Each tool's setup pushes the vault once into its
# own $STATE (navette push, untimed): the same files, objects and sizes for both.
# navette's run includes taking and releasing the lease and verifying every manifest.

replicate_ready() {
	bench_navette_has replicate || return 1
	command -v age-keygen >/dev/null || { echo "no age-keygen (apt-get install age)"; return 1; }
	case $1 in
	rclone) command -v "$RCLONE" >/dev/null || { echo "no rclone (apt-get install rclone)"; return 1; } ;;
	esac
}

# replicate_vault: keys and a vault of $SRC in $STATE, made once per tool.
replicate_vault() {
	[ -e "$STATE/vault/heartbeat.json" ] && return 0
	age-keygen -o "$STATE/id.txt" 2>/dev/null &&
		ssh-keygen -q -t ed25519 -N '' -C bench -f "$STATE/sign" &&
		NAVETTE_STATE_DIR=$STATE/nv "$NAVETTE" init "$STATE/vault" \
			--recipient "$(age-keygen -y "$STATE/id.txt")" --signing-key "$STATE/sign" &&
		NAVETTE_STATE_DIR=$STATE/nv "$NAVETTE" push "$SRC" "$STATE/vault" \
			--signing-key "$STATE/sign" --fsync none
}

# replicate_copy TOOL DST [RUNNER]: one copy of the vault into DST.
replicate_copy() {
	local tool=$1 dst=$2 run=${3:-}
	case $tool in
	navette) NAVETTE_STATE_DIR=$STATE/nv $run "$NAVETTE" replicate "$STATE/vault" "$dst" \
			--fsync none --transfers 4 ;;
	rclone) $run "$RCLONE" copy "$STATE/vault" "$dst" --transfers 4 --checkers 8 ;;
	*) echo "replicate_copy: unknown tool $tool" >&2; return 2 ;;
	esac
}

replicate_fresh_ready() { replicate_ready "$1"; }
replicate_fresh_setup() { replicate_vault; }
replicate_fresh_run() { replicate_copy "$1" "$RUN/dst" bench_run; }
replicate_fresh_check() { diff -r -x navette-lease "$STATE/vault" "$RUN/dst"; }
bench_case replicate-B data=B tools="navette rclone" target=2.0 rss=64 hooks=replicate_fresh \
	desc="replicate a vault of B (10,001 objects) into an empty directory vs rclone copy of it; files/s"

replicate_again_ready() { replicate_ready "$1"; }
replicate_again_setup() { replicate_vault && replicate_copy "$1" "$STATE/dst"; }
replicate_again_run() { replicate_copy "$1" "$STATE/dst" bench_run; }
replicate_again_check() { diff -r -x navette-lease "$STATE/vault" "$STATE/dst"; }
bench_case rereplicate-B data=B tools="navette rclone" target=3.0 rss=64 hooks=replicate_again \
	desc="no-change re-run of the replication of B onto an up-to-date copy; files/s"

# ---- S3 -> Azure: a vault of B seeded once on s3rver (untimed, by navette push),
# replicated into a fresh Azurite each run. Both servers are single-threaded node
# processes pinned to CPU 1 and bound the wall time: the case is judged by client CPU
# seconds (per 1,000 objects: divide by 10.001) and client RSS.
repl_sa_ready() {
	s3b_ready "$1" && azb_ready "$1" || return 1
	bench_navette_has replicate && command -v age-keygen >/dev/null
}
repl_sa_setup() {
	local k=$BENCH_DIR/work/repl-keys
	s3b_server || return 1
	export NAVETTE_STATE_DIR=$BENCH_DIR/work/repl-state
	if [ "${REPL_SA_SEEDED:-}" != "$SRC" ]; then
		rm -rf "$k" "$NAVETTE_STATE_DIR" && mkdir -p "$k" "$NAVETTE_STATE_DIR" &&
			chmod 700 "$NAVETTE_STATE_DIR" || return 1
		age-keygen -o "$k/id.txt" 2>/dev/null && ssh-keygen -q -t ed25519 -N '' -f "$k/sign" &&
			"$NAVETTE" init s3://bench/vault --recipient "$(age-keygen -y "$k/id.txt")" \
				--signing-key "$k/sign" &&
			"$NAVETTE" -q push "$SRC" s3://bench/vault --signing-key "$k/sign" --transfers 4 ||
			return 1
		REPL_SA_SEEDED=$SRC
	fi
}
repl_sa_prepare() {
	azb_start up && azb_env up || return 1
	BENCH_CLIENT_CPU=${AZB_CLIENT_CPU:-} BENCH_SERVER_PID=${AZB_PID[up]}
	{ cat "$AZB_CONF"; printf '[benchs3]\ntype = s3\nprovider = Other\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\nendpoint = %s\nregion = us-east-1\nforce_path_style = true\n' \
		"$AWS_ENDPOINT_URL"; } >"$STATE/rclone.conf" && chmod 600 "$STATE/rclone.conf"
}
repl_sa_run() {
	case $1 in
	navette) bench_run "$NAVETTE" -q replicate s3://bench/vault \
			"az://devstoreaccount1/bench/rep" --transfers 4 ;;
	# --fast-list: rclone's directory-by-directory walk of s3rver finds only the
	# top-level files of the vault (it copied 6 of 10,007); its recursive listing
	# finds them all.
	rclone) bench_run env -u AWS_CA_BUNDLE "$RCLONE" --config "$STATE/rclone.conf" copy \
			benchs3:bench/vault benchaz:bench/rep --transfers 4 --checkers 8 --fast-list ;;
	esac
}
repl_sa_check() {
	local n
	n=$("$RCLONE" --config "$STATE/rclone.conf" lsf -R --files-only benchaz:bench/rep | grep -c '^objects/')
	[ "$n" -eq $((DATA_FILES + 1)) ] || { echo "azure: $n objects, $((DATA_FILES + 1)) expected"; return 1; }
}
bench_case replicate-s3-azure-B data=B tools="navette rclone" target=1.5 rss=64 hooks=repl_sa \
	default=no desc="replicate a vault of B from s3rver to a fresh Azurite vs rclone copy; judged by client CPU s"
