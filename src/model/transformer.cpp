#include "model/transformer.h"

#include <cmath>
#include <set>

#include "model/tensor_view.h"

namespace heretic::model {

Transformer::Transformer(ModelInfo info, ModelWeights weights)
    : info_(std::move(info)),
      weights_(std::move(weights)),
      dtype_(to_torch(info_.dtype)),
      rope_(info_.rope, info_.head_dim, info_.max_position_embeddings),
      scaling_(1.0 / std::sqrt(static_cast<double>(info_.head_dim))) {}

// Norm A (§1.3): normalise in float32, cast to the model dtype, then scale in the model dtype.
torch::Tensor Transformer::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  const torch::Tensor x32 = x.to(torch::kFloat32);
  const torch::Tensor variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return weight * (x32 * torch::rsqrt(variance + info_.rms_norm_eps)).to(x.scalar_type());
}

// y = x W^T (+ b). An ablation transform acts on x W^T; the bias is added after it.
torch::Tensor Transformer::project(const torch::Tensor& x, const LinearWeights& linear,
                                   const OutputTransform* transform) const {
  if (transform == nullptr) return at::linear(x, linear.weight, linear.bias);
  torch::Tensor y = (*transform)(at::linear(x, linear.weight));
  if (linear.bias.defined()) y = y + linear.bias;
  return y;
}

torch::Tensor Transformer::layer_forward(int64_t layer, const torch::Tensor& hidden, const torch::Tensor& cos,
                                         const torch::Tensor& sin, const std::map<int64_t, AttentionMask>& masks,
                                         KVCache* cache, bool last_position_only, const AblationSlots& slots) const {
  const DecoderLayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t B = hidden.size(0), T = hidden.size(1), hd = info_.head_dim;

  // Attention. k and v cover every position (the cache and later queries need them); q and
  // everything after attention cover only the last position when that is all that is asked.
  const torch::Tensor x = rms_norm(hidden, w.input_norm);  // [B, T, H]
  const torch::Tensor x_query = last_position_only ? x.narrow(1, T - 1, 1) : x;
  const int64_t Tq = x_query.size(1);
  torch::Tensor q = at::linear(x_query, w.q_proj.weight, w.q_proj.bias).view({B, Tq, -1, hd});
  torch::Tensor k = at::linear(x, w.k_proj.weight, w.k_proj.bias).view({B, T, -1, hd});
  torch::Tensor v = at::linear(x, w.v_proj.weight, w.v_proj.bias).view({B, T, -1, hd});
  if (info_.qk_norm) {  // per head over hd, before RoPE (Qwen3)
    q = rms_norm(q, w.q_norm);
    k = rms_norm(k, w.k_norm);
  }
  q = q.transpose(1, 2);  // [B, nH, Tq, hd]
  k = k.transpose(1, 2);  // [B, nKV, T, hd]
  v = v.transpose(1, 2);  // [B, nKV, T, hd]
  const torch::Tensor cos_q = last_position_only ? cos.narrow(1, T - 1, 1) : cos;
  const torch::Tensor sin_q = last_position_only ? sin.narrow(1, T - 1, 1) : sin;
  q = RotaryEmbedding::apply(q, cos_q, sin_q);
  k = RotaryEmbedding::apply(k, cos, sin);
  if (cache != nullptr) std::tie(k, v) = cache->append(layer, k, v);  // [B, nKV, S, hd]

  const AttentionMask& mask = masks.at(info_.sliding_window[static_cast<size_t>(layer)]);
  const torch::Tensor context =
      attend(q, k, v, last_position_only ? mask.last_query() : mask, scaling_);  // [B, Tq, nH*hd]
  const torch::Tensor attn_out = project(context, w.o_proj, slots.get(layer, Component::kAttnOutput));  // [B, Tq, H]
  const torch::Tensor residual = last_position_only ? hidden.narrow(1, T - 1, 1) : hidden;
  torch::Tensor h = residual + attn_out;

  // SwiGLU MLP: down(silu(gate(x)) * up(x)), all in the model dtype.
  const torch::Tensor x2 = rms_norm(h, w.post_attention_norm);
  const torch::Tensor inner = torch::silu(at::linear(x2, w.gate_proj.weight, w.gate_proj.bias)) *
                              at::linear(x2, w.up_proj.weight, w.up_proj.bias);  // [B, Tq, I]
  h = h + project(inner, w.down_proj, slots.get(layer, Component::kMlpDown));
  return h;
}

torch::Tensor Transformer::forward(const ForwardRequest& request, const AblationSlots& slots) {
  const int64_t T = request.input_ids.size(1);
  const int64_t L = info_.num_layers;
  torch::Tensor hidden = torch::embedding(weights_.embed_tokens, request.input_ids);  // [B, T, H], exact gather

  std::map<int64_t, AttentionMask> masks;
  for (const int64_t window : std::set<int64_t>(info_.sliding_window.begin(), info_.sliding_window.end()))
    masks[window] = build_attention_mask(request.attention_mask, T, window, dtype_);
  const auto [cos, sin] = rope_.cos_sin(request.position_ids, dtype_);  // [B, T, rd] each

  std::vector<torch::Tensor> captured;  // L+1 rows of [B, H]
  for (int64_t layer = 0; layer < L; ++layer) {
    if (request.last_position_hidden != nullptr) captured.push_back(hidden.select(1, hidden.size(1) - 1));
    const bool last_only = request.last_position_only && layer == L - 1;
    hidden = layer_forward(layer, hidden, cos, sin, masks, request.cache, last_only, slots);
  }
  if (request.cache != nullptr) request.cache->advance(T);
  if (request.last_position_only) hidden = hidden.narrow(1, hidden.size(1) - 1, 1);
  const torch::Tensor normed = rms_norm(hidden, weights_.final_norm);  // [B, T or 1, H]
  if (request.last_position_hidden != nullptr) {
    captured.push_back(normed.select(1, normed.size(1) - 1));
    *request.last_position_hidden = torch::stack(captured, 1).to(torch::kFloat32);  // [B, L+1, H]
  }
  return normed;
}

torch::Tensor Transformer::logits(const torch::Tensor& hidden) const {
  return at::linear(hidden, weights_.lm_head).to(torch::kFloat32);  // [B, V]
}

}  // namespace heretic::model
