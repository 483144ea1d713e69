# common.sh: helpers every shell test sources (. "$NV_SRCDIR/tests/lib/common.sh").
# Gives a private temp dir cleaned at exit, assertions, free ports and server checks.
set -u
: "${NAVETTE:?run through make check (NAVETTE unset)}"
: "${NV_SRCDIR:?}"
NV_TMP=$(mktemp -d "${TMPDIR:-/tmp}/navette-test.XXXXXX")
chmod 700 "$NV_TMP"
nv_cleanup_hooks=""
nv_at_exit() { nv_cleanup_hooks="$1; $nv_cleanup_hooks"; }
nv_cleanup() { eval "$nv_cleanup_hooks" 2>/dev/null; rm -rf "$NV_TMP"; }
trap nv_cleanup EXIT
export HOME="$NV_TMP/home"; mkdir -p "$HOME"; chmod 700 "$HOME"
unset XDG_CONFIG_HOME NAVETTE_CONFIG

nv_pass=0
nv_fail=0
nv_skip() { echo "SKIP: $*"; exit 77; }
nv_die() { echo "FAIL: $*" >&2; exit 1; }
ok() { nv_pass=$((nv_pass + 1)); echo "ok - $*"; }
not_ok() { nv_fail=$((nv_fail + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
jqt() { jq -e "$@" >/dev/null; }   # a jq test (for check), its value unprinted
# expect_exit CODE DESCRIPTION COMMAND...: runs the command, stderr kept in $NV_TMP/err.
expect_exit() {
	local want=$1 d=$2 got; shift 2
	"$@" >"$NV_TMP/out" 2>"$NV_TMP/err"; got=$?
	if [ "$got" -eq "$want" ]; then ok "$d"; else
		not_ok "$d (exit $got, wanted $want)"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
# expect_err PATTERN DESCRIPTION: the last expect_exit's stderr matches PATTERN (grep -E).
expect_err() {
	if grep -Eq -- "$1" "$NV_TMP/err"; then ok "$2"; else
		not_ok "$2 (stderr lacks /$1/)"; sed 's/^/    /' "$NV_TMP/err" | head -20; fi
}
# nv_flip_byte FILE OFFSET: invert one byte in place, so the file surely
# changes (writing a constant leaves it unchanged when that byte already held it).
nv_flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || nv_die "nv_flip_byte: $1 has no byte at $2"
	printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
nv_done() { echo "$nv_pass passed, $nv_fail failed"; [ "$nv_fail" -eq 0 ]; }

# A TCP port nobody listens on now (loopback only), below the kernel's
# ephemeral range (ip_local_port_range): a port inside it may be taken by an
# outgoing connection between this check and the server's bind.
nv_free_port() {
	local p lo=32768
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 11000 ] || lo=32768
	for _ in $(seq 1 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}
# Waits until something listens on port $1 (up to $2 seconds, default 20).
nv_wait_port() {
	local i n=$(( ${2:-20} * 10 ))
	for i in $(seq 1 "$n"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# Servers are optional for a developer's `make check` (the test skips), but the
# README's test command sets NAVETTE_REQUIRE_SERVERS=1 so that CI fails instead.
nv_need() {
	if [ "${NAVETTE_REQUIRE_SERVERS:-0}" = 1 ]; then nv_die "required: $*"; fi
	nv_skip "$*"
}
nv_node_modules() { echo "${NAVETTE_NODE_MODULES:-$NV_SRCDIR/tests/servers/node_modules}"; }
