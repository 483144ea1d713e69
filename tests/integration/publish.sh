# publish.sh: a sharded push in 1, 3 and 8 shards and its publication, on
# the local driver, over the awkward tree (less its name that is not UTF-8,
# which no catalog can hold) and 1000 small files. The shards run as shard
# hosts do: an environment and a state directory holding neither the signing
# key nor an identity (only K_id; the vault pinned on first contact with
# --signing-pubkey). Each file is pushed by exactly one shard; the published
# generation pulls identical and its catalog equals a single push's in path,
# size, SHA-256, mode and mtime; the run's files and key are gone after it. A
# killed shard run again, then publish, completes; a missing shard, a partial
# catalog altered or forged, and an object the store does not hold as
# recorded make publish refuse, naming the shard; publish --wait waits for the
# last shard; the shards hold the lease together and publish is refused while
# one runs.
. "$NV_SRCDIR/tests/lib/common.sh"
. "$NV_SRCDIR/tests/lib/vault.sh"
. "$NV_SRCDIR/tests/lib/tree.sh"
. "$NV_SRCDIR/tests/lib/shard.sh"
command -v jq >/dev/null || nv_need "jq"
command -v age >/dev/null || nv_need "age"
command -v openssl >/dev/null || nv_need "openssl"
export NAVETTE_STATE_DIR="$NV_TMP/state" NAVETTE_LEASE_SETTLE_MS=0
unset NAVETTE_FAULT NAVETTE_SIGNING_KEY NAVETTE_IDENTITY NAVETTE_PASSPHRASE_FILE

K="$NV_TMP/keys"; nv_keys "$K" || nv_die "keygen"
T="$NV_TMP/tree"
nv_awkward_tree "$T"
rm "$T/"$'bad\xffutf8'
nv_small_tree "$T/small" 1000
nv_tree_paths "$T" >"$NV_TMP/tree.paths"
nfiles=$(wc -l <"$NV_TMP/tree.paths")
S=(--signing-key "$K/sign")

catalog_of() { nv_catalog_files "$1" "$K/id.txt"; }
# new_vault VAULT: made by this (the publishing) host; prints its id
new_vault() {
	"$NAVETTE" init "$1" --recipients-file "$K/id.pub" "${S[@]}" >/dev/null 2>&1 || nv_die "init $1"
	jq -r .vault_id "$1/navette-vault.json"
}

# The reference: one push of the whole tree.
R="$NV_TMP/single"
new_vault "$R" >/dev/null
"$NAVETTE" push "$T" "$R" "${S[@]}" 2>/dev/null || nv_die "single push"
catalog_of "$R" >"$NV_TMP/single.cat"
check "the single push's catalog holds every file" test "$(wc -l <"$NV_TMP/single.cat")" -eq "$nfiles"

# ---- the shard hosts: env -i, a state holding K_id only ----
SH="$NV_TMP/shardstate"; SHOME="$NV_TMP/shardhome"
mkdir -p "$SH" "$SHOME" && chmod 700 "$SH" "$SHOME"
W="$NV_TMP/shardhost"
cat >"$W" <<EOF
#!/bin/sh
env >>"$NV_TMP/shard.env"
exec "$NAVETTE" "\$@" --signing-pubkey "$K/sign.pub"
EOF
chmod 755 "$W"
# shard_env: the environment a shard host runs with (a fault passed on)
shard_env() { env -i PATH="$PATH" HOME="$SHOME" NAVETTE_STATE_DIR="$SH" NAVETTE_LEASE_SETTLE_MS=0 \
	${NAVETTE_FAULT:+NAVETTE_FAULT="$NAVETTE_FAULT"} \
	${NAVETTE_FAULT_HOLD:+NAVETTE_FAULT_HOLD="$NAVETTE_FAULT_HOLD"} "$@"; }
shard_host() { shard_env "$W" "$@"; }
give_kid() { mkdir -p "$SH/push/$1" && chmod 700 "$SH/push" "$SH/push/$1" &&
	cp "$NAVETTE_STATE_DIR/push/$1/kid" "$SH/push/$1/kid"; }

