# sftp_auth.sh: authentication and permissions against a real sshd: wrong key,
# unreadable or too-open key file, passphrase-protected key, a non-root user
# refused by a directory's permissions, home-relative paths; passwords (config,
# environment, URL) that appear in no output. Over transport = ssh (the
# tests/integration/ssh/ wrapper) the same, but that ssh takes its default
# identities from its ssh_config and takes no secret: a passphrase or a
# password is refused before anything runs, and named in no message.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
NV_SSHD_PASSWORD_AUTH=yes nv_start_sshd
unset SSH_AUTH_SOCK SSHPASS
D=$NV_SSHD_DIR/data
mkdir -p "$D" && echo x >"$D/f"
C=$NV_TMP/nv.conf
run_ls() { "$NAVETTE" --config "$C" ls "ssh:$D"; }

ssh-keygen -q -t ed25519 -N '' -f "$NV_TMP/stranger" -C stranger
nv_sshd_conf "$C" ssh root "key_file = $NV_TMP/stranger"
sed -i "/^key_file = $(sed 's/[\/&]/\\&/g' <<<"$NV_SSHD_KEY")\$/d" "$C"
expect_exit 2 "a key the server does not know: auth error (exit 2)" run_ls
expect_err "authentication refused" "message says authentication was refused"
expect_err "root@127.0.0.1:$NV_SSHD_PORT" "message names user, host and port"

nv_sshd_conf "$C" ssh root
sed -i "s|^key_file = .*|key_file = $NV_TMP/nonexistent|" "$C"
expect_exit 2 "a missing key file is refused" run_ls
cp "$NV_SSHD_KEY" "$NV_TMP/open-key"; chmod 644 "$NV_TMP/open-key"
sed -i "s|^key_file = .*|key_file = $NV_TMP/open-key|" "$C"
expect_exit 2 "a key file readable by others is refused" run_ls
expect_err "open-key" "message names the key file"

# "~/" in paths; without key_file, ~/.ssh/id_ed25519 is tried as ssh does.
mkdir -p "$HOME/keys" "$HOME/.ssh"; chmod 700 "$HOME/.ssh"
cp "$NV_SSHD_KEY" "$HOME/keys/client"; cp "$NV_SSHD_KNOWN" "$HOME/keys/known"
nv_sshd_conf "$C" ssh root
sed -i 's|^key_file = .*|key_file = ~/keys/client|; s|^known_hosts = .*|known_hosts = ~/keys/known|' "$C"
expect_exit 0 "key_file and known_hosts given as ~/..." run_ls
sed -i '/^key_file = /d' "$C"
expect_exit 2 "no key_file and no default identity: refused" run_ls
cp "$NV_SSHD_KEY" "$HOME/.ssh/id_ed25519"
if [ "$NV_SFTP_TRANSPORT" = libssh2 ]; then
	expect_exit 0 "no key_file: ~/.ssh/id_ed25519 is used" run_ls
else # ssh's ~ is the passwd entry's home, not $HOME: its ssh_config names the key
	echo "IdentityFile $HOME/.ssh/id_ed25519" >"$NV_SSHD_SSH_CONFIG"
	expect_exit 0 "no key_file: the IdentityFile of ssh_config is used" run_ls
	: >"$NV_SSHD_SSH_CONFIG"
fi
rm -f "$HOME/.ssh/id_ed25519"

# A passphrase-protected key: from key_passphrase_file, wrong, missing.
ssh-keygen -q -t ed25519 -N 'correct horse' -f "$NV_TMP/locked" -C locked
cat "$NV_TMP/locked.pub" >>"$NV_SSHD_DIR/authorized_keys"
printf 'correct horse\n' >"$NV_TMP/pass"; chmod 600 "$NV_TMP/pass"
nv_sshd_conf "$C" ssh root "key_passphrase_file = $NV_TMP/pass"
sed -i "s|^key_file = .*|key_file = $NV_TMP/locked|" "$C"
if [ "$NV_SFTP_TRANSPORT" = libssh2 ]; then
	expect_exit 0 "passphrase-protected key with key_passphrase_file" run_ls
	expect_exit 0 "passphrase from the environment (NAVETTE_REMOTE_SSH_KEY_PASSPHRASE)" \
		env NAVETTE_REMOTE_SSH_KEY_PASSPHRASE='correct horse' \
		NAVETTE_REMOTE_SSH_KEY_PASSPHRASE_FILE= "$NAVETTE" --config "$C" ls "ssh:$D"
