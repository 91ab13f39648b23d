#!/usr/bin/env bash
# Builds the libFuzzer targets of the dataset readers with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each for a bounded time on its seed corpus. Fails on
# any crash, sanitizer report, leak or timeout.
#
#   tools/run-fuzz.sh            # 20 s per target (what the test script runs)
#   tools/run-fuzz.sh 600        # 10 minutes per target
#   BUILD_DIR=/tmp/fz tools/run-fuzz.sh 60
#
# Needs Debian's clang and libclang-rt-dev (libFuzzer). Inputs that libFuzzer finds
# interesting are kept in $BUILD_DIR/fuzz-corpus/<target> for the next run; a crashing input
# is written to $BUILD_DIR/fuzz-artifacts/ (replay it with: $BUILD_DIR/tests/fuzz/<target> FILE).
set -euo pipefail
seconds="${1:-20}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHERETIC_FUZZ=ON \
  -DCMAKE_C_FLAGS="$sanitizers -fno-omit-frame-pointer" \
  -DCMAKE_CXX_FLAGS="$sanitizers -fno-omit-frame-pointer" > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target fuzz_parquet_reader fuzz_text_readers -j2

run() {
  local target="$1" seeds="$2"
  local corpus="$build/fuzz-corpus/$target" artifacts="$build/fuzz-artifacts/"
  mkdir -p "$corpus" "$artifacts"
  echo "== $target: ${seconds}s, seeds from ${seeds#"$root"/}"
  # The first folder receives new interesting inputs; the seed folder is only read.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "$seeds"
}
run fuzz_parquet_reader "$root/tests/fixtures/data/parquet"
run fuzz_text_readers "$root/tests/fuzz/corpus/text"
echo "fuzzing passed: no crash, leak or sanitizer report"
