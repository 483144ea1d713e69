# counts.sh: summaries tell the truth (issue 12, defect 6). Every item logged as
# failed is counted once in the summary (human line and JSON), the item whose error
# stopped the run (a full disk: NAVETTE_FAULT=...=nospc) included, for sync, pull,
# verify, push and replicate; with one worker the exact figures, with several the
# figures against the item lines.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v jq >/dev/null || nv_skip "jq missing"

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
S="$NV_TMP/src"; V="$NV_TMP/vault"
mkdir -p "$S"
for i in $(seq -w 1 42); do printf 'file %s\n' "$i" >"$S/f$i"; done

# json_of FIELD...: the summary's fields, from the --log-json output in $NV_TMP/err
json_of() {
	local f q=""
	for f in "$@"; do q="$q${q:+, }.$f"; done
	jq -c "select(.event == \"summary\") | [$q]" "$NV_TMP/err"
}
# items ACTION: how many item events of that action $NV_TMP/err holds
items() { jq -r "select(.event == \"item\" and .action == \"$1\") | .path" "$NV_TMP/err" | wc -l; }
msg_of() { jq -r 'select(.event == "summary") | .msg' "$NV_TMP/err"; }
# fault_item SLOT COMMAND...: runs COMMAND -v --log-json with NAVETTE_FAULT=SLOT@K-=nospc
# for K = 1, 2, ... until an item (not the run's own documents, lock or lease, which
# come first) fails; its output stays in $NV_TMP/err, its exit code in $rc.
fault_item() {
	local slot=$1 k; shift
	for k in $(seq 1 60); do
		NAVETTE_FAULT="$slot@$k-=nospc" "$@" >"$NV_TMP/out" 2>"$NV_TMP/err"
		rc=$?
		[ "$(items failed)" -ge 1 ] && return 0
	done
	return 1
}

# ---- sync, one worker: the 3rd write fails for a full disk (the lease wrote first, f01 next) ----
NAVETTE_FAULT="write@3-=nospc" expect_exit 4 "sync --transfers 1: a full disk stops the run" \
	"$NAVETTE" sync --transfers 1 "$S" "$NV_TMP/d1"
expect_err "^failed f02: injected fault in write \(call 3\)$" "the failed file is named"
expect_err "^navette: 1 copied \(0\.0 MiB, [0-9.]+ MiB/s\), 0 unchanged, 0 deleted, 1 failed, 0 failed verification, in [0-9.]+ s; SHA-256 computed for 1, size confirmed for 1, MD5 for 0, read back for 0$" \
	"the summary counts the file that stopped the run (was 0 failed)"
NAVETTE_FAULT="write@3-=nospc" expect_exit 4 "sync --transfers 1 --log-json" \
	"$NAVETTE" -v --log-json sync --transfers 1 "$S" "$NV_TMP/d2"
check "JSON summary: files 1, failed 1, exit 4" test "$(json_of files failed exit)" = "[1,1,4]"
check "JSON: one failed item, one copied" test "$(items failed),$(items copied)" = "1,1"

# ---- sync, four workers: each failure counted once ----
fault_item write "$NAVETTE" -v --log-json sync --transfers 4 "$S" "$NV_TMP/d3"
n=$(items failed)
check "sync --transfers 4: a full disk stops it (exit $rc)" test "$rc" -eq 4
check "sync: $n failed items, as many in the summary" \
	test "$n" -ge 1 -a "$(json_of files failed)" = "[$(items copied),$n]"

# ---- pull ----
"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
"$NAVETTE" push "$S" "$V" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "push"
I=(--identity "$K/id.txt")
NAVETTE_FAULT="write@3-=nospc" expect_exit 4 "pull --transfers 1: a full disk stops the run" \
	"$NAVETTE" pull "$V" "$NV_TMP/r1" "${I[@]}" --transfers 1
expect_err "^failed f03: writing f03: injected fault in write \(call 3\)$" "the failed file is named"
expect_err "^navette: error: pull: generation 1 of $V into $NV_TMP/r1: 2 of 42 files restored \(16 bytes\), 0 tampered or undecryptable, 0 missing, 1 failed$" \
	"the summary counts the file that stopped the run (was 0 failed)"
NAVETTE_FAULT="write@3-=nospc" expect_exit 4 "pull --transfers 1 --log-json" \
	"$NAVETTE" -v --log-json pull "$V" "$NV_TMP/r2" "${I[@]}" --transfers 1
check "JSON summary: files 2, bytes 16, failed 1, selected 42, exit 4" \
	test "$(json_of files bytes failed selected mismatched missing exit)" = "[2,16,1,42,0,0,4]"
check "JSON: one failed item, two restored" test "$(items failed),$(items restored)" = "1,2"
NAVETTE_FAULT="write@1-=nospc" expect_exit 4 "pull --transfers 4: a full disk" \
	"$NAVETTE" -v --log-json pull "$V" "$NV_TMP/r3" "${I[@]}" --transfers 4
n=$(items failed)
check "pull: $n failed items, as many in the summary" \
	test "$n" -ge 1 -a "$(json_of files failed)" = "[0,$n]" -a "$(items restored)" = 0
case "$(msg_of)" in
*": 0 of 42 files restored (0 bytes), 0 tampered or undecryptable, 0 missing, $n failed") ok "pull: the human line says $n failed" ;;
*) not_ok "pull: the human line says $n failed: $(msg_of)" ;;
esac

# ---- verify --level hash: a fatal read error on the objects, each counted once ----
fault_item read "$NAVETTE" -v --log-json verify --level hash "$V" --transfers 4
n=$(items failed)
check "verify: a full-disk read of an object stops it (exit $rc)" test "$rc" -eq 4
check "verify: $n failed items, $n problems (not $((n + 1)))" \
	test "$n" -ge 1 -a "$(json_of failed problems)" = "[$n,$n]"

# ---- push: the vault's store is full ----
echo new >"$S/new1"; echo new >"$S/new2"
fault_item write "$NAVETTE" -v --log-json push "$S" "$V" --signing-key "$K/sign" --transfers 1
check "push: a full disk stops it (exit $rc)" test "$rc" -eq 4
check "push: one failed item, failed 1 in the summary" test "$(items failed),$(json_of failed)" = "1,[1]"

# ---- replicate: the replica's store is full ----
fault_item write "$NAVETTE" -v --log-json replicate "$V" "$NV_TMP/replica" --transfers 1
check "replicate: a full disk stops it (exit $rc)" test "$rc" -eq 4
check "replicate: one failed item, failed 1 in the summary" \
	test "$(items failed),$(json_of failed)" = "1,[1]"
nv_done
