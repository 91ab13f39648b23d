// config.json of a Hugging Face causal LM, parsed without torch (architectures.md §1.1).
// Fields whose default depends on the model family stay optional here; the family in
// src/model resolves them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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
  double partial_rotary_factor = 1.0;
};

struct ModelConfig {
  std::filesystem::path file;  // for error messages
  std::string model_type;
  std::vector<std::string> architectures;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // = num_attention_heads when absent
  int64_t head_dim = 0;             // = hidden_size / num_attention_heads when absent or null
  std::string hidden_act = "silu";
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
  // The text-model JSON object itself (text_config when nested), for family-specific fields.
  nlohmann::json text_json;
};

// Reads <folder>/config.json (or the given file). Throws InputError naming the file and key.
ModelConfig read_model_config(const std::filesystem::path& config_json);
// Parses an already-loaded JSON object; `file` is only used in messages.
ModelConfig parse_model_config(const nlohmann::json& json, const std::filesystem::path& file);

}  // namespace heretic::hf
