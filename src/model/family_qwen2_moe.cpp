// Qwen2-MoE / Qwen1.5-MoE: Qwen2's attention (q/k/v biases always) with a mixture of num_experts
// SwiGLU experts on the layers the sparse step selects, routed as Qwen3-MoE (softmax over all,
// top k, renormalised iff norm_topk_prob), plus a shared expert every token passes through,
// scaled per token by sigmoid(shared_expert_gate x). Dense layers keep intermediate_size.
#include "model/architecture.h"

namespace heretic::model {

ExpertsRecipe qwen_moe_experts();  // family_qwen3_moe.cpp

const ModelFamily& qwen2_moe_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "qwen2_moe";
    f.model_types = {"qwen2_moe"};
    f.config_defaults = {{"hidden_act", "silu"},          {"rms_norm_eps", 1e-6},         {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false},  {"sliding_window", 4096},       {"max_window_layers", 28},
                         {"use_sliding_window", false},   {"decoder_sparse_step", 1},     {"moe_intermediate_size", 1408},
                         {"shared_expert_intermediate_size", 5632}, {"num_experts_per_tok", 4}, {"num_experts", 60},
                         {"norm_topk_prob", false},       {"mlp_only_layers", nlohmann::json::array()}};
    f.tensors = llama_tensor_names();
    f.block.attention_bias = AttentionBias::kQkvAlways;
    f.block.sliding = SlidingLayers::kFromMaxWindowLayers;
    f.experts = qwen_moe_experts();
    ExpertsRecipe& e = f.experts;
    e.shared_intermediate_key = "shared_expert_intermediate_size";
    e.shared_gate = "layers.{layer}.mlp.shared_expert.gate_proj";
    e.shared_up = "layers.{layer}.mlp.shared_expert.up_proj";
    e.shared_down = "layers.{layer}.mlp.shared_expert.down_proj";
    e.shared_expert_gate = "layers.{layer}.mlp.shared_expert_gate";
    return f;
  }();
  return family;
}

}  // namespace heretic::model
