// Masks over cache slots with left padding and sliding windows (architectures.md §1.7).
#include "model/attention.h"

#include <gtest/gtest.h>

#include "model/batch.h"

using namespace heretic::model;

TEST(AttentionMask, LeftPaddedCausalMask) {
  // Row 0: one pad then 3 tokens; row 1: no pads.
  const torch::Tensor mask2d = torch::tensor({0, 1, 1, 1, 1, 1, 1, 1}, torch::kInt64).view({2, 4});
  const AttentionMask mask = build_attention_mask(mask2d, 4, 0, torch::kFloat32);
  const auto allowed = mask.allowed.to(torch::kInt64);
  // Row 0, query slot 3 sees slots 1..3 only.
  EXPECT_TRUE(torch::equal(allowed[0][0][3], torch::tensor({0, 1, 1, 1}, torch::kInt64)));
  // Row 1, query slot 1 sees slots 0..1.
  EXPECT_TRUE(torch::equal(allowed[1][0][1], torch::tensor({1, 1, 0, 0}, torch::kInt64)));
  EXPECT_FALSE(mask.trivial);  // padding present
  // The additive form is finite everywhere: fully masked pad rows must not produce NaN.
  EXPECT_TRUE(torch::isfinite(mask.additive).all().item<bool>());
}

TEST(AttentionMask, SlidingWindowSeesExactlyWindowSlots) {
  const torch::Tensor mask2d = torch::ones({1, 6}, torch::kInt64);
  const AttentionMask mask = build_attention_mask(mask2d, 6, 3, torch::kFloat32);
  const auto row = mask.allowed[0][0][5].to(torch::kInt64);
  EXPECT_TRUE(torch::equal(row, torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64)));
  // A decode step (one query at slot 6 of 7) with the window.
  const AttentionMask step = build_attention_mask(torch::ones({1, 7}, torch::kInt64), 1, 3, torch::kFloat32);
  EXPECT_EQ(step.allowed.sum().item<int64_t>(), 3);
}

TEST(PositionIds, CountRealTokensFromTheMask) {
  const torch::Tensor mask2d = torch::tensor({0, 0, 1, 1, 1, 1, 1, 1}, torch::kInt64).view({2, 4});
  const torch::Tensor positions = position_ids_from_mask(mask2d);
  EXPECT_TRUE(torch::equal(positions[0], torch::tensor({1, 1, 0, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(positions[1], torch::tensor({0, 1, 2, 3}, torch::kInt64)));
}

TEST(Batch, LeftPadsToTheLongestPrompt) {
  const Batch batch = make_left_padded_batch({{5, 6, 7}, {8}}, 0);
  EXPECT_TRUE(torch::equal(batch.input_ids[1], torch::tensor({0, 0, 8}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.attention_mask[1], torch::tensor({0, 0, 1}, torch::kInt64)));
  EXPECT_THROW(make_left_padded_batch({}, 0), std::invalid_argument);
}
