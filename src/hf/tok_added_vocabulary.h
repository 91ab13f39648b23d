// Added tokens (tokenizer.json "added_tokens"): special and non-special tokens that are cut
// out of the text before normalization and pre-tokenization, with the leftmost-longest rule
// of HF's Aho-Corasick matcher. Two passes: tokens with normalized=false match the raw text,
// tokens with normalized=true match the normalized text (in their normalized spelling).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hf/tok_bpe.h"

namespace heretic::hf {

class Normalizer;

struct AddedToken {
  std::string content;
  TokenId id = 0;
  bool special = false;
  bool lstrip = false;       // the match swallows white space on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched in the normalized text instead of the raw text
  bool single_word = false;  // matched only when not inside a word
};

// A stretch of text: either an added token (token set) or a gap to be tokenized normally.
struct TextSegment {
  size_t begin = 0;
  size_t end = 0;
  std::optional<TokenId> token;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // Takes the tokens and builds the two matchers; `normalizer` (may be null) gives the
  // spelling that normalized=true tokens are matched in.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // Cuts `text` into added tokens and gaps. `normalized_pass` selects the matcher;
  // `split_special_tokens` true leaves special tokens in the text (transformers'
  // split_special_tokens).
  std::vector<TextSegment> split(std::string_view text, bool normalized_pass,
                                 bool split_special_tokens) const;

  const AddedToken* find(TokenId id) const;
  std::optional<TokenId> find(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie: the longest token starting at a position is found by walking it.
  struct Trie {
    std::unordered_map<uint64_t, int32_t> edges;  // (node << 8 | byte) -> node
    std::vector<int32_t> token_at_node{-1};       // index into tokens_, or -1
    bool first_byte[256] = {};
    void insert(std::string_view pattern, int32_t token_index);
    // End of the longest pattern starting at `begin`, and its token index; {begin, -1} if none.
    std::pair<size_t, int32_t> longest_match(std::string_view text, size_t begin) const;
  };

  std::vector<AddedToken> tokens_;
  std::unordered_map<TokenId, size_t> index_by_id_;
  std::unordered_map<std::string, size_t> index_by_content_;
  Trie raw_trie_;
  Trie normalized_trie_;
};

}  // namespace heretic::hf
