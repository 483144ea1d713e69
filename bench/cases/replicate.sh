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
