#!/usr/bin/env bash
# demo.sh: the README's first command. Installs the build dependencies, builds
# navette, and runs the main job on the local driver in a scratch directory:
# keygen -> init -> push -> verify -> pull -> compare, then a plain sync + check.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
bash scripts/build.sh build
nv="$top/build/navette"
demo=$(mktemp -d /tmp/navette-demo.XXXXXX)
chmod 700 "$demo"
export NAVETTE_STATE_DIR="$demo/state"
echo "== demo in $demo"
mkdir -p "$demo/data/reports" "$demo/data/images"
for i in $(seq 1 20); do head -c $((i * 4096)) /dev/urandom >"$demo/data/reports/r$i.bin"; done
head -c $((8 << 20)) /dev/urandom >"$demo/data/images/big.img"
echo "hello, navette" >"$demo/data/readme.txt"
cp "$demo/data/readme.txt" "$demo/data/reports/copy-of-readme.txt"
set -x
"$nv" --version
"$nv" keygen -o "$demo/owner.key" >"$demo/owner.pub"
"$nv" keygen --signing -o "$demo/push.key"
"$nv" init "$demo/vault" --recipients-file "$demo/owner.pub" --signing-key "$demo/push.key"
"$nv" push "$demo/data" "$demo/vault" --signing-key "$demo/push.key"
"$nv" verify "$demo/vault" --level hash --max-age 1h
"$nv" pull "$demo/vault" "$demo/restored" --identity "$demo/owner.key"
diff -r "$demo/data" "$demo/restored"
"$nv" log "$demo/vault"
"$nv" sync "$demo/data" "$demo/replica"
"$nv" check "$demo/data" "$demo/replica"
set +x
echo "== restored and replica trees match the source byte for byte"
