// The Llama-style decoder forward pass shared by llama, mistral, qwen2 and qwen3
// (architectures.md §1.2-1.9): embedding, pre-norm blocks with GQA attention and SwiGLU MLP,
// final norm, lm_head. Optional pieces (q/k/v biases, q/k norms, sliding windows, RoPE
// variants) come from ModelInfo; ablation transforms from AblationSlots.
#pragma once

#include <torch/torch.h>

#include <map>

#include "model/ablation_slots.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/model_info.h"
#include "model/model_weights.h"
#include "model/rope.h"

namespace heretic::model {

struct ForwardRequest {
  torch::Tensor input_ids;       // [B, T] int64, this call's tokens
  torch::Tensor attention_mask;  // [B, S] int64, 1 = real token; S = cached slots + T
  torch::Tensor position_ids;    // [B, T] int64
  KVCache* cache = nullptr;      // k/v of earlier calls (S - T slots) and where to add this call's
  // Compute the last layer (after its k/v) and the output only at the last position: all that
  // next-token logits and last-position hidden states need.
  bool last_position_only = false;
  // If set, receives [B, L+1, H] float32: the residual stream at the last position before
  // each layer and, as row L, the final-norm output (transformers' hidden_states convention).
  torch::Tensor* last_position_hidden = nullptr;
};

class Transformer {
 public:
  Transformer(ModelInfo info, ModelWeights weights);

  const ModelInfo& info() const { return info_; }
  const ModelWeights& weights() const { return weights_; }
  torch::ScalarType dtype() const { return dtype_; }

  // Final-norm output [B, T, H] (or [B, 1, H] with last_position_only) in the model dtype.
  torch::Tensor forward(const ForwardRequest& request, const AblationSlots& slots);
  // lm_head on [B, H] in the model dtype, returned as float32 [B, V].
  torch::Tensor logits(const torch::Tensor& hidden) const;

 private:
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor project(const torch::Tensor& x, const LinearWeights& linear, const OutputTransform* transform) const;
  torch::Tensor layer_forward(int64_t layer, const torch::Tensor& hidden, const torch::Tensor& cos,
                              const torch::Tensor& sin, const std::map<int64_t, AttentionMask>& masks, KVCache* cache,
                              bool last_position_only, const AblationSlots& slots) const;

  ModelInfo info_;
  ModelWeights weights_;
  torch::ScalarType dtype_;
  RotaryEmbedding rope_;
  double scaling_;
};

}  // namespace heretic::model
