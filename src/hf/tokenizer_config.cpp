#include "hf/tokenizer_config.h"

#include "hf/tok_json.h"

namespace heretic::hf {

namespace {

// A special token in tokenizer_config.json: a string, null, or an AddedToken dict.
std::optional<std::string> token_content(const JsonNode& config, const char* key) {
  if (!config.has(key)) return std::nullopt;
  const JsonNode node = config.at(key);
  if (node.value().is_string()) return node.value().get<std::string>();
  if (node.value().is_object()) return node.string("content");
  node.fail("expected a string, null or {\"content\": ...}");
}

std::optional<bool> optional_bool(const JsonNode& config, const char* key) {
  if (!config.has(key)) return std::nullopt;
  return config.boolean_or(key, false);
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::filesystem::path& folder) {
  TokenizerConfig config;
  const std::filesystem::path config_path = folder / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    const nlohmann::json document = read_json_file(config_path);
    const JsonNode root(document, config_path.string(), "");
    if (!document.is_object()) root.fail("expected a JSON object");
    config.tokenizer_class = root.string_or("tokenizer_class", "");
    config.add_bos_token = optional_bool(root, "add_bos_token");
    config.add_eos_token = optional_bool(root, "add_eos_token");
    config.bos_token = token_content(root, "bos_token");
    config.eos_token = token_content(root, "eos_token");
    config.pad_token = token_content(root, "pad_token");
    config.unk_token = token_content(root, "unk_token");
    config.clean_up_tokenization_spaces = root.boolean_or("clean_up_tokenization_spaces", false);
    config.split_special_tokens = root.boolean_or("split_special_tokens", false);
    if (root.has("additional_special_tokens")) {
      const JsonNode list = root.at("additional_special_tokens");
      for (size_t i = 0; i < list.size(); ++i) {
        const JsonNode item = list.at(i);
        if (item.value().is_string()) {
          config.additional_special_tokens.push_back(item.value().get<std::string>());
        } else {
          config.additional_special_tokens.push_back(item.string("content"));
        }
      }
    }
  }
  const std::filesystem::path generation_path = folder / "generation_config.json";
  if (std::filesystem::exists(generation_path)) {
    const nlohmann::json document = read_json_file(generation_path);
    const JsonNode root(document, generation_path.string(), "");
    if (root.has("eos_token_id")) {
      const JsonNode eos = root.at("eos_token_id");
      if (eos.value().is_number_integer()) {
        config.generation_eos_token_ids.push_back(eos.value().get<long long>());
      } else if (eos.value().is_array()) {
        for (size_t i = 0; i < eos.size(); ++i) {
          if (!eos.value()[i].is_number_integer()) eos.at(i).fail("expected an integer");
          config.generation_eos_token_ids.push_back(eos.value()[i].get<long long>());
        }
      } else {
        eos.fail("expected an integer or a list of integers");
      }
    }
  }
  return config;
}

}  // namespace heretic::hf
