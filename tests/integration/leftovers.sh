# leftovers.sh: what interrupted runs leave on a local disk, and the next run's
# clean-up (FORMAT.md section 11). A sync, a push, a pull and a replicate killed
# mid-transfer each leave a temporary file; the next run of the same command
# removes it, says so (count and bytes, and a JSON "cleanup" event) and leaves
# the data whole. A temporary file of a live run is never removed: a second
# sync or push is refused by the lock, and a sync into a directory that a
# stopped pull is writing keeps that pull's file. Names that are not exactly
# ours survive; an old-style name goes by its age.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/leftovers.sh"
command -v jq >/dev/null || nv_need "jq"
export NAVETTE_STATE_DIR="$NV_TMP/state"

# A local write goes to an O_TMPFILE where the file system allows it, which a
# killed run cannot leave behind: first that, then (the driver's test hook) the
# named temp files of file systems without O_TMPFILE, which this script is about.
mkdir -p "$NV_TMP/anon/src/sub" "$NV_TMP/anon/dst"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$NV_TMP/anon/src/sub/big"
expect_exit 137 "O_TMPFILE: a sync killed mid-transfer" env NAVETTE_FAULT=write@4=kill \
	"$NAVETTE" sync --transfers 1 "$NV_TMP/anon/src" "$NV_TMP/anon/dst"
check "  left no file behind (a directory at most)" \
	test -z "$(find "$NV_TMP/anon/dst" -type f ! -path '*/navette-lease/*')"
export NAVETTE_LOCAL_NO_TMPFILE=1

S=$NV_TMP/src
D=$NV_TMP/dst
mkdir -p "$S/sub" "$D/sub"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$S/sub/big"
echo small >"$S/a"
# Names that are not exactly ours: never removed.
not_ours=".navette-tmp-foo .navette-tmp.foo .navette-tmp.0123456789ABCDEF
	.navette-tmp.0123456789abcdef.0123456789abcdef.x sub/navette-tmp.0123456789abcdef"
user_files "$D" $not_ours

# ---- sync: killed, then run again ----
# (A killed run's lease stops the next one for a TTL: unlock removes it.)
expect_exit 137 "a sync killed mid-transfer" env NAVETTE_FAULT=write@4=kill \
	"$NAVETTE" sync --transfers 1 "$S" "$D"
left=$(ours "$D")
check "it left one temporary file holding data" \
	test "$(echo "$left" | grep -c .)" -eq 1 -a -s "$left"
n=$(bytes "$left")
expect_exit 0 "unlock" "$NAVETTE" unlock --remove-all "$D"
expect_exit 0 "the next sync" "$NAVETTE" sync --log-json "$S" "$D"
check "the temporary file is gone" test -z "$(ours "$D")"
jq -c 'select(.event == "cleanup")' "$NV_TMP/err" >"$NV_TMP/cleanup.json"
check "one JSON cleanup event: count and bytes" test "$(jq -c '[.removed, .bytes,
	.aborted_uploads, .in_use, .kept, .failed, .location, .level]' "$NV_TMP/cleanup.json")" = \
	"[1,$n,0,0,0,0,\"$D\",\"notice\"]"
check "its message says so" test "$(jq -r .msg "$NV_TMP/cleanup.json")" = \
	"removed 1 temporary file ($n bytes) left by interrupted runs in $D"
check "the data is whole" cmp -s "$S/sub/big" "$D/sub/big"
check "the small file too" cmp -s "$S/a" "$D/a"
check "names that are not ours survive" user_files_kept "$D" $not_ours
expect_exit 0 "a run with nothing to clean says nothing of it" "$NAVETTE" sync "$S" "$D"
check "no cleanup line" test -z "$(grep -i 'temporary' "$NV_TMP/err")"
expect_exit 0 "a clean-up that fails does not fail the run" \
	env NAVETTE_FAULT=leftovers@1=io "$NAVETTE" sync "$S" "$D"
expect_err "^navette: warning: cleaning up $D: injected fault in leftovers \(call 1\)$" \
	"it is a warning"

# ---- a live sync: the second one is refused by the lock, its file kept ----
head -c $((6 * 1024 * 1024)) /dev/urandom >"$S/sub/big"
NAVETTE_FAULT=write@4=stop "$NAVETTE" sync --transfers 1 "$S" "$D" 2>"$NV_TMP/a.err" & a=$!
nv_at_exit "kill -CONT $a; kill $a"
check "the first sync holds still mid-transfer" stopped "$a"
live=$(ours "$D")
check "with its temporary file" test -n "$live"
expect_exit 4 "a second sync is refused by the local lock" "$NAVETTE" sync "$S" "$D"
expect_err "is locked by navette sync \(pid $a," "naming the first"
check "the live run's temporary file is kept" test -e "$live"
kill -CONT "$a"; wait "$a"; rc=$?
check "the first sync then finishes (exit $rc)" test "$rc" -eq 0
check "and its data is whole" cmp -s "$S/sub/big" "$D/sub/big"
check "no temporary file left" test -z "$(ours "$D")"

# ---- push: killed, then run again ----
owner=$NV_TMP/owner
nv_keys "$owner" || nv_die "keygen"
V=$NV_TMP/vault
expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" \
	--signing-key "$owner/sign"
# (push's first three writes are its lease and the create-if-absent probe)
expect_exit 137 "a push killed mid-transfer" env NAVETTE_FAULT=write@7=kill \
	"$NAVETTE" push --transfers 1 "$S" "$V" --signing-key "$owner/sign"
left=$(ours "$V")
check "it left one temporary file holding data" \
	test "$(echo "$left" | grep -c .)" -eq 1 -a -s "$left"
