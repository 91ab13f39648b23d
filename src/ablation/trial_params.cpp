#include "ablation/trial_params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace heretic::ablation {
namespace {

double value_of(const optimize::ParamValues& values, const std::string& name) {
  for (const auto& [key, value] : values) {
    if (key == name) return value;
  }
  throw std::invalid_argument("the trial has no parameter '" + name + "'");
}

bool has(const optimize::ParamValues& values, const std::string& name) {
  return std::any_of(values.begin(), values.end(), [&](const auto& entry) { return entry.first == name; });
}

std::string fixed(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

}  // namespace

double ComponentKernel::weight_at(int layer) const {
  const double distance = std::fabs(layer - max_weight_position);
  if (distance > min_weight_distance) return 0.0;
  return max_weight + (distance / min_weight_distance) * (min_weight - max_weight);
}

optimize::SearchSpace trial_search_space(int n_layers, const std::vector<model::Component>& components,
                                         const config::SearchSpaceConfig& ranges) {
  if (n_layers < 1) throw std::invalid_argument("trial_search_space needs n_layers >= 1");
  const double last_layer = n_layers - 1;
  optimize::SearchSpace space;
  space.add_categorical("direction_scope", {"global", "per layer"});
  space.add_float("direction_index", ranges.direction_index_min * last_layer, ranges.direction_index_max * last_layer);
  for (const model::Component component : model::kAllComponents) {
    if (std::find(components.begin(), components.end(), component) == components.end()) continue;
    const std::string c = model::component_name(component);
    const bool mlp = component == model::Component::kMlpDown;
    space.add_float(c + ".max_weight", mlp ? ranges.mlp_max_weight_min : ranges.attention_max_weight_min,
                    mlp ? ranges.mlp_max_weight_max : ranges.attention_max_weight_max);
    space.add_float(c + ".max_weight_position", ranges.max_weight_position_min * last_layer,
                    ranges.max_weight_position_max * last_layer);
    space.add_float(c + ".min_weight", 0.0, 1.0);
    space.add_float(c + ".min_weight_distance", 1.0, std::max(ranges.min_weight_distance_max * last_layer, 1.0));
  }
  return space;
}

TrialParams decode_trial_params(const optimize::ParamValues& values) {
  TrialParams decoded;
  decoded.per_layer = value_of(values, "direction_scope") == 1.0;  // choice 1: "per layer"
  if (!decoded.per_layer) decoded.direction_index = value_of(values, "direction_index");
  for (const model::Component component : model::kAllComponents) {
    const std::string c = model::component_name(component);
    if (!has(values, c + ".max_weight")) continue;
    ComponentKernel kernel;
    kernel.component = component;
    // The clamp gives the MLP a positive probability of exactly 0, i.e. of being switched off.
    kernel.max_weight = std::max(0.0, value_of(values, c + ".max_weight"));
    kernel.max_weight_position = value_of(values, c + ".max_weight_position");
    // TPE cannot sample a range that depends on another parameter, so min_weight is a fraction.
    kernel.min_weight = value_of(values, c + ".min_weight") * kernel.max_weight;
    kernel.min_weight_distance = value_of(values, c + ".min_weight_distance");
    decoded.kernels.push_back(kernel);
  }
  return decoded;
}

nlohmann::ordered_json to_json(const TrialParams& params) {
  nlohmann::ordered_json json;
  json["direction_scope"] = params.per_layer ? "per layer" : "global";
  json["direction_index"] =
      params.direction_index ? nlohmann::ordered_json(*params.direction_index) : nlohmann::ordered_json(nullptr);
  for (const ComponentKernel& kernel : params.kernels) {
    json[model::component_name(kernel.component)] = {{"max_weight", kernel.max_weight},
                                                     {"max_weight_position", kernel.max_weight_position},
                                                     {"min_weight", kernel.min_weight},
                                                     {"min_weight_distance", kernel.min_weight_distance}};
  }
  return json;
}

std::string describe(const TrialParams& params) {
  std::string text = params.per_layer ? "per layer" : "global " + fixed(params.direction_index.value_or(0.0));
  for (const ComponentKernel& kernel : params.kernels) {
    text += std::string("; ") + model::component_name(kernel.component) + " ";
    if (kernel.max_weight == 0.0) {
      text += "off";
    } else {
      text += fixed(kernel.max_weight) + "@" + fixed(kernel.max_weight_position) + " min " + fixed(kernel.min_weight) +
              " d " + fixed(kernel.min_weight_distance);
    }
  }
  return text;
}

}  // namespace heretic::ablation
