#include "optimize/observation_split.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "optimize/pareto.h"

namespace heretic::optimize {
namespace {

constexpr double kContributionFloor = 1e-12;

bool all_finite(const std::vector<ObjectivePoint>& points) {
  for (const ObjectivePoint& p : points) {
    for (double v : p) {
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

std::vector<ObjectivePoint> without(const std::vector<ObjectivePoint>& points, std::size_t skip) {
  std::vector<ObjectivePoint> rest;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i != skip) rest.push_back(points[i]);
  }
  return rest;
}

}  // namespace

int default_gamma(int n) {
  return std::min(static_cast<int>(std::ceil(0.1 * static_cast<double>(n))), 25);
}

std::vector<double> default_weights(int m) {
  if (m <= 0) return {};
  if (m < 25) return std::vector<double>(static_cast<std::size_t>(m), 1.0);
  // numpy.linspace(1/m, 1, m - 25): start + i * step, the last element set to 1 exactly.
  const int ramp = m - 25;
  std::vector<double> w;
  const double start = 1.0 / m;
  const double step = ramp > 1 ? (1.0 - start) / (ramp - 1) : 0.0;
  for (int i = 0; i < ramp; ++i) w.push_back(i * step + start);
  if (ramp > 1) w.back() = 1.0;
  w.insert(w.end(), 25, 1.0);
  return w;
}

ObservationSplit split_single_objective(const std::vector<double>& values, int n_below) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&values](int a, int b) {
    return values[static_cast<std::size_t>(a)] < values[static_cast<std::size_t>(b)];
  });
  const auto cut = order.begin() + std::min<std::ptrdiff_t>(n_below, order.size());
  ObservationSplit split{{order.begin(), cut}, {cut, order.end()}};
  std::sort(split.below.begin(), split.below.end());
  std::sort(split.above.begin(), split.above.end());
  return split;
}

std::vector<int> greedy_hypervolume_subset(const std::vector<ObjectivePoint>& points, int k,
                                           const ObjectivePoint& reference) {
  const std::size_t n = points.size();
  std::vector<int> picked;
  if (!all_finite(points)) {
    for (int i = 0; i < k && i < static_cast<int>(n); ++i) picked.push_back(i);
    return picked;
  }
  // contribution[j] = volume that j would add to the picked set.
  std::vector<double> contribution(n);
  for (std::size_t j = 0; j < n; ++j) contribution[j] = hypervolume({points[j]}, reference);
  std::vector<bool> taken(n, false);
  std::vector<ObjectivePoint> picked_points;
  double picked_volume = 0.0;
  while (static_cast<int>(picked.size()) < k && picked.size() < n) {
    std::size_t best = n;
    for (std::size_t j = 0; j < n; ++j) {
      if (!taken[j] && (best == n || contribution[j] > contribution[best])) best = j;
    }
    taken[best] = true;
    // j loses exactly the part of its exclusive volume that `best` now covers: the volume
    // that max(best, j) adds to the old picked set.
    for (std::size_t j = 0; j < n; ++j) {
      if (taken[j]) continue;
      ObjectivePoint corner(points[j].size());
      for (std::size_t d = 0; d < corner.size(); ++d) {
        corner[d] = std::max(points[best][d], points[j][d]);
      }
      std::vector<ObjectivePoint> with_corner = picked_points;
      with_corner.push_back(corner);
      contribution[j] -= hypervolume(with_corner, reference) - picked_volume;
    }
    picked_points.push_back(points[best]);
    picked.push_back(static_cast<int>(best));
    picked_volume = hypervolume(picked_points, reference);
  }
  return picked;
}

ObservationSplit split_multi_objective(const std::vector<ObjectivePoint>& points, int n_below,
                                       bool chronological) {
  const int n = static_cast<int>(points.size());
  n_below = std::min(n_below, n);
  const std::vector<int> rank = non_dominated_ranks(points);
  ObservationSplit split;
  int layer = 0;
  for (;; ++layer) {
    std::vector<int> members;
    for (int i = 0; i < n; ++i) {
      if (rank[static_cast<std::size_t>(i)] == layer) members.push_back(i);
    }
    if (static_cast<int>(split.below.size() + members.size()) > n_below || members.empty()) {
      const int remaining = n_below - static_cast<int>(split.below.size());
      if (remaining > 0) {
        std::vector<ObjectivePoint> layer_points;
        for (int i : members) layer_points.push_back(points[static_cast<std::size_t>(i)]);
        const ObjectivePoint reference = reference_point_for(layer_points);
        for (int pick : greedy_hypervolume_subset(layer_points, remaining, reference)) {
          split.below.push_back(members[static_cast<std::size_t>(pick)]);
        }
      }
      break;
    }
    split.below.insert(split.below.end(), members.begin(), members.end());
  }
  std::vector<bool> is_below(static_cast<std::size_t>(n), false);
  for (int i : split.below) is_below[static_cast<std::size_t>(i)] = true;
  for (int i = 0; i < n; ++i) {
    if (!is_below[static_cast<std::size_t>(i)]) split.above.push_back(i);
  }
  if (chronological) std::sort(split.below.begin(), split.below.end());
  return split;
}

std::vector<double> below_weights_multi_objective(const std::vector<ObjectivePoint>& below,
                                                  BelowWeighting weighting) {
  const std::size_t m = below.size();
  if (m == 0) return {};
  std::vector<double> ones(m, 1.0);
  if (m == 1 || !all_finite(below)) return ones;
  const ObjectivePoint reference = reference_point_for(below);

  if (weighting == BelowWeighting::kContributionAll31) {
    const double total = hypervolume(below, reference);
    std::vector<double> contribution(m);
    for (std::size_t i = 0; i < m; ++i) {
      contribution[i] = total - hypervolume(without(below, i), reference) + kContributionFloor;
    }
    const double top = *std::max_element(contribution.begin(), contribution.end());
    std::vector<double> w(m);
    for (std::size_t i = 0; i < m; ++i) w[i] = std::clamp(contribution[i] / top, 0.0, 1.0);
    return w;
  }

  const std::vector<int> front = pareto_front(below);
  std::vector<ObjectivePoint> front_points;
  for (int i : front) front_points.push_back(below[static_cast<std::size_t>(i)]);
  const double total = hypervolume(front_points, reference);
  if (!std::isfinite(total)) return ones;
  std::vector<double> contribution(m, 0.0);
  for (std::size_t f = 0; f < front.size(); ++f) {
    contribution[static_cast<std::size_t>(front[f])] =
        total - hypervolume(without(front_points, f), reference);
  }
  const double top = std::max(*std::max_element(contribution.begin(), contribution.end()), kContributionFloor);
  std::vector<double> w(m);
  for (std::size_t i = 0; i < m; ++i) w[i] = std::max(contribution[i] / top, kContributionFloor);
  return w;
}

}  // namespace heretic::optimize
