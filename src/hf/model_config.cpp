#include "hf/model_config.h"

#include <fstream>
#include <iterator>

#include "common/error.h"
#include "common/json_input.h"

namespace heretic::hf {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The largest size (hidden_size, vocab_size, ...) accepted: the largest token id.
constexpr int64_t kMaxSize = 2147483647;
// The most layers accepted. Tables with an entry per layer (sliding windows, layer types) are
// built before the checkpoint is opened; the deepest released models have a few hundred layers.
constexpr int64_t kMaxLayers = 65536;

// Typed access with messages that name the file and the key.
class ConfigReader {
 public:
  ConfigReader(const json& object, fs::path file, std::string prefix)
      : object_(object), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool has(const std::string& key) const {
    const auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(file_.string() + ": key '" + prefix_ + key + "' " + what);
  }
  int64_t required_int(const std::string& key) const {
    if (!has(key)) fail(key, "is missing");
    return int_value(key);
  }
  std::optional<int64_t> optional_int(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return int_value(key);
  }
  std::optional<double> optional_double(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& value = object_.at(key);
    if (!value.is_number()) fail(key, "must be a number, not " + json_excerpt(value));
    return value.get<double>();
  }
  std::optional<bool> optional_bool(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& value = object_.at(key);
    if (!value.is_boolean()) fail(key, "must be true or false, not " + json_excerpt(value));
    return value.get<bool>();
  }
  std::optional<std::string> optional_string(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& value = object_.at(key);
    if (!value.is_string()) fail(key, "must be a string, not " + json_excerpt(value));
    return value.get<std::string>();
  }
  std::vector<std::string> string_list(const std::string& key) const {
    std::vector<std::string> result;
    if (!has(key)) return result;
    const json& value = object_.at(key);
    if (!value.is_array()) fail(key, "must be a list of strings");
    for (const json& item : value) {
      if (!item.is_string()) fail(key, "must be a list of strings, has " + json_excerpt(item));
      result.push_back(item.get<std::string>());
    }
    return result;
  }
  // An id or a list of ids (eos_token_id may be either).
  std::vector<int64_t> id_list(const std::string& key) const {
    std::vector<int64_t> result;
    if (!has(key)) return result;
    const json& value = object_.at(key);
    if (value.is_number_integer()) return {value.get<int64_t>()};
    if (!value.is_array()) fail(key, "must be an integer or a list of integers");
    for (const json& item : value) {
      if (!item.is_number_integer()) fail(key, "must be a list of integers, has " + json_excerpt(item));
      result.push_back(item.get<int64_t>());
    }
    return result;
  }

 private:
  int64_t int_value(const std::string& key) const {
    const json& value = object_.at(key);
    if (!value.is_number_integer()) fail(key, "must be an integer, not " + json_excerpt(value));
    return value.get<int64_t>();
  }

