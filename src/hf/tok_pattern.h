// The "pattern" of tokenizer.json's Split pre-tokenizer and Replace normalizer/decoder:
// {"String": "literal"} or {"Regex": "..."}.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hf/tok_json.h"
#include "hf/tok_regex.h"

namespace heretic::hf {

class TextPattern {
 public:
  // Reads {"String": ...} or {"Regex": ...}; a regex that does not compile is an InputError.
  explicit TextPattern(const JsonNode& node);

  // Non-overlapping, non-empty matches, leftmost first, as byte ranges.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  // `text` with every match replaced by `content`.
  std::string replace_all(std::string_view text, std::string_view content) const;

 private:
  std::string literal_;  // used when regex_ is null
  std::unique_ptr<TokenizerRegex> regex_;
};

}  // namespace heretic::hf
