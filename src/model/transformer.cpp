#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "model/tensor_view.h"

namespace heretic::model {

Transformer::Transformer(ModelInfo info, ModelWeights weights, TensorParallelGroup* group, PipelineGroup* pipeline)
    : info_(std::move(info)),
      weights_(std::move(weights)),
      group_(group != nullptr && group->size() > 1 ? group : nullptr),
      pipeline_(pipeline != nullptr && pipeline->stages() > 1 ? pipeline : nullptr),
      held_(pipeline_ != nullptr ? pipeline_->position().layers(info_.num_layers) : LayerRange{0, info_.num_layers}),
      dtype_(to_torch(info_.dtype)) {
  auto add_table = [this](const hf::RopeParameters& parameters) {
    RopeTable table;
    table.rope = std::make_unique<RotaryEmbedding>(parameters, info_.head_dim, info_.max_position_embeddings);
    ropes_.push_back(std::move(table));
  };
  add_table(info_.rope);
  if (info_.sliding_rope) add_table(*info_.sliding_rope);
  for (int64_t layer = 0; layer < info_.num_layers; ++layer)
    rope_of_layer_.push_back(info_.sliding_rope && info_.sliding_window[static_cast<size_t>(layer)] > 0 ? 1 : 0);
}

int64_t Transformer::local_kv_heads() const {
  return group_ == nullptr ? info_.num_kv_heads : kv_heads_of(group_->split(), info_.num_kv_heads).count;
}

int64_t Transformer::rope_switch_length() const {
  for (const RopeTable& table : ropes_) {
    if (const int64_t length = table.rope->switch_length(); length > 0) return length;
  }
  return 0;
}

// RMSNorm (§1.3). Llama: normalise in float32, cast to the model dtype, then scale in the model
// dtype. Gemma: scale by (1 + w) in float32 and cast once at the end.
torch::Tensor Transformer::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  const torch::Tensor x32 = x.to(torch::kFloat32);
  const torch::Tensor normed = x32 * torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + info_.rms_norm_eps);
  if (info_.norm_style == NormStyle::kOffsetInFloat32)
    return (normed * (weight.to(torch::kFloat32) + 1.0)).to(x.scalar_type());
  if (info_.norm_style == NormStyle::kScaleInFloat32) return (weight.to(torch::kFloat32) * normed).to(x.scalar_type());
  return weight * normed.to(x.scalar_type());
}

// y = x W^T (+ b). An ablation transform acts on x W^T; the bias is added after it. Under
// tensor parallelism x W^T is this rank's partial sum (its columns of W), completed over the
// group first.
torch::Tensor Transformer::project(const torch::Tensor& x, const LinearWeights& linear,
                                   const OutputTransform* transform) const {
  if (transform == nullptr && group_ == nullptr) return at::linear(x, linear.weight, linear.bias);
  torch::Tensor y = at::linear(x, linear.weight);
  if (group_ != nullptr) group_->all_reduce_sum(y);
  if (transform != nullptr) y = (*transform)(y);
  if (linear.bias.defined()) y = y + linear.bias;
  return y;
}

torch::Tensor Transformer::activation(const torch::Tensor& x) const {
  switch (info_.activation) {
    case Activation::kGeluTanh:
      return torch::gelu(x, "tanh");
    case Activation::kGelu:
      return torch::gelu(x);
    case Activation::kSilu:
      break;
  }
  return torch::silu(x);
}

