// The architecture registry: every registered family has a fixture, a complete tensor table
// and unique model types; unknown model types are rejected with the supported list.
#include "model/architecture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/error.h"
#include "model_fixtures.h"

using namespace heretic::model;

TEST(ArchitectureRegistry, EveryRegisteredFamilyHasAFixture) {
  const auto& fixtures = fixture_model_names();
  for (const ModelFamily* family : registered_families()) {
    const std::string fixture = family->name + "-tiny";
    EXPECT_TRUE(std::find(fixtures.begin(), fixtures.end(), fixture) != fixtures.end())
        << family->name << " is registered but fixture_model_names() has no " << fixture
        << " (add it to tools/fixtures/make_random_models.py)";
    EXPECT_TRUE(std::filesystem::exists(fixture_model(fixture) / "config.json")) << fixture;
  }
  for (const std::string& fixture : fixtures)  // layout variants ("qwen3_moe-fused-tiny") of registered families
    EXPECT_NO_THROW(family_for_model_type(fixture.substr(0, fixture.find('-')), fixture))
        << "a fixture without a registered family";
}

TEST(ArchitectureRegistry, EveryTableMapsEachRoleOnceAndEveryRequiredRole) {
  std::set<std::string> names, model_types;
  for (const ModelFamily* family : registered_families()) {
    EXPECT_TRUE(names.insert(family->name).second) << family->name << " registered twice";
    EXPECT_FALSE(family->model_types.empty()) << family->name;
    for (const std::string& type : family->model_types)
      EXPECT_TRUE(model_types.insert(type).second) << "model_type " << type << " claimed twice";
    EXPECT_FALSE(family->layouts.empty()) << family->name;
    std::map<TensorRole, int> mapped;
    for (const TensorName& entry : family->tensors) {
      ++mapped[entry.role];
      EXPECT_EQ(entry.name.find("{layer}") != std::string::npos, is_layer_role(entry.role))
          << family->name << ": " << entry.name;
    }
    for (const FusedTensor& fused : family->fused_tensors) {
      EXPECT_GE(fused.parts.size(), 2u) << family->name << ": " << fused.name;
      for (const TensorRole part : fused.parts) {
        ++mapped[part];
        EXPECT_TRUE(is_linear_role(part)) << family->name << ": " << fused.name;
      }
    }
    for (int r = 0; r < kTensorRoleCount; ++r) {
      const auto role = static_cast<TensorRole>(r);
      EXPECT_LE(mapped[role], 1) << family->name << " maps " << role_name(role) << " twice";
      // A mixture-of-experts family's dense MLP roles are only for its dense layers (Qwen), if any.
      const bool dense_mlp = role == TensorRole::kGateProj || role == TensorRole::kUpProj || role == TensorRole::kDownProj;
      if (is_required_role(role) && !(family->experts.defined() && dense_mlp)) {
        EXPECT_EQ(mapped[role], 1) << family->name << " lacks " << role_name(role);
      }
    }
    if (family->experts.defined()) {  // every expert table names its layer and expert
      const ExpertsRecipe& e = family->experts;
      EXPECT_FALSE(e.down.empty() && e.fused_down.empty()) << family->name << " names no expert layout";
      if (!e.down.empty()) {  // one module per expert
        for (const std::string* per_expert : {&e.gate, &e.up, &e.down})
          EXPECT_NE(per_expert->find("{expert}"), std::string::npos) << family->name << ": " << *per_expert;
      }
      for (const std::string* name : {&e.router, &e.gate, &e.up, &e.down, &e.fused_router, &e.fused_gate_up, &e.fused_down})
        EXPECT_TRUE(name->empty() || name->find("{layer}") != std::string::npos) << family->name << ": " << *name;
    }
    // q and k norms come together, and so do the two output norms of a sandwich block.
    EXPECT_EQ(family->has_role(TensorRole::kQNorm), family->has_role(TensorRole::kKNorm)) << family->name;
    EXPECT_EQ(family->has_role(TensorRole::kAttnOutputNorm), family->has_role(TensorRole::kMlpOutputNorm))
        << family->name;
  }
}

TEST(ArchitectureRegistry, FindsFamiliesByModelType) {
  EXPECT_EQ(family_for_model_type("qwen2", "c").name, "qwen2");
  EXPECT_TRUE(family_for_model_type("qwen3", "c").has_role(TensorRole::kQNorm));
  EXPECT_EQ(family_for_model_type("qwen2", "c").block.attention_bias, AttentionBias::kQkvAlways);
  EXPECT_EQ(family_for_model_type("mistral", "c").block.sliding, SlidingLayers::kAllIfWindowSet);
  EXPECT_TRUE(family_for_model_type("gemma3", "c").is_wrapper());
  EXPECT_FALSE(family_for_model_type("gemma3_text", "c").is_wrapper());
  EXPECT_EQ(family_for_model_type("phi3", "c").tensor_pattern(TensorRole::kQProj), "");  // fused
  EXPECT_TRUE(family_for_model_type("phi3", "c").has_role(TensorRole::kQProj));
}

TEST(ArchitectureRegistry, UnknownModelTypeListsTheSupportedOnes) {
  try {
    family_for_model_type("lama", "m/config.json");
    FAIL();
  } catch (const heretic::InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("m/config.json: key 'model_type' is 'lama'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean 'llama'"), std::string::npos) << message;
    EXPECT_NE(message.find("'gemma2', 'gemma3', 'gemma3_text', 'gpt_oss', 'llama', 'mistral', 'mistral3', 'mixtral', 'phi3', "
                           "'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe'"),
              std::string::npos)
        << message;
  }
}
