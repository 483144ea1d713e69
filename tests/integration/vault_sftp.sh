# vault_sftp.sh: a vault on a real sshd: push, then pull, verify at every level
# and log read it remotely (each worker on its own SFTP connection, each object
# read twice: checked, then decrypted); a tampered remote object is named.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
command -v age >/dev/null || nv_need "stock age"
nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state-A"
R=$NV_SSHD_DIR/remote; V="ssh:$R/vault"; D="$NV_TMP/data"
mkdir -p "$D/sub"
head -c 400000 /dev/urandom >"$D/sub/big"; echo a >"$D/a"; : >"$D/empty"
I=(--identity "$K/id.txt")

expect_exit 0 "init over sftp" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign"
# settled (push's racy window is 2 s) and with a 64 KiB buffer, sub/big is
# read once, encrypted into objects/ and renamed into objects/XX/ at commit
sleep 2.5
expect_exit 0 "push over sftp" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" --buffer-size 64K
expect_err "3 files, 3 read, 3 uploaded" "push read each file once"
check "no temporary file and nothing named unnamed left" \
	test -z "$(find "$R/vault" -name '.navette-tmp*' -o -name 'unnamed*')"
expect_exit 0 "pull over sftp" "$NAVETTE" pull "$V" "$NV_TMP/r" "${I[@]}" --transfers 2
check "restore identical" diff -r "$D" "$NV_TMP/r"
for level in list hash deep; do
	expect_exit 0 "verify --level $level over sftp" "$NAVETTE" verify --level $level --max-age 1h "$V" "${I[@]}"
done
expect_exit 0 "log over sftp" "$NAVETTE" log "$V"
check "log: generation 1 signed" grep -q '^ *1 .* signed$' "$NV_TMP/out"
expect_exit 0 "ls of a remote vault" "$NAVETTE" ls "$V" "${I[@]}"
check "ls: the big file" grep -q ' 400000 .* sub/big$' "$NV_TMP/out"

obj=$(tail -n 1 "$R/vault/manifests/00000000000000000001.json" | sed 's/.*"name":"\([^"]*\)".*/\1/')
nv_flip_byte "$R/vault/$obj" 100
expect_exit 1 "a tampered remote object: verify" "$NAVETTE" verify --level hash "$V"
expect_err "mismatch $obj" "verify names it"
expect_exit 1 "a tampered remote object: pull" "$NAVETTE" pull "$V" "$NV_TMP/r2" "${I[@]}"
expect_err "object $obj: SHA-256 of the stored bytes differs" "pull names it"

nv_done
