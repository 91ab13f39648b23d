#include "hf/tokenizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "common/error.h"
#include "hf/tok_decoder.h"
#include "hf/tok_json.h"
#include "hf/tok_normalizer.h"
#include "hf/tok_pretokenizer.h"
#include "hf/tok_unicode.h"

namespace heretic::hf {

namespace {

std::vector<AddedToken> read_added_tokens(const JsonNode& root) {
  std::vector<AddedToken> tokens;
  if (!root.has("added_tokens")) return tokens;
  const JsonNode list = root.at("added_tokens");
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonNode entry = list.at(i);
    AddedToken token;
    token.id = static_cast<TokenId>(entry.integer("id"));
    token.content = entry.string("content");
    token.special = entry.boolean_or("special", false);
    token.lstrip = entry.boolean_or("lstrip", false);
    token.rstrip = entry.boolean_or("rstrip", false);
    token.normalized = entry.boolean_or("normalized", !token.special);
    token.single_word = entry.boolean_or("single_word", false);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// HF ignores the "id" written next to an added token (it only warns when it differs): the
// token gets its vocabulary id when the model has it, else the next id after the model
// vocabulary and the added tokens before it. Repeated contents are dropped.
std::vector<AddedToken> assign_added_token_ids(std::vector<AddedToken> tokens,
                                               const BpeModel& model, const std::string& file) {
  std::vector<AddedToken> assigned;
  std::unordered_set<std::string> seen;
  const auto vocab_count = static_cast<TokenId>(model.vocab_count());
  std::optional<TokenId> largest;
  size_t renumbered = 0;
  for (AddedToken& token : tokens) {
    if (token.content.empty()) continue;
    if (!seen.insert(token.content).second) continue;
    TokenId id = 0;
    if (const auto in_vocab = model.token_to_id(token.content)) {
      id = *in_vocab;
    } else if (!largest) {
      id = vocab_count;
    } else {
      id = (*largest >= vocab_count || vocab_count == 0) ? *largest + 1 : vocab_count;
    }
    if (id != token.id && renumbered++ == 0) {
      spdlog::warn("{}: added token '{}' is written with id {} but gets id {}, as in HF", file,
                   token.content, token.id, id);
    }
    token.id = id;
    largest = largest ? std::max(*largest, id) : id;
    assigned.push_back(std::move(token));
  }
  if (renumbered > 1) {
    spdlog::warn("{}: {} added tokens in all get other ids than written", file, renumbered);
  }
  return assigned;
}

bool rebuilds_post_processor(const std::string& tokenizer_class) {
  static const char* const kClasses[] = {"LlamaTokenizer",     "LlamaTokenizerFast",
                                         "GemmaTokenizer",     "GemmaTokenizerFast",
                                         "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"};
  return std::find(std::begin(kClasses), std::end(kClasses), tokenizer_class) != std::end(kClasses);
}

}  // namespace

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_folder(const std::filesystem::path& folder,
                                 const TokenizerOptions& options) {
  const std::filesystem::path json_path = folder / "tokenizer.json";
  if (!std::filesystem::exists(json_path)) {
    throw InputError(json_path.string() +
                     ": not found (heretic-mpi needs the fast-tokenizer file tokenizer.json; "
                     "a model with only tokenizer.model/vocab files is not supported)");
  }
  Tokenizer tokenizer;
  tokenizer.folder_ = folder;
  tokenizer.config_ = read_tokenizer_config(folder);

  const nlohmann::json document = read_json_file(json_path);
  const JsonNode root(document, json_path.string(), "");
  if (!document.is_object()) root.fail("expected a JSON object");
  if (root.has("normalizer")) tokenizer.normalizer_ = make_normalizer(root.at("normalizer"));
  if (root.has("pre_tokenizer")) {
    tokenizer.pre_tokenizer_ = make_pre_tokenizer(root.at("pre_tokenizer"));
  }
  tokenizer.model_ = std::make_unique<BpeModel>(root.at("model"));
  tokenizer.added_ = AddedVocabulary(
      assign_added_token_ids(read_added_tokens(root), *tokenizer.model_, json_path.string()),
      tokenizer.normalizer_.get());
  if (root.has("post_processor")) {
    tokenizer.post_processor_ = make_post_processor(root.at("post_processor"));
  }
  if (root.has("decoder")) tokenizer.decoder_ = make_decoder(root.at("decoder"));
  // The ids a post-processor adds go into the model like any other: each must be a token.
  for (const PostProcessor::Item& item : tokenizer.post_processor_.items()) {
    for (size_t k = 0; k < item.ids.size(); ++k) {
      if (!tokenizer.id_to_token(item.ids[k])) {
        root.at("post_processor")
            .fail("special token '" + item.tokens[k] + "' has id " + std::to_string(item.ids[k]) +
                  ", which is neither in the vocabulary nor an added token");
      }
    }
  }
  if (root.has("truncation") || root.has("padding")) {
    spdlog::debug("{}: truncation/padding settings are ignored (callers pad explicitly)",
                  json_path.string());
  }

  const TokenizerConfig& config = tokenizer.config_;
  const std::string config_file = (folder / "tokenizer_config.json").string();
  tokenizer.bos_id_ = tokenizer.find_config_token(config.bos_token, "bos_token");
  tokenizer.pad_token_id_ = tokenizer.find_config_token(config.pad_token, "pad_token");
  if (const auto eos = tokenizer.find_config_token(config.eos_token, "eos_token")) {
    tokenizer.eos_ids_.push_back(*eos);
  }
  for (const long long id : config.generation_eos_token_ids) {
    const auto token_id = static_cast<TokenId>(id);
    if (std::find(tokenizer.eos_ids_.begin(), tokenizer.eos_ids_.end(), token_id) ==
        tokenizer.eos_ids_.end()) {
      tokenizer.eos_ids_.push_back(token_id);
    }
  }

  if (options.transformers_post_processor && rebuilds_post_processor(config.tokenizer_class)) {
    // LlamaTokenizerFast.update_post_processor: "<bos> $A <eos>" from the two flags.
    std::vector<PostProcessor::Item> items;
    const auto special_item = [&](const std::optional<std::string>& content,
                                  const std::optional<TokenId>& id, const char* flag) {
      if (!content || !id) {
        throw InputError(config_file + ": " + flag + " is true but the token it adds is not set");
      }
      PostProcessor::Item item;
      item.ids.push_back(*id);
      item.tokens.push_back(*content);
      return item;
    };
    if (config.add_bos_token.value_or(true)) {
      items.push_back(special_item(config.bos_token, tokenizer.bos_id_, "add_bos_token"));
    }
    PostProcessor::Item sequence;
    sequence.is_sequence = true;
    items.push_back(sequence);
    if (config.add_eos_token.value_or(false)) {
      const std::optional<TokenId> eos =
          tokenizer.eos_ids_.empty() ? std::nullopt : std::optional<TokenId>(tokenizer.eos_ids_[0]);
      items.push_back(special_item(config.eos_token, eos, "add_eos_token"));
    }
    tokenizer.post_processor_ = PostProcessor(std::move(items));
  }
  return tokenizer;
}

std::optional<TokenId> Tokenizer::find_config_token(const std::optional<std::string>& content,
                                                    const std::string& key) const {
  if (!content) return std::nullopt;
  const auto id = token_to_id(*content);
  if (!id) {
    throw InputError((folder_ / "tokenizer_config.json").string() + ": " + key + " '" + *content +
                     "' is not a token of tokenizer.json");
  }
  return id;
}

void Tokenizer::encode_gap(std::string_view gap, bool at_input_start, std::vector<TokenId>& ids,
                           std::vector<std::string>* tokens) const {
  std::string normalized(gap);
  if (normalizer_) normalizer_->normalize(normalized);
  for (const TextSegment& segment : added_.split(normalized, true, config_.split_special_tokens)) {
    if (segment.token) {
      ids.push_back(*segment.token);
      if (tokens) tokens->push_back(normalized.substr(segment.begin, segment.end - segment.begin));
      continue;
    }
    std::vector<PreToken> pieces;
    pieces.push_back({normalized.substr(segment.begin, segment.end - segment.begin),
                      at_input_start && segment.begin == 0});
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    const size_t first_new = ids.size();
    for (const PreToken& piece : pieces) model_->tokenize(piece.text, ids);
    if (tokens) {
      for (size_t i = first_new; i < ids.size(); ++i) {
        const std::string* token = model_->id_to_token(ids[i]);
        tokens->push_back(token != nullptr ? *token : std::string());
      }
    }
  }
}

void Tokenizer::encode_into(std::string_view text, bool add_special_tokens,
                            std::vector<TokenId>& ids, std::vector<std::string>* tokens) const {
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = repair_utf8(text);
    text = repaired;
  }
  ids.reserve(text.size() / 3 + 4);
  for (const TextSegment& segment : added_.split(text, false, config_.split_special_tokens)) {
    const std::string_view span = text.substr(segment.begin, segment.end - segment.begin);
    if (segment.token) {
      ids.push_back(*segment.token);
      if (tokens) tokens->emplace_back(span);
    } else {
      encode_gap(span, segment.begin == 0, ids, tokens);
    }
  }
  if (add_special_tokens && !post_processor_.adds_nothing()) {
    std::vector<std::string> unused(ids.size());
    post_processor_.apply(ids, tokens ? *tokens : unused);
  }
}

std::vector<TokenId> Tokenizer::encode_ids(std::string_view text, bool add_special_tokens) const {
  std::vector<TokenId> ids;
  encode_into(text, add_special_tokens, ids, nullptr);
  return ids;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding encoding;
  encoding.tokens.reserve(text.size() / 3 + 4);
  encode_into(text, add_special_tokens, encoding.ids, &encoding.tokens);
  return encoding;
}

BatchEncoding Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                      bool add_special_tokens) const {
  const std::optional<TokenId> pad = pad_id();
  if (!pad) {
    throw InputError((folder_ / "tokenizer_config.json").string() +
                     ": batch encoding needs pad_token or eos_token, and neither is set");
  }
  std::vector<std::vector<TokenId>> rows;
  rows.reserve(texts.size());
  size_t longest = 0;
  for (const std::string& text : texts) {
    rows.push_back(encode_ids(text, add_special_tokens));
    longest = std::max(longest, rows.back().size());
  }
  BatchEncoding batch;
  batch.rows = rows.size();
  batch.columns = longest;
  batch.ids.assign(batch.rows * batch.columns, *pad);
  batch.attention_mask.assign(batch.rows * batch.columns, 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t offset = r * longest + (longest - rows[r].size());  // left padding
    for (size_t c = 0; c < rows[r].size(); ++c) {
      batch.ids[offset + c] = rows[r][c];
      batch.attention_mask[offset + c] = 1;
    }
  }
  return batch;
}

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const TokenId id : ids) {
    if (const AddedToken* added = added_.find(id)) {
      if (skip_special_tokens && added->special) continue;
      tokens.push_back(added->content);
    } else if (const std::string* token = model_->id_to_token(id)) {
      tokens.push_back(*token);
    }
  }
  std::string text;
  if (decoder_) {
    decoder_->decode_chain(tokens);
    for (const std::string& token : tokens) text += token;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text += ' ';
      text += tokens[i];
    }
  }
  return text;
}

