# sftp.sh: SFTP cases (issue 4): navette against rclone's sftp remote and restic's sftp
# backend, all talking to one OpenSSH sshd on 127.0.0.1 (tests/servers/sshd.sh) as a
# non-root user whose shell (/bin/sh) starts fast. Sourced by bench/run.sh.
# rclone runs with --sftp-disable-hashcheck (otherwise it runs md5sum over SSH after
# every upload, which measures the remote shell, not the client) and shell_type = unix
# (no shell probe). restic encrypts and packs: its figure is shown beside, not compared.
# The server shares the machine: when sshd saturates the cores for every tool, compare
# the CPU seconds column (the client's own) rather than wall time.
# navette runs over both of its SFTP transports: the row "navette" with transport = ssh
# (its default: the stock ssh client, whose CPU is counted in navette's, since navette
# reaps it), "navette_libssh2" with transport = libssh2. SFTP_TRANSPORTS picks them
# (default "ssh libssh2"). "navette_gcm" is the row "navette" with AES-GCM put first in
# ssh's ciphers (its ssh_config), as rclone negotiates: ssh's default, chacha20-poly1305,
# costs ssh more CPU where the CPU has AES instructions (README, SFTP transports).

# sftp_bench_server: starts the sshd once for all the cases of a run; stopped at exit.
sftp_bench_server() {
	local home=$HOME
	[ -n "${NV_SSHD_PID:-}" ] && { BENCH_SERVER_PID=$NV_SSHD_PID; return 0; }
	# common.sh gives the port helpers and the exit hook; it also moves HOME, put back.
	NV_SRCDIR=$REPO . "$REPO/tests/lib/common.sh"
	bench_at_exit nv_cleanup # common.sh set its own EXIT trap: chain it with the others'
	export HOME=$home
	NV_SFTP_TRANSPORT=ssh # its configs: transport = ssh, ssh_config = an empty file
	. "$REPO/tests/servers/sshd.sh"
	nv_start_sshd && nv_sshd_user || return 1
	BENCH_SERVER_PID=$NV_SSHD_PID # its CPU (connection children included) is reported
	bench_server_track "$NV_SSHD_PID"
	SFTP_USER=$NV_SSHD_TEST_USER
	# navette: one remote named "bsftp"
	nv_sshd_conf "$NV_SSHD_DIR/bench.conf" bsftp "$SFTP_USER"
	printf 'Ciphers %s\n' "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com" \
		>"$NV_SSHD_DIR/ssh_config_gcm"
	# rclone: the same server and key; both host keys known (rclone 1.60 does not order
	# host-key algorithms by known_hosts, so it fails on the ecdsa key otherwise)
	printf '%s\n%s\n' "$NV_SSHD_KNOWN_ED25519" "$NV_SSHD_KNOWN_ECDSA" >"$NV_SSHD_DIR/known_all"
	printf '[bsftp]\ntype = sftp\nhost = 127.0.0.1\nport = %s\nuser = %s\nkey_file = %s\n%s\n' \
		"$NV_SSHD_PORT" "$SFTP_USER" "$NV_SSHD_KEY" \
		"known_hosts_file = $NV_SSHD_DIR/known_all
disable_hashcheck = true
shell_type = unix" >"$NV_SSHD_DIR/rclone.conf"
	chmod 600 "$NV_SSHD_DIR/rclone.conf"
	# restic: through ssh with the same key and known_hosts
	SFTP_RESTIC_CMD="ssh -p $NV_SSHD_PORT -i $NV_SSHD_KEY -o UserKnownHostsFile=$NV_SSHD_KNOWN"
	SFTP_RESTIC_CMD="$SFTP_RESTIC_CMD -o BatchMode=yes $SFTP_USER@127.0.0.1 -s sftp"
	openssl rand -hex 24 >"$NV_SSHD_DIR/restic.pw"
}

sftp_bench_ready() {
	[ "$(id -u)" = 0 ] || { echo "needs root (a second sshd, a test user)"; return 1; }
	[ -x /usr/sbin/sshd ] || { echo "no sshd (apt-get install openssh-server)"; return 1; }
	case $1 in
	navette_libssh2) sftp_bench_wanted libssh2 && bench_navette_has copy ;;
	navette*) sftp_bench_wanted ssh && bench_navette_has copy ;;
	rclone) command -v "$RCLONE" >/dev/null || { echo "no rclone (apt-get install rclone)"; return 1; } ;;
	restic) command -v "$RESTIC" >/dev/null || { echo "no restic (apt-get install restic)"; return 1; } ;;
	esac
}

# sftp_bench_wanted TRANSPORT: the transport is in SFTP_TRANSPORTS.
sftp_bench_wanted() {
	case " ${SFTP_TRANSPORTS:-ssh libssh2} " in
	*" $1 "*) return 0 ;;
	*) echo "transport $1 not in SFTP_TRANSPORTS"; return 1 ;;
	esac
}

# sftp_navette TRANSPORT RUNNER ARGS...: navette on the bench's remote over TRANSPORT
# (ssh-gcm: ssh with AES-GCM first).
sftp_navette() {
	local t=$1 run=$2 cfg=$NV_SSHD_SSH_CONFIG
	shift 2
	[ "$t" != ssh-gcm ] || { t=ssh; cfg=$NV_SSHD_DIR/ssh_config_gcm; }
	$run env NAVETTE_REMOTE_BSFTP_TRANSPORT="$t" NAVETTE_REMOTE_BSFTP_SSH_CONFIG="$cfg" \
		"$NAVETTE" --config "$NV_SSHD_DIR/bench.conf" "$@"
}

