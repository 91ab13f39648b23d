// Shared by the export tests (merged and LoRA): the organism's folder, a plan that touches
// modules of both kinds, and comparisons of files and logits.
#pragma once

#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ablation/ablator.h"

namespace heretic::testing {

inline std::filesystem::path organism_model() {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/model";
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Several modules of both kinds with different weights and random unit directions, so that
// a mix-up of modules, directions or weights changes the logits.
inline std::vector<ablation::ModuleAblation> mixed_plan(int64_t layers, int64_t hidden) {
  torch::manual_seed(7);
  auto direction = [hidden] {
    const torch::Tensor v = torch::randn({hidden});  // [H]
    return v / v.norm();
  };
  using model::Component;
  return {
      {0, Component::kAttnOutput, 1.0, direction()},
      {0, Component::kMlpDown, 0.6, direction()},
      {1, Component::kMlpDown, 1.3, direction()},
      {layers - 1, Component::kAttnOutput, 0.8, direction()},
  };
}

// max |a - b| relative to max |reference|.
inline double relative_difference(const torch::Tensor& a, const torch::Tensor& reference) {
  return (a - reference).abs().max().item<double>() / reference.abs().max().item<double>();
}

inline std::vector<std::string> folder_entries(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace heretic::testing
