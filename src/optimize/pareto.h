// Pareto dominance for minimised objectives: non-dominated sorting and front extraction.
#pragma once

#include <vector>

#include "optimize/hypervolume.h"

namespace heretic::optimize {

// a dominates b: a <= b in every objective and a < b in at least one.
bool dominates(const ObjectivePoint& a, const ObjectivePoint& b);

// Rank 0 = not dominated by any point; remove them, the next undominated layer is rank 1, ...
// Identical points never dominate each other, so they share a rank. O(n^2 d) per layer.
std::vector<int> non_dominated_ranks(const std::vector<ObjectivePoint>& points);

// Indices (ascending) of the points of rank 0.
std::vector<int> pareto_front(const std::vector<ObjectivePoint>& points);

}  // namespace heretic::optimize
