# sshd.sh: a real OpenSSH sshd on 127.0.0.1 for the sftp tests (sourced after common.sh).
# nv_start_sshd starts it (again, on the same port and keys, after nv_stop_sshd);
# nv_stop_sshd stops the listener and every session it forked. Exports:
#   NV_SSHD_PORT, NV_SSHD_DIR (a 0755 dir under /tmp, cleaned at exit),
#   NV_SSHD_KEY (client private key, authorized for root and the test user),
#   NV_SSHD_KNOWN (known_hosts with the ed25519 host key as [127.0.0.1]:PORT),
#   NV_SSHD_KNOWN_ED25519 / NV_SSHD_KNOWN_ECDSA (one known_hosts line each),
#   NV_SSHD_CONF (a 0600 navette config with remote "ssh": root, key, known_hosts),
#   NV_SSHD_SSH_CONFIG (an ssh_config for transport = ssh, see below).
# Set NV_SSHD_PASSWORD_AUTH=yes before the first start to allow password logins.
# The sftp transport under test: NV_SFTP_TRANSPORT (libssh2 unless set: the
# tests/integration/ssh/ wrappers run the same tests with ssh), written into
# every config nv_sshd_conf makes and exported as NAVETTE_TRANSPORT for the
# sftp:// URL forms. With ssh, both also name NV_SSHD_SSH_CONFIG (ssh -F: an
# ssh_config of the test's own, empty at first), so that no ~/.ssh/config or
# /etc/ssh/ssh_config of the machine changes what a test sees.
NV_SSHD_BIN=/usr/sbin/sshd
NV_SFTP_TRANSPORT=${NV_SFTP_TRANSPORT:-libssh2}
export NAVETTE_TRANSPORT=$NV_SFTP_TRANSPORT
NV_SSHD_TEST_USER=navette-sftp-test

nv_sshd_setup() {
	local d
	command -v ssh-keygen >/dev/null && command -v ssh >/dev/null && [ -x "$NV_SSHD_BIN" ] ||
		nv_need "openssh-server and openssh-client (sshd, ssh, ssh-keygen)"
	[ "$(id -u)" = 0 ] || nv_need "root (sshd on its own port, test user)"
	d=$(mktemp -d /tmp/navette-sshd.XXXXXX) || nv_die "mktemp"
	chmod 755 "$d"
	NV_SSHD_DIR=$d
	nv_at_exit "nv_stop_sshd; rm -rf '$d'"
	NV_SSHD_PORT=$(nv_free_port) || nv_die "no free port"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" -C host || nv_die "host key"
	ssh-keygen -q -t ecdsa -N '' -f "$d/host_ecdsa" -C host || nv_die "host key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client" -C navette-test || nv_die "client key"
	cp "$d/client.pub" "$d/authorized_keys"
	chmod 644 "$d/authorized_keys"
	NV_SSHD_KEY=$d/client
	NV_SSHD_KNOWN_ED25519="[127.0.0.1]:$NV_SSHD_PORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")"
	NV_SSHD_KNOWN_ECDSA="[127.0.0.1]:$NV_SSHD_PORT $(cut -d' ' -f1,2 "$d/host_ecdsa.pub")"
	NV_SSHD_KNOWN=$d/known_hosts
	echo "$NV_SSHD_KNOWN_ED25519" >"$NV_SSHD_KNOWN"
	cat >"$d/sshd_config" <<-EOF
	Port $NV_SSHD_PORT
	ListenAddress 127.0.0.1
	HostKey $d/host_ed25519
	HostKey $d/host_ecdsa
	PidFile $d/sshd.pid
	AuthorizedKeysFile $d/authorized_keys
	PubkeyAuthentication yes
	PasswordAuthentication ${NV_SSHD_PASSWORD_AUTH:-no}
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	UsePAM no
	StrictModes no
	Subsystem sftp internal-sftp
	MaxStartups 100:30:200
	MaxSessions 100
	LogLevel ERROR
	EOF
	NV_SSHD_SSH_CONFIG=$d/ssh_config
	: >"$NV_SSHD_SSH_CONFIG"
	chmod 600 "$NV_SSHD_SSH_CONFIG"
	[ "$NV_SFTP_TRANSPORT" != ssh ] || export NAVETTE_SSH_CONFIG=$NV_SSHD_SSH_CONFIG
	NV_SSHD_CONF=$d/navette.conf
	nv_sshd_conf "$NV_SSHD_CONF" ssh root
	export NV_SSHD_PORT NV_SSHD_DIR NV_SSHD_KEY NV_SSHD_KNOWN NV_SSHD_KNOWN_ED25519 \
		NV_SSHD_KNOWN_ECDSA NV_SSHD_CONF NV_SSHD_SSH_CONFIG
}

