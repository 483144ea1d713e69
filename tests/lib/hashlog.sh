# hashlog.sh: reading what a --log-json run says it copied (sourced after
# common.sh), for the tests of the copy's SHA-256 (copy_hash*.sh).
command -v python3 >/dev/null || nv_need "python3"

# nv_json_items FILE ACTION FIELD: "FIELD-value  path" of each item event of
# that action, sorted (sha256sum's form for FIELD sha256).
nv_json_items() {
	python3 - "$@" <<'PY' | LC_ALL=C sort
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o.get("event") == "item" and o.get("action") == sys.argv[2]:
        print("%s  %s" % (o.get(sys.argv[3]), o["path"]))
PY
}
# nv_json_summary FILE FIELD...: the summary's fields, space-separated.
nv_json_summary() {
	python3 - "$@" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o.get("event") == "summary":
        print(" ".join(str(o.get(f)) for f in sys.argv[2:]))
PY
}
# nv_sha_tree DIR: sha256sum of every file under DIR by its relative path, sorted.
nv_sha_tree() {
	(cd "$1" && find . -type f -printf '%P\0' | xargs -0 -r sha256sum) | LC_ALL=C sort
}
# nv_json_same_sha DESCRIPTION FILE DIR: the "copied" items of FILE carry exactly
# the SHA-256 that sha256sum computes of DIR's files.
nv_json_same_sha() {
	if diff <(nv_sha_tree "$3") <(nv_json_items "$2" copied sha256) >"$NV_TMP/sha.diff"; then
		ok "$1"
	else
		not_ok "$1"; sed 's/^/    /' "$NV_TMP/sha.diff" | head -20
	fi
}
