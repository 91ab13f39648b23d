#include "common/error.h"
#include "fuzz_input.h"
#include "fuzz_targets.h"
#include "model/model_info.h"

namespace heretic::fuzz {

int fuzz_model_config(const uint8_t* data, size_t size) {
  // config.json, then (after a NUL) generation_config.json when present.
  static const ScratchFolder folder("model_config");
  const auto sections = split_sections(data, size, 2);
  folder.write("config.json", sections[0]);
  if (sections.size() > 1) {
    folder.write("generation_config.json", sections[1]);
  } else {
    folder.remove("generation_config.json");
  }
  try {
    // Resolved as the model loader resolves it: family, rules, generation_config.json, dtype.
    const model::ModelInfo info = model::read_model_info(folder.path(), "auto");
    // What the forward pass relies on once a configuration is accepted.
    FUZZ_CHECK(info.hidden_size > 0 && info.num_layers > 0 && info.vocab_size > 0, info.model_type);
    FUZZ_CHECK(info.num_heads > 0 && info.num_kv_heads > 0 && info.num_heads % info.num_kv_heads == 0,
               std::to_string(info.num_heads) + " heads, " + std::to_string(info.num_kv_heads) + " kv heads");
    FUZZ_CHECK(info.head_dim > 0 && info.head_dim % 2 == 0, std::to_string(info.head_dim));
    FUZZ_CHECK(static_cast<int64_t>(info.sliding_window.size()) == info.num_layers, "sliding windows");
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace heretic::fuzz
