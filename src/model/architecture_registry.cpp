#include <algorithm>

#include "common/error.h"
#include "common/suggest.h"
#include "model/architecture.h"

namespace heretic::model {

// The registry: one line per family. X(name) refers to name_family(), defined in
// family_<name>.cpp.
#define HERETIC_MODEL_FAMILIES(X) \
  X(llama)                        \
  X(mistral)                      \
  X(qwen2)                        \
  X(qwen3)                        \
  X(gemma2)                       \
  X(gemma3_text)                  \
  X(gemma3)                       \
  X(phi3)                         \
  X(mistral3)                     \
  X(mixtral)                      \
  X(qwen2_moe)                    \
  X(qwen3_moe)                    \
  X(gpt_oss)

#define HERETIC_DECLARE_FAMILY(name) const ModelFamily& name##_family();
HERETIC_MODEL_FAMILIES(HERETIC_DECLARE_FAMILY)
#undef HERETIC_DECLARE_FAMILY

const std::vector<const ModelFamily*>& registered_families() {
#define HERETIC_LIST_FAMILY(name) &name##_family(),
  static const std::vector<const ModelFamily*> families = {HERETIC_MODEL_FAMILIES(HERETIC_LIST_FAMILY)};
#undef HERETIC_LIST_FAMILY
  return families;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> types;
  for (const ModelFamily* family : registered_families())
    types.insert(types.end(), family->model_types.begin(), family->model_types.end());
  std::sort(types.begin(), types.end());
  return types;
}

const ModelFamily& family_for_model_type(const std::string& model_type, const std::string& config_file) {
  for (const ModelFamily* family : registered_families()) {
    for (const std::string& accepted : family->model_types) {
      if (accepted == model_type) return *family;
    }
  }
  const auto supported = supported_model_types();
  throw InputError(config_file + ": key 'model_type' is '" + model_type + "', which is not supported" +
                   did_you_mean(model_type, supported) + "; supported: " + quoted_list(supported));
}

// ---- tensor roles and tables

const char* role_name(TensorRole role) {
  switch (role) {
    case TensorRole::kEmbedTokens:
      return "embed_tokens";
    case TensorRole::kFinalNorm:
      return "final_norm";
    case TensorRole::kLmHead:
      return "lm_head";
    case TensorRole::kAttnInputNorm:
      return "attn_input_norm";
    case TensorRole::kAttnOutputNorm:
      return "attn_output_norm";
    case TensorRole::kMlpInputNorm:
      return "mlp_input_norm";
    case TensorRole::kMlpOutputNorm:
      return "mlp_output_norm";
    case TensorRole::kQNorm:
      return "q_norm";
    case TensorRole::kKNorm:
      return "k_norm";
    case TensorRole::kQProj:
      return "q_proj";
    case TensorRole::kKProj:
      return "k_proj";
    case TensorRole::kVProj:
      return "v_proj";
    case TensorRole::kOProj:
      return "o_proj";
    case TensorRole::kGateProj:
      return "gate_proj";
    case TensorRole::kUpProj:
      return "up_proj";
    case TensorRole::kDownProj:
      return "down_proj";
  }
  return "?";
}

bool is_layer_role(TensorRole role) {
  return role != TensorRole::kEmbedTokens && role != TensorRole::kFinalNorm && role != TensorRole::kLmHead;
}

bool is_required_role(TensorRole role) {
  switch (role) {
    case TensorRole::kAttnOutputNorm:
    case TensorRole::kMlpOutputNorm:
    case TensorRole::kQNorm:
    case TensorRole::kKNorm:
      return false;
    default:
      return true;
  }
}

bool is_linear_role(TensorRole role) {
  switch (role) {
    case TensorRole::kQProj:
    case TensorRole::kKProj:
    case TensorRole::kVProj:
    case TensorRole::kOProj:
    case TensorRole::kGateProj:
    case TensorRole::kUpProj:
    case TensorRole::kDownProj:
      return true;
    default:
      return false;
  }
}

std::string ModelFamily::tensor_pattern(TensorRole role) const {
  for (const TensorName& entry : tensors) {
    if (entry.role == role) return entry.name;
  }
  return "";
}

bool ModelFamily::has_role(TensorRole role) const {
  if (!tensor_pattern(role).empty()) return true;
  for (const FusedTensor& fused : fused_tensors) {
    if (std::find(fused.parts.begin(), fused.parts.end(), role) != fused.parts.end()) return true;
  }
  return false;
}

std::vector<TensorName> llama_tensor_names() {
  return {
      {TensorRole::kEmbedTokens, "embed_tokens"},
      {TensorRole::kFinalNorm, "norm"},
      {TensorRole::kLmHead, "lm_head"},
      {TensorRole::kAttnInputNorm, "layers.{layer}.input_layernorm"},
      {TensorRole::kMlpInputNorm, "layers.{layer}.post_attention_layernorm"},
      {TensorRole::kQProj, "layers.{layer}.self_attn.q_proj"},
      {TensorRole::kKProj, "layers.{layer}.self_attn.k_proj"},
      {TensorRole::kVProj, "layers.{layer}.self_attn.v_proj"},
      {TensorRole::kOProj, "layers.{layer}.self_attn.o_proj"},
      {TensorRole::kGateProj, "layers.{layer}.mlp.gate_proj"},
      {TensorRole::kUpProj, "layers.{layer}.mlp.up_proj"},
      {TensorRole::kDownProj, "layers.{layer}.mlp.down_proj"},
  };
}

void set_tensor_name(std::vector<TensorName>& table, TensorRole role, const std::string& name) {
  for (TensorName& entry : table) {
    if (entry.role == role) {
      entry.name = name;
      return;
    }
  }
  table.push_back({role, name});
}

void remove_tensor_name(std::vector<TensorName>& table, TensorRole role) {
  table.erase(std::remove_if(table.begin(), table.end(), [role](const TensorName& entry) { return entry.role == role; }),
              table.end());
}

}  // namespace heretic::model
