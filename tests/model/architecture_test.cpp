// The architecture registry: every enum value has a family, unknown model types are rejected
// with the supported list.
#include "model/architecture.h"

#include <gtest/gtest.h>

#include <set>

#include "common/error.h"

using namespace heretic::model;

TEST(ArchitectureRegistry, EveryArchitectureHasExactlyOneFamily) {
  std::set<int> seen;
  for (const FamilyTraits* family : registered_families()) {
    EXPECT_TRUE(seen.insert(static_cast<int>(family->architecture)).second) << family->name;
    EXPECT_FALSE(family->model_types.empty()) << family->name;
  }
  for (int i = 0; i < kArchitectureCount; ++i) {
    EXPECT_TRUE(seen.count(i)) << "architecture " << i << " has no family file registered";
    EXPECT_NO_THROW(family_of(static_cast<Architecture>(i)));
  }
}

TEST(ArchitectureRegistry, FindsFamiliesByModelType) {
  EXPECT_EQ(family_for_model_type("qwen2", "c").architecture, Architecture::kQwen2);
  EXPECT_TRUE(family_for_model_type("qwen3", "c").qk_norm);
  EXPECT_TRUE(family_for_model_type("qwen2", "c").qkv_bias_always);
  EXPECT_EQ(family_for_model_type("mistral", "c").sliding_rule, SlidingRule::kEveryLayerIfWindowSet);
}

TEST(ArchitectureRegistry, UnknownModelTypeListsTheSupportedOnes) {
  try {
    family_for_model_type("lama", "m/config.json");
    FAIL();
  } catch (const heretic::InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("m/config.json: key 'model_type' is 'lama'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean 'llama'"), std::string::npos) << message;
    EXPECT_NE(message.find("'mistral', 'qwen2', 'qwen3'"), std::string::npos) << message;
  }
}
