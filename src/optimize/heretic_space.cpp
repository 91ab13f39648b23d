#include "optimize/heretic_space.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace heretic::optimize {
namespace {

double param(const SearchSpace& space, const std::vector<double>& params, const std::string& name) {
  const int index = space.index_of(name);
  if (index < 0) throw std::invalid_argument("the search space has no parameter '" + name + "'");
  return params.at(static_cast<std::size_t>(index));
}

}  // namespace

SearchSpace heretic_search_space(int n_layers, const std::vector<std::string>& components,
                                 const HereticSearchRanges& ranges) {
  if (n_layers < 1) throw std::invalid_argument("heretic_search_space needs n_layers >= 1");
  for (const std::string& c : components) {
    if (c != kAttentionComponent && c != kMlpComponent) {
      throw std::invalid_argument("unknown ablation component '" + c + "'");
    }
  }
  const double last_layer = n_layers - 1;
  SearchSpace space;
  space.add_categorical("direction_scope", {"global", "per layer"});
  space.add_float("direction_index", ranges.direction_index_low * last_layer,
                  ranges.direction_index_high * last_layer);
  for (const char* component : {kAttentionComponent, kMlpComponent}) {
    if (std::find(components.begin(), components.end(), component) == components.end()) continue;
    const std::string c = component;
    const bool mlp = c == kMlpComponent;
    space.add_float(c + ".max_weight",
                    mlp ? ranges.mlp_max_weight_low : ranges.attention_max_weight_low,
                    mlp ? ranges.mlp_max_weight_high : ranges.attention_max_weight_high);
    space.add_float(c + ".max_weight_position", ranges.max_weight_position_low * last_layer,
                    ranges.max_weight_position_high * last_layer);
    space.add_float(c + ".min_weight", 0.0, 1.0);
    space.add_float(c + ".min_weight_distance", 1.0,
                    std::max(ranges.min_weight_distance_high * last_layer, 1.0));
  }
  return space;
}

double ComponentKernel::weight_at(int layer) const {
  const double distance = std::fabs(layer - max_weight_position);
  if (distance > min_weight_distance) return 0.0;
  return max_weight + (distance / min_weight_distance) * (min_weight - max_weight);
}

HereticTrialParams decode_heretic_params(const SearchSpace& space,
                                         const std::vector<double>& params) {
  HereticTrialParams decoded;
  decoded.per_layer = param(space, params, "direction_scope") == 1.0;
  if (!decoded.per_layer) decoded.direction_index = param(space, params, "direction_index");
  for (const char* component : {kAttentionComponent, kMlpComponent}) {
    const std::string c = component;
    if (space.index_of(c + ".max_weight") < 0) continue;
    ComponentKernel kernel;
    kernel.component = c;
    // The clamp gives the MLP a positive probability of exactly 0, i.e. of being switched off.
    kernel.max_weight = std::max(0.0, param(space, params, c + ".max_weight"));
    kernel.max_weight_position = param(space, params, c + ".max_weight_position");
    // TPE cannot sample a range that depends on another parameter, so min_weight is a fraction.
    kernel.min_weight = param(space, params, c + ".min_weight") * kernel.max_weight;
    kernel.min_weight_distance = param(space, params, c + ".min_weight_distance");
    decoded.kernels.push_back(kernel);
  }
  return decoded;
}

}  // namespace heretic::optimize