# sftp_restic RUNNER REPO ARGS...: restic on the repository directory REPO (RUNNER
# is bench_run for the timed command, "" otherwise).
sftp_restic() {
	local run=$1 repo=$2
	shift 2
	$run "$RESTIC" -q -r "sftp:$SFTP_USER@127.0.0.1:$repo" -o "sftp.command=$SFTP_RESTIC_CMD" \
		--password-file "$NV_SSHD_DIR/restic.pw" "$@"
}

# sftp_put TOOL DIR [RUNNER]: uploads $SRC into DIR on the server.
sftp_put() {
	local tool=$1 dst=$2 run=${3:-}
	case $tool in
	navette) sftp_navette ssh "$run" copy "$SRC" "bsftp:$dst" --fsync none --transfers 4 ;;
	navette_gcm) sftp_navette ssh-gcm "$run" copy "$SRC" "bsftp:$dst" --fsync none \
			--transfers 4 ;;
	navette_libssh2) sftp_navette libssh2 "$run" copy "$SRC" "bsftp:$dst" --fsync none \
			--transfers 4 ;;
	rclone) $run "$RCLONE" --config "$NV_SSHD_DIR/rclone.conf" copy "$SRC" "bsftp:$dst" \
			--transfers 4 --checkers 8 --sftp-disable-hashcheck ;;
	restic) sftp_restic "$run" "$dst" backup "$SRC" ;;
	esac
}

# sftp_get TOOL SRCDIR DST [RUNNER]: downloads SRCDIR from the server into DST.
sftp_get() {
	local tool=$1 from=$2 dst=$3 run=${4:-}
	case $tool in
	navette) sftp_navette ssh "$run" copy "bsftp:$from" "$dst" --fsync none --transfers 4 ;;
	navette_gcm) sftp_navette ssh-gcm "$run" copy "bsftp:$from" "$dst" --fsync none \
			--transfers 4 ;;
	navette_libssh2) sftp_navette libssh2 "$run" copy "bsftp:$from" "$dst" --fsync none \
			--transfers 4 ;;
	rclone) $run "$RCLONE" --config "$NV_SSHD_DIR/rclone.conf" copy "bsftp:$from" "$dst" \
			--transfers 4 --checkers 8 --sftp-disable-hashcheck ;;
	restic) sftp_restic "$run" "$from" restore latest --target "$dst" ;;
	esac
}

# Upload into a fresh directory the test user owns (hooks sftp_up_*).
sftp_up_ready() { sftp_bench_ready "$1"; }
sftp_up_setup() { sftp_bench_server; }
sftp_up_prepare() {
	mkdir -p "$RUN" && chown "$SFTP_USER" "$RUN" || return 1
	if [ "$1" = restic ]; then sftp_restic "" "$RUN/dst" init
	else mkdir -p "$RUN/dst" && chown "$SFTP_USER" "$RUN/dst"; fi
}
sftp_up_run() { sftp_put "$1" "$RUN/dst" bench_run; }
sftp_up_check() {
	case $1 in
	restic) sftp_restic "" "$RUN/dst" restore latest --target "$RUN/check" &&
		bench_same_tree "$SRC" "$RUN/check$SRC" ;;
	*) bench_same_tree "$SRC" "$RUN/dst" ;;
	esac
}

# Download: navette and rclone read $SRC itself through the server (same machine);
# restic restores a repository it filled once, untimed (hooks sftp_down_*).
sftp_down_ready() { sftp_bench_ready "$1"; }
sftp_down_setup() {
	sftp_bench_server || return 1
	[ "$1" = restic ] || return 0
	chown "$SFTP_USER" "$STATE" && sftp_restic "" "$STATE/repo" init &&
		sftp_put restic "$STATE/repo"
}
sftp_down_run() {
	case $1 in
	restic) sftp_get restic "$STATE/repo" "$RUN/dst" bench_run ;;
	*) sftp_get "$1" "$SRC" "$RUN/dst" bench_run ;;
	esac
}
sftp_down_check() {
	case $1 in
	restic) bench_same_tree "$SRC" "$RUN/dst$SRC" ;;
	*) bench_same_tree "$SRC" "$RUN/dst" ;;
	esac
}

# targets: issue 16 (copy A >= 1.5x rclone, B >= 2x), for the row "navette" (ssh)
SFTP_TOOLS="navette navette_gcm navette_libssh2 rclone restic"
bench_case sftp-up-A data=A tools="$SFTP_TOOLS" target=1.5 rss=64 hooks=sftp_up \
	desc="copy of data set A to a local sshd (non-root user), fresh directory; MB/s"
bench_case sftp-down-A data=A tools="$SFTP_TOOLS" target=1.0 rss=64 hooks=sftp_down \
	desc="copy of data set A from a local sshd into an empty directory; MB/s"
bench_case sftp-up-B data=B tools="$SFTP_TOOLS" target=2.0 rss=64 hooks=sftp_up \
	desc="copy of data set B (10,000 x 4 KiB) to a local sshd, fresh directory; files/s"
