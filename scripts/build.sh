#!/usr/bin/env bash
# build.sh: autoreconf + configure + make in a build directory.
#   scripts/build.sh BUILDDIR [configure options...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$1; shift
cd "$top"
autoreconf -fi 2>&1 | grep -v -e '^configure.ac:.*installing' -e '^Makefile.am: installing' -e 'parallel-tests: installing' || true
mkdir -p "$builddir"
cd "$builddir"
"$top/configure" -q "$@"
make -j"$(nproc)" >/dev/null
echo "built $builddir/navette"
