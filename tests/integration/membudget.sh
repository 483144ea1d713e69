# membudget.sh: the run's one memory budget (--max-memory, util/membudget.h). A
# copy of a 300 MiB file to s3rver and to Azurite at the defaults keeps its
# buffers within the default budget (the summary's peak_buffer_bytes, the
# budget's own count: deterministic, valid under sanitizers) and, in a build
# without sanitizers, the process's peak RSS within 64 MiB. A budget with no
# room for a second part still copies (parts wait, never past it); one smaller
# than every transfer's buffer and part copies too, over it, and says so.
# --max-memory, max_memory in [navette] and $NAVETTE_MAX_MEMORY: which wins, what
# is refused (exit 2), on every command that transfers.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/azurite.sh"
command -v python3 >/dev/null || nv_need "python3"
unset AWS_SESSION_TOKEN NAVETTE_HTTP_TRACE NAVETTE_FAULT NAVETTE_MAX_MEMORY \
	AZURE_STORAGE_CONNECTION_STRING
MIB=1048576
DEFAULT=$((48 * MIB)) # --max-memory's default (navette(1))

# Sanitizers (ASan, UBSan, TSan) inflate RSS: the RSS check runs without them.
sanitized=0
if ldd "$NAVETTE" 2>/dev/null | grep -qE 'lib(a|ub|t|l)san' ||
	nm "$NAVETTE" 2>/dev/null | grep -qE '__(a|ub|t)san_'; then
	sanitized=1
fi
# peak FILE: the summary's peak_buffer_bytes in the JSON log FILE.
peak() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["event"] == "summary": print(o["peak_buffer_bytes"])' "$1"
}
# rss_ok KIB DESCRIPTION: peak RSS (from /usr/bin/time) within 64 MiB.
rss_ok() {
	if [ "$sanitized" = 1 ]; then ok "$2 # SKIP sanitizer build: RSS not measured"; return; fi
	check "$2 (peak RSS $(($1 / 1024)) MiB)" test "$1" -le $((64 * 1024))
}
# timed_copy SRC DST [ARGS...]: copy with --log-json; stderr in $NV_TMP/err,
# peak RSS in KiB in $NV_TMP/rss (0 without /usr/bin/time).
timed_copy() {
	local src=$1 dst=$2; shift 2
	if [ -x /usr/bin/time ]; then
		expect_exit 0 "copy $src to $dst $*" /usr/bin/time -f %M -o "$NV_TMP/rss" \
			"$NAVETTE" --log-json copy "$src" "$dst" "$@"
	else
		echo 0 >"$NV_TMP/rss"
		expect_exit 0 "copy $src to $dst $*" "$NAVETTE" --log-json copy "$src" "$dst" "$@"
	fi
}

# default_copy NAME DST MIB: the 300 MiB file copied to DST at the defaults:
# buffers within the default budget, at least MIB of them counted (a worker's
# buffer and one part), no warning, RSS within 64 MiB, the object whole.
default_copy() {
	local p
	timed_copy "$NV_TMP/big" "$2"
	p=$(peak "$NV_TMP/err")
	check "$1: buffers within the default budget (peak_buffer_bytes $p)" test "$p" -le "$DEFAULT"
	check "$1: the part buffers are counted (a worker's buffer and a part at least)" \
		test "$p" -ge $(($3 * MIB))
	check "$1: no warning" test "$(grep -c '"level":"warning' "$NV_TMP/err")" -eq 0
	rss_ok "$(cat "$NV_TMP/rss")" "$1: RSS within 64 MiB at the defaults"
	expect_exit 0 "$1: ls" "$NAVETTE" ls "$2"
	check "$1: the whole object stored" grep -q "^ *$((300 * MIB)) " "$NV_TMP/out"
}

mkdir -p "$NV_TMP/big" "$NV_TMP/two"
openssl rand -out "$NV_TMP/big/f" $((300 * MIB)) 2>/dev/null ||
	head -c $((300 * MIB)) /dev/urandom >"$NV_TMP/big/f"
head -c $((20 * MIB)) /dev/urandom >"$NV_TMP/two/a"
head -c $((20 * MIB)) /dev/urandom >"$NV_TMP/two/b"

# ---------------- S3 (s3rver): 8 MiB parts, 4 in flight per object ----------------
nv_start_s3rver bkt
export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET"
export AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1 NAVETTE_CONDITIONAL_WRITES=false

default_copy s3 s3://bkt/big 9

# Two transfers, room for their buffers and first parts (2 x 9 MiB) but not for
# a third part: the parts wait for each other, never past the budget.
timed_copy "$NV_TMP/two" s3://bkt/two --transfers 2 --max-memory 24M
p=$(peak "$NV_TMP/err")
check "s3 --max-memory 24M: within it (peak_buffer_bytes $p)" test "$p" -le $((24 * MIB))
check "s3 --max-memory 24M: the part buffers are counted" test "$p" -ge $((9 * MIB))
check "s3 --max-memory 24M: no warning" test "$(grep -c '"level":"warning' "$NV_TMP/err")" -eq 0
expect_exit 0 "copy back" "$NAVETTE" -q copy s3://bkt/two "$NV_TMP/two-back"
check "s3 --max-memory 24M: copied whole" diff -r -x navette-lease "$NV_TMP/two" "$NV_TMP/two-back"

# A budget below one transfer's buffer and part: no deadlock, one part at a
# time per upload, over the budget by what that needs, and a warning.
timed_copy "$NV_TMP/two" s3://bkt/over --transfers 2 --max-memory 4M
p=$(peak "$NV_TMP/err")
check "s3 --max-memory 4M: over it, by no more than 2 x (1M + 8M) (peak_buffer_bytes $p)" \
	sh -c 'test "$1" -gt $((4 * $2)) && test "$1" -le $((18 * $2 + 65536))' sh "$p" "$MIB"
expect_err '"level":"warning[^}]*more than the memory budget of 4 MiB: it cannot hold every transfer.s buffer and one part of its upload; raise --max-memory, or lower --transfers or the store.s part_size' \
	"s3 --max-memory 4M: the warning says why and what to do"
expect_exit 0 "copy back" "$NAVETTE" -q copy s3://bkt/over "$NV_TMP/over-back"
check "s3 --max-memory 4M: copied whole" diff -r -x navette-lease "$NV_TMP/two" "$NV_TMP/over-back"
nv_stop_s3rver

# ---------------- Azure (Azurite): 4 MiB blocks, 4 in flight per blob ----------------
nv_start_azurite
nv_azurite_container mem
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=$AZ_ENDPOINT;"
default_copy azure "az://$AZ_ACCOUNT/mem/big" 5
nv_stop_azurite

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
	"replicate a b"; do
	# shellcheck disable=SC2086
	expect_exit 2 "${cmd%% *} takes --max-memory" "$NAVETTE" $cmd --max-memory 2M
	expect_err '^navette: error: --max-memory 2 MiB is too small' "${cmd%% *}: checked first"
done
expect_exit 2 "ls does not take it" "$NAVETTE" ls "$NV_TMP/small" --max-memory 48M
nv_done
