# sftp_hostkey.sh: host-key checking against a real sshd that offers ecdsa and
# ed25519 keys: algorithm preference from known_hosts, hashed entries, unknown,
# changed and revoked keys refused with the SHA256 fingerprint, accept-new.
# The same rules over both transports (tests/integration/ssh/ runs it with
# transport = ssh, where ssh itself checks, under StrictHostKeyChecking=yes);
# where ssh words or decides a case its own way, the test says so.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
mkdir -p "$NV_SSHD_DIR/data"
echo x >"$NV_SSHD_DIR/data/f"
KH=$NV_TMP/known_hosts
C=$NV_TMP/nv.conf
nv_sshd_conf "$C" ssh root "known_hosts = $KH"
ls_remote() { "$NAVETTE" --config "$C" ls "ssh:$NV_SSHD_DIR/data"; }
# fingerprints as regular expressions (base64 holds "+")
fp() { ssh-keygen -lf "$1" | awk '{print $2}' | sed 's/+/\\+/g'; }
FP_ED=$(fp "$NV_SSHD_DIR/host_ed25519.pub")
FP_EC=$(fp "$NV_SSHD_DIR/host_ecdsa.pub")

# libssh2 1.10 alone would negotiate ecdsa first; the driver asks for what known_hosts has.
echo "$NV_SSHD_KNOWN_ED25519" >"$KH"
expect_exit 0 "host known by its ed25519 key only" ls_remote
echo "$NV_SSHD_KNOWN_ECDSA" >"$KH"
expect_exit 0 "host known by its ecdsa key only" ls_remote
{ echo "# comment"; echo "otherhost,10.0.0.1 $(cut -d' ' -f2,3 <<<"$NV_SSHD_KNOWN_ECDSA")";
  echo "$NV_SSHD_KNOWN_ED25519 comment here"; } >"$KH"
expect_exit 0 "comments and other hosts' lines are ignored" ls_remote

echo "$NV_SSHD_KNOWN_ED25519" >"$KH"
ssh-keygen -q -H -f "$KH" >/dev/null 2>&1; rm -f "$KH.old"
check "known_hosts is hashed now" grep -q '^|1|' "$KH"
expect_exit 0 "hashed known_hosts entry" ls_remote

echo "[127.0.0.1]:* $(cut -d' ' -f2,3 <<<"$NV_SSHD_KNOWN_ED25519")" >"$KH"
expect_exit 0 "wildcard pattern [127.0.0.1]:*" ls_remote
echo "127.0.0.1 $(cut -d' ' -f2,3 <<<"$NV_SSHD_KNOWN_ED25519")" >"$KH"
if [ "$NV_SFTP_TRANSPORT" = libssh2 ]; then
	expect_exit 2 "a port-22 entry does not vouch for another port" ls_remote
else # OpenSSH 9.2 takes the bare host's key on any port: the key is still checked
	expect_exit 0 "ssh: a bare host's entry vouches for its key on another port" ls_remote
fi

: >"$KH"
expect_exit 2 "unknown host key refused" ls_remote
expect_err "unknown host key" "message says the key is unknown"
if [ "$NV_SFTP_TRANSPORT" = libssh2 ]; then
	expect_err "ssh-ed25519 $FP_ED" "message shows the SHA256 fingerprint (ed25519 preferred, as ssh does)"
else # ssh names the key type (ed25519 preferred), not its fingerprint, when checking strictly
	expect_err "No ED25519 host key is known for \[127.0.0.1\]:$NV_SSHD_PORT" \
		"message quotes ssh: no ED25519 key known for the host and port"
fi
rm -f "$KH"
expect_exit 2 "missing known_hosts: refused" ls_remote

ssh-keygen -q -t ed25519 -N '' -f "$NV_TMP/other" -C other
echo "[127.0.0.1]:$NV_SSHD_PORT $(cut -d' ' -f1,2 "$NV_TMP/other.pub")" >"$KH"
expect_exit 2 "changed host key refused" ls_remote
expect_err "HOST KEY CHANGED" "message says the key changed"
expect_err "$FP_ED" "message shows the server key's SHA256 fingerprint"
check "nothing was appended to known_hosts" [ "$(wc -l <"$KH")" = 1 ]

{ echo "@revoked [127.0.0.1]:$NV_SSHD_PORT $(cut -d' ' -f1,2 "$NV_SSHD_DIR/host_ed25519.pub")";
  echo "$NV_SSHD_KNOWN_ED25519"; } >"$KH"
expect_exit 2 "revoked host key refused" ls_remote
expect_err "revoked" "message says revoked"

# accept-new: an unknown host is recorded, a changed one still refused.
rm -f "$KH"
nv_sshd_conf "$C" ssh root "known_hosts = $KH" "host_key_checking = accept-new"
expect_exit 0 "accept-new connects to an unknown host" ls_remote
check "accept-new recorded the key" grep -q "^\[127.0.0.1\]:$NV_SSHD_PORT ssh-ed25519 " "$KH"
check "known_hosts is private (0600)" [ "$(stat -c %a "$KH")" = 600 ]
nv_sshd_conf "$C" ssh root "known_hosts = $KH"
expect_exit 0 "the recorded key is then trusted with checking = yes" ls_remote
check "ssh-keygen finds the recorded key" \
	ssh-keygen -q -F "[127.0.0.1]:$NV_SSHD_PORT" -f "$KH" >/dev/null
echo "[127.0.0.1]:$NV_SSHD_PORT $(cut -d' ' -f1,2 "$NV_TMP/other.pub")" >"$KH"
nv_sshd_conf "$C" ssh root "known_hosts = $KH" "host_key_checking = accept-new"
expect_exit 2 "accept-new still refuses a changed key" ls_remote
expect_err "HOST KEY CHANGED" "changed, under accept-new"

nv_sshd_conf "$C" ssh root "known_hosts = $KH" "host_key_checking = maybe"
expect_exit 2 "bad host_key_checking value is a config error" ls_remote
nv_done
