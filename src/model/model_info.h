// Everything about a model that the forward pass needs, resolved from config.json,
// generation_config.json and its family's data (architecture.h). Torch-free, so that callers
// that only plan work (batch sizes, memory) need not include torch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hf/model_config.h"
#include "hf/model_config_generation.h"
#include "hf/safetensors_format.h"
#include "model/architecture.h"
#include "model/component.h"

namespace heretic::hf {
class SafetensorsCheckpoint;
}

namespace heretic::model {

TensorRole role_of(Component component);           // kOProj, kDownProj

// The MLP activation act in down(act(gate(x)) * up(x)).
enum class Activation { kSilu, kGeluTanh, kGelu };
const char* activation_name(Activation activation);

// The mixture-of-experts part of a model (architectures.md §3.8-3.9); count 0 for dense models.
struct ExpertsInfo {
  int64_t count = 0;                     // experts per MoE layer
  int64_t per_token = 0;                 // top k
  int64_t intermediate_size = 0;         // each expert's
  int64_t shared_intermediate_size = 0;  // the shared expert's (Qwen2-MoE), 0 = none
  bool normalize_top_k = false;          // renormalise the top-k probabilities to sum 1
  double activation_limit = 0.0;         // gpt-oss' swiglu_limit (ExpertActivation::kClampedSwiglu)
  bool fused = false;                    // the checkpoint stores the experts fused (bound per checkpoint)
  std::vector<bool> layers;              // per layer: its MLP is a mixture of experts
};

// A checkpoint tensor holding abliterable matrices: one [out, in] matrix, or `matrices` of them
// stacked as [matrices, out, in] (fused experts).
struct ModuleTensor {
  std::string name;  // full checkpoint name, ".weight" included where the checkpoint has it
  int64_t matrices = 1;
  bool stacked = false;
  bool transposed = false;  // stored [matrices, in, out] (gpt-oss' pre-dequantised experts)
  bool mxfp4 = false;       // stored as <name>_blocks + <name>_scales, [matrices, out, in]
};

struct ModelInfo {
  const ModelFamily* family = nullptr;
  std::string model_type;  // config.json's top-level model_type
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  double rms_norm_eps = 1e-6;
  NormStyle norm_style = NormStyle::kScaleAfterCast;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // q_proj/k_proj/v_proj have biases
  bool o_bias = false;    // o_proj has a bias
  bool mlp_bias = false;  // gate/up/down have biases
  bool qk_norm = false;   // per-head q/k norms
  bool attention_sinks = false;  // a learned extra softmax column per head (gpt-oss)
  double embedding_scale = 0.0;      // > 0: embeddings times this, rounded to the model dtype (Gemma: sqrt(H))
  double attention_scale = 0.0;      // softmax scale: head_dim^-0.5 or query_pre_attn_scalar^-0.5
  double attn_logit_softcap = 0.0;   // > 0: attention scores -> tanh(s / c) * c
  double final_logit_softcap = 0.0;  // > 0: logits -> tanh(l / c) * c
  Activation activation = Activation::kSilu;
  std::vector<int64_t> sliding_window;  // per layer; 0 = full attention
  hf::RopeParameters rope;              // full-attention layers (rope_theta resolved)
  std::optional<hf::RopeParameters> sliding_rope;  // sliding layers, when they use their own
  int64_t max_position_embeddings = 0;
  hf::DType dtype = hf::DType::kBF16;  // the dtype the forward runs in
  hf::QuantizationConfig quantization;  // how quantised checkpoint tensors are stored
  hf::GenerationConfig generation;
  CheckpointLayout layout;  // the family's first layout until bound to a checkpoint
  ExpertsInfo experts;

  bool is_moe_layer(int64_t layer) const {
    return experts.count > 0 && layer >= 0 && layer < static_cast<int64_t>(experts.layers.size()) &&
           experts.layers[static_cast<size_t>(layer)];
  }

  const hf::RopeParameters& rope_of_layer(int64_t layer) const;
  // Checkpoint name of a role's tensor without ".weight" (layer ignored for global roles), e.g.
  // "model.layers.3.self_attn.o_proj"; empty when the family stores the role inside a fused tensor.
  std::string tensor_name(TensorRole role, int64_t layer = 0) const;
  // Full module names of the abliterable modules of one layer, e.g.
  // "model.layers.3.self_attn.o_proj".
  std::string module_name(int64_t layer, Component component) const;
  // A checkpoint name of the family's expert tables ("{layer}", "{expert}" filled in, decoder prefix added).
  std::string expert_tensor_name(const std::string& pattern, int64_t layer, int64_t expert = 0) const;
  // The abliterable matrices of one layer's component, in the order their ablation transforms
  // are indexed (AblationSlots): attention and dense MLPs one; a MoE layer's MLP every expert's
  // down projection (expert 0 first), then the shared expert's.
  int64_t module_count(int64_t layer, Component component) const;
  // The checkpoint tensors holding those matrices, in the same order.
  std::vector<ModuleTensor> module_tensors(int64_t layer, Component component) const;
};

// Reads <folder>/config.json and generation_config.json and resolves them with the family that
// config.json's model_type selects. `dtype` is "auto" (config's dtype, float32 when absent, as
// transformers' dtype="auto"), "bfloat16", "float16" or "float32". Throws InputError naming the
// file and key.
ModelInfo read_model_info(const std::filesystem::path& folder, const std::string& dtype);

// Resolves family defaults and checks what the forward pass relies on.
ModelInfo resolve_model_info(const hf::ModelConfig& config, const hf::GenerationConfig& generation, hf::DType dtype,
                             const ModelFamily& family);

// Finds which of the family's layouts `checkpoint` uses (where its embedding matrix is) and
// stores it in `info`, and checks that the checkpoint holds the last layer config.json's
// num_hidden_layers asks for (extra layers are ignored, as transformers ignores unused weights).
// Throws InputError naming the folder and the names looked for, or the key.
void bind_checkpoint_layout(ModelInfo& info, const hf::SafetensorsCheckpoint& checkpoint);

// "bfloat16" / "float16" / "float32" (also "bf16", "fp16", "half", "float", "fp32").
// Returns false for anything else ("auto" is resolved by the caller).
bool parse_dtype_name(const std::string& name, hf::DType& dtype);
const char* torch_dtype_name(hf::DType dtype);  // "bfloat16", "float16", "float32"

}  // namespace heretic::model
