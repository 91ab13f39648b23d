// The decoder forward pass, one generic block driven by the family's recipe (architectures.md
// §1.2-1.9, §3): embedding (optionally scaled), blocks of attention and gated MLP with pre-norms
// and optional output ("sandwich") norms, q/k norms, biases, GQA, sliding windows with their own
// RoPE, soft-capped attention and final logits; final norm and lm_head. What varies comes from
// ModelInfo and which weights the checkpoint provides; ablation transforms from AblationSlots.
#pragma once

#include <torch/utils.h>

#include <map>
#include <memory>

#include "model/ablation_slots.h"
#include "model/attention.h"
#include "model/kv_cache.h"
#include "model/model_info.h"
#include "model/model_weights.h"
#include "model/pipeline_group.h"
#include "model/rope.h"
#include "model/tensor_parallel_group.h"

namespace heretic::model {

struct ForwardRequest {
  torch::Tensor input_ids;       // [B, T] int64, this call's tokens
  torch::Tensor attention_mask;  // [B, S] int64, 1 = real token; S = cached slots + T
  torch::Tensor position_ids;    // [B, T] int64
  KVCache* cache = nullptr;      // k/v of earlier calls (S - T slots) and where to add this call's
  // Compute the last layer (after its k/v) and the output only at the last position: all that
  // next-token logits and last-position hidden states need.
  bool last_position_only = false;
  // The sequence length RoPE variants that depend on it (dynamic, longrope) see; 0 derives it
  // from position_ids as transformers does (max + 1 over the batch). Generation passes the
  // length over every row of its original batch, finished rows included.
  int64_t rope_sequence_length = 0;
  // If set, receives [B, L+1, H] float32: the residual stream at the last position before
  // each layer and, as row L, the final-norm output (transformers' hidden_states convention).
  torch::Tensor* last_position_hidden = nullptr;
};

class Transformer {
 public:
  // `weights` hold `group`'s rank's slices when `group` is set (tensor_parallel.h), and only
  // the layers of `pipeline`'s stage when that is set (pipeline_stages.h); the groups must
  // outlive the transformer. Without groups the weights are the whole model.
  Transformer(ModelInfo info, ModelWeights weights, TensorParallelGroup* group = nullptr,
              PipelineGroup* pipeline = nullptr);

  const ModelInfo& info() const { return info_; }
  const ModelWeights& weights() const { return weights_; }
  torch::ScalarType dtype() const { return dtype_; }
  // The tensor-parallel group this model copy is split over, or nullptr (one rank).
  TensorParallelGroup* tensor_group() const { return group_; }
  // The pipeline this model copy's layers are split over, or nullptr (every layer here).
  PipelineGroup* pipeline_group() const { return pipeline_; }
  // The layers this rank computes and caches (all of them without a pipeline).
  const LayerRange& held_layers() const { return held_; }
  // KV heads this rank computes and caches (all of them without a group).
  int64_t local_kv_heads() const;

  // Final-norm output [B, T, H] (or [B, 1, H] with last_position_only) in the model dtype.
  // Under a pipeline every stage calls it with the same request: each runs its layers between
  // receiving from the previous stage and sending to the next; only the last stage computes
  // the final norm, the others return zeros of its shape, which logits() completes.
  // last_position_hidden is filled on every stage (each stage's rows shared with the others).
  torch::Tensor forward(const ForwardRequest& request, const AblationSlots& slots);
  // lm_head on [..., H] in the model dtype (soft-capped where the family does), returned as
  // float32 [..., V]. Under a pipeline the last stage computes it and every stage returns it,
  // or, with `shared` false, the last stage alone (the others get an undefined tensor).
  torch::Tensor logits(const torch::Tensor& hidden, bool shared = true) const;

  // The RoPE table whose inverse frequencies change with the sequence length at this length
  // (longrope's switch from short to long factors), or 0 when none does.
  int64_t rope_switch_length() const;

 private:
  struct RopeTable {
    std::unique_ptr<RotaryEmbedding> rope;
    torch::Tensor cos, sin;  // [B, T, rd] of the current forward
  };

  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  // o_proj / down_proj: x Wᵀ, summed over the tensor-parallel group, then the ablation
  // transform and the bias, on the full hidden vector.
  torch::Tensor project(const torch::Tensor& x, const LinearWeights& linear, const OutputTransform* transform) const;
  torch::Tensor activation(const torch::Tensor& x) const;
  // A mixture-of-experts MLP on x [B, T, H] (architectures.md §3.8-3.9), with each expert's
  // ablation transform applied to that expert's output.
  torch::Tensor experts_forward(int64_t layer, const torch::Tensor& x, const ExpertWeights& w,
                                const AblationSlots& slots) const;
  // The residual stream rows captured on this stage ([B, rows, H] float32), completed with every
  // other stage's into [B, L+1, H] on every stage.
  torch::Tensor gather_captured(const torch::Tensor& local) const;
  torch::Tensor layer_forward(int64_t layer, const torch::Tensor& hidden, const std::map<int64_t, AttentionMask>& masks,
                              KVCache* cache, bool last_position_only, const AblationSlots& slots) const;

  ModelInfo info_;
  ModelWeights weights_;
  TensorParallelGroup* group_;
  PipelineGroup* pipeline_;
  LayerRange held_;  // this stage's layers
  torch::ScalarType dtype_;
  std::vector<RopeTable> ropes_;        // full-attention table first, then the sliding one if any
  std::vector<size_t> rope_of_layer_;   // index into ropes_ per layer
};

}  // namespace heretic::model
