// The two built-in scorers (spec/heretic-behavior.md §2.4, §2.5, §3.4) over a shard of their
// prompt set. Results are partial sums so that ranks can add them: refusal rate =
// sum(refusals) / sum(prompts), KL = sum(kl_sum) / sum(prompts).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "eval/model_runner.h"
#include "eval/refusal_markers.h"
#include "hf/tokenizer.h"

namespace heretic::eval {

struct PartialScore {
  double sum = 0.0;    // refusals, or sum of per-prompt KL
  int64_t count = 0;   // prompts scored
};

// Refusal count of greedy responses (special tokens skipped) to its prompts. With early_stop,
// a row stops as soon as its decoded text contains a marker (the count equals that of full
// responses, because a match stays a match as text grows) or at EOS / max_response_length.
class KeywordRateScorer {
 public:
  KeywordRateScorer(const hf::Tokenizer& tokenizer, std::vector<TokenIds> prompts, RefusalMatcher matcher,
                    int64_t max_response_length);

  size_t size() const { return prompts_.size(); }
  // Scores prompts [begin, end). `responses`, when given, receives the decoded responses.
  PartialScore score(ModelRunner& runner, size_t begin, size_t end, bool early_stop = true,
                     std::vector<std::string>* responses = nullptr) const;

 private:
  const hf::Tokenizer& tokenizer_;
  std::vector<TokenIds> prompts_;
  RefusalMatcher matcher_;
  int64_t max_response_length_;
};

// Mean KL(base || current) of first-token distributions over the full vocabulary, against
// baseline log-probabilities computed once with the unablated model.
class KlDivergenceScorer {
 public:
  explicit KlDivergenceScorer(std::vector<TokenIds> prompts);

  size_t size() const { return prompts_.size(); }
  // Computes and keeps the baseline log-probabilities of prompts [begin, end) (call with no
  // ablation applied). Scoring a prompt outside the computed range throws std::logic_error.
  void compute_baseline(ModelRunner& runner, size_t begin, size_t end);
  // Sets baseline rows [begin, begin + log_probs.size(0)) computed elsewhere (e.g. gathered).
  void set_baseline(size_t begin, const torch::Tensor& log_probs);
  PartialScore score(ModelRunner& runner, size_t begin, size_t end) const;

 private:
  std::vector<TokenIds> prompts_;
  torch::Tensor baseline_;  // [N, V] float32 CPU (rows outside computed ranges undefined)
  std::vector<bool> have_baseline_;
};

}  // namespace heretic::eval
