# faultproxy.sh: starts and stops the fault-injecting proxy (faultproxy.js, whose
# opening comment is the rules' reference) for tests; source it after
# tests/lib/common.sh and the server it fronts (s3rver.sh or azurite.sh).
#
#   nv_start_faultproxy UPSTREAM_URL [RULES_JSON]
#                               a proxy on 127.0.0.1 (port 0: the kernel picks a
#                               free one, outside any race with other tests) in
#                               front of UPSTREAM_URL (http://127.0.0.1:PORT);
#                               sets FP_PORT, FP_PID, FP_URL (http://127.0.0.1:FP_PORT),
#                               FP_RULES (its rules file) and FP_LOG (its request log,
#                               "METHOD PATH?QUERY STATUS RULE" per line)
#   nv_faultproxy_rules JSON    replaces the rules (an array; "[]" passes all through)
#                               and the rules' counters; takes effect on the next request
#   nv_faultproxy_count [-r RULE] REGEX
#                               how many logged requests match REGEX (an ERE on
#                               "METHOD PATH?QUERY": anchor it with ^ and $ for one
#                               exact request); with -r only those RULE decided
#                               ("-" for those passed through)
#   nv_faultproxy_clear_log     empties the request log
#   nv_stop_faultproxy [PID]    stops it (also done at exit)
#
# S3 through it: AWS_ENDPOINT_URL=$FP_URL (SigV4 signs the Host header, which the
# proxy passes on unchanged). Azure: endpoint $FP_URL/$AZ_ACCOUNT.

nv_start_faultproxy() {
	local js="$NV_SRCDIR/tests/servers/faultproxy.js" dir
	command -v node >/dev/null || nv_need "node (for the fault proxy)"
	dir=$(mktemp -d "$NV_TMP/faultproxy.XXXXXX")
	FP_RULES=$dir/rules.json
	FP_LOG=$dir/requests.log
	printf '%s\n' "${2:-[]}" >"$FP_RULES"
	: >"$FP_LOG"
	node "$js" --upstream "$1" --rules "$FP_RULES" --log "$FP_LOG" >"$dir/out" 2>"$dir/err" &
	FP_PID=$!
	nv_at_exit "nv_stop_faultproxy $FP_PID"
	FP_PORT=
	for _ in $(seq 1 200); do
		FP_PORT=$(sed -n 's/^ready \([0-9][0-9]*\)$/\1/p' "$dir/out" 2>/dev/null)
		[ -n "$FP_PORT" ] && break
		kill -0 "$FP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$FP_PORT" ]; then
		cat "$dir/err" >&2
		nv_die "the fault proxy did not start"
	fi
	FP_URL="http://127.0.0.1:$FP_PORT"
	export FP_PORT FP_URL FP_RULES FP_LOG
}

# Written beside the file and renamed over it: the proxy sees a new inode,
# never a half-written file.
nv_faultproxy_rules() {
	printf '%s\n' "$1" >"$FP_RULES.new" && mv "$FP_RULES.new" "$FP_RULES"
}

nv_faultproxy_count() {
	local rule=
	if [ "$1" = -r ]; then rule=$2; shift 2; fi
	# The log line is "METHOD URL STATUS RULE": REGEX sees the first two fields.
	awk -v re="$1" -v rule="$rule" '($1 " " $2) ~ re && (rule == "" || $4 == rule) { n++ }
		END { print n + 0 }' "$FP_LOG"
}

nv_faultproxy_clear_log() { : >"$FP_LOG"; }

nv_stop_faultproxy() {
	local pid=${1:-${FP_PID:-}}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	return 0
}
