// One component's kernel parameters for ablation tests, in Heretic's order (spec §2.2).
#pragma once

#include "optimize/heretic_space.h"

namespace heretic::testing {

inline optimize::ComponentKernel kernel(const char* component, double max_weight, double position, double min_weight,
                                        double distance) {
  optimize::ComponentKernel k;
  k.component = component;
  k.max_weight = max_weight;
  k.max_weight_position = position;
  k.min_weight = min_weight;
  k.min_weight_distance = distance;
  return k;
}

}  // namespace heretic::testing
