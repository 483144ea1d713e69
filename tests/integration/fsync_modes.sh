# fsync_modes.sh: --fsync each|batch|none counted at the system calls (strace), per
# the rule of README "Durability" and docs/local.md: none syncs nothing at the
# destination; batch syncs no file and runs syncfs(2) once per connection that
# wrote (vault publication, by push or publish: once before the manifest, once at
# the end; publish of shards run at --fsync none follows its own --fsync); each
# fsyncs every file before its rename and its directory after it (and after a
# removal, and the parent of a directory made), and never syncfs. Then fsync
# and syncfs made to fail (strace's fault injection, and NAVETTE_FAULT's flush
# slot): the exit code of README "Exit codes", and nothing published.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v strace >/dev/null || nv_skip "strace not installed"
# LeakSanitizer cannot run under ptrace; the rest of ASan can.
NV_ASAN_TRACED="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
strace -f -qq -o "$NV_TMP/probe" -e trace=syncfs sync -f "$NV_TMP" 2>/dev/null &&
	grep -q 'syncfs(' "$NV_TMP/probe" || nv_skip "strace cannot trace in this sandbox"

K=$NV_TMP/keys; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR=$NV_TMP/state
S=$NV_TMP/src
mkdir -p "$S/d1/d2"
for i in 1 2 3; do echo "root $i" >"$S/f$i"; echo "d1 $i" >"$S/d1/g$i"; done
echo z >"$S/d1/d2/z"

# traced LOG COMMAND...: runs COMMAND under strace; LOG gets one line per fsync,
# fdatasync or syncfs: "call path-of-its-fd" (the exit status is COMMAND's), but
# for those inside navette-lease/: the lease's own files are not counted here.
traced() {
	local log=$1 rc; shift
	ASAN_OPTIONS=$NV_ASAN_TRACED strace -f -qq -y -o "$log.raw" \
		-e trace=fsync,fdatasync,syncfs "$@"; rc=$?
	sed -nE 's/^[0-9]+ +(fsync|fdatasync|syncfs)\([0-9]+<([^>]*)>.*/\1 \2/p' "$log.raw" |
		grep -v '/navette-lease/' >"$log"
	return $rc
}
# count LOG REGEX: lines of LOG matching REGEX (grep -E, whole line).
count() { grep -Ecx -- "$2" "$1"; }
# is N WHAT LOG REGEX: exactly N such calls.
is() {
	local got
	got=$(count "$3" "$4")
	if [ "$got" -eq "$1" ]; then ok "$2"; else
		not_ok "$2 ($got calls, wanted $1)"; sed 's/^/    /' "$3" | head -30; fi
}
T='(\.navette-tmp\.[0-9a-f.]+|#[0-9]+)'   # a temporary file: named, or an O_TMPFILE
L=$NV_TMP/log

# ---- copy: 7 files in three directories, one worker ----
for m in none batch each; do
	traced "$L" "$NAVETTE" copy --fsync $m --transfers 1 "$S" "$NV_TMP/c-$m" >/dev/null 2>&1 ||
		not_ok "copy --fsync $m"
	check "copy --fsync $m: copied" diff -r -x navette-lease "$S" "$NV_TMP/c-$m"
	C=$NV_TMP/c-$m
	case $m in
	none)
		is 0 "copy none: no call at the destination" "$L" ".* ($C|$C/.*)" ;;
	batch)
		is 0 "copy batch: no fsync or fdatasync at the destination" "$L" "f(data)?sync ($C|$C/.*)"
		is 1 "copy batch: one syncfs of the destination" "$L" "syncfs $C" ;;
	each)
		is 0 "copy each: no syncfs" "$L" "syncfs .*"
		is 0 "copy each: no fdatasync" "$L" "fdatasync .*"
		is 7 "copy each: one fsync per file, before its rename" "$L" "fsync $C/(d1/(d2/)?)?$T"
		is 3 "copy each: the root's 3 files are synced in it" "$L" "fsync $C/$T"
		is 1 "copy each: d2's directory synced once, after z's rename" "$L" "fsync $C/d1/d2"
		is 4 "copy each: d1 synced after its 3 files and after d2 was made in it" "$L" "fsync $C/d1"
		is 1 "copy each: the new destination's parent synced once" "$L" "fsync $NV_TMP"
		check "copy each: the root synced after its 3 files and d1 made (and the lease's dir)" \
			test "$(count "$L" "fsync $C")" -ge 4 ;;
	esac
	traced "$L" "$NAVETTE" copy --fsync $m "$S" "$C" >/dev/null 2>&1 || not_ok "copy again"
	is 0 "copy $m again, nothing to copy: no data file or its directory synced" "$L" \
		"fsync ($C/d1.*|$C/$T)|syncfs .*"
