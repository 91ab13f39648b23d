#include "model/model_info.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/suggest.h"
#include "hf/safetensors_reader.h"

namespace heretic::model {
namespace fs = std::filesystem;

TensorRole role_of(Component component) {
  return component == Component::kAttnOutput ? TensorRole::kOProj : TensorRole::kDownProj;
}

const char* activation_name(Activation activation) {
  switch (activation) {
    case Activation::kSilu:
      return "silu";
    case Activation::kGeluTanh:
      return "gelu_pytorch_tanh";
    case Activation::kGelu:
      return "gelu";
  }
  return "?";
}

const hf::RopeParameters& ModelInfo::rope_of_layer(int64_t layer) const {
  const bool sliding = sliding_window[static_cast<size_t>(layer)] > 0;
  return sliding && sliding_rope ? *sliding_rope : rope;
}

std::string ModelInfo::tensor_name(TensorRole role, int64_t layer) const {
  std::string pattern = family->tensor_pattern(role);
  if (pattern.empty()) return "";
  const size_t slot = pattern.find("{layer}");
  if (slot != std::string::npos) pattern.replace(slot, 7, std::to_string(layer));
  return (role == TensorRole::kLmHead ? layout.head_prefix : layout.decoder_prefix) + pattern;
}

std::string ModelInfo::module_name(int64_t layer, Component component) const {
  if (component == Component::kMlpDown && is_moe_layer(layer)) {  // every expert: "...experts.*.w2"
    if (experts.fused) return expert_tensor_name(family->experts.fused_down, layer);
    std::string pattern = family->experts.down;
    const size_t at = pattern.find("{expert}");
    if (at != std::string::npos) pattern.replace(at, 8, "*");
    return expert_tensor_name(pattern, layer);
  }
  return tensor_name(role_of(component), layer);
}

std::string ModelInfo::expert_tensor_name(const std::string& pattern, int64_t layer, int64_t expert) const {
  std::string name = pattern;
  for (const auto& [slot, value] : {std::pair<std::string, int64_t>{"{layer}", layer}, {"{expert}", expert}}) {
    const size_t at = name.find(slot);
    if (at != std::string::npos) name.replace(at, slot.size(), std::to_string(value));
  }
  return layout.decoder_prefix + name;
}

int64_t ModelInfo::module_count(int64_t layer, Component component) const {
  if (component != Component::kMlpDown || !is_moe_layer(layer)) return 1;
  return experts.count + (experts.shared_intermediate_size > 0 ? 1 : 0);
}

std::vector<ModuleTensor> ModelInfo::module_tensors(int64_t layer, Component component) const {
  if (component != Component::kMlpDown || !is_moe_layer(layer))
    return {ModuleTensor{module_name(layer, component) + ".weight"}};
  const ExpertsRecipe& recipe = family->experts;
  std::vector<ModuleTensor> tensors;
  if (experts.fused) {
    const bool mxfp4 = quantization.method == hf::QuantMethod::kMxfp4;
    tensors.push_back(ModuleTensor{expert_tensor_name(recipe.fused_down, layer), experts.count, true,
                                   recipe.fused_transposed && !mxfp4, mxfp4});
  } else {
    for (int64_t e = 0; e < experts.count; ++e)
      tensors.push_back(ModuleTensor{expert_tensor_name(recipe.down, layer, e) + ".weight"});
  }
  if (experts.shared_intermediate_size > 0)
    tensors.push_back(ModuleTensor{expert_tensor_name(recipe.shared_down, layer) + ".weight"});
  return tensors;
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
    case hf::DType::kF8E4M3:
    case hf::DType::kF8E5M2:
    case hf::DType::kU8:
      break;  // storage types of quantised checkpoints, never a compute dtype
  }
  return "?";
}

