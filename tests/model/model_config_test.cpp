// config.json / generation_config.json parsing (architectures.md §1.1) and model location.
#include "hf/model_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "hf/model_config_generation.h"
#include "hf/model_location.h"

namespace fs = std::filesystem;
using heretic::InputError;
using heretic::hf::parse_model_config;
using nlohmann::json;

namespace {

json minimal() {
  return json{{"model_type", "llama"},          {"vocab_size", 100},      {"hidden_size", 64},
              {"intermediate_size", 128},       {"num_hidden_layers", 2}, {"num_attention_heads", 4},
              {"max_position_embeddings", 4096}};
}

std::string error_of(const json& config) {
  try {
    parse_model_config(config, "cfg/config.json");
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(ModelConfig, AppliesTheSharedDefaults) {
  const auto config = parse_model_config(minimal(), "config.json");
  EXPECT_EQ(config.num_key_value_heads, 4);  // absent -> num_attention_heads
  EXPECT_EQ(config.head_dim, 16);            // absent -> hidden / heads
  EXPECT_EQ(config.rope.rope_type, "default");
  EXPECT_FALSE(config.rope.rope_theta.has_value());  // the family decides
  EXPECT_FALSE(config.tie_word_embeddings.has_value());
  EXPECT_EQ(config.dtype, "");
}

TEST(ModelConfig, NullHeadDimIsDerived) {
  json j = minimal();
  j["head_dim"] = nullptr;
  EXPECT_EQ(parse_model_config(j, "c").head_dim, 16);
}

TEST(ModelConfig, ReadsLegacyRopeScalingWithTypeKey) {
  json j = minimal();
  j["rope_theta"] = 500000.0;
  j["torch_dtype"] = "bfloat16";
  j["rope_scaling"] = {{"type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  const auto config = parse_model_config(j, "c");
  EXPECT_EQ(config.rope.rope_type, "llama3");
  EXPECT_EQ(*config.rope.rope_theta, 500000.0);
  EXPECT_EQ(*config.rope.factor, 8.0);
  EXPECT_EQ(*config.rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(config.dtype, "bfloat16");
}

TEST(ModelConfig, ReadsV5RopeParameters) {
  json j = minimal();
  j["dtype"] = "float16";
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e6}, {"factor", 4.0}};
  const auto config = parse_model_config(j, "c");
  EXPECT_EQ(config.rope.rope_type, "yarn");
  EXPECT_EQ(*config.rope.rope_theta, 1e6);
  // yarn without original_max_position_embeddings: defaults to max_position_embeddings.
  EXPECT_EQ(*config.rope.original_max_position_embeddings, 4096);
  EXPECT_EQ(config.dtype, "float16");
}

TEST(ModelConfig, ReadsRopeParametersNestedPerLayerType) {
  json j = minimal();
  j["rope_parameters"] = {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 1e6}}},
                          {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 1e4}}}};
  const auto config = parse_model_config(j, "c");
  EXPECT_EQ(config.rope.rope_type, "linear");
  ASSERT_TRUE(config.sliding_rope.has_value());
  EXPECT_EQ(*config.sliding_rope->rope_theta, 1e4);
}

TEST(ModelConfig, UsesNestedTextConfig) {
  json j = {{"model_type", "gemma3"},
            {"architectures", {"Gemma3ForConditionalGeneration"}},
            {"torch_dtype", "bfloat16"},
            {"text_config", minimal()}};
  j["text_config"]["model_type"] = "gemma3_text";
  j["eos_token_id"] = {1, 106};
  const auto config = parse_model_config(j, "c");
  EXPECT_EQ(config.model_type, "gemma3");  // the wrapper's model_type picks the family
  EXPECT_EQ(config.text_model_type, "gemma3_text");
  EXPECT_TRUE(config.nested);
  EXPECT_EQ(config.hidden_size, 64);
  EXPECT_EQ(config.dtype, "bfloat16");                          // taken from the wrapper when text_config lacks it
  EXPECT_EQ(config.eos_token_ids, (std::vector<int64_t>{1, 106}));  // so are the EOS ids
}

TEST(ModelConfig, ClassDefaultsFillOnlyAbsentKeys) {
  heretic::hf::ConfigRules rules;
  rules.defaults = {{"num_attention_heads", 8}, {"rope_theta", 1e6}, {"sliding_window", 4096}, {"eos_token_id", 1},
                    {"hidden_activation", "gelu_pytorch_tanh"}};
  rules.activation_key = "hidden_activation";
  json j = {{"model_type", "gemma3"}, {"eos_token_id", {1, 106}}, {"text_config", minimal()}};
  j["text_config"].erase("num_attention_heads");
  j["text_config"]["sliding_window"] = nullptr;  // explicit null beats the default
  const auto config = parse_model_config(j, "c", rules);
  EXPECT_EQ(config.num_attention_heads, 8);
  EXPECT_EQ(*config.rope.rope_theta, 1e6);
  EXPECT_FALSE(config.sliding_window.has_value());
  EXPECT_EQ(config.hidden_act, "gelu_pytorch_tanh");
  EXPECT_EQ(config.eos_token_ids, (std::vector<int64_t>{1, 106}));  // the wrapper's value beats the default
}