done
traced "$L" "$NAVETTE" copy --fsync batch --transfers 3 "$S" "$NV_TMP/c3" >/dev/null 2>&1 ||
	not_ok "copy --transfers 3"
check "copy batch, 3 workers: one syncfs per worker that wrote (1 to 3)" \
	sh -c 'n=$(grep -Ecx "syncfs $1" "$2"); [ "$n" -ge 1 ] && [ "$n" -le 3 ]' sh "$NV_TMP/c3" "$L"
is 0 "copy batch, 3 workers: no fsync there" "$L" "f(data)?sync $NV_TMP/c3(/.*)?"

# ---- sync --delete: a removal is synced like a commit ----
rm "$S/d1/g1"
for m in none batch each; do
	C=$NV_TMP/c-$m
	traced "$L" "$NAVETTE" sync --delete --fsync $m "$S" "$C" >/dev/null 2>&1 || not_ok "sync --delete $m"
	check "sync --delete $m: g1 removed" test ! -e "$C/d1/g1"
	case $m in
	none) is 0 "sync --delete none: no call at the destination" "$L" ".* ($C|$C/.*)" ;;
	batch) is 1 "sync --delete batch: one syncfs after the removal" "$L" "syncfs $C"
	       is 0 "sync --delete batch: no fsync" "$L" "fsync ($C|$C/.*)" ;;
	each) is 1 "sync --delete each: d1 synced once, after the removal" "$L" "fsync $C/d1"
	      is 0 "sync --delete each: no syncfs" "$L" "syncfs .*" ;;
	esac
done

# ---- a vault: push, pull, replicate ----
# new_files DIR MARKER: files of DIR (the lease's aside) changed since MARKER.
new_files() { find "$1" -path "$1/navette-lease" -prune -o -type f -cnewer "$2" -print | wc -l; }
for m in none batch each; do
	V=$NV_TMP/v-$m
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 ||
		nv_die "init"
	touch "$NV_TMP/mark"; sleep 0.01
	traced "$L" "$NAVETTE" push "$S" "$V" --signing-key "$K/sign" --fsync $m >/dev/null 2>&1 ||
		not_ok "push --fsync $m"
	case $m in
	none) is 0 "push none: no call in the vault" "$L" ".* ($V|$V/.*)" ;;
	batch) is 2 "push batch: two syncfs (objects before the manifest; the end)" "$L" "syncfs $V"
	       is 0 "push batch: no fsync in the vault" "$L" "fsync ($V|$V/.*)" ;;
	each)
		is 0 "push each: no syncfs" "$L" "syncfs .*"
		n=$(new_files "$V" "$NV_TMP/mark")
		is "$n" "push each: one fsync per file written ($n: objects, catalog, manifest, signatures, heartbeat)" \
			"$L" "fsync $V/([^/]+/)*$T"
		is 2 "push each: manifests/ synced after the manifest and after its signature" "$L" "fsync $V/manifests" ;;
	esac
	R=$NV_TMP/r-$m
	traced "$L" "$NAVETTE" pull "$V" "$R" --identity "$K/id.txt" --fsync $m --transfers 1 >/dev/null 2>&1 ||
		not_ok "pull --fsync $m"
	check "pull --fsync $m: restored" diff -r "$S" "$R"
	case $m in
	none) is 0 "pull none: no call in the restore" "$L" ".* ($R|$R/.*)" ;;
	batch) is 1 "pull batch: one syncfs" "$L" "syncfs $R"
	       is 0 "pull batch: no fsync" "$L" "fsync ($R|$R/.*)" ;;
	each) is 6 "pull each: one fsync per file restored, before its rename" "$L" "fsync $R/([^/]+/)*$T"
	      is 0 "pull each: no syncfs" "$L" "syncfs .*" ;;
	esac
	P=$NV_TMP/p-$m
	touch "$NV_TMP/mark"; sleep 0.01
	traced "$L" "$NAVETTE" replicate "$V" "$P" --fsync $m --transfers 1 >/dev/null 2>&1 ||
		not_ok "replicate --fsync $m"
	case $m in
	none) is 0 "replicate none: no call in the replica" "$L" ".* ($P|$P/.*)" ;;
	batch) is 3 "replicate batch: three syncfs (the worker's; before the manifests; the end)" "$L" "syncfs $P"
	       is 0 "replicate batch: no fsync in the replica" "$L" "fsync ($P|$P/.*)" ;;
	each)
		n=$(new_files "$P" "$NV_TMP/mark")
		is "$n" "replicate each: one fsync per file written ($n)" "$L" \
			"fsync $P/([^/]+/)*$T"
		is 0 "replicate each: no syncfs" "$L" "syncfs .*" ;;
	esac
