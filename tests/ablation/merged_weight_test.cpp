// The exact merged weights against Heretic's own definitions (spec §2.3), computed here
// independently in float64: none W - w v vᵀW; pre W - w diag(n) v vᵀŴ; full (without the
// rank-r SVD) diag(n)·rownormalize(Ŵ - w v vᵀŴ).
#include <gtest/gtest.h>

#include <stdexcept>

#include "ablation/ablator.h"

using heretic::ablation::merged_weight;
using heretic::config::RowNormalization;

namespace {

torch::Tensor normalize_rows(const torch::Tensor& W) { return W / W.norm(2, {1}, true).clamp_min(1e-12); }

torch::Tensor heretic_merged(const torch::Tensor& weight, const torch::Tensor& direction, double w,
                             RowNormalization mode) {
  const torch::Tensor W = weight.to(torch::kFloat64);
  const torch::Tensor v = direction.to(torch::kFloat64);
  if (mode == RowNormalization::kNone) return W - w * torch::outer(v, torch::mv(W.t(), v));
  const torch::Tensor n = W.norm(2, {1}, true);
  const torch::Tensor W_hat = normalize_rows(W);
  const torch::Tensor ablated = W_hat - w * torch::outer(v, torch::mv(W_hat.t(), v));
  if (mode == RowNormalization::kPre) return W + n * (ablated - W_hat);  // W - w diag(n) v vᵀŴ
  return n * normalize_rows(ablated);
}

struct Case {
  torch::Tensor W, v;
};

// [12, 20] with rows of very different norms and one all-zero row.
Case random_case(uint64_t seed) {
  torch::manual_seed(seed);
  Case c;
  c.W = torch::randn({12, 20}) * torch::linspace(0.1, 3.0, 12).unsqueeze(1);
  c.W[5].zero_();
  c.v = torch::randn({12});
  c.v /= c.v.norm();
  return c;
}

double max_relative(const torch::Tensor& actual, const torch::Tensor& expected) {
  return ((actual.to(torch::kFloat64) - expected).abs().max() / expected.abs().max()).item<double>();
}

class MergedWeight : public ::testing::TestWithParam<RowNormalization> {};

TEST_P(MergedWeight, EqualsHereticsDefinition) {
  for (uint64_t seed : {1, 2, 3}) {
    const Case c = random_case(seed);
    for (double w : {0.3, 1.0, 1.4}) {
      const torch::Tensor merged = merged_weight(c.W, c.v, w, GetParam());
      EXPECT_EQ(merged.scalar_type(), torch::kFloat32);
      ASSERT_EQ(merged.sizes(), c.W.sizes());
      const torch::Tensor expected = heretic_merged(c.W, c.v, w, GetParam());
      EXPECT_LT(max_relative(merged, expected), 1e-6) << "seed " << seed << " w " << w;
      // Ablation changed the weight (so the comparison can fail).
      EXPECT_GT(max_relative(c.W, expected), 1e-3);
      // A zero row has n = 0: pre and full scale its change by n, so it stays 0 exactly;
      // none subtracts w v_i vᵀW from it like from every row.
      if (GetParam() != RowNormalization::kNone)
        EXPECT_TRUE(torch::equal(merged[5], torch::zeros({20})));
      else
        EXPECT_GT(merged[5].abs().max().item<float>(), 1e-3);
    }
  }
}

TEST_P(MergedWeight, AnyInputDtypeIsComputedInFloat32) {
  const Case c = random_case(4);
  const torch::Tensor bf16 = c.W.to(torch::kBFloat16);
  const torch::Tensor merged = merged_weight(bf16, c.v, 1.2, GetParam());
  EXPECT_EQ(merged.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(merged, merged_weight(bf16.to(torch::kFloat32), c.v, 1.2, GetParam())));
}

INSTANTIATE_TEST_SUITE_P(Modes, MergedWeight,
                         ::testing::Values(RowNormalization::kNone, RowNormalization::kPre, RowNormalization::kFull),
                         [](const ::testing::TestParamInfo<RowNormalization>& param) {
                           return heretic::config::to_string(param.param);
                         });

TEST(MergedWeightFull, KeepsEveryRowNorm) {
  // What "norm-preserving" means: every row of W' has the norm of the same row of W.
  const Case c = random_case(5);
  const torch::Tensor merged = merged_weight(c.W, c.v, 1.3, RowNormalization::kFull);
  EXPECT_TRUE(torch::allclose(merged.norm(2, {1}), c.W.norm(2, {1}), 1e-5, 1e-6));
}

TEST(MergedWeightNone, ProjectsOutTheDirectionAtWeightOne) {
  const Case c = random_case(6);
  const torch::Tensor merged = merged_weight(c.W, c.v, 1.0, RowNormalization::kNone);
  EXPECT_LT(torch::mv(merged.t(), c.v).abs().max().item<float>(), 1e-5);
}

TEST(MergedWeightErrors, DirectionOfTheWrongLengthThrows) {
  const Case c = random_case(7);
  EXPECT_THROW(merged_weight(c.W, torch::ones({20}), 1.0, RowNormalization::kFull), std::invalid_argument);
}

}  // namespace
