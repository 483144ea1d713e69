# cli_output.sh: output that names from a store cannot forge. Hostile names
# (newline, ESC, C1, bidi, line separator, invalid UTF-8, backslash) through
# sync, ls, ls --json, --log-json and a vault (push, ls, pull, a crafted
# manifest time through log and log --json): human output escaped exactly as
# docs/navette.1 says, every JSON line parsed, no raw control character.
# Also the progress report: JSON events with --progress --log-json, lines with
# --progress on a pipe, nothing unasked on a pipe, in place on a terminal.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v python3 >/dev/null && command -v age >/dev/null || nv_need "python3 and stock age"

cd "$NV_TMP" || nv_die "cd"
EVIL=$'x\e]0;PWNED\a\nnavette: copied 0 files, all fine'
mkdir -p src
for n in "$EVIL" $'bad\xffutf8' $'bidi\xe2\x80\xaeevil' $'c1\xc2\x9bX' 'back\slash' \
	$'ls\xe2\x80\xa8sep'; do
	: >"src/$n"
done
echo hi >src/normal
find src -exec touch -h -d '2001-02-03 04:05:06 UTC' {} +

# jsonl FILE FIELD...: every line of FILE must be UTF-8 JSON (else the test
# fails); prints the FIELDs of each line as an ASCII JSON array.
jsonl() {
	python3 - "$@" <<'EOF'
import json, sys
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        o = json.loads(line.decode("utf-8"))
    except Exception as e:
        sys.exit("line %d is not JSON: %r (%s)" % (n, line, e))
    print(json.dumps([o.get(f) for f in sys.argv[2:]]))
EOF
}
# safe FILE: no raw C0 control but newline, no DEL (grep), and valid UTF-8
# without C1 controls, line separators or bidi controls (python).
safe() {
	! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$1" && python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8")
sys.exit(1 if re.search("[\u0080-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", t) else 0)
EOF
}
# same DESCRIPTION FILE: FILE holds exactly the lines of $NV_TMP/want (sorted:
# workers finish in any order).
same() {
	if diff <(LC_ALL=C sort "$NV_TMP/want") <(LC_ALL=C sort "$2") >"$NV_TMP/diff"; then ok "$1"
	else not_ok "$1"; sed 's/^/    /' "$NV_TMP/diff" | head -20; fi
}
keep_out() { cp "$NV_TMP/out" "$NV_TMP/$1"; }
keep_err() { cp "$NV_TMP/err" "$NV_TMP/$1"; }

# ---- sync: the unsafe name is skipped (exit 3), the others copied ----
expect_exit 3 "sync with hostile names" "$NAVETTE" -v sync --transfers 1 src dst
sed 's/([0-9.]* MiB, [0-9.]* MiB\/s)/(T)/; s/in [0-9.]* s\([;]\|$\)/in T s\1/' "$NV_TMP/err" >"$NV_TMP/sync.err"
cat >"$NV_TMP/want" <<'EOF'
navette: warning: src: skipping unsafe name: key 'x\x1b]0;PWNED\x07\x0anavette: copied 0 files, all fine' holds a control character
copied back\\slash
copied bad\xffutf8
copied bidi\u{202e}evil
copied c1\u{9b}X
copied ls\u{2028}sep
copied normal
navette: 6 copied (T), 0 unchanged, 0 deleted, 1 failed, 0 failed verification, in T s; SHA-256 computed for 6, size confirmed for 6, MD5 for 0, read back for 0
EOF
same "sync: every name escaped, exactly" "$NV_TMP/sync.err"
check "sync: no raw control character" safe "$NV_TMP/err"
printf '%s\n' 'back\slash' $'bad\xffutf8' $'bidi\xe2\x80\xaeevil' $'c1\xc2\x9bX' $'ls\xe2\x80\xa8sep' normal >"$NV_TMP/want"
check "sync: the names arrived as they are" diff "$NV_TMP/want" <(cd dst && LC_ALL=C ls -A)