TEST(ModelConfig, ReadsLongropeFactorsAndLegacyTypeNames) {
  heretic::hf::ConfigRules rules;
  rules.rope_type_aliases = {{"su", "longrope"}};
  json j = minimal();
  j["original_max_position_embeddings"] = 4096;
  j["rope_scaling"] = {{"type", "su"}, {"short_factor", {1.0, 1.5}}, {"long_factor", {2.0, 4.0}}};
  const auto config = parse_model_config(j, "c", rules);
  EXPECT_EQ(config.rope.rope_type, "longrope");
  EXPECT_EQ(config.rope.long_factor, (std::vector<double>{2.0, 4.0}));
  EXPECT_TRUE(config.rope.original_max_at_top_level);
  j["rope_scaling"].erase("long_factor");
  EXPECT_NE(error_of(j).find("rope_type 'su'"), std::string::npos);  // no alias without the family's rules
  try {
    parse_model_config(j, "cfg/config.json", rules);
    FAIL();
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("needs 'short_factor' and 'long_factor'"), std::string::npos);
  }
}

TEST(ModelConfig, ErrorsNameTheFileAndKey) {
  json missing = minimal();
  missing.erase("hidden_size");
  EXPECT_NE(error_of(missing).find("cfg/config.json: key 'hidden_size' is missing"), std::string::npos);
  json wrong_type = minimal();
  wrong_type["num_hidden_layers"] = "two";
  EXPECT_NE(error_of(wrong_type).find("key 'num_hidden_layers' must be an integer"), std::string::npos);
  json bad_gqa = minimal();
  bad_gqa["num_key_value_heads"] = 3;
  EXPECT_NE(error_of(bad_gqa).find("num_key_value_heads"), std::string::npos);
  json bad_rope = minimal();
  bad_rope["rope_scaling"] = {{"rope_type", "spiral"}};
  EXPECT_NE(error_of(bad_rope).find("rope_type 'spiral'"), std::string::npos);
  json linear_without_factor = minimal();
  linear_without_factor["rope_scaling"] = {{"rope_type", "linear"}};
  EXPECT_NE(error_of(linear_without_factor).find("needs 'factor'"), std::string::npos);
}

TEST(ModelConfig, EosMayBeAList) {
  json j = minimal();
  j["eos_token_id"] = {5, 7};
  EXPECT_EQ(parse_model_config(j, "c").eos_token_ids, (std::vector<int64_t>{5, 7}));
}

TEST(GenerationConfig, PrefersGenerationConfigAndFallsBackToFirstEos) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-genconfig-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": [9, 10], "repetition_penalty": 1.1})";
  json j = minimal();
  j["eos_token_id"] = 3;
  const auto config = parse_model_config(j, dir / "config.json");
  const auto generation = heretic::hf::read_generation_config(dir, config);
  EXPECT_EQ(generation.eos_token_ids, (std::vector<int64_t>{9, 10}));
  EXPECT_EQ(*generation.pad_token_id, 9);
  EXPECT_DOUBLE_EQ(generation.repetition_penalty, 1.1);
  fs::remove_all(dir);
}

TEST(ModelLocation, AcceptsALocalFolderAndRejectsOneWithoutConfig) {
  const fs::path fixture = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models/llama-tiny";
  EXPECT_EQ(heretic::hf::locate_model(fixture.string()).folder, fixture);
  EXPECT_THROW(heretic::hf::locate_model((fixture.parent_path()).string()), InputError);
  EXPECT_THROW(heretic::hf::locate_model("/no/such/dir/../x"), InputError);
}

TEST(ModelLocation, ResolvesARepoIdFromTheHubCache) {
  // A hub cache with models--org--tiny/snapshots/<commit> and refs/main.
  const fs::path cache = fs::temp_directory_path() / ("heretic-hub-" + std::to_string(::getpid()));
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  const fs::path repo = cache / "models--org--tiny";
  fs::create_directories(repo / "snapshots" / commit);
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << commit;
  std::ofstream(repo / "snapshots" / commit / "config.json") << "{}";
  ::setenv("HF_HUB_CACHE", cache.c_str(), 1);
  const auto location = heretic::hf::locate_model("org/tiny");
  EXPECT_EQ(location.commit, commit);
  EXPECT_EQ(location.folder, repo / "snapshots" / commit);
  EXPECT_THROW(heretic::hf::locate_model("org/absent"), InputError);
  ::unsetenv("HF_HUB_CACHE");
  fs::remove_all(cache);
}

}  // namespace
