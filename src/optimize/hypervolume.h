// Exact hypervolume (minimisation): the measure of the region dominated by a point set and
// bounded by a reference point. 2-D by a sweep, 3-D by slicing into 2-D sweeps, more
// dimensions by recursive slicing (exponential, fine for the ~25-point sets of the sampler).
#pragma once

#include <vector>

namespace heretic::optimize {

using ObjectivePoint = std::vector<double>;  // one value per objective, all minimised

// Points with any coordinate >= the reference add nothing. Infinite coordinates give an
// infinite (or NaN) volume; callers that need a finite value check first.
double hypervolume(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference);
double hypervolume_2d(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference);
double hypervolume_3d(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference);

// Optuna's reference point for a point set: w = component-wise max, r = max(1.1 w, 0.9 w)
// (right for negative w too), and a component that is exactly 0 becomes 1e-12.
ObjectivePoint reference_point_for(const std::vector<ObjectivePoint>& points);

}  // namespace heretic::optimize
