// Mixtral (architectures.md §3.8): Mistral's attention with a sparse mixture of experts in
// place of the MLP: a router picks the top k of num_local_experts per token (softmax over all of
// them, then the top k renormalised to sum 1), and each chosen expert is a SwiGLU MLP
// (w1 gate, w3 up, w2 down). Checkpoints store one module per expert under block_sparse_moe;
// transformers 5 may save them fused under mlp.experts (both are read).
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& mixtral_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "mixtral";
    f.model_types = {"mixtral"};
    f.config_defaults = {{"hidden_act", "silu"},         {"rms_norm_eps", 1e-5},      {"rope_theta", 1e6},
                         {"tie_word_embeddings", false}, {"sliding_window", nullptr}, {"num_local_experts", 8},
                         {"num_experts_per_tok", 2}};
    f.tensors = llama_tensor_names();
    for (const TensorRole mlp : {TensorRole::kGateProj, TensorRole::kUpProj, TensorRole::kDownProj})
      remove_tensor_name(f.tensors, mlp);
    f.block.attention_bias = AttentionBias::kNone;
    f.block.sliding = SlidingLayers::kAllIfWindowSet;
    ExpertsRecipe& e = f.experts;
    e.count_key = "num_local_experts";
    e.intermediate_key = "intermediate_size";
    e.router = "layers.{layer}.block_sparse_moe.gate";
    e.gate = "layers.{layer}.block_sparse_moe.experts.{expert}.w1";
    e.up = "layers.{layer}.block_sparse_moe.experts.{expert}.w3";
    e.down = "layers.{layer}.block_sparse_moe.experts.{expert}.w2";
    e.fused_router = "layers.{layer}.mlp.gate";
    e.fused_gate_up = "layers.{layer}.mlp.experts.gate_up_proj";
    e.fused_down = "layers.{layer}.mlp.experts.down_proj";
    return f;
  }();
  return family;
}

}  // namespace heretic::model
