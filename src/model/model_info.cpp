#include "model/model_info.h"

#include <algorithm>

#include "common/error.h"

namespace heretic::model {

const char* component_name(Component component) {
  switch (component) {
    case Component::kAttnOutput:
      return "attn.o_proj";
    case Component::kMlpDown:
      return "mlp.down_proj";
  }
  return "?";
}

std::string ModelInfo::module_name(int64_t layer, Component component) const {
  const std::string prefix = "model.layers." + std::to_string(layer) + ".";
  return prefix + (component == Component::kAttnOutput ? "self_attn.o_proj" : "mlp.down_proj");
}

bool parse_dtype_name(const std::string& name, hf::DType& dtype) {
  if (name == "bfloat16" || name == "bf16") {
    dtype = hf::DType::kBF16;
  } else if (name == "float16" || name == "fp16" || name == "half") {
    dtype = hf::DType::kF16;
  } else if (name == "float32" || name == "fp32" || name == "float") {
    dtype = hf::DType::kF32;
  } else {
    return false;
  }
  return true;
}

const char* torch_dtype_name(hf::DType dtype) {
  switch (dtype) {
    case hf::DType::kBF16:
      return "bfloat16";
    case hf::DType::kF16:
      return "float16";
    case hf::DType::kF32:
      return "float32";
  }
  return "?";
}

namespace {

// Which layers slide, and with what window (architectures.md §1.7 and §3.2-3.4).
std::vector<int64_t> resolve_sliding_windows(const hf::ModelConfig& config, const FamilyTraits& family) {
  std::optional<int64_t> window = config.sliding_window;
  if (!config.text_json.contains("sliding_window")) window = family.default_sliding_window;
  std::vector<int64_t> windows(static_cast<size_t>(config.num_hidden_layers), 0);
  if (!config.layer_types.empty()) {
    for (size_t i = 0; i < windows.size(); ++i) {
      if (config.layer_types[i] == "sliding_attention") {
        if (!window)
          throw InputError(config.file.string() + ": key 'layer_types' marks layer " + std::to_string(i) +
                           " sliding but 'sliding_window' is null");
        windows[i] = *window;
      }
    }
    return windows;
  }
  switch (family.sliding_rule) {
    case SlidingRule::kNever:
      break;
    case SlidingRule::kEveryLayerIfWindowSet:
      if (window) std::fill(windows.begin(), windows.end(), *window);
      break;
    case SlidingRule::kFromMaxWindowLayers: {
      const int64_t first = config.max_window_layers.value_or(family.default_max_window_layers);
      if (config.use_sliding_window && window) {
        for (int64_t i = first; i < config.num_hidden_layers; ++i) windows[static_cast<size_t>(i)] = *window;
      }
      break;
    }
  }
  for (const int64_t w : windows) {
    if (w < 0) throw InputError(config.file.string() + ": key 'sliding_window' must be positive");
  }
  return windows;
}

}  // namespace

void check_layer_count(const hf::ModelConfig& config, const hf::SafetensorsCheckpoint& checkpoint) {
  const std::string prefix = "model.layers.";
  int64_t layers = 0;
  for (const std::string& name : checkpoint.tensor_names()) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t end = name.find('.', prefix.size());
    const std::string number = name.substr(prefix.size(), end == std::string::npos ? end : end - prefix.size());
    if (number.empty() || number.size() > 9 || number.find_first_not_of("0123456789") != std::string::npos) continue;
    layers = std::max<int64_t>(layers, std::stoll(number) + 1);
  }
  if (config.num_hidden_layers > layers)
    throw InputError(config.file.string() + ": key 'num_hidden_layers' is " + std::to_string(config.num_hidden_layers) +
                     " but the checkpoint in " + checkpoint.folder().string() + " holds " + std::to_string(layers) +
                     " layer(s)");
}

ModelInfo resolve_model_info(const hf::ModelConfig& config, const hf::GenerationConfig& generation, hf::DType dtype) {
  const std::string file = config.file.string();
  const FamilyTraits& family = family_for_model_type(config.model_type, file);
  ModelInfo info;
  info.architecture = family.architecture;
  info.model_type = config.model_type;
  info.vocab_size = config.vocab_size;
  info.hidden_size = config.hidden_size;
  info.intermediate_size = config.intermediate_size;
  if (info.intermediate_size <= 0) throw InputError(file + ": key 'intermediate_size' is missing or not positive");
  info.num_layers = config.num_hidden_layers;
  info.num_heads = config.num_attention_heads;
  info.num_kv_heads = config.num_key_value_heads;
  info.head_dim = config.head_dim;
  const auto head_dim_it = config.text_json.find("head_dim");
  const bool head_dim_given = head_dim_it != config.text_json.end() && !head_dim_it->is_null();
  if (!head_dim_given && family.default_head_dim > 0) info.head_dim = family.default_head_dim;
  info.rms_norm_eps = config.rms_norm_eps.value_or(family.default_rms_norm_eps);
  info.tie_word_embeddings = config.tie_word_embeddings.value_or(family.default_tie_word_embeddings);
  const bool attention_bias = config.attention_bias.value_or(false);
  info.qkv_bias = family.qkv_bias_always || attention_bias;
  info.o_bias = !family.qkv_bias_always && attention_bias;
  info.mlp_bias = config.mlp_bias.value_or(false);
  info.qk_norm = family.qk_norm;
  info.sliding_window = resolve_sliding_windows(config, family);
  info.rope = config.rope;
  if (!info.rope.rope_theta) info.rope.rope_theta = family.default_rope_theta;
  if (info.rope.rope_type == "longrope")
    throw InputError(file +
                     ": rope_type 'longrope' is only used by Phi-3, which is not supported "
                     "for model_type '" +
                     config.model_type + "'");
  info.max_position_embeddings = config.max_position_embeddings;
  info.dtype = dtype;
  info.generation = generation;
  if (config.hidden_act != "silu")
    throw InputError(file + ": key 'hidden_act' is '" + config.hidden_act + "'; " + family.name +
                     " models here use 'silu'");
  return info;
}

}  // namespace heretic::model
