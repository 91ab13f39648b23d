// Shared helpers for tests on the random-weight fixtures (tests/fixtures/models, written by
// tools/fixtures/make_random_models.py).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

inline std::filesystem::path fixture_model(const std::string& name) {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/models" / name;
}

inline const std::vector<std::string>& fixture_model_names() {
  static const std::vector<std::string> names = {"llama-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"};
  return names;
}

// Prompts of different lengths (so a batch needs left padding); longer than mistral-tiny's
// sliding window of 5 so that the window matters. Ids avoid the fixtures' EOS ids 1 and 2.
inline std::vector<std::vector<int64_t>> fixture_prompts() {
  return {{10, 11, 12, 13, 14, 15, 16, 17, 18}, {40, 41, 42}, {70, 8, 90, 100, 110, 120, 5}, {99}};
}

// "llama" for "llama-tiny": names of the parameterised tests.
inline std::string fixture_test_name(const ::testing::TestParamInfo<std::string>& param) {
  return param.param.substr(0, param.param.find('-'));
}
