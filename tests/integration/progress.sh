# progress.sh: the progress report of push, pull, verify, replicate, sync, copy and
# check, read as a user sees it (docs/navette.1 OUTPUT, util/progress.h): on a
# terminal (a pseudo-terminal from script(1)) a line rewritten in place, cleared at
# the end; on a pipe nothing unless --progress asks, then "progress:" lines, the
# last one just before the summary; with --log-json, JSON "progress" events. Each
# line's format is checked (files and bytes done of known, '+' while the listing
# goes on, rate, ETA only once the listing is complete, errors) and the last
# report's counts exactly. Runs are made long enough to be seen on a terminal by
# --bwlimit, or by strace slowing each read(2): a lower bound, not a timing.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v script >/dev/null || nv_need "script(1) from util-linux"
command -v python3 >/dev/null && command -v jq >/dev/null || nv_need "python3 and jq"
cd "$NV_TMP" || nv_die "cd"

K=$NV_TMP/keys; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR=$NV_TMP/state
mkdir -p src/sub
head -c 1048576 /dev/urandom >src/big1; head -c 1048576 /dev/urandom >src/sub/big2
for i in 1 2 3 4 5 6; do echo "small $i" >"src/s$i"; done    # 2097200 bytes in all
"$NAVETTE" init V --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
	nv_die "init"

# lines FILE COMMAND-WORD: checks every progress report in FILE (plain lines or
# in-place ones, \r...\e[K, as a terminal gets them) and prints how many there
# were, then the last one with its rate as RATE. Fails on a malformed line, an
# ETA while the listing is not complete, more files or more bytes done than
# known (every command reads each object once: no retry happens here).
lines() {
	python3 - "$@" <<'EOF'
import re, sys
path, cmd = sys.argv[1], sys.argv[2]
text = open(path, "rb").read().decode("utf-8", "replace")
size = r"(\d+ B|\d+\.\d (?:KiB|MiB|GiB|TiB|PiB))"
form = re.compile(r"progress: (\d+) of (\d+)(\+?) files, " + size + " of " + size +
                  r"(\+?), " + size + r"/s, (ETA \d+:\d\d:\d\d, )?(\d+) (errors?)$")
unit = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40, "PiB": 1 << 50}
def n(s):
    v, u = s.split(" ")
    return float(v) * unit[u]
seen = []
for part in re.split(r"[\r\n]+", text):
    if not part.startswith("progress"):
        continue
    line = part[:-3] if part.endswith("\x1b[K") else part
    m = form.match(line)
    if not m:
        sys.exit("malformed: %r" % part)
    fd, fk, fplus, bd, bk, bplus, rate, eta, errs, word = m.groups()
    if fplus != bplus:
        sys.exit("files and bytes disagree on the listing: %r" % line)
    if eta and fplus:
        sys.exit("an ETA before the listing is complete: %r" % line)
    if int(fd) > int(fk):
        sys.exit("more files done than known: %r" % line)
    if n(bd) > n(bk):
        sys.exit("more bytes done than known: %r" % line)
    if (word == "error") != (errs == "1"):
        sys.exit("error count and word disagree: %r" % line)
    seen.append(line.replace(rate + "/s", "RATE/s"))
print(len(seen))
print(seen[-1] if seen else "")
EOF
}
# events FILE COMMAND: every line of FILE is JSON; the progress events carry the
# fields of docs/navette.1 (JSON LOG), an eta only once the listing is complete,
# and the command's name. Prints how many, then the last one's counts and what
# follows it.
events() {
	python3 - "$@" <<'EOF'
import json, sys
path, cmd = sys.argv[1], sys.argv[2]
evs = [json.loads(l) for l in open(path, encoding="utf-8")]
prog = [i for i, e in enumerate(evs) if e.get("event") == "progress"]
keys = ("files_done", "files_known", "bytes_done", "bytes_known", "listing_complete",
        "errors", "elapsed", "rate", "eta", "command")
for i in prog:
    e = evs[i]
    missing = [k for k in keys if k not in e]
    if missing:
        sys.exit("progress event without %s: %r" % (missing, e))
    if e["eta"] is not None and not e["listing_complete"]:
        sys.exit("an eta before the listing is complete: %r" % e)
    if e["command"] != cmd or e["files_done"] > e["files_known"]:
        sys.exit("bad progress event: %r" % e)
if not prog:
    sys.exit("no progress event")
e = evs[prog[-1]]
print(len(prog))
print(e["files_done"], e["files_known"], e["bytes_done"], e["bytes_known"],
      e["listing_complete"], e["errors"], e["eta"], e["rate"] > 0,
      evs[prog[-1] + 1]["event"] if prog[-1] + 1 < len(evs) else "nothing")
EOF
}

