#include "optimize/hypervolume.h"

#include <algorithm>
#include <cstddef>

namespace heretic::optimize {
namespace {

constexpr double kEps = 1e-12;

// Keeps the points strictly better than the reference in every objective.
std::vector<ObjectivePoint> inside(const std::vector<ObjectivePoint>& points,
                                   const ObjectivePoint& reference) {
  std::vector<ObjectivePoint> kept;
  for (const ObjectivePoint& p : points) {
    bool strictly_better = true;
    for (std::size_t k = 0; k < reference.size(); ++k) strictly_better &= p[k] < reference[k];
    if (strictly_better) kept.push_back(p);
  }
  return kept;
}

// Area dominated by (x, y) pairs, all inside the reference.
double sweep_2d(std::vector<std::pair<double, double>> xy, double ref_x, double ref_y) {
  std::sort(xy.begin(), xy.end());
  double area = 0.0;
  double best_y = ref_y;
  for (const auto& [x, y] : xy) {
    if (y < best_y) {
      area += (ref_x - x) * (best_y - y);
      best_y = y;
    }
  }
  return area;
}

// Slices along the last objective: between consecutive values of it, the dominated region is
// the (d-1)-dimensional volume of the points already passed, times the slice thickness.
double sliced(std::vector<ObjectivePoint> points, const ObjectivePoint& reference) {
  const std::size_t d = reference.size();
  if (points.empty()) return 0.0;
  if (d == 1) {
    double best = reference[0];
    for (const ObjectivePoint& p : points) best = std::min(best, p[0]);
    return reference[0] - best;
  }
  if (d == 2) {
    std::vector<std::pair<double, double>> xy;
    for (const ObjectivePoint& p : points) xy.emplace_back(p[0], p[1]);
    return sweep_2d(std::move(xy), reference[0], reference[1]);
  }
  std::sort(points.begin(), points.end(),
            [d](const ObjectivePoint& a, const ObjectivePoint& b) { return a[d - 1] < b[d - 1]; });
  const ObjectivePoint lower_reference(reference.begin(), reference.end() - 1);
  std::vector<ObjectivePoint> passed;
  double volume = 0.0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    passed.emplace_back(points[i].begin(), points[i].end() - 1);
    const double next = i + 1 < points.size() ? points[i + 1][d - 1] : reference[d - 1];
    const double thickness = next - points[i][d - 1];
    if (thickness > 0) volume += thickness * sliced(passed, lower_reference);
  }
  return volume;
}

}  // namespace

double hypervolume(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference) {
  return sliced(inside(points, reference), reference);
}

double hypervolume_2d(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference) {
  return hypervolume(points, reference);
}

double hypervolume_3d(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference) {
  return hypervolume(points, reference);
}

ObjectivePoint reference_point_for(const std::vector<ObjectivePoint>& points) {
  ObjectivePoint worst = points.front();
  for (const ObjectivePoint& p : points) {
    for (std::size_t k = 0; k < worst.size(); ++k) worst[k] = std::max(worst[k], p[k]);
  }
  for (double& w : worst) {
    w = std::max(1.1 * w, 0.9 * w);
    if (w == 0) w = kEps;
  }
  return worst;
}

}  // namespace heretic::optimize
