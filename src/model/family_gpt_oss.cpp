// gpt-oss (architectures.md §3.10): Llama-style pre-norm blocks with RMSNorm C (the weight
// applied in float32), biases on q/k/v/o, attention sinks, sliding and full attention
// alternating by layer_types, yarn RoPE; every MLP is a mixture of experts whose router has a
// bias and picks the top k raw logits (softmax over those k), and whose experts are a clamped
// SwiGLU with interleaved gate/up columns and biases. Checkpoints store the experts fused, in
// MXFP4 (<name>_blocks, <name>_scales in [E, out, in] order) or pre-dequantised as
// [E, in, out] bf16 tensors; both are read.
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& gpt_oss_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "gpt_oss";
    f.model_types = {"gpt_oss"};
    f.config_defaults = {{"hidden_act", "silu"},         {"rms_norm_eps", 1e-5},      {"rope_theta", 150000.0},
                         {"tie_word_embeddings", false}, {"attention_bias", true},    {"head_dim", 64},
                         {"sliding_window", 128},        {"num_local_experts", 128},  {"num_experts_per_tok", 4},
                         {"swiglu_limit", 7.0}};
    f.tensors = llama_tensor_names();
    for (const TensorRole mlp : {TensorRole::kGateProj, TensorRole::kUpProj, TensorRole::kDownProj})
      remove_tensor_name(f.tensors, mlp);
    f.block.norm = NormStyle::kScaleInFloat32;
    f.block.attention_bias = AttentionBias::kFromConfig;
    f.block.sliding = SlidingLayers::kNever;  // layer_types decides
    f.block.attention_sinks = "layers.{layer}.self_attn.sinks";
    ExpertsRecipe& e = f.experts;
    e.count_key = "num_local_experts";
    e.intermediate_key = "intermediate_size";
    e.routing = ExpertRouting::kTopKThenSoftmax;
    e.activation = ExpertActivation::kClampedSwiglu;
    e.activation_limit_key = "swiglu_limit";
    e.router_bias = true;
    e.router = e.fused_router = "layers.{layer}.mlp.router";
    e.fused_gate_up = "layers.{layer}.mlp.experts.gate_up_proj";
    e.fused_down = "layers.{layer}.mlp.experts.down_proj";
    e.fused_transposed = true;
    e.interleaved_gate_up = true;
    e.expert_biases = true;
    return f;
  }();
  return family;
}

}  // namespace heretic::model
