// What a trial ablates (spec/heretic-behavior.md §2.1-2.2, §3.1): Heretic's search space over
// the direction scope and index and a weight kernel per component, and the decoding of a
// trial's sampled values into the kernels that plan_ablation (ablator.h) applies. Torch-free.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "model/component.h"
#include "optimize/search_space.h"

namespace heretic::ablation {

// One component's weight kernel: max_weight at the peak block, falling linearly to min_weight
// at min_weight_distance blocks from it, and 0 beyond.
struct ComponentKernel {
  model::Component component = model::Component::kAttnOutput;
  double max_weight = 0.0;           // after the clamp at 0
  double max_weight_position = 0.0;  // block index (float) of the peak
  double min_weight = 0.0;           // absolute: the sampled fraction x max_weight
  double min_weight_distance = 1.0;  // blocks from the peak to the min_weight end

  // Ablation weight of block `layer` (0 means "leave this block alone").
  double weight_at(int layer) const;
};

struct TrialParams {
  bool per_layer = false;                 // direction_scope == "per layer"
  std::optional<double> direction_index;  // empty when per_layer
  std::vector<ComponentKernel> kernels;   // in Heretic's component order
};

// Heretic's parameters in suggest order: direction_scope {"global", "per layer"},
// direction_index, then per component (attn.o_proj before mlp.down_proj, whichever exist):
// <c>.max_weight, <c>.max_weight_position, <c>.min_weight (a fraction of max_weight, [0, 1]),
// <c>.min_weight_distance. Position-like ranges are fractions of the last block index.
// Throws std::invalid_argument when n_layers < 1.
optimize::SearchSpace trial_search_space(int n_layers, const std::vector<model::Component>& components,
                                         const config::SearchSpaceConfig& ranges = {});

// The kernels of a trial's sampled values (by name; a space made by trial_search_space).
// Throws std::invalid_argument naming a missing parameter.
TrialParams decode_trial_params(const optimize::ParamValues& values);

// {"direction_scope": "global", "direction_index": 2.05, "attn.o_proj": {"max_weight": ...,
// "max_weight_position": ..., "min_weight": ..., "min_weight_distance": ...}, ...}: the
// parameters as the journal, results.h5 and model cards show them (Heretic's user attribute).
nlohmann::ordered_json to_json(const TrialParams& params);
// "global 2.05; attn.o_proj 1.45@3.05 min 0.92 d 1.10; mlp.down_proj off" (progress lines).
std::string describe(const TrialParams& params);

}  // namespace heretic::ablation
