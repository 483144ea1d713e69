# vault_compat.sh: a vault written by the code of commit 0a66ee2 (before the
# renovation; tests/fixtures/vault-0a66ee2) read by today's code as a
# first-contact reader, then pushed onto with its old pushing host's state:
# the on-disk formats (FORMAT.md) did not change.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
command -v age >/dev/null && command -v jq >/dev/null || nv_need "stock age and jq"

# Git checks the fixture out 0644/0755; navette refuses such key and state files.
E="$NV_TMP/fixture"
cp -R "$NV_SRCDIR/tests/fixtures/vault-0a66ee2" "$E" && chmod -R go-rwx "$E" ||
	nv_die "copy the fixture"
K="$E/keys"; V="$E/vault"; R="$NV_TMP/r"
I=(--identity "$K/owner.key")
m1=manifests/00000000000000000001.json
m2=manifests/00000000000000000002.json
m3=manifests/00000000000000000003.json

# same_tree DIR SUMS: DIR holds exactly the files SUMS lists, with those SHA-256s.
same_tree() {
	(cd "$1" && sha256sum --quiet --strict -c "$2") >/dev/null 2>&1 &&
		[ "$(cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)" = "$(cut -c67- "$2")" ]
}
# fails COMMAND...: succeeds when COMMAND fails (check runs a command, not "!").
fails() { ! "$@"; }
# objects_kept OLD NEW: every object of vault OLD is in vault NEW, byte for byte.
objects_kept() {
	local f
	for f in $(cd "$1" && find objects -type f); do cmp -s "$1/$f" "$2/$f" || return 1; done
}
# json_fields FILE: the distinct sets of field names of a JSON Lines file.
json_fields() { jq -c keys "$1" | sort -u; }
# catalog_of VAULT MANIFEST: the decrypted catalog that MANIFEST names.
catalog_of() { age -d -i "$K/owner.key" "$1/$(head -n 1 "$1/$2" | jq -r .catalog)"; }

# ---- a reader that never saw this vault ----
export NAVETTE_STATE_DIR="$NV_TMP/state-reader"
expect_exit 2 "first contact needs --signing-pubkey" "$NAVETTE" verify "$V"
expect_exit 0 "verify --level deep, first contact" "$NAVETTE" verify --level deep "$V" "${I[@]}" \
	--signing-pubkey "$K/push.key.pub"
expect_err "2 manifests verified, newest generation 2, 7 objects good, 3 older objects, 0 problems" \
	"verify: every object of the old vault good"
expect_exit 0 "log" "$NAVETTE" log "$V"
check "log: as the old code printed it" cmp -s "$NV_TMP/out" "$E/log.txt"
check "the two generations differ (the comparisons below can fail)" \
	fails cmp -s "$E/ls.gen1.json" "$E/ls.gen2.json"
for g in 1 2; do
	expect_exit 0 "ls generation $g" "$NAVETTE" ls --json --generation $g "$V" "${I[@]}"
	check "ls generation $g: as the old code printed it" cmp -s "$NV_TMP/out" "$E/ls.gen$g.json"
	for buf in 1M 64K; do
		out="$R/g$g-$buf"
		expect_exit 0 "pull generation $g (--buffer-size $buf)" \
			"$NAVETTE" pull --generation $g --buffer-size $buf "$V" "$out" "${I[@]}"
		check "generation $g ($buf): the old tree's files and contents" same_tree "$out" "$E/SHA256SUMS.gen$g"
		"$NAVETTE" ls --json "$out" >"$NV_TMP/ls" 2>/dev/null
		check "generation $g ($buf): sizes, mtimes and modes restored" cmp -s "$NV_TMP/ls" "$E/ls.gen$g.json"
	done
done
check "the comparison tells generations apart" fails same_tree "$R/g1-1M" "$E/SHA256SUMS.gen2"
check "mtime kept to the nanosecond" \
	test "$(TZ=UTC stat -c %y "$R/g1-64K/big.bin")" = "2024-05-06 07:08:09.123456789 +0000" -a \
	"$(TZ=UTC stat -c %y "$R/g2-1M/sub/added.txt")" = "2024-05-07 00:00:02.000000001 +0000"
expect_exit 0 "pull the newest generation (now pinned)" "$NAVETTE" pull "$V" "$R/newest" "${I[@]}"
check "the newest is generation 2" same_tree "$R/newest" "$E/SHA256SUMS.gen2"

# ---- damage to a copy of the old vault is still found ----
T="$NV_TMP/tampered"
big=$(tail -n +2 "$V/$m2" | jq -r 'select(.size > 300000) | .name')
check "found the big file's object" test -n "$big" -a -f "$V/$big"
cp -R "$V" "$T"
nv_flip_byte "$T/$big" 100000
for level in hash deep; do
	expect_exit 1 "verify --level $level: a flipped byte in an old object" \
		"$NAVETTE" verify --level $level "$T" "${I[@]}"
	expect_err "$big" "verify $level: the object named"
