// The number formats of quantised checkpoints, decoded exactly and without torch:
//
// - float8 e4m3fn (safetensors F8_E4M3): sign, 4 exponent bits (bias 7), 3 mantissa bits; no
//   infinities, 0x7F and 0xFF are NaN, the largest value is 448.
// - float8 e5m2 (F8_E5M2): sign, 5 exponent bits (bias 15), 2 mantissa bits, IEEE-like with
//   infinities (0x7C, 0xFC) and NaNs.
// - Block FP8 (config.json quantization_config quant_method "fp8", as DeepSeek-V3 and the
//   Qwen3-*-FP8 checkpoints store it): a float8 matrix W [out, in] plus `<name>_scale_inv`
//   [ceil(out / bo), ceil(in / bi)] (F32, BF16 or F16) for weight_block_size [bo, bi];
//   w[r][c] = float(W[r][c]) * scale_inv[r / bo][c / bi], multiplied in float32.
// - MXFP4 (quant_method "mxfp4", gpt-oss, architectures.md §3.10): `<name>_blocks` U8
//   [..., rows, G, 16] holding 32 e2m1 values per block (low nibble first), and
//   `<name>_scales` U8 [..., rows, G] holding one e8m0 exponent per block (bias 127);
//   value = e2m1 * 2^(scale - 127). The result has rows x (32 G) elements in that order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hf/safetensors_format.h"

namespace heretic::hf {

// The exact value of one byte / nibble of each format.
float decode_f8_e4m3(uint8_t byte);
float decode_f8_e5m2(uint8_t byte);
float decode_e2m1(uint8_t nibble);  // the low 4 bits; LUT {0, .5, 1, 1.5, 2, 3, 4, 6} and negatives
// 2^(byte - 127) (2^-127 is a float32 subnormal); 255 is NaN, as in the OCP MX specification.
float decode_e8m0(uint8_t byte);

// One element of a F32, BF16 or F16 tensor as float (exact). Other dtypes are a programming
// error (std::invalid_argument).
float read_float_element(const std::byte* data, DType dtype, uint64_t index);

// A block-FP8 matrix as it lies in the mapped checkpoint.
struct BlockFp8Matrix {
  const std::byte* values = nullptr;  // rows x cols float8 bytes, row-major
  DType value_dtype = DType::kF8E4M3;  // kF8E4M3 or kF8E5M2
  int64_t rows = 0;
  int64_t cols = 0;
  const std::byte* scales = nullptr;  // ceil(rows / block_rows) x ceil(cols / block_cols)
  DType scale_dtype = DType::kF32;     // kF32, kBF16 or kF16
  int64_t block_rows = 0;
  int64_t block_cols = 0;
};

// Dequantises rows row_begin .. row_begin + row_count - 1 and columns col_begin .. col_begin +
// col_count - 1 of `matrix` into `out` (row_count x col_count floats, row-major). Only that
// rectangle and its scales are read, so that a tensor-parallel rank converts its slice alone.
void dequantize_block_fp8(const BlockFp8Matrix& matrix, int64_t row_begin, int64_t row_count, int64_t col_begin,
                          int64_t col_count, float* out);

constexpr int64_t kMxfp4BlockValues = 32;  // values per scale
constexpr int64_t kMxfp4BlockBytes = 16;   // bytes per block (two e2m1 nibbles each)

// Dequantises `block_count` consecutive MXFP4 blocks (16 bytes each, `blocks`) with their
// exponents (`scales`, one byte each) into out[0 .. 32 * block_count - 1]: byte j of a block
// gives elements 2j (low nibble) and 2j + 1 (high nibble). The gpt-oss family's loader calls
// it per expert with the blocks of `mlp.experts.*_proj_blocks` [E, rows, G, 16] and
// `*_proj_scales` [E, rows, G] (model/quantized_tensor.h: load_mxfp4_tensor), then transposes
// the last two dimensions into transformers' [E, in, out] layout.
void dequantize_mxfp4(const uint8_t* blocks, const uint8_t* scales, int64_t block_count, float* out);

}  // namespace heretic::hf