else
	expect_exit 2 "transport = ssh refuses a key_passphrase (ssh would have to prompt)" run_ls
	expect_err "transport = ssh takes no key_passphrase" "  and says so"
fi
expect_exit 2 "wrong passphrase" env NAVETTE_REMOTE_SSH_KEY_PASSPHRASE=Tr0ub4dor-guess \
	"$NAVETTE" --config "$C" ls "ssh:$D"
expect_err "passphrase" "message mentions the passphrase"
lacks() { ! grep -q "$@"; }
check "the passphrase never appears in messages" lacks 'Tr0ub4dor\|correct horse' "$NV_TMP/err"
nv_sshd_conf "$C" ssh root
sed -i "s|^key_file = .*|key_file = $NV_TMP/locked|" "$C"
expect_exit 2 "encrypted key without a passphrase: error, no prompt" run_ls </dev/null

# A non-root user: permissions apply. Home-relative paths resolve in its home.
U=$(nv_sshd_user; echo "$NV_SSHD_TEST_USER")
H=$NV_SSHD_USER_HOME/run.$$
mkdir -p "$H/mine" "$NV_SSHD_DIR/locked"
echo hi >"$H/mine/hello"
chown -R "$U" "$H"
chmod 755 "$NV_SSHD_DIR/locked"        # root's: others may read, not write
nv_sshd_conf "$C" u "$U"
mkdir -p "$NV_TMP/src"; echo data >"$NV_TMP/src/file"
expect_exit 0 "non-root user logs in and lists (NAME:path, home-relative)" \
	"$NAVETTE" --config "$C" ls "u:run.$$/mine"
check "home-relative listing found the file" grep -q 'hello$' "$NV_TMP/out"
expect_exit 0 "URL form /~/ is home-relative" env NAVETTE_KEY_FILE="$NV_SSHD_KEY" \
	NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" "$NAVETTE" ls "sftp://$U@127.0.0.1:$NV_SSHD_PORT/~/run.$$/mine"
check "/~/ listing found the file" grep -q 'hello$' "$NV_TMP/out"
"$NAVETTE" --config "$C" copy "$NV_TMP/src" "u:$NV_SSHD_DIR/locked/dst" >"$NV_TMP/out" 2>"$NV_TMP/err"
rc=$?
# Exit 4 since copy takes the lease at DST first: making DST is refused.
check "copy into a directory the user may not write stops (exit $rc, wanted 4)" [ "$rc" = 4 ]
expect_err "^navette: error: sftp $U@127\.0\.0\.1:$NV_SSHD_PORT: creating directory $NV_SSHD_DIR/locked/dst: permission denied\$" \
	"message names the user, the directory and permission denied"
check "nothing was created there" [ -z "$(ls -A "$NV_SSHD_DIR/locked")" ]
expect_exit 0 "the same user may write its own directory" \
	"$NAVETTE" --config "$C" copy "$NV_TMP/src" "u:run.$$/mine/up"
check "file landed, owned by the user" [ "$(stat -c %U "$H/mine/up/file")" = "$U" ]

# Passwords: from the environment or the config file only, never in messages.
# The test user is one for the whole machine, and the ssh/ twin of this test
# runs beside it: its password is set, used and reset under one lock (held to
# the end), or one run would reset the password the other is logging in with.
exec 9>"$NV_SSHD_USER_HOME.pwlock"
flock -w 600 9 || nv_die "the test user's password lock"
pw=$(openssl rand -hex 12)
nv_at_exit "usermod -p '*' $U"
usermod -p "$(openssl passwd -6 "$pw")" "$U" || nv_die "usermod"
nv_sshd_conf "$C" pw "$U"
sed -i '/^key_file = /d' "$C"
expect_exit 2 "no key and no password: auth error" "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
if [ "$NV_SFTP_TRANSPORT" = ssh ]; then
	expect_err "authentication refused \(ssh: .*Permission denied" "message quotes ssh's refusal"
	# ssh takes no password: refused before anything runs, from the environment,
	# the config file or the URL, and in no message
	expect_exit 2 "transport = ssh refuses a password (ssh would have to prompt)" \
		env NAVETTE_REMOTE_PW_PASSWORD="$pw" "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
	expect_err "transport = ssh takes no password" "  and says so"
	check "  without the password" lacks "$pw" "$NV_TMP/err"
	expect_exit 2 "  from the URL too" env NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN" "$NAVETTE" ls \
		"sftp://$U:$pw@127.0.0.1:$NV_SSHD_PORT/~/run.$$/mine"
	expect_err "^navette: error: sftp://127.0.0.1:$NV_SSHD_PORT/~/run.$$/mine: sftp: 'sftp://127.0.0.1:$NV_SSHD_PORT/~/run.$$/mine': transport = ssh takes no password" \
		"  named without user:password@"
	check "  without the password" lacks "$pw" "$NV_TMP/err"
	usermod -p '*' "$U"
	rm -rf "$H"
	nv_done
	exit