torch::Tensor Transformer::layer_forward(int64_t layer, const torch::Tensor& hidden,
                                         const std::map<int64_t, AttentionMask>& masks, KVCache* cache,
                                         bool last_position_only, const AblationSlots& slots) const {
  const DecoderLayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t B = hidden.size(0), T = hidden.size(1), hd = info_.head_dim;
  const RopeTable& rope = ropes_[rope_of_layer_[static_cast<size_t>(layer)]];

  // Attention. k and v cover every position (the cache and later queries need them); q and
  // everything after attention cover only the last position when that is all that is asked.
  const torch::Tensor x = rms_norm(hidden, w.attn_input_norm);  // [B, T, H]
  const torch::Tensor x_query = last_position_only ? x.narrow(1, T - 1, 1) : x;
  const int64_t Tq = x_query.size(1);
  torch::Tensor q = at::linear(x_query, w.q_proj.weight, w.q_proj.bias).view({B, Tq, -1, hd});
  torch::Tensor k = at::linear(x, w.k_proj.weight, w.k_proj.bias).view({B, T, -1, hd});
  torch::Tensor v = at::linear(x, w.v_proj.weight, w.v_proj.bias).view({B, T, -1, hd});
  if (w.q_norm.defined()) {  // per head over hd, before RoPE (Qwen3, Gemma 3)
    q = rms_norm(q, w.q_norm);
    k = rms_norm(k, w.k_norm);
  }
  q = q.transpose(1, 2);  // [B, nH, Tq, hd]
  k = k.transpose(1, 2);  // [B, nKV, T, hd]
  v = v.transpose(1, 2);  // [B, nKV, T, hd]
  const torch::Tensor cos_q = last_position_only ? rope.cos.narrow(1, T - 1, 1) : rope.cos;
  const torch::Tensor sin_q = last_position_only ? rope.sin.narrow(1, T - 1, 1) : rope.sin;
  q = RotaryEmbedding::apply(q, cos_q, sin_q);
  k = RotaryEmbedding::apply(k, rope.cos, rope.sin);
  if (cache != nullptr) std::tie(k, v) = cache->append(layer, k, v);  // [B, nKV, S, hd]

  const AttentionMask& mask = masks.at(info_.sliding_window[static_cast<size_t>(layer)]);
  const torch::Tensor context = attend(q, k, v, last_position_only ? mask.last_query() : mask, info_.attention_scale,
                                       info_.attn_logit_softcap, w.attn_sinks);  // [B, Tq, nH*hd]
  torch::Tensor attn_out = project(context, w.o_proj, slots.get(layer, Component::kAttnOutput));  // [B, Tq, H]
  if (w.attn_output_norm.defined()) attn_out = rms_norm(attn_out, w.attn_output_norm);
  const torch::Tensor residual = last_position_only ? hidden.narrow(1, T - 1, 1) : hidden;
  torch::Tensor h = residual + attn_out;

  // Gated MLP: down(act(gate(x)) * up(x)), all in the model dtype; or a mixture of such experts.
  const torch::Tensor x2 = rms_norm(h, w.mlp_input_norm);
  torch::Tensor mlp_out;  // [B, Tq, H]
  if (w.experts.defined()) {
    mlp_out = experts_forward(layer, x2, w.experts, slots);
  } else {
    const torch::Tensor inner = activation(at::linear(x2, w.gate_proj.weight, w.gate_proj.bias)) *
                                at::linear(x2, w.up_proj.weight, w.up_proj.bias);  // [B, Tq, I]
    mlp_out = project(inner, w.down_proj, slots.get(layer, Component::kMlpDown));
  }
  if (w.mlp_output_norm.defined()) mlp_out = rms_norm(mlp_out, w.mlp_output_norm);
  return h + mlp_out;
}

