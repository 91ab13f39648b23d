// Fuzz entry points of every parser of a downloaded or resumed file. Each takes arbitrary
// bytes and must either succeed or throw InputError (which it catches); anything else — a
// crash, a leak, another exception, a broken FUZZ_CHECK — is a bug. libFuzzer calls them
// through libfuzzer_entry.cpp (tools/run-fuzz.sh); the GoogleTest fuzz_replay_test.cpp calls
// them on the seed corpus under the normal compiler. Inputs that stand for several files
// separate them with NUL bytes (fuzz_input.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heretic::fuzz {

// Bytes are a Parquet file; every column is read.
int fuzz_parquet_reader(const uint8_t* data, size_t size);

// First byte picks the reader (CSV, JSON Lines, JSON, plain text, split syntax); the rest is
// the input.
int fuzz_text_readers(const uint8_t* data, size_t size);

// 8 bytes (little endian): how many bytes the file has beyond the input, then the start of a
// .safetensors file (length, header JSON). An accepted tensor table is written back with the
// writer and read again.
int fuzz_safetensors_header(const uint8_t* data, size_t size);

// config.json NUL generation_config.json (optional), resolved as the model loader does.
int fuzz_model_config(const uint8_t* data, size_t size);

// tokenizer.json NUL tokenizer_config.json (optional) NUL text: the tokenizer is built, the
// text encoded and decoded, and ids taken from the text's bytes decoded.
int fuzz_tokenizer(const uint8_t* data, size_t size);

// A chat template, parsed and rendered on a fixed conversation (with and without tools).
int fuzz_chat_template(const uint8_t* data, size_t size);

// A TOML configuration NUL --set overrides (one per line); an accepted configuration must
// print as TOML that parses back and prints the same.
int fuzz_toml_config(const uint8_t* data, size_t size);

// First byte: bit 0 set gives every line a valid CRC; the rest is journal.jsonl. It is read,
// its trials restored into a sampler, and a writer appends to it.
int fuzz_journal(const uint8_t* data, size_t size);

}  // namespace heretic::fuzz
