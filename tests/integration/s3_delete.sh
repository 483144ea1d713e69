# s3_delete.sh: sync --delete to a real S3 server (s3rver) removes extras with
# batched DeleteObjects (POST ?delete, at most 1000 keys each), never one DELETE
# per key; counts, per-key log lines, dry run, retries and failures as before; an
# answer naming a key that was not sent is refused.
#
# s3rver cannot answer per-key <Error>s, so that parse is unit-tested
# (tests/unit/test_s3_delete); a batch holding missing keys is in the conformance
# suite (tests/driver/s3.sh).
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
nv_start_s3rver bkt
nv_s3rver_env
# count_req PATTERN FILE: traced requests matching PATTERN, retries not counted:
# s3rver answers a DeleteObjects that empties a directory with a 500 now and
# then (its parallel deletes race to remove the directory), and that request
# is then sent again, as it should be.
count_req() { grep "^http: s3: .*$1" "$2" | grep -c "(attempt 1[,)]"; }
# remote_keys PREFIX: the keys under s3://bkt/PREFIX, sorted.
remote_keys() { "$NAVETTE" ls "s3://bkt/$1" | sed 's/^ *[0-9]* [^ ]*  *//' | LC_ALL=C sort; }
local_keys() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

# ---- 2,500 files, 2,250 of them then removed locally ----
src="$NV_TMP/src"
mkdir -p "$src/a" "$src/b dir" "$src/caf$(printf '\303\251')"
i=0
for d in a "b dir" "caf$(printf '\303\251')"; do
	n=0
	while [ $n -lt 834 ] && [ $i -lt 2500 ]; do
		printf '%d' "$i" >"$src/$d/f $i.txt"
		i=$((i + 1)); n=$((n + 1))
	done
done
check "2,500 files made" test "$(local_keys "$src" | wc -l)" -eq 2500
expect_exit 0 "sync 2,500 files to s3" "$NAVETTE" -q sync "$src" s3://bkt/t
remote_keys t >"$NV_TMP/got0"
check "all 2,500 listed" test "$(wc -l <"$NV_TMP/got0")" -eq 2500
# Keep every tenth file.
local_keys "$src" | awk 'NR % 10 != 1' | while IFS= read -r k; do rm "$src/$k"; done
local_keys "$src" >"$NV_TMP/want"
check "250 files kept locally" test "$(wc -l <"$NV_TMP/want")" -eq 250

# 2,250 of 2,500 is more than the delete guard's default 50 %: allowed here.
expect_exit 0 "sync --delete --dry-run" "$NAVETTE" sync --delete --max-delete 100% --dry-run "$src" s3://bkt/t
check "dry run: 2,250 'would delete' lines" \
	test "$(grep -c '^would delete ' "$NV_TMP/err")" -eq 2250
check "dry run: nothing deleted" test "$(remote_keys t | wc -l)" -eq 2500

NAVETTE_HTTP_TRACE=1 "$NAVETTE" -v sync --delete --max-delete 100% "$src" s3://bkt/t >"$NV_TMP/out" \
	2>"$NV_TMP/del.trace"; rc=$?
check "sync --delete: exit 0" test "$rc" -eq 0
check "2,250 removed in 3 DeleteObjects requests (1000 + 1000 + 250)" \
	test "$(count_req 'POST .*?delete=' "$NV_TMP/del.trace")" -eq 3
# (The one DELETE is the run's own lease, navette-lease/, at its end.)
check "no per-key DELETE" sh -c '! grep "^http: s3: DELETE " "$1" | grep -vq "/navette-lease/"' sh "$NV_TMP/del.trace"
check "one 'deleted' line per key" test "$(grep -c '^deleted ' "$NV_TMP/del.trace")" -eq 2250
check "a 'deleted' line names its key" grep -q "^deleted b dir/f 1234.txt$" "$NV_TMP/del.trace"
check "the summary counts 2,250 deleted" grep -q " 2250 deleted" "$NV_TMP/del.trace"
remote_keys t >"$NV_TMP/got"
check "the remaining listing is exactly the 250 kept" cmp -s "$NV_TMP/want" "$NV_TMP/got"
expect_exit 0 "navette check: identical" "$NAVETTE" check "$src" s3://bkt/t

# ---- a failed DeleteObjects request is retried; a refused one fails its keys ----
mk_extras() { # N: N files only at the destination, under t/x/
	mkdir -p "$NV_TMP/x/x"
	for i in $(seq 1 "$1"); do printf x >"$NV_TMP/x/x/e$i"; done
	"$NAVETTE" -q copy "$NV_TMP/x" s3://bkt/t && rm -rf "$NV_TMP/x"
}
mk_extras 5
NAVETTE_FAULT=remove@1=retry NAVETTE_HTTP_TRACE=1 "$NAVETTE" -v sync --delete "$src" s3://bkt/t \
	>/dev/null 2>"$NV_TMP/retry.trace"
check "a transient failure of the request: retried, exit 0" test $? -eq 0
check "the retry is logged" grep -q "^retry " "$NV_TMP/retry.trace"
check "then one DeleteObjects did it" test "$(count_req 'POST .*?delete=' "$NV_TMP/retry.trace")" -eq 1
remote_keys t >"$NV_TMP/got2"
check "the extras are gone" cmp -s "$NV_TMP/want" "$NV_TMP/got2"
mk_extras 3
NAVETTE_FAULT=remove@1=perm "$NAVETTE" sync --delete "$src" s3://bkt/t >/dev/null 2>"$NV_TMP/err"
check "a refused request: partial (exit 3)" test $? -eq 3
check "each of its keys named as failed" test "$(grep -c '^failed x/e[123]: .*injected' "$NV_TMP/err")" -eq 3
check "the summary counts 3 failed" grep -q "3 failed" "$NV_TMP/err"
expect_exit 0 "the next sync --delete removes them" "$NAVETTE" sync --delete "$src" s3://bkt/t

# ---- the answer must name only keys that were sent ----
# s3rver escapes '&' twice in its listings and in its <Deleted> entries (an
# answer about 'a&b' names 'a&amp;b'): the driver must refuse that answer, not
# trust it. (Listed as 'a&amp;b', the object is an extra under that name.)
mkdir -p "$NV_TMP/amp" && printf x >"$NV_TMP/amp/a&b"
"$NAVETTE" -q copy "$NV_TMP/amp" s3://bkt/t
"$NAVETTE" sync --delete "$src" s3://bkt/t >/dev/null 2>"$NV_TMP/err"
check "an answer naming a key not sent: partial (exit 3)" test $? -eq 3
expect_err "^failed a&amp;b: .*DeleteObjects.*names 't/a&amp;amp;b' as deleted, a key that was not sent" \
	"the error says which key the server named"
nv_done
