#include "forward_work.h"

#include <torch/utils.h>

namespace heretic::bench {

Work& Work::operator+=(const Work& other) {
  flops += other.flops;
  prefill_positions += other.prefill_positions;
  decode_positions += other.decode_positions;
  logit_rows += other.logit_rows;
  return *this;
}

double layer_matmul_params(const model::ModelInfo& info) {
  const auto H = static_cast<double>(info.hidden_size);
  const auto hd = static_cast<double>(info.head_dim);
  return 2.0 * H * static_cast<double>(info.num_heads) * hd + 2.0 * H * static_cast<double>(info.num_kv_heads) * hd +
         3.0 * H * static_cast<double>(info.intermediate_size);
}

double forward_flops(const model::ModelInfo& info, int64_t rows, int64_t positions, int64_t keys, bool logits) {
  const auto b = static_cast<double>(rows);
  const auto t = static_cast<double>(positions);
  const auto L = static_cast<double>(info.num_layers);
  const double P = layer_matmul_params(info);
  const double Pkv = 2.0 * static_cast<double>(info.hidden_size * info.num_kv_heads * info.head_dim);
  const double attention_per_query = 4.0 * static_cast<double>(keys * info.num_heads * info.head_dim);
  double flops = (L - 1.0) * (2.0 * b * t * P + b * t * attention_per_query) + 2.0 * b * t * Pkv + 2.0 * b * (P - Pkv) +
                 b * attention_per_query;
  if (logits) flops += 2.0 * b * static_cast<double>(info.hidden_size * info.vocab_size);
  return flops;
}

void WorkCounter::attach(model::AblationSlots& slots, bool logits) {
  logits_ = logits;
  const model::OutputTransform* existing = slots.get(0, model::Component::kAttnOutput);
  model::OutputTransform inner = existing != nullptr ? *existing : model::OutputTransform();
  slots.set(0, model::Component::kAttnOutput, [this, inner](const torch::Tensor& y) {
    record(y.size(0), y.size(1));  // y [b, t, H]
    return inner ? inner(y) : y;
  });
}

Work WorkCounter::take() {
  const Work work = work_;
  work_ = Work();
  return work;
}

void WorkCounter::record(int64_t rows, int64_t positions) {
  // A call over several positions is a new forward over whole prompts; a single position is a
  // decode step, which attends to one more cached key than the step before.
  keys_ = positions > 1 ? positions : keys_ + 1;
  work_.flops += forward_flops(info_, rows, positions, keys_, logits_);
  if (positions > 1) {
    work_.prefill_positions += rows * positions;
  } else {
    work_.decode_positions += rows;
  }
  if (logits_) work_.logit_rows += rows;
}

}  // namespace heretic::bench
