// KLDivergence (spec/heretic-behavior.md §2.4): the mean over prompts of KL(base || ablated)
// of the first-token distributions over the full vocabulary, against the unablated model's
// log-probabilities captured once per run.
#include <stdexcept>

#include "eval/scorer.h"

namespace heretic::eval {
namespace {

class KlDivergenceScorer final : public Scorer {
 public:
  void capture_baseline(ScorerPrompts& prompts, size_t begin, size_t end) override {
    baseline_begin_ = begin;
    baseline_ = begin < end ? prompts.first_token_log_probs(begin, end) : nullptr;
  }

  void adopt_baseline(const Scorer& other) override {
    const auto* kl = dynamic_cast<const KlDivergenceScorer*>(&other);
    if (kl == nullptr) throw std::logic_error("KLDivergence: cannot adopt the baseline of another kind of scorer");
    baseline_ = kl->baseline_;
    baseline_begin_ = kl->baseline_begin_;
  }

  PartialScore score(ScorerPrompts& prompts, size_t begin, size_t end) override {
    PartialScore part;
    part.count = static_cast<int64_t>(end - begin);
    if (begin == end) return part;
    if (!baseline_ || begin < baseline_begin_ || end > baseline_begin_ + baseline_->rows()) {
      throw std::logic_error("KLDivergence: no baseline for prompts [" + std::to_string(begin) + ", " +
                             std::to_string(end) + ") (capture_baseline first, on the same shard)");
    }
    part.sum = prompts.kl_divergence_sum(*baseline_, baseline_begin_, begin, end);
    return part;
  }

 private:
  std::shared_ptr<const LogProbRows> baseline_;
  size_t baseline_begin_ = 0;
};

}  // namespace

const ScorerPlugin& kl_divergence_plugin() {
  static const ScorerPlugin plugin{
      "KLDivergence",
      "heretic.scorers.kl_divergence.KLDivergence",
      "KL divergence",
      "mean KL divergence of the first-token distributions from the unablated model's",
      data::DatasetSpec{"mlabonne/harmless_alpaca", std::nullopt, "test[:100]", "text", "", "", std::nullopt},
      {},
      "kl",
      [](const ScorerInit&) { return std::make_unique<KlDivergenceScorer>(); },
  };
  return plugin;
}

}  // namespace heretic::eval
