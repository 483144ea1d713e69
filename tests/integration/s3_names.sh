# s3_names.sh: keys an S3 listing hands over (XML, where a newline is a
# character like any other) reach the output escaped: the unsafe one skipped
# by the engine's lister with a warning that forges no line (a sync then
# exits 3, as for every driver), the others copied and named escaped;
# under --log-json every line is JSON.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
command -v python3 >/dev/null || nv_need "python3"
nv_start_s3rver bkt
nv_s3rver_env

mkdir -p "$NV_TMP/src"
printf 'one' >"$NV_TMP/src/ok"
printf 'two' >"$NV_TMP/src/"$'c1\xc2\x9b[2J'
expect_exit 0 "sync two files to s3" "$NAVETTE" -q sync "$NV_TMP/src" s3://bkt/t
# A key no client of navette could write (it refuses control characters):
# placed beside a stored object, in s3rver's own files.
evil=$'t/a\nnavette: copied 0 files, all fine'
for s in ._S3rver_object ._S3rver_object.md5 ._S3rver_metadata.json; do
	cp "$S3_DIR/bkt/t/ok$s" "$S3_DIR/bkt/$evil$s" || nv_die "placing the key"
done

expect_exit 0 "ls of the bucket" "$NAVETTE" ls s3://bkt/t
check "the skipped key, escaped" test "$(cat "$NV_TMP/err")" = "navette: warning: s3://bkt/t: skipping unsafe name: key 'a\\x0anavette: copied 0 files, all fine' holds a control character"
check "no forged line" test "$(grep -c '^navette: copied' "$NV_TMP/err")" -eq 0
check "the C1 name escaped in ls" grep -qF 'c1\u{9b}[2J' "$NV_TMP/out"
expect_exit 3 "sync back, -v --log-json: the unsafe key fails" "$NAVETTE" -v --log-json sync --transfers 1 s3://bkt/t "$NV_TMP/back"
python3 - "$NV_TMP/err" >"$NV_TMP/events" <<'PY' && ok "every line is JSON" || not_ok "every line is JSON"
import json, sys
for line in open(sys.argv[1], "rb"):
    o = json.loads(line.decode("utf-8"))
    print(json.dumps([o["event"], o.get("action"), o.get("path"), o.get("msg")]))
PY
cat >"$NV_TMP/want" <<'PY'
["start", null, null, null]
["item", "skipped", "a\nnavette: copied 0 files, all fine", "s3://bkt/t: skipping unsafe name: key 'a\nnavette: copied 0 files, all fine' holds a control character"]
["item", "copied", "c1\u009b[2J", null]
["item", "copied", "ok", null]
PY
check "the events, names exact" diff "$NV_TMP/want" <(head -n 4 "$NV_TMP/events")
check "then the summary" test "$(tail -n 1 "$NV_TMP/events" | cut -c1-11)" = '["summary",'
check "the files as they were" diff -r "$NV_TMP/src" "$NV_TMP/back"
nv_done
