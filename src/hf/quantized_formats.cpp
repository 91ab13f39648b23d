#include "hf/quantized_formats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace heretic::hf {
namespace {

// A table of every byte's value, built once from the format's definition.
template <typename Decode>
std::array<float, 256> byte_table(Decode decode) {
  std::array<float, 256> table{};
  for (int byte = 0; byte < 256; ++byte) table[static_cast<size_t>(byte)] = decode(static_cast<uint8_t>(byte));
  return table;
}

// A minifloat with 1 sign bit, `exponent_bits`, `mantissa_bits` and exponent bias `bias`;
// special values are handled by the callers.
float minifloat_value(uint8_t byte, int exponent_bits, int mantissa_bits, int bias) {
  const bool negative = (byte >> (exponent_bits + mantissa_bits)) & 1;
  const int exponent = (byte >> mantissa_bits) & ((1 << exponent_bits) - 1);
  const int mantissa = byte & ((1 << mantissa_bits) - 1);
  // Subnormals (exponent 0) have no implicit leading 1 and the exponent of 1.
  const float magnitude = exponent == 0
                              ? std::ldexp(static_cast<float>(mantissa), 1 - bias - mantissa_bits)
                              : std::ldexp(static_cast<float>((1 << mantissa_bits) + mantissa), exponent - bias - mantissa_bits);
  return negative ? -magnitude : magnitude;
}

float e4m3_from_definition(uint8_t byte) {
  if ((byte & 0x7F) == 0x7F) return std::numeric_limits<float>::quiet_NaN();  // e4m3fn: S.1111.111 only
  return minifloat_value(byte, 4, 3, 7);
}

float e5m2_from_definition(uint8_t byte) {
  if (((byte >> 2) & 0x1F) == 0x1F) {
    if ((byte & 0x3) != 0) return std::numeric_limits<float>::quiet_NaN();
    return (byte & 0x80) ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  return minifloat_value(byte, 5, 2, 15);
}

const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> table = byte_table(e4m3_from_definition);
  return table;
}

const std::array<float, 256>& e5m2_table() {
  static const std::array<float, 256> table = byte_table(e5m2_from_definition);
  return table;
}

float float_from_bits(uint32_t bits) {
  float value = 0.0F;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const int exponent = (bits >> 10) & 0x1F;
  const uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0x1F) return float_from_bits(sign | 0x7F800000U | (mantissa << 13));  // inf / NaN
  const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -24)
                                        : std::ldexp(static_cast<float>(0x400 | mantissa), exponent - 25);
  return sign ? -magnitude : magnitude;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

float decode_f8_e4m3(uint8_t byte) { return e4m3_table()[byte]; }
float decode_f8_e5m2(uint8_t byte) { return e5m2_table()[byte]; }

float decode_e2m1(uint8_t nibble) {
  static constexpr float kMagnitudes[8] = {0.0F, 0.5F, 1.0F, 1.5F, 2.0F, 3.0F, 4.0F, 6.0F};
  const float magnitude = kMagnitudes[nibble & 0x7];
  return (nibble & 0x8) ? -magnitude : magnitude;
}

float decode_e8m0(uint8_t byte) {
  if (byte == 0xFF) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.0F, static_cast<int>(byte) - 127);
}

float read_float_element(const std::byte* data, DType dtype, uint64_t index) {
  switch (dtype) {
    case DType::kF32: {
      float value = 0.0F;
      std::memcpy(&value, data + 4 * index, 4);
      return value;
    }
    case DType::kBF16: {
      uint16_t bits = 0;
      std::memcpy(&bits, data + 2 * index, 2);
      return float_from_bits(static_cast<uint32_t>(bits) << 16);
    }
    case DType::kF16: {
      uint16_t bits = 0;
      std::memcpy(&bits, data + 2 * index, 2);
      return half_to_float(bits);
    }
    default:
      throw std::invalid_argument(std::string("read_float_element: dtype ") + dtype_name(dtype) + " is not a float");
  }
}

void dequantize_block_fp8(const BlockFp8Matrix& matrix, int64_t row_begin, int64_t row_count, int64_t col_begin,
                          int64_t col_count, float* out) {
  if (matrix.block_rows <= 0 || matrix.block_cols <= 0 || row_begin < 0 || col_begin < 0 || row_count < 0 ||
      col_count < 0 || row_begin + row_count > matrix.rows || col_begin + col_count > matrix.cols)
    throw std::invalid_argument("dequantize_block_fp8: rectangle outside the matrix or bad block size");
  if (matrix.value_dtype != DType::kF8E4M3 && matrix.value_dtype != DType::kF8E5M2)
    throw std::invalid_argument("dequantize_block_fp8: values are not float8");
  const std::array<float, 256>& table = matrix.value_dtype == DType::kF8E4M3 ? e4m3_table() : e5m2_table();
  const int64_t scale_cols = ceil_div(matrix.cols, matrix.block_cols);
  const auto* values = reinterpret_cast<const uint8_t*>(matrix.values);
  for (int64_t r = 0; r < row_count; ++r) {
    const int64_t row = row_begin + r;
    const uint8_t* source = values + row * matrix.cols;
    const int64_t scale_row = row / matrix.block_rows;
    float* target = out + r * col_count;
    int64_t c = 0;
    while (c < col_count) {  // one column block at a time: one scale for the run
      const int64_t col = col_begin + c;
      const int64_t block = col / matrix.block_cols;
      const int64_t run = std::min(col_count - c, (block + 1) * matrix.block_cols - col);
      const float scale = read_float_element(matrix.scales, matrix.scale_dtype,
                                             static_cast<uint64_t>(scale_row * scale_cols + block));
      for (int64_t k = 0; k < run; ++k) target[c + k] = table[source[col + k]] * scale;
      c += run;
    }
  }
}

void dequantize_mxfp4(const uint8_t* blocks, const uint8_t* scales, int64_t block_count, float* out) {
  float values[16];
  for (int i = 0; i < 16; ++i) values[i] = decode_e2m1(static_cast<uint8_t>(i));
  for (int64_t b = 0; b < block_count; ++b) {
    // The products are exact: e2m1 values have 2 significant bits, and the smallest nonzero
    // product, 0.5 * 2^-127, is a float32 subnormal.
    const float scale = decode_e8m0(scales[b]);
    const uint8_t* bytes = blocks + b * kMxfp4BlockBytes;
    float* target = out + b * kMxfp4BlockValues;
    for (int j = 0; j < kMxfp4BlockBytes; ++j) {
      target[2 * j] = values[bytes[j] & 0x0F] * scale;
      target[2 * j + 1] = values[bytes[j] >> 4] * scale;
    }
  }
}

}  // namespace heretic::hf