# ---- ls and ls --json ----
expect_exit 0 "ls" "$NAVETTE" ls dst
when=2001-02-03T04:05:06Z
{
	for n in 'back\\slash' 'bad\xffutf8' 'bidi\u{202e}evil' 'c1\u{9b}X' 'ls\u{2028}sep'; do
		printf '%12s %-20s %s\n' 0 "$when" "$n"
	done
	printf '%12s %-20s %s\n' 3 "$when" normal
} >"$NV_TMP/want"
check "ls: exact lines, in key order" cmp "$NV_TMP/want" "$NV_TMP/out"
check "ls: no raw control character" safe "$NV_TMP/out"
expect_exit 0 "ls --json" "$NAVETTE" ls --json dst
jsonl "$NV_TMP/out" path path_hex size mtime >"$NV_TMP/ls.json" && ok "ls --json: every line parses" ||
	not_ok "ls --json: every line parses"
cat >"$NV_TMP/want" <<'EOF'
["back\\slash", null, 0, "2001-02-03T04:05:06Z"]
["bad\ufffdutf8", "626164ff75746638", 0, "2001-02-03T04:05:06Z"]
["bidi\u202eevil", null, 0, "2001-02-03T04:05:06Z"]
["c1\u009bX", null, 0, "2001-02-03T04:05:06Z"]
["ls\u2028sep", null, 0, "2001-02-03T04:05:06Z"]
["normal", null, 3, "2001-02-03T04:05:06Z"]
EOF
check "ls --json: exact values, invalid UTF-8 as path_hex" cmp "$NV_TMP/want" "$NV_TMP/ls.json"
check "ls --json: no raw control character" safe "$NV_TMP/out"

# ---- --log-json: one schema, every line JSON ----
expect_exit 3 "sync --log-json" "$NAVETTE" -v --log-json sync --transfers 1 src dst2
keep_err sync.jsonl
jsonl sync.jsonl v event action path path_hex reason >"$NV_TMP/events" &&
	ok "--log-json: every line parses" || not_ok "--log-json: every line parses"
cat >"$NV_TMP/want" <<'EOF'
[1, "start", null, null, null, null]
[1, "item", "skipped", "x\u001b]0;PWNED\u0007\nnavette: copied 0 files, all fine", null, "key 'x\u001b]0;PWNED\u0007\nnavette: copied 0 files, all fine' holds a control character"]
[1, "item", "copied", "back\\slash", null, null]
[1, "item", "copied", "bad\ufffdutf8", "626164ff75746638", null]
[1, "item", "copied", "bidi\u202eevil", null, null]
[1, "item", "copied", "c1\u009bX", null, null]
[1, "item", "copied", "ls\u2028sep", null, null]
[1, "item", "copied", "normal", null, null]
[1, "summary", null, null, null, null]
EOF
same "--log-json: the events, names exact" "$NV_TMP/events"
check "--log-json: start first, summary last" test "$(head -n 1 "$NV_TMP/events" | cut -c1-12)$(tail -n 1 "$NV_TMP/events")" = '[1, "start",[1, "summary", null, null, null, null]'
jsonl sync.jsonl command locations >"$NV_TMP/start"
check "start: command and locations" test "$(head -n 1 "$NV_TMP/start")" = '["sync", ["src", "dst2"]]'
jsonl sync.jsonl files bytes failed deleted generation exit unchanged >"$NV_TMP/summary"
check "summary: numbers as fields" test "$(tail -n 1 "$NV_TMP/summary")" = '[6, 3, 1, 0, null, 3, 0]'
expect_exit 4 "a URL with a password (nothing listens)" "$NAVETTE" --log-json ls 'sftp://bob:hunter2@127.0.0.1:1/d?sig=S'
check "start: the location without its credentials" test "$(jsonl "$NV_TMP/err" locations | head -n 1)" = '[["sftp://127.0.0.1:1/d"]]'
check "copied items carry the SHA-256" test "$(grep -c '"action":"copied","path":"normal","sha256":"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"' sync.jsonl)" -eq 1
check "--log-json: no raw control character" safe sync.jsonl
# a usage error under --log-json is a JSON line too
expect_exit 2 "usage error under --log-json" "$NAVETTE" --log-json sync --transfers $'\e[31m' src dst2
check "usage error: JSON" test "$(jsonl "$NV_TMP/err" event level msg)" = '["message", "error", "bad value for --transfers (try navette --help)"]'
expect_exit 2 "usage error, human" "$NAVETTE" sync --level $'\e[2J' src dst2
check "usage error: argument escaped" grep -qF "not '\\x1b[2J'" "$NV_TMP/err"

