# leftovers_sftp.sh: what interrupted runs leave on a real sshd, and the next
# run's clean-up (FORMAT.md section 11). A sync killed mid-transfer leaves a
# temporary file on the server; the next sync, holding the lease, removes it
# and says so; the data is whole and names that are not exactly ours survive.
# A live sync's file is kept: a second sync on this host is refused by the
# local lock, one from "another host" (another state directory) by the lease.
# A killed push's file goes by its age (push holds no lease of its own yet).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/leftovers.sh"
. "$NV_SRCDIR/tests/servers/sshd.sh"
nv_start_sshd
export NAVETTE_CONFIG=$NV_SSHD_CONF NAVETTE_STATE_DIR="$NV_TMP/state"
R=$NV_SSHD_DIR/remote
S=$NV_TMP/src
mkdir -p "$S/sub" "$R/dst/sub"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$S/sub/big"
echo small >"$S/a"

not_ours=".navette-tmp-foo .navette-tmp.foo sub/.navette-tmp.0123456789ABCDEF"
user_files "$R/dst" $not_ours

# ---- sync: killed, then run again ----
expect_exit 137 "a sync to sftp killed mid-transfer" env NAVETTE_FAULT=write@4=kill \
	"$NAVETTE" sync --transfers 1 "$S" "ssh:$R/dst"
left=$(ours "$R/dst")
# transport = ssh: the killed run's ssh child still delivers what it had taken
# (the file may be empty a moment longer), so its size once the server let go
check "the server let go of what it left" unheld "$left"
check "it left one temporary file holding data on the server" \
	test "$(echo "$left" | grep -c .)" -eq 1 -a -s "$left"
n=$(bytes "$left")
expect_exit 0 "unlock (the dead run's lease)" "$NAVETTE" unlock --remove-all "ssh:$R/dst"
expect_exit 0 "the next sync" "$NAVETTE" sync "$S" "ssh:$R/dst"
expect_err "^navette: removed 1 temporary file \($n bytes\) left by interrupted runs in ssh:$R/dst$" \
	"it says what it removed"
check "the temporary file is gone" test -z "$(ours "$R/dst")"
check "the data is whole" cmp -s "$S/sub/big" "$R/dst/sub/big"
check "names that are not ours survive" user_files_kept "$R/dst" $not_ours

# ---- a live sync keeps its file ----
head -c $((6 * 1024 * 1024)) /dev/urandom >"$S/sub/big"
NAVETTE_FAULT=write@4=stop "$NAVETTE" sync --transfers 1 "$S" "ssh:$R/dst" 2>"$NV_TMP/a.err" &
a=$!
nv_at_exit "kill -CONT $a; kill $a"
check "the first sync holds still mid-transfer" stopped "$a"
live=$(ours "$R/dst")
check "with its temporary file" test -n "$live"
expect_exit 4 "a second sync on this host is refused by the local lock" \
	"$NAVETTE" sync "$S" "ssh:$R/dst"
expect_err "is locked by navette sync \(pid $a," "naming the first"
expect_exit 4 "one from another host (state) is refused by the lease" \
	env NAVETTE_STATE_DIR="$NV_TMP/state2" "$NAVETTE" sync "$S" "ssh:$R/dst"
expect_err "is locked by .*sync exclusive lease of run" "naming the lease's holder"
check "the live run's temporary file is kept" test -e "$live"
kill -CONT "$a"; wait "$a"; rc=$?
check "the first sync then finishes (exit $rc)" test "$rc" -eq 0
check "and its data is whole" cmp -s "$S/sub/big" "$R/dst/sub/big"
check "no temporary file left" test -z "$(ours "$R/dst")"

# ---- push: killed, then run again ----
owner=$NV_TMP/owner
nv_keys "$owner" || nv_die "keygen"
V="ssh:$R/vault"
expect_exit 0 "init on sftp" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" \
	--signing-key "$owner/sign"
expect_exit 137 "a push to sftp killed mid-transfer" env NAVETTE_FAULT=write@7=kill \
	"$NAVETTE" push --transfers 1 "$S" "$V" --signing-key "$owner/sign"
left=$(ours "$R/vault")
# its size once the server let go, as above
check "the server let go of what it left" unheld "$left"
check "it left one temporary file holding data on the server" \
	test "$(echo "$left" | grep -c .)" -eq 1 -a -s "$left"
n=$(bytes "$left")
# SFTP cannot tell a live writer, and push takes no lease: its age decides.
touch -d '2 days ago' "$left"
expect_exit 0 "the next push" "$NAVETTE" push "$S" "$V" --signing-key "$owner/sign"
expect_err "^navette: removed 1 temporary file \($n bytes\) left by interrupted runs in $V$" \
	"it says what it removed"
check "the temporary file is gone" test -z "$(ours "$R/vault")"
expect_exit 0 "pull" "$NAVETTE" pull "$V" "$NV_TMP/p" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
check "what was pushed is whole" diff -r "$S" "$NV_TMP/p"
nv_done
