// A scorer's prompt set on a model (eval/scorer.h's ScorerPrompts over the model runner):
// greedy responses with early stopping, and first-token log-probabilities and KL divergence
// in torch. The KL arithmetic is Heretic's F.kl_div(Q, P, log_target=True) per prompt:
// sum_v exp(P) (P - Q) in float32 element-wise, summed in float64 so that shards add up
// exactly enough.
#pragma once

#include <torch/utils.h>

#include <vector>

#include "data/load_prompts.h"
#include "eval/model_runner.h"
#include "eval/prompt_encoding.h"
#include "eval/scorer.h"
#include "hf/tokenizer.h"

namespace heretic::eval {

class ModelScorerPrompts final : public ScorerPrompts {
 public:
  // `ids` are `prompts` encoded with the response prefix.
  ModelScorerPrompts(ModelRunner& runner, const hf::Tokenizer& tokenizer, std::vector<data::Prompt> prompts,
                     std::vector<TokenIds> ids);

  size_t size() const override { return ids_.size(); }
  std::string prompt(size_t index) const override;
  std::vector<Response> responses(size_t begin, size_t end, int64_t max_tokens,
                                  const std::function<bool(const std::string& text)>& stop) override;
  std::shared_ptr<const LogProbRows> first_token_log_probs(size_t begin, size_t end) override;
  double kl_divergence_sum(const LogProbRows& baseline, size_t baseline_begin, size_t begin, size_t end) override;

  // The runner to use from now on (the same prompts scored on another model).
  void set_runner(ModelRunner& runner) { runner_ = &runner; }

 private:
  std::vector<TokenIds> slice(size_t begin, size_t end) const;

  ModelRunner* runner_;
  const hf::Tokenizer& tokenizer_;
  std::vector<data::Prompt> prompts_;
  std::vector<TokenIds> ids_;
};

}  // namespace heretic::eval