for n in 1 3 8; do
	V="$NV_TMP/v$n"
	vid=$(new_vault "$V")
	give_kid "$vid"
	expect_exit 0 "$n shards: publish --prepare" "$NAVETTE" publish "$V" --prepare --run "p$n" "${S[@]}"
	expect_err "^navette: run p$n prepared in $V: key age1[a-z0-9]+; now push the shards" "says the key"
	check "$n shards: the run's key is signed in the vault" test -s "$V/runs/p$n/run.json.sig"
	: >"$NV_TMP/rcs"; rm -f "$NV_TMP"/log.*
	for k in $(seq 0 $((n - 1))); do
		shard_host push --shard "$k/$n" --run "p$n" -v --log-json "$T" "$V" 2>"$NV_TMP/log.$k"
		echo $? >>"$NV_TMP/rcs"
	done
	nv_shards_once "$n shards" pushed "$NV_TMP/tree.paths" "every file pushed once"
	check "$n shards: their files add up" test "$(nv_summed files)" -eq "$nfiles"
	check "$n shards: the summary names the partial catalog" \
		test "$(nv_json_event summary partial_catalog "$NV_TMP/log.0")" = true
	check "$n shards: a partial catalog each" test "$(ls "$V/runs/p$n" | grep -c '^shard-.*\.age$')" -eq "$n"
	check "$n shards: nothing published yet" test ! -e "$V/manifests"
	if [ "$n" = 3 ]; then # FORMAT.md 2.9 by hand, with stock tools
		echo "navette $(cut -d' ' -f1,2 "$K/sign.pub")" >"$NV_TMP/allowed"
		check "the run's key verifies with ssh-keygen (namespace navette-run)" \
			ssh-keygen -Y verify -f "$NV_TMP/allowed" -I navette -n navette-run \
			-s "$V/runs/p3/run.json.sig" <"$V/runs/p3/run.json"
		kp=$(printf 'navette-partial-v1\n' | openssl dgst -sha256 -mac HMAC \
			-macopt "hexkey:$(cat "$NAVETTE_STATE_DIR/push/$vid/kid")" | awk '{print $NF}')
		age -d -i "$NAVETTE_STATE_DIR/push/$vid/runs/p3.key" "$V/runs/p3/shard-2-of-3.age" \
			>"$NV_TMP/partial" || not_ok "the partial catalog decrypts with stock age"
		check "its MAC, by hand with openssl" test "$(head -n -1 "$NV_TMP/partial" |
			openssl dgst -sha256 -mac HMAC -macopt "hexkey:$kp" | awk '{print $NF}')" = \
			"$(tail -n 1 "$NV_TMP/partial" | jq -r .hmac)"
		check "its header" test "$(head -n 1 "$NV_TMP/partial" | jq -c '[.type, .run, .shard, .shards]')" = \
			'["partial-catalog","p3",2,3]'
	fi
	expect_exit 0 "$n shards: publish" "$NAVETTE" publish "$V" --run "p$n" "${S[@]}" --log-json
	check "$n shards: publish names the shards and files" \
		test "$(nv_json_event summary shards "$NV_TMP/err") $(nv_json_event summary files "$NV_TMP/err")" = "$n $nfiles"
	check "$n shards: generation 1 published" test "$(nv_json_event summary generation "$NV_TMP/err")" -eq 1
	catalog_of "$V" >"$NV_TMP/v$n.cat"
	nv_same "$n shards: the catalog is the single push's (path, size, SHA-256, mode, mtime)" \
		"$NV_TMP/single.cat" "$NV_TMP/v$n.cat"
	expect_exit 0 "$n shards: pull" "$NAVETTE" pull "$V" "$NV_TMP/pull$n" --identity "$K/id.txt"
	check "$n shards: the pull is the tree" diff -r "$T" "$NV_TMP/pull$n"
	expect_exit 0 "$n shards: verify --level deep" "$NAVETTE" verify --level deep "$V" --identity "$K/id.txt"
	check "$n shards: the run's folder is gone" test ! -e "$V/runs/p$n"
	check "$n shards: and this host's key of the run" test ! -e "$NAVETTE_STATE_DIR/push/$vid/runs/p$n.key"
done

# ---- what the shard hosts held: no signing key, no identity ----
check "the shards ran with no NAVETTE_* key variable" \
	test -z "$(grep -E '^NAVETTE_(SIGNING_KEY|IDENTITY|PASSPHRASE_FILE|CONFIG)=' "$NV_TMP/shard.env")"
check "nor anything of a private key in their environment" \
	test -z "$(grep -E 'PRIVATE KEY|AGE-SECRET-KEY' "$NV_TMP/shard.env")"
