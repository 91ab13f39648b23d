// Qwen3-MoE (architectures.md §3.9): Qwen3's attention (q/k norms, explicit head_dim) with a
// mixture of num_experts SwiGLU experts on the layers the sparse step selects (the others, and
// mlp_only_layers, keep a dense MLP of intermediate_size). Routing: softmax over all experts in
// float32, top k, renormalised iff norm_topk_prob. No shared expert. Experts one module each, or
// fused as transformers 5 saves them.
#include "model/architecture.h"

namespace heretic::model {

// The experts of Qwen's MoE families (Qwen2-MoE adds its shared expert to these): counted by
// num_experts, sized by moe_intermediate_size, renormalised iff norm_topk_prob, on the layers the
// sparse step selects, one module per expert or fused.
ExpertsRecipe qwen_moe_experts() {
  ExpertsRecipe e;
  e.count_key = "num_experts";
  e.intermediate_key = "moe_intermediate_size";
  e.normalize_key = "norm_topk_prob";
  e.sparse_step_layers = true;
  e.router = e.fused_router = "layers.{layer}.mlp.gate";
  e.gate = "layers.{layer}.mlp.experts.{expert}.gate_proj";
  e.up = "layers.{layer}.mlp.experts.{expert}.up_proj";
  e.down = "layers.{layer}.mlp.experts.{expert}.down_proj";
  e.fused_gate_up = "layers.{layer}.mlp.experts.gate_up_proj";
  e.fused_down = "layers.{layer}.mlp.experts.down_proj";
  return e;
}

const ModelFamily& qwen3_moe_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "qwen3_moe";
    f.model_types = {"qwen3_moe"};
    f.config_defaults = {{"hidden_act", "silu"},         {"rms_norm_eps", 1e-6},       {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false}, {"attention_bias", false},    {"head_dim", 128},
                         {"sliding_window", 4096},       {"max_window_layers", 28},    {"use_sliding_window", false},
                         {"decoder_sparse_step", 1},     {"moe_intermediate_size", 768}, {"num_experts_per_tok", 8},
                         {"num_experts", 128},           {"norm_topk_prob", false},    {"mlp_only_layers", nlohmann::json::array()}};
    f.tensors = llama_tensor_names();
    set_tensor_name(f.tensors, TensorRole::kQNorm, "layers.{layer}.self_attn.q_norm");
    set_tensor_name(f.tensors, TensorRole::kKNorm, "layers.{layer}.self_attn.k_norm");
    f.block.attention_bias = AttentionBias::kFromConfig;
    f.block.sliding = SlidingLayers::kFromMaxWindowLayers;
    f.experts = qwen_moe_experts();
    return f;
  }();
  return family;
}

}  // namespace heretic::model