done

# ---- publish of a sharded push (2 shards at --fsync none): publish's own mode ----
for m in none batch each default; do
	V=$NV_TMP/pv-$m
	"$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign" >/dev/null 2>&1 &&
		"$NAVETTE" publish "$V" --prepare --run r --signing-key "$K/sign" >/dev/null 2>&1 &&
		"$NAVETTE" push "$S" "$V" --shard 0/2 --run r --fsync none >/dev/null 2>&1 &&
		"$NAVETTE" push "$S" "$V" --shard 1/2 --run r --fsync none >/dev/null 2>&1 ||
		nv_die "the shards of publish --fsync $m"
	touch "$NV_TMP/mark"; sleep 0.01
	opt=(--fsync "$m"); [ "$m" = default ] && opt=()
	traced "$L" "$NAVETTE" publish "$V" --run r --signing-key "$K/sign" "${opt[@]}" >/dev/null 2>&1 ||
		not_ok "publish --fsync $m"
	check "publish --fsync $m: generation 1" test -e "$V/manifests/00000000000000000001.json.sig"
	case $m in
	none) is 0 "publish none: no call in the vault" "$L" ".* ($V|$V/.*)" ;;
	batch|default)
		is 2 "publish $m: two syncfs (objects before the manifest; the end)" "$L" "syncfs $V"
		is 0 "publish $m: no fsync in the vault" "$L" "fsync ($V|$V/.*)" ;;
	each)
		is 0 "publish each: no syncfs" "$L" "syncfs .*"
		n=$(new_files "$V" "$NV_TMP/mark")
		is "$n" "publish each: one fsync per file written ($n: catalog, manifest, signatures, heartbeat)" \
			"$L" "fsync $V/([^/]+/)*$T"
		is 2 "publish each: manifests/ synced after the manifest and after its signature" "$L" "fsync $V/manifests" ;;
	esac
done
R=$NV_TMP/pr-none
expect_exit 0 "publish --fsync none: the generation pulls" "$NAVETTE" pull "$NV_TMP/pv-none" "$R" --identity "$K/id.txt"
check "  the tree" diff -r "$S" "$R"

# ---- failures ----
# inject LOG SYSCALL N [strace options...] -- COMMAND...: the Nth SYSCALL (of
# those strace traces: -P PATH narrows them) fails with EIO.
inject() {
	local log=$1 call=$2 n=$3 rc; shift 3
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
	ASAN_OPTIONS=$NV_ASAN_TRACED strace -f -qq -y -o "$log" "${opts[@]}" -e trace="$call" \
		-e inject="$call":error=EIO:when="$n" "$@"; rc=$?
	return $rc
}

