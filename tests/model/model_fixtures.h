// Shared helpers for tests on the random-weight fixtures (tests/fixtures/models, written by
// tools/fixtures/make_random_models.py).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

inline std::filesystem::path fixture_model(const std::string& name) {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models" / name;
}

// One fixture per registered family, "<family>-tiny" (architecture_test checks that every
// registered family has one), and layout variants "<family>-<variant>-tiny" (the same model
// stored another way: qwen3_moe-fused-tiny holds qwen3_moe-tiny's weights with fused experts).
inline const std::vector<std::string>& fixture_model_names() {
  static const std::vector<std::string> names = {
      "llama-tiny",  "mistral-tiny",     "qwen2-tiny",  "qwen3-tiny",   "gemma2-tiny",
      "gemma3_text-tiny", "gemma3-tiny", "phi3-tiny", "mistral3-tiny", "mixtral-tiny",
      "qwen2_moe-tiny", "qwen3_moe-tiny", "qwen3_moe-fused-tiny", "gpt_oss-tiny", "gpt_oss-dequantized-tiny"};
  return names;
}

// Seven prompts each of lengths 1..8 and 9..15: every fixture's sliding window (3 to 6) is
// shorter than the long ones, and phi3-tiny's longrope switch (8 tokens) lies between the two
// sets, so each set stays on one side of it (transformers picks the factors for a whole batch by
// its longest row). Ids avoid the fixtures' special tokens 0-7.
inline std::vector<std::vector<int64_t>> short_prompts() {
  return {{40}, {41, 42, 43}, {50, 51, 52, 53, 54}, {60, 61, 62, 63, 64, 65, 66, 67},
          {70, 71}, {80, 81, 82, 83, 84, 85}, {90, 91, 92, 93, 94, 95, 96}};
}
inline std::vector<std::vector<int64_t>> long_prompts() {
  std::vector<std::vector<int64_t>> prompts;
  for (int64_t length : {9, 15, 11, 13, 10, 14, 12}) {
    std::vector<int64_t> prompt;
    for (int64_t i = 0; i < length; ++i) prompt.push_back(8 + (length * 7 + i * 13) % 120);
    prompts.push_back(prompt);
  }
  return prompts;
}

// Prompts of different lengths (so a batch needs left padding); longer than mistral-tiny's
// sliding window of 5 so that the window matters. Ids avoid the fixtures' EOS ids 1 and 2.
inline std::vector<std::vector<int64_t>> fixture_prompts() {
  return {{10, 11, 12, 13, 14, 15, 16, 17, 18}, {40, 41, 42}, {70, 8, 90, 100, 110, 120, 5}, {99}};
}

// "llama" for "llama-tiny", "gemma3_text" for "gemma3_text-tiny": names of the parameterised tests.
inline std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param.substr(0, param.param.rfind("-tiny"));
  std::replace(name.begin(), name.end(), '-', '_');  // "qwen3_moe_fused"
  return name;
}
