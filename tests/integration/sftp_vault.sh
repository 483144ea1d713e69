# sftp_vault.sh: an encrypted vault on a real sshd: init, push, incremental push,
# verify, pull; the server-side files restore with stock age/ssh-keygen; a push
# cut by the server dying completes on the next run.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"
nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF
owner="$NV_TMP/owner"
nv_keys "$owner" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
R=$NV_SSHD_DIR/remote
V="ssh:$R/vault"
D="$NV_TMP/data"
mkdir -p "$D/docs" "$D/img"
head -c 300000 /dev/urandom >"$D/img/a.bin"
: >"$D/empty"
echo same >"$D/docs/one"; echo same >"$D/docs/two"
echo "é spaces" >"$D/docs/fichier é.txt"

expect_exit 0 "init on sftp" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" \
	--signing-key "$owner/sign"
expect_exit 0 "push to sftp" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
check "no temp file left on the server" [ -z "$(find "$R/vault" -name '.navette-tmp.*')" ]
check "stock tools restore what the server holds" \
	nv_manual_restore "$R/vault" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/manual"
check "manual restore identical" diff -r "$D" "$NV_TMP/manual"

echo changed >"$D/docs/one"
head -c 100000 /dev/urandom >"$D/img/b.bin"
expect_exit 0 "incremental push to sftp" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
check "generation 2 published" [ -e "$R/vault/manifests/00000000000000000002.json" ]
expect_exit 0 "verify --level hash over sftp" "$NAVETTE" verify "$V" --level hash \
	--signing-pubkey "$owner/sign.pub"
expect_exit 0 "pull from sftp" "$NAVETTE" pull "$V" "$NV_TMP/pulled" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
check "pulled tree identical" diff -r "$D" "$NV_TMP/pulled"

# Tampering on the server is caught.
# an object of the newest generation (an older catalog would not be checked)
obj="$R/vault/$(sed -n 2p "$(ls "$R"/vault/manifests/*.json | tail -n 1)" | jq -r .name)"
cp "$obj" "$NV_TMP/saved-object"
nv_flip_byte "$obj" 100
expect_exit 1 "verify --level hash finds an object altered on the server" \
	"$NAVETTE" verify "$V" --level hash --signing-pubkey "$owner/sign.pub"
cp "$NV_TMP/saved-object" "$obj"

# The server dies during a push: the next push (server back) completes it.
# One worker: every connection of the push is up once its temp file grows (with
# more, a worker still in ssh's handshake when the server dies fails to open,
# which stops the run: exit 4, not the item's 3).
head -c $((64 * 1024 * 1024)) /dev/urandom >"$D/img/large.bin"
"$NAVETTE" push "$D" "$V" --signing-key "$owner/sign" --retries 0 --transfers 1 \
	>"$NV_TMP/p.out" 2>"$NV_TMP/p.err" &
pid=$!
for _ in $(seq 1 1500); do
	[ -n "$(find "$R/vault" -name '.navette-tmp.*' -size +1M 2>/dev/null)" ] && break
	sleep 0.02
done
# Freeze the client while the server dies, so a fast upload cannot finish first.
kill -STOP "$pid" 2>/dev/null
nv_stop_sshd KILL
kill -CONT "$pid" 2>/dev/null
wait "$pid"; rc=$?
# The large file fails alone (--retries 0), so nothing is published: exit 3.
check "push cut by the server's death: that file fails (exit $rc, wanted 3)" [ "$rc" -eq 3 ]
cp "$NV_TMP/p.err" "$NV_TMP/err"
expect_err "^failed img/large\.bin: sftp root@127\.0\.0\.1:$NV_SSHD_PORT: writing objects/" \
	"  the message names the file, the server and the object being written"
expect_err "^navette: error: 1 file\(s\) could not be pushed: no generation published \(what landed is kept for the next push\)\$" \
	"  and says that nothing was published"
check "generation 3 not published by the cut push" \
	[ ! -e "$R/vault/manifests/00000000000000000003.json" ]
nv_start_sshd
expect_exit 0 "next push completes" "$NAVETTE" push "$D" "$V" --signing-key "$owner/sign"
expect_exit 0 "pull after the completed push" "$NAVETTE" pull "$V" "$NV_TMP/pulled3" \
	--identity "$owner/id.txt" --signing-pubkey "$owner/sign.pub"
check "pulled tree identical after the cut" diff -r "$D" "$NV_TMP/pulled3"
nv_done
