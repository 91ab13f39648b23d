// Mistral (architectures.md §3.2): Llama's tensors and math without biases; every layer uses a
// sliding window when sliding_window is non-null (v0.1: 4096, also the class default when the
// key is absent; v0.2+ and Nemo/Small: null). head_dim may be explicit (Nemo: 128 with H 5120).
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& mistral_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "mistral";
    f.model_types = {"mistral"};
    f.config_defaults = {{"hidden_act", "silu"},
                         {"rms_norm_eps", 1e-6},
                         {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false},
                         {"sliding_window", 4096}};
    f.tensors = llama_tensor_names();
    f.block.attention_bias = AttentionBias::kNone;
    f.block.sliding = SlidingLayers::kAllIfWindowSet;
    return f;
  }();
  return family;
}

}  // namespace heretic::model
