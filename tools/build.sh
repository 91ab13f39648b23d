#!/usr/bin/env bash
# Configures and builds heretic-mpi into build/ (or $HERETIC_BUILD_DIR). Warnings are errors
# when CI is set. Extra arguments go to CMake, e.g. tools/build.sh -DHERETIC_CUDA=OFF.
# HERETIC_TARGET=heretic-mpi builds only the program (what tools/demo.sh needs), not the tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HERETIC_BUILD_DIR:-$root/build}"
jobs="${HERETIC_JOBS:-2}"
werror=OFF
if [ -n "${CI:-}" ]; then werror=ON; fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" -DHERETIC_WERROR="$werror" "$@"
if [ -n "${HERETIC_TARGET:-}" ]; then
  cmake --build "$build" -j "$jobs" --target "$HERETIC_TARGET"
else
  cmake --build "$build" -j "$jobs"
fi
