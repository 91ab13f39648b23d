// Qwen2 / Qwen2.5 (architectures.md §3.3): Llama plus biases on q/k/v projections that are
// always present (hard-wired in transformers, not a config switch); o_proj and MLP have none.
// Sliding windows only with use_sliding_window, from layer max_window_layers on (off in every
// released config).
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& qwen2_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "qwen2";
    f.model_types = {"qwen2"};
    f.config_defaults = {{"hidden_act", "silu"},           {"rms_norm_eps", 1e-6},     {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false},   {"sliding_window", 4096},   {"max_window_layers", 28},
                         {"use_sliding_window", false}};
    f.tensors = llama_tensor_names();
    f.block.attention_bias = AttentionBias::kQkvAlways;
    f.block.sliding = SlidingLayers::kFromMaxWindowLayers;
    return f;
  }();
  return family;
}

}  // namespace heretic::model
