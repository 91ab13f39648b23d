#include "eval/model_runner.h"

#include <exception>
#include <utility>

namespace heretic::eval {
namespace {

std::vector<TokenIds> slice(const std::vector<TokenIds>& prompts, int64_t begin, int64_t end) {
  return std::vector<TokenIds>(prompts.begin() + begin, prompts.begin() + end);
}

// Thrown in place of an error from a caller's sink, so that BatchSizer never mistakes the
// caller's out-of-memory for the model's and repeats a batch whose sink may have run.
struct SinkFailed {};

}  // namespace

ModelRunner::ModelRunner(model::CausalLM& model, int64_t initial_batch_size)
    : model_(model),
      residuals_("residuals", initial_batch_size),
      logits_("logits", initial_batch_size),
      generation_("generation", initial_batch_size) {}

void ModelRunner::for_each_hidden_states(const std::vector<TokenIds>& prompts,
                                         const std::function<void(size_t first, const torch::Tensor& states)>& sink) {
  std::exception_ptr sink_error;
  try {
    residuals_.for_each_chunk(static_cast<int64_t>(prompts.size()), [&](int64_t begin, int64_t end) {
      const torch::Tensor states = model_.last_position_hidden_states(model_.make_batch(slice(prompts, begin, end)));
      try {
        sink(static_cast<size_t>(begin), states);  // [b, L+1, H] float32
      } catch (...) {
        sink_error = std::current_exception();
        throw SinkFailed{};
      }
    });
  } catch (const SinkFailed&) {
    std::rethrow_exception(sink_error);
  }
}

torch::Tensor ModelRunner::first_token_log_probs(const std::vector<TokenIds>& prompts) {
  const auto n = static_cast<int64_t>(prompts.size());
  // [N, V] float32 on the CPU, allocated once the first batch shows V (the lm_head's rows).
  torch::Tensor log_probs;
  logits_.for_each_chunk(n, [&](int64_t begin, int64_t end) {
    const torch::Tensor logits = model_.next_token_logits(model_.make_batch(slice(prompts, begin, end)));  // [b, V]
    if (!log_probs.defined()) log_probs = torch::empty({n, logits.size(1)}, torch::kFloat32);
    log_probs.slice(0, begin, end).copy_(torch::log_softmax(logits.to(torch::kFloat32), -1).to(torch::kCPU));
  });
  if (!log_probs.defined()) log_probs = torch::empty({0, model_.info().vocab_size}, torch::kFloat32);
  return log_probs;
}

std::vector<TokenIds> ModelRunner::generate(const std::vector<TokenIds>& prompts, int64_t max_new_tokens,
                                            const model::StopPredicate& stop) {
  std::vector<TokenIds> responses(prompts.size());
  generation_.for_each_chunk(static_cast<int64_t>(prompts.size()), [&](int64_t begin, int64_t end) {
    const auto first = static_cast<size_t>(begin);
    model::StopPredicate chunk_stop;
    if (stop) {
      chunk_stop = [&](size_t row, const std::vector<int64_t>& generated) { return stop(first + row, generated); };
    }
    auto generated = model_.generate_greedy(model_.make_batch(slice(prompts, begin, end)), max_new_tokens, chunk_stop);
    for (size_t i = 0; i < generated.size(); ++i) responses[first + i] = std::move(generated[i]);
  });
  return responses;
}

}  // namespace heretic::eval
