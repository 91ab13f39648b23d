#include "eval/model_scorer_prompts.h"

#include <algorithm>
#include <stdexcept>

namespace heretic::eval {
namespace {

// [rows, V] float32 log-probabilities on the CPU.
class TensorLogProbRows final : public LogProbRows {
 public:
  explicit TensorLogProbRows(torch::Tensor values) : values(std::move(values)) {}
  size_t rows() const override { return static_cast<size_t>(values.size(0)); }
  torch::Tensor values;
};

void check_range(size_t begin, size_t end, size_t size) {
  if (begin > end || end > size) {
    throw std::out_of_range("prompt range [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside [0, " +
                            std::to_string(size) + ")");
  }
}

}  // namespace

ModelScorerPrompts::ModelScorerPrompts(ModelRunner& runner, const hf::Tokenizer& tokenizer,
                                       std::vector<data::Prompt> prompts, std::vector<TokenIds> ids)
    : runner_(&runner), tokenizer_(tokenizer), prompts_(std::move(prompts)), ids_(std::move(ids)) {
  if (prompts_.size() != ids_.size()) throw std::invalid_argument("ModelScorerPrompts: one encoding per prompt");
}

std::string ModelScorerPrompts::prompt(size_t index) const { return prompts_.at(index).user; }

std::vector<TokenIds> ModelScorerPrompts::slice(size_t begin, size_t end) const {
  check_range(begin, end, ids_.size());
  return std::vector<TokenIds>(ids_.begin() + static_cast<std::ptrdiff_t>(begin),
                               ids_.begin() + static_cast<std::ptrdiff_t>(end));
}

std::vector<Response> ModelScorerPrompts::responses(size_t begin, size_t end, int64_t max_tokens,
                                                    const std::function<bool(const std::string& text)>& stop) {
  const std::vector<TokenIds> prompts = slice(begin, end);
  std::vector<Response> responses;
  if (prompts.empty()) return responses;
  model::StopPredicate row_stop;
  if (stop) {
    row_stop = [&](size_t, const std::vector<int64_t>& generated) {
      return stop(decode_response(tokenizer_, generated, true));
    };
  }
  const auto& eos = runner_->model().info().generation.eos_token_ids;
  for (TokenIds& ids : runner_->generate(prompts, max_tokens, row_stop)) {
    Response response;
    response.text = decode_response(tokenizer_, ids, true);
    const bool ended = !ids.empty() && std::find(eos.begin(), eos.end(), ids.back()) != eos.end();
    response.tokens = static_cast<int64_t>(ids.size()) - (ended ? 1 : 0);
    responses.push_back(std::move(response));
  }
  return responses;
}

std::shared_ptr<const LogProbRows> ModelScorerPrompts::first_token_log_probs(size_t begin, size_t end) {
  return std::make_shared<TensorLogProbRows>(runner_->first_token_log_probs(slice(begin, end)));
}

double ModelScorerPrompts::kl_divergence_sum(const LogProbRows& baseline, size_t baseline_begin, size_t begin,
                                             size_t end) {
  const auto* rows = dynamic_cast<const TensorLogProbRows*>(&baseline);
  if (rows == nullptr) throw std::logic_error("KL divergence: a baseline of another implementation");
  if (begin < baseline_begin || end > baseline_begin + rows->rows()) {
    throw std::logic_error("KL divergence: the baseline does not cover prompts [" + std::to_string(begin) + ", " +
                           std::to_string(end) + ")");
  }
  if (begin == end) return 0.0;
  const torch::Tensor current = runner_->first_token_log_probs(slice(begin, end));  // Q [b, V]
  const torch::Tensor base = rows->values.slice(0, static_cast<int64_t>(begin - baseline_begin),
                                                static_cast<int64_t>(end - baseline_begin));  // P [b, V]
  if (current.size(1) != base.size(1)) {
    throw std::invalid_argument("KL divergence: the model's vocabulary size " + std::to_string(current.size(1)) +
                                " differs from the baseline's " + std::to_string(base.size(1)));
  }
  return (base.exp() * (base - current)).sum(torch::kFloat64).item<double>();
}

}  // namespace heretic::eval
