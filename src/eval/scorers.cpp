#include "eval/scorers.h"

#include <stdexcept>
#include <utility>

namespace heretic::eval {
namespace {

void check_range(size_t begin, size_t end, size_t size, const char* what) {
  if (begin > end || end > size) {
    throw std::out_of_range(std::string(what) + ": prompt range [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") outside [0, " + std::to_string(size) + ")");
  }
}

std::vector<TokenIds> slice(const std::vector<TokenIds>& prompts, size_t begin, size_t end) {
  return std::vector<TokenIds>(prompts.begin() + static_cast<std::ptrdiff_t>(begin),
                               prompts.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace

KeywordRateScorer::KeywordRateScorer(const hf::Tokenizer& tokenizer, std::vector<TokenIds> prompts,
                                     RefusalMatcher matcher, int64_t max_response_length)
    : tokenizer_(tokenizer),
      prompts_(std::move(prompts)),
      matcher_(std::move(matcher)),
      max_response_length_(max_response_length) {}

PartialScore KeywordRateScorer::score(ModelRunner& runner, size_t begin, size_t end, bool early_stop,
                                      std::vector<std::string>* responses) const {
  check_range(begin, end, prompts_.size(), "KeywordRate");
  model::StopPredicate stop;
  if (early_stop) {
    // Normalised text only grows as tokens are added, so once a marker is in it, it stays in
    // the full response too: the row can stop without changing the count.
    stop = [&](size_t, const std::vector<int64_t>& generated) {
      return matcher_.contains_marker(decode_response(tokenizer_, generated, true));
    };
  }
  const std::vector<TokenIds> generated = runner.generate(slice(prompts_, begin, end), max_response_length_, stop);
  PartialScore score;
  score.count = static_cast<int64_t>(generated.size());
  if (responses != nullptr) responses->clear();
  for (const TokenIds& ids : generated) {
    std::string response = decode_response(tokenizer_, ids, true);
    if (matcher_.is_refusal(response)) score.sum += 1.0;
    if (responses != nullptr) responses->push_back(std::move(response));
  }
  return score;
}

KlDivergenceScorer::KlDivergenceScorer(std::vector<TokenIds> prompts)
    : prompts_(std::move(prompts)), have_baseline_(prompts_.size(), false) {}

void KlDivergenceScorer::compute_baseline(ModelRunner& runner, size_t begin, size_t end) {
  check_range(begin, end, prompts_.size(), "KL divergence baseline");
  if (begin == end) return;
  set_baseline(begin, runner.first_token_log_probs(slice(prompts_, begin, end)));
}

void KlDivergenceScorer::set_baseline(size_t begin, const torch::Tensor& log_probs) {
  if (log_probs.dim() != 2)
    throw std::invalid_argument("KL divergence baseline: log-probabilities must be [rows, vocab]");
  const auto rows = static_cast<size_t>(log_probs.size(0));
  check_range(begin, begin + rows, prompts_.size(), "KL divergence baseline");
  if (!baseline_.defined()) {
    baseline_ = torch::empty({static_cast<int64_t>(prompts_.size()), log_probs.size(1)}, torch::kFloat32);  // [N, V]
  } else if (baseline_.size(1) != log_probs.size(1)) {
    throw std::invalid_argument("KL divergence baseline: vocabulary size " + std::to_string(log_probs.size(1)) +
                                " differs from the earlier " + std::to_string(baseline_.size(1)));
  }
  baseline_.slice(0, static_cast<int64_t>(begin), static_cast<int64_t>(begin + rows))
      .copy_(log_probs.to(torch::kCPU, torch::kFloat32));
  for (size_t i = begin; i < begin + rows; ++i) have_baseline_[i] = true;
}

PartialScore KlDivergenceScorer::score(ModelRunner& runner, size_t begin, size_t end) const {
  check_range(begin, end, prompts_.size(), "KL divergence");
  for (size_t i = begin; i < end; ++i) {
    if (!have_baseline_[i]) {
      throw std::logic_error("KL divergence: no baseline for prompt " + std::to_string(i) +
                             " (compute_baseline or set_baseline first)");
    }
  }
  PartialScore score;
  score.count = static_cast<int64_t>(end - begin);
  if (begin == end) return score;
  const torch::Tensor current = runner.first_token_log_probs(slice(prompts_, begin, end));                // Q [b, V]
  const torch::Tensor base = baseline_.slice(0, static_cast<int64_t>(begin), static_cast<int64_t>(end));  // P [b, V]
  if (current.size(1) != base.size(1)) {
    throw std::invalid_argument("KL divergence: the model's vocabulary size " + std::to_string(current.size(1)) +
                                " differs from the baseline's " + std::to_string(base.size(1)));
  }
  // Heretic's F.kl_div(Q, P, log_target=True): sum_v exp(P) (P - Q) per prompt, in float32
  // element-wise; the sum is taken in float64 so that shards add up exactly enough.
  score.sum = (base.exp() * (base - current)).sum(torch::kFloat64).item<double>();
  return score;
}

}  // namespace heretic::eval
