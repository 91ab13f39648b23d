// Mistral (architectures.md §3.2): Llama's tensors and math; every layer uses a sliding
// window when sliding_window is non-null (v0.1: 4096, also the class default when the key
// is absent; v0.2+: null).
#include "model/architecture.h"

namespace heretic::model {

const FamilyTraits& mistral_family() {
  static const FamilyTraits traits = [] {
    FamilyTraits t;
    t.architecture = Architecture::kMistral;
    t.name = "mistral";
    t.model_types = {"mistral"};
    t.default_rms_norm_eps = 1e-6;
    t.default_rope_theta = 10000.0;
    t.default_tie_word_embeddings = false;
    t.sliding_rule = SlidingRule::kEveryLayerIfWindowSet;
    t.default_sliding_window = 4096;
    return t;
  }();
  return traits;
}

}  // namespace heretic::model
