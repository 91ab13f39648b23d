// Heretic's search space (spec/heretic-behavior.md §3.1) and the transforms that turn a
// trial's raw parameters into what the ablation engine applies: direction scope/index and a
// weight kernel per component.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "optimize/search_space.h"

namespace heretic::optimize {

inline constexpr const char* kAttentionComponent = "attn.o_proj";
inline constexpr const char* kMlpComponent = "mlp.down_proj";

// Ranges, as fractions of the last layer index Lm = n_layers - 1 where noted. Defaults are
// Heretic's; its own comment says new models may need others.
struct HereticSearchRanges {
  double direction_index_low = 0.4, direction_index_high = 0.9;  // x Lm
  double attention_max_weight_low = 0.8, attention_max_weight_high = 1.5;
  double mlp_max_weight_low = -0.25, mlp_max_weight_high = 1.5;          // < 0 clamps to 0: off
  double max_weight_position_low = 0.6, max_weight_position_high = 1.0;  // x Lm
  double min_weight_distance_high = 0.6;  // x Lm, range [1, max(that, 1)]
};

// Parameters in suggest order: direction_scope {"global", "per layer"}, direction_index, then
// for each component (attn.o_proj before mlp.down_proj): <c>.max_weight,
// <c>.max_weight_position, <c>.min_weight (a fraction of max_weight, [0, 1]),
// <c>.min_weight_distance. Throws std::invalid_argument for an unknown component or
// n_layers < 1.
SearchSpace heretic_search_space(int n_layers, const std::vector<std::string>& components,
                                 const HereticSearchRanges& ranges = {});

struct ComponentKernel {
  std::string component;
  double max_weight = 0.0;           // after the clamp at 0
  double max_weight_position = 0.0;  // block index (float) of the peak
  double min_weight = 0.0;           // absolute: fraction x max_weight
  double min_weight_distance = 1.0;  // layers from the peak to the min_weight end

  // Ablation weight of block `layer`: max_weight at the peak falling linearly to min_weight at
  // min_weight_distance, 0 beyond it (0 means "leave this block alone").
  double weight_at(int layer) const;
};

struct HereticTrialParams {
  bool per_layer = false;                 // direction_scope == "per layer"
  std::optional<double> direction_index;  // empty when per_layer
  std::vector<ComponentKernel> kernels;   // in the space's component order
};

// Applies the transforms to a trial's parameters of a space made by heretic_search_space.
HereticTrialParams decode_heretic_params(const SearchSpace& space,
                                         const std::vector<double>& params);

}  // namespace heretic::optimize
