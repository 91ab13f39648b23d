// Qwen3 dense (architectures.md §3.4): Llama plus per-head RMSNorm of q and k over head_dim
// (q_norm, k_norm; Llama-style norm) before RoPE. head_dim is explicit in real configs and
// nH*hd may differ from hidden_size.
#include "model/architecture.h"

namespace heretic::model {

const FamilyTraits& qwen3_family() {
  static const FamilyTraits traits = [] {
    FamilyTraits t;
    t.architecture = Architecture::kQwen3;
    t.name = "qwen3";
    t.model_types = {"qwen3"};
    t.default_rms_norm_eps = 1e-6;
    t.default_rope_theta = 10000.0;
    t.default_tie_word_embeddings = false;
    t.qk_norm = true;
    t.sliding_rule = SlidingRule::kFromMaxWindowLayers;
    t.default_sliding_window = 4096;
    t.default_max_window_layers = 28;
    t.default_head_dim = 128;
    return t;
  }();
  return traits;
}

}  // namespace heretic::model
