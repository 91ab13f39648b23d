// The forward work a model does, counted from the shapes of the calls it actually runs.
//
// FLOPs of one forward call over b rows of t new positions attending to S keys (S = t for a
// prompt prefill, the KV cache length for a decode step), with P = H*nH*hd + 2*H*nKV*hd +
// nH*hd*H + 3*H*I matmul parameters per decoder layer (q, k, v, o, gate, up, down) and
// Pkv = 2*H*nKV*hd:
//   layers 0..L-2:  2*b*t*P + 4*b*t*S*nH*hd   (matmuls; then per query and head, the scores q.k
//                                              and the weighted sum of v, 2*hd FLOPs per key each)
//   layer L-1:      2*b*t*Pkv + 2*b*(P - Pkv) + 4*b*S*nH*hd   (the runtime computes query,
//                   o_proj and MLP of the last position only there; keys and values of all)
//   lm_head:        2*b*H*V when the call computes next-token logits (KL and generation; not the
//                   residual pass of the direction phase)
// Padding positions are counted: the runtime computes them. Norms, RoPE, softmax, the embedding
// gather and the ablation transforms (O(H) per position) are not counted.
#pragma once

#include <cstdint>

#include "model/ablation_slots.h"
#include "model/model_info.h"

namespace heretic::bench {

struct Work {
  double flops = 0.0;
  int64_t prefill_positions = 0;  // b * t over calls with t > 1 (padding included)
  int64_t decode_positions = 0;   // b over decode steps (t == 1)
  int64_t logit_rows = 0;         // rows whose next-token logits were computed (in generation: tokens generated)

  Work& operator+=(const Work& other);
};

// The formula above for one call.
double forward_flops(const model::ModelInfo& info, int64_t rows, int64_t positions, int64_t keys, bool logits);
// Matmul parameters of one decoder layer (P above).
double layer_matmul_params(const model::ModelInfo& info);

// Sees every forward call by wrapping layer 0's attention output slot, whose input is [b, t, H]
// (the model needs at least 2 layers: the last one sees only the last position). Ablator::apply
// and clear reset every slot, so attach after apply; the counter must outlive its slot.
class WorkCounter {
 public:
  explicit WorkCounter(const model::ModelInfo& info) : info_(info) {}

  // `logits`: whether the calls that follow compute next-token logits.
  void attach(model::AblationSlots& slots, bool logits);
  // The work since the last take().
  Work take();

 private:
  void record(int64_t rows, int64_t positions);

  model::ModelInfo info_;
  bool logits_ = false;
  int64_t keys_ = 0;
  Work work_;
};

}  // namespace heretic::bench