# nv_sshd_conf FILE REMOTE USER [extra "key = value" lines...]: a 0600 config
# file holding one sftp remote for this sshd.
nv_sshd_conf() {
	local f=$1 name=$2 user=$3 line
	shift 3
	{
		printf '[%s]\ntype = sftp\nhost = 127.0.0.1\nport = %s\nuser = %s\n' \
			"$name" "$NV_SSHD_PORT" "$user"
		printf 'key_file = %s\nknown_hosts = %s\ntimeout = 10\n' "$NV_SSHD_KEY" "$NV_SSHD_KNOWN"
		printf 'transport = %s\n' "$NV_SFTP_TRANSPORT"
		[ "$NV_SFTP_TRANSPORT" != ssh ] || printf 'ssh_config = %s\n' "$NV_SSHD_SSH_CONFIG"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$f"
	chmod 600 "$f"
}

nv_start_sshd() {
	[ -n "${NV_SSHD_DIR:-}" ] || nv_sshd_setup
	mkdir -p /run/sshd && chmod 755 /run/sshd
	"$NV_SSHD_BIN" -D -e -f "$NV_SSHD_DIR/sshd_config" 2>>"$NV_SSHD_DIR/sshd.log" &
	NV_SSHD_PID=$!
	nv_wait_port "$NV_SSHD_PORT" 20 || { cat "$NV_SSHD_DIR/sshd.log" >&2; nv_die "sshd did not start"; }
}

# Every process below pid $1 (sshd forks one per connection, and privsep children).
nv_sshd_descendants() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		nv_sshd_descendants "$child"
		echo "$child"
	done
}

# nv_stop_sshd [SIGNAL]: the listener and all its sessions (default KILL).
nv_stop_sshd() {
	local pids
	[ -n "${NV_SSHD_PID:-}" ] || return 0
	pids="$(nv_sshd_descendants "$NV_SSHD_PID") $NV_SSHD_PID"
	# shellcheck disable=SC2086
	kill -"${1:-KILL}" $pids 2>/dev/null
	wait "$NV_SSHD_PID" 2>/dev/null
	NV_SSHD_PID=
}

# nv_sshd_user: a non-root login with the same client key (root ignores
# permissions), home $NV_SSHD_USER_HOME (shared by runs: use a subdirectory of
# your own). useradd leaves the account locked, and with UsePAM no sshd then
# refuses even its key, hence usermod -p '*'.
NV_SSHD_USER_HOME=/tmp/navette-sftp-test-home
nv_sshd_user() {
	if ! id "$NV_SSHD_TEST_USER" >/dev/null 2>&1; then
		useradd -M -d "$NV_SSHD_USER_HOME" -s /bin/sh "$NV_SSHD_TEST_USER" 2>/dev/null ||
			id "$NV_SSHD_TEST_USER" >/dev/null 2>&1 || nv_die "useradd"
	fi
	# Only when locked: a concurrent test may have given it a password meanwhile.
	case $(getent shadow "$NV_SSHD_TEST_USER" | cut -d: -f2) in
	'!'*) usermod -p '*' "$NV_SSHD_TEST_USER" || nv_die "usermod" ;;
	esac
	mkdir -p "$NV_SSHD_USER_HOME"
	chown "$NV_SSHD_TEST_USER" "$NV_SSHD_USER_HOME"
	chmod 755 "$NV_SSHD_USER_HOME"
}
