#include "data/parquet_delta_encoding.h"

#include <algorithm>

#include "common/error.h"
#include "data/parquet_encoding.h"

namespace heretic::data::parquet {
namespace {

uint64_t zigzag_decode(uint64_t value) { return (value >> 1) ^ (~(value & 1) + 1); }

// Value `index` of a little-endian bit-packed run of `width`-bit values (width <= 64).
uint64_t unpack_bits(const uint8_t* packed, size_t index, int width) {
  uint64_t value = 0;
  const uint64_t first_bit = static_cast<uint64_t>(index) * static_cast<uint64_t>(width);
  for (int bit = 0; bit < width;) {
    const uint64_t position = first_bit + static_cast<uint64_t>(bit);
    const int offset = static_cast<int>(position % 8);
    const int take = std::min(8 - offset, width - bit);
    const uint64_t bits = (packed[position / 8] >> offset) & ((1u << take) - 1);
    value |= bits << bit;
    bit += take;
  }
  return value;
}

}  // namespace

std::vector<int64_t> decode_delta_binary_packed(ByteSpan input, size_t count, size_t& consumed,
                                                const std::string& where) {
  size_t position = 0;
  const uint64_t block_size = read_uleb128(input, position, where, "delta header");
  const uint64_t miniblocks = read_uleb128(input, position, where, "delta header");
  const uint64_t total = read_uleb128(input, position, where, "delta header");
  uint64_t previous = zigzag_decode(read_uleb128(input, position, where, "delta header"));
  // The format requires blocks of a multiple of 128 values split into miniblocks of a multiple
  // of 32; checking it also bounds the work a corrupt header can ask for.
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    fail_at(where, "invalid DELTA_BINARY_PACKED header (block size " + std::to_string(block_size) +
                    ", " + std::to_string(miniblocks) + " miniblocks)");
  }
  if (total < count) {
    fail_at(where, "DELTA_BINARY_PACKED data holds " + std::to_string(total) + " values, not " +
                    std::to_string(count));
  }
  const size_t per_miniblock = static_cast<size_t>(block_size / miniblocks);
  std::vector<int64_t> values;
  values.reserve(std::min<size_t>(count, input.size * 8 + 1));
  if (count > 0) values.push_back(static_cast<int64_t>(previous));
  while (values.size() < count) {
    const uint64_t min_delta = zigzag_decode(read_uleb128(input, position, where, "delta header"));
    if (miniblocks > input.size - position) fail_at(where, "delta bit widths run past the end");
    const uint8_t* widths = input.data + position;
    position += static_cast<size_t>(miniblocks);
    for (uint64_t m = 0; m < miniblocks && values.size() < count; ++m) {
      const int width = widths[m];
      if (width > 64) fail_at(where, "delta bit width " + std::to_string(width) + " above 64");
      const size_t bytes = per_miniblock * static_cast<size_t>(width) / 8;
      if (bytes > input.size - position) fail_at(where, "delta miniblock runs past the end");
      const uint8_t* packed = input.data + position;
      for (size_t i = 0; i < per_miniblock && values.size() < count; ++i) {
        // Unsigned arithmetic: the format defines deltas modulo 2^64.
        previous += min_delta + unpack_bits(packed, i, width);
        values.push_back(static_cast<int64_t>(previous));
      }
      position += bytes;
    }
  }
  consumed = position;
  return values;
}

std::vector<std::string> decode_delta_length_byte_arrays(ByteSpan input, size_t count,
                                                         const std::string& where) {
  size_t position = 0;
  const std::vector<int64_t> lengths = decode_delta_binary_packed(input, count, position, where);
  std::vector<std::string> values;
  values.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (lengths[i] < 0 || static_cast<uint64_t>(lengths[i]) > input.size - position) {
      fail_at(where, "DELTA_LENGTH_BYTE_ARRAY value " + std::to_string(i) + " of length " +
                      std::to_string(lengths[i]) + " runs past the end of the page");
    }
    const auto length = static_cast<size_t>(lengths[i]);
    values.emplace_back(reinterpret_cast<const char*>(input.data + position), length);
    position += length;
  }
  return values;
}

std::vector<std::string> decode_delta_byte_arrays(ByteSpan input, size_t count,
                                                  const std::string& where) {
  size_t position = 0;
  const std::vector<int64_t> prefixes = decode_delta_binary_packed(input, count, position, where);
  std::vector<std::string> values =
      decode_delta_length_byte_arrays({input.data + position, input.size - position}, count, where);
  // Shared prefixes let a few bytes stand for long values: bound what a page may expand to.
  constexpr size_t kMaxExpandedBytes = size_t{256} << 20;
  size_t expanded = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t previous_size = i == 0 ? 0 : values[i - 1].size();
    if (prefixes[i] < 0 || static_cast<uint64_t>(prefixes[i]) > previous_size) {
      fail_at(where, "DELTA_BYTE_ARRAY value " + std::to_string(i) + " shares " +
                      std::to_string(prefixes[i]) + " bytes with a previous value of " +
                      std::to_string(previous_size));
    }
    expanded += static_cast<size_t>(prefixes[i]) + values[i].size();
    if (expanded > kMaxExpandedBytes) {
      fail_at(where, "DELTA_BYTE_ARRAY page expands to more than " +
                      std::to_string(kMaxExpandedBytes) + " bytes");
    }
    if (prefixes[i] > 0) {
      values[i].insert(0, values[i - 1], 0, static_cast<size_t>(prefixes[i]));
    }
  }
  return values;
}

}  // namespace heretic::data::parquet
