#!/usr/bin/env bash
# Configures the sanitizer build (clang, AddressSanitizer + UndefinedBehaviorSanitizer,
# libFuzzer coverage: cmake/HereticSanitizers.cmake) in build-sanitize/ (or $SANITIZE_BUILD_DIR)
# and builds the given targets there. tools/run-sanitized-tests.sh and tools/run-fuzz.sh share
# it, so the libraries are compiled once for both. Not a unity build: every source file compiles
# on its own here, which the default build (HERETIC_UNITY_BUILD) does not check.
#
#   tools/sanitize-build.sh sanitized_tests fuzz_targets
#
# Needs Debian's clang and libclang-rt-14-dev (tools/install-deps.sh installs them). A compiler
# cache is used when CMAKE_CXX_COMPILER_LAUNCHER is set in the environment (e.g. ccache).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SANITIZE_BUILD_DIR:-$root/build-sanitize}"
mkdir -p "$build"
# -O1 -gline-tables-only: what libFuzzer's documentation recommends: line numbers in reports,
# and less to compile than -O2 -g.
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DHERETIC_SANITIZE=ON -DHERETIC_FUZZ=ON -DHERETIC_UNITY_BUILD=OFF > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "${HERETIC_JOBS:-2}" --target "$@"
