// RoPE inverse frequencies for each variant, against the formulas of architectures.md §1.5
// evaluated independently in double precision.
#include "model/rope.h"

#include <gtest/gtest.h>

#include <cmath>

using heretic::hf::RopeParameters;
using heretic::model::RotaryEmbedding;

namespace {

double default_freq(double base, int64_t j, int64_t dim) {
  return 1.0 / std::pow(base, static_cast<double>(2 * j) / static_cast<double>(dim));
}

RopeParameters params(const std::string& type, double theta) {
  RopeParameters p;
  p.rope_type = type;
  p.rope_theta = theta;
  return p;
}

}  // namespace

TEST(Rope, DefaultMatchesTheFormula) {
  RotaryEmbedding rope(params("default", 10000.0), 64, 2048);
  ASSERT_EQ(rope.inv_freq().size(0), 32);
  for (int64_t j = 0; j < 32; ++j)
    EXPECT_NEAR(rope.inv_freq()[j].item<float>(), default_freq(10000.0, j, 64), 1e-6 * default_freq(10000.0, j, 64));
}

TEST(Rope, LinearDividesByFactor) {
  RopeParameters p = params("linear", 10000.0);
  p.factor = 4.0;
  RotaryEmbedding rope(p, 16, 2048);
  EXPECT_NEAR(rope.inv_freq()[3].item<float>(), default_freq(10000.0, 3, 16) / 4.0, 1e-7);
}

TEST(Rope, Llama3KeepsHighFrequenciesAndScalesLowOnes) {
  RopeParameters p = params("llama3", 500000.0);
  p.factor = 8.0;
  p.low_freq_factor = 1.0;
  p.high_freq_factor = 4.0;
  p.original_max_position_embeddings = 8192;
  RotaryEmbedding rope(p, 128, 131072);
  for (int64_t j = 0; j < 64; ++j) {
    const double f = default_freq(500000.0, j, 128);
    const double wavelen = 2 * M_PI / f;
    double expected = f;
    if (wavelen > 8192.0) {
      expected = f / 8.0;
    } else if (wavelen >= 8192.0 / 4.0) {
      const double s = (8192.0 / wavelen - 1.0) / 3.0;
      expected = (1 - s) * f / 8.0 + s * f;
    }
    EXPECT_NEAR(rope.inv_freq()[j].item<float>(), expected, 1e-5 * expected) << "j=" << j;
  }
}

TEST(Rope, YarnBlendsAndScalesAttention) {
  RopeParameters p = params("yarn", 10000.0);
  p.factor = 4.0;
  p.original_max_position_embeddings = 2048;
  RotaryEmbedding rope(p, 64, 8192);
  EXPECT_NEAR(rope.attention_scaling(), 0.1 * std::log(4.0) + 1.0, 1e-9);
  // Highest frequencies are extrapolated (unchanged), lowest interpolated (divided by factor).
  EXPECT_NEAR(rope.inv_freq()[0].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(rope.inv_freq()[31].item<float>(), default_freq(10000.0, 31, 64) / 4.0, 1e-9);
}

TEST(Rope, DynamicGrowsPastTheTrainedLengthAndResets) {
  RopeParameters p = params("dynamic", 10000.0);
  p.factor = 2.0;
  RotaryEmbedding rope(p, 16, 8);
  const float original = rope.inv_freq()[1].item<float>();
  rope.cos_sin(torch::arange(16, torch::kInt64).view({1, 16}), torch::kFloat32);
  const double base = 10000.0 * std::pow(2.0 * 16 / 8 - 1.0, 16.0 / 14.0);
  EXPECT_NEAR(rope.inv_freq()[1].item<float>(), default_freq(base, 1, 16), 1e-6);
  rope.cos_sin(torch::arange(4, torch::kInt64).view({1, 4}), torch::kFloat32);
  EXPECT_EQ(rope.inv_freq()[1].item<float>(), original);
}

TEST(Rope, RotationPreservesNormAndLeavesPosition0Unchanged) {
  RotaryEmbedding rope(params("default", 10000.0), 8, 128);
  const torch::Tensor x = torch::randn({1, 2, 3, 8});
  const auto [cos, sin] = rope.cos_sin(torch::arange(3, torch::kInt64).view({1, 3}), torch::kFloat32);
  const torch::Tensor y = RotaryEmbedding::apply(x, cos, sin);
  EXPECT_TRUE(torch::allclose(y.select(2, 0), x.select(2, 0)));
  EXPECT_TRUE(torch::allclose(y.norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
}
