#!/usr/bin/env bash
# compare-builds.sh: two navette binaries side by side (a refactoring must not cost
# speed): the same commands alternated run by run, medians of N, with the other
# processes' CPU recorded per run (a run where they used more than 0.2 cores is
# marked). Run by hand on a quiet machine, never by make check.
#   bench/compare-builds.sh OLD-BINARY NEW-BINARY [RUNS]
# Cases: local sync of A (4 x 256 MiB) and of B (10,000 x 4 KiB), vault push and
# pull of A, copy of A to S3 (s3rver on loopback; skipped without it).
# Data and scratch: $BENCH_DIR (default /var/tmp/navette-cmp).
set -uo pipefail
old=$1 new=$2 runs=${3:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
D=${BENCH_DIR:-/var/tmp/navette-cmp}
mkdir -p "$D"
if [ ! -e "$D/A/.done" ]; then
	mkdir -p "$D/A"; for i in 1 2 3 4; do openssl rand -out "$D/A/f$i" $((256 << 20)); done
	touch "$D/A/.done"
fi
if [ ! -e "$D/B/.done" ]; then
	for d in $(seq -w 0 99); do mkdir -p "$D/B/d$d"
		for f in $(seq -w 0 99); do openssl rand -out "$D/B/d$d/f$f" 4096; done; done
	touch "$D/B/.done"
fi
rm -f "$D/A/.done.x"; export NAVETTE_STATE_DIR=$D/state
mkdir -p "$D/state" && chmod 700 "$D/state"
[ -e "$D/keys/sign" ] || { mkdir -p "$D/keys"; "$new" keygen -o "$D/keys/id.txt" >"$D/keys/id.pub" 2>/dev/null
	"$new" keygen --signing -o "$D/keys/sign" >/dev/null 2>&1; }

busy() { awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat; }
# run NAME CMD...: one timed run; prints wall, own CPU, others' cores
run() {
	local t0 t1 b0 b1 hz out
	shift
	hz=$(getconf CLK_TCK)
	sync; b0=$(busy); t0=$(date +%s.%N)
	out=$(/usr/bin/time -o "$D/time.last" -f '%U %S' "$@" >/dev/null 2>"$D/err.last" || echo "run failed: $*: $(tail -n 2 "$D/err.last")" >&2; tail -n 1 "$D/time.last")
	t1=$(date +%s.%N); b1=$(busy)
	awk -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" -v hz="$hz" -v o="$out" 'BEGIN {
		split(o, c, " "); w = t1 - t0; own = c[1] + c[2];
		oth = (b1 - b0) / hz - own; if (oth < 0) oth = 0;
		printf "%.3f %.3f %.2f\n", w, own, oth / w }'
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

prep_none() { :; }
prep_fresh() { rm -rf "$D/dst"; sync; }
prep_vault() { rm -rf "$D/vault" "$D/state"/*; "$1" init "$D/vault" --recipients-file "$D/keys/id.pub" --signing-key "$D/keys/sign" >/dev/null 2>&1; }
prep_pull() { rm -rf "$D/out"; [ -e "$D/pv/heartbeat.json" ] || { rm -rf "$D/pv"; "$new" init "$D/pv" --recipients-file "$D/keys/id.pub" --signing-key "$D/keys/sign" >/dev/null 2>&1; "$new" push "$D/A" "$D/pv" --signing-key "$D/keys/sign" --fsync none >/dev/null 2>&1; }; }
prep_s3() { :; }

case_cmd() { # case_cmd CASE BIN: the timed command
	case $1 in
	sync-A) echo "$2 sync $D/A $D/dst --fsync none --transfers 4" ;;
	sync-B) echo "$2 sync $D/B $D/dst --fsync none --transfers 4" ;;
	push-A) echo "$2 push $D/A $D/vault --signing-key $D/keys/sign --fsync none --transfers 4" ;;
	pull-A) echo "$2 pull $D/pv $D/out --identity $D/keys/id.txt --signing-pubkey $D/keys/sign.pub --fsync none --transfers 4" ;;
	s3-A) echo "$2 copy $D/A s3c:bkt/run-$RANDOM$RANDOM --transfers 4" ;;
	esac
}
case_prep() { case $1 in sync-*) echo prep_fresh ;; push-A) echo prep_vault ;; pull-A) echo prep_pull ;; s3-A) echo prep_s3 ;; esac; }

cases="sync-A sync-B push-A pull-A"
if [ -e "$here/tests/servers/node_modules/@20minutes/s3rver" ]; then
	export NV_SRCDIR=$here NAVETTE=$new
	. "$here/tests/lib/common.sh" 2>/dev/null
	. "$here/tests/servers/s3rver.sh"
	nv_start_s3rver bkt >/dev/null 2>&1 && {
		printf '[s3c]\ntype = s3\nendpoint = %s\nregion = us-east-1\naccess_key_id = %s\nsecret_access_key = %s\n' \
			"$S3_ENDPOINT" "$S3_KEY" "$S3_SECRET" >"$D/s3.conf"; chmod 600 "$D/s3.conf"
		export NAVETTE_CONFIG=$D/s3.conf; cases="$cases s3-A"; }
fi
printf '| case | old: wall s (CPU s) | new: wall s (CPU s) | new/old wall | others max (cores) |\n|---|---|---|---|---|\n'
for c in $cases; do
	: >"$D/old.$c"; : >"$D/new.$c"
	for i in $(seq 1 "$runs"); do
		for who in old new; do
			bin=${!who}; prep=$(case_prep "$c"); $prep "$bin"
			read -r -a cmd <<<"$(case_cmd "$c" "$bin")"
			run "$c" "${cmd[@]}" >>"$D/$who.$c" || echo "run failed: $c $who" >&2
		done
	done
	ow=$(awk '{print $1}' "$D/old.$c" | median); oc=$(awk '{print $2}' "$D/old.$c" | median)
	nw=$(awk '{print $1}' "$D/new.$c" | median); nc=$(awk '{print $2}' "$D/new.$c" | median)
	mx=$(cat "$D/old.$c" "$D/new.$c" | awk '{print $3}' | sort -g | tail -n 1)
	printf '| %s | %s (%s) | %s (%s) | %.3f | %s |\n' "$c" "$ow" "$oc" "$nw" "$nc" \
		"$(awk -v a="$nw" -v b="$ow" 'BEGIN {print a / b}')" "$mx"
done