check "their state holds no private key" test -z "$(grep -rlE 'PRIVATE KEY|AGE-SECRET-KEY' "$SH" "$SHOME")"
check "their state holds K_id" test -s "$SH/push/$vid/kid"
check "and each shard's own cache" test -s "$SH/shard-1-of-3/push/$(jq -r .vault_id "$NV_TMP/v3/navette-vault.json")/cache.tsv"

# ---- a run again: nothing changed, no new generation; a change: one ----
V="$NV_TMP/v3"
"$NAVETTE" publish "$V" --prepare --run again "${S[@]}" 2>/dev/null || nv_die "prepare again"
check "the run's identity is kept mode 0600" test "$(stat -c %a "$NAVETTE_STATE_DIR"/push/*/runs/again.key)" = 600
for k in 0 1 2; do shard_host push --shard "$k/3" --run again "$T" "$V" 2>/dev/null || nv_die "shard $k again"; done
expect_exit 0 "an unchanged tree: publish" "$NAVETTE" publish "$V" --run again "${S[@]}"
expect_err "^navette: no change, refreshed the heartbeat of generation 1 from 3 shards of run again" \
	"publishes no generation, as a single push would not"
echo changed >"$T/small/dir3/f3.txt"
"$NAVETTE" push "$T" "$R" "${S[@]}" 2>/dev/null || nv_die "single push of the change"
catalog_of "$R" >"$NV_TMP/single.cat"
"$NAVETTE" publish "$V" --prepare --run change "${S[@]}" 2>/dev/null || nv_die "prepare change"
: >"$NV_TMP/rcs"; rm -f "$NV_TMP"/log.*
for k in 0 1 2; do shard_host push --shard "$k/3" --run change --log-json "$T" "$V" 2>"$NV_TMP/log.$k"; echo $? >>"$NV_TMP/rcs"; done
check "a changed file: every shard exits 0" nv_all_exit 0
check "one file uploaded in all" test "$(nv_summed uploaded)" -eq 1
expect_exit 0 "a changed file: publish" "$NAVETTE" publish "$V" --run change "${S[@]}"
expect_err "^navette: published generation 2 from 3 shards of run change" "generation 2"
catalog_of "$V" >"$NV_TMP/change.cat"
nv_same "the catalog is the single push's" "$NV_TMP/single.cat" "$NV_TMP/change.cat"
expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pull-change" --identity "$K/id.txt"
check "the tree with the change" diff -r "$T" "$NV_TMP/pull-change"
expect_exit 2 "publish once more: the run is gone" "$NAVETTE" publish "$V" --run change "${S[@]}"
expect_err "run change is not prepared in .*published already" "says so"

# ---- refusals before anything runs ----
expect_exit 2 "a shard without a prepared run" shard_host push --shard 0/2 --run none "$T" "$V"
expect_err "run none is not prepared in $V" "says to prepare it"
expect_exit 2 "a sharded push needs --run" shard_host push --shard 0/2 "$T" "$V"
expect_exit 2 "a shard takes no signing key" "$NAVETTE" push --shard 0/2 --run x "$T" "$V" "${S[@]}"
expect_err "a shard of a push signs nothing" "says where the key goes"
expect_exit 2 "publish needs --run" "$NAVETTE" publish "$V" "${S[@]}"
expect_exit 2 "publish of a run never prepared" "$NAVETTE" publish "$V" --run never "${S[@]}"
expect_exit 2 "--wait is not for --prepare" "$NAVETTE" publish "$V" --prepare --run x --wait 10s "${S[@]}"
expect_exit 2 "a run id that is no folder name" "$NAVETTE" publish "$V" --prepare --run .. "${S[@]}"

# The rest runs on a smaller tree: the awkward one and 60 small files.
T="$NV_TMP/tree2"
nv_awkward_tree "$T"
rm "$T/"$'bad\xffutf8'
nv_small_tree "$T/small" 60

# ---- a killed shard, run again ----
V="$NV_TMP/vk"; vid=$(new_vault "$V"); give_kid "$vid"
"$NAVETTE" publish "$V" --prepare --run k3 "${S[@]}" 2>/dev/null || nv_die "prepare k3"
shard_host push --shard 0/3 --run k3 "$T" "$V" 2>/dev/null || nv_die "shard 0"
NAVETTE_FAULT=write_commit@12=kill expect_exit 137 "shard 1/3 killed mid-way" \
	shard_host push --shard 1/3 --run k3 "$T" "$V"
