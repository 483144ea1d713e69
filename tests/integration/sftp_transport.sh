# sftp_transport.sh: what only the ssh transport does, against a real sshd:
# which transport a location gets by default; host, user and paths that could
# become ssh options refused or quoted; ssh's own configuration honoured (a
# Host alias, ProxyJump, ControlMaster, Ciphers) except where navette's rules
# win (StrictHostKeyChecking); no ssh process left behind.
. "$NV_SRCDIR/tests/lib/common.sh"
NV_SFTP_TRANSPORT=ssh
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
unset SSH_AUTH_SOCK SSHPASS NAVETTE_TRANSPORT NAVETTE_SSH_CONFIG
D=$NV_SSHD_DIR/data
mkdir -p "$D/sub" && echo x >"$D/f" && echo y >"$D/sub/g"
C=$NV_TMP/nv.conf
lacks() { ! grep -q "$@"; }

# ---- the default transport ----
nv_sshd_conf "$C" ssh root
sed -i '/^transport = /d; /^ssh_config = /d' "$C"
expect_exit 0 "no transport set, no password: ssh" "$NAVETTE" -vv --config "$C" ls "ssh:$D"
expect_err "connecting \\(transport ssh\\)" "  the debug log says ssh"
expect_err "transport ssh: ssh -x -a -T .* -s -- 127\\.0\\.0\\.1 sftp$" "  and its command line"
expect_exit 0 "no ssh in PATH: libssh2" env PATH=/nonexistent "$NAVETTE" -vv --config "$C" ls "ssh:$D"
expect_err "connecting \\(transport libssh2\\)" "  the debug log says libssh2"
expect_exit 0 "a password set: libssh2 (ssh would have to prompt for it)" \
	env NAVETTE_REMOTE_SSH_PASSWORD=secret-pw "$NAVETTE" -vv --config "$C" ls "ssh:$D"
expect_err "connecting \\(transport libssh2\\)" "  the debug log says libssh2"
check "  and the password appears nowhere" lacks secret-pw "$NV_TMP/err"
expect_exit 2 "an ssh_command that is not there: an error, not libssh2" \
	env NAVETTE_REMOTE_SSH_SSH_COMMAND=/nonexistent/ssh "$NAVETTE" --config "$C" ls "ssh:$D"
expect_err "cannot run ssh_command '/nonexistent/ssh': No such file or directory" "  naming it"
expect_exit 2 "transport = telnet: a configuration error" \
	env NAVETTE_REMOTE_SSH_TRANSPORT=telnet "$NAVETTE" --config "$C" ls "ssh:$D"
expect_err "transport must be 'ssh' or 'libssh2' \\(got 'telnet'\\)" "  saying what it takes"

# ---- nothing becomes an ssh option ----
nv_sshd_conf "$C" ssh root
for bad in "-oProxyCommand=touch $NV_TMP/pwned" "-F/dev/null" "127.0.0.1 -oProxyCommand=x"; do
	expect_exit 2 "host '$bad' refused" env NAVETTE_REMOTE_SSH_HOST="$bad" \
		"$NAVETTE" --config "$C" ls "ssh:$D"
	expect_err "host '.*' is not a host name or address ssh could take" "  as no host"
done
expect_exit 2 "user '-oProxyCommand=...' refused" \
	env NAVETTE_REMOTE_SSH_USER="-oProxyCommand=touch $NV_TMP/pwned" "$NAVETTE" --config "$C" ls "ssh:$D"
expect_err "user '-oProxyCommand=touch .*' cannot be passed to ssh" "  as no user"
expect_exit 2 "URL form: a host starting with '-' refused" \
	env NAVETTE_TRANSPORT=ssh "$NAVETTE" ls "sftp://root@-oProxyCommand=touch%20x/tmp"
expect_err "is not a host name or address ssh could take" "  as no host"
check "no command ran" test ! -e "$NV_TMP/pwned"

# Paths with a blank, '%' (a token for ssh), quotes and a backslash reach ssh whole.
odd="$NV_TMP/odd dir %d \"q\" \\ x"
mkdir -p "$odd"
cp "$NV_SSHD_KEY" "$odd/key %h"; cp "$NV_SSHD_KNOWN" "$odd/known %u"
{
	printf '[ssh]\ntype = sftp\nhost = 127.0.0.1\nport = %s\nuser = root\n' "$NV_SSHD_PORT"
	printf 'key_file = %s\nknown_hosts = %s\n' "$odd/key %h" "$odd/known %u"
	printf 'transport = ssh\nssh_config = %s\n' "$NV_SSHD_SSH_CONFIG"
} >"$C"
expect_exit 0 "key_file and known_hosts with blanks, %, quotes and a backslash" \
	"$NAVETTE" --config "$C" ls "ssh:$D"