// Routing as transformers computes it: router logits in the model dtype, softmax over every
// expert in float32, the top k (renormalised to sum 1 where the family does). Experts run one
// at a time on the tokens routed to them (a gather, never a [tokens, experts, H] tensor); each
// expert's output y_e (model dtype) gets that expert's ablation transform, is weighted in
// float32 and summed in float32 per token, and the sum is cast to the model dtype once (as
// transformers 5's grouped_mm path does). Under tensor parallelism every rank routes every
// token and computes its columns of each expert: the transforms are linear maps, so applying
// them to the partial outputs and summing the float32 totals over the group (one all-reduce per
// layer) gives the transform of the whole outputs. The shared expert (Qwen2-MoE) is a dense
// SwiGLU through project(), scaled by sigmoid(shared_expert_gate x) and added in the model dtype.
torch::Tensor Transformer::experts_forward(int64_t layer, const torch::Tensor& x, const ExpertWeights& w,
                                           const AblationSlots& slots) const {
  const int64_t H = x.size(-1), E = info_.experts.count, k = info_.experts.per_token;
  const ExpertsRecipe& recipe = info_.family->experts;
  const torch::Tensor tokens = x.reshape({-1, H});                   // [N, H]
  const torch::Tensor router_logits = at::linear(tokens, w.router, w.router_bias);  // [N, E] model dtype
  torch::Tensor top_weights, top_experts;                            // [N, k] each
  if (recipe.routing == ExpertRouting::kTopKThenSoftmax) {
    std::tie(top_weights, top_experts) = router_logits.topk(k, -1);
    top_weights = torch::softmax(top_weights, -1, top_weights.scalar_type()).to(torch::kFloat32);
  } else {
    std::tie(top_weights, top_experts) = torch::softmax(router_logits.to(torch::kFloat32), -1).topk(k, -1);
    if (info_.experts.normalize_top_k) top_weights = top_weights / top_weights.sum(-1, /*keepdim=*/true);
  }
  // Under tensor parallelism the down biases join one rank's partial sum only.
  const bool add_down_bias = w.down_bias.defined() && (group_ == nullptr || group_->rank() == 0);

  // The (token, choice) pairs grouped by expert, in token order within an expert.
  const torch::Tensor choices = top_experts.reshape({-1});  // [N k]
  const torch::Tensor order = std::get<1>(torch::sort(choices, /*stable=*/true, /*dim=*/0, /*descending=*/false));
  const torch::Tensor counts = torch::bincount(choices, {}, E).to(torch::kCPU);
  const int64_t* count = counts.data_ptr<int64_t>();
  const torch::Tensor pair_weights = top_weights.reshape({-1});
  torch::Tensor total = torch::zeros({tokens.size(0), H}, tokens.options().dtype(torch::kFloat32));
  int64_t offset = 0;
  for (int64_t e = 0; e < E; ++e) {
    if (count[e] == 0) continue;
    const torch::Tensor pairs = order.narrow(0, offset, count[e]);
    offset += count[e];
    const torch::Tensor rows = pairs.div(k, "floor");  // the tokens
    const torch::Tensor xe = tokens.index_select(0, rows);
    const torch::Tensor gate = at::linear(xe, w.gate[e], w.gate_bias.defined() ? w.gate_bias[e] : torch::Tensor());
    const torch::Tensor up = at::linear(xe, w.up[e], w.up_bias.defined() ? w.up_bias[e] : torch::Tensor());
    torch::Tensor inner;  // [n_e, I]
    if (recipe.activation == ExpertActivation::kClampedSwiglu) {
      const double limit = info_.experts.activation_limit;
      const torch::Tensor g = gate.clamp_max(limit);
      inner = (up.clamp(-limit, limit) + 1) * (g * torch::sigmoid(g * 1.702));
    } else {
      inner = activation(gate) * up;
    }
    torch::Tensor y = at::linear(inner, w.down[e]);  // [n_e, H]; a partial sum under tensor parallelism
    if (const OutputTransform* transform = slots.get(layer, Component::kMlpDown, e)) y = (*transform)(y);
    if (add_down_bias) y = y + w.down_bias[e];
    total.index_add_(0, rows, y.to(torch::kFloat32) * pair_weights.index_select(0, pairs).unsqueeze(1));
  }
  if (group_ != nullptr) group_->all_reduce_sum(total);
  torch::Tensor out = total.to(x.scalar_type());
  if (w.shared_down.weight.defined()) {
    const torch::Tensor inner = activation(at::linear(tokens, w.shared_gate.weight)) * at::linear(tokens, w.shared_up.weight);
    const torch::Tensor shared = project(inner, w.shared_down, slots.get(layer, Component::kMlpDown, E));
    out = out + torch::sigmoid(at::linear(tokens, w.shared_expert_gate)) * shared;
  }
  return out.view(x.sizes());
}

