// Gemma 2 (architectures.md §3.5): four "sandwich" norms per block, all Gemma-style
// ((1 + w) in float32); embeddings scaled by sqrt(H) rounded to the model dtype; softmax scale
// query_pre_attn_scalar^-0.5; attention logits soft-capped at 50 and final logits at 30;
// gelu_tanh MLP; even layers (0, 2, 4, ...) use a sliding window; tied embeddings.
//
// Attention soft-capping is applied wherever the config sets it, i.e. transformers' eager
// attention (its default for Gemma 2 in 4.45-4.47). transformers' sdpa path drops it; which one a
// default-loaded 5.x Gemma 2 uses is open (architectures.md §5.1) until a reference run says so.
#include "model/architecture.h"

namespace heretic::model {

// The tensors of Gemma 2 and 3: Llama's names, where post_attention_layernorm normalises the
// attention output and pre/post_feedforward_layernorm wrap the MLP.
std::vector<TensorName> gemma_tensor_names() {
  std::vector<TensorName> table = llama_tensor_names();
  set_tensor_name(table, TensorRole::kAttnOutputNorm, "layers.{layer}.post_attention_layernorm");
  set_tensor_name(table, TensorRole::kMlpInputNorm, "layers.{layer}.pre_feedforward_layernorm");
  set_tensor_name(table, TensorRole::kMlpOutputNorm, "layers.{layer}.post_feedforward_layernorm");
  return table;
}

BlockRecipe gemma_block_recipe() {
  BlockRecipe block;
  block.norm = NormStyle::kOffsetInFloat32;
  block.attention_bias = AttentionBias::kFromConfig;
  block.scale_embeddings = true;
  block.query_pre_attn_scalar = true;
  block.logit_softcapping = true;
  block.activation_key = "hidden_activation";
  block.sliding = SlidingLayers::kPattern;
  return block;
}

const ModelFamily& gemma2_family() {
  static const ModelFamily family = [] {
    ModelFamily f;
    f.name = "gemma2";
    f.model_types = {"gemma2"};
    // Gemma2Config's defaults (transformers 4.5x / 5.x).
    f.config_defaults = {{"vocab_size", 256000},
                         {"hidden_size", 2304},
                         {"intermediate_size", 9216},
                         {"num_hidden_layers", 26},
                         {"num_attention_heads", 8},
                         {"num_key_value_heads", 4},
                         {"head_dim", 256},
                         {"hidden_activation", "gelu_pytorch_tanh"},
                         {"max_position_embeddings", 8192},
                         {"rms_norm_eps", 1e-6},
                         {"tie_word_embeddings", true},
                         {"rope_theta", 10000.0},
                         {"attention_bias", false},
                         {"query_pre_attn_scalar", 256},
                         {"sliding_window", 4096},
                         {"final_logit_softcapping", 30.0},
                         {"attn_logit_softcapping", 50.0},
                         {"pad_token_id", 0},
                         {"eos_token_id", 1},
                         {"bos_token_id", 2}};
    f.tensors = gemma_tensor_names();
    f.block = gemma_block_recipe();
    f.block.sliding_pattern = 2;  // layer i slides iff (i + 1) % 2 == 1
    return f;
  }();
  return family;
}

}  // namespace heretic::model
