#!/usr/bin/env bash
# Builds the unit tests of the torch-free libraries with AddressSanitizer and
# UndefinedBehaviorSanitizer (tools/sanitize-build.sh) and runs them: any memory error, leak
# or undefined behaviour fails the test it happens in. Which tests, and which are left out and
# why: HERETIC_SANITIZED_TESTS in tests/CMakeLists.txt.
#
#   tools/run-sanitized-tests.sh              # what the test script runs
#   tools/run-sanitized-tests.sh -R Journal   # extra arguments go to ctest
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SANITIZE_BUILD_DIR:-$root/build-sanitize}"
start=$(date +%s)
"$root/tools/sanitize-build.sh" sanitized_tests
# halt_on_error: the first report fails the test; detect_leaks: a leak fails it at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" -L sanitized --output-on-failure -j "${HERETIC_TEST_JOBS:-2}" "$@"
echo "sanitized tests passed in $(( $(date +%s) - start )) s (build included)"
