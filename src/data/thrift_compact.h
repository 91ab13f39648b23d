// A reader for the Thrift compact protocol, the encoding of Parquet's footer and page headers.
// Only what Parquet metadata uses: structs, lists, integers, strings, booleans, doubles; maps
// and sets are skipped. Every read is bounds-checked, and nesting is limited, because the
// bytes come from a user's file (and from a fuzzer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace heretic::data {

// Wire types of the compact protocol (low nibble of a field header).
enum class ThriftType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

struct ThriftFieldHeader {
  int16_t id = 0;
  ThriftType type = ThriftType::kStop;
};

struct ThriftListHeader {
  uint32_t size = 0;
  ThriftType element_type = ThriftType::kStop;
};

// Decodes one buffer front to back. Errors throw InputError naming `source` (the file) and the
// absolute byte offset (`base_offset` is where the buffer starts in the file).
class ThriftCompactReader {
 public:
  ThriftCompactReader(const uint8_t* data, size_t size, std::string source, uint64_t base_offset);

  // Structs: call begin_struct(), then read_field_header() until it returns kStop, reading or
  // skip()ping each field, then end_struct().
  void begin_struct();
  ThriftFieldHeader read_field_header();
  void end_struct();

  bool read_bool(const ThriftFieldHeader& field);  // the value lives in the field header
  int32_t read_i32();
  int64_t read_i64();
  std::string read_string();
  ThriftListHeader read_list_header();
  bool read_list_bool();  // a boolean element of a list (one byte)
  void skip(ThriftType type);

  size_t position() const { return position_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  uint8_t read_byte();
  uint64_t read_varint();
  void skip_bytes(uint64_t count);

  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
  std::string source_;
  uint64_t base_offset_;
  // Field ids are deltas from the previous id of the same struct: one entry per open struct.
  int16_t last_field_ids_[64] = {};
  int depth_ = 0;
};

}  // namespace heretic::data
