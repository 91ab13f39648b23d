#include "optimize/hypervolume.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "optimize/numpy_random.h"
#include "optimize/pareto.h"

namespace heretic::optimize {
namespace {

// Inclusion-exclusion over all non-empty subsets: the volume of a union of boxes [p, r].
double brute_force_hypervolume(const std::vector<ObjectivePoint>& points, const ObjectivePoint& r) {
  const std::size_t n = points.size();
  double total = 0;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    ObjectivePoint corner(r.size(), -INFINITY);
    int members = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!(mask & (1u << i))) continue;
      ++members;
      for (std::size_t k = 0; k < r.size(); ++k) corner[k] = std::max(corner[k], points[i][k]);
    }
    double box = 1;
    for (std::size_t k = 0; k < r.size(); ++k) box *= std::max(0.0, r[k] - corner[k]);
    total += (members % 2 ? 1 : -1) * box;
  }
  return total;
}

TEST(Hypervolume, MatchesBruteForceIn2D3D4D) {
  NumpyRandom rng(11);
  for (int d = 2; d <= 4; ++d) {
    for (int trial = 0; trial < 40; ++trial) {
      const int n = 1 + trial % 9;
      std::vector<ObjectivePoint> points;
      for (int i = 0; i < n; ++i) {
        ObjectivePoint p;
        for (int k = 0; k < d; ++k) p.push_back(rng.uniform(-1.0, 2.0));  // some beyond r
        points.push_back(p);
      }
      const ObjectivePoint r(static_cast<std::size_t>(d), 1.5);
      const double expected = brute_force_hypervolume(points, r);
      EXPECT_NEAR(hypervolume(points, r), expected, 1e-12 * std::max(1.0, expected)) << d;
    }
  }
}

TEST(Hypervolume, SimpleCases) {
  EXPECT_DOUBLE_EQ(hypervolume_2d({{1, 2}}, {3, 5}), 6.0);
  EXPECT_DOUBLE_EQ(hypervolume_2d({{1, 2}, {2, 1}}, {3, 3}), 3.0);
  EXPECT_DOUBLE_EQ(hypervolume_2d({{1, 2}, {2, 3}}, {3, 4}), 4.0);  // dominated point adds 0
  EXPECT_DOUBLE_EQ(hypervolume_2d({{4, 0}}, {3, 4}), 0.0);          // beyond the reference
  EXPECT_DOUBLE_EQ(hypervolume_3d({{0, 0, 0}}, {1, 2, 3}), 6.0);
  EXPECT_DOUBLE_EQ(hypervolume_3d({{0, 0, 1}, {0, 1, 0}, {1, 0, 0}}, {2, 2, 2}), 8 - 1.0);
  EXPECT_EQ(hypervolume({}, {1, 1}), 0.0);
}

TEST(Hypervolume, ReferencePointFollowsOptunaRule) {
  const ObjectivePoint r = reference_point_for({{1, -2, 0}, {3, -4, 0}});
  EXPECT_DOUBLE_EQ(r[0], 3.3);         // 1.1 x worst for positive
  EXPECT_DOUBLE_EQ(r[1], 0.9 * -2.0);  // 0.9 x worst for negative
  EXPECT_DOUBLE_EQ(r[2], 1e-12);       // exactly 0 becomes EPS
}

TEST(Pareto, NonDominatedSortingLayers) {
  const std::vector<ObjectivePoint> points = {{1, 5}, {2, 2}, {5, 1}, {3, 3},
                                              {2, 2}, {4, 4}, {6, 6}};
  EXPECT_EQ(non_dominated_ranks(points), (std::vector<int>{0, 0, 0, 1, 0, 2, 3}));
  EXPECT_EQ(pareto_front(points), (std::vector<int>{0, 1, 2, 4}));  // duplicates both on front
  EXPECT_TRUE(dominates({1, 1}, {1, 2}));
  EXPECT_FALSE(dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(dominates({0, 3}, {1, 2}));
}

TEST(Pareto, RanksAgreeWithDefinitionOnRandomSets) {
  NumpyRandom rng(5);
  std::vector<ObjectivePoint> points;
  for (int i = 0; i < 60; ++i)
    points.push_back({rng.next_double(), rng.next_double(), rng.next_double()});
  const std::vector<int> rank = non_dominated_ranks(points);
  for (std::size_t i = 0; i < points.size(); ++i) {
    int deepest_dominator = -1;
    for (std::size_t j = 0; j < points.size(); ++j) {
      if (dominates(points[j], points[i])) deepest_dominator = std::max(deepest_dominator, rank[j]);
    }
    EXPECT_EQ(rank[i], deepest_dominator + 1);  // one layer below its deepest dominator
  }
}

}  // namespace
}  // namespace heretic::optimize