namespace {

// Which layers slide, and with what window (architectures.md §1.7, §3).
std::vector<int64_t> resolve_sliding_windows(const hf::ModelConfig& config, const ModelFamily& family) {
  const std::optional<int64_t> window = config.sliding_window;
  const std::string file = config.file.string();
  std::vector<int64_t> windows(static_cast<size_t>(config.num_hidden_layers), 0);
  if (window && *window <= 0)
    throw InputError(file + ": key '" + config.text_key_prefix + "sliding_window' must be positive or null");
  if (!config.layer_types.empty()) {
    for (size_t i = 0; i < windows.size(); ++i) {
      if (config.layer_types[i] == "sliding_attention") {
        if (!window)
          throw InputError(file + ": key '" + config.text_key_prefix + "layer_types' marks layer " +
                           std::to_string(i) + " sliding but 'sliding_window' is null");
        windows[i] = *window;
      }
    }
    return windows;
  }
  const BlockRecipe& block = family.block;
  switch (block.sliding) {
    case SlidingLayers::kNever:
      break;
    case SlidingLayers::kAllIfWindowSet:
      if (window) std::fill(windows.begin(), windows.end(), *window);
      break;
    case SlidingLayers::kFromMaxWindowLayers: {
      const int64_t first = config.max_window_layers.value_or(0);
      if (config.use_sliding_window && window) {
        for (int64_t i = first; i < config.num_hidden_layers; ++i) windows[static_cast<size_t>(i)] = *window;
      }
      break;
    }
    case SlidingLayers::kPattern: {
      int64_t period = block.sliding_pattern;
      if (!block.sliding_pattern_key.empty() && config.text_json.contains(block.sliding_pattern_key)) {
        const auto& value = config.text_json.at(block.sliding_pattern_key);
        if (!value.is_number_integer() || value.get<int64_t>() <= 0)
          throw InputError(file + ": key '" + config.text_key_prefix + block.sliding_pattern_key +
                           "' must be a positive integer");
        period = value.get<int64_t>();
      }
      if (!window)
        throw InputError(file + ": key '" + config.text_key_prefix + "sliding_window' is null, but " + family.name +
                         " models slide on all but every " + std::to_string(period) + "th layer");
      for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
        if ((i + 1) % period != 0) windows[static_cast<size_t>(i)] = *window;
      }
      break;
    }
  }
  return windows;
}

Activation resolve_activation(const hf::ModelConfig& config, const ModelFamily& family) {
  const std::string& name = config.hidden_act;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "gelu_pytorch_tanh") return Activation::kGeluTanh;
  if (name == "gelu") return Activation::kGelu;
  throw InputError(config.file.string() + ": key '" + config.text_key_prefix + family.block.activation_key +
                   "' is '" + name + "'; supported: 'silu', 'gelu_pytorch_tanh', 'gelu'");
}

// A number the family's recipe honours; 0 when the config sets it to null.
double optional_positive(const hf::ModelConfig& config, const std::string& key) {
  const auto it = config.text_json.find(key);
  if (it == config.text_json.end() || it->is_null()) return 0.0;
  if (!it->is_number() || it->get<double>() <= 0.0)
    throw InputError(config.file.string() + ": key '" + config.text_key_prefix + key +
                     "' must be a positive number or null");
  return it->get<double>();
}

void check_rope(const hf::RopeParameters& rope, const hf::ModelConfig& config, const ModelFamily& family) {
  const std::string file = config.file.string();
  const auto& types = family.block.rope_types;
  if (std::find(types.begin(), types.end(), rope.rope_type) == types.end())
    throw InputError(file + ": rope_type '" + rope.rope_type + "' is not used by " + family.name +
                     " models; supported for model_type '" + config.model_type + "': " + quoted_list(types));
  if (!rope.rope_theta) throw InputError(file + ": key '" + config.text_key_prefix + "rope_theta' is missing");
  if (rope.rope_type == "longrope") {
    int64_t rotary_dim = static_cast<int64_t>(static_cast<double>(config.head_dim) * rope.partial_rotary_factor);
    rotary_dim -= rotary_dim % 2;
    const auto expected = static_cast<size_t>(rotary_dim / 2);
    for (const auto* factors : {&rope.short_factor, &rope.long_factor}) {
      if (factors->size() != expected)
        throw InputError(file + ": key '" + config.text_key_prefix + "rope_scaling." +
                         (factors == &rope.short_factor ? "short_factor" : "long_factor") + "' has " +
                         std::to_string(factors->size()) + " entries; rotary dimension " + std::to_string(rotary_dim) +
                         " needs " + std::to_string(expected));
    }
  }
}