fi
expect_err "nothing configured" "message says no credential was configured"
expect_exit 0 "password from NAVETTE_REMOTE_PW_PASSWORD" \
	env NAVETTE_REMOTE_PW_PASSWORD="$pw" "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
expect_exit 0 "password from SSHPASS" env SSHPASS="$pw" "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
expect_exit 2 "wrong password refused" \
	env NAVETTE_REMOTE_PW_PASSWORD=Tr0ub4dor-guess "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
check "the password never appears in messages" lacks 'Tr0ub4dor' "$NV_TMP/err"
echo "password = $pw" >>"$C"
expect_exit 0 "password from the config file" "$NAVETTE" --config "$C" ls "pw:run.$$/mine"
check "the password never appears in output" lacks "$pw" "$NV_TMP/out" "$NV_TMP/err"

# A password in the URL (user:password@host) logs in, and appears in no
# message, log line, metrics label or lock file: every location is printed
# without it.
url() { echo "sftp://$U:$1@127.0.0.1:$NV_SSHD_PORT/~/run.$$/$2"; }
export NAVETTE_KNOWN_HOSTS="$NV_SSHD_KNOWN"
expect_exit 2 "a wrong password in the URL is refused" "$NAVETTE" ls "$(url Tr0ub4dor-guess mine)"
expect_err "$U@127.0.0.1:$NV_SSHD_PORT" "the message names user, host and port"
check "and not the password" lacks 'Tr0ub4dor' "$NV_TMP/err"
expect_exit 0 "the password in the URL logs in" "$NAVETTE" ls "$(url "$pw" mine)"
check "ls output without it" lacks "$pw" "$NV_TMP/out" "$NV_TMP/err"
mkdir -p "$NV_TMP/empty"
expect_exit 4 "a refused sync names the destination" "$NAVETTE" sync --delete "$NV_TMP/empty" "$(url "$pw" mine)"
expect_err " at sftp://127.0.0.1:$NV_SSHD_PORT/~/run.$$/mine would be deleted" \
	"without user:password@ (as in every message: nv_location_public)"
check "the guard's message lacks it" lacks "$pw" "$NV_TMP/err"
expect_exit 0 "a sync, logged as JSON, with metrics" "$NAVETTE" --log-json -v sync "$NV_TMP/src" \
	"$(url "$pw" up2)" --metrics-file "$NV_TMP/m.prom"
check "the JSON log lacks it" lacks "$pw" "$NV_TMP/err"
check "the metrics file lacks it" lacks "$pw" "$NV_TMP/m.prom"
expect_exit 2 "a bad port" "$NAVETTE" ls "sftp://$U:$pw@127.0.0.1:99999/x"
check "its message lacks it" lacks "$pw" "$NV_TMP/err"
# a run held at its first file (after its lock and lease): the lock file and
# a second run's refusal name the holder and the place, not the password
touch "$NV_TMP/hold"; echo more >"$NV_TMP/src/more"
NAVETTE_FAULT=write_commit@2=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" \
	"$NAVETTE" sync "$NV_TMP/src" "$(url "$pw" up2)" 2>/dev/null &
holder=$!
for _ in $(seq 1 100); do
	[ -s "$(ls "$HOME"/.local/state/navette/locks/*.lock 2>/dev/null | head -1)" ] && break
	sleep 0.1
done
check "the lock names the place without the password" \
	grep -q "writing to sftp://$U@127.0.0.1:$NV_SSHD_PORT/~/run.$$/up2)" "$HOME"/.local/state/navette/locks/*.lock
check "the lock file lacks it" lacks -r "$pw" "$HOME/.local/state/navette/locks"
expect_exit 4 "a second sync while the first holds the lock" "$NAVETTE" sync "$NV_TMP/src" "$(url "$pw" up2)"
expect_err "is locked by navette sync" "the holder named"
check "the refusal lacks it" lacks "$pw" "$NV_TMP/err"
rm "$NV_TMP/hold"; wait "$holder"; rc=$?
check "the held run then finished (exit $rc)" test "$rc" -eq 0
unset NAVETTE_KNOWN_HOSTS
usermod -p '*' "$U"
rm -rf "$H"
nv_done