  const json& object_;
  fs::path file_;
  std::string prefix_;
};

std::vector<double> number_list(const json& object, const char* key, const fs::path& file, const std::string& prefix) {
  std::vector<double> values;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return values;
  if (!it->is_array()) throw InputError(file.string() + ": key '" + prefix + "." + key + "' must be a list of numbers");
  for (const json& item : *it) {
    if (!item.is_number())
      throw InputError(file.string() + ": key '" + prefix + "." + key + "' must be a list of numbers, has " +
                       item.dump());
    values.push_back(item.get<double>());
  }
  return values;
}

// Fills `rope` from one rope_parameters / rope_scaling object.
void read_rope_object(const json& object, const fs::path& file, const std::string& prefix, const ConfigRules& rules,
                      RopeParameters& rope) {
  if (!object.is_object()) throw InputError(file.string() + ": key '" + prefix + "' must be an object or null");
  const ConfigReader reader(object, file, prefix + ".");
  // v5 renames the legacy "type" key to "rope_type"; missing means "default".
  if (auto type = reader.optional_string("rope_type")) {
    rope.rope_type = *type;
  } else if (auto legacy = reader.optional_string("type")) {
    rope.rope_type = *legacy;
  }
  if (auto theta = reader.optional_double("rope_theta")) rope.rope_theta = theta;
  rope.factor = reader.optional_double("factor");
  rope.low_freq_factor = reader.optional_double("low_freq_factor").value_or(rope.low_freq_factor);
  rope.high_freq_factor = reader.optional_double("high_freq_factor").value_or(rope.high_freq_factor);
  if (auto orig = reader.optional_int("original_max_position_embeddings")) rope.original_max_position_embeddings = orig;
  rope.attention_factor = reader.optional_double("attention_factor");
  rope.beta_fast = reader.optional_double("beta_fast").value_or(rope.beta_fast);
  rope.beta_slow = reader.optional_double("beta_slow").value_or(rope.beta_slow);
  rope.mscale = reader.optional_double("mscale");
  rope.mscale_all_dim = reader.optional_double("mscale_all_dim");
  rope.truncate = reader.optional_bool("truncate").value_or(rope.truncate);
  if (auto partial = reader.optional_double("partial_rotary_factor")) rope.partial_rotary_factor = *partial;
  rope.short_factor = number_list(object, "short_factor", file, prefix);
  rope.long_factor = number_list(object, "long_factor", file, prefix);
  const auto alias = rules.rope_type_aliases.find(rope.rope_type);
  if (alias != rules.rope_type_aliases.end()) rope.rope_type = alias->second;
}

const std::vector<std::string> kKnownRopeTypes = {"default", "linear", "dynamic", "llama3", "yarn", "longrope"};

void validate_rope(const RopeParameters& rope, const fs::path& file, const std::string& key) {
  bool known = false;
  for (const auto& type : kKnownRopeTypes) known = known || type == rope.rope_type;
  if (!known)
    throw InputError(file.string() + ": key '" + key + "' has rope_type '" + rope.rope_type +
                     "'; known: default, linear, dynamic, llama3, yarn, longrope");
  const bool needs_factor = rope.rope_type == "linear" || rope.rope_type == "dynamic" || rope.rope_type == "llama3";
  if (needs_factor && !rope.factor)
    throw InputError(file.string() + ": key '" + key + "' of rope_type '" + rope.rope_type + "' needs 'factor'");
  if (rope.rope_type == "longrope" && (rope.short_factor.empty() || rope.long_factor.empty()))
    throw InputError(file.string() + ": key '" + key + "' of rope_type 'longrope' needs 'short_factor' and 'long_factor'");
  if (rope.partial_rotary_factor <= 0.0 || rope.partial_rotary_factor > 1.0)
    throw InputError(file.string() + ": key 'partial_rotary_factor' must be in (0, 1]");
}

// Applies the v5 normalisation rules shared by both encodings.
void finish_rope(RopeParameters& rope, const ConfigReader& top, int64_t max_position_embeddings) {
  if (!rope.rope_theta) rope.rope_theta = top.optional_double("rope_theta");
  if (auto partial = top.optional_double("partial_rotary_factor")) rope.partial_rotary_factor = *partial;
  // A top-level original_max_position_embeddings (Phi-3) takes priority.
  if (auto orig = top.optional_int("original_max_position_embeddings")) {
    rope.original_max_position_embeddings = orig;
    rope.original_max_at_top_level = true;
  }
  const bool uses_original = rope.rope_type == "llama3" || rope.rope_type == "yarn" || rope.rope_type == "longrope";
  if (uses_original && !rope.original_max_position_embeddings)
    rope.original_max_position_embeddings = max_position_embeddings;
}

// Keys a wrapper may set for its text model at the top level (e.g. Gemma 3's eos_token_id):
// an explicit top-level value beats the text model's class default.
const char* const kKeysSharedWithWrapper[] = {"tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"};

}  // namespace

