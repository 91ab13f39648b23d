#include "optimize/heretic_space.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "optimize/tpe_sampler.h"

namespace heretic::optimize {
namespace {

TEST(HereticSpace, ParametersRangesAndOrder) {
  // Given in the "wrong" order: attention always comes first.
  const SearchSpace space = heretic_search_space(32, {kMlpComponent, kAttentionComponent});
  const std::vector<std::string> names = {
      "direction_scope",          "direction_index",
      "attn.o_proj.max_weight",   "attn.o_proj.max_weight_position",
      "attn.o_proj.min_weight",   "attn.o_proj.min_weight_distance",
      "mlp.down_proj.max_weight", "mlp.down_proj.max_weight_position",
      "mlp.down_proj.min_weight", "mlp.down_proj.min_weight_distance"};
  ASSERT_EQ(space.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(space[i].name, names[i]);
  EXPECT_EQ(space[0].choices, (std::vector<std::string>{"global", "per layer"}));
  const double last = 31;
  EXPECT_DOUBLE_EQ(space[1].low, 0.4 * last);
  EXPECT_DOUBLE_EQ(space[1].high, 0.9 * last);
  EXPECT_EQ(space[2].low, 0.8);
  EXPECT_EQ(space[2].high, 1.5);
  EXPECT_DOUBLE_EQ(space[3].low, 0.6 * last);
  EXPECT_DOUBLE_EQ(space[3].high, last);
  EXPECT_EQ(space[4].low, 0.0);
  EXPECT_EQ(space[4].high, 1.0);
  EXPECT_EQ(space[5].low, 1.0);
  EXPECT_DOUBLE_EQ(space[5].high, 0.6 * last);
  EXPECT_EQ(space[6].low, -0.25);
  EXPECT_EQ(space[6].high, 1.5);
  EXPECT_THROW(heretic_search_space(32, {"mlp.up_proj"}), std::invalid_argument);
}

TEST(HereticSpace, DecodeAppliesTransforms) {
  const SearchSpace space = heretic_search_space(32, {kAttentionComponent, kMlpComponent});
  //                          scope idx   attn: max  pos  minfrac dist  mlp: max   pos  minfrac dist
  const std::vector<double> p = {0, 20.5, 1.2, 25.0, 0.5, 8.0, -0.1, 30.0, 0.9, 4.0};
  const HereticTrialParams d = decode_heretic_params(space, p);
  EXPECT_FALSE(d.per_layer);
  ASSERT_TRUE(d.direction_index.has_value());
  EXPECT_EQ(*d.direction_index, 20.5);
  ASSERT_EQ(d.kernels.size(), 2u);
  EXPECT_EQ(d.kernels[0].component, kAttentionComponent);
  EXPECT_EQ(d.kernels[0].max_weight, 1.2);
  EXPECT_DOUBLE_EQ(d.kernels[0].min_weight, 0.6);  // fraction 0.5 of max_weight
  EXPECT_EQ(d.kernels[1].max_weight, 0.0);         // negative MLP weight clamps to 0 (off)
  EXPECT_EQ(d.kernels[1].min_weight, 0.0);
  EXPECT_EQ(d.kernels[1].weight_at(30), 0.0);

  const ComponentKernel& k = d.kernels[0];  // peak 1.2 at 25, 0.6 at distance 8
  EXPECT_DOUBLE_EQ(k.weight_at(25), 1.2);
  EXPECT_DOUBLE_EQ(k.weight_at(21), 0.9);
  EXPECT_DOUBLE_EQ(k.weight_at(33), 0.6);
  EXPECT_EQ(k.weight_at(16), 0.0);  // distance 9 > 8: block left alone

  std::vector<double> per_layer = p;
  per_layer[0] = 1;
  EXPECT_FALSE(decode_heretic_params(space, per_layer).direction_index.has_value());
}

TEST(HereticSpace, TinyModelsGetAFixedDistanceTheSamplerSkips) {
  const SearchSpace space = heretic_search_space(2, {kAttentionComponent});
  EXPECT_TRUE(space[5].single());  // [1, max(0.6, 1)] is one point
  TpeOptions options;
  options.n_objectives = 2;
  options.n_startup_trials = 4;
  TpeSampler sampler(space, options);
  for (int i = 0; i < 12; ++i) {
    const Trial t = sampler.ask();
    EXPECT_EQ(t.params[5], 1.0);
    const HereticTrialParams d = decode_heretic_params(space, t.params);
    EXPECT_EQ(d.kernels[0].min_weight_distance, 1.0);
    sampler.tell(t.number, {t.params[2], 1 - t.params[4]});
  }
}

}  // namespace
}  // namespace heretic::optimize
