#!/usr/bin/env bash
# Builds the libFuzzer targets of every parser of a downloaded or resumed file (tests/fuzz)
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer (tools/sanitize-build.sh), and
# runs each for a bounded time on its seed corpus with its dictionary. Fails on any crash,
# sanitizer report, leak, broken invariant, input slower than 10 s, or allocation over 2 GiB.
#
#   tools/run-fuzz.sh                          # 20 s per target (what the test script runs)
#   tools/run-fuzz.sh 3600                     # an hour per target
#   tools/run-fuzz.sh 600 tokenizer journal    # only these targets
#   HERETIC_FUZZ_TIMEOUT=30 tools/run-fuzz.sh  # an input may take 30 s of wall time (default 10;
#                                              # more on a machine shared with other jobs)
#
# Inputs that libFuzzer finds interesting are kept in build-sanitize/fuzz-corpus/<target> for
# the next run; a failing input is written to build-sanitize/fuzz-artifacts/ (replay it with
# build-sanitize/tests/fuzz/fuzz_<target> FILE, then copy it into tests/fuzz/corpus/<target>/
# as regression-<what> so that test_fuzz_replay keeps replaying it).
set -euo pipefail
seconds="${1:-20}"
shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SANITIZE_BUILD_DIR:-$root/build-sanitize}"
all_targets=(parquet_reader text_readers safetensors_header model_config tokenizer chat_template toml_config journal)
targets=("${all_targets[@]}")
if [ $# -gt 0 ]; then targets=("$@"); fi

"$root/tools/sanitize-build.sh" "${targets[@]/#/fuzz_}"

# Where each target's seeds and dictionary are.
seeds_of() {
  case "$1" in
    parquet_reader) echo "$root/tests/fixtures/data/parquet" ;;
    text_readers) echo "$root/tests/fuzz/corpus/text" ;;
    *) echo "$root/tests/fuzz/corpus/$1" ;;
  esac
}

for target in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$target" artifacts="$build/fuzz-artifacts/"
  seeds="$(seeds_of "$target")"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "$root/tests/fuzz/dict/$target.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$target.dict")
  echo "== fuzz_$target: ${seconds}s, seeds from ${seeds#"$root"/}"
  # The first folder receives new interesting inputs; the seed folder is only read.
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout="${HERETIC_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" "$corpus" "$seeds"
done
echo "fuzzing passed: no crash, leak, sanitizer report or broken invariant"