shard_host push --shard 2/3 --run k3 "$T" "$V" 2>/dev/null || nv_die "shard 2"
check "the killed shard wrote no partial catalog" test ! -e "$V/runs/k3/shard-1-of-3.age"
expect_exit 4 "publish refuses: a shard is missing" "$NAVETTE" publish "$V" --run k3 "${S[@]}"
expect_err "^navette: error: run k3: 1 of 3 shards have not written their partial catalog: 1/3 \(not run, failed or still running\): run it again, then publish" \
	"naming it"
check "nothing published" test ! -e "$V/manifests"
expect_exit 0 "the killed shard, run again" shard_host push --shard 1/3 --run k3 -v --log-json "$T" "$V"
check "it reuses what landed before the kill" test "$(nv_json_event summary already_stored "$NV_TMP/err")" -gt 0
expect_exit 0 "then publish completes" "$NAVETTE" publish "$V" --run k3 "${S[@]}"
expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pull-k" --identity "$K/id.txt"
check "the tree" diff -r "$T" "$NV_TMP/pull-k"
expect_exit 0 "verify --level deep" "$NAVETTE" verify --level deep "$V" --identity "$K/id.txt"

# ---- a missing shard, waited for; the lease shared, publish refused meanwhile ----
V="$NV_TMP/vw"; vid=$(new_vault "$V"); give_kid "$vid"
"$NAVETTE" publish "$V" --prepare --run w3 "${S[@]}" 2>/dev/null || nv_die "prepare w3"
shard_host push --shard 0/3 --run w3 "$T" "$V" 2>/dev/null || nv_die "shard 0"
shard_host push --shard 2/3 --run w3 "$T" "$V" 2>/dev/null || nv_die "shard 2"
"$NAVETTE" publish "$V" --run w3 "${S[@]}" --wait 5m 2>"$NV_TMP/wait.err" &
waiter=$!; nv_at_exit "kill $waiter"
touch "$NV_TMP/hold"
NAVETTE_FAULT=flush@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" shard_host push --shard 1/3 --run w3 \
	"$T" "$V" 2>"$NV_TMP/held.err" &
held=$!; nv_at_exit "kill $held"
# held at its first flush: objects uploaded, lease held, no partial catalog yet
for _ in $(seq 1 600); do [ "$(ls "$V/navette-lease" 2>/dev/null | grep -c '\.json$')" -ge 1 ] && break; sleep 0.1; done
expect_exit 0 "another shard of the run runs meanwhile (the lease is shared)" \
	shard_host push --shard 2/3 --run w3 "$T" "$V"
grep -q "waiting up to" "$NV_TMP/wait.err" && ok "publish --wait says it waits" || not_ok "publish --wait says it waits"
check "publish --wait is still waiting" kill -0 "$waiter"
rm "$NV_TMP/hold"
wait "$held"; rc=$?
check "the held shard then completes (exit $rc)" test "$rc" -eq 0
wait "$waiter"; rc=$?
check "publish --wait then publishes (exit $rc)" test "$rc" -eq 0
grep -q "published generation 1 from 3 shards of run w3" "$NV_TMP/wait.err" && ok "generation 1" ||
	{ not_ok "generation 1"; sed 's/^/    /' "$NV_TMP/wait.err"; }
expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pull-w" --identity "$K/id.txt"
check "the tree" diff -r "$T" "$NV_TMP/pull-w"

# publish while a shard of the run still holds the lease (its partial catalog there already)
"$NAVETTE" publish "$V" --prepare --run l3 "${S[@]}" 2>/dev/null || nv_die "prepare l3"
for k in 0 1 2; do shard_host push --shard "$k/3" --run l3 "$T" "$V" 2>/dev/null || nv_die "shard $k"; done
touch "$NV_TMP/hold"
NAVETTE_FAULT=flush@1=hold NAVETTE_FAULT_HOLD="$NV_TMP/hold" shard_host push --shard 2/3 --run l3 \
	"$T" "$V" 2>/dev/null &
