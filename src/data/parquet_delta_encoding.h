// Parquet's delta encodings of BYTE_ARRAY values, which some writers choose for strings
// (arrow-rs for format 2.0 files, DuckDB, Polars): DELTA_LENGTH_BYTE_ARRAY (delta-encoded
// lengths, then the bytes back to back) and DELTA_BYTE_ARRAY (delta-encoded lengths of the
// prefix shared with the previous value, then the suffixes as DELTA_LENGTH_BYTE_ARRAY). Both
// rest on DELTA_BINARY_PACKED integers. Inputs are untrusted: every read is bounds-checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/parquet_encoding.h"

namespace heretic::data::parquet {

// Decodes `count` DELTA_BINARY_PACKED integers; `consumed` receives the bytes they took.
std::vector<int64_t> decode_delta_binary_packed(ByteSpan input, size_t count, size_t& consumed,
                                                const std::string& where);

std::vector<std::string> decode_delta_length_byte_arrays(ByteSpan input, size_t count,
                                                         const std::string& where);

std::vector<std::string> decode_delta_byte_arrays(ByteSpan input, size_t count,
                                                  const std::string& where);

}  // namespace heretic::data::parquet