# ---- progress ----
head -c 30000000 /dev/zero >src/zeros
expect_exit 3 "sync --progress --log-json" env NAVETTE_PROGRESS_MS=20 "$NAVETTE" --log-json --progress sync src dst3
keep_err progress.jsonl
jsonl progress.jsonl event files_done files_known bytes_done bytes_known listing_complete errors >"$NV_TMP/pevents" &&
	ok "--progress --log-json: every line parses" || not_ok "--progress --log-json: every line parses"
check "no plain progress line in the JSON stream" test "$(grep -c '^progress' progress.jsonl)" -eq 0
check "progress events" grep -q '^\["progress", ' "$NV_TMP/pevents"
check "the last progress event, just before the summary" test "$(tail -n 2 "$NV_TMP/pevents" | tr -d '\n')" = '["progress", 7, 7, 30000003, 30000003, true, 1]["summary", null, null, null, null, null, null]'
jsonl progress.jsonl event rate eta elapsed | grep '^\["progress"' | tail -n 1 >"$NV_TMP/plast"
check "progress: rate, eta 0 at the end, elapsed" python3 -c 'import json,sys; e,r,eta,el=json.load(open(sys.argv[1])); sys.exit(not (r > 0 and eta == 0 and el > 0))' "$NV_TMP/plast"
expect_exit 3 "sync --progress on a pipe" "$NAVETTE" --progress sync src dst4
check "a progress: line, just before the summary" eval 'tail -n 2 "$NV_TMP/err" | head -n 1 |
	grep -Eq "^progress: 7 of 7 files, 28\.6 MiB of 28\.6 MiB, [0-9.]+ (B|KiB|MiB|GiB)/s, ETA 0:00:00, 1 error\$"'
expect_exit 3 "sync on a pipe, unasked" env NAVETTE_PROGRESS_MS=10 "$NAVETTE" sync src dst5
check "no progress on a pipe unless asked" test "$(grep -c progress "$NV_TMP/err")" -eq 0
if command -v script >/dev/null; then
	tty_run() { script -qec "env NAVETTE_PROGRESS_MS=10 $*" /dev/null >"$NV_TMP/tty" 2>&1 </dev/null; }
	tty_run "'$NAVETTE' sync src dst6"
	check "a terminal gets the progress line in place" grep -qF $'\rprogress: ' "$NV_TMP/tty"
	check "and it is cleared at the end" grep -qF $'\r\e[K' "$NV_TMP/tty"
	tty_run "'$NAVETTE' -q sync src dst7"
	check "-q: no progress on a terminal" test "$(grep -c progress "$NV_TMP/tty")" -eq 0
	tty_run "'$NAVETTE' --log-json sync src dst8"
	check "--log-json on a terminal: no plain progress" test "$(grep -c 'progress' "$NV_TMP/tty")" -eq 0
else
	not_ok "script(1) (util-linux) is needed for the terminal tests"
fi
rm src/zeros

