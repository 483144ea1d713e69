# membudget.sh: the run's one memory budget (--max-memory, util/membudget.h),
# counted in the summary's peak_buffer_bytes (the budget's own count:
# deterministic, valid under sanitizers). A budget with no room for a second
# part still copies (parts wait, never past it); one smaller than every
# transfer's buffer and part copies too, over it, and says so. (The defaults
# with one large file on every driver, RSS included: membudget_big.sh.)
# --max-memory, max_memory in [navette] and $NAVETTE_MAX_MEMORY: which wins, what
# is refused (exit 2), on every command that transfers.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v python3 >/dev/null || nv_need "python3"
unset AWS_SESSION_TOKEN NAVETTE_HTTP_TRACE NAVETTE_FAULT NAVETTE_MAX_MEMORY \
	AZURE_STORAGE_CONNECTION_STRING
MIB=1048576

# peak FILE: the summary's peak_buffer_bytes in the JSON log FILE.
peak() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["event"] == "summary": print(o["peak_buffer_bytes"])' "$1"
}
# jcopy SRC DST [ARGS...]: copy with --log-json; stderr in $NV_TMP/err.
jcopy() {
	local src=$1 dst=$2; shift 2
	expect_exit 0 "copy $src to $dst $*" "$NAVETTE" --log-json copy "$src" "$dst" "$@"
}

mkdir -p "$NV_TMP/two"
head -c $((20 * MIB)) /dev/urandom >"$NV_TMP/two/a"
head -c $((20 * MIB)) /dev/urandom >"$NV_TMP/two/b"

# ---------------- S3 (s3rver): 8 MiB parts, 4 in flight per object ----------------
nv_start_s3rver bkt
export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET"
export AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 NAVETTE_CONDITIONAL_WRITES=false

# Two transfers, room for their buffers and first parts (2 x 9 MiB) but not for
# a third part: the parts wait for each other, never past the budget.
jcopy "$NV_TMP/two" s3://bkt/two --transfers 2 --max-memory 24M
p=$(peak "$NV_TMP/err")
check "s3 --max-memory 24M: within it (peak_buffer_bytes $p)" test "$p" -le $((24 * MIB))
check "s3 --max-memory 24M: the part buffers are counted" test "$p" -ge $((9 * MIB))
check "s3 --max-memory 24M: no warning" test "$(grep -c '"level":"warning' "$NV_TMP/err")" -eq 0
expect_exit 0 "copy back" "$NAVETTE" -q copy s3://bkt/two "$NV_TMP/two-back"
check "s3 --max-memory 24M: copied whole" diff -r -x navette-lease "$NV_TMP/two" "$NV_TMP/two-back"

# A budget below one transfer's buffer and part: no deadlock, one part at a
# time per upload, over the budget by what that needs, and a warning.
jcopy "$NV_TMP/two" s3://bkt/over --transfers 2 --max-memory 4M
p=$(peak "$NV_TMP/err")
check "s3 --max-memory 4M: over it, by no more than 2 x (1M + 8M) (peak_buffer_bytes $p)" \
	sh -c 'test "$1" -gt $((4 * $2)) && test "$1" -le $((18 * $2 + 65536))' sh "$p" "$MIB"
expect_err '"level":"warning[^}]*more than the memory budget of 4 MiB: it cannot hold every transfer.s buffer and one part of its upload; raise --max-memory, or lower --transfers or the store.s part_size' \
	"s3 --max-memory 4M: the warning says why and what to do"
expect_exit 0 "copy back" "$NAVETTE" -q copy s3://bkt/over "$NV_TMP/over-back"
check "s3 --max-memory 4M: copied whole" diff -r -x navette-lease "$NV_TMP/two" "$NV_TMP/over-back"
nv_stop_s3rver

# ---------------- where the budget comes from ----------------
mkdir -p "$HOME/.config/navette" "$NV_TMP/small"
echo x >"$NV_TMP/small/x"
conf=$HOME/.config/navette/navette.conf
printf '[navette]\nmax_memory = 6M\n' >"$conf"
chmod 600 "$conf"
expect_exit 2 "config max_memory 6M: too small for 4 transfers of 1M" \
	"$NAVETTE" copy "$NV_TMP/small" "$NV_TMP/d1"
expect_err '^navette: error: max_memory 6 MiB is too small for 4 transfers of a 1.00 MiB buffer \(4.0 MiB, at most half of it\): raise it, or lower --transfers or --buffer-size$' \
	"the config key is named"
check "nothing copied" test ! -e "$NV_TMP/d1"
expect_exit 0 "--max-memory wins over the config" \
	"$NAVETTE" -q copy "$NV_TMP/small" "$NV_TMP/d2" --max-memory 8M
expect_exit 0 "... and so does a smaller --transfers" \
	"$NAVETTE" -q copy "$NV_TMP/small" "$NV_TMP/d3" --transfers 3
rm "$conf"
expect_exit 2 "NAVETTE_MAX_MEMORY=5M" env NAVETTE_MAX_MEMORY=5M \
	"$NAVETTE" copy "$NV_TMP/small" "$NV_TMP/d4"
expect_err 'max_memory 5 MiB is too small' "the environment is read"
expect_exit 2 "--max-memory 512K: below 1M" "$NAVETTE" copy "$NV_TMP/small" "$NV_TMP/d5" \
	--max-memory 512K
expect_err "^navette: error: --max-memory takes a size of at least 1M, such as 64M or 1G, not '512K'$" \
	"the refusal says what it takes"
expect_exit 2 "--max-memory lots: not a size" "$NAVETTE" copy "$NV_TMP/small" "$NV_TMP/d5" \
	--max-memory lots
# Every command that transfers takes it (and checks it before anything else).
for cmd in "copy a b" "sync a b" "check a b" "push a b" "pull a b" "verify a" "drill a" \
	"replicate a b" "publish a"; do
	# shellcheck disable=SC2086
	expect_exit 2 "${cmd%% *} takes --max-memory" "$NAVETTE" $cmd --max-memory 2M
	expect_err '^navette: error: --max-memory 2 MiB is too small' "${cmd%% *}: checked first"
done
expect_exit 2 "ls does not take it" "$NAVETTE" ls "$NV_TMP/small" --max-memory 48M
nv_done
