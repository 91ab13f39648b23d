// Llama 2/3/3.1/3.2/3.3 (architectures.md §3.1): the reference decoder every other family
// here is a variation of. Optional attention/MLP biases come from config (attention_bias,
// mlp_bias); Llama 3.1+ uses llama3 RoPE scaling, handled by rope.cpp from config.
#include "model/architecture.h"

namespace heretic::model {

const FamilyTraits& llama_family() {
  static const FamilyTraits traits = [] {
    FamilyTraits t;
    t.architecture = Architecture::kLlama;
    t.name = "llama";
    t.model_types = {"llama"};
    t.default_rms_norm_eps = 1e-6;
    t.default_rope_theta = 10000.0;
    t.default_tie_word_embeddings = false;
    t.sliding_rule = SlidingRule::kNever;
    return t;
  }();
  return traits;
}

}  // namespace heretic::model
