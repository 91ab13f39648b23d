// The BPE model of tokenizer.json in both flavours found in real models: byte-level
// (Qwen, Llama 3, gpt-oss, DeepSeek: every piece is already mapped to byte characters) and
// SentencePiece-style (Gemma, Mistral/Llama 2: byte_fallback to <0xXX> tokens, unk with
// fuse_unk). Merges may be written as "a b" strings or ["a", "b"] pairs; ignore_merges
// looks the whole piece up first. Merging uses a priority queue (rank, then position), so a
// long piece costs O(n log n), never O(n²).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hf/tok_json.h"

namespace heretic::hf {

using TokenId = int32_t;

class BpeModel {
 public:
  // Reads the "model" object of tokenizer.json; anything but type "BPE" (or a BPE option this
  // implementation does not support, such as dropout) is an InputError naming the key.
  explicit BpeModel(const JsonNode& model);

  // Appends the ids of one pre-tokenized piece to `ids`.
  void tokenize(std::string_view piece, std::vector<TokenId>& ids) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  // The token string of `id`, or nullptr when the vocabulary has no such id.
  const std::string* id_to_token(TokenId id) const;
  // One more than the largest id of the vocabulary.
  size_t id_limit() const { return tokens_by_id_.size(); }
  // Number of vocabulary entries (HF's get_vocab_size).
  size_t vocab_count() const { return vocab_.size(); }

 private:
  struct Merge {
    int32_t rank;
    TokenId merged_id;
  };
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void read_vocab(const JsonNode& vocab);
  void read_merges(const JsonNode& merges);
  // The initial symbols of `piece` (characters, byte-fallback bytes, unk) after merging.
  std::vector<TokenId> merge_word(std::string_view piece) const;

  std::deque<std::string> token_storage_;  // stable addresses for the views below
  std::unordered_map<std::string_view, TokenId> vocab_;
  std::vector<const std::string*> tokens_by_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<TokenId> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  TokenId byte_fallback_ids_[256];  // id of "<0xXX>", or -1

  // Cache of merged words (HF keeps one too); bounded so that huge inputs do not grow it
  // without limit.
  static constexpr size_t kCacheCapacity = 200000;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace heretic::hf
