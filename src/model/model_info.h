// Everything about a model's shape that the forward pass needs, resolved from config.json,
// generation_config.json and the family's defaults. Torch-free, so that callers that only
// plan work (batch sizes, memory) need not include torch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hf/model_config.h"
#include "hf/model_config_generation.h"
#include "hf/safetensors_format.h"
#include "hf/safetensors_reader.h"
#include "model/architecture.h"

namespace heretic::model {

// The abliterable module kinds (architectures.md §2), in the order Heretic lists them.
enum class Component { kAttnOutput = 0, kMlpDown = 1 };
constexpr int kComponentCount = 2;
const char* component_name(Component component);  // "attn.o_proj", "mlp.down_proj"

struct ModelInfo {
  Architecture architecture = Architecture::kLlama;
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // q_proj/k_proj/v_proj have biases
  bool o_bias = false;    // o_proj has a bias (Llama attention_bias)
  bool mlp_bias = false;  // gate/up/down have biases (Llama mlp_bias)
  bool qk_norm = false;
  std::vector<int64_t> sliding_window;  // per layer; 0 = full attention
  hf::RopeParameters rope;              // rope_theta resolved
  int64_t max_position_embeddings = 0;
  hf::DType dtype = hf::DType::kBF16;  // the dtype the forward runs in
  hf::GenerationConfig generation;

  // Full module names of the abliterable modules of one layer, e.g.
  // "model.layers.3.self_attn.o_proj".
  std::string module_name(int64_t layer, Component component) const;
};

// Resolves family defaults and checks what the forward pass relies on. `dtype` is the
// compute dtype already chosen (see dtype_from_name in causal_lm.h).
ModelInfo resolve_model_info(const hf::ModelConfig& config, const hf::GenerationConfig& generation, hf::DType dtype);

// config.json's num_hidden_layers against the layers the checkpoint holds (tensors named
// model.layers.N.*): a config that claims more fails here, naming the key, before anything
// sized by the layer count is allocated. Extra layers in the checkpoint are ignored, as
// transformers ignores unused weights.
void check_layer_count(const hf::ModelConfig& config, const hf::SafetensorsCheckpoint& checkpoint);

// "bfloat16" / "float16" / "float32" (also "bf16", "fp16", "half", "float", "fp32").
// Returns false for anything else ("auto" is resolved by the caller).
bool parse_dtype_name(const std::string& name, hf::DType& dtype);
const char* torch_dtype_name(hf::DType dtype);  // "bfloat16", "float16", "float32"

}  // namespace heretic::model
