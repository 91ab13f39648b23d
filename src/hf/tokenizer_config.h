// What transformers reads next to tokenizer.json: tokenizer_config.json (special token
// names, add_bos_token/add_eos_token, clean_up_tokenization_spaces, tokenizer_class) and
// generation_config.json (eos_token_id, which may list several ids).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace heretic::hf {

struct TokenizerConfig {
  std::string tokenizer_class;  // e.g. "LlamaTokenizerFast"; empty when absent
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  // Token contents; AddedToken dicts ({"content": ...}) are reduced to their content.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<std::string> unk_token;
  std::vector<std::string> additional_special_tokens;
  bool clean_up_tokenization_spaces = false;
  bool split_special_tokens = false;
  // From generation_config.json, in file order (an int or a list there).
  std::vector<long long> generation_eos_token_ids;
};

// Reads `folder`/tokenizer_config.json and `folder`/generation_config.json; both are
// optional (missing files leave the defaults). Malformed files are InputErrors.
TokenizerConfig read_tokenizer_config(const std::filesystem::path& folder);

}  // namespace heretic::hf
