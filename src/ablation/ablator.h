// Ablation of a trial (DESIGN.md §3): which module gets which direction and weight, the output
// transforms that apply it through the runtime's ablation slots without touching a weight,
// and the exact merged weight the same ablation corresponds to (used by export and tests).
#pragma once

#include <torch/utils.h>

#include <cstdint>
#include <vector>

#include "config/config.h"
#include "model/causal_lm.h"
#include "ablation/trial_params.h"

namespace heretic::ablation {

struct ModuleAblation {
  int64_t layer = 0;  // 0-based block index
  model::Component component = model::Component::kAttnOutput;
  double weight = 0.0;     // never 0 in a plan
  torch::Tensor direction;  // [H] float32 unit vector, CPU
};

// Heretic §2.1–2.2: for every block i and every component of `params`, the kernel weight
// w_c(i) (blocks where it is 0 are left out) and the direction: R[i + 1] for "per layer",
// else global_direction(R, direction_index).
std::vector<ModuleAblation> plan_ablation(const TrialParams& params,
                                          const torch::Tensor& directions, int64_t num_layers);

// Applies plans to a loaded model through its ablation slots (DESIGN.md §3 transforms none,
// pre, full). Row norms of every target weight are computed once here; a plan costs
// O(layers x components) small tensor operations plus, for "full", two matrix-vector products
// per ablated module. The model's weights are never modified. On a tensor-parallel model
// (o_proj and down_proj split by columns) the row norms and the "full" products are reduced
// over its group, so every rank builds the transform of the whole matrix; every rank of the
// group constructs the Ablator and applies the same plans together. On a pipeline stage, only
// the layers the stage holds get row norms and transforms; the plan's other entries are
// checked and left to the stages that hold them.
class Ablator {
 public:
  Ablator(model::CausalLM& model, config::RowNormalization mode);

  config::RowNormalization mode() const { return mode_; }
  // Clears every slot, then sets one per entry of `plan` (of a layer this rank holds).
  void apply(const std::vector<ModuleAblation>& plan);
  void clear();

 private:
  model::CausalLM& model_;
  config::RowNormalization mode_;
  // [layer][component][module]: float32 row norms n of each matrix W (pre, full), on the
  // model's device; a MoE layer's MLP has one per expert.
  std::vector<std::vector<std::vector<torch::Tensor>>> row_norms_;
};

// The exact merged weight of one module in float32: W' = (I - w v vT) W (none),
// W - w diag(n) v vT Ŵ (pre), diag(1/m)(W - w (n ⊙ v)(v ⊘ n)T W) (full); `weight` is
// [out, in] in any dtype, `direction` [out].
torch::Tensor merged_weight(const torch::Tensor& weight, const torch::Tensor& direction, double w,
                            config::RowNormalization mode);

// The same ablation as a LoRA pair, W' ≈ W + B A in float32 (B [out, r], A [r, in]), as Heretic
// writes it into its adapters (spec §2.3). none and pre: the delta -a (bᵀW) exactly, r = 1.
// full: the delta W' - W is not low rank in general; B = U √S and A = √S Vᵀ from its truncated
// SVD (the best rank-`rank` approximation, its top singular triplets found by subspace
// iteration to float32 precision; zero columns pad a matrix of lower rank).
struct LowRankDelta {
  torch::Tensor B;  // [out, r]
  torch::Tensor A;  // [r, in]
  // ||Δ - B A||_F / ||Δ||_F for full (0 when Δ = 0); 0 for the exact none and pre.
  double relative_error = 0.0;
};
LowRankDelta low_rank_delta(const torch::Tensor& weight, const torch::Tensor& direction, double w,
                            config::RowNormalization mode, int64_t rank);

}  // namespace heretic::ablation
