# sftp.sh: runs the driver conformance suite against a real sshd, over both
# transports (libssh2, and SFTP through a child ssh), in both location forms,
# and checks that a run leaves nothing behind on the server.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
conf="$NV_BUILDDIR/tests/driver/nv-conformance"

# leaves_nothing DIR: the root exists and holds no file (no temp files either).
leaves_nothing() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 -type f | head -1)" ]; }

for NV_SFTP_TRANSPORT in libssh2 ssh; do
	t=$NV_SFTP_TRANSPORT
	# the URL form reads the transport (and ssh's config file) from the environment
	export NAVETTE_TRANSPORT=$t NAVETTE_SSH_CONFIG=$NV_SSHD_SSH_CONFIG
	nv_sshd_conf "$NV_SSHD_CONF" ssh root
	R=$NV_SSHD_DIR/remote/$t
	check "$t: NAME:path form (remote from the config file)" \
		env NAVETTE_CONFIG="$NV_SSHD_CONF" "$conf" "ssh:$R/named"
	check "$t: NAME:path run leaves no file" leaves_nothing "$R/named"
	check "$t: sftp:// URL form (settings from NAVETTE_*)" \
		env NAVETTE_KEY_FILE="$NV_SSHD_KEY" NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" \
		"$conf" "sftp://root@127.0.0.1:$NV_SSHD_PORT$R/url"
	check "$t: URL run leaves no file" leaves_nothing "$R/url"
	check "$t: few requests in flight (requests = 1)" \
		env NAVETTE_CONFIG="$NV_SSHD_CONF" NAVETTE_REMOTE_SSH_REQUESTS=1 "$conf" "ssh:$R/narrow"
	check "$t: requests = 3 (the read-ahead ring wraps)" \
		env NAVETTE_CONFIG="$NV_SSHD_CONF" NAVETTE_REMOTE_SSH_REQUESTS=3 "$conf" "ssh:$R/three"
done
nv_done
