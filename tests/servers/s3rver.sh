# s3rver.sh: starts and stops @20minutes/s3rver for tests; source it after
# tests/lib/common.sh.
#
#   nv_start_s3rver BUCKET...   fresh directory under $NV_TMP, 127.0.0.1, a free port,
#                               the buckets created; sets S3_PORT, S3_PID, S3_ENDPOINT,
#                               S3_KEY, S3_SECRET (s3rver's fixed S3RVER/S3RVER);
#                               with S3RVER_KEY and S3RVER_CERT set it serves https
#   nv_stop_s3rver [PID [SIG]]  stops it (also done at exit)
#   nv_restart_s3rver           starts it again on the same port and store ($S3_DIR)
#   nv_s3rver_rclone_conf FILE  writes an rclone config with remote "s3r" for it
#   nv_s3rver_remote FILE NAME [LINE...]  appends a navette remote NAME for it
#                               (and the extra "key = value" LINEs) to FILE, 0600
S3_KEY=S3RVER
S3_SECRET=S3RVER

nv_start_s3rver() {
	local mods
	mods=$(nv_node_modules)
	command -v node >/dev/null || nv_need "node (for s3rver)"
	[ -d "$mods/@20minutes/s3rver" ] || nv_need "s3rver (cd tests/servers && npm install)"
	S3_PORT=$(nv_free_port) || nv_die "no free port"
	S3_DIR=$(mktemp -d "$NV_TMP/s3rver.XXXXXX")
	nv_s3rver_run "$@"
}

# nv_restart_s3rver: starts s3rver again on the same port and store (after a stop).
nv_restart_s3rver() { nv_s3rver_run; }

nv_s3rver_run() {
	local js="$NV_SRCDIR/tests/servers/s3rver.js" mods dir=$S3_DIR
	mods=$(nv_node_modules)
	: >"$dir.log" # a restart must not see the last run's "ready"
	# Node 20 needs the legacy provider, or ListObjectsV2 continuation tokens
	# fail with InternalError.
	NAVETTE_NODE_MODULES="$mods" node --openssl-legacy-provider "$js" "$S3_PORT" "$dir" "$@" \
		>"$dir.log" 2>&1 &
	S3_PID=$!
	nv_at_exit "nv_stop_s3rver $S3_PID"
	# "ready" comes after the buckets exist, not just after the port opens.
	for _ in $(seq 1 300); do
		grep -q '^ready' "$dir.log" 2>/dev/null && break
		kill -0 "$S3_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' "$dir.log"; then
		cat "$dir.log" >&2
		nv_die "s3rver did not start on port $S3_PORT"
	fi
	if [ -n "${S3RVER_KEY:-}" ]; then S3_ENDPOINT="https://127.0.0.1:$S3_PORT"
	else S3_ENDPOINT="http://127.0.0.1:$S3_PORT"; fi
	export S3_PORT S3_DIR S3_ENDPOINT S3_KEY S3_SECRET
}

nv_stop_s3rver() {
	local pid=${1:-${S3_PID:-}}
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	return 0
}

# nv_s3rver_env: the environment a test's navette uses to reach the started
# s3rver as S3: its credentials and endpoint, sorted listings (s3rver lists in
# directory-walk order, see tests/driver/s3.sh), no conditional writes (s3rver
# ignores If-None-Match), and nothing inherited that would change a request.
nv_s3rver_env() {
	export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET"
	export AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_REGION=us-east-1
	export NAVETTE_LIST_SORT=true NAVETTE_CONDITIONAL_WRITES=false
	unset AWS_SESSION_TOKEN NAVETTE_HTTP_TRACE NAVETTE_FAULT
}

# rclone 1.60 refuses these machines' AWS_CA_BUNDLE: run it with env -u AWS_CA_BUNDLE.
nv_s3rver_rclone_conf() {
	cat >"$1" <<EOF
[s3r]
type = s3
provider = Other
access_key_id = $S3_KEY
secret_access_key = $S3_SECRET
endpoint = $S3_ENDPOINT
region = us-east-1
force_path_style = true
EOF
	chmod 600 "$1"
}

nv_s3rver_remote() {
	local file=$1 name=$2 line
	shift 2
	{
		printf '[%s]\ntype = s3\nendpoint = %s\nregion = us-east-1\n' "$name" "$S3_ENDPOINT"
		printf 'access_key_id = %s\nsecret_access_key = %s\n' "$S3_KEY" "$S3_SECRET"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >>"$file"
	chmod 600 "$file"
}
