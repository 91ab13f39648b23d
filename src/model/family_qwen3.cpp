// Qwen3 dense (architectures.md §3.4): Llama plus per-head RMSNorm of q and k over head_dim
// (q_norm, k_norm; Llama-style norm) before RoPE. head_dim is explicit in real configs and
// nH*hd may differ from hidden_size.
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& qwen3_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "qwen3";
    f.model_types = {"qwen3"};
    f.config_defaults = {{"hidden_act", "silu"},         {"rms_norm_eps", 1e-6},       {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false}, {"attention_bias", false},    {"head_dim", 128},
                         {"sliding_window", 4096},       {"max_window_layers", 28},    {"use_sliding_window", false}};
    f.tensors = llama_tensor_names();
    set_tensor_name(f.tensors, TensorRole::kQNorm, "layers.{layer}.self_attn.q_norm");
    set_tensor_name(f.tensors, TensorRole::kKNorm, "layers.{layer}.self_attn.k_norm");
    f.block.attention_bias = AttentionBias::kFromConfig;
    f.block.sliding = SlidingLayers::kFromMaxWindowLayers;
    return f;
  }();
  return family;
}

}  // namespace heretic::model
