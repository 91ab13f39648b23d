// One component's kernel parameters for ablation tests, in Heretic's order (spec §2.2).
#pragma once

#include "ablation/trial_params.h"

namespace heretic::testing {

inline ablation::ComponentKernel kernel(const char* component, double max_weight, double position, double min_weight,
                                        double distance) {
  ablation::ComponentKernel k;
  k.component = model::component_from_name(component).value();
  k.max_weight = max_weight;
  k.max_weight_position = position;
  k.min_weight = min_weight;
  k.min_weight_distance = distance;
  return k;
}

}  // namespace heretic::testing
