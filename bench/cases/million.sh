# million.sh: a vault of a million files in bounded memory (issue 16): push,
# no-change re-push, pull, ls, verify and replicate of data set M, each with its
# max RSS (goal: under 256 MiB at defaults) and, for the re-push, its time
# against `navette ls` of the tree (goal: at most 2x, warm cache). Navette only:
# the point is navette's own scaling. Sourced by bench/run.sh.
# The CI stand-in is tests/integration/vault_scaled.sh (50,000 against 200,000).

# bench_gen_M DIR: 1,000,000 files of 12 to 20 bytes, unique, 500 to a directory
# (2,000 directories; 20,000 files when quick). Made by one python3 process; the
# log says the file system and how long it took (about 2 minutes for 200,000
# on ext4 of the shared development machine, so expect 5 to 10 for a million).
bench_gen_M() {
	local n=1000000 t0 t1
	[ "$QUICK" = 1 ] && n=20000
	t0=$(date +%s)
	python3 "$REPO/tests/lib/many_files.py" "$1" "$n" || return 1
	t1=$(date +%s)
	bench_log "data set M: $n files made in $((t1 - t0)) s on $(stat -f -c %T "$1") ($(df -P "$1" | awk 'NR == 2 {print $1}'))"
}

million_ready() {
	bench_navette_has push || return 1
	command -v python3 >/dev/null || { echo "no python3"; return 1; }
}
million_keys() {
	[ -f "$STATE/id.txt" ] && return 0
	"$NAVETTE" keygen -o "$STATE/id.txt" >"$STATE/id.pub" 2>/dev/null &&
		"$NAVETTE" keygen --signing -o "$STATE/sign" >/dev/null 2>&1
}
# million_vault DIR: a vault of data set M at DIR (pushed untimed once per tool).
million_vault() {
	[ -f "$1/navette-vault.json" ] && return 0
	"$NAVETTE" init "$1" --recipients-file "$STATE/id.pub" --signing-key "$STATE/sign" &&
		"$NAVETTE" -q push "$SRC" "$1" --signing-key "$STATE/sign"
}
export_state() { export NAVETTE_STATE_DIR="$STATE/navette-state"; }

# push into a fresh vault (its own state: no cache, nothing landed)
million_push_ready() { million_ready; }
million_push_setup() { export_state; million_keys; }
million_push_prepare() {
	export_state
	"$NAVETTE" init "$RUN/vault" --recipients-file "$STATE/id.pub" --signing-key "$STATE/sign"
}
million_push_run() {
	bench_run "$NAVETTE" push "$SRC" "$RUN/vault" --signing-key "$STATE/sign"
}

# a push that finds nothing changed, beside `navette ls` of the tree (the 2x goal)
million_repush_ready() { million_ready; }
million_repush_setup() { export_state; million_keys && million_vault "$STATE/vault"; }
million_repush_prepare() { export_state; }
million_repush_run() {
	case $1 in
	navette) bench_run "$NAVETTE" push "$SRC" "$STATE/vault" --signing-key "$STATE/sign" ;;
	navette_ls) bench_run "$NAVETTE" ls "$SRC" ;;
	esac
}

# pull, ls, verify and replicate of the vault pushed once
million_read_ready() { million_ready; }
million_read_setup() { export_state; million_keys && million_vault "$STATE/vault"; }
million_read_prepare() { export_state; }
million_pull_run() {
	bench_run "$NAVETTE" pull "$STATE/vault" "$RUN/out" --identity "$STATE/id.txt"
}
million_pull_check() { bench_same_tree "$SRC" "$RUN/out"; }
million_ls_run() { bench_run "$NAVETTE" ls "$STATE/vault" --identity "$STATE/id.txt"; }
million_verify_run() { bench_run "$NAVETTE" verify "$STATE/vault"; }
million_replicate_run() { bench_run "$NAVETTE" replicate "$STATE/vault" "$RUN/replica"; }

bench_case million-push data=M tools="navette" rss=256 hooks=million_push default=no \
	desc="push of data set M (1,000,000 small files) into a fresh vault; files/s and max RSS"
bench_case million-repush data=M tools="navette navette_ls" ref=navette_ls target=0.5 rss=256 \
	hooks=million_repush default=no \
	desc="no-change push of data set M, against navette ls of the tree (goal: at most 2x its time)"
for c in pull ls verify replicate; do
	eval "million_${c}_ready() { million_read_ready; }"
	eval "million_${c}_setup() { million_read_setup; }"
	eval "million_${c}_prepare() { million_read_prepare; }"
	bench_case "million-$c" data=M tools="navette" rss=256 hooks="million_$c" default=no \
		desc="$c of the vault of data set M (pushed once, untimed); files/s and max RSS"
done