# copy, each: a file's fsync fails. The temporary file's name is random, so the
# call is found by its place in a clean run: strace counts calls per thread,
# and one worker syncs in a fixed order. Eight files sorted before sub/x put its
# call after every call of the main thread (the lease's), which would fail too.
mkdir -p "$NV_TMP/one/sub"; echo one >"$NV_TMP/one/sub/x"
for i in 1 2 3 4 5 6 7 8; do echo "$i" >"$NV_TMP/one/a$i"; done
mkdir -p "$NV_TMP/e1"
traced "$L" "$NAVETTE" copy --fsync each --transfers 1 "$NV_TMP/one" "$NV_TMP/e1" >/dev/null 2>&1
tid=$(sed -nE "s|^([0-9]+) +fsync\([0-9]+<$NV_TMP/e1/sub/(\.navette-tmp\.\|#[0-9]).*|\1|p" "$L.raw")
[ -n "$tid" ] || nv_die "no fsync of sub/x's temporary file in: $(cat "$L.raw")"
n=$(grep -E "^$tid +fsync\(" "$L.raw" | grep -En "<$NV_TMP/e1/sub/(\.navette-tmp\.|#[0-9])" | cut -d: -f1)
most=$(grep -E '^[0-9]+ +fsync\(' "$L.raw" | grep -v "^$tid " | cut -d' ' -f1 | sort | uniq -c |
	sort -n | tail -n 1 | awk '{print $1}')
[ "${most:-0}" -lt "$n" ] || nv_die "another thread makes $most fsync calls, sub/x's is the worker's $n-th"
inject "$L.inj" fsync "$n" -- "$NAVETTE" copy --fsync each --transfers 1 "$NV_TMP/one" "$NV_TMP/e2" \
	>"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "copy each: the injected fault hit sub/x's temporary file, and nothing else" \
	test "$(grep -c INJECTED "$L.inj")" = 1 -a \
	"$(grep -Ec "fsync\([0-9]+<$NV_TMP/e2/sub/$T>(\(deleted\))?\) += -1 EIO .*INJECTED" "$L.inj")" = 1
check "copy each: a file whose fsync fails fails alone (exit $rc, wanted 3)" test "$rc" -eq 3
expect_err "^failed sub/x: finishing $NV_TMP/e2/sub/x: Input/output error\$" "  the file and the cause are named"
expect_err "8 copied .* 1 failed" "  the summary counts it"
check "  it is not at the destination" test ! -e "$NV_TMP/e2/sub/x"
check "  no temporary file left" test -z "$(find "$NV_TMP/e2" -name '.navette-tmp.*')"
check "  the other files landed" diff -r -x sub -x navette-lease "$NV_TMP/one" "$NV_TMP/e2"
expect_exit 0 "  the next run copies it" "$NAVETTE" copy --fsync each "$NV_TMP/one" "$NV_TMP/e2"
check "  now it is there" cmp -s "$NV_TMP/one/sub/x" "$NV_TMP/e2/sub/x"

# copy, each: the directory's fsync after the rename fails: that file fails.
mkdir -p "$NV_TMP/e3/sub"
inject "$L.inj" fsync 1 -P "$NV_TMP/e3/sub" -- "$NAVETTE" copy --fsync each "$NV_TMP/one" "$NV_TMP/e3" \
	>"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "copy each: a directory's fsync fails: that file fails (exit $rc, wanted 3)" test "$rc" -eq 3
expect_err "^failed sub/x: syncing sub/x: Input/output error\$" "  the file and the cause are named"

# copy, batch: the syncfs fails: the run stops (exit 4).
inject "$L.inj" syncfs 1 -- "$NAVETTE" copy --fsync batch "$NV_TMP/one" "$NV_TMP/e4" \
	>"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "copy batch: a failed syncfs stops the run (exit $rc, wanted 4)" test "$rc" -eq 4
expect_err "^navette: error: flushing $NV_TMP/e4: syncing the filesystem of $NV_TMP/e4: Input/output error\$" \
	"  the message names the destination and the cause"

# push, batch: the syncfs before the manifest fails: nothing published.
fresh_vault() {
	rm -rf "$NV_TMP/fv" "$NV_TMP/fstate"
	NAVETTE_STATE_DIR=$NV_TMP/fstate "$NAVETTE" init "$NV_TMP/fv" --recipients-file "$K/id.pub" \
		--signing-key "$K/sign" >/dev/null 2>&1 || nv_die "init"
}
FV=$NV_TMP/fv
push_fv() { NAVETTE_STATE_DIR=$NV_TMP/fstate "$NAVETTE" push "$S" "$FV" --signing-key "$K/sign" "$@"; }
fresh_vault
inject "$L.inj" syncfs 1 -- env NAVETTE_STATE_DIR="$NV_TMP/fstate" "$NAVETTE" push "$S" "$FV" \
	--signing-key "$K/sign" --fsync batch >"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "push batch: the syncfs before the manifest fails: the run stops (exit $rc, wanted 4)" test "$rc" -eq 4
