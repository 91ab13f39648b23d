#include "model/attention.h"

#include <torch/version.h>

#include <limits>

#define HERETIC_TORCH_HAS_SDPA_SCALE (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))
#define HERETIC_TORCH_SDPA_ZEROES_MASKED_ROWS \
  (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5))

namespace heretic::model {
namespace {

// transformers' repeat_kv: kv head h serves query heads h*n_rep .. h*n_rep+n_rep-1.
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const int64_t B = x.size(0), kv = x.size(1), S = x.size(2), hd = x.size(3);
  return x.unsqueeze(2).expand({B, kv, n_rep, S, hd}).reshape({B, kv * n_rep, S, hd});
}

double lowest_finite(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kBFloat16:
      return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kFloat16:
      return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    default:
      return static_cast<double>(std::numeric_limits<float>::lowest());
  }
}

}  // namespace

AttentionMask AttentionMask::last_query() const {
  AttentionMask result;
  const int64_t T = allowed.size(2);
  result.allowed = allowed.narrow(2, T - 1, 1);
  result.additive = additive.narrow(2, T - 1, 1);
  // A single query at the last slot sees every earlier slot: trivial iff there is no padding.
  result.trivial = trivial;
  return result;
}

AttentionMask build_attention_mask(const torch::Tensor& attention_mask, int64_t query_count, int64_t window,
                                   torch::ScalarType dtype) {
  const int64_t S = attention_mask.size(1);
  const int64_t past = S - query_count;
  const auto device = attention_mask.device();
  const auto long_options = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const torch::Tensor query_slots = torch::arange(past, S, long_options).view({-1, 1});  // [T, 1]
  const torch::Tensor key_slots = torch::arange(0, S, long_options).view({1, -1});       // [1, S]
  torch::Tensor allowed = key_slots <= query_slots;                                      // [T, S]
  if (window > 0) allowed = allowed.logical_and(key_slots > query_slots - window);
  const torch::Tensor real = attention_mask.to(torch::kBool).view({-1, 1, 1, S});  // [B, 1, 1, S]
  AttentionMask mask;
  mask.allowed = allowed.view({1, 1, query_count, S}).logical_and(real);  // [B, 1, T, S]
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  mask.additive = torch::where(mask.allowed, torch::zeros({}, options), torch::full({}, lowest_finite(dtype), options));
  const bool no_padding = attention_mask.to(torch::kBool).all().item<bool>();
  mask.trivial = no_padding && (query_count == 1 || S == query_count) && (window == 0 || S < window);
  return mask;
}

bool attention_uses_sdpa() { return HERETIC_TORCH_HAS_SDPA_SCALE; }

namespace {

// Eager, in transformers' order: scores in the model dtype, scaled, soft-capped, masked with a
// finite minimum, softmax in float32 cast back, weighted sum in the model dtype.
torch::Tensor eager_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                              const AttentionMask& mask, double scaling, double softcap) {
  torch::Tensor scores = torch::matmul(q, keys.transpose(2, 3)) * scaling;  // [B, nH, Tq, S]
  if (softcap > 0.0) scores = torch::tanh(scores / softcap) * softcap;
  scores = scores + mask.additive;
  const torch::Tensor probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  return torch::matmul(probs, values);
}

// gpt-oss' eager attention: scores in the model dtype, scaled and masked; each head's sink
// logit appended as a column; the row maximum subtracted; softmax in the model dtype (float32
// inside); the sink column dropped; weighted sum in the model dtype.
torch::Tensor sink_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                             const AttentionMask& mask, double scaling, const torch::Tensor& sinks) {
  torch::Tensor scores = torch::matmul(q, keys.transpose(2, 3)) * scaling + mask.additive;  // [B, nH, Tq, S]
  const torch::Tensor sink = sinks.to(scores.scalar_type()).view({1, -1, 1, 1}).expand({scores.size(0), -1, scores.size(2), 1});
  torch::Tensor combined = torch::cat({scores, sink}, -1);  // [B, nH, Tq, S + 1]
  combined = combined - std::get<0>(combined.max(-1, /*keepdim=*/true));
  const torch::Tensor probs = torch::softmax(combined, -1, combined.scalar_type()).narrow(-1, 0, scores.size(-1));
  return torch::matmul(probs, values);
}

}  // namespace

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const AttentionMask& mask,
                     double scaling, double softcap, const torch::Tensor& sinks) {
  const int64_t B = q.size(0), heads = q.size(1), Tq = q.size(2), hd = q.size(3);
  const int64_t n_rep = heads / k.size(1);
  const torch::Tensor keys = repeat_kv(k, n_rep);    // [B, nH, S, hd]
  const torch::Tensor values = repeat_kv(v, n_rep);  // [B, nH, S, hd]
  torch::Tensor out;                                 // [B, nH, Tq, hd]
  if (sinks.defined()) return sink_attention(q, keys, values, mask, scaling, sinks).transpose(1, 2).contiguous().view({B, Tq, heads * hd});
#if HERETIC_TORCH_HAS_SDPA_SCALE
  if (softcap > 0.0) {
    out = eager_attention(q, keys, values, mask, scaling, softcap);
  } else if (mask.trivial) {
    // transformers passes no mask here: causal for a full prompt, nothing for one query.
    out = at::scaled_dot_product_attention(q, keys, values, {}, 0.0, /*is_causal=*/Tq > 1, scaling);
  } else {
#if HERETIC_TORCH_SDPA_ZEROES_MASKED_ROWS
    const torch::Tensor& attn_mask = mask.allowed;  // as transformers; masked rows give zeros
#else
    const torch::Tensor& attn_mask = mask.additive;  // finite: masked rows stay finite
#endif
    out = at::scaled_dot_product_attention(q, keys, values, attn_mask, 0.0, false, scaling);
  }
#else
  out = eager_attention(q, keys, values, mask, scaling, softcap);
#endif
  return out.transpose(1, 2).contiguous().view({B, Tq, heads * hd});
}

}  // namespace heretic::model
