#include "model/tensor_parallel.h"

#include "model/model_info.h"

namespace heretic::model {

HeadRange kv_heads_of(const TensorSplit& split, int64_t num_kv_heads) {
  if (num_kv_heads % split.parts == 0) return {split.start(num_kv_heads), split.length(num_kv_heads)};
  return {split.index * num_kv_heads / split.parts, 1};
}

std::string tensor_parallel_problem(const ModelInfo& info, int parts) {
  if (parts < 1) return "must be at least 1";
  const std::pair<const char*, int64_t> dimensions[] = {{"num_attention_heads", info.num_heads},
                                                        {"intermediate_size", info.intermediate_size}};
  for (const auto& [name, size] : dimensions) {
    if (size % parts != 0)
      return std::to_string(parts) + " does not divide " + name + " (" + std::to_string(size) +
             "); use a divisor of it";
  }
  if (info.num_kv_heads % parts != 0 && parts % info.num_kv_heads != 0)
    return std::to_string(parts) + " neither divides nor is a multiple of num_key_value_heads (" +
           std::to_string(info.num_kv_heads) + ")";
  return "";
}

}  // namespace heretic::model