// A positive integer from the config (the family's defaults filled in); InputError naming the key.
int64_t positive_integer(const hf::ModelConfig& config, const std::string& key) {
  const auto it = config.text_json.find(key);
  if (it == config.text_json.end() || !it->is_number_integer() || it->get<int64_t>() <= 0)
    throw InputError(config.file.string() + ": key '" + config.text_key_prefix + key +
                     "' must be a positive integer (mixture-of-experts models need it)");
  return it->get<int64_t>();
}

// The mixture-of-experts sizes and which layers route (architectures.md §3.8-3.9).
ExpertsInfo resolve_experts(const hf::ModelConfig& config, const ModelFamily& family) {
  ExpertsInfo experts;
  const ExpertsRecipe& recipe = family.experts;
  if (!recipe.defined()) return experts;
  const std::string file = config.file.string(), prefix = config.text_key_prefix;
  const nlohmann::json& json = config.text_json;
  experts.count = positive_integer(config, recipe.count_key);
  constexpr int64_t kMostExperts = 65536;  // released models have at most a few hundred
  if (experts.count > kMostExperts)
    throw InputError(file + ": key '" + prefix + recipe.count_key + "' is " + std::to_string(experts.count) +
                     ", more experts than the " + std::to_string(kMostExperts) + " this program accepts");
  experts.per_token = positive_integer(config, "num_experts_per_tok");
  if (experts.per_token > experts.count)
    throw InputError(file + ": key '" + prefix + "num_experts_per_tok' is " + std::to_string(experts.per_token) +
                     ", more than the " + std::to_string(experts.count) + " experts of '" + prefix + recipe.count_key + "'");
  experts.intermediate_size = positive_integer(config, recipe.intermediate_key);
  if (!recipe.shared_intermediate_key.empty())
    experts.shared_intermediate_size = positive_integer(config, recipe.shared_intermediate_key);
  if (recipe.activation == ExpertActivation::kClampedSwiglu) {
    const auto it = json.find(recipe.activation_limit_key);
    if (it == json.end() || !it->is_number() || it->get<double>() <= 0.0)
      throw InputError(file + ": key '" + prefix + recipe.activation_limit_key + "' must be a positive number");
    experts.activation_limit = it->get<double>();
  }
  experts.normalize_top_k = recipe.routing == ExpertRouting::kSoftmaxThenTopK;
  if (experts.normalize_top_k && !recipe.normalize_key.empty()) {
    const auto it = json.find(recipe.normalize_key);
    if (it != json.end() && !it->is_boolean())
      throw InputError(file + ": key '" + prefix + recipe.normalize_key + "' must be true or false");
    experts.normalize_top_k = it != json.end() && it->get<bool>();
  }
  experts.layers.assign(static_cast<size_t>(config.num_hidden_layers), true);
  if (recipe.sparse_step_layers) {
    const int64_t step = positive_integer(config, "decoder_sparse_step");
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) experts.layers[static_cast<size_t>(i)] = (i + 1) % step == 0;
    const auto it = json.find("mlp_only_layers");
    if (it != json.end() && !it->is_null()) {
      if (!it->is_array())
        throw InputError(file + ": key '" + prefix + "mlp_only_layers' must be a list of layer indices");
      for (const auto& entry : *it) {
        if (!entry.is_number_integer() || entry.get<int64_t>() < 0 || entry.get<int64_t>() >= config.num_hidden_layers)
          throw InputError(file + ": key '" + prefix + "mlp_only_layers' holds " + entry.dump() +
                           ", which is not a layer index below num_hidden_layers " +
                           std::to_string(config.num_hidden_layers));
        experts.layers[static_cast<size_t>(entry.get<int64_t>())] = false;
      }
    }
  }
  return experts;
}

}  // namespace

