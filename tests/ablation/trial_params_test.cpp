// Heretic's search space and the decoding of a trial's values (spec/heretic-behavior.md §2.2,
// §3.1): the order of the parameters decides how the sampler's random streams are used, and the
// transforms (MLP clamp, min_weight as a fraction) decide what is ablated.
#include "ablation/trial_params.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "optimize/tpe_sampler.h"

namespace heretic::ablation {
namespace {

using model::Component;

TEST(TrialParams, SearchSpaceParametersRangesAndOrder) {
  // Given in the "wrong" order: attention always comes first.
  const optimize::SearchSpace space = trial_search_space(32, {Component::kMlpDown, Component::kAttnOutput});
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
  EXPECT_THROW(trial_search_space(0, {Component::kAttnOutput}), std::invalid_argument);
}

TEST(TrialParams, ConfiguredRangesReplaceHereticsDefaults) {
  config::SearchSpaceConfig ranges;
  ranges.direction_index_min = 0.0;
  ranges.mlp_max_weight_min = 0.5;
  ranges.min_weight_distance_max = 1.0;
  const optimize::SearchSpace space = trial_search_space(11, {Component::kMlpDown}, ranges);
  ASSERT_EQ(space.size(), 6u);
  EXPECT_EQ(space[1].low, 0.0);
  EXPECT_EQ(space[2].name, "mlp.down_proj.max_weight");
  EXPECT_EQ(space[2].low, 0.5);
  EXPECT_DOUBLE_EQ(space[5].high, 10.0);
}

TEST(TrialParams, DecodeAppliesTransforms) {
  const optimize::SearchSpace space = trial_search_space(32, {Component::kAttnOutput, Component::kMlpDown});
  //                          scope idx   attn: max  pos  minfrac dist  mlp: max   pos  minfrac dist
  const std::vector<double> p = {0, 20.5, 1.2, 25.0, 0.5, 8.0, -0.1, 30.0, 0.9, 4.0};
  const TrialParams d = decode_trial_params(space.named(p));
  EXPECT_FALSE(d.per_layer);
  ASSERT_TRUE(d.direction_index.has_value());
  EXPECT_EQ(*d.direction_index, 20.5);
  ASSERT_EQ(d.kernels.size(), 2u);
  EXPECT_EQ(d.kernels[0].component, Component::kAttnOutput);
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
  EXPECT_FALSE(decode_trial_params(space.named(per_layer)).direction_index.has_value());

  // By name, not by position: the order of the values does not matter, a missing one does.
  optimize::ParamValues shuffled = space.named(p);
  std::swap(shuffled[0], shuffled[9]);
  EXPECT_EQ(to_json(decode_trial_params(shuffled)), to_json(d));
  shuffled.pop_back();
  EXPECT_THROW(decode_trial_params(shuffled), std::invalid_argument);
}

TEST(TrialParams, JsonAndDescriptionShowTheAppliedValues) {
  TrialParams params;
  params.direction_index = 2.054;
  ComponentKernel attn;
  attn.component = Component::kAttnOutput;
  attn.max_weight = 1.45;
  attn.max_weight_position = 3.05;
  attn.min_weight = 0.92;
  attn.min_weight_distance = 1.1;
  ComponentKernel mlp;
  mlp.component = Component::kMlpDown;
  params.kernels = {attn, mlp};
  EXPECT_EQ(describe(params), "global 2.05; attn.o_proj 1.45@3.05 min 0.92 d 1.10; mlp.down_proj off");
  const auto json = to_json(params);
  EXPECT_EQ(json["direction_scope"], "global");
  EXPECT_EQ(json["attn.o_proj"]["min_weight_distance"], 1.1);
  params.per_layer = true;
  params.direction_index.reset();
  EXPECT_TRUE(to_json(params)["direction_index"].is_null());
  EXPECT_EQ(describe(params).rfind("per layer;", 0), 0u);
}

TEST(TrialParams, TinyModelsGetAFixedDistanceTheSamplerSkips) {
  const optimize::SearchSpace space = trial_search_space(2, {Component::kAttnOutput});
  EXPECT_TRUE(space[5].single());  // [1, max(0.6, 1)] is one point
  optimize::TpeOptions options;
  options.n_objectives = 2;
  options.n_startup_trials = 4;
  optimize::TpeSampler sampler(space, options);
  for (int i = 0; i < 12; ++i) {
    const optimize::Trial t = sampler.ask();
    EXPECT_EQ(t.params[5], 1.0);
    const TrialParams d = decode_trial_params(space.named(t.params));
    EXPECT_EQ(d.kernels[0].min_weight_distance, 1.0);
    sampler.tell(t.number, {t.params[2], 1 - t.params[4]});
  }
}

}  // namespace
}  // namespace heretic::ablation
