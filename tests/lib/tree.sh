# tree.sh: test trees (sourced after common.sh) and the paths that runs' JSON
# logs name, as exact bytes (hex, one per line), so that names a terminal or
# UTF-8 would mangle compare as they are.
command -v python3 >/dev/null || nv_need "python3"

# nv_awkward_tree DIR: names navette must carry byte for byte (every one a key
# it can hold: no control byte): spaces, quotes, glob and shell characters, a
# backslash, a leading dash, C1 and bidi controls and U+2028 (valid UTF-8),
# invalid UTF-8, the same name precomposed and decomposed, byte-order traps
# ("a-b" and "a.txt" sort between "a" and "a/"), a 255-byte name, deep
# nesting, an empty file and a 3 MiB one; mtimes fixed.
nv_awkward_tree() {
	local d=$1 long i
	mkdir -p "$d/with space" "$d/a/b.c" "$d/caf"$'\xc3\xa9' "$d/d1/d2/d3/d4/d5/d6/d7/d8" \
		"$d/"'glob*?[x]' "$d/utf8"
	long=$(printf 'L%.0s' $(seq 1 255))
	for n in "plain.txt" "with space/and  two  spaces" "with space/trailing " \
		"quote'single" 'quote"double' 'back\slash' "-leading-dash" "%2Fpercent" \
		'glob*?[x]/$dollar&amp;' "a-b" "a.txt" "a0" "a/b" "a/b.c/d" \
		$'c1\xc2\x9bX' $'bidi\xe2\x80\xaeevil' $'ls\xe2\x80\xa8sep' $'bad\xffutf8' \
		$'utf8/caf\xc3\xa9' $'utf8/cafe\xcc\x81' "caf"$'\xc3\xa9/\xc3\xa9t\xc3\xa9.txt' \
		"d1/d2/d3/d4/d5/d6/d7/d8/leaf" "$long"; do
		printf 'contents of %s\n' "$n" >"$d/$n"
	done
	: >"$d/empty"
	head -c 3145728 /dev/urandom >"$d/d1/big.bin"
	for i in 1 2 3 4 5 6 7 8 9; do printf '%s\n' "$i" >"$d/d1/d2/n$i"; done
	find "$d" -exec touch -h -d '2001-02-03 04:05:06 UTC' {} +
}

# nv_small_tree DIR N: N small files in 10 folders.
nv_small_tree() {
	local d=$1 n=$2 i
	for i in $(seq 0 9); do mkdir -p "$d/dir$i"; done
	for i in $(seq 1 "$n"); do printf 'small file %s\n' "$i" >"$d/dir$((i % 10))/f$i.txt"; done
}

# nv_tree_paths DIR: every file's path under DIR, in hex, sorted.
nv_tree_paths() {
	python3 - "$1" <<'PY' | LC_ALL=C sort
import os, sys
top = os.fsencode(sys.argv[1])
for root, dirs, files in os.walk(top):
    for f in files:
        print(os.path.relpath(os.path.join(root, f), top).hex())
PY
}

# nv_json_paths ACTION FILE...: the path of every item event of that action in
# the JSON logs, in hex (path_hex when the path is not UTF-8), sorted; a path
# named twice comes twice.
nv_json_paths() {
	python3 - "$@" <<'PY' | LC_ALL=C sort
import json, sys
for name in sys.argv[2:]:
    for line in open(name, encoding="utf-8"):
        o = json.loads(line)
        if o.get("event") == "item" and o.get("action") == sys.argv[1]:
            print(o["path_hex"] if "path_hex" in o else o["path"].encode().hex())
PY
}

# nv_json_event EVENT FIELD FILE: that field of the file's (last) such event.
nv_json_event() {
	python3 - "$@" <<'PY'
import json, sys
v = None
for line in open(sys.argv[3], encoding="utf-8"):
    o = json.loads(line)
    if o.get("event") == sys.argv[1]:
        v = o.get(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)
PY
}