expect_err "^navette: error: syncing the filesystem of $FV: Input/output error\$" "  the message says what failed"
check "  no manifest published" test ! -e "$FV/manifests/00000000000000000001.json"
expect_exit 0 "  the next push publishes generation 1" push_fv --fsync batch
expect_err "published generation 1: 6 files, 6 read, 0 uploaded" "  with the objects already landed"
# The same through the fault layer (no strace needed): flush is the barrier.
fresh_vault
NAVETTE_FAULT=flush@1=io expect_exit 4 "push batch: NAVETTE_FAULT flush@1=io stops the run (exit 4)" \
	push_fv --fsync batch
expect_err "injected fault in flush" "  the message says so"
check "  no manifest published" test ! -e "$FV/manifests/00000000000000000001.json"

# push, each: an object's directory fails its fsync: that file fails (exit 3),
# no generation is published, the next push completes.
fresh_vault
mkdir -p "$FV/objects"
inject "$L.inj" fsync 1 -P "$FV/objects" -- env NAVETTE_STATE_DIR="$NV_TMP/fstate" "$NAVETTE" push "$S" \
	"$FV" --signing-key "$K/sign" --fsync each --transfers 1 >"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "push each: an object's fsync fails: that file fails (exit $rc, wanted 3)" test "$rc" -eq 3
expect_err "Input/output error" "  the cause is named"
expect_err "1 file\\(s\\) could not be pushed: no generation published" "  and that nothing was published"
check "  no manifest published" test ! -e "$FV/manifests/00000000000000000001.json"
expect_exit 0 "  the next push publishes generation 1" push_fv --fsync each
check "  generation 1 is there" test -e "$FV/manifests/00000000000000000001.json.sig"

# push, each: manifests/ fails its fsync after the manifest's rename: the run
# stops (exit 4) before signing; readers refuse the unsigned manifest by name
# and the next push signs it (README, docs/ARCHITECTURE.md "Vaults").
fresh_vault
inject "$L.inj" fsync 1 -P "$FV/manifests" -- env NAVETTE_STATE_DIR="$NV_TMP/fstate" "$NAVETTE" push \
	"$S" "$FV" --signing-key "$K/sign" --fsync each >"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "push each: manifests/ fails its fsync: the run stops (exit $rc, wanted 4)" test "$rc" -eq 4
expect_err "^navette: error: syncing manifests/00000000000000000001.json: Input/output error\$" \
	"  the message names the manifest and the cause"
check "  the manifest is not signed" test ! -e "$FV/manifests/00000000000000000001.json.sig"
expect_exit 1 "  verify refuses the unsigned generation" \
	env NAVETTE_STATE_DIR="$NV_TMP/fstate" "$NAVETTE" verify "$FV" --level hash
expect_err "the newest generation \\(1\\) cannot be trusted; an interrupted push is completed by the next push" \
	"  naming the situation"
expect_exit 0 "  the next push completes it" push_fv --fsync each
expect_err "completing generation 1, interrupted before its signature" "  and says so"
expect_exit 0 "  then the vault verifies" \
	env NAVETTE_STATE_DIR="$NV_TMP/fstate" "$NAVETTE" verify "$FV" --level hash

# pull, batch: the syncfs fails: the run stops (exit 4).
inject "$L.inj" syncfs 1 -- "$NAVETTE" pull "$NV_TMP/v-batch" "$NV_TMP/rf" --identity "$K/id.txt" \
	--fsync batch >"$NV_TMP/out" 2>"$NV_TMP/err"; rc=$?
check "pull batch: a failed syncfs stops the run (exit $rc, wanted 4)" test "$rc" -eq 4
expect_err "^navette: error: flushing $NV_TMP/rf: syncing the filesystem of $NV_TMP/rf: Input/output error\$" \
	"  the message names the restore target and the cause"
nv_done
