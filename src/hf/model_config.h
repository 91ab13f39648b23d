// config.json of a Hugging Face causal LM, parsed without torch (architectures.md §1.1).
// Fields whose default depends on the model family stay optional here; the family in
// src/model resolves them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hf/quantization_config.h"

namespace heretic::hf {

// One RoPE configuration, normalised to transformers 5.x's rope_parameters (§1.5).
struct RopeParameters {
  std::string rope_type = "default";  // default, linear, dynamic, llama3, yarn, longrope
  std::optional<double> rope_theta;   // family default when absent
  std::optional<double> factor;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  std::optional<int64_t> original_max_position_embeddings;
  std::optional<double> attention_factor;  // yarn, longrope
  double beta_fast = 32.0;                 // yarn
  double beta_slow = 1.0;                  // yarn
  std::optional<double> mscale;            // yarn
  std::optional<double> mscale_all_dim;    // yarn
  bool truncate = true;                    // yarn
  std::vector<double> short_factor;        // longrope, rotary_dim / 2 entries
  std::vector<double> long_factor;         // longrope
  // The config has a top-level original_max_position_embeddings (Phi-3): longrope's factor is
  // then max_position_embeddings / original, whatever rope_scaling says.
  bool original_max_at_top_level = false;
  double partial_rotary_factor = 1.0;
};

// What a model family tells the parser (src/model's registry passes it; this layer knows no
// family): transformers' config-class defaults for keys the text config omits, the key naming
// the MLP activation, and legacy rope type names.
struct ConfigRules {
  nlohmann::json defaults = nlohmann::json::object();
  std::string activation_key = "hidden_act";
  std::map<std::string, std::string> rope_type_aliases;  // e.g. Phi-3: su -> longrope
};

struct ModelConfig {
  std::filesystem::path file;  // for error messages
  std::string model_type;       // the top-level model_type (the wrapper's for multimodal models)
  std::string text_model_type;  // text_config's model_type when nested, else model_type
  bool nested = false;          // the text model is text_config
  std::vector<std::string> architectures;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // = num_attention_heads when absent
  int64_t head_dim = 0;             // = hidden_size / num_attention_heads when absent or null
  std::string hidden_act = "silu";  // the value of ConfigRules::activation_key
  std::optional<double> rms_norm_eps;
  int64_t max_position_embeddings = 0;
  std::optional<bool> tie_word_embeddings;
  std::optional<bool> attention_bias;
  std::optional<bool> mlp_bias;
  std::optional<int64_t> sliding_window;  // null/absent -> no sliding window
  bool use_sliding_window = false;        // qwen2/qwen3
  std::optional<int64_t> max_window_layers;
  std::vector<std::string> layer_types;        // "full_attention" / "sliding_attention"; may be empty
  std::string dtype;                           // "bfloat16", "float16", "float32" or "" when absent
  RopeParameters rope;                         // full-attention layers
  std::optional<RopeParameters> sliding_rope;  // rope_parameters nested per layer type
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  QuantizationConfig quantization;  // quantization_config (top level or text_config)
  // The text-model JSON object (text_config when nested) with the rules' defaults filled in,
  // for family-specific fields.
  nlohmann::json text_json;
  std::string text_key_prefix;  // "text_config." when nested, for messages
};

// The JSON object in `config_json`. Throws InputError naming the file.
nlohmann::json read_config_json(const std::filesystem::path& config_json);
// The top-level model_type of a config.json object; throws InputError naming the file.
std::string top_level_model_type(const nlohmann::json& root, const std::filesystem::path& file);

// Reads <folder>/config.json (or the given file). Throws InputError naming the file and key.
ModelConfig read_model_config(const std::filesystem::path& config_json, const ConfigRules& rules = {});
// Parses an already-loaded JSON object; `file` is only used in messages.
ModelConfig parse_model_config(const nlohmann::json& json, const std::filesystem::path& file,
                               const ConfigRules& rules = {});

}  // namespace heretic::hf
