#include "model/batch.h"

#include <algorithm>
#include <stdexcept>

namespace heretic::model {

Batch make_left_padded_batch(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id,
                             const torch::Device& device) {
  if (prompts.empty()) throw std::invalid_argument("make_left_padded_batch: no prompts");
  size_t longest = 0;
  for (const auto& prompt : prompts) {
    if (prompt.empty()) throw std::invalid_argument("make_left_padded_batch: empty prompt");
    longest = std::max(longest, prompt.size());
  }
  const auto B = static_cast<int64_t>(prompts.size());
  const auto T = static_cast<int64_t>(longest);
  Batch batch;
  batch.input_ids = torch::full({B, T}, pad_id, torch::kInt64);  // [B, T]
  batch.attention_mask = torch::zeros({B, T}, torch::kInt64);    // [B, T]
  auto ids = batch.input_ids.accessor<int64_t, 2>();
  auto mask = batch.attention_mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& prompt = prompts[static_cast<size_t>(b)];
    const int64_t offset = T - static_cast<int64_t>(prompt.size());
    for (size_t t = 0; t < prompt.size(); ++t) {
      ids[b][offset + static_cast<int64_t>(t)] = prompt[t];
      mask[b][offset + static_cast<int64_t>(t)] = 1;
    }
  }
  if (!device.is_cpu()) {
    batch.input_ids = batch.input_ids.to(device);
    batch.attention_mask = batch.attention_mask.to(device);
  }
  return batch;
}

torch::Tensor position_ids_from_mask(const torch::Tensor& attention_mask) {
  const torch::Tensor mask = attention_mask.to(torch::kInt64);
  return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1);
}

}  // namespace heretic::model
