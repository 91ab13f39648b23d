// Llama 2/3/3.1/3.2/3.3 (architectures.md §3.1): the reference decoder every other family
// here is a variation of. Optional attention/MLP biases come from config (attention_bias,
// mlp_bias); Llama 3.1+ uses llama3 RoPE scaling, handled by rope.cpp from config.
#include "model/architecture.h"

namespace heretic::model {

const ModelFamily& llama_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "llama";
    f.model_types = {"llama"};
    f.config_defaults = {{"hidden_act", "silu"},    {"rms_norm_eps", 1e-6},       {"rope_theta", 10000.0},
                         {"tie_word_embeddings", false}, {"attention_bias", false}, {"mlp_bias", false}};
    f.tensors = llama_tensor_names();
    f.block.attention_bias = AttentionBias::kFromConfig;
    f.block.mlp_bias_from_config = true;
    return f;
  }();
  return family;
}

}  // namespace heretic::model
