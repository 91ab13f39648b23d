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
  kScaleInFloat32,    // C, gpt-oss: (w * (x * r)).to(D), the product in float32
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
  // gpt-oss: a learned logit per attention head ([nH], stored without ".weight") that joins
  // every softmax as an extra column and is dropped after it ("attention sinks").
  std::string attention_sinks;
  std::map<std::string, std::string> rope_type_aliases;  // Phi-3: su, yarn -> longrope
};

// How a router turns its logits into the weights of the k chosen experts.
enum class ExpertRouting {
  // Mixtral, Qwen-MoE: softmax over every expert in float32, the top k, renormalised to sum 1
  // when `normalize_key` is empty (Mixtral) or names a config key that is true (norm_topk_prob).
  kSoftmaxThenTopK,
  // gpt-oss: the top k of the raw logits, then a softmax over those k (in the model dtype).
  kTopKThenSoftmax,
};

// What an expert computes between its gate/up and down projections.
enum class ExpertActivation {
  kGated,          // act(gate) * up, act the family's activation (SwiGLU)
  kClampedSwiglu,  // gpt-oss: g = min(gate, L), u = clamp(up, -L, L), (u + 1) * g * sigmoid(1.702 g)
};

// Mixture-of-experts MLPs (architectures.md §3.8-3.10): where a family's config.json gives the
// experts' sizes and how its checkpoint names their tensors. Names are relative to the layout's
// decoder prefix, with "{layer}" and "{expert}" standing for the block and expert index.
struct ExpertsRecipe {
  std::string count_key;                // "num_local_experts" (Mixtral), "num_experts" (Qwen)
  std::string intermediate_key;         // each expert's intermediate size
  std::string normalize_key;            // "" = always renormalise the top k
  // Qwen: layer i is a MoE layer iff i is not in mlp_only_layers and (i + 1) % decoder_sparse_step
  // == 0; the others have a dense MLP of intermediate_size. Mixtral: every layer.
  bool sparse_step_layers = false;
  std::string shared_intermediate_key;  // Qwen2-MoE's shared expert ("" = none)
  // transformers 4.x / original checkpoints: one module per expert.
  std::string router;                   // [E, H]
  std::string gate, up, down;           // [I, H], [I, H], [H, I] per expert
  // transformers 5 saves experts fused, as parameters without ".weight":
  // gate_up [E, 2I, H] (each expert's gate rows, then its up rows) and down [E, H, I].
  std::string fused_router;
  std::string fused_gate_up, fused_down;
  // Qwen2-MoE: a shared expert every token passes through, scaled by sigmoid(shared_gate x).
  std::string shared_gate, shared_up, shared_down, shared_expert_gate;  // shared_expert_gate [1, H]
  ExpertRouting routing = ExpertRouting::kSoftmaxThenTopK;
  ExpertActivation activation = ExpertActivation::kGated;
  std::string activation_limit_key;  // kClampedSwiglu: the config key of L ("swiglu_limit")
  bool router_bias = false;          // the router has a bias [E]
  // gpt-oss: fused tensors stored [E, in, out] (y = x W + b), gate and up interleaved along
  // gate_up's output columns (gate 0, 2, 4, ..., up 1, 3, 5, ...), and biases
  // <fused_gate_up>_bias [E, 2I] and <fused_down>_bias [E, H]. MXFP4 checkpoints store the
  // fused tensors as <name>_blocks and <name>_scales in [E, out, in] order instead.
  bool fused_transposed = false;
  bool interleaved_gate_up = false;
  bool expert_biases = false;

  bool defined() const { return !count_key.empty(); }
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
  ExpertsRecipe experts;  // mixture-of-experts families only

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
