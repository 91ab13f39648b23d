#include "hf/quantization_config.h"

#include <limits>

#include "common/error.h"

namespace heretic::hf {
namespace {

// transformers' FineGrainedFP8Config default, used when a "fp8" config omits the key.
constexpr int64_t kDefaultFp8Block = 128;

std::string excerpt(const nlohmann::json& value) {
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

}  // namespace

const char* supported_quant_methods() { return "fp8, mxfp4"; }

QuantizationConfig parse_quantization_config(const nlohmann::json& value, const std::filesystem::path& file,
                                             const std::string& key) {
  const std::string where = file.string() + ": key '" + key;
  if (!value.is_object()) throw InputError(where + "' must be an object, not " + excerpt(value));
  const auto method = value.find("quant_method");
  if (method == value.end() || !method->is_string())
    throw InputError(where + ".quant_method' is missing or not a string (supported: " + supported_quant_methods() + ")");
  QuantizationConfig config;
  config.method_name = method->get<std::string>();
  if (config.method_name == "mxfp4") {
    config.method = QuantMethod::kMxfp4;
    return config;
  }
  if (config.method_name != "fp8")
    throw InputError(where + ".quant_method' is '" + config.method_name +
                     "': this quantisation is not supported (supported: " + supported_quant_methods() +
                     "); use an unquantised model (bfloat16, float16 or float32 weights)");
  config.method = QuantMethod::kBlockFp8;
  config.block_rows = config.block_cols = kDefaultFp8Block;
  const auto block = value.find("weight_block_size");
  if (block == value.end()) return config;
  const bool two_positive = block->is_array() && block->size() == 2 && (*block)[0].is_number_integer() &&
                            (*block)[1].is_number_integer() && (*block)[0].get<int64_t>() > 0 &&
                            (*block)[1].get<int64_t>() > 0 &&
                            (*block)[0].get<int64_t>() <= std::numeric_limits<int32_t>::max() &&
                            (*block)[1].get<int64_t>() <= std::numeric_limits<int32_t>::max();
  if (!two_positive)
    throw InputError(where + ".weight_block_size' must be two positive integers [rows, columns], not " +
                     excerpt(*block) + " (per-tensor FP8 scales are not supported)");
  config.block_rows = (*block)[0].get<int64_t>();
  config.block_cols = (*block)[1].get<int64_t>();
  return config;
}

}  // namespace heretic::hf