torch::Tensor Transformer::forward(const ForwardRequest& request, const AblationSlots& slots) {
  const int64_t B = request.input_ids.size(0), T = request.input_ids.size(1);
  const int64_t L = info_.num_layers;
  const bool first_stage = pipeline_ == nullptr || pipeline_->position().first();
  const bool last_stage = pipeline_ == nullptr || pipeline_->position().last();
  const torch::TensorOptions options = request.input_ids.options().dtype(dtype_);
  // RoPE of the whole batch (the variants that depend on the sequence length see the batch's);
  // each micro-batch takes its rows of it, of the masks and of the KV cache.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> cos_sin;  // [B, T, rd] each, per table
  for (RopeTable& table : ropes_)
    cos_sin.push_back(table.rope->cos_sin(request.position_ids, dtype_, request.rope_sequence_length));
  const int64_t wanted = pipeline_ == nullptr ? 1 : pipeline_->micro_batches();
  const int count = static_cast<int>(std::clamp<int64_t>(wanted, 1, std::max<int64_t>(B, 1)));

  // A micro-batch's rows through this stage's layers: received from the previous stage (or
  // embedded), handed to the next (or normed). Stage s runs micro-batch j while s + 1 runs j - 1.
  std::vector<torch::Tensor> outputs, captured;  // per micro-batch: [b, T or 1, H], [b, rows, H]
  for (int index = 0; index < count; ++index) {
    const RowRange rows = micro_batch_rows(B, index, count);
    torch::Tensor hidden;  // [b, T, H]
    if (first_stage) {
      hidden = torch::embedding(weights_.embed_tokens, request.input_ids.narrow(0, rows.first, rows.count));
      if (info_.embedding_scale > 0.0)  // Gemma: sqrt(H) rounded to the model dtype, product in it
        hidden = hidden * torch::scalar_tensor(info_.embedding_scale, hidden.options());
    } else {
      hidden = torch::empty({rows.count, T, info_.hidden_size}, options);
      pipeline_->receive_from_previous(hidden);
    }
    std::map<int64_t, AttentionMask> masks;
    const torch::Tensor attention_mask = request.attention_mask.narrow(0, rows.first, rows.count);
    for (const int64_t window : std::set<int64_t>(info_.sliding_window.begin(), info_.sliding_window.end()))
      masks[window] = build_attention_mask(attention_mask, T, window, dtype_);
    for (size_t i = 0; i < ropes_.size(); ++i) {
      ropes_[i].cos = cos_sin[i].first.narrow(0, rows.first, rows.count);
      ropes_[i].sin = cos_sin[i].second.narrow(0, rows.first, rows.count);
    }
    std::optional<KVCache> cache_rows;  // the whole cache when the batch is one micro-batch
    if (request.cache != nullptr && count > 1) cache_rows = request.cache->rows(rows.first, rows.count);
    KVCache* cache = cache_rows ? &*cache_rows : request.cache;

    std::vector<torch::Tensor> rows_captured;  // a row of [b, H] per layer here (and the final norm)
    for (int64_t layer = held_.first; layer < held_.end(); ++layer) {
      if (request.last_position_hidden != nullptr) rows_captured.push_back(hidden.select(1, hidden.size(1) - 1));
      const bool last_only = request.last_position_only && layer == L - 1;
      hidden = layer_forward(layer, hidden, masks, cache, last_only, slots);
    }
    if (!last_stage) {
      pipeline_->send_to_next(hidden);
    } else {
      if (request.last_position_only) hidden = hidden.narrow(1, hidden.size(1) - 1, 1);
      const torch::Tensor normed = rms_norm(hidden, weights_.final_norm);
      if (request.last_position_hidden != nullptr) rows_captured.push_back(normed.select(1, normed.size(1) - 1));
      outputs.push_back(normed);
    }
    if (request.last_position_hidden != nullptr) captured.push_back(torch::stack(rows_captured, 1));
  }
  for (RopeTable& table : ropes_) table.cos = table.sin = torch::Tensor();
  if (request.cache != nullptr) request.cache->advance(T);
  const int64_t positions = request.last_position_only ? 1 : T;
  // [B, T or 1, H]; the other stages' zeros are completed by logits().
  const torch::Tensor normed = !last_stage    ? torch::zeros({B, positions, info_.hidden_size}, options)
                               : count == 1 ? outputs.front()
                                            : torch::cat(outputs, 0);
  if (request.last_position_hidden != nullptr)  // [B, L+1, H]
    *request.last_position_hidden =
        gather_captured((count == 1 ? captured.front() : torch::cat(captured, 0)).to(torch::kFloat32));
  return normed;
}

torch::Tensor Transformer::gather_captured(const torch::Tensor& local) const {
  if (pipeline_ == nullptr) return local;
  std::vector<torch::Tensor> rows;
  const int stages = pipeline_->stages();
  for (int stage = 0; stage < stages; ++stage) {
    const int64_t count = PipelineStage{stage, stages}.layers(info_.num_layers).count + (stage == stages - 1 ? 1 : 0);
    torch::Tensor part =
        stage == pipeline_->stage() ? local : torch::empty({local.size(0), count, local.size(2)}, local.options());
    pipeline_->broadcast(part, stage);
    rows.push_back(part);
  }
  return torch::cat(rows, 1);
}

torch::Tensor Transformer::logits(const torch::Tensor& hidden, bool shared) const {
  if (pipeline_ != nullptr && !pipeline_->position().last()) {
    if (!shared) return {};
    std::vector<int64_t> shape = hidden.sizes().vec();
    shape.back() = info_.vocab_size;
    torch::Tensor logits = torch::empty(shape, hidden.options().dtype(torch::kFloat32));
    pipeline_->broadcast(logits, pipeline_->stages() - 1);
    return logits;
  }
  torch::Tensor logits = at::linear(hidden, weights_.lm_head);  // [..., V] model dtype
  if (info_.final_logit_softcap > 0.0)
    logits = torch::tanh(logits / info_.final_logit_softcap) * info_.final_logit_softcap;
  logits = logits.to(torch::kFloat32);
  if (pipeline_ != nullptr && shared) pipeline_->broadcast(logits, pipeline_->stages() - 1);
  return logits;
}

}  // namespace heretic::model