# ---- a vault: push, ls, pull, log ----
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
"$NAVETTE" init V --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
I=(--identity "$K/id.txt")
rm "src/$EVIL"
# regression: a name that is not UTF-8 published a catalog no reader could open
expect_exit 3 "push of a name that is not UTF-8 fails it" "$NAVETTE" -v push src V --signing-key "$K/sign"
expect_err '^failed bad\\xffutf8: the name is not valid UTF-8' "the file named, escaped"
check "nothing published" test ! -e V/manifests/00000000000000000001.json
rm src/$'bad\xffutf8'
expect_exit 0 "push of hostile names" "$NAVETTE" -v --log-json push src V --signing-key "$K/sign"
keep_err push.jsonl
jsonl push.jsonl event action path >"$NV_TMP/pushed" && ok "push --log-json parses" || not_ok "push --log-json parses"
check "push: summary of generation 1" test "$(jsonl push.jsonl event generation files exit | tail -n 1)" = '["summary", 1, 5, 0]'
expect_exit 0 "ls of the vault" "$NAVETTE" ls V "${I[@]}"
{
	for n in 'back\\slash' 'bidi\u{202e}evil' 'c1\u{9b}X' 'ls\u{2028}sep'; do
		printf '%12s %-20s %s\n' 0 "$when" "$n"
	done
	printf '%12s %-20s %s\n' 3 "$when" normal
} >"$NV_TMP/want"
check "vault ls: exact lines" cmp "$NV_TMP/want" "$NV_TMP/out"
expect_exit 0 "ls --json of the vault" "$NAVETTE" ls --json V "${I[@]}"
check "vault ls --json: exact paths" test "$(jsonl "$NV_TMP/out" path | tr -d '\n')" = '["back\\slash"]["bidi\u202eevil"]["c1\u009bX"]["ls\u2028sep"]["normal"]'
expect_exit 0 "pull of hostile names" "$NAVETTE" -v pull V R "${I[@]}"
printf 'restored %s\n' 'back\\slash' 'bidi\u{202e}evil' 'c1\u{9b}X' 'ls\u{2028}sep' normal >"$NV_TMP/want"
grep -v '^navette: pull:' "$NV_TMP/err" >"$NV_TMP/pulled"
same "pull: restored names, exact" "$NV_TMP/pulled"
check "pull: no raw control character" safe "$NV_TMP/err"
check "pull: the files as they were" diff -r src R

# a generation whose manifest time and catalog path were crafted
printf '[{"path": "evil\\u001b]0;PWNED\\u0007\\nx", "data": "x"}]' >entries.json
python3 "$NV_SRCDIR/tests/integration/vault_craft.py" gen V "$(cat "$K/id.pub")" "$K/sign" \
	entries.json $'2026-01-01T00:00:00Z\e[31m\nfine' >/dev/null || nv_die "crafting"
# 31 bytes kept of 32: the time ends inside a UTF-8 sequence
python3 "$NV_SRCDIR/tests/integration/vault_craft.py" gen V "$(cat "$K/id.pub")" "$K/sign" \
	entries.json $'2026-01-01T00:00:00Z0123456789\xc3\xa9' >/dev/null || nv_die "crafting"
expect_exit 0 "log of crafted times" "$NAVETTE" log V
sed -n '3,4p' "$NV_TMP/out" >"$NV_TMP/log.crafted"
printf '%8s  %s  %8s  %14s  signed\n' 2 '2026-01-01T00:00:00Z\x1b[31m\x0afine' 2 768 \
	3 '2026-01-01T00:00:00Z0123456789\xc3' 2 768 >"$NV_TMP/want"
check "log: crafted times escaped, exactly" cmp "$NV_TMP/want" "$NV_TMP/log.crafted"
check "log: no raw control character" safe "$NV_TMP/out"
expect_exit 0 "log --json of crafted times" "$NAVETTE" log --json V
jsonl "$NV_TMP/out" generation time time_hex | tail -n 2 >"$NV_TMP/logj" &&
	ok "log --json: every line parses" || not_ok "log --json: every line parses"
cat >"$NV_TMP/want" <<'EOF'
[2, "2026-01-01T00:00:00Z\u001b[31m\nfine", null]
[3, "2026-01-01T00:00:00Z0123456789\ufffd", "323032362d30312d30315430303a30303a30305a30313233343536373839c3"]
EOF
check "log --json: exact times, the cut one as time_hex" cmp "$NV_TMP/want" "$NV_TMP/logj"
expect_exit 1 "ls of a crafted catalog path" "$NAVETTE" ls V "${I[@]}"
check "the path escaped in the error" test "$(cat "$NV_TMP/err")" = "navette: error: catalog: unsafe path refused: key 'evil\\x1b]0;PWNED\\x07\\x0ax' holds a control character"
expect_exit 1 "pull --log-json of a crafted catalog path" "$NAVETTE" --log-json pull V R2 "${I[@]}"
check "pull --log-json: every line parses" eval 'jsonl "$NV_TMP/err" event >/dev/null'
check "pull --log-json: the summary has the exit code" test "$(jsonl "$NV_TMP/err" event exit | tail -n 1)" = '["summary", 1]'
nv_done