check "  the listing is the server's" grep -q ' sub/g$' "$NV_TMP/out"

# ---- ssh's own configuration ----
S=$NV_TMP/ssh_config
cat >"$S" <<EOF
Host jump
	HostName 127.0.0.1
	Port $NV_SSHD_PORT
	User root
	IdentityFile $NV_SSHD_KEY
	UserKnownHostsFile $NV_SSHD_KNOWN
	BatchMode yes
Host target
	HostName 127.0.0.1
	Port $NV_SSHD_PORT
	User root
	IdentityFile $NV_SSHD_KEY
	UserKnownHostsFile $NV_SSHD_KNOWN
EOF
export NAVETTE_TRANSPORT=ssh NAVETTE_SSH_CONFIG=$S
# no user, port, key or known_hosts in navette's settings: all from the Host entry
expect_exit 0 "a Host alias of ssh_config, nothing else set" "$NAVETTE" ls "sftp://target$D"
check "  the listing is the server's" grep -q ' sub/g$' "$NV_TMP/out"
mkdir -p "$NV_TMP/src"; for i in 1 2 3 4 5 6; do echo "file $i" >"$NV_TMP/src/f$i"; done
expect_exit 0 "copy through the alias, 4 transfers" \
	"$NAVETTE" copy --transfers 4 "$NV_TMP/src" "sftp://target$D/up"
check "  every file landed" diff -r -x navette-lease "$NV_TMP/src" "$D/up"
ssh_left() { ps -eo args= | grep -F -- "$S" | grep -v grep | grep -q '^ssh '; }
check "  no ssh process left" eval '! ssh_left'

# Ciphers of ssh_config: chacha20-poly1305 (libssh2 1.10 has none of OpenSSH's
# AEAD ciphers) works; one the server does not offer is a configuration error.
cp "$S" "$S.base"
printf 'Host target\n\tCiphers chacha20-poly1305@openssh.com\n' | cat - "$S.base" >"$S"
expect_exit 0 "Ciphers chacha20-poly1305@openssh.com from ssh_config" "$NAVETTE" ls "sftp://target$D"
printf 'Host target\n\tCiphers 3des-cbc\n' | cat - "$S.base" >"$S"
expect_exit 2 "a cipher the server does not offer: exit 2" "$NAVETTE" ls "sftp://target$D"
expect_err "ssh and the server share no algorithm \\(ssh: Unable to negotiate" "  saying so"

# StrictHostKeyChecking no in ssh_config does not weaken navette's rule.
printf 'Host target\n\tStrictHostKeyChecking no\n\tUserKnownHostsFile /dev/null\n' |
	cat - "$S.base" >"$S"
expect_exit 2 "ssh_config's StrictHostKeyChecking no: still refused" "$NAVETTE" ls "sftp://target$D"
expect_err "unknown host key" "  as an unknown host key"

# ProxyJump: the connection goes through the jump host (the same sshd), seen
# while the run holds still after its listing started.
printf 'Host target\n\tProxyJump jump\n' | cat - "$S.base" >"$S"
touch "$NV_TMP/hold"
NAVETTE_FAULT=list@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" "$NAVETTE" ls "sftp://target$D" \
	>"$NV_TMP/pj.out" 2>"$NV_TMP/pj.err" &
pid=$!
nv_at_exit "rm -f '$NV_TMP/hold'; kill $pid"
jumping() {
	for _ in $(seq 1 300); do
		ps -eo args= | grep -F -- "$S" | grep -q -- ' -W ' && return 0
		sleep 0.1
	done
	return 1
}
check "ProxyJump: ssh -W runs through the jump host" jumping
rm -f "$NV_TMP/hold"
wait "$pid"; rc=$?
check "  and the listing completes (exit $rc)" test "$rc" = 0
check "  with the server's files" grep -q ' sub/g$' "$NV_TMP/pj.out"

# ControlMaster: the workers' sessions share one master, which stays (ControlPersist).
printf 'Host target\n\tControlMaster auto\n\tControlPath %s/cm-%%C\n\tControlPersist 60\n' \
	"$NV_TMP" | cat - "$S.base" >"$S"
nv_at_exit "ssh -F '$S' -O exit target"
expect_exit 0 "ControlMaster auto: copy with 4 transfers" \
	"$NAVETTE" copy --transfers 4 "$NV_TMP/src" "sftp://target$D/cm"
check "  every file landed" diff -r -x navette-lease "$NV_TMP/src" "$D/cm"
check "  the master runs on" ssh -F "$S" -O check target
ssh -F "$S" -O exit target 2>/dev/null
nv_done
