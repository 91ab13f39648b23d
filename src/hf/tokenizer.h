// Hugging Face tokenizers without Python: loads tokenizer.json (+ tokenizer_config.json and
// generation_config.json) and encodes/decodes exactly as HF tokenizers 0.22 does for BPE
// models (byte-level: Qwen, Llama 3, gpt-oss, DeepSeek; SentencePiece-style with
// byte_fallback: Gemma, Mistral/Llama 2). Spec: shared/spec/tokenizers-and-chat-templates.md.
//
// Encode pipeline: added tokens are cut out of the raw text first, each remaining gap is
// normalized, normalized added tokens are cut out, the rest is pre-tokenized into pieces and
// each piece goes through BPE; the post-processor adds BOS/EOS on request.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hf/tok_added_vocabulary.h"
#include "hf/tok_bpe.h"
#include "hf/tok_post_processor.h"
#include "hf/tokenizer_config.h"

namespace heretic::hf {

class Normalizer;
class PreTokenizer;
class Decoder;

struct Encoding {
  std::vector<TokenId> ids;
  // Token strings as in the vocabulary ("Ġworld", "▁Hi"); an added token shows the text it
  // matched, including white space its lstrip/rstrip swallowed (as HF reports it).
  std::vector<std::string> tokens;
};

// A left-padded batch, row-major, ready for torch::from_blob: ids [rows, columns] and
// attention_mask [rows, columns] (1 for real tokens, 0 for padding on the left).
struct BatchEncoding {
  size_t rows = 0;
  size_t columns = 0;
  std::vector<int64_t> ids;
  std::vector<int64_t> attention_mask;
};

struct TokenizerOptions {
  // transformers' LlamaTokenizerFast/GemmaTokenizerFast (and CodeLlama) rebuild the
  // post-processor from add_bos_token/add_eos_token, so that DeepSeek V3 gets its BOS on
  // tokenizer(text). false keeps tokenizer.json's post-processor, as raw HF tokenizers does.
  bool transformers_post_processor = true;
};

class Tokenizer {
 public:
  // Reads `folder`/tokenizer.json (required), tokenizer_config.json and
  // generation_config.json (optional). Bad files and unsupported components are InputErrors
  // naming the file and key.
  static Tokenizer from_folder(const std::filesystem::path& folder,
                               const TokenizerOptions& options = {});

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Encodes `text` (UTF-8; invalid sequences are replaced by U+FFFD first, as Python would
  // when reading text with errors="replace"). add_special_tokens applies the post-processor.
  Encoding encode(std::string_view text, bool add_special_tokens) const;
  std::vector<TokenId> encode_ids(std::string_view text, bool add_special_tokens) const;

  // Encodes every text and left-pads to the longest with pad_id(). Heretic calls
  // tokenizer(texts, padding=True), i.e. add_special_tokens=true, on rendered chat prompts.
  BatchEncoding encode_batch(const std::vector<std::string>& texts, bool add_special_tokens) const;

  // Decodes as HF tokenizers' decode: unknown ids are skipped, special tokens dropped when
  // asked, then the decoder chain runs. No transformers clean-up (see below).
  std::string decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const;

  std::optional<TokenId> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(TokenId id) const;
  bool is_special(TokenId id) const;
  // One more than the largest id (model vocabulary and added tokens together).
  size_t vocab_size() const;

  // End-of-sequence ids: eos_token of tokenizer_config.json, then generation_config.json's
  // eos_token_id entries (duplicates removed).
  const std::vector<TokenId>& eos_ids() const { return eos_ids_; }
  std::optional<TokenId> bos_id() const { return bos_id_; }
  // The padding id: pad_token, or the first EOS id when there is none (as Heretic sets
  // pad_token = eos_token).
  std::optional<TokenId> pad_id() const;

  // Special token contents for chat templates (transformers' special_tokens_map).
  const TokenizerConfig& config() const { return config_; }
  const std::vector<AddedToken>& added_tokens() const { return added_.tokens(); }
  // transformers' clean_up_tokenization_spaces setting of this model.
  bool clean_up_tokenization_spaces() const { return config_.clean_up_tokenization_spaces; }

 private:
  Tokenizer();
  // Encodes into `ids`, and into `tokens` when it is not null.
  void encode_into(std::string_view text, bool add_special_tokens, std::vector<TokenId>& ids,
                   std::vector<std::string>* tokens) const;
  void encode_gap(std::string_view gap, bool at_input_start, std::vector<TokenId>& ids,
                  std::vector<std::string>* tokens) const;
  std::optional<TokenId> find_config_token(const std::optional<std::string>& content,
                                           const std::string& key) const;

  std::filesystem::path folder_;
  TokenizerConfig config_;
  AddedVocabulary added_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  PostProcessor post_processor_;
  std::unique_ptr<Decoder> decoder_;
  std::vector<TokenId> eos_ids_;
  std::optional<TokenId> bos_id_;
  std::optional<TokenId> pad_token_id_;
};

// transformers' clean_up_tokenization: removes the space before . ? ! , and English
// contractions (" n't", " 's", ...). Applied after decode when the model's
// tokenizer_config.json sets clean_up_tokenization_spaces (Llama 3).
std::string clean_up_tokenization(std::string text);

}  // namespace heretic::hf