std::optional<TokenId> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto id = added_.find(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(TokenId id) const {
  if (const AddedToken* added = added_.find(id)) return added->content;
  if (const std::string* token = model_->id_to_token(id)) return *token;
  return std::nullopt;
}

bool Tokenizer::is_special(TokenId id) const {
  const AddedToken* added = added_.find(id);
  return added != nullptr && added->special;
}

size_t Tokenizer::vocab_size() const {
  size_t limit = model_->id_limit();
  for (const AddedToken& token : added_.tokens()) {
    limit = std::max(limit, static_cast<size_t>(token.id) + 1);
  }
  return limit;
}

std::optional<TokenId> Tokenizer::pad_id() const {
  if (pad_token_id_) return pad_token_id_;
  if (!eos_ids_.empty()) return eos_ids_.front();
  return std::nullopt;
}

std::string clean_up_tokenization(std::string text) {
  static const std::pair<const char*, const char*> kReplacements[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kReplacements) {
    const std::string pattern(from), replacement(to);
    std::string out;
    size_t start = 0;
    for (size_t found = text.find(pattern); found != std::string::npos;
         found = text.find(pattern, start)) {
      out.append(text, start, found - start);
      out += replacement;
      start = found + pattern.size();
    }
    out.append(text, start, std::string::npos);
    text = std::move(out);
  }
  return text;
}

}  // namespace heretic::hf
