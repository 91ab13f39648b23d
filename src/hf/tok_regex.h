// The regular expressions of tokenizer.json (Split pre-tokenizers, Replace normalizers and
// decoders) compiled with PCRE2 in UTF + UCP mode, JIT-compiled where the platform allows.
//
// Hugging Face runs these patterns with Oniguruma. PCRE2 agrees with it on every input once
// \s and \S are spelled as the explicit White_Space list, because PCRE2 counts U+180E as a
// space and Oniguruma does not (spec: tokenizers-and-chat-templates.md §3); the constructor
// makes that rewrite.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heretic::hf {

class TokenizerRegex {
 public:
  // Compiles `pattern` (as written in tokenizer.json). Throws std::invalid_argument with
  // PCRE2's message and offset when the pattern does not compile.
  explicit TokenizerRegex(const std::string& pattern);
  ~TokenizerRegex();
  TokenizerRegex(const TokenizerRegex&) = delete;
  TokenizerRegex& operator=(const TokenizerRegex&) = delete;

  // Byte ranges [begin, end) of the successive non-overlapping, non-empty matches in valid
  // UTF-8 `text`, leftmost first (the matches Rust's find_iter reports, minus empty ones).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  std::string pattern_;
  std::unique_ptr<Compiled> compiled_;
};

// The pattern with \s and \S replaced by explicit White_Space classes (see above). Exposed
// for tests.
std::string rewrite_whitespace_classes(const std::string& pattern);

// `literal` escaped so that PCRE2 matches it verbatim.
std::string escape_regex_literal(std::string_view literal);

}  // namespace heretic::hf
