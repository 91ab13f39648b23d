// Fuzz entry points of the dataset readers. Each takes arbitrary bytes and must either succeed
// or throw InputError (which it catches); anything else — a crash, a leak, another exception —
// is a bug. libFuzzer calls them through libfuzzer_entry.cpp (tools/run-fuzz.sh); the GoogleTest
// fuzz_replay_test.cpp calls them on the seed corpus under the normal compiler.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heretic::fuzz {

// Bytes are a Parquet file; every column is read.
int fuzz_parquet_reader(const uint8_t* data, size_t size);

// First byte picks the reader (CSV, JSON Lines, JSON, plain text, split syntax); the rest is
// the input.
int fuzz_text_readers(const uint8_t* data, size_t size);

}  // namespace heretic::fuzz
