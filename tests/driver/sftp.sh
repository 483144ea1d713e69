# sftp.sh: runs the driver conformance suite against a real sshd, in both
# location forms, and checks that a run leaves nothing behind on the server.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
conf="$NV_BUILDDIR/tests/driver/nv-conformance"
R=$NV_SSHD_DIR/remote

# leaves_nothing DIR: the root exists and holds no file (no temp files either).
leaves_nothing() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 -type f | head -1)" ]; }

check "NAME:path form (remote from the config file)" \
	env NAVETTE_CONFIG="$NV_SSHD_CONF" "$conf" "ssh:$R/named"
check "NAME:path run leaves no file" leaves_nothing "$R/named"
check "sftp:// URL form (settings from NAVETTE_*)" \
	env NAVETTE_KEY_FILE="$NV_SSHD_KEY" NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" \
	"$conf" "sftp://root@127.0.0.1:$NV_SSHD_PORT$R/url"
check "URL run leaves no file" leaves_nothing "$R/url"
check "few requests in flight (requests = 1)" \
	env NAVETTE_CONFIG="$NV_SSHD_CONF" NAVETTE_REMOTE_SSH_REQUESTS=1 "$conf" "ssh:$R/narrow"
nv_done
