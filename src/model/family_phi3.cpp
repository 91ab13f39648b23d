// Phi-3 / Phi-3.5 / Phi-4-mini / Phi-4 (Phi3ForCausalLM, architectures.md §3.7): Llama's block
// with fused projections, split on load into views: qkv_proj holds the rows of q, k and v,
// gate_up_proj those of gate and up. No biases. RoPE default or longrope (short and long factors,
// attention factor, partial rotary for Phi-4-mini); legacy rope types su and yarn mean longrope.
// Every layer slides iff sliding_window is set (Phi-3-mini-4k: 2047).
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& phi3_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "phi3";
    f.model_types = {"phi3"};
    f.config_defaults = {{"hidden_act", "silu"},
                         {"rms_norm_eps", 1e-5},
                         {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false},
                         {"max_position_embeddings", 4096},
                         {"partial_rotary_factor", 1.0},
                         {"sliding_window", nullptr}};
    f.tensors = llama_tensor_names();
    for (const TensorRole fused : {TensorRole::kQProj, TensorRole::kKProj, TensorRole::kVProj, TensorRole::kGateProj,
                                   TensorRole::kUpProj})
      remove_tensor_name(f.tensors, fused);
    f.fused_tensors = {
        {"layers.{layer}.self_attn.qkv_proj", {TensorRole::kQProj, TensorRole::kKProj, TensorRole::kVProj}},
        {"layers.{layer}.mlp.gate_up_proj", {TensorRole::kGateProj, TensorRole::kUpProj}},
    };
    f.block.attention_bias = AttentionBias::kNone;
    f.block.sliding = SlidingLayers::kAllIfWindowSet;
    f.block.rope_types = {"default", "longrope"};
    f.block.rope_type_aliases = {{"su", "longrope"}, {"yarn", "longrope"}};
    return f;
  }();
  return family;
}

}  // namespace heretic::model
