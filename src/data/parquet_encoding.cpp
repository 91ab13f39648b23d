#include "data/parquet_encoding.h"

#include <algorithm>

#include "common/error.h"

namespace heretic::data::parquet {

void fail_at(const std::string& where, const std::string& what) { throw InputError(where + ": " + what); }

uint64_t read_uleb128(ByteSpan input, size_t& position, const std::string& where, const char* field) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (position >= input.size) fail_at(where, std::string(field) + " runs past the end of the page");
    const uint8_t byte = input.data[position++];
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return result;
  }
  fail_at(where, std::string(field) + " varint longer than 10 bytes");
}

int bit_width_for(uint32_t max_value) {
  int width = 0;
  while (max_value != 0) {
    ++width;
    max_value >>= 1;
  }
  return width;
}

std::vector<uint32_t> decode_rle_hybrid(ByteSpan input, int bit_width, size_t count,
                                        const std::string& where) {
  if (bit_width < 0 || bit_width > 32) {
    fail_at(where, "bit width " + std::to_string(bit_width) + " out of range 0..32");
  }
  std::vector<uint32_t> values;
  values.reserve(count);
  size_t position = 0;
  const size_t value_bytes = static_cast<size_t>((bit_width + 7) / 8);
  while (values.size() < count) {
    const uint64_t header = read_uleb128(input, position, where, "RLE run header");
    if ((header & 1) == 0) {
      // RLE run: header >> 1 repetitions of one value stored in value_bytes little-endian bytes.
      const uint64_t run = header >> 1;
      if (value_bytes > input.size - position) fail_at(where, "RLE run value runs past the end");
      uint32_t value = 0;
      for (size_t i = 0; i < value_bytes; ++i) {
        value |= static_cast<uint32_t>(input.data[position + i]) << (8 * i);
      }
      position += value_bytes;
      if (run == 0) fail_at(where, "empty RLE run");
      const size_t take = static_cast<size_t>(std::min<uint64_t>(run, count - values.size()));
      values.insert(values.end(), take, value);
    } else {
      // Bit-packed run: (header >> 1) groups of 8 values, packed LSB first.
      const uint64_t groups = header >> 1;
      if (groups == 0) fail_at(where, "empty bit-packed run");
      if (groups > (input.size - position) + 1) fail_at(where, "bit-packed run runs past the end");
      const uint64_t run_values = groups * 8;
      const uint64_t run_bytes = groups * static_cast<uint64_t>(bit_width);
      // Writers may truncate the last group's padding at the end of the data.
      const size_t available =
          static_cast<size_t>(std::min<uint64_t>(run_bytes, input.size - position));
      const size_t wanted =
          static_cast<size_t>(std::min<uint64_t>(run_values, count - values.size()));
      if (static_cast<uint64_t>(wanted) * static_cast<uint64_t>(bit_width) > available * 8ULL) {
        fail_at(where, "bit-packed run runs past the end of the page");
      }
      const uint8_t* packed = input.data + position;
      const uint64_t mask = bit_width == 32 ? 0xffffffffULL : ((1ULL << bit_width) - 1);
      for (size_t i = 0; i < wanted; ++i) {
        const uint64_t bit = static_cast<uint64_t>(i) * static_cast<uint64_t>(bit_width);
        uint64_t word = 0;
        const size_t first = static_cast<size_t>(bit / 8);
        for (size_t b = 0; b < 5 && first + b < available; ++b) {
          word |= static_cast<uint64_t>(packed[first + b]) << (8 * b);
        }
        values.push_back(static_cast<uint32_t>((word >> (bit % 8)) & mask));
      }
      position += available;
    }
  }
  return values;
}

std::vector<std::string_view> decode_plain_byte_arrays(ByteSpan input, size_t count,
                                                       const std::string& where) {
  std::vector<std::string_view> values;
  // Every value takes at least its 4-byte length: a corrupt count cannot make us reserve much.
  values.reserve(std::min(count, input.size / 4));
  size_t position = 0;
  for (size_t i = 0; i < count; ++i) {
    if (input.size - position < 4) {
      fail_at(where, "PLAIN value " + std::to_string(i) + " of " + std::to_string(count) +
                      " runs past the end of the page");
    }
    const uint32_t length = static_cast<uint32_t>(input.data[position]) |
                            static_cast<uint32_t>(input.data[position + 1]) << 8 |
                            static_cast<uint32_t>(input.data[position + 2]) << 16 |
                            static_cast<uint32_t>(input.data[position + 3]) << 24;
    position += 4;
    if (length > input.size - position) {
      fail_at(where, "PLAIN value " + std::to_string(i) + " of length " + std::to_string(length) +
                      " runs past the end of the page");
    }
    values.emplace_back(reinterpret_cast<const char*>(input.data + position), length);
    position += length;
  }
  return values;
}

}  // namespace heretic::data::parquet
