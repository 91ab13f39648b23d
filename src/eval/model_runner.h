// The three model operations of a run (DESIGN.md §1 phases 2–4) over whole prompt lists, each
// with its own adaptive batch size: hidden states at the last prompt position, first-token
// log-probabilities, and greedy responses that may stop early.
#pragma once

#include <torch/utils.h>

#include <functional>
#include <string>
#include <vector>

#include "eval/adaptive_batch.h"
#include "eval/prompt_encoding.h"
#include "model/causal_lm.h"

namespace heretic::eval {

class ModelRunner {
 public:
  // Batch sizes start at `initial_batch_size` (the configured batch_size, or max_batch_size
  // when batch_size is 0).
  ModelRunner(model::CausalLM& model, int64_t initial_batch_size);

  model::CausalLM& model() { return model_; }

  // Calls sink(first, states) per batch, states [b, L+1, H] float32 for prompts
  // first..first+b-1. Nothing is kept after the call.
  void for_each_hidden_states(const std::vector<TokenIds>& prompts,
                              const std::function<void(size_t first, const torch::Tensor& states)>& sink);

  // [N, V] float32 on the CPU: log_softmax of the raw first-token logits.
  torch::Tensor first_token_log_probs(const std::vector<TokenIds>& prompts);

  // Greedy responses (generated ids, EOS included when produced), at most max_new_tokens each.
  // `stop(row, ids)` is called with the prompt's index in `prompts`.
  std::vector<TokenIds> generate(const std::vector<TokenIds>& prompts, int64_t max_new_tokens,
                                 const model::StopPredicate& stop = {});

  const BatchSizer& residual_batches() const { return residuals_; }
  const BatchSizer& logit_batches() const { return logits_; }
  const BatchSizer& generation_batches() const { return generation_; }

 private:
  model::CausalLM& model_;
  BatchSizer residuals_;
  BatchSizer logits_;
  BatchSizer generation_;
};

}  // namespace heretic::eval
