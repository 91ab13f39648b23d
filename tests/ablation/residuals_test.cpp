// Residual statistics: winsorisation as Heretic's torch.quantile clamp, float64 sums that add
// batch by batch (and across ranks) to the mean of all prompts at once.
#include "ablation/residuals.h"

#include <gtest/gtest.h>

#include <stdexcept>

using heretic::ablation::ResidualSums;
using heretic::ablation::winsorize;

namespace {

// One prompt, two rows of five components.
torch::Tensor two_rows() {
  return torch::tensor({1.0f, -2.0f, 3.0f, -4.0f, 5.0f, /*row 1*/ -10.0f, 0.5f, 0.0f, 8.0f, -6.0f}).view({1, 2, 5});
}

void expect_near(const torch::Tensor& actual, const torch::Tensor& expected, double tolerance = 1e-6) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual, expected, 0.0, tolerance)) << "actual\n" << actual << "\nexpected\n" << expected;
}

TEST(Winsorize, ClampsEachPromptAndRowAtItsOwnInterpolatedQuantile) {
  // Row 0: |x| sorted 1 2 3 4 5; row 1: 0 0.5 6 8 10. Quantile q sits at position q (H - 1),
  // interpolated linearly between neighbours.
  // q = 0.3 -> position 1.2: row 0 t = 2 + 0.2 (3 - 2) = 2.2; row 1 t = 0.5 + 0.2 (6 - 0.5) = 1.6.
  expect_near(winsorize(two_rows(), 0.3),
              torch::tensor({1.0f, -2.0f, 2.2f, -2.2f, 2.2f, -1.6f, 0.5f, 0.0f, 1.6f, -1.6f}).view({1, 2, 5}));
  // q = 0.5 -> position 2: t = 3 and 6 exactly.
  expect_near(winsorize(two_rows(), 0.5),
              torch::tensor({1.0f, -2.0f, 3.0f, -3.0f, 3.0f, -6.0f, 0.5f, 0.0f, 6.0f, -6.0f}).view({1, 2, 5}));
}

TEST(Winsorize, QuantileZeroClampsToTheSmallestMagnitude) {
  // Row 0: t = 1; row 1: t = 0, so every component becomes 0.
  expect_near(winsorize(two_rows(), 0.0),
              torch::tensor({1.0f, -1.0f, 1.0f, -1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}).view({1, 2, 5}));
}

TEST(Winsorize, QuantileJustBelowOneClampsOnlyTheLargest) {
  // q = 0.999 -> position 3.996: row 0 t = 4 + 0.996 = 4.996; row 1 t = 8 + 0.996 * 2 = 9.992.
  expect_near(winsorize(two_rows(), 0.999),
              torch::tensor({1.0f, -2.0f, 3.0f, -4.0f, 4.996f, -9.992f, 0.5f, 0.0f, 8.0f, -6.0f}).view({1, 2, 5}),
              1e-5);
}

TEST(Winsorize, OutsideZeroToOneIsOffButStillUpcasts) {
  const torch::Tensor half = two_rows().to(torch::kBFloat16);
  for (double q : {1.0, 1.5, -0.1}) {
    const torch::Tensor out = winsorize(half, q);
    EXPECT_EQ(out.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(out, two_rows())) << q;
  }
}

TEST(Winsorize, PromptsAreIndependent) {
  const torch::Tensor both = torch::cat({two_rows(), 3 * two_rows()}, 0);
  const torch::Tensor out = winsorize(both, 0.3);
  expect_near(out[0], winsorize(two_rows(), 0.3)[0]);
  expect_near(out[1], winsorize(3 * two_rows(), 0.3)[0], 1e-5);
}

TEST(ResidualSums, BatchByBatchEqualsTheMeanOfAllPromptsAtOnce) {
  torch::manual_seed(1);
  // An offset much larger than the spread: float32 running sums would lose the spread.
  const torch::Tensor states = 1000.0 + torch::randn({10, 3, 8}, torch::kFloat32);
  ResidualSums sums(3, 8);
  sums.add(states.narrow(0, 0, 3), 1.0);
  sums.add(states.narrow(0, 3, 3), 1.0);
  sums.add(states.narrow(0, 6, 4), 1.0);
  EXPECT_EQ(sums.count(), 10);
  const torch::Tensor expected = states.to(torch::kFloat64).mean(0).to(torch::kFloat32);
  const torch::Tensor mean = sums.mean();
  EXPECT_EQ(mean.scalar_type(), torch::kFloat32);
  EXPECT_EQ(mean.sizes(), (std::vector<int64_t>{3, 8}));
  EXPECT_TRUE(torch::equal(mean, expected)) << (mean - expected).abs().max().item<float>();
}

TEST(ResidualSums, WinsorisesEachBatchBeforeSumming) {
  torch::manual_seed(2);
  const torch::Tensor states = torch::randn({6, 2, 16});
  ResidualSums sums(2, 16);
  sums.add(states.narrow(0, 0, 2), 0.9);
  sums.add(states.narrow(0, 2, 4), 0.9);
  const torch::Tensor expected = winsorize(states, 0.9).to(torch::kFloat64).mean(0).to(torch::kFloat32);
  expect_near(sums.mean(), expected, 1e-7);
  // And winsorisation changed something, so the check above can tell.
  EXPECT_GT((sums.mean() - states.mean(0)).abs().max().item<float>(), 1e-3);
}

TEST(ResidualSums, AcceptsAnyFloatDtype) {
  torch::manual_seed(3);
  const torch::Tensor states = torch::randn({4, 2, 8}).to(torch::kBFloat16);
  ResidualSums from_bf16(2, 8), from_f32(2, 8);
  from_bf16.add(states, 1.0);
  from_f32.add(states.to(torch::kFloat32), 1.0);
  EXPECT_TRUE(torch::equal(from_bf16.mean(), from_f32.mean()));
  ResidualSums from_f64(2, 8);
  from_f64.add(states.to(torch::kFloat64), 1.0);
  EXPECT_TRUE(torch::equal(from_f64.mean(), from_f32.mean()));
}

TEST(ResidualSums, PartialSumsAddUpLikeAnAllreduce) {
  torch::manual_seed(4);
  const torch::Tensor states = torch::randn({7, 2, 4});
  ResidualSums rank0(2, 4), rank1(2, 4), all(2, 4);
  rank0.add(states.narrow(0, 0, 3), 1.0);
  rank1.add(states.narrow(0, 3, 4), 1.0);
  all.add(states, 1.0);
  for (size_t i = 0; i < rank0.data().size(); ++i) rank0.data()[i] += rank1.data()[i];
  rank0.set_count(rank0.count() + rank1.count());
  expect_near(rank0.mean(), all.mean(), 1e-7);
}

TEST(ResidualSums, ShapeMismatchThrows) {
  ResidualSums sums(3, 8);
  EXPECT_THROW(sums.add(torch::zeros({2, 4, 8}), 1.0), std::invalid_argument);
  EXPECT_THROW(sums.add(torch::zeros({2, 3, 7}), 1.0), std::invalid_argument);
  EXPECT_THROW(sums.add(torch::zeros({3, 8}), 1.0), std::invalid_argument);
  EXPECT_THROW(sums.add(torch::zeros({2, 3, 8}, torch::kLong), 1.0), std::invalid_argument);
  EXPECT_EQ(sums.count(), 0);
  EXPECT_THROW(sums.mean(), std::logic_error);
}

}  // namespace