held=$!; nv_at_exit "kill $held"
for _ in $(seq 1 600); do [ "$(ls "$V/navette-lease" 2>/dev/null | grep -c '\.json$')" -ge 1 ] && break; sleep 0.1; done
expect_exit 4 "publish while a shard runs" "$NAVETTE" publish "$V" --run l3 "${S[@]}"
expect_err "is locked by .*push shared lease of run l3" "naming the shard's shared lease"
rm "$NV_TMP/hold"; wait "$held"
expect_exit 0 "once it is over, publish" "$NAVETTE" publish "$V" --run l3 "${S[@]}"

# ---- partial catalogs altered or forged, objects not as recorded ----
V="$NV_TMP/vf"; vid=$(new_vault "$V"); give_kid "$vid"
"$NAVETTE" publish "$V" --prepare --run f3 "${S[@]}" 2>/dev/null || nv_die "prepare f3"
shard_host push --shard 0/3 --run f3 "$T" "$V" 2>/dev/null || nv_die "shard 0"
find "$V/objects" -type f | LC_ALL=C sort >"$NV_TMP/shard0.objects"
for k in 1 2; do shard_host push --shard "$k/3" --run f3 "$T" "$V" 2>/dev/null || nv_die "shard $k"; done
P2="$V/runs/f3/shard-2-of-3.age"; P1="$V/runs/f3/shard-1-of-3.age"
cp "$P2" "$NV_TMP/p2.saved"; cp "$P1" "$NV_TMP/p1.saved"
nv_flip_byte "$P2" $(( $(stat -c %s "$P2") - 30 ))
expect_exit 1 "an altered partial catalog: publish refuses" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_err "^navette: error: run f3: shard 2/3's partial catalog runs/f3/shard-2-of-3.age is refused \(nothing published; run that shard again, then publish\): it does not decrypt with the run's key" \
	"naming the shard"
cp "$NV_TMP/p2.saved" "$P2"
# a forger knows the run's public key (run.json) but not K_id
rcpt=$(jq -r .recipient "$V/runs/f3/run.json")
{ printf '{"recipient":"%s","run":"f3","shard":1,"shards":3,"type":"partial-catalog","vault_id":"%s","version":1}\n' "$rcpt" "$vid"
  printf '{"hmac":"%s","type":"end"}\n' "$(printf x | sha256sum | cut -c1-64)"; } |
	age -r "$rcpt" -o "$P1"
expect_exit 1 "a forged partial catalog: publish refuses" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_err "shard 1/3's partial catalog runs/f3/shard-1-of-3.age is refused .*: its HMAC under K_id does not match: forged or altered" \
	"naming the shard"
