# faultproxy.sh: the fault-injecting proxy (tests/servers/faultproxy.js) does what
# its rules say, in front of a real s3rver, so that the driver tests built on it
# can trust it: each action, the counters, templated bodies, rules replaced by
# file and by the control endpoint, the request log. curl(1) is the client.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/servers/s3rver.sh"
. "$NV_SRCDIR/tests/servers/faultproxy.sh"
command -v curl >/dev/null || nv_need "curl (the client of this test)"
nv_start_s3rver bkt
nv_start_faultproxy "$S3_ENDPOINT"
obj=$NV_TMP/obj
head -c 1000 /dev/urandom >"$obj"
# s3rver takes requests without an Authorization header.
get() { curl -s "$FP_URL/$1" -o "$NV_TMP/got" -w '%{http_code}'; }

check "no rules: a PUT passes through" \
	test "$(curl -s -X PUT --data-binary @"$obj" "$FP_URL/bkt/o" -o /dev/null -w '%{http_code}')" = 200
check "no rules: the GET gets the same bytes" sh -c 'curl -s "$1/bkt/o" | cmp -s - "$2"' sh "$FP_URL" "$obj"

nv_faultproxy_rules '[
 {"name":"r","method":"GET","path":"^/bkt/o$","action":"reset","times":1},
 {"name":"c","method":"GET","path":"^/bkt/o$","action":"cut","bytes":100,"times":1},
 {"name":"x","method":"GET","path":"^/bkt/o$","action":"corrupt_response","offset":5,"times":1},
 {"name":"w","query":"list-type=2","action":"rewrite","replace":[["<IsTruncated>false","<IsTruncated>true"]]},
 {"name":"t","path":"^/bkt/tmpl$","status":200,"body":"<a>{{n}} {{q:tok}}</a>"},
 {"name":"s","path":"^/bkt/slow$","preset":"s3-slowdown","skip":1,"every":2},
 {"name":"p","path":"^/bkt/preset$","preset":"s3-slowdown"}]'
get bkt/o >/dev/null; rc=$?
check "reset: no answer (curl exit 52 or 56, got $rc)" test "$rc" = 52 -o "$rc" = 56
get bkt/o >/dev/null; rc=$?
check "cut: a partial transfer (curl exit 18, got $rc) of 100 bytes" \
	test "$rc" = 18 -a "$(stat -c %s "$NV_TMP/got")" = 100
check "corrupt_response: 200" test "$(get bkt/o)" = 200
check "corrupt_response: the same length, byte 6 differs" \
	test "$(cmp "$NV_TMP/got" "$obj" | sed 's/.*byte \([0-9]*\),.*/\1/')" = 6
check "times 1 each: the fourth GET is passed through intact" sh -c 'curl -s "$1/bkt/o" | cmp -s - "$2"' sh "$FP_URL" "$obj"
check "rewrite: the listing says truncated" sh -c 'curl -s "$1/bkt?list-type=2" | grep -q "<IsTruncated>true"' sh "$FP_URL"
check "respond: {{n}} counts firings, {{q:..}} decodes and escapes" \
	test "$(curl -s "$FP_URL/bkt/tmpl?tok=a%26b")$(curl -s "$FP_URL/bkt/tmpl?tok=z")" = "<a>1 a&amp;b</a><a>2 z</a>"
codes=
for _ in 1 2 3 4 5; do codes="$codes$(get bkt/slow) "; done
check "skip 1, every 2: the 3rd and 5th match answered ($codes)" test "$codes" = "404 404 503 404 503 "
check "the preset's SlowDown body and Retry-After" sh -c \
	'curl -si "$1/bkt/preset" | tr -d "\r" >"$2" && grep -q "^HTTP/1.1 503" "$2" &&
	 grep -q "^Retry-After: 1$" "$2" && grep -q "<Code>SlowDown</Code>" "$2"' sh "$FP_URL" "$NV_TMP/preset"
check "the log: 5 GETs of bkt/o: reset, cut, 2 passed (and 1 corrupted)" test "$(nv_faultproxy_count '^GET /bkt/o$')" = 5 -a \
	"$(nv_faultproxy_count -r r '^GET /bkt/o$')$(nv_faultproxy_count -r c '^GET /bkt/o$')$(nv_faultproxy_count -r - '^GET /bkt/o$')" = 112
check "the log: statuses reset and cut" sh -c 'grep -q "^GET /bkt/o reset r$" "$1" && grep -q "^GET /bkt/o cut c$" "$1"' sh "$FP_LOG"

# The control endpoint replaces the rules at run time.
check "PUT /__faultproxy/rules" sh -c 'curl -s -X PUT --data "[{\"name\":\"cr\",\"method\":\"PUT\",\"action\":\"corrupt_request\",\"times\":1}]" "$1/__faultproxy/rules" | grep -q "\"rules\":1"' sh "$FP_URL"
curl -s -X PUT --data-binary @"$obj" "$FP_URL/bkt/o2" -o /dev/null
check "corrupt_request: the server stored other bytes of the same length" sh -c \
	'curl -s "$1/bkt/o2" >"$3" && ! cmp -s "$3" "$2" && test "$(stat -c %s "$3")" = 1000' sh "$FP_URL" "$obj" "$NV_TMP/o2"
check "GET /__faultproxy/rules shows the counters" sh -c \
	'curl -s "$1/__faultproxy/rules" | grep -q "\"seen\":1,\"fired\":1"' sh "$FP_URL"
check "a bad rule is refused (400)" test "$(curl -s -X PUT --data '[{"action":"explode"}]' "$FP_URL/__faultproxy/rules" -o /dev/null -w '%{http_code}')" = 400

nv_faultproxy_rules '[{"name":"fw","method":"PUT","forward":true,"status":500,"times":1}]'
check "respond with forward: the client hears 500" \
	test "$(curl -s -X PUT --data hello "$FP_URL/bkt/o3" -o /dev/null -w '%{http_code}')" = 500
check "... and the server did the work" test "$(curl -s "$FP_URL/bkt/o3")" = hello
nv_done