# The commands, each on a destination of its own per run ($1: a suffix).
run_cmd() {
	local c=$1 s=$2; shift 2
	case $c in
	copy) "$NAVETTE" "$@" copy src "c$s" ;;
	sync) "$NAVETTE" "$@" sync src "y$s" ;;
	check) "$NAVETTE" "$@" check src c0 ;;
	push) "$NAVETTE" "$@" push src V --signing-key "$K/sign" ;;
	pull) "$NAVETTE" "$@" pull V "r$s" --identity "$K/id.txt" ;;
	verify) "$NAVETTE" "$@" verify V --level hash ;;
	deep) "$NAVETTE" "$@" verify V --level deep --identity "$K/id.txt" ;;
	replicate) "$NAVETTE" "$@" replicate V "p$s" ;;
	esac
}
# What the last report says: files and bytes of the whole run. check reads both
# sides; verify and replicate count objects (the catalog is one more); deep
# counts the files it decrypts.
final() {
	case $1 in
	check) echo "8 of 8 files, 4.0 MiB of 4.0 MiB" ;;
	verify | replicate) echo "9 of 9 files, 2.0 MiB of 2.0 MiB" ;;
	*) echo "8 of 8 files, 2.0 MiB of 2.0 MiB" ;;
	esac
}
export NAVETTE_PROGRESS_MS=10
# The order matters: check compares with c0 (copy's), pull and the rest read V.
CMDS="copy sync check push pull verify deep replicate"
for c in $CMDS; do
	# On a pipe, unasked: nothing. Asked: lines.
	expect_exit 0 "$c on a pipe" run_cmd $c 0
	check "  $c: no progress on a pipe unless asked" test "$(grep -c progress "$NV_TMP/err")" -eq 0
	expect_exit 0 "$c --progress on a pipe" run_cmd $c 1 --progress
	lines "$NV_TMP/err" $c >"$NV_TMP/l" || not_ok "  $c: every progress line well formed: $(cat "$NV_TMP/l")"
	check "  $c: the last report, just before the summary: everything done, ETA 0" \
		test "$(tail -n 1 "$NV_TMP/l")" = "progress: $(final $c), RATE/s, ETA 0:00:00, 0 errors" -a \
		"$(grep -v '^progress' "$NV_TMP/err" | tail -n 1 | cut -c1-8)" = "navette:" -a \
		"$(tail -n 2 "$NV_TMP/err" | head -n 1 | cut -c1-10)" = "progress: "
	# JSON events.
	expect_exit 0 "$c --progress --log-json" run_cmd $c 2 --progress --log-json
	if events "$NV_TMP/err" "$(echo $c | sed 's/deep/verify/')" >"$NV_TMP/e"; then
		ok "  $c: every JSON line parses, progress events well formed"
	else
		not_ok "  $c: JSON progress events: $(cat "$NV_TMP/e")"
	fi
	# files, then bytes: of the plaintext (copy, sync, push, pull), both sides
	# (check), stored (verify --level hash, replicate), decrypted (deep: the
	# catalog was read and checked before, once, as every object is).
	case $c in
	check) want="8 8 4194400" ;;
	verify | replicate) want="9 9 $(find V/objects -type f -printf '%s\n' | awk '{s += $1} END {print s}')" ;;
	*) want="8 8 2097200" ;;
	esac
	want="$want ${want##* } True 0 0.0 True summary"
	check "  $c: the last event counts everything, then the summary ($(tail -n 1 "$NV_TMP/e"))" \
		test "$(tail -n 1 "$NV_TMP/e")" = "$want"
	check "  $c: no plain text in the JSON stream" test "$(grep -c '^progress' "$NV_TMP/err")" -eq 0
	# A JSON log that did not ask has no progress, whatever stderr is.
	expect_exit 0 "$c --log-json, unasked" run_cmd $c 3 --log-json
	check "  $c: no progress event" test "$(grep -c '"event":"progress"' "$NV_TMP/err")" -eq 0
done

# ---- errors are counted ----
expect_exit 3 "copy --progress, one file failing" env NAVETTE_FAULT=read@3=perm \
	"$NAVETTE" --progress copy --transfers 1 src ce
lines "$NV_TMP/err" copy >"$NV_TMP/l" || not_ok "  copy: well formed: $(cat "$NV_TMP/l")"
check "  the last report counts 1 error" \
	test "$(tail -n 1 "$NV_TMP/l")" = "progress: 8 of 8 files, 2.0 MiB of 2.0 MiB, RATE/s, ETA 0:00:00, 1 error"
