// The architecture registry: every supported model family is data (ModelFamily) defined in
// its own family_<name>.cpp and listed once in architecture_registry.cpp, in the spirit of
// llama.cpp's tensor-name tables. A family says
//   - which config.json model_type values it accepts and transformers' config-class defaults,
//   - how its checkpoint names each tensor role (TensorName, FusedTensor, CheckpointLayout),
//   - the recipe of its decoder block (BlockRecipe): norms and their placement, biases,
//     embedding scale, attention scaling and soft-capping, activation key, sliding layers,
//     RoPE variants.
// The decoder (transformer.cpp) is one generic forward driven by this data; no code outside the
// family files and the registry asks which family it runs. Adding a family is one new file plus
// one line in the registry; a test fails when a registered family has no fixture.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace heretic::model {

// What a checkpoint tensor is for, whatever a family calls it (architectures.md §1.8, §3).
enum class TensorRole {
  kEmbedTokens,     // [V, H]
  kFinalNorm,       // [H]
  kLmHead,          // [V, H]; absent when tied
  kAttnInputNorm,   // [H] before attention (input_layernorm everywhere)
  kAttnOutputNorm,  // [H] on the attention output before the residual add (Gemma's post_attention_layernorm)
  kMlpInputNorm,    // [H] before the MLP (Llama's post_attention_layernorm, Gemma's pre_feedforward_layernorm)
  kMlpOutputNorm,   // [H] on the MLP output before the residual add (Gemma's post_feedforward_layernorm)
  kQNorm,           // [hd] per-head RMSNorm of q before RoPE (Qwen3, Gemma 3)
  kKNorm,           // [hd]
  kQProj,           // [nH*hd, H]
  kKProj,           // [nKV*hd, H]
  kVProj,           // [nKV*hd, H]
  kOProj,           // [H, nH*hd]  abliterable (attn.o_proj)
  kGateProj,        // [I, H]
  kUpProj,          // [I, H]
  kDownProj,        // [H, I]      abliterable (mlp.down_proj)
};
inline constexpr int kTensorRoleCount = 16;
const char* role_name(TensorRole role);  // "q_proj", "attn_output_norm", ...
bool is_layer_role(TensorRole role);     // false for embed_tokens, final_norm, lm_head
// Roles every decoder block needs; the others are optional parts of a recipe.
bool is_required_role(TensorRole role);
bool is_linear_role(TensorRole role);  // q/k/v/o/gate/up/down projections (may carry a bias)

// How one family names one role: `name` without ".weight" / ".bias", relative to the layout's
// prefix, with "{layer}" standing for the block index ("layers.{layer}.self_attn.q_proj").
struct TensorName {
  TensorRole role;
  std::string name;
};

// One checkpoint tensor holding the rows of several roles, concatenated along dim 0 in the
// order given (Phi-3's qkv_proj: q, k, v; gate_up_proj: gate, up). The loader splits it into
// views without copying. A MoE family's [E, 2I, H] expert tensors would be described the same
// way with an expert dimension added.
struct FusedTensor {
  std::string name;
  std::vector<TensorRole> parts;
};

// Where the text decoder's tensors sit in the checkpoint: `decoder_prefix` + "layers.3...",
// `head_prefix` + "lm_head". A multimodal wrapper has several (original upload and re-saved).
struct CheckpointLayout {
  std::string decoder_prefix = "model.";
  std::string head_prefix;
};

// RMSNorm flavours (architectures.md §1.3).
enum class NormStyle {
  kScaleAfterCast,    // A, Llama: w * (x * r).to(D), the product in D
  kOffsetInFloat32,   // B, Gemma: ((x * r) * (1 + w)).to(D), everything in float32
};

// Which projections carry biases.
enum class AttentionBias {
  kNone,          // Mistral, Phi-3: never
  kQkvAlways,     // Qwen2: q, k, v always (hard-wired), o never
  kFromConfig,    // Llama, Qwen3, Gemma: config attention_bias puts one on q, k, v and o
};

// Which layers use a sliding-window mask when config.json has no layer_types (§1.7, §3).
enum class SlidingLayers {
  kNever,                // Llama
  kAllIfWindowSet,       // Mistral, Phi-3: every layer iff sliding_window is non-null
  kFromMaxWindowLayers,  // Qwen2/3: layer i slides iff use_sliding_window && i >= max_window_layers
  kPattern,              // Gemma: layer i is full iff (i + 1) % period == 0, else sliding
};

struct BlockRecipe {
  NormStyle norm = NormStyle::kScaleAfterCast;
  AttentionBias attention_bias = AttentionBias::kFromConfig;
  bool mlp_bias_from_config = false;  // Llama's mlp_bias
  bool scale_embeddings = false;      // Gemma: embeddings times sqrt(H) rounded to the model dtype
  // Gemma: softmax scale query_pre_attn_scalar^-0.5 instead of head_dim^-0.5.
  bool query_pre_attn_scalar = false;
  // Gemma: honours attn_logit_softcapping and final_logit_softcapping (tanh(x / c) * c).
  bool logit_softcapping = false;
  std::string activation_key = "hidden_act";  // config key naming the MLP activation
  SlidingLayers sliding = SlidingLayers::kNever;
  std::string sliding_pattern_key;  // kPattern: config key with the period ("" = fixed)
  int64_t sliding_pattern = 0;      // kPattern: the period when the key is absent
  // Gemma 3 (transformers 4.5x configs): sliding layers use default RoPE with this config
  // key's base (rope_local_base_freq); v5 configs nest rope_parameters per layer type instead.
  std::string local_rope_base_key;
  std::vector<std::string> rope_types = {"default", "linear", "dynamic", "llama3", "yarn"};
  std::map<std::string, std::string> rope_type_aliases;  // Phi-3: su, yarn -> longrope
};

struct ModelFamily {
  std::string name;                     // "gemma3"
  std::vector<std::string> model_types;  // config.json model_type values it accepts
  // Multimodal wrappers: the text model is config.json's text_config, whose model_type must be
  // one of these. Empty for plain causal LMs.
  std::vector<std::string> text_model_types;
  // transformers' config-class defaults for keys a text config may omit (the text config's
  // class for wrappers); a key present in config.json, even as null, wins.
  nlohmann::json config_defaults = nlohmann::json::object();
  std::vector<TensorName> tensors;
  std::vector<FusedTensor> fused_tensors;
  std::vector<CheckpointLayout> layouts = {CheckpointLayout{}};  // tried in order
  BlockRecipe block;

  bool is_wrapper() const { return !text_model_types.empty(); }
  // The name pattern of `role` (empty when the family has no such tensor of its own, e.g. q_proj
  // inside Phi-3's fused qkv_proj).
  std::string tensor_pattern(TensorRole role) const;
  bool has_role(TensorRole role) const;  // direct or inside a fused tensor
};

// Every registered family, in registry order.
const std::vector<const ModelFamily*>& registered_families();
// The family accepting `model_type`; throws InputError naming `config_file` and listing the
// supported model types when none does.
const ModelFamily& family_for_model_type(const std::string& model_type, const std::string& config_file);
std::vector<std::string> supported_model_types();

// Tensor tables shared by the families that reuse Llama's names (architectures.md §3.1).
std::vector<TensorName> llama_tensor_names();
// Replaces the entry of `role` (or adds it) in `table`.
void set_tensor_name(std::vector<TensorName>& table, TensorRole role, const std::string& name);
void remove_tensor_name(std::vector<TensorName>& table, TensorRole role);

}  // namespace heretic::model
