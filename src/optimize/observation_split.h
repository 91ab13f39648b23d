// How TPE divides finished trials into a "below" (good) group and an "above" group, and how
// it weights the members of each (spec/tpe.md §4). Inputs are the objective vectors of the
// COMPLETE trials in trial order; outputs are indices into that list.
#pragma once

#include <vector>

#include "optimize/hypervolume.h"

namespace heretic::optimize {

// Size of the below group for n finished trials: min(ceil(0.1 n), 25).
int default_gamma(int n);

// Kernel weights for m observations in chronological order: all 1 below 25; otherwise the
// oldest m - 25 ramp linearly from 1/m to 1 and the newest 25 get 1.
std::vector<double> default_weights(int m);

struct ObservationSplit {
  std::vector<int> below;  // in the order the sampler uses for kernels (see below_order)
  std::vector<int> above;  // ascending
};

// Single objective: stable sort by value (ties keep trial order), the first n_below go below;
// both groups ascending.
ObservationSplit split_single_objective(const std::vector<double>& values, int n_below);

// Several objectives: whole non-domination layers while they fit, then greedy hypervolume
// subset selection in the next layer. Below order: layer 0 members, layer 1 members, ..., then
// the subset picks in pick order (Optuna 3.1); `chronological` sorts it ascending (>= 3.5).
ObservationSplit split_multi_objective(const std::vector<ObjectivePoint>& points, int n_below,
                                       bool chronological);

// Greedy hypervolume subset selection: picks `k` of `points` one at a time, each maximising
// the volume added to those already picked (ties: lowest index). Returns indices in pick
// order. With non-finite values (no finite volume) it picks the first k.
std::vector<int> greedy_hypervolume_subset(const std::vector<ObjectivePoint>& points, int k,
                                           const ObjectivePoint& reference);

// Below-group kernel weights for several objectives.
enum class BelowWeighting {
  kContributionAll31,    // leave-one-out HV contribution within the whole group, +1e-12 (3.1)
  kContributionFront42,  // leave-one-out contribution within the group's Pareto front (4.2-4.9)
};
std::vector<double> below_weights_multi_objective(const std::vector<ObjectivePoint>& below,
                                                  BelowWeighting weighting);

}  // namespace heretic::optimize
