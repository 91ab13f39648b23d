// A batch of prompts as the model consumes it: left-padded ids and the attention mask.
#pragma once

#include <torch/utils.h>

#include <cstdint>
#include <vector>

namespace heretic::model {

struct Batch {
  torch::Tensor input_ids;       // [B, T] int64, pads on the left
  torch::Tensor attention_mask;  // [B, T] int64, 0 on pads, 1 on real tokens
  int64_t size() const { return input_ids.size(0); }
};

// Left-pads `prompts` (each non-empty) to the longest with `pad_id`, as the tokenizer does with
// padding_side="left". Throws std::invalid_argument for an empty batch or prompt.
Batch make_left_padded_batch(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id,
                             const torch::Device& device = torch::kCPU);

// Position ids as transformers' generate derives them from the mask: cumsum(mask) - 1, with
// pad slots set to 1 (their value never matters). [B, T] int64.
torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask);

}  // namespace heretic::model