ModelInfo resolve_model_info(const hf::ModelConfig& config, const hf::GenerationConfig& generation, hf::DType dtype,
                             const ModelFamily& family) {
  const std::string file = config.file.string();
  if (family.is_wrapper()) {
    if (!config.nested) throw InputError(file + ": key 'text_config' is missing (model_type '" + config.model_type + "')");
    const auto& accepted = family.text_model_types;
    if (!config.text_model_type.empty() &&
        std::find(accepted.begin(), accepted.end(), config.text_model_type) == accepted.end())
      throw InputError(file + ": key 'text_config.model_type' is '" + config.text_model_type + "', which is not supported in a '" +
                       config.model_type + "' model; supported: " + quoted_list(accepted));
  }
  ModelInfo info;
  info.family = &family;
  info.layout = family.layouts.front();
  info.model_type = config.model_type;
  info.vocab_size = config.vocab_size;
  info.hidden_size = config.hidden_size;
  info.intermediate_size = config.intermediate_size;
  if (info.intermediate_size <= 0)
    throw InputError(file + ": key '" + config.text_key_prefix + "intermediate_size' is missing or not positive");
  info.num_layers = config.num_hidden_layers;
  info.num_heads = config.num_attention_heads;
  info.num_kv_heads = config.num_key_value_heads;
  info.head_dim = config.head_dim;
  info.rms_norm_eps = config.rms_norm_eps.value_or(1e-6);
  info.norm_style = family.block.norm;
  info.tie_word_embeddings = config.tie_word_embeddings.value_or(false);
  const bool attention_bias = config.attention_bias.value_or(false);
  switch (family.block.attention_bias) {
    case AttentionBias::kNone:
      break;
    case AttentionBias::kQkvAlways:
      info.qkv_bias = true;
      break;
    case AttentionBias::kFromConfig:
      info.qkv_bias = info.o_bias = attention_bias;
      break;
  }
  info.mlp_bias = family.block.mlp_bias_from_config && config.mlp_bias.value_or(false);
  info.qk_norm = family.has_role(TensorRole::kQNorm);
  info.attention_sinks = !family.block.attention_sinks.empty();
  if (family.block.scale_embeddings) info.embedding_scale = std::sqrt(static_cast<double>(info.hidden_size));
  double scale_base = static_cast<double>(info.head_dim);
  if (family.block.query_pre_attn_scalar) {
    scale_base = optional_positive(config, "query_pre_attn_scalar");
    if (scale_base == 0.0) throw InputError(file + ": key '" + config.text_key_prefix + "query_pre_attn_scalar' is null");
  }
  info.attention_scale = 1.0 / std::sqrt(scale_base);
  if (family.block.logit_softcapping) {
    info.attn_logit_softcap = optional_positive(config, "attn_logit_softcapping");
    info.final_logit_softcap = optional_positive(config, "final_logit_softcapping");
  }
  info.activation = resolve_activation(config, family);
  info.sliding_window = resolve_sliding_windows(config, family);
  info.rope = config.rope;
  check_rope(info.rope, config, family);
  info.sliding_rope = config.sliding_rope;
  if (!info.sliding_rope && !family.block.local_rope_base_key.empty()) {
    // Gemma 3 as transformers 4.5x configures it: sliding layers use plain RoPE with their own base.
    hf::RopeParameters local;
    local.rope_theta = optional_positive(config, family.block.local_rope_base_key);
    if (*local.rope_theta == 0.0)
      throw InputError(file + ": key '" + config.text_key_prefix + family.block.local_rope_base_key + "' is null");
    info.sliding_rope = local;
  }
  if (info.sliding_rope) check_rope(*info.sliding_rope, config, family);
  info.max_position_embeddings = config.max_position_embeddings;
  info.dtype = dtype;
  info.quantization = config.quantization;
  info.generation = generation;
  info.experts = resolve_experts(config, family);
  return info;
}

