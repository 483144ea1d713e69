# vault_paging.sh: push, pull and ls of a vault with a sort budget of 4 KiB
# (NAVETTE_RUNS_BUDGET), so the catalog's and manifest's records go through
# many sorted runs on disk (util/runs.h): names with odd bytes and ties (equal
# contents) come back in order and whole, a second generation chains right,
# and a push or pull killed mid-way leaves no run file behind (they never have
# a name) and is completed by the next run; a sharded push and its publish
# go through the same runs.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_RUNS_BUDGET=4096 TMPDIR="$NV_TMP/tmp"
mkdir -p "$TMPDIR"
V="$NV_TMP/vault"; D="$NV_TMP/data"

# 1,200 files in 24 folders; every third shares its contents with another
# (ties in the object records), and names that sort around "/" and outside ASCII.
python3 - "$D" <<'EOF' || nv_die "making the tree"
import os, sys
root = sys.argv[1]
odd = ["a", "a-b", "a.txt", "a b", "é", "ü-日本", "q\"uote", "#hash", "~tilde"]
for d in range(24):
    dd = os.path.join(root, "dir%02d" % d if d % 5 else "dir%02d/sub é" % d)
    os.makedirs(dd, exist_ok=True)
    for i in range(50):
        name = odd[i] if i < len(odd) else "f%03d" % i
        with open(os.path.join(dd, name), "w") as f:
            f.write("same %d\n" % (i % 7) if i % 3 == 0 else "file %d %d\n" % (d, i))
os.makedirs(os.path.join(root, "a"), exist_ok=True)
with open(os.path.join(root, "a", "b"), "w") as f:
    f.write("beneath a\n")
with open(os.path.join(root, "a-b"), "w") as f:
    f.write("beside a\n")
EOF
n=$(find "$D" -type f | wc -l)

no_run_files() { # nothing of a sort run named anywhere: state, TMPDIR, the target
	! find "$NAVETTE_STATE_DIR" "$TMPDIR" "$@" -name '.navette-run-*' | grep -q . &&
		[ -z "$(ls -A "$TMPDIR")" ]
}

expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$K/id.pub" --signing-key "$K/sign"
expect_exit 0 "push through sort runs" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "published generation 1: $n files" "every file pushed"
check "stock tools restore it" nv_manual_restore "$V" "$K/id.txt" "$K/sign.pub" "$NV_TMP/manual"
check "the stock restore is the tree" diff -r "$D" "$NV_TMP/manual"
check "the catalog is in path order (byte order), no path twice" sh -c \
	"tail -n +2 '$NV_TMP/catalog.jsonl' | jq -r .path >'$NV_TMP/paths' &&
	 LC_ALL=C sort -u '$NV_TMP/paths' | cmp -s - '$NV_TMP/paths'"
