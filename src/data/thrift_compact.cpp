#include "data/thrift_compact.h"

#include <cstring>

#include "common/error.h"

namespace heretic::data {
namespace {

constexpr int kMaxDepth = 64;  // size of last_field_ids_

int64_t zigzag_decode(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

bool is_known_type(uint8_t type) { return type <= static_cast<uint8_t>(ThriftType::kStruct); }

}  // namespace

ThriftCompactReader::ThriftCompactReader(const uint8_t* data, size_t size, std::string source,
                                         uint64_t base_offset)
    : data_(data), size_(size), source_(std::move(source)), base_offset_(base_offset) {}

void ThriftCompactReader::fail(const std::string& what) const {
  throw InputError(source_ + ": corrupt Parquet metadata at byte offset " +
                   std::to_string(base_offset_ + position_) + ": " + what);
}

uint8_t ThriftCompactReader::read_byte() {
  if (position_ >= size_) fail("unexpected end of data");
  return data_[position_++];
}

uint64_t ThriftCompactReader::read_varint() {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const uint8_t byte = read_byte();
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return result;
  }
  fail("varint longer than 10 bytes");
}

void ThriftCompactReader::skip_bytes(uint64_t count) {
  if (count > size_ - position_) fail("length " + std::to_string(count) + " runs past the end");
  position_ += static_cast<size_t>(count);
}

void ThriftCompactReader::begin_struct() {
  if (depth_ >= kMaxDepth) fail("structs nested deeper than " + std::to_string(kMaxDepth));
  last_field_ids_[depth_++] = 0;
}

void ThriftCompactReader::end_struct() {
  if (depth_ > 0) --depth_;
}

ThriftFieldHeader ThriftCompactReader::read_field_header() {
  const uint8_t byte = read_byte();
  ThriftFieldHeader field;
  const uint8_t type = byte & 0x0f;
  if (!is_known_type(type)) fail("unknown field type " + std::to_string(type));
  field.type = static_cast<ThriftType>(type);
  if (field.type == ThriftType::kStop) return field;
  const uint8_t delta = byte >> 4;
  int16_t& last = last_field_ids_[depth_ > 0 ? depth_ - 1 : 0];
  if (delta != 0) {
    field.id = static_cast<int16_t>(last + delta);
  } else {
    field.id = static_cast<int16_t>(zigzag_decode(read_varint()));
  }
  last = field.id;
  return field;
}

bool ThriftCompactReader::read_bool(const ThriftFieldHeader& field) {
  if (field.type == ThriftType::kBoolTrue) return true;
  if (field.type == ThriftType::kBoolFalse) return false;
  fail("expected a boolean field");
}

bool ThriftCompactReader::read_list_bool() { return read_byte() == 1; }

int32_t ThriftCompactReader::read_i32() {
  const int64_t value = zigzag_decode(read_varint());
  if (value < INT32_MIN || value > INT32_MAX) fail("i32 value out of range");
  return static_cast<int32_t>(value);
}

int64_t ThriftCompactReader::read_i64() { return zigzag_decode(read_varint()); }

std::string ThriftCompactReader::read_string() {
  const uint64_t length = read_varint();
  const size_t start = position_;
  skip_bytes(length);
  return std::string(reinterpret_cast<const char*>(data_ + start), static_cast<size_t>(length));
}

ThriftListHeader ThriftCompactReader::read_list_header() {
  const uint8_t byte = read_byte();
  ThriftListHeader list;
  const uint8_t type = byte & 0x0f;
  if (!is_known_type(type)) fail("unknown list element type " + std::to_string(type));
  list.element_type = static_cast<ThriftType>(type);
  uint64_t size = byte >> 4;
  if (size == 15) size = read_varint();
  // Every element takes at least one byte, which bounds what a corrupt size can make us do.
  if (size > size_ - position_)
    fail("list of " + std::to_string(size) + " elements runs past the end");
  list.size = static_cast<uint32_t>(size);
  return list;
}

void ThriftCompactReader::skip(ThriftType type) {
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse:
      return;  // the value was in the field header
    case ThriftType::kByte:
      skip_bytes(1);
      return;
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      read_varint();
      return;
    case ThriftType::kDouble:
      skip_bytes(8);
      return;
    case ThriftType::kBinary:
      skip_bytes(read_varint());
      return;
    case ThriftType::kList:
    case ThriftType::kSet: {
      const ThriftListHeader list = read_list_header();
      if (depth_ >= kMaxDepth) fail("containers nested too deeply");
      ++depth_;
      for (uint32_t i = 0; i < list.size; ++i) {
        // Booleans inside containers take one byte each.
        if (list.element_type == ThriftType::kBoolTrue ||
            list.element_type == ThriftType::kBoolFalse) {
          skip_bytes(1);
        } else {
          skip(list.element_type);
        }
      }
      --depth_;
      return;
    }
    case ThriftType::kMap: {
      const uint64_t size = read_varint();
      if (size == 0) return;
      const uint8_t types = read_byte();
      const uint8_t key = types >> 4, value = types & 0x0f;
      if (!is_known_type(key) || !is_known_type(value)) fail("unknown map element type");
      if (size > size_ - position_) fail("map runs past the end");
      if (depth_ >= kMaxDepth) fail("containers nested too deeply");
      ++depth_;
      for (uint64_t i = 0; i < size; ++i) {
        for (uint8_t element : {key, value}) {
          const auto element_type = static_cast<ThriftType>(element);
          if (element_type == ThriftType::kBoolTrue || element_type == ThriftType::kBoolFalse) {
            skip_bytes(1);
          } else {
            skip(element_type);
          }
        }
      }
      --depth_;
      return;
    }
    case ThriftType::kStruct: {
      begin_struct();
      for (ThriftFieldHeader field = read_field_header(); field.type != ThriftType::kStop;
           field = read_field_header()) {
        skip(field.type);
      }
      end_struct();
      return;
    }
    case ThriftType::kStop:
      fail("unexpected STOP");
  }
  fail("unknown type");
}

}  // namespace heretic::data
