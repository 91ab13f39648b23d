#include "optimize/observation_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "optimize/numpy_random.h"

namespace heretic::optimize {
namespace {

TEST(ObservationSplit, GammaIsTenPercentCappedAt25) {
  EXPECT_EQ(default_gamma(0), 0);
  EXPECT_EQ(default_gamma(1), 1);
  EXPECT_EQ(default_gamma(60), 6);
  EXPECT_EQ(default_gamma(61), 7);
  EXPECT_EQ(default_gamma(100), 10);
  EXPECT_EQ(default_gamma(150), 15);
  EXPECT_EQ(default_gamma(199), 20);
  EXPECT_EQ(default_gamma(241), 25);
  EXPECT_EQ(default_gamma(5000), 25);
}

TEST(ObservationSplit, WeightsRampOldestBeyond25) {
  EXPECT_TRUE(default_weights(0).empty());
  EXPECT_EQ(default_weights(24), std::vector<double>(24, 1.0));
  const std::vector<double> w = default_weights(30);
  ASSERT_EQ(w.size(), 30u);
  const double expected_ramp[] = {1.0 / 30, 0.275, 0.5166667, 0.7583333, 1.0};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(w[i], expected_ramp[i], 1e-6);
  for (int i = 5; i < 30; ++i) EXPECT_EQ(w[i], 1.0);
  EXPECT_NEAR(default_weights(26)[0], 1.0 / 26, 1e-15);  // a ramp of one point is its start
}

TEST(ObservationSplit, SingleObjectiveTakesTheBestAndKeepsTrialOrder) {
  const ObservationSplit s = split_single_objective({5, 1, 3, 1, 9, 2}, 3);
  EXPECT_EQ(s.below, (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(s.above, (std::vector<int>{0, 2, 4}));
  // Ties are broken by trial order (stable).
  EXPECT_EQ(split_single_objective({1, 1, 1}, 2).below, (std::vector<int>{0, 1}));
}

TEST(ObservationSplit, MultiObjectiveFillsLayersThenSelectsByHypervolume) {
  // Layer 0: indices 0, 1, 2 ; layer 1: 3, 4, 5 ; layer 2: 6.
  const std::vector<ObjectivePoint> points = {{1, 5}, {3, 3}, {5, 1}, {2, 6},
                                              {4, 4}, {6, 2}, {7, 7}};
  const ObservationSplit s = split_multi_objective(points, 4, /*chronological=*/false);
  ASSERT_EQ(s.below.size(), 4u);
  EXPECT_EQ(std::vector<int>(s.below.begin(), s.below.begin() + 3), (std::vector<int>{0, 1, 2}));
  // In layer 1 (reference from that layer: (6.6, 6.6)), (4, 4) has the largest box.
  EXPECT_EQ(s.below[3], 4);
  EXPECT_EQ(s.above, (std::vector<int>{3, 5, 6}));
  for (int n_below = 0; n_below <= 7; ++n_below) {
    const ObservationSplit t = split_multi_objective(points, n_below, true);
    EXPECT_EQ(static_cast<int>(t.below.size()), n_below);
    EXPECT_TRUE(std::is_sorted(t.below.begin(), t.below.end()));
    std::set<int> all(t.below.begin(), t.below.end());
    all.insert(t.above.begin(), t.above.end());
    EXPECT_EQ(all.size(), points.size());
  }
}

TEST(ObservationSplit, GreedySubsetIsOptimalForOnePickAndNearOptimalForTwo) {
  NumpyRandom rng(9);
  for (int round = 0; round < 20; ++round) {
    std::vector<ObjectivePoint> front;
    for (int i = 0; i < 7; ++i) {
      const double x = rng.next_double();
      front.push_back({x, 1 - x + 0.2 * rng.next_double()});
    }
    const ObjectivePoint r = reference_point_for(front);
    double best_single = 0, best_pair = 0;
    for (std::size_t i = 0; i < front.size(); ++i) {
      best_single = std::max(best_single, hypervolume({front[i]}, r));
      for (std::size_t j = i + 1; j < front.size(); ++j) {
        best_pair = std::max(best_pair, hypervolume({front[i], front[j]}, r));
      }
    }
    const std::vector<int> one = greedy_hypervolume_subset(front, 1, r);
    EXPECT_DOUBLE_EQ(hypervolume({front[one[0]]}, r), best_single);
    const std::vector<int> two = greedy_hypervolume_subset(front, 2, r);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_NE(two[0], two[1]);
    EXPECT_GE(hypervolume({front[two[0]], front[two[1]]}, r), (1 - 1 / std::exp(1.0)) * best_pair);
  }
}

TEST(ObservationSplit, BelowWeightsFromHypervolumeContributions) {
  // (1, 3) twice and (3, 1) on the front; (2, 3.5) is dominated by (1, 3).
  const std::vector<ObjectivePoint> below = {{1, 3}, {3, 1}, {2, 3.5}, {1, 3}};
  const std::vector<double> w31 =
      below_weights_multi_objective(below, BelowWeighting::kContributionAll31);
  ASSERT_EQ(w31.size(), 4u);
  EXPECT_EQ(*std::max_element(w31.begin(), w31.end()), 1.0);
  EXPECT_LT(w31[0], 1e-9);  // duplicated: leaving one out loses nothing
  EXPECT_LT(w31[3], 1e-9);
  EXPECT_LT(w31[2], 1e-9);  // dominated
  EXPECT_EQ(w31[1], 1.0);
  const std::vector<double> w42 =
      below_weights_multi_objective(below, BelowWeighting::kContributionFront42);
  EXPECT_EQ(w42[1], 1.0);
  EXPECT_EQ(w42[2], 1e-12);  // off the front: EPS
  EXPECT_EQ(below_weights_multi_objective({{1, 2}}, BelowWeighting::kContributionFront42),
            std::vector<double>{1.0});
}

TEST(ObservationSplit, InfiniteValuesDoNotBreakSplitOrWeights) {
  const std::vector<ObjectivePoint> points = {
      {INFINITY, 1}, {1, 2}, {-INFINITY, 5}, {2, 1}, {3, 3}};
  for (int n_below = 0; n_below <= 5; ++n_below) {
    const ObservationSplit s = split_multi_objective(points, n_below, true);
    EXPECT_EQ(static_cast<int>(s.below.size()), n_below);
    std::vector<ObjectivePoint> below;
    for (int i : s.below) below.push_back(points[static_cast<std::size_t>(i)]);
    for (auto weighting :
         {BelowWeighting::kContributionAll31, BelowWeighting::kContributionFront42}) {
      for (double w : below_weights_multi_objective(below, weighting)) {
        EXPECT_TRUE(std::isfinite(w) && w > 0);
      }
    }
  }
}

}  // namespace
}  // namespace heretic::optimize