cp -a c0 cd; echo changed >>cd/s1; echo "small 9" >cd/s2; rm cd/s3; echo x >cd/extra
expect_exit 1 "check --progress, with differences" "$NAVETTE" --progress check src cd
lines "$NV_TMP/err" check >"$NV_TMP/l" || not_ok "  check: well formed: $(cat "$NV_TMP/l")"
# s1 (size) and s2 (SHA-256) differ, s3 is missing, extra is only at DST: 4
# errors; 7 files of SRC are at DST (one compared by hash: both sides read).
check "  check counts each difference as an error (was 0)" \
	test "$(tail -n 1 "$NV_TMP/l")" = "progress: 8 of 8 files, 4.0 MiB of 4.0 MiB, RATE/s, ETA 0:00:00, 4 errors"
cp -a V Vt
obj=$(find Vt/objects -type f -size +1000k | head -n 1)
nv_flip_byte "$obj" 100
expect_exit 1 "verify --progress of a tampered vault" "$NAVETTE" --progress verify Vt --level hash
lines "$NV_TMP/err" verify >"$NV_TMP/l" || not_ok "  verify: well formed: $(cat "$NV_TMP/l")"
check "  the last report counts 1 error" \
	test "$(tail -n 1 "$NV_TMP/l")" = "progress: 9 of 9 files, 2.0 MiB of 2.0 MiB, RATE/s, ETA 0:00:00, 1 error"

# ---- on a terminal ----
# tty_run OUT COMMAND...: COMMAND with stdin, stdout and stderr on a
# pseudo-terminal; its exit status is script's.
tty_run() {
	local out=$1 q; shift
	q=$(printf '%q ' "$@")
	SHELL=$(command -v bash) script -qec "$q" /dev/null >"$out" 2>&1 </dev/null
}
SLOW=()
if strace -f -qq -o /dev/null -e trace=read -e inject=read:delay_enter=1 true 2>/dev/null; then
	# Each read(2) waits 50 ms: a lower bound on the run, whatever the machine.
	SLOW=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o /dev/null
	      -e trace=read -e inject=read:delay_enter=50000)
fi
for c in $CMDS; do
	# push reads again only what changed: new mtimes make it read 2 MiB
	[ $c = push ] && touch src/big1 src/sub/big2
	case $c in
	check | verify | deep)
		if [ ${#SLOW[@]} = 0 ]; then echo "# $c on a terminal: skipped (strace cannot trace here)"; continue; fi
		tty_run "$NV_TMP/tty" "${SLOW[@]}" "$(command -v bash)" -c "$(declare -f run_cmd); $(
			declare -p K NAVETTE); run_cmd $c 4" ;;
	*)	# --bwlimit 2M: 2 MiB take a second at least
		tty_run "$NV_TMP/tty" "$(command -v bash)" -c "$(declare -f run_cmd); $(
			declare -p K NAVETTE); run_cmd $c 4 --bwlimit 2M" ;;
	esac
	rc=$?
	check "$c on a terminal: exit 0 (got $rc)" test "$rc" -eq 0
	check "  $c: the report is rewritten in place" grep -qF $'\rprogress: ' "$NV_TMP/tty"
	lines "$NV_TMP/tty" $c >"$NV_TMP/l" || not_ok "  $c: every in-place report well formed: $(cat "$NV_TMP/l")"
	check "  $c: no report on a line of its own" test "$(grep -c '^progress' "$NV_TMP/tty")" -eq 0
	check "  $c: the line is cleared before the summary" \
		python3 -c 'import sys; t = open(sys.argv[1], "rb").read(); i = t.rfind(b"\rprogress: ");
sys.exit(not (i >= 0 and t.find(b"\r\x1b[K", i) > i and t.find(b"navette: ", i) > t.find(b"\r\x1b[K", i)))' "$NV_TMP/tty"
done
# -q and --log-json keep a terminal free of progress (unless --progress).
tty_run "$NV_TMP/tty" "$NAVETTE" -q --bwlimit 4M push src V --signing-key "$K/sign"
check "push -q on a terminal: no progress" test "$(grep -c progress "$NV_TMP/tty")" -eq 0
tty_run "$NV_TMP/tty" "$NAVETTE" --log-json --bwlimit 4M pull V r5 --identity "$K/id.txt"
check "pull --log-json on a terminal: no progress" test "$(grep -c progress "$NV_TMP/tty")" -eq 0
tty_run "$NV_TMP/tty" "$NAVETTE" --log-json --progress --bwlimit 4M pull V r6 --identity "$K/id.txt"
check "pull --log-json --progress on a terminal: JSON events, no plain line" \
	sh -c 'grep -q "\"event\":\"progress\"" "$1" && ! grep -qF "progress: " "$1"' sh "$NV_TMP/tty"
nv_done
