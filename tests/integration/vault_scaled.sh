# vault_scaled.sh: SCALED CHECK, the slowest test of the suite (250,000 small
# files; --fsync none, which does not change memory). The CI stand-in for
# bench/cases/million.sh: the peak RSS of push, of pull and of verify --level
# deep of a vault of 200,000 files is within 16 MiB
# of that of 50,000 files, so memory does not grow with the number of files
# (catalog, manifest, cache and landed objects are paged: docs/ARCHITECTURE.md,
# "A million files"). NV_SCALED_SMALL and NV_SCALED_LARGE change the counts
# (multiples of 500) when trying it by hand.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v python3 >/dev/null || nv_need "python3"
small=${NV_SCALED_SMALL:-50000}; large=${NV_SCALED_LARGE:-200000}
K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
# AddressSanitizer keeps freed memory in a quarantine (256 MiB by default),
# which would grow with the number of allocations, not with what is held; and
# it records the stack of every allocation in its StackDepot, which grows with
# each distinct stack: its fast unwinder makes about three new ones a file
# through libraries built without frame pointers (9 MiB at 50,000 files,
# 33 MiB at 200,000), none of them navette's memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:malloc_context_size=0"

# The large tree: files of ~12 bytes, 500 to a folder; the small one is its
# first folders, hard-linked (made in a fraction of the time).
python3 "$NV_SRCDIR/tests/lib/many_files.py" "$NV_TMP/large" "$large" || nv_die "making the tree"
mkdir -p "$NV_TMP/small"
for d in $(seq 0 $((small / 500 - 1))); do
	cp -al "$NV_TMP/large/$(printf 'd%04d' "$d")" "$NV_TMP/small/" || nv_die "linking"
done

# peak COMMAND...: runs it (stderr to $NV_TMP/err), prints its peak RSS in KiB
# (getrusage of the one child), exits as it did.
peak() {
	python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as err:
    rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=err)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$NV_TMP/err" "$@"
}

for t in small large; do
	export NAVETTE_STATE_DIR="$NV_TMP/state-$t"
	"$NAVETTE" init "$NV_TMP/v-$t" --recipients-file "$K/id.pub" --signing-key "$K/sign" \
		>/dev/null 2>&1 || nv_die "init"
	if rss=$(peak "$NAVETTE" push "$NV_TMP/$t" "$NV_TMP/v-$t" --signing-key "$K/sign" \
		--fsync none); then
		ok "push of the $t tree ($rss KiB)"
	else
		not_ok "push of the $t tree"; sed 's/^/    /' "$NV_TMP/err" | tail -5
	fi
	eval "push_$t=$rss"
	if rss=$(peak "$NAVETTE" pull "$NV_TMP/v-$t" "$NV_TMP/r-$t" --identity "$K/id.txt" \
		--fsync none); then
		ok "pull of the $t tree ($rss KiB)"
	else
		not_ok "pull of the $t tree"; sed 's/^/    /' "$NV_TMP/err" | tail -5
	fi
	eval "pull_$t=$rss"
	if rss=$(peak "$NAVETTE" verify --level deep "$NV_TMP/v-$t" --identity "$K/id.txt"); then
		ok "verify --level deep of the $t vault ($rss KiB)"
	else
		not_ok "verify --level deep of the $t vault"; sed 's/^/    /' "$NV_TMP/err" | tail -5
	fi
	eval "verify_$t=$rss"
done
check "the large pull restored every file" test "$(find "$NV_TMP/r-large" -type f | wc -l)" -eq "$large"
check "and their contents" sh -c "cmp '$NV_TMP/large/d0000/f0000000' '$NV_TMP/r-large/d0000/f0000000' &&
	d=\$(printf 'd%04d' $((large / 500 - 1))); f=\$(printf 'f%07d' $((large - 1)));
	cmp '$NV_TMP/large/'\$d/\$f '$NV_TMP/r-large/'\$d/\$f"
# shellcheck disable=SC2154 # set by eval above
echo "# peak RSS (KiB): push $push_small -> $push_large, pull $pull_small -> $pull_large," \
	"verify $verify_small -> $verify_large"
check "push: peak RSS at $large files within 16 MiB of $small files ($push_small -> $push_large KiB)" \
	test $((push_large - push_small)) -lt 16384
check "pull: peak RSS at $large files within 16 MiB of $small files ($pull_small -> $pull_large KiB)" \
	test $((pull_large - pull_small)) -lt 16384
check "verify: peak RSS at $large files within 16 MiB of $small files ($verify_small -> $verify_large KiB)" \
	test $((verify_large - verify_small)) -lt 16384
nv_done
