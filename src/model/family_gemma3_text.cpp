// Gemma 3 text models (architectures.md §3.6; model_type gemma3_text, e.g. gemma-3-1b-it):
// Gemma 2's block plus Gemma-style q/k norms per head; 5 sliding layers to 1 full one
// (sliding_window_pattern 6); sliding layers use default RoPE with base rope_local_base_freq,
// full layers rope_theta with the configured scaling; no soft-capping unless the config sets it.
#include "model/architecture.h"

namespace heretic::model {

std::vector<TensorName> gemma_tensor_names();  // family_gemma2.cpp
BlockRecipe gemma_block_recipe();              // family_gemma2.cpp

// Gemma3TextConfig's defaults. Released multimodal checkpoints (4B/12B/27B) rely on them:
// their text_config omits vocab_size, head counts and head_dim.
nlohmann::json gemma3_text_config_defaults() {
  return {{"vocab_size", 262208},
          {"hidden_size", 2304},
          {"intermediate_size", 9216},
          {"num_hidden_layers", 26},
          {"num_attention_heads", 8},
          {"num_key_value_heads", 4},
          {"head_dim", 256},
          {"hidden_activation", "gelu_pytorch_tanh"},
          {"max_position_embeddings", 131072},
          {"rms_norm_eps", 1e-6},
          {"tie_word_embeddings", true},
          {"rope_theta", 1000000.0},
          {"rope_local_base_freq", 10000.0},
          {"attention_bias", false},
          {"query_pre_attn_scalar", 256},
          {"sliding_window", 4096},
          {"sliding_window_pattern", 6},
          {"final_logit_softcapping", nullptr},
          {"attn_logit_softcapping", nullptr},
          {"pad_token_id", 0},
          {"eos_token_id", 1},
          {"bos_token_id", 2}};
}

std::vector<TensorName> gemma3_tensor_names() {
  std::vector<TensorName> table = gemma_tensor_names();
  set_tensor_name(table, TensorRole::kQNorm, "layers.{layer}.self_attn.q_norm");
  set_tensor_name(table, TensorRole::kKNorm, "layers.{layer}.self_attn.k_norm");
  return table;
}

BlockRecipe gemma3_block_recipe() {
  BlockRecipe block = gemma_block_recipe();
  block.sliding_pattern_key = "sliding_window_pattern";
  block.sliding_pattern = 6;
  block.local_rope_base_key = "rope_local_base_freq";
  return block;
}

const ModelFamily& gemma3_text_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "gemma3_text";
    f.model_types = {"gemma3_text"};
    f.config_defaults = gemma3_text_config_defaults();
    f.tensors = gemma3_tensor_names();
    f.block = gemma3_block_recipe();
    return f;
  }();
  return family;
}

}  // namespace heretic::model
