// Which module gets which weight and direction (Heretic §2.1, §2.2), through the search
// space's own kernel: edge cases of the kernel as a trial would hit them.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

#include "ablation/ablator.h"
#include "ablation/directions.h"
#include "tests/ablation/kernel_params.h"

using heretic::ablation::global_direction;
using heretic::ablation::ModuleAblation;
using heretic::ablation::plan_ablation;
using heretic::model::Component;
using heretic::ablation::ComponentKernel;
using heretic::ablation::TrialParams;

namespace {

constexpr int64_t kLayers = 5;

torch::Tensor random_directions() {
  torch::manual_seed(21);
  const torch::Tensor R = torch::randn({kLayers + 1, 8});
  return R / R.norm(2, {1}, true);
}

using heretic::testing::kernel;

// layer -> weight of the entries for one component.
std::map<int64_t, double> weights_of(const std::vector<ModuleAblation>& plan, Component component) {
  std::map<int64_t, double> weights;
  for (const auto& entry : plan)
    if (entry.component == component) weights[entry.layer] = entry.weight;
  return weights;
}

TEST(PlanAblation, DistanceExactlyAtTheLimitIsIncludedWithMinWeight) {
  TrialParams params;
  params.per_layer = true;
  params.kernels = {kernel("attn.o_proj", 1.0, 2.0, 0.4, 2.0)};
  const auto plan = plan_ablation(params, random_directions(), kLayers);
  const auto w = weights_of(plan, Component::kAttnOutput);
  ASSERT_EQ(w.size(), 5u);  // layers 0 and 4 are exactly 2 away
  EXPECT_DOUBLE_EQ(w.at(0), 0.4);
  EXPECT_DOUBLE_EQ(w.at(1), 0.7);
  EXPECT_DOUBLE_EQ(w.at(2), 1.0);
  EXPECT_DOUBLE_EQ(w.at(3), 0.7);
  EXPECT_DOUBLE_EQ(w.at(4), 0.4);
}

TEST(PlanAblation, BeyondTheDistanceIsSkipped) {
  TrialParams params;
  params.per_layer = true;
  params.kernels = {kernel("attn.o_proj", 1.2, 2.0, 0.4, 1.99)};
  const auto w = weights_of(plan_ablation(params, random_directions(), kLayers), Component::kAttnOutput);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.count(0), 0u);
  EXPECT_EQ(w.count(4), 0u);
}

TEST(PlanAblation, ExactZeroWeightsAreSkipped) {
  TrialParams params;
  params.per_layer = true;
  params.kernels = {// mlp max_weight sampled below 0 is clamped to 0: the component is off.
                    kernel("attn.o_proj", 1.0, 2.0, 0.0, 2.0), kernel("mlp.down_proj", 0.0, 2.0, 0.0, 3.0)};
  const auto plan = plan_ablation(params, random_directions(), kLayers);
  EXPECT_TRUE(weights_of(plan, Component::kMlpDown).empty());
  // attention: min_weight 0 reached exactly at the distance -> layers 0 and 4 are skipped.
  const auto w = weights_of(plan, Component::kAttnOutput);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w.at(1), 0.5);
  for (const auto& entry : plan) EXPECT_NE(entry.weight, 0.0);
}

TEST(PlanAblation, PeakAtEitherEnd) {
  TrialParams params;
  params.per_layer = true;
  params.kernels = {kernel("attn.o_proj", 1.5, 0.0, 0.3, 1.5), kernel("mlp.down_proj", 0.8, kLayers - 1, 0.2, 1.0)};
  const auto plan = plan_ablation(params, random_directions(), kLayers);
  const auto attn = weights_of(plan, Component::kAttnOutput);
  ASSERT_EQ(attn.size(), 2u);
  EXPECT_DOUBLE_EQ(attn.at(0), 1.5);
  EXPECT_DOUBLE_EQ(attn.at(1), 1.5 + (1.0 / 1.5) * (0.3 - 1.5));
  const auto mlp = weights_of(plan, Component::kMlpDown);
  ASSERT_EQ(mlp.size(), 2u);
  EXPECT_DOUBLE_EQ(mlp.at(4), 0.8);
  EXPECT_DOUBLE_EQ(mlp.at(3), 0.2);
}

TEST(PlanAblation, PerLayerUsesTheRowAfterTheBlock) {
  const torch::Tensor R = random_directions();
  TrialParams params;
  params.per_layer = true;
  params.kernels = {kernel("attn.o_proj", 1.0, 2.0, 1.0, 4.0), kernel("mlp.down_proj", 1.0, 2.0, 1.0, 4.0)};
  const auto plan = plan_ablation(params, R, kLayers);
  ASSERT_EQ(plan.size(), 10u);
  for (const auto& entry : plan) {
    EXPECT_EQ(entry.direction.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(entry.direction, R[entry.layer + 1])) << entry.layer;
  }
  // Layer-major order, attention before MLP within a layer (Heretic's loop order).
  EXPECT_EQ(plan[0].layer, 0);
  EXPECT_EQ(plan[0].component, Component::kAttnOutput);
  EXPECT_EQ(plan[1].component, Component::kMlpDown);
}

TEST(PlanAblation, GlobalUsesOneInterpolatedDirectionEverywhere) {
  const torch::Tensor R = random_directions();
  TrialParams params;
  params.per_layer = false;
  params.direction_index = 2.3;
  params.kernels = {kernel("attn.o_proj", 1.0, 2.0, 0.5, 3.0)};
  const auto plan = plan_ablation(params, R, kLayers);
  ASSERT_EQ(plan.size(), 5u);
  const torch::Tensor expected = global_direction(R, 2.3);
  for (const auto& entry : plan) EXPECT_TRUE(torch::equal(entry.direction, expected));
}

TEST(PlanAblation, BadInputThrows) {
  TrialParams params;
  params.per_layer = true;
  params.kernels = {kernel("attn.o_proj", 1.0, 2.0, 0.5, 3.0)};
  EXPECT_THROW(plan_ablation(params, random_directions(), kLayers + 1), std::invalid_argument);  // row count
  params.per_layer = false;  // global without an index
  EXPECT_THROW(plan_ablation(params, random_directions(), kLayers), std::invalid_argument);
  params.direction_index = 4.5;  // past L - 1
  EXPECT_THROW(plan_ablation(params, random_directions(), kLayers), std::out_of_range);
}

}  // namespace
