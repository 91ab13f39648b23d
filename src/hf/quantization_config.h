// config.json's quantization_config: which quantised checkpoint formats this program reads
// (dequantised on load, quantized_formats.h) and their parameters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace heretic::hf {

enum class QuantMethod {
  kNone,      // no quantization_config: BF16/F16/F32 tensors
  kBlockFp8,  // quant_method "fp8": float8 weights with <name>_scale_inv per weight_block_size block
  kMxfp4,     // quant_method "mxfp4": <name>_blocks + <name>_scales (gpt-oss experts)
};

struct QuantizationConfig {
  QuantMethod method = QuantMethod::kNone;
  std::string method_name;  // as config.json spells it, for messages; empty for kNone
  int64_t block_rows = 0;   // kBlockFp8: weight_block_size [block_rows, block_cols]
  int64_t block_cols = 0;
  bool quantized() const { return method != QuantMethod::kNone; }
};

// The supported quant_method values, for messages: "fp8, mxfp4".
const char* supported_quant_methods();

// Parses the value of `key` (e.g. "quantization_config" or "text_config.quantization_config")
// in `file`. Throws InputError naming the file and key for an unknown quant_method (listing the
// supported ones) or a weight_block_size that is not two positive integers. A "fp8" config
// without weight_block_size gets transformers' default [128, 128].
QuantizationConfig parse_quantization_config(const nlohmann::json& value, const std::filesystem::path& file,
                                             const std::string& key);

}  // namespace heretic::hf
