#include "hf/tok_bpe.h"

#include <cstdio>
#include <queue>

#include "hf/tok_unicode.h"

namespace heretic::hf {

BpeModel::BpeModel(const JsonNode& model) {
  if (model.string_or("type", "BPE") != "BPE") model.unsupported("model");
  if (model.has("dropout")) {
    const auto& dropout = model.at("dropout").value();
    if (!dropout.is_number() || dropout.get<double>() != 0.0) {
      model.at("dropout").fail("BPE dropout is random and has no place in inference; set null");
    }
  }
  read_vocab(model.at("vocab"));
  fuse_unk_ = model.boolean_or("fuse_unk", false);
  byte_fallback_ = model.boolean_or("byte_fallback", false);
  ignore_merges_ = model.boolean_or("ignore_merges", false);
  continuing_subword_prefix_ = model.string_or("continuing_subword_prefix", "");
  end_of_word_suffix_ = model.string_or("end_of_word_suffix", "");
  if (model.has("unk_token")) {
    const std::string unk = model.string("unk_token");
    unk_id_ = token_to_id(unk);
    if (!unk_id_) model.at("unk_token").fail("unk token '" + unk + "' is not in the vocabulary");
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", byte);
    byte_fallback_ids_[byte] = token_to_id(name).value_or(-1);
  }
  read_merges(model.at("merges"));
}

void BpeModel::read_vocab(const JsonNode& vocab) {
  if (!vocab.value().is_object()) vocab.fail("expected an object {token: id}");
  vocab_.reserve(vocab.value().size());
  TokenId largest = -1;
  for (const auto& [token, id_value] : vocab.value().items()) {
    if (!id_value.is_number_integer() || id_value.get<long long>() < 0 ||
        id_value.get<long long>() > INT32_MAX) {
      vocab.fail("token '" + token + "' has no valid id");
    }
    const auto id = static_cast<TokenId>(id_value.get<long long>());
    token_storage_.push_back(token);
    vocab_.emplace(token_storage_.back(), id);
    largest = std::max(largest, id);
  }
  // Ids index the model's embedding: real vocabularies number their tokens 0..n-1. A few gaps
  // are tolerated; an id far beyond the entries (which would size the id table) is not.
  const size_t entries = token_storage_.size();
  if (static_cast<size_t>(largest) >= 2 * entries + 1024) {
    for (const std::string& token : token_storage_) {
      if (vocab_.at(token) == largest) {
        vocab.fail("token '" + token + "' has id " + std::to_string(largest) + ", far beyond the " +
                   std::to_string(entries) + " entries of the vocabulary (ids must number the tokens from 0)");
      }
    }
  }
  tokens_by_id_.assign(static_cast<size_t>(largest + 1), nullptr);
  for (const std::string& token : token_storage_) {
    const std::string*& slot = tokens_by_id_[static_cast<size_t>(vocab_.at(token))];
    // Two tokens with one id: decoding could not tell them apart, and a merge into one of them
    // would give back one of its own parts.
    if (slot != nullptr) {
      vocab.fail("tokens '" + *slot + "' and '" + token + "' both have id " + std::to_string(vocab_.at(token)) +
                 " (every token needs its own id)");
    }
    slot = &token;
  }
}

void BpeModel::read_merges(const JsonNode& merges) {
  const size_t count = merges.size();
  merges_.reserve(count);
  int32_t rank = 0;
  std::string merged;
  for (size_t i = 0; i < count; ++i) {
    const nlohmann::json& entry = merges.value()[i];
    std::string_view left, right;
    if (entry.is_string()) {
      const std::string_view line = entry.get_ref<const std::string&>();
      if (line.substr(0, 8) == "#version") continue;
      const size_t space = line.find(' ');
      if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos) {
        merges.at(i).fail("a merge must be two tokens separated by one space, got '" +
                          std::string(line) + "'");
      }
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
               entry[1].is_string()) {
      left = entry[0].get_ref<const std::string&>();
      right = entry[1].get_ref<const std::string&>();
    } else {
      merges.at(i).fail("a merge must be \"a b\" or [\"a\", \"b\"]");
    }
    const auto left_id = token_to_id(left);
    const auto right_id = token_to_id(right);
    merged.assign(left);
    if (!continuing_subword_prefix_.empty() &&
        right.substr(0, continuing_subword_prefix_.size()) == continuing_subword_prefix_) {
      merged.append(right.substr(continuing_subword_prefix_.size()));
    } else {
      merged.append(right);
    }
    const auto merged_id = token_to_id(merged);
    if (!left_id || !right_id || !merged_id) {
      merges.at(i).fail("merge of '" + std::string(left) + "' and '" + std::string(right) +
                        "' uses a token that is not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as the HashMap HF builds does.
    merges_[pair_key(*left_id, *right_id)] = Merge{rank, *merged_id};
    ++rank;
  }
}

std::optional<TokenId> BpeModel::token_to_id(std::string_view token) const {
  const auto found = vocab_.find(token);
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

const std::string* BpeModel::id_to_token(TokenId id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_by_id_.size()) return nullptr;
  return tokens_by_id_[static_cast<size_t>(id)];
}

std::vector<TokenId> BpeModel::merge_word(std::string_view piece) const {
  std::vector<TokenId> symbols;
  symbols.reserve(piece.size());
  // A run of unknown characters waiting to be emitted as one unk (fuse_unk) or several.
  bool unk_pending = false;
  size_t pos = 0;
  std::string with_affixes;
  while (pos < piece.size()) {
    const size_t start = pos;
    next_code_point(piece, pos);
    std::string_view character = piece.substr(start, pos - start);
    const bool first = start == 0;
    const bool last = pos == piece.size();
    if ((!first && !continuing_subword_prefix_.empty()) || (last && !end_of_word_suffix_.empty())) {
      with_affixes.clear();
      if (!first) with_affixes += continuing_subword_prefix_;
      with_affixes += character;
      if (last) with_affixes += end_of_word_suffix_;
      character = with_affixes;
    }
    if (const auto id = token_to_id(character)) {
      if (unk_pending) symbols.push_back(*unk_id_);
      unk_pending = false;
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes_known = true;
      for (const char byte : character) {
        all_bytes_known =
            all_bytes_known && byte_fallback_ids_[static_cast<unsigned char>(byte)] >= 0;
      }
      if (all_bytes_known) {
        // Like HF, a pending unk is not flushed here; it follows the byte tokens.
        for (const char byte : character) {
          symbols.push_back(byte_fallback_ids_[static_cast<unsigned char>(byte)]);
        }
        continue;
      }
    }
    if (unk_id_) {
      if (unk_pending && !fuse_unk_) symbols.push_back(*unk_id_);
      unk_pending = true;
    }
    // Without an unk token the character is dropped, as in HF.
  }
  if (unk_pending) symbols.push_back(*unk_id_);

  // Merge: a min-heap of candidate pairs ordered by (rank, position); stale entries are
  // recognised because the pair at that position no longer produces the same id.
  struct Symbol {
    TokenId id;
    int32_t prev;
    int32_t next;
    bool removed;
  };
  struct Candidate {
    int32_t rank;
    int32_t position;
    TokenId merged_id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  const auto n = static_cast<int32_t>(symbols.size());
  if (n < 2) return symbols;
  std::vector<Symbol> word(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    word[static_cast<size_t>(i)] = {symbols[static_cast<size_t>(i)], i - 1, i + 1 < n ? i + 1 : -1,
                                    false};
  std::vector<Candidate> heap_storage;
  heap_storage.reserve(static_cast<size_t>(n));
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue(
      std::greater<Candidate>(), std::move(heap_storage));
  const auto push_pair = [&](int32_t position) {
    const Symbol& left = word[static_cast<size_t>(position)];
    if (left.next < 0) return;
    const auto found = merges_.find(pair_key(left.id, word[static_cast<size_t>(left.next)].id));
    if (found != merges_.end()) queue.push({found->second.rank, position, found->second.merged_id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = word[static_cast<size_t>(top.position)];
    if (left.removed || left.next < 0) continue;
    Symbol& right = word[static_cast<size_t>(left.next)];
    const auto found = merges_.find(pair_key(left.id, right.id));
    if (found == merges_.end() || found->second.merged_id != top.merged_id) continue;
    left.id = top.merged_id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) word[static_cast<size_t>(right.next)].prev = top.position;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.position);
  }
  std::vector<TokenId> merged;
  for (int32_t i = 0; i >= 0; i = word[static_cast<size_t>(i)].next) {
    merged.push_back(word[static_cast<size_t>(i)].id);
  }
  return merged;
}

void BpeModel::tokenize(std::string_view piece, std::vector<TokenId>& ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(piece)) {
      ids.push_back(*id);
      return;
    }
  }
  std::string key(piece);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto found = cache_.find(key);
    if (found != cache_.end()) {
      ids.insert(ids.end(), found->second.begin(), found->second.end());
      return;
    }
  }
  std::vector<TokenId> merged = merge_word(piece);
  ids.insert(ids.end(), merged.begin(), merged.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < kCacheCapacity) cache_.emplace(std::move(key), std::move(merged));
}

}  // namespace heretic::hf
