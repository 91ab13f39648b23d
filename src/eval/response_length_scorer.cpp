// ResponseLength: the mean number of tokens of the greedy responses (up to
// max_response_length, the end-of-sequence token not counted). Abliteration that damages a
// model shows as answers that get shorter (or run to the limit) on harmless prompts, which
// KL divergence on the first token alone does not see. Typically reported only
// (optimization = "none"), or maximised on harmless prompts.
#include <cstdio>

#include "eval/scorer.h"

namespace heretic::eval {
namespace {

class ResponseLengthScorer final : public Scorer {
 public:
  explicit ResponseLengthScorer(const ScorerInit& init) : max_response_length_(init.max_response_length) {}

  PartialScore score(ScorerPrompts& prompts, size_t begin, size_t end) override {
    PartialScore part;
    for (const Response& response : prompts.responses(begin, end, max_response_length_, {})) {
      part.sum += static_cast<double>(response.tokens);
      ++part.count;
    }
    return part;
  }

  std::string format(const PartialScore& part) const override { return format_mean(part, 1) + " tokens"; }

 private:
  int64_t max_response_length_;
};

}  // namespace

const ScorerPlugin& response_length_plugin() {
  static const ScorerPlugin plugin{
      "ResponseLength",
      "",
      "Response length",
      "mean number of tokens of the greedy responses (up to max_response_length)",
      data::DatasetSpec{"mlabonne/harmless_alpaca", std::nullopt, "test[:100]", "text", "", "", std::nullopt},
      {},
      "",
      [](const ScorerInit& init) { return std::make_unique<ResponseLengthScorer>(init); },
  };
  return plugin;
}

}  // namespace heretic::eval
