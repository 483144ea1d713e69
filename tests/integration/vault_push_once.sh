# vault_push_once.sh: push reads a file older than its racy window (2 s) once
# (push_job.c, nv_pjob_plan): a small one held whole, a big one encrypted as
# it is hashed and named after its last byte. What lands is the same format
# (stock tools restore it, object ids are HMAC(K_id, SHA-256)), and a file
# changed during that one read, or between it and the check after it, is
# never stored as read: it fails, or a retry reads it anew.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/leftovers.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"

owner="$NV_TMP/owner"
nv_keys "$owner" || nv_die "keygen"
export NAVETTE_STATE_DIR="$NV_TMP/state"
V="$NV_TMP/vault"; D="$NV_TMP/data"
mkdir -p "$D/sub"
head -c 3000000 /dev/urandom >"$D/big"        # three reads of the 1 MiB buffer
cp "$D/big" "$D/sub/big-copy"                  # equal contents: stored once
head -c 3000000 /dev/urandom >"$D/sub/big-other" # the same size, other contents
head -c 10000 /dev/urandom >"$D/small"
: >"$D/empty"
sign=(--signing-key "$owner/sign")
# settle: the tree's last change is older than push's racy window.
settle() { sleep 2.5; }

expect_exit 0 "init" "$NAVETTE" init "$V" --recipients-file "$owner/id.pub" "${sign[@]}"
settle
expect_exit 0 "push of a settled tree" "$NAVETTE" push "$D" "$V" "${sign[@]}" --transfers 1
expect_err "published generation 1: 5 files, 5 read, 4 uploaded" "counts: equal files stored once"
check "stock tools restore it" nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/r1"
check "restore identical" diff -r "$D" "$NV_TMP/r1"
check "no temporary file and nothing named unnamed in the vault" \
	test -z "$(find "$V" -name '.navette-tmp*' -o -name 'unnamed*')"

# object_ids_keyed: each file's object id is HMAC-SHA256(K_id, SHA-256 of its
# plaintext) (FORMAT.md 2.2), also for an object named after its last byte.
object_ids_keyed() {
	local vid kid path sha obj want
	vid=$(jq -r .vault_id "$V/navette-vault.json")
	kid=$(cat "$NAVETTE_STATE_DIR/push/$vid/kid")
	tail -n +2 "$NV_TMP/catalog.jsonl" | jq -r '[.path, .sha256, .object] | @tsv' |
	while IFS=$'\t' read -r path sha obj; do
		want=$(printf '%s' "$sha" | xxd -r -p | openssl dgst -sha256 -mac HMAC \
			-macopt "hexkey:$kid" | sed 's/.*= *//')
		[ "$(basename "$obj" | cut -d. -f1)" = "$want" ] || { echo "$path: $obj" >&2; return 1; }
	done
}
check "object ids are the keyed hash of the plaintext" object_ids_keyed

# a dry run hashes a new big file in one read too, and writes nothing: never an
# object opened before its name is known (push_job.c, only where it uploads)
head -c 2500000 /dev/urandom >"$D/new-big"
settle
find "$V" -printf '%p %s\n' | sort >"$NV_TMP/before"
expect_exit 0 "dry run of a new big file" "$NAVETTE" push "$D" "$V" "${sign[@]}" \
	--transfers 1 --dry-run
expect_err "dry run: would publish generation 2: 6 files, 1 read, 1 to upload" \
	"dry run: the new file read once, said"
find "$V" -printf '%p %s\n' | sort >"$NV_TMP/after"
check "dry run: the vault is as it was" diff "$NV_TMP/before" "$NV_TMP/after"
rm "$D/new-big"

# change_when_open PID FILE: PID stops at each read and stat (NAVETTE_FAULT
# below); the first time it holds FILE open (its first read of it is done),
# the last byte of FILE is inverted (same size), then PID goes on.
change_when_open() {
	local pid=$1 f=$2 changed=
	while stopped "$pid"; do
		if [ -z "$changed" ] && find "/proc/$pid/fd" -lname "$f" 2>/dev/null | grep -q .; then
			nv_flip_byte "$f" $(($(stat -c %s "$f") - 1)); changed=1
		fi
		kill -CONT "$pid"
	done
	[ -n "$changed" ]
}
stops="read@1-=stop,stat@1-=stop"

# a big file changed after its first 1 MiB was read (read once: the change is
# seen by the check after the read), and a small one changed between its read
# and that check; no retry: both fail, nothing is published
for f in moving-big moving-small; do
	rm -f "$D/$f"
	case $f in
	moving-big) head -c 3000001 /dev/urandom >"$D/$f" ;;
	*) head -c 5000 /dev/urandom >"$D/$f" ;;
	esac
	settle
	before=$(ls "$V"/manifests/*.json | wc -l)
	NAVETTE_FAULT=$stops "$NAVETTE" push "$D" "$V" "${sign[@]}" --transfers 1 --retries 0 \
		>"$NV_TMP/out" 2>"$NV_TMP/err" &
	pid=$!
	check "$f: changed during the push" change_when_open "$pid" "$D/$f"
	wait "$pid"; rc=$?
	check "$f: the push fails (exit 3, got $rc)" test "$rc" -eq 3
	expect_err "$f changed while being pushed: not stored" "$f: named as changed"
	check "$f: no generation published" test "$(ls "$V"/manifests/*.json | wc -l)" -eq "$before"
	check "$f: no temporary file left" test -z "$(find "$V" -name '.navette-tmp*')"
	# with retries, the retry reads the file anew: what is published is what it holds now
	cp "$D/$f" "$NV_TMP/was"
	NAVETTE_FAULT=$stops "$NAVETTE" push "$D" "$V" "${sign[@]}" --transfers 1 \
		>"$NV_TMP/out" 2>"$NV_TMP/err" &
	pid=$!
	check "$f: changed again during the push" change_when_open "$pid" "$D/$f"
	wait "$pid"; rc=$?
	check "$f: retried, the push succeeds (got $rc)" test "$rc" -eq 0
	check "$f: it really changed" sh -c "! cmp -s '$D/$f' '$NV_TMP/was'"
	rm -rf "$NV_TMP/r2"
	check "$f: stock tools restore the new generation" \
		nv_manual_restore "$V" "$owner/id.txt" "$owner/sign.pub" "$NV_TMP/r2"
	check "$f: the file as it is now is what was stored" cmp "$D/$f" "$NV_TMP/r2/$f"
	check "$f: restore identical" diff -r "$D" "$NV_TMP/r2"
done
nv_done