json read_config_json(const fs::path& config_json) {
  std::ifstream stream(config_json, std::ios::binary);
  if (!stream) throw InputError(config_json.string() + ": cannot open (is this a Hugging Face model folder?)");
  const json root = parse_json_input(std::string(std::istreambuf_iterator<char>(stream), {}), config_json.string());
  if (!root.is_object()) throw InputError(config_json.string() + ": config.json is not a JSON object");
  return root;
}

std::string top_level_model_type(const json& root, const fs::path& file) {
  if (!root.is_object()) throw InputError(file.string() + ": config.json is not a JSON object");
  const ConfigReader outer(root, file, "");
  const auto model_type = outer.optional_string("model_type");
  if (!model_type || model_type->empty()) outer.fail("model_type", "is missing");
  return *model_type;
}

ModelConfig parse_model_config(const json& root, const fs::path& file, const ConfigRules& rules) {
  const std::string model_type = top_level_model_type(root, file);
  // Multimodal wrappers (e.g. Gemma 3) nest every text field in text_config.
  const bool nested = root.contains("text_config") && root.at("text_config").is_object();
  const json& explicit_text = nested ? root.at("text_config") : root;
  // The family's class defaults, then values the wrapper sets for its text model, then the text
  // config's own keys (present even as null).
  json text = rules.defaults.is_object() ? rules.defaults : json::object();
  if (nested) {
    for (const char* key : kKeysSharedWithWrapper) {
      if (root.contains(key)) text[key] = root.at(key);
    }
  }
  for (const auto& [key, value] : explicit_text.items()) text[key] = value;
  const std::string prefix = nested ? "text_config." : "";
  const ConfigReader top(text, file, prefix);
  const ConfigReader outer(root, file, "");

  ModelConfig config;
  config.file = file;
  config.nested = nested;
  config.text_key_prefix = prefix;
  config.text_json = text;
  config.model_type = model_type;
  config.text_model_type = nested ? top.optional_string("model_type").value_or("") : model_type;
  config.architectures = outer.string_list("architectures");
  // Quantised checkpoints: the supported formats are dequantised on load, the others rejected
  // here by name rather than tensor by tensor.
  for (const ConfigReader* reader : {&outer, &top}) {
    if (!reader->has("quantization_config")) continue;
    const bool top_level = reader == &outer;
    config.quantization = parse_quantization_config((top_level ? root : text).at("quantization_config"), file,
                                                    (top_level ? "" : prefix) + "quantization_config");
    break;
  }

  config.vocab_size = top.required_int("vocab_size");
  config.hidden_size = top.required_int("hidden_size");
  config.intermediate_size = top.optional_int("intermediate_size").value_or(0);
  config.num_hidden_layers = top.required_int("num_hidden_layers");
  config.num_attention_heads = top.required_int("num_attention_heads");
  config.num_key_value_heads = top.optional_int("num_key_value_heads").value_or(config.num_attention_heads);
  // Every size fits a token id (int32), so that products of two sizes, such as the element
  // count of a weight, cannot overflow 64 bits; the checkpoint then decides what is plausible.
  const auto check_size = [&](const char* key, int64_t value, int64_t most = kMaxSize) {
    if (value <= 0 || value > most)
      top.fail(key, "must be between 1 and " + std::to_string(most) + ", got " + std::to_string(value));
  };
  check_size("vocab_size", config.vocab_size);
  check_size("hidden_size", config.hidden_size);
  check_size("num_hidden_layers", config.num_hidden_layers, kMaxLayers);
  check_size("num_attention_heads", config.num_attention_heads);
  check_size("num_key_value_heads", config.num_key_value_heads);
  if (config.num_attention_heads % config.num_key_value_heads != 0)
    top.fail("num_key_value_heads",
             "must divide num_attention_heads (" + std::to_string(config.num_attention_heads) + ")");
  if (config.intermediate_size != 0) check_size("intermediate_size", config.intermediate_size);
  if (top.has("head_dim")) {
    config.head_dim = top.required_int("head_dim");
    check_size("head_dim", config.head_dim);
  } else {
    if (config.hidden_size % config.num_attention_heads != 0)
      top.fail("num_attention_heads", "(" + std::to_string(config.num_attention_heads) +
                                          ") must divide hidden_size (" + std::to_string(config.hidden_size) +
                                          ") when head_dim is not given");
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  if (config.head_dim % 2 != 0) top.fail("head_dim", "must be even (rotary embeddings pair its halves)");

  config.hidden_act = top.optional_string(rules.activation_key).value_or("silu");
  config.rms_norm_eps = top.optional_double("rms_norm_eps");
  config.max_position_embeddings = top.optional_int("max_position_embeddings").value_or(2048);
  config.tie_word_embeddings = top.optional_bool("tie_word_embeddings");
  config.attention_bias = top.optional_bool("attention_bias");
  config.mlp_bias = top.optional_bool("mlp_bias");
  config.sliding_window = top.optional_int("sliding_window");
  config.use_sliding_window = top.optional_bool("use_sliding_window").value_or(false);
  config.max_window_layers = top.optional_int("max_window_layers");
  config.layer_types = top.string_list("layer_types");
  if (!config.layer_types.empty() && static_cast<int64_t>(config.layer_types.size()) != config.num_hidden_layers)
    top.fail("layer_types", "has " + std::to_string(config.layer_types.size()) + " entries for " +
                                std::to_string(config.num_hidden_layers) + " layers");
  for (const auto& type : config.layer_types) {
    if (type != "full_attention" && type != "sliding_attention")
      top.fail("layer_types", "has '" + type + "'; expected full_attention or sliding_attention");
  }
  // v5 writes "dtype", v4 "torch_dtype".
  for (const ConfigReader* reader : {&top, &outer}) {
    for (const char* key : {"dtype", "torch_dtype"}) {
      if (config.dtype.empty()) config.dtype = reader->optional_string(key).value_or("");
    }
  }

  // RoPE: v5 rope_parameters (maybe nested per layer type), else legacy rope_scaling.
  if (top.has("rope_parameters")) {
    const json& parameters = text.at("rope_parameters");
    const bool per_type =
        parameters.is_object() && (parameters.contains("full_attention") || parameters.contains("sliding_attention"));
    if (per_type) {
      if (parameters.contains("full_attention"))
        read_rope_object(parameters.at("full_attention"), file, prefix + "rope_parameters.full_attention", rules,
                         config.rope);
      if (parameters.contains("sliding_attention")) {
        config.sliding_rope = RopeParameters{};
        read_rope_object(parameters.at("sliding_attention"), file, prefix + "rope_parameters.sliding_attention",
                         rules, *config.sliding_rope);
      }
    } else {
      read_rope_object(parameters, file, prefix + "rope_parameters", rules, config.rope);
    }
  } else if (top.has("rope_scaling")) {
    read_rope_object(text.at("rope_scaling"), file, prefix + "rope_scaling", rules, config.rope);
  }
  finish_rope(config.rope, top, config.max_position_embeddings);
  validate_rope(config.rope, file, prefix + "rope_parameters");
  if (config.sliding_rope) {
    finish_rope(*config.sliding_rope, top, config.max_position_embeddings);
    validate_rope(*config.sliding_rope, file, prefix + "rope_parameters.sliding_attention");
  }

  config.bos_token_id = top.optional_int("bos_token_id");
  config.eos_token_ids = top.id_list("eos_token_id");
  config.pad_token_id = top.optional_int("pad_token_id");
  return config;
}

ModelConfig read_model_config(const fs::path& config_json, const ConfigRules& rules) {
  return parse_model_config(read_config_json(config_json), config_json, rules);
}

}  // namespace heretic::hf
