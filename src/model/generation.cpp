// Greedy generation with a KV cache (architectures.md §1.11), CausalLM::generate_greedy.
#include <algorithm>

#include "model/causal_lm.h"

namespace heretic::model {
namespace {

// transformers' RepetitionPenaltyLogitsProcessor: every id present in the row (pads and prompt
// included) has its logit divided (if positive) or multiplied (if negative) by the penalty.
void apply_repetition_penalty(torch::Tensor& logits, const torch::Tensor& seen_ids, double penalty) {
  const torch::Tensor score = logits.gather(1, seen_ids);
  const torch::Tensor penalised = torch::where(score < 0, score * penalty, score / penalty);
  logits = logits.scatter(1, seen_ids, penalised);
}

}  // namespace

std::vector<std::vector<int64_t>> CausalLM::generate_greedy(const Batch& batch, int64_t max_new_tokens,
                                                            const StopPredicate& stop) {
  torch::NoGradGuard no_grad;
  const ModelInfo& model = info();
  const auto B = static_cast<size_t>(batch.size());
  std::vector<std::vector<int64_t>> generated(B);
  if (max_new_tokens <= 0) return generated;
  const int64_t T = batch.input_ids.size(1);
  const double penalty = model.generation.repetition_penalty;
  const auto& eos_ids = model.generation.eos_token_ids;

  const LayerRange& held = transformer_.held_layers();  // a pipeline stage caches only its layers
  KVCache cache(held.count, batch.size(), transformer_.local_kv_heads(), T + max_new_tokens, model.head_dim,
                torch::TensorOptions().dtype(transformer_.dtype()).device(device_), held.first);
  torch::Tensor mask = batch.attention_mask.to(torch::kInt64);  // [b, S] active rows
  torch::Tensor positions = position_ids_from_mask(mask);       // [b, T] for the prefill
  torch::Tensor input = batch.input_ids;                        // [b, T] then [b, 1]
  torch::Tensor seen = batch.input_ids;                         // [b, S] every id so far
  std::vector<size_t> active(B);                                // original row of each row
  for (size_t i = 0; i < B; ++i) active[i] = i;
  // RoPE variants that depend on the length see transformers' max(position_ids) + 1 over the
  // whole original batch, finished rows included (they keep stepping there).
  int64_t rope_length = positions.max().item<int64_t>() + 1;
  // Longrope (Phi-3): keys cached before the switch to the long factors keep the short rotation,
  // so Phi-3's generate recomputes the whole sequence at the step that reaches switch + 1 slots.
  const int64_t rope_switch = transformer_.rope_switch_length();
  const bool keep_ids = penalty != 1.0 || rope_switch > 0;
  PipelineGroup* pipeline = transformer_.pipeline_group();

  for (int64_t step = 0; step < max_new_tokens; ++step) {
    ForwardRequest request;
    request.input_ids = input;
    request.attention_mask = mask;
    request.position_ids = positions;
    request.cache = &cache;
    request.last_position_only = true;
    request.rope_sequence_length = rope_length;
    if (step > 0 && rope_switch > 0 && cache.length() == rope_switch) {
      cache.reset();
      request.input_ids = seen;  // [b, S]
      request.position_ids = position_ids_from_mask(mask);
    }
    const torch::Tensor normed = transformer_.forward(request, slots_);  // [b, 1, H]
    // Under a pipeline the last stage picks the tokens and shares only them, not the logits.
    torch::Tensor next;  // [b] int64, the first maximum of each row's logits
    if (pipeline == nullptr || pipeline->position().last()) {
      torch::Tensor logits = transformer_.logits(normed, /*shared=*/false).squeeze(1);  // [b, V] float32
      if (penalty != 1.0) apply_repetition_penalty(logits, seen, penalty);
      next = logits.argmax(-1);
    } else {
      next = torch::empty({normed.size(0)}, torch::TensorOptions().dtype(torch::kInt64).device(device_));
    }
    if (pipeline != nullptr) pipeline->broadcast(next, pipeline->stages() - 1);
    const torch::Tensor next_cpu = next.to(torch::kCPU);
    const auto tokens = next_cpu.accessor<int64_t, 1>();

    std::vector<int64_t> keep;
    for (size_t i = 0; i < active.size(); ++i) {
      const int64_t token = tokens[static_cast<int64_t>(i)];
      auto& row = generated[active[i]];
      row.push_back(token);
      const bool eos = std::find(eos_ids.begin(), eos_ids.end(), token) != eos_ids.end();
      const bool stopped = !eos && stop && stop(active[i], row);
      if (!eos && !stopped) keep.push_back(static_cast<int64_t>(i));
    }
    if (keep.empty() || step + 1 == max_new_tokens) break;

    // The next step feeds the new tokens at each row's next position.
    torch::Tensor last_positions = positions.select(1, positions.size(1) - 1) + 1;  // [b]
    if (static_cast<size_t>(keep.size()) != active.size()) {
      // Finished rows leave the batch: cache, mask and bookkeeping shrink with them.
      const torch::Tensor rows = torch::tensor(keep, torch::kInt64).to(device_);
      cache.keep_rows(rows);
      mask = mask.index_select(0, rows);
      seen = seen.index_select(0, rows);
      last_positions = last_positions.index_select(0, rows);
      const torch::Tensor kept_next = next.index_select(0, rows);
      std::vector<size_t> still_active;
      for (const int64_t i : keep) still_active.push_back(active[static_cast<size_t>(i)]);
      active = std::move(still_active);
      input = kept_next.unsqueeze(1);
    } else {
      input = next.unsqueeze(1);  // [b, 1]
    }
    positions = last_positions.unsqueeze(1);                                       // [b, 1]
    mask = torch::cat({mask, torch::ones({mask.size(0), 1}, mask.options())}, 1);  // [b, S+1]
    if (keep_ids) seen = torch::cat({seen, input}, 1);
    ++rope_length;
  }
  return generated;
}

}  // namespace heretic::model