n=$(bytes "$left")
expect_exit 0 "the next push" "$NAVETTE" push "$S" "$V" --signing-key "$owner/sign"
expect_err "^navette: removed 1 temporary file \($n bytes\) left by interrupted runs in $V$" \
	"it says what it removed"
check "the temporary file is gone" test -z "$(ours "$V")"
expect_exit 0 "pull" "$NAVETTE" pull "$V" "$NV_TMP/p1" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
check "what was pushed is whole" diff -r "$S" "$NV_TMP/p1"

# ---- a live push: the second one is refused, the first one's file kept ----
head -c $((6 * 1024 * 1024)) /dev/urandom >"$S/sub/big"
NAVETTE_FAULT=write@3=stop "$NAVETTE" push --transfers 1 "$S" "$V" \
	--signing-key "$owner/sign" 2>"$NV_TMP/a.err" & a=$!
nv_at_exit "kill -CONT $a; kill $a"
check "the first push holds still mid-transfer" stopped "$a"
live=$(ours "$V")
check "with its temporary file" test -n "$live"
expect_exit 4 "a second push of the vault is refused" \
	"$NAVETTE" push "$S" "$V" --signing-key "$owner/sign"
expect_err "already working on|is locked by" "by its lock"
check "the live run's temporary file is kept" test -e "$live"
kill -CONT "$a"; wait "$a"; rc=$?
check "the first push then finishes (exit $rc)" test "$rc" -eq 0
check "no temporary file left" test -z "$(ours "$V")"

# ---- pull: killed, then run again ----
T=$NV_TMP/restore
expect_exit 137 "a pull killed mid-transfer" env NAVETTE_FAULT=write@3=kill \
	"$NAVETTE" pull --transfers 1 "$V" "$T" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
left=$(ours "$T")
check "it left a temporary file" test "$(echo "$left" | grep -c .)" -eq 1
n=$(bytes "$left")
expect_exit 0 "the next pull" "$NAVETTE" pull "$V" "$T" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub"
expect_err "^navette: removed 1 temporary file \($n bytes\) left by interrupted runs in $T$" \
	"it says what it removed"
check "the temporary file is gone" test -z "$(ours "$T")"
check "what was restored is whole" diff -r "$S" "$T"

# ---- a live pull: a sync into its directory keeps the pull's file ----
rm -rf "$T"
NAVETTE_FAULT=write@2=stop "$NAVETTE" pull --transfers 1 "$V" "$T" --identity "$owner/id.txt" \
	--signing-pubkey "$owner/sign.pub" 2>"$NV_TMP/a.err" & a=$!
nv_at_exit "kill -CONT $a; kill $a"
check "the pull holds still mid-transfer" stopped "$a"
live=$(ours "$T")
check "with its temporary file" test -n "$live"
mkdir -p "$NV_TMP/empty"
# (the pull holds this host's lock on its directory: the sync comes from another
# state directory, as from another host, and holds the lease there)
expect_exit 0 "a sync into that directory (holding its lease)" \
	env NAVETTE_STATE_DIR="$NV_TMP/state-other" "$NAVETTE" sync -v "$NV_TMP/empty" "$T"
expect_err "^navette: 1 temporary file in $T belongs to runs still writing$" \
	"it names the live run's file"
check "and keeps it" test -e "$live"
kill -CONT "$a"; wait "$a"; rc=$?
check "the pull then finishes (exit $rc)" test "$rc" -eq 0
check "and restores everything" diff -r -x navette-lease "$S" "$T"

# ---- an old-style name (no run id) goes by its age ----
echo old >"$T/sub/.navette-tmp.0123456789abcdef"
expect_exit 0 "a pull with a young old-style temporary file" "$NAVETTE" pull "$V" "$T" \
	--identity "$owner/id.txt" --signing-pubkey "$owner/sign.pub"
expect_err "^navette: kept 1 temporary file in $T of runs that may still be alive \(removed once 86400 s old, or by a run that holds the lease there\)$" \
	"a pull (no lease) keeps it, and says so"
check "kept" test -e "$T/sub/.navette-tmp.0123456789abcdef"
touch -d '2 days ago' "$T/sub/.navette-tmp.0123456789abcdef"
expect_exit 0 "once older than the limit" "$NAVETTE" pull "$V" "$T" \
	--identity "$owner/id.txt" --signing-pubkey "$owner/sign.pub"
expect_err "^navette: removed 1 temporary file \(4 bytes\) left by interrupted runs in $T$" \
	"it goes"
check "gone" test ! -e "$T/sub/.navette-tmp.0123456789abcdef"

# ---- replicate: killed, then run again ----
R=$NV_TMP/replica
expect_exit 137 "a replicate killed mid-transfer" env NAVETTE_FAULT=write@3=kill \
	"$NAVETTE" replicate --transfers 1 "$V" "$R" --signing-pubkey "$owner/sign.pub"
left=$(ours "$R")
check "it left a temporary file" test "$(echo "$left" | grep -c .)" -eq 1
n=$(bytes "$left")
expect_exit 0 "unlock" "$NAVETTE" unlock --remove-all "$R"
expect_exit 0 "the next replicate" "$NAVETTE" replicate "$V" "$R" \
	--signing-pubkey "$owner/sign.pub"
expect_err "^navette: removed 1 temporary file \($n bytes\) left by interrupted runs in $R$" \
	"it says what it removed"
check "the temporary file is gone" test -z "$(ours "$R")"
expect_exit 0 "the replica verifies" "$NAVETTE" verify "$R" --level hash \
	--signing-pubkey "$owner/sign.pub"
nv_done
