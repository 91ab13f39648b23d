// The residual geometry table's numbers: geometric medians, silhouettes, and the per-layer rows.
#include "ablation/residual_geometry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace heretic::ablation {
namespace {

double distance_sum(const torch::Tensor& points, const torch::Tensor& y) {
  return (points.to(torch::kFloat64) - y).norm(2, 1).sum().item<double>();
}

TEST(GeometricMedian, OfPointsOnALineIsTheirMedianNotTheirMean) {
  // 0, 1, 2, 10, 100 on the first axis of R^3: median 2, mean 22.6.
  const torch::Tensor points = torch::tensor({0.0, 1.0, 2.0, 10.0, 100.0}).unsqueeze(1) *
                               torch::tensor({1.0, 0.0, 0.0}).unsqueeze(0);
  const torch::Tensor median = geometric_median(points);
  EXPECT_NEAR(median[0].item<double>(), 2.0, 1e-4);
  EXPECT_NEAR(median[1].item<double>(), 0.0, 1e-9);
}

TEST(GeometricMedian, OfAnEquilateralTriangleIsItsCentre) {
  const double h = std::sqrt(3.0) / 2.0;
  const torch::Tensor points = torch::tensor({0.0, 0.0, 1.0, 0.0, 0.5, h}).reshape({3, 2});
  const torch::Tensor median = geometric_median(points);
  EXPECT_NEAR(median[0].item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(median[1].item<double>(), h / 3.0, 1e-6);
}

TEST(GeometricMedian, NoNearbyPointHasASmallerDistanceSum) {
  torch::manual_seed(3);
  const torch::Tensor points = torch::randn({50, 8}) * torch::linspace(0.5, 4.0, 8) + 3.0;  // skewed cloud
  const torch::Tensor median = geometric_median(points);
  const double best = distance_sum(points, median);
  EXPECT_LT(best, distance_sum(points, points.to(torch::kFloat64).mean(0)));  // better than the mean
  for (int i = 0; i < 40; ++i) {
    const torch::Tensor step = torch::randn({8}, torch::kFloat64) * 1e-3;
    EXPECT_LE(best, distance_sum(points, median + step) + 1e-9) << "step " << i;
  }
}

// sklearn's definition, written out with loops.
double silhouette_by_definition(const torch::Tensor& points, const std::vector<int>& labels) {
  const auto n = static_cast<int64_t>(labels.size());
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double own = 0.0, other = 0.0;
    int own_count = 0, other_count = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double d = (points[i] - points[j]).norm().item<double>();
      if (labels[static_cast<size_t>(j)] == labels[static_cast<size_t>(i)]) {
        own += d;
        ++own_count;
      } else {
        other += d;
        ++other_count;
      }
    }
    if (own_count == 0) continue;  // alone in its cluster: 0
    const double a = own / own_count, b = other / other_count;
    total += (b - a) / std::max(a, b);
  }
  return total / static_cast<double>(n);
}

TEST(Silhouette, MatchesTheDefinitionOnUnequalOverlappingClusters) {
  torch::manual_seed(5);
  const torch::Tensor points =
      torch::cat({torch::randn({13, 6}, torch::kFloat64), torch::randn({7, 6}, torch::kFloat64) + 0.8});
  std::vector<int> labels(20, 0);
  for (int i = 13; i < 20; ++i) labels[static_cast<size_t>(i)] = 1;
  const double expected = silhouette_by_definition(points, labels);
  EXPECT_NEAR(silhouette_score(points, torch::tensor(std::vector<int64_t>(labels.begin(), labels.end()))), expected,
              1e-10);
  EXPECT_GT(expected, 0.0);
  EXPECT_LT(expected, 0.5);
}

TEST(Silhouette, ARowAloneInItsClusterCountsAsZero) {
  const torch::Tensor points = torch::tensor({0.0, 0.1, 0.2, 5.0}, torch::kFloat64).unsqueeze(1);
  const std::vector<int> labels{0, 0, 0, 1};
  EXPECT_NEAR(silhouette_score(points, torch::tensor({0, 0, 0, 1})), silhouette_by_definition(points, labels), 1e-12);
}

TEST(Silhouette, RejectsASingleCluster) {
  EXPECT_THROW(silhouette_score(torch::randn({4, 2}), torch::zeros({4}, torch::kInt64)), std::invalid_argument);
}

TEST(ResidualGeometry, RowsDescribeMeansMediansAndSeparation) {
  torch::manual_seed(9);
  // 3 rows (embeddings + 2 layers), hidden 4. Layer 2 separates the classes far more than layer 1.
  const torch::Tensor good = torch::randn({30, 3, 4}, torch::kFloat64);
  torch::Tensor bad = torch::randn({20, 3, 4}, torch::kFloat64);
  bad.select(1, 1).add_(torch::tensor({0.5, 0.0, 0.0, 0.0}, torch::kFloat64));
  bad.select(1, 2).add_(torch::tensor({0.0, 20.0, 0.0, 0.0}, torch::kFloat64));
  const auto rows = residual_geometry(good.to(torch::kFloat32), bad.to(torch::kFloat32));
  ASSERT_EQ(rows.size(), 3u);
  for (int64_t l = 0; l < 3; ++l) {
    const torch::Tensor g = good.select(1, l).mean(0), b = bad.select(1, l).mean(0), r = b - g;
    const auto& row = rows[static_cast<size_t>(l)];
    EXPECT_NEAR(row.norm_g, g.norm().item<double>(), 1e-5);
    EXPECT_NEAR(row.norm_r, r.norm().item<double>(), 1e-5);
    EXPECT_NEAR(row.s_b_r, (b.dot(r) / (b.norm() * r.norm())).item<double>(), 1e-5);
    const torch::Tensor gm = geometric_median(good.select(1, l)), bm = geometric_median(bad.select(1, l));
    EXPECT_NEAR(row.norm_rm, (bm - gm).norm().item<double>(), 1e-4);
    EXPECT_NEAR(row.norm_gm, gm.norm().item<double>(), 1e-4);
  }
  EXPECT_GT(rows[2].silhouette, 0.8);  // two clusters 20 apart
  EXPECT_LT(rows[1].silhouette, 0.3);
  EXPECT_GT(rows[2].s_b_r, 0.99);     // the harmful mean points along the shift
}

}  // namespace
}  // namespace heretic::ablation
