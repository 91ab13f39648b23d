// The architecture registry: every supported model family is data (FamilyTraits) defined in
// its own family_<name>.cpp and listed once in architecture_registry.cpp. Adding a family
// means one new file plus one enum value and one registry line; a test fails when an enum
// value has no registered family.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heretic::model {

enum class Architecture { kLlama, kMistral, kQwen2, kQwen3 };
constexpr int kArchitectureCount = 4;

// Which layers use a sliding-window mask when config.json has no layer_types (§3.2-3.4).
enum class SlidingRule {
  kNever,                  // Llama
  kEveryLayerIfWindowSet,  // Mistral: all layers slide iff sliding_window is non-null
  kFromMaxWindowLayers,    // Qwen2/3: layer i slides iff use_sliding_window && i >= max_window_layers
};

// What distinguishes one family's forward pass and checkpoint from the shared Llama-style
// decoder. Defaults are transformers' config-class defaults, used when config.json omits a key.
struct FamilyTraits {
  Architecture architecture = Architecture::kLlama;
  std::string name;                      // "llama"
  std::vector<std::string> model_types;  // config.json model_type values it accepts
  double default_rms_norm_eps = 1e-6;
  double default_rope_theta = 10000.0;
  bool default_tie_word_embeddings = false;
  bool qkv_bias_always = false;  // q/k/v projections have biases regardless of config (Qwen2)
  bool qk_norm = false;          // per-head RMSNorm on q and k before RoPE (Qwen3)
  SlidingRule sliding_rule = SlidingRule::kNever;
  // sliding_window when the key is absent (null means "none"); Mistral's class default 4096.
  std::optional<int64_t> default_sliding_window;
  int64_t default_max_window_layers = 28;
  // head_dim when config.json omits it or sets null; 0 derives hidden_size / heads (§1.1).
  int64_t default_head_dim = 0;
};

// One function per family, each in its own file.
const FamilyTraits& llama_family();
const FamilyTraits& mistral_family();
const FamilyTraits& qwen2_family();
const FamilyTraits& qwen3_family();

// Every registered family, in enum order.
const std::vector<const FamilyTraits*>& registered_families();
const FamilyTraits& family_of(Architecture architecture);
// The family accepting `model_type`; throws InputError naming `config_file` and listing the
// supported model types when none does.
const FamilyTraits& family_for_model_type(const std::string& model_type, const std::string& config_file);
std::vector<std::string> supported_model_types();

}  // namespace heretic::model