# the same forged with K_id's partial key: then the claims are checked one by one
kid=$(cat "$NAVETTE_STATE_DIR/push/$vid/kid")
kp=$(printf 'navette-partial-v1\n' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$kid" | awk '{print $NF}')
body=$(printf '{"recipient":"%s","run":"f3","shard":1,"shards":3,"type":"partial-catalog","vault_id":"%s","version":1}\n{"mode":420,"mtime":1,"mtime_ns":0,"object":"objects/00/%s.0000000000000000.age","path":"a/b","sha256":"%s","size":1,"stored_sha256":"%s","stored_size":200}' \
	"$rcpt" "$vid" "$(printf '0%.0s' $(seq 1 64))" "$(printf '1%.0s' $(seq 1 64))" "$(printf '2%.0s' $(seq 1 64))")
{ printf '%s\n' "$body"; printf '{"hmac":"%s","type":"end"}\n' \
	"$(printf '%s\n' "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$kp" | awk '{print $NF}')"; } |
	age -r "$rcpt" -o "$P1"
expect_exit 1 "an authentic partial catalog naming another shard's path" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_err "shard 1/3's partial catalog .* is refused .*: path 'a/b' is not of shard 1/3" "refused"
cp "$NV_TMP/p1.saved" "$P1"
obj=$(head -n 1 "$NV_TMP/shard0.objects")
nv_flip_byte "$obj" 40
expect_exit 1 "an object not as recorded: publish refuses" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_err "^navette: error: 1 recorded object\(s\) are not in the store as the shards recorded them \(shard 0/3\): nothing published; run those shards again, then publish" \
	"naming the shard"
check "nothing published" test ! -e "$V/manifests"
nv_flip_byte "$obj" 40
rm "$(head -n 2 "$NV_TMP/shard0.objects" | tail -n 1)"
expect_exit 1 "an object missing: publish refuses" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_err "not in the store as the shards recorded them \(shard 0/3\)" "naming the shard"
expect_exit 0 "shard 0 run again" shard_host push --shard 0/3 --run f3 "$T" "$V"
expect_exit 0 "then publish completes" "$NAVETTE" publish "$V" --run f3 "${S[@]}"
expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pull-f" --identity "$K/id.txt"
check "the tree" diff -r "$T" "$NV_TMP/pull-f"

# ---- equal contents in two shards; a file that became a directory between shards ----
# shard2 PATH: its shard of 2 (FORMAT.md 14: the first 64 bits of SHA-256(PATH), mod 2)
shard2() { local h; h=$(printf %s "$1" | sha256sum | cut -c15-16); echo $((16#$h % 2)); }
T3="$NV_TMP/tree3"; mkdir -p "$T3"
for i in $(seq 1 64); do
	[ -e "$T3/same.$(shard2 "same$i")" ] || { echo "same contents" >"$T3/same$i"; touch "$T3/same.$(shard2 "same$i")"; }
done
rm -f "$T3"/same.?
check "two files of equal contents, one in each shard of 2" test "$(ls "$T3" | wc -l)" -eq 2
R3="$NV_TMP/single3"; new_vault "$R3" >/dev/null
"$NAVETTE" push "$T3" "$R3" "${S[@]}" 2>/dev/null || nv_die "single push of tree3"
V="$NV_TMP/vd"; vid=$(new_vault "$V"); give_kid "$vid"
"$NAVETTE" publish "$V" --prepare --run d2 "${S[@]}" 2>/dev/null || nv_die "prepare d2"
for k in 0 1; do shard_host push --shard "$k/2" --run d2 "$T3" "$V" 2>/dev/null || nv_die "shard $k/2"; done
check "each shard stored the contents" test "$(find "$V/objects" -type f | wc -l)" -eq 2
expect_exit 0 "publish" "$NAVETTE" publish "$V" --run d2 "${S[@]}"
check "the contents stored once, as a single push stores them" \
	test "$(find "$V/objects" -type f | wc -l)" -eq "$(find "$R3/objects" -type f | wc -l)"
expect_exit 0 "verify --level deep" "$NAVETTE" verify --level deep "$V" --identity "$K/id.txt"
expect_exit 0 "it pulls" "$NAVETTE" pull "$V" "$NV_TMP/pull-d" --identity "$K/id.txt"
check "the tree" diff -r "$T3" "$NV_TMP/pull-d"
T4="$NV_TMP/tree4"; mkdir -p "$T4"
for i in $(seq 1 64); do [ "$(shard2 "c$i")" != "$(shard2 "c$i/y")" ] && { c="c$i"; break; }; done
echo file >"$T4/$c"
V="$NV_TMP/vc"; vid=$(new_vault "$V"); give_kid "$vid"
"$NAVETTE" publish "$V" --prepare --run c2 "${S[@]}" 2>/dev/null || nv_die "prepare c2"
shard_host push --shard "$(shard2 "$c")/2" --run c2 "$T4" "$V" 2>/dev/null || nv_die "the file's shard"
rm "$T4/$c" && mkdir "$T4/$c" && echo below >"$T4/$c/y"
shard_host push --shard "$(shard2 "$c/y")/2" --run c2 "$T4" "$V" 2>/dev/null || nv_die "the directory's shard"
expect_exit 1 "a path a file in one shard and a directory in another: publish refuses" \
	"$NAVETTE" publish "$V" --run c2 "${S[@]}"
expect_err "the merged catalog would not be readable: nothing published: catalog: '$c' is a file and a directory" \
	"saying why"
check "nothing published" test ! -e "$V/manifests"

# ---- partial catalogs of two shard counts ----
"$NAVETTE" publish "$V" --prepare --run two "${S[@]}" 2>/dev/null || nv_die "prepare two"
shard_host push --shard 0/2 --run two "$T" "$V" 2>/dev/null || nv_die "shard 0/2"
shard_host push --shard 0/3 --run two "$T" "$V" 2>/dev/null || nv_die "shard 0/3"
expect_exit 2 "partial catalogs of 2 and of 3 shards" "$NAVETTE" publish "$V" --run two "${S[@]}"
expect_err "run two has partial catalogs of 2 and of 3 shards" "says so"
nv_done
