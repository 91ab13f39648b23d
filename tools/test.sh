#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: installs missing system packages,
# fetches the pinned test data that is not in git, builds, and runs CTest.
# This is the README's test command, and what CI (.ci/run) runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
tools/install-deps.sh
for fetch in tools/fetch-*.sh; do
  [ -x "$fetch" ] && "$fetch"
done
tools/build.sh
build="${HERETIC_BUILD_DIR:-$root/build}"
# mpirun refuses to run as root unless told; CI runs as root in a throw-away machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "$build" --output-on-failure -j "${HERETIC_TEST_JOBS:-2}" "$@"
# The torch-free unit tests again, built with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (build-sanitize/), then a bounded fuzzing run of every file parser in that same build; longer:
# tools/run-fuzz.sh 3600.
tools/run-sanitized-tests.sh
tools/run-fuzz.sh "${HERETIC_FUZZ_SECONDS:-20}"
echo "test.sh: finished in $(( $(date +%s) - start )) s"