m1=$(ls "$V"/manifests/*.json | tail -n 1)
check "the manifest is in name order, no name twice" sh -c \
	"tail -n +2 '$m1' | jq -r .name >'$NV_TMP/names' &&
	 LC_ALL=C sort -u '$NV_TMP/names' | cmp -s - '$NV_TMP/names'"
check "equal contents stored once" test "$(wc -l <"$NV_TMP/names")" -lt "$n"
check "no run file left" no_run_files

expect_exit 0 "ls through sort runs" "$NAVETTE" ls "$V" --identity "$K/id.txt"
check "ls lists every file in path order" sh -c \
	"awk '{print \$NF}' '$NV_TMP/out' | wc -l | grep -qx '$n'"
expect_exit 0 "no-change push" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "no change.*$n files, 0 read, 0 uploaded" "the streamed cache vouches for every file"

expect_exit 0 "pull through sort runs" "$NAVETTE" pull "$V" "$NV_TMP/r1" --identity "$K/id.txt"
expect_err "$n of $n files restored" "pull counts"
check "pull restores the tree" diff -r "$D" "$NV_TMP/r1"
expect_exit 0 "pull of a directory and a file" "$NAVETTE" pull "$V" "$NV_TMP/r2" a "dir01/é" \
	--identity "$K/id.txt"
check "the directory a/ and the file, nothing of a-b or a.txt" sh -c \
	"test -f '$NV_TMP/r2/a/b' && test -f '$NV_TMP/r2/dir01/é' && test ! -e '$NV_TMP/r2/a-b' &&
	 test \"\$(find '$NV_TMP/r2' -type f | wc -l)\" -eq 2"
expect_exit 2 "a PATH naming nothing is refused before anything is restored" \
	"$NAVETTE" pull "$V" "$NV_TMP/r3" a nothing-here --identity "$K/id.txt"
expect_err "no file or directory of generation 1 is named nothing-here" "the PATH is named"
check "nothing restored" test ! -e "$NV_TMP/r3/a"

# a second generation: changed, removed and new files
echo changed >"$D/dir03/f020"; rm "$D/dir04/f030"; echo new >"$D/dir05/new"
expect_exit 0 "push generation 2" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "generation 2: $n files, 2 read, 2 uploaded" "only the changed files read"
expect_exit 0 "pull generation 2" "$NAVETTE" pull "$V" "$NV_TMP/g2" --identity "$K/id.txt"
check "generation 2 is the tree" diff -r "$D" "$NV_TMP/g2"
expect_exit 0 "pull generation 1" "$NAVETTE" pull "$V" "$NV_TMP/g1" --generation 1 \
	--identity "$K/id.txt"
check "generation 1 is the first tree" diff -r "$NV_TMP/r1" "$NV_TMP/g1"

# killed mid-way (SIGKILL at the 300th object committed): no run file, and
# the next push completes with what landed
for i in $(seq 1 400); do echo "more $i" >"$D/dir06/more$i"; done
NAVETTE_FAULT="write_commit@300=kill" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign" \
	>/dev/null 2>&1
check "the push was killed" test ! -e "$V/manifests/00000000000000000003.json"
check "a killed push leaves no run file" no_run_files
expect_exit 0 "the next push completes" "$NAVETTE" push "$D" "$V" --signing-key "$K/sign"
expect_err "generation 3: $((n + 400)) files" "generation 3 has every file"
up=$(sed -n 's/.* read, \([0-9]*\) uploaded.*/\1/p' "$NV_TMP/err")
check "what landed before the kill is not uploaded again ($up uploaded)" test "${up:-400}" -lt 400
NAVETTE_FAULT="read@200=kill" "$NAVETTE" pull "$V" "$NV_TMP/killed" --identity "$K/id.txt" \
	>/dev/null 2>&1
check "a killed pull leaves no run file" no_run_files "$NV_TMP/killed"
expect_exit 0 "pull again" "$NAVETTE" pull "$V" "$NV_TMP/killed" --identity "$K/id.txt"
check "the second pull restores the tree" diff -r "$D" "$NV_TMP/killed"

# a sharded push through sort runs: each shard's partial catalog written from
# its runs, publish merging the three on disk (equal contents that two shards
# both stored named once), as a single push of the tree publishes it
V2="$NV_TMP/vault2"
expect_exit 0 "init a second vault" "$NAVETTE" init "$V2" --recipients-file "$K/id.pub" \
	--signing-key "$K/sign"
expect_exit 0 "publish --prepare" "$NAVETTE" publish "$V2" --prepare --run pg --signing-key "$K/sign"
for k in 0 1 2; do
	expect_exit 0 "push shard $k/3 through sort runs" "$NAVETTE" push --shard "$k/3" --run pg "$D" "$V2"
done
expect_exit 0 "publish through sort runs" "$NAVETTE" publish "$V2" --run pg --signing-key "$K/sign"
expect_err "published generation 1 from 3 shards of run pg" "one generation"
check "its catalog is the single push's" sh -c \
	". '$NV_SRCDIR/tests/lib/vault.sh'; nv_catalog_files '$V' '$K/id.txt' >'$NV_TMP/c1' &&
	 nv_catalog_files '$V2' '$K/id.txt' >'$NV_TMP/c2' && test -s '$NV_TMP/c1' && cmp -s '$NV_TMP/c1' '$NV_TMP/c2'"
check "so are its manifest's objects (equal contents named once)" test \
	"$(tail -n +2 "$(ls "$V"/manifests/*.json | tail -n 1)" | wc -l)" -eq \
	"$(tail -n +2 "$(ls "$V2"/manifests/*.json | tail -n 1)" | wc -l)"
check "no run file left" no_run_files
expect_exit 0 "pull the published generation" "$NAVETTE" pull "$V2" "$NV_TMP/sh" --identity "$K/id.txt"
check "it is the tree" diff -r "$D" "$NV_TMP/sh"
nv_done
