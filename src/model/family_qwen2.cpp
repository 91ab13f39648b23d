// Qwen2 / Qwen2.5 (architectures.md §3.3): Llama plus biases on q/k/v projections that are
// always present (hard-wired in transformers, not a config switch); o_proj and MLP have none.
#include "model/architecture.h"

namespace heretic::model {

const FamilyTraits& qwen2_family() {
  static const FamilyTraits traits = [] {
    FamilyTraits t;
    t.architecture = Architecture::kQwen2;
    t.name = "qwen2";
    t.model_types = {"qwen2"};
    t.default_rms_norm_eps = 1e-6;
    t.default_rope_theta = 10000.0;
    t.default_tie_word_embeddings = false;
    t.qkv_bias_always = true;
    t.sliding_rule = SlidingRule::kFromMaxWindowLayers;
    t.default_sliding_window = 4096;
    t.default_max_window_layers = 28;
    return t;
  }();
  return traits;
}

}  // namespace heretic::model