done
expect_exit 1 "pull generation 1: a flipped byte" "$NAVETTE" pull --generation 1 "$T" "$R/t1" "${I[@]}"
check "pull: the damaged file not restored" test ! -e "$R/t1/big.bin"
rm -rf "$T"; cp -R "$V" "$T"
sed -i '1s/"objects":/"objects" :/' "$T/$m1"
expect_exit 1 "verify: an edited old manifest" "$NAVETTE" verify "$T"
expect_err "$m1: bad signature" "verify: the manifest named"

# ---- the old pushing host pushes generation 3 onto a copy ----
P="$NV_TMP/pushed"; D="$NV_TMP/data3"
cp -R "$V" "$P"; cp -R "$R/g2-1M" "$D"
printf 'une autre note\n' >"$D/café crème ☕.txt"
printf 'new\n' >"$D/sub/deep/new file.txt"
rm "$D/empty"
(cd "$D" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | tr '\n' '\0' | xargs -0 sha256sum) \
	>"$NV_TMP/SHA256SUMS.gen3"
"$NAVETTE" ls --json "$D" >"$NV_TMP/ls.gen3.json" 2>/dev/null
expect_exit 2 "a host without K_id cannot push" "$NAVETTE" push "$D" "$P" --signing-key "$K/push.key"
expect_err "holds no K_id" "no K_id: says so"
export NAVETTE_STATE_DIR="$E/state-pusher"
expect_exit 0 "push the unchanged tree of generation 2" \
	"$NAVETTE" push "$R/g2-1M" "$P" --signing-key "$K/push.key"
expect_err "no change, refreshed the heartbeat of generation 2" "push: the old state's last tree recognised"
check "push: no manifest for an unchanged tree" test ! -e "$P/$m3"
check "push: the heartbeat rewritten" fails cmp -s "$V/heartbeat.json" "$P/heartbeat.json"
expect_exit 0 "push generation 3 with the old host's state" \
	"$NAVETTE" push "$D" "$P" --signing-key "$K/push.key"
expect_err "published generation 3: 6 files, .* 2 uploaded .*, 4 already stored" \
	"push: the old objects reused (K_id and object ids unchanged)"
check "push: 2 files and a catalog added" \
	test "$(find "$P/objects" -type f | wc -l)" -eq "$(($(find "$V/objects" -type f | wc -l) + 3))"
check "push: the old objects untouched" objects_kept "$V" "$P"
check "push: the descriptor untouched" cmp -s "$V/navette-vault.json" "$P/navette-vault.json"
check "push: the old host's state records generation 3" \
	test "$(cat "$E/state-pusher/seen/$(jq -r .vault_id "$V/navette-vault.json")")" = 3
expect_exit 0 "verify --level deep on the old host" "$NAVETTE" verify --level deep "$P" "${I[@]}"
expect_err "3 manifests verified, newest generation 3, 7 objects good, [0-9]+ older objects, 0 problems" \
	"verify: generation 3 good"

# ---- and a new reader reads all three generations ----
export NAVETTE_STATE_DIR="$NV_TMP/state-reader3"
expect_exit 0 "verify --level deep, first contact, 3 generations" \
	"$NAVETTE" verify --level deep "$P" "${I[@]}" --signing-pubkey "$K/push.key.pub"
for g in 1 2 3; do
	expect_exit 0 "pull generation $g after the new push" \
		"$NAVETTE" pull --generation $g --buffer-size 64K "$P" "$R/p$g" "${I[@]}"
done
check "generation 3: the pushed tree" same_tree "$R/p3" "$NV_TMP/SHA256SUMS.gen3"
"$NAVETTE" ls --json "$R/p3" >"$NV_TMP/ls" 2>/dev/null
check "generation 3: sizes, mtimes and modes" cmp -s "$NV_TMP/ls" "$NV_TMP/ls.gen3.json"
check "generation 1 still the old tree" same_tree "$R/p1" "$E/SHA256SUMS.gen1"
check "generation 2 still the old tree" same_tree "$R/p2" "$E/SHA256SUMS.gen2"

# ---- what the new code wrote has the old fields and stock tools read it ----
check "manifest 3: the old manifest's fields" test "$(json_fields "$P/$m3")" = "$(json_fields "$V/$m2")"
check "heartbeat: the old heartbeat's fields" \
	test "$(json_fields "$P/heartbeat.json")" = "$(json_fields "$V/heartbeat.json")"
check "catalog 3: the old catalog's fields" \
	test "$(catalog_of "$P" "$m3" | jq -c keys | sort -u)" = "$(catalog_of "$V" "$m2" | jq -c keys | sort -u)"
check "manifest 3 chains to the old manifest 2" \
	test "$(head -n 1 "$P/$m3" | jq -r .previous)" = "$(sha256sum <"$V/$m2" | cut -c1-64)"
check "stock age and ssh-keygen restore generation 3" \
	nv_manual_restore "$P" "$K/owner.key" "$K/push.key.pub" "$R/manual" 3
check "the stock restore is the pushed tree" same_tree "$R/manual" "$NV_TMP/SHA256SUMS.gen3"

nv_done
