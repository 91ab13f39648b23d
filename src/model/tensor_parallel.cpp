#include "model/tensor_parallel.h"

#include "model/model_info.h"

#include <utility>
#include <vector>

namespace heretic::model {

HeadRange kv_heads_of(const TensorSplit& split, int64_t num_kv_heads) {
  if (num_kv_heads % split.parts == 0) return {split.start(num_kv_heads), split.length(num_kv_heads)};
  return {split.index * num_kv_heads / split.parts, 1};
}

std::string tensor_parallel_problem(const ModelInfo& info, int parts) {
  if (parts < 1) return "must be at least 1";
  // Experts are split like dense MLPs: every expert's intermediate columns (and the shared
  // expert's) over the group, so each rank routes every token and computes its part of each expert.
  std::vector<std::pair<std::string, int64_t>> dimensions = {{"num_attention_heads", info.num_heads}};
  bool dense_layers = info.experts.count == 0;
  for (int64_t layer = 0; layer < info.num_layers && !dense_layers; ++layer) dense_layers = !info.is_moe_layer(layer);
  if (dense_layers) dimensions.emplace_back("intermediate_size", info.intermediate_size);
  if (info.experts.count > 0) {
    const ExpertsRecipe& recipe = info.family->experts;
    dimensions.emplace_back(recipe.intermediate_key, info.experts.intermediate_size);
    if (info.experts.shared_intermediate_size > 0)
      dimensions.emplace_back(recipe.shared_intermediate_key, info.experts.shared_intermediate_size);
  }
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
