// Refusal directions (Heretic §1.9) and the global direction at a float index (§2.1).
#include "ablation/directions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using heretic::ablation::global_direction;
using heretic::ablation::refusal_directions;

namespace {

struct Means {
  torch::Tensor good, bad;
};

// Five rows (L = 4); the good means have a large common component so that orthogonalising
// changes the directions noticeably.
Means random_means() {
  torch::manual_seed(11);
  Means m;
  m.good = torch::randn({5, 16}) + 3.0;
  m.bad = m.good + torch::randn({5, 16}) + 0.5;
  return m;
}

torch::Tensor unit(const torch::Tensor& x) { return x / x.norm(); }

TEST(RefusalDirections, UnitRowsFromBadMinusGood) {
  const Means m = random_means();
  const torch::Tensor R = refusal_directions(m.good, m.bad, /*orthogonalize=*/false);
  ASSERT_EQ(R.sizes(), (std::vector<int64_t>{5, 16}));
  EXPECT_EQ(R.scalar_type(), torch::kFloat32);
  for (int64_t l = 0; l < 5; ++l) {
    EXPECT_NEAR(R[l].norm().item<double>(), 1.0, 1e-6);
    EXPECT_TRUE(torch::allclose(R[l], unit(m.bad[l] - m.good[l]), 0.0, 1e-6)) << l;
  }
}

TEST(RefusalDirections, OrthogonalisedRowsAreUnitAndOrthogonalToTheirGoodMean) {
  const Means m = random_means();
  const torch::Tensor plain = refusal_directions(m.good, m.bad, false);
  const torch::Tensor R = refusal_directions(m.good, m.bad, true);
  for (int64_t l = 0; l < 5; ++l) {
    EXPECT_NEAR(R[l].norm().item<double>(), 1.0, 1e-6);
    EXPECT_NEAR(R[l].dot(unit(m.good[l])).item<double>(), 0.0, 1e-6) << l;
    // The plain direction had a sizeable good component, so the check above means something.
    EXPECT_GT(std::fabs(plain[l].dot(unit(m.good[l])).item<double>()), 0.05) << l;
    // What is left is the plain direction minus its good component, renormalised.
    const torch::Tensor g = unit(m.good[l]);
    EXPECT_TRUE(torch::allclose(R[l], unit(plain[l] - plain[l].dot(g) * g), 0.0, 1e-6)) << l;
  }
}

TEST(RefusalDirections, EqualMeansGiveZeroRowsNotNaN) {
  // F.normalize divides by max(norm, 1e-12): a zero difference stays zero.
  const torch::Tensor good = torch::ones({2, 4});
  const torch::Tensor R = refusal_directions(good, good, true);
  EXPECT_TRUE(torch::equal(R, torch::zeros({2, 4})));
}

TEST(RefusalDirections, ShapeMismatchThrows) {
  EXPECT_THROW(refusal_directions(torch::zeros({3, 4}), torch::zeros({3, 5}), true), std::invalid_argument);
  EXPECT_THROW(refusal_directions(torch::zeros({4}), torch::zeros({4}), true), std::invalid_argument);
}

class GlobalDirection : public ::testing::Test {
 protected:
  torch::Tensor R = [] {
    const Means m = random_means();
    return refusal_directions(m.good, m.bad, true);  // 5 rows: L = 4, f in [-1, 3]
  }();
};

TEST_F(GlobalDirection, IntegerIndexIsTheRowAfterIt) {
  // f = 1 -> R[2] (row 0 is the embeddings).
  EXPECT_TRUE(torch::allclose(global_direction(R, 1.0), R[2], 0.0, 1e-6));
  EXPECT_TRUE(torch::allclose(global_direction(R, 0.0), R[1], 0.0, 1e-6));
}

TEST_F(GlobalDirection, FractionalIndexInterpolatesThenNormalises) {
  // f = 1.25 -> idx 2, t = 0.25.
  const torch::Tensor v = global_direction(R, 1.25);
  EXPECT_NEAR(v.norm().item<double>(), 1.0, 1e-6);
  EXPECT_TRUE(torch::allclose(v, unit(R[2] + 0.25 * (R[3] - R[2])), 0.0, 1e-6));
  // Not simply one of the rows.
  EXPECT_GT((v - R[2]).abs().max().item<float>(), 1e-3);
  EXPECT_GT((v - R[3]).abs().max().item<float>(), 1e-3);
  // f = 2.75 -> idx 3, t = 0.75.
  EXPECT_TRUE(torch::allclose(global_direction(R, 2.75), unit(R[3] + 0.75 * (R[4] - R[3])), 0.0, 1e-6));
}

TEST_F(GlobalDirection, TheEnds) {
  EXPECT_TRUE(torch::allclose(global_direction(R, -1.0), R[0], 0.0, 1e-6));  // the embedding row
  EXPECT_TRUE(torch::allclose(global_direction(R, 3.0), R[4], 0.0, 1e-6));   // f = L - 1: the last row
  EXPECT_TRUE(torch::allclose(global_direction(R, 2.999), unit(R[3] + 0.999 * (R[4] - R[3])), 0.0, 1e-5));
}

TEST_F(GlobalDirection, OutOfRangeThrows) {
  EXPECT_THROW(global_direction(R, -1.0001), std::out_of_range);
  EXPECT_THROW(global_direction(R, 3.0001), std::out_of_range);
  EXPECT_THROW(global_direction(R, 4.0), std::out_of_range);
  EXPECT_THROW(global_direction(R, std::numeric_limits<double>::quiet_NaN()), std::out_of_range);
}

}  // namespace
