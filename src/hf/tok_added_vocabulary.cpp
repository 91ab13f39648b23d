#include "hf/tok_added_vocabulary.h"

#include <algorithm>

#include "hf/tok_normalizer.h"
#include "hf/tok_unicode.h"

namespace heretic::hf {

void AddedVocabulary::Trie::insert(std::string_view pattern, int32_t token_index) {
  if (pattern.empty()) return;
  int32_t node = 0;
  for (const char ch : pattern) {
    const auto byte = static_cast<unsigned char>(ch);
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | byte;
    const auto found = edges.find(key);
    if (found != edges.end()) {
      node = found->second;
    } else {
      const auto created = static_cast<int32_t>(token_at_node.size());
      token_at_node.push_back(-1);
      edges.emplace(key, created);
      node = created;
    }
  }
  first_byte[static_cast<unsigned char>(pattern[0])] = true;
  // Two tokens with the same spelling: the first one declared wins.
  if (token_at_node[static_cast<size_t>(node)] < 0)
    token_at_node[static_cast<size_t>(node)] = token_index;
}

std::pair<size_t, int32_t> AddedVocabulary::Trie::longest_match(std::string_view text,
                                                                size_t begin) const {
  std::pair<size_t, int32_t> best{begin, -1};
  int32_t node = 0;
  for (size_t pos = begin; pos < text.size(); ++pos) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[pos]);
    const auto found = edges.find(key);
    if (found == edges.end()) break;
    node = found->second;
    if (token_at_node[static_cast<size_t>(node)] >= 0) {
      best = {pos + 1, token_at_node[static_cast<size_t>(node)]};
    }
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    index_by_id_.emplace(token.id, i);
    index_by_content_.emplace(token.content, i);
    if (token.normalized) {
      std::string spelling = token.content;
      if (normalizer != nullptr) normalizer->normalize(spelling);
      normalized_trie_.insert(spelling, static_cast<int32_t>(i));
    } else {
      raw_trie_.insert(token.content, static_cast<int32_t>(i));
    }
  }
}

const AddedToken* AddedVocabulary::find(TokenId id) const {
  const auto found = index_by_id_.find(id);
  return found == index_by_id_.end() ? nullptr : &tokens_[found->second];
}

std::optional<TokenId> AddedVocabulary::find(std::string_view content) const {
  const auto found = index_by_content_.find(std::string(content));
  if (found == index_by_content_.end()) return std::nullopt;
  return tokens_[found->second].id;
}

namespace {

// The code point that ends just before byte `end` of valid UTF-8 `text`.
char32_t code_point_before(std::string_view text, size_t end, size_t* start) {
  size_t begin = end - 1;
  while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
  *start = begin;
  size_t pos = begin;
  return next_code_point(text, pos);
}

}  // namespace

std::vector<TextSegment> AddedVocabulary::split(std::string_view text, bool normalized_pass,
                                                bool split_special_tokens) const {
  const Trie& trie = normalized_pass ? normalized_trie_ : raw_trie_;
  std::vector<TextSegment> segments;
  if (trie.token_at_node.size() == 1) {
    if (!text.empty()) segments.push_back({0, text.size(), std::nullopt});
    return segments;
  }
  size_t gap_start = 0;  // end of the previous match
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.first_byte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [match_end, token_index] = trie.longest_match(text, pos);
    if (token_index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<size_t>(token_index)];
    size_t start = pos;
    size_t stop = match_end;
    pos = match_end;  // like Aho-Corasick, a rejected match is not searched again inside
    if (split_special_tokens && token.special) continue;
    if (token.single_word) {
      size_t unused = 0;
      const bool word_before =
          start > 0 && is_unicode_word_char(code_point_before(text, start, &unused));
      size_t after = stop;
      const bool word_after =
          stop < text.size() && is_unicode_word_char(next_code_point(text, after));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) {
      while (start > gap_start) {
        size_t previous = 0;
        if (!is_unicode_whitespace(code_point_before(text, start, &previous))) break;
        start = previous;
      }
    }
    if (token.rstrip) {
      while (stop < text.size()) {
        size_t next = stop;
        if (!is_unicode_whitespace(next_code_point(text, next))) break;
        stop = next;
      }
      pos = stop;
    }
    if (start > gap_start) segments.push_back({gap_start, start, std::nullopt});
    segments.push_back({start, stop, token.id});
    gap_start = stop;
  }
  if (gap_start < text.size()) segments.push_back({gap_start, text.size(), std::nullopt});
  return segments;
}

}  // namespace heretic::hf
