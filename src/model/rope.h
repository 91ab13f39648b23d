// Rotary position embeddings, computed the way transformers does (architectures.md §1.5):
// inv_freq in float32 on the CPU, cos/sin in float32 and then cast to the model dtype,
// split-halves rotation. Variants: default, linear, dynamic (NTK), llama3, yarn, longrope
// (Phi-3: short or long factors by sequence length, an attention factor, partial rotary).
#pragma once

#include <torch/utils.h>

#include "hf/model_config.h"

namespace heretic::model {

class RotaryEmbedding {
 public:
  // `head_dim` and the resolved parameters (rope_theta set); max_position_embeddings is
  // what dynamic NTK scaling compares the sequence length with.
  RotaryEmbedding(const hf::RopeParameters& parameters, int64_t head_dim, int64_t max_position_embeddings);

  int64_t rotary_dim() const { return rotary_dim_; }
  double attention_scaling() const { return attention_scaling_; }
  const torch::Tensor& inv_freq() const { return inv_freq_; }  // [rotary_dim / 2] float32 CPU

  // cos and sin for `position_ids` [B, T] int64: each [B, T, rotary_dim] in `dtype` on the ids'
  // device. Dynamic scaling and longrope choose inv_freq by the sequence length: `sequence_length`
  // when positive, else max(position_ids) + 1 as transformers takes it.
  std::pair<torch::Tensor, torch::Tensor> cos_sin(const torch::Tensor& position_ids, torch::ScalarType dtype,
                                                  int64_t sequence_length = 0);
  // Longrope: the original context length, past which the long factors apply (0 for others).
  int64_t switch_length() const;

  // q or k [B, heads, T, head_dim] rotated with cos/sin from cos_sin (features past
  // rotary_dim pass through unchanged).
  static torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

 private:
  hf::RopeParameters parameters_;
  int64_t rotary_dim_ = 0;
  int64_t max_position_embeddings_ = 0;
  double attention_scaling_ = 1.0;
  torch::Tensor inv_freq_;           // current (dynamic scaling may replace it)
  torch::Tensor original_inv_freq_;  // as computed at construction
  torch::Tensor long_inv_freq_;      // longrope: from the long factors
  bool long_active_ = false;         // longrope: the last call used the long factors
  int64_t cached_length_ = 0;        // dynamic: longest sequence inv_freq_ was computed for
  torch::Device cached_device_ = torch::kCPU;
  torch::Tensor inv_freq_on_device_;
};

}  // namespace heretic::model
