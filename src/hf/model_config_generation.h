// generation_config.json: the settings transformers' generate() merges into greedy decoding
// (architectures.md §1.11). Only what stays active under do_sample=False is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "hf/model_config.h"

namespace heretic::hf {

struct GenerationConfig {
  // Every id that ends a response; generation_config.json's list, else config.json's.
  std::vector<int64_t> eos_token_ids;
  // Token a finished row would emit (generation config, else config, else the first EOS).
  std::optional<int64_t> pad_token_id;
  std::optional<int64_t> bos_token_id;
  // Divides positive / multiplies negative logits of every id already in the row (1 = off).
  double repetition_penalty = 1.0;
};

// Reads <folder>/generation_config.json when present and falls back to `model` for ids.
// Throws InputError naming the file and key when the file exists but is malformed.
GenerationConfig read_generation_config(const std::filesystem::path& folder, const ModelConfig& model);

}  // namespace heretic::hf
