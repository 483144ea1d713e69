# vault.sh: helpers for vault tests (sourced after common.sh): keys, a vault,
# and a restore done by hand with stock age, ssh-keygen and jq (FORMAT.md 6).

# nv_keys DIR: an age identity (DIR/id.txt, DIR/id.pub) and a signing key (DIR/sign{,.pub})
nv_keys() {
	mkdir -p "$1"
	"$NAVETTE" keygen -o "$1/id.txt" >"$1/id.pub" 2>/dev/null || return 1
	"$NAVETTE" keygen --signing -o "$1/sign" >/dev/null || return 1
}

# nv_manual_restore VAULT IDENTITY SIGNPUB OUTDIR [GENERATION]: restores with
# stock tools only, checking every signature and hash on the way.
nv_manual_restore() {
	local v=$1 id=$2 pub=$3 out=$4 gen=${5:-} m cat
	echo "navette $(cut -d' ' -f1,2 "$pub")" >"$NV_TMP/allowed_signers"
	ssh-keygen -Y verify -f "$NV_TMP/allowed_signers" -I navette -n navette-vault \
		-s "$v/navette-vault.json.sig" <"$v/navette-vault.json" >/dev/null 2>&1 || return 1
	if [ -n "$gen" ]; then m=$(printf '%s/manifests/%020d.json' "$v" "$gen")
	else m=$(ls "$v"/manifests/*.json | tail -n 1); fi
	ssh-keygen -Y verify -f "$NV_TMP/allowed_signers" -I navette -n navette-manifest \
		-s "$m.sig" <"$m" >/dev/null 2>&1 || return 1
	(cd "$v" && tail -n +2 "$m" | jq -r '"\(.sha256)  \(.name)"' | sha256sum -c --quiet) || return 1
	cat=$(head -n 1 "$m" | jq -r .catalog)
	age -d -i "$id" "$v/$cat" >"$NV_TMP/catalog.jsonl" || return 1
	mkdir -p "$out"
	tail -n +2 "$NV_TMP/catalog.jsonl" | jq -r '[.path, .object] | @tsv' |
	while IFS=$'\t' read -r path obj; do
		mkdir -p "$out/$(dirname "$path")"
		age -d -i "$id" "$v/$obj" >"$out/$path" || return 1
	done
	(cd "$out" && tail -n +2 "$NV_TMP/catalog.jsonl" | jq -r '"\(.sha256)  \(.path)"' | sha256sum -c --quiet)
}

# nv_catalog_files VAULT IDENTITY: the newest catalog of a local vault read
# with stock age, one JSON line per file without its object (whose name
# carries a random nonce): path, size, sha256, mode, mtime, mtime_ns, sorted.
nv_catalog_files() {
	local m cat
	m=$(ls "$1"/manifests/*.json | tail -n 1)
	cat=$(head -n 1 "$m" | jq -r .catalog)
	age -d -i "$2" "$1/$cat" | tail -n +2 |
		jq -c '{path, size, sha256, mode, mtime, mtime_ns}' | LC_ALL=C sort
}
