# sftp_agent.sh: ssh-agent authentication against a real sshd: a key held by an
# agent of the test's own (socket in the test's temp dir, killed at exit) logs in
# with no key_file configured; an agent holding no accepted key, or none, or an
# agent that is not there, is refused (exit 2) with a message saying so.
# Over transport = ssh (tests/integration/ssh/), ssh asks the agent itself:
# the same outcomes, and the message quotes ssh's refusal instead of what
# was tried.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null ||
	nv_need "ssh-agent and ssh-add (openssh-client)"
nv_start_sshd
unset SSH_AGENT_PID SSHPASS
D=$NV_SSHD_DIR/data
mkdir -p "$D/sub" && echo x >"$D/f" && echo y >"$D/sub/g"
C=$NV_TMP/nv.conf
nv_sshd_conf "$C" ssh root
sed -i '/^key_file = /d' "$C"   # no key file: the agent is the only credential
run_ls() { "$NAVETTE" --config "$C" ls "ssh:$D"; }
# tried TEXT DESCRIPTION: the message of a refusal says what was tried.
tried() {
	if [ "$NV_SFTP_TRANSPORT" = libssh2 ]; then expect_err "$1" "$2"
	else expect_err "authentication refused \(ssh: .*Permission denied \(publickey" \
		"$2 (ssh: Permission denied)"; fi
}

# The agent, on a socket of our own; -D keeps it in the foreground so that $!
# is its pid (killed at exit, never by name).
export SSH_AUTH_SOCK=$NV_TMP/agent.sock
ssh-agent -D -a "$SSH_AUTH_SOCK" >"$NV_TMP/agent.log" 2>&1 &
agent_pid=$!
nv_at_exit "kill $agent_pid"
for _ in $(seq 1 100); do [ -S "$SSH_AUTH_SOCK" ] && break; sleep 0.05; done
[ -S "$SSH_AUTH_SOCK" ] || nv_die "ssh-agent did not start: $(cat "$NV_TMP/agent.log")"

# No identity in the agent yet.
expect_exit 2 "an empty agent: authentication refused (exit 2)" run_ls
expect_err "authentication refused" "  the message says authentication was refused"
tried "tried: ssh-agent \\(holds no keys\\)" "  and that the agent holds no keys"
expect_err "root@127.0.0.1:$NV_SSHD_PORT" "  naming user, host and port"

# A key the server does not know.
ssh-keygen -q -t ed25519 -N '' -f "$NV_TMP/stranger" -C stranger
ssh-add -q "$NV_TMP/stranger" 2>/dev/null || nv_die "ssh-add stranger"
expect_exit 2 "an agent holding no accepted key: refused (exit 2)" run_ls
expect_err "authentication refused" "  the message says authentication was refused"
tried "tried: ssh-agent \\(1 key refused\\)" "  and that the agent's one key was refused"

# The authorized key added: the same configuration now logs in, also with
# the refused key listed first.
ssh-add -q "$NV_SSHD_KEY" 2>/dev/null || nv_die "ssh-add"
expect_exit 0 "the agent's key logs in with no key_file" run_ls
check "the listing is the server's" grep -q ' sub/g$' "$NV_TMP/out"
# Every worker opens its own session and asks the agent each time.
mkdir -p "$NV_TMP/src"
for i in 1 2 3 4 5 6; do echo "file $i" >"$NV_TMP/src/f$i"; done
expect_exit 0 "copy with 4 transfers, each connection through the agent" \
	"$NAVETTE" --config "$C" copy --transfers 4 "$NV_TMP/src" "ssh:$D/up"
check "  every file landed" diff -r -x navette-lease "$NV_TMP/src" "$D/up"
expect_exit 0 "URL form: the agent logs in as well" env NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" \
	"$NAVETTE" ls "sftp://root@127.0.0.1:$NV_SSHD_PORT$D"
check "  the listing is the server's" grep -q ' sub/g$' "$NV_TMP/out"

# A key_file the server refuses: the agent is tried next (README: key_file, then agent).
nv_sshd_conf "$C" ssh root "key_file = $NV_TMP/stranger"
sed -i "\\|^key_file = $NV_SSHD_KEY\$|d" "$C"
expect_exit 0 "a refused key_file falls back to the agent" run_ls

# Without the agent's socket in the environment the agent is not asked.
nv_sshd_conf "$C" ssh root
sed -i '/^key_file = /d' "$C"
expect_exit 2 "SSH_AUTH_SOCK unset: nothing configured (exit 2)" env -u SSH_AUTH_SOCK \
	"$NAVETTE" --config "$C" ls "ssh:$D"
tried "nothing configured" "  the message says no credential was configured"
# An agent that is not there (a stale SSH_AUTH_SOCK).
expect_exit 2 "SSH_AUTH_SOCK naming no agent: refused (exit 2)" \
	env SSH_AUTH_SOCK="$NV_TMP/no-agent.sock" "$NAVETTE" --config "$C" ls "ssh:$D"
tried "ssh-agent \\(none reachable at \\\$SSH_AUTH_SOCK\\)" "  the message says no agent answered"

# The agent emptied again: refused.
ssh-add -q -D 2>/dev/null || nv_die "ssh-add -D"
expect_exit 2 "the agent emptied: refused again (exit 2)" run_ls
tried "ssh-agent \\(holds no keys\\)" "  the agent holds no keys"
nv_done
