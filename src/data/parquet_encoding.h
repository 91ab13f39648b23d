// Decoders for the value and level encodings used by string columns of prompt datasets:
// the RLE / bit-packing hybrid (definition levels and dictionary indices) and PLAIN
// BYTE_ARRAY values. Inputs are untrusted: every read is bounds-checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heretic::data::parquet {

// Throws InputError("<where>: <what>"): every decoder's way to reject malformed data.
[[noreturn]] void fail_at(const std::string& where, const std::string& what);

// A view of bytes with a description of where they are, for error messages.
struct ByteSpan {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Decodes `count` values of `bit_width` bits (0..32) from the RLE / bit-packed hybrid
// encoding. Throws InputError prefixed with `where` if the data ends early.
// Reads the ULEB128 varint at `position` and advances it; `field` names what is being read
// in the error ("RLE run header", "delta header").
uint64_t read_uleb128(ByteSpan input, size_t& position, const std::string& where, const char* field);

std::vector<uint32_t> decode_rle_hybrid(ByteSpan input, int bit_width, size_t count,
                                        const std::string& where);

// Decodes `count` PLAIN BYTE_ARRAY values (4-byte little-endian length, then the bytes) as
// views into `input`.
std::vector<std::string_view> decode_plain_byte_arrays(ByteSpan input, size_t count,
                                                       const std::string& where);

// Number of bits needed to store values up to max_value (0 for 0).
int bit_width_for(uint32_t max_value);

}  // namespace heretic::data::parquet
