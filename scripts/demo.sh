#!/usr/bin/env bash
# demo.sh: the README's first command. Installs the build dependencies, builds
# navette and runs a real job on the local driver in a scratch directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
bash scripts/build.sh build
nv="$top/build/navette"
demo=$(mktemp -d /tmp/navette-demo.XXXXXX)
echo "== demo in $demo"
mkdir -p "$demo/data/reports" "$demo/data/images"
for i in $(seq 1 20); do head -c $((i * 4096)) /dev/urandom >"$demo/data/reports/r$i.bin"; done
head -c $((8 << 20)) /dev/urandom >"$demo/data/images/big.img"
echo "hello, navette" >"$demo/data/readme.txt"
set -x
"$nv" --version
"$nv" sync "$demo/data" "$demo/replica"
"$nv" check "$demo/data" "$demo/replica"
"$nv" ls "$demo/replica" | head -5
set +x
echo "== the replica matches the source, byte for byte (navette check exit 0)"