ModelInfo read_model_info(const fs::path& folder, const std::string& dtype) {
  const fs::path file = folder / "config.json";
  const nlohmann::json root = hf::read_config_json(file);
  const ModelFamily& family = family_for_model_type(hf::top_level_model_type(root, file), file.string());
  hf::ConfigRules rules;
  rules.defaults = family.config_defaults;
  rules.activation_key = family.block.activation_key;
  rules.rope_type_aliases = family.block.rope_type_aliases;
  const hf::ModelConfig config = hf::parse_model_config(root, file, rules);
  const hf::GenerationConfig generation = hf::read_generation_config(folder, config);
  hf::DType compute_dtype = hf::DType::kF32;
  if (dtype == "auto") {
    // transformers' dtype="auto": the checkpoint's declared dtype, float32 if it declares none.
    if (!config.dtype.empty() && !parse_dtype_name(config.dtype, compute_dtype))
      throw InputError(file.string() + ": key 'dtype' is '" + config.dtype + "'; supported: bfloat16, float16, float32");
  } else if (!parse_dtype_name(dtype, compute_dtype)) {
    throw InputError("dtype '" + dtype + "' is not one of auto, bfloat16, float16, float32");
  }
  return resolve_model_info(config, generation, compute_dtype, family);
}

namespace {

// Whether the checkpoint stores the experts one module each or fused (transformers 5): decided
// by the first MoE layer's router, which each layout names differently or, where both name it
// alike, by its first expert's down projection.
void bind_experts_layout(ModelInfo& info, const hf::SafetensorsCheckpoint& checkpoint) {
  if (info.experts.count == 0) return;
  const ExpertsRecipe& recipe = info.family->experts;
  int64_t layer = 0;
  while (!info.is_moe_layer(layer)) ++layer;
  const std::string per_expert = recipe.down.empty() ? "" : info.expert_tensor_name(recipe.down, layer, 0) + ".weight";
  const std::string fused = info.expert_tensor_name(recipe.fused_down, layer);
  const bool mxfp4 = info.quantization.method == hf::QuantMethod::kMxfp4;
  if (!per_expert.empty() && checkpoint.contains(per_expert)) {
    info.experts.fused = false;
  } else if (!recipe.fused_down.empty() && checkpoint.contains(mxfp4 ? fused + "_blocks" : fused)) {
    info.experts.fused = true;
  } else {
    std::string looked_for;
    if (!per_expert.empty()) looked_for = "'" + per_expert + "'";
    if (!recipe.fused_down.empty())
      looked_for += (looked_for.empty() ? "'" : " nor '") + fused + (mxfp4 ? "_blocks'" : "'");
    throw InputError(checkpoint.folder().string() + ": layer " + std::to_string(layer) +
                     " is a mixture-of-experts layer, but the checkpoint has no " + looked_for +
                     " (its experts' weights)");
  }
}

}  // namespace

void bind_checkpoint_layout(ModelInfo& info, const hf::SafetensorsCheckpoint& checkpoint) {
  std::string tried;
  for (const CheckpointLayout& layout : info.family->layouts) {
    info.layout = layout;
    const std::string embed = info.tensor_name(TensorRole::kEmbedTokens) + ".weight";
    if (!checkpoint.contains(embed)) {
      tried += (tried.empty() ? "'" : " or '") + embed + "'";
      continue;
    }
    const std::string last_layer = info.tensor_name(TensorRole::kOProj, info.num_layers - 1) + ".weight";
    if (!checkpoint.contains(last_layer))
      throw InputError((checkpoint.folder() / "config.json").string() + ": key '" +
                       (info.family->is_wrapper() ? "text_config." : "") + "num_hidden_layers' is " +
                       std::to_string(info.num_layers) + ", but the checkpoint has no tensor '" + last_layer +
                       "' of its last layer");
    bind_experts_layout(info, checkpoint);
    return;
  }
  info.layout = info.family->layouts.front();
  throw InputError(checkpoint.folder().string() + ": the checkpoint has no tensor " + tried + ", so it is not a " +
                   info.family->name + " checkpoint as config.json says");
}

}  // namespace heretic::model
