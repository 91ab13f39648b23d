// Loading a model folder the way transformers does: special tokens from
// tokenizer_config.json and generation_config.json, the BOS rule of Llama/Gemma classes,
// batches with left padding, and the errors a user sees for a bad or unsupported file.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/error.h"
#include "tokenizer_test_support.h"

namespace heretic::hf {
namespace {

using testing::real_tokenizer;
using testing::write_tokenizer_folder;

TEST(RealTokenizerFolders, AddBosLikeTransformers) {
  // DeepSeek V3's tokenizer.json has no BOS template, but its LlamaTokenizerFast class with
  // add_bos_token=true makes transformers add <｜begin▁of▁sentence｜> (id 0).
  const Tokenizer& deepseek = real_tokenizer("deepseek_v3", true);
  const auto plain = deepseek.encode_ids("Hello", false);
  const auto with_bos = deepseek.encode_ids("Hello", true);
  ASSERT_EQ(with_bos.size(), plain.size() + 1);
  EXPECT_EQ(with_bos[0], 0);
  EXPECT_EQ(real_tokenizer("deepseek_v3", false).encode_ids("Hello", true), plain);
  // Llama 3.1 keeps its template (one BOS), Qwen3 adds nothing. (For the other tokenizers
  // both settings agree; the conformance test loads them with the raw post-processor.)
  const Tokenizer llama = Tokenizer::from_folder(testing::real_tokenizer_folder("llama2"));
  EXPECT_EQ(llama.encode_ids("Hi", true), (std::vector<TokenId>{1, 15359}));
  EXPECT_EQ(real_tokenizer("llama3_1", false).encode_ids("Hi", true).front(), 128000);
  EXPECT_EQ(real_tokenizer("qwen3", false).encode_ids("Hello world", true),
            (std::vector<TokenId>{9707, 1879}));
}

TEST(RealTokenizerFolders, SpecialTokenIds) {
  const Tokenizer& qwen = real_tokenizer("qwen3", false);
  EXPECT_EQ(qwen.eos_ids(), (std::vector<TokenId>{151645}));  // <|im_end|>
  EXPECT_EQ(qwen.pad_id(), 151643);                           // <|endoftext|>
  EXPECT_FALSE(qwen.bos_id().has_value());
  EXPECT_EQ(qwen.vocab_size(), 151669u);
  EXPECT_TRUE(qwen.is_special(151644));
  EXPECT_FALSE(qwen.is_special(*qwen.token_to_id("<think>")));  // added but not special
  const Tokenizer& mistral = real_tokenizer("llama2", false);
  EXPECT_EQ(mistral.bos_id(), 1);
  EXPECT_EQ(mistral.pad_id(), 2) << "no pad token: pad with EOS, as Heretic does";
  EXPECT_EQ(mistral.id_to_token(22557), "\xE2\x96\x81Hello");
}

TEST(RealTokenizerFolders, DecodeSkipsOnlySpecialTokens) {
  const Tokenizer& qwen = real_tokenizer("qwen3", false);
  const std::vector<TokenId> ids = qwen.encode_ids("<|im_start|><think>Hello<|im_end|>", false);
  EXPECT_EQ(qwen.decode(ids, false), "<|im_start|><think>Hello<|im_end|>");
  EXPECT_EQ(qwen.decode(ids, true), "<think>Hello");
  EXPECT_EQ(qwen.decode({9707, 999999999, 1879}, false), "Hello world")
      << "unknown ids are skipped";
}

TEST(RealTokenizerFolders, BatchIsLeftPaddedWithAMask) {
  const Tokenizer& qwen = real_tokenizer("qwen3", false);
  const BatchEncoding batch = qwen.encode_batch({"Hello world", "Hi", ""}, false);
  ASSERT_EQ(batch.rows, 3u);
  ASSERT_EQ(batch.columns, 2u);
  const TokenId hi = qwen.encode_ids("Hi", false).at(0);
  EXPECT_EQ(batch.ids, (std::vector<int64_t>{9707, 1879, 151643, hi, 151643, 151643}));
  EXPECT_EQ(batch.attention_mask, (std::vector<int64_t>{1, 1, 0, 1, 0, 0}));
}

TEST(CleanUpTokenization, RemovesSpacesLikeTransformers) {
  EXPECT_EQ(clean_up_tokenization("Hello , world ! I do n't know . Is it 's ?"),
            "Hello, world! I don't know. Is it's?");
}

// A tiny byte-level BPE with ChatML special tokens, like the model organism's.
std::string chatml_tokenizer_json() {
  std::string vocab = "{";
  int id = 0;
  const auto add = [&](const std::string& escaped_token) {
    vocab += (id > 0 ? ", \"" : "\"") + escaped_token + "\": " + std::to_string(id);
    ++id;
  };
  // The printable ASCII bytes map to themselves; space is Ġ (U+0120), newline Ċ (U+010A).
  for (int c = '!'; c <= '~'; ++c) {
    if (c == '"' || c == '\\') continue;
    add(std::string(1, static_cast<char>(c)));
  }
  for (const char* token : {"\\\"", "\\\\", "\xC4\xA0", "\xC4\x8A", "he", "\xC4\xA0he"}) add(token);
  vocab += "}";
  const int vocab_size = id;
  return R"({"version": "1.0", "added_tokens": [
      {"id": )" +
         std::to_string(vocab_size) + R"(, "content": "<|im_start|>", "special": true},
      {"id": )" +
         std::to_string(vocab_size + 1) + R"(, "content": "<|im_end|>", "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\s+|\\w+|[^\\s\\w]+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
    "post_processor": null,
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": )" +
         vocab + R"(, "merges": [["h", "e"], ["\u0120", "he"]]}})";
}

TEST(TokenizerFolder, LoadsAChatMLByteLevelTokenizer) {
  const auto folder = write_tokenizer_folder(
      "chatml", chatml_tokenizer_json(),
      R"({"eos_token": "<|im_end|>", "pad_token": null, "bos_token": null})");
  std::ofstream(folder / "generation_config.json") << R"({"eos_token_id": [96, 95]})";
  const Tokenizer tokenizer = Tokenizer::from_folder(folder);
  const TokenId start = *tokenizer.token_to_id("<|im_start|>");
  const TokenId end = *tokenizer.token_to_id("<|im_end|>");
  const Encoding encoding = tokenizer.encode("<|im_start|>he he!<|im_end|>", true);
  EXPECT_EQ(encoding.tokens,
            (std::vector<std::string>{"<|im_start|>", "he", "\xC4\xA0", "he", "!", "<|im_end|>"}));
  EXPECT_EQ(encoding.ids.front(), start);
  EXPECT_EQ(encoding.ids.back(), end);
  EXPECT_EQ(tokenizer.decode(encoding.ids, true), "he he!");
  EXPECT_EQ(tokenizer.eos_ids(), (std::vector<TokenId>{end, 96, 95}));
  EXPECT_EQ(tokenizer.pad_id(), end);
}

void expect_input_error(const std::filesystem::path& folder, const std::string& fragment_a,
                        const std::string& fragment_b) {
  try {
    Tokenizer::from_folder(folder);
    ADD_FAILURE() << "no error for " << folder;
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(fragment_a), std::string::npos) << message;
    EXPECT_NE(message.find(fragment_b), std::string::npos) << message;
  }
}

TEST(TokenizerFolder, ErrorsNameTheFileAndTheKey) {
  expect_input_error(write_tokenizer_folder("empty", "{}") / "missing", "tokenizer.json",
                     "not found");
  expect_input_error(write_tokenizer_folder("bad-json", "{\"model\": [1, 2"), "tokenizer.json",
                     "invalid JSON at byte");
  std::string json = chatml_tokenizer_json();
  const std::string unigram =
      std::string(json).replace(json.find("\"type\": \"BPE\""), 13, "\"type\": \"Unigram\"");
  expect_input_error(write_tokenizer_folder("unigram", unigram), "model", "Unigram");
  const std::string precompiled = std::string(json).replace(
      json.find("\"normalizer\": null"), 18, "\"normalizer\": {\"type\": \"Precompiled\"}");
  expect_input_error(write_tokenizer_folder("precompiled", precompiled), "normalizer",
                     "unsupported normalizer 'Precompiled'");
  const std::string bad_merge =
      std::string(json).replace(json.find("[\"h\", \"e\"]"), 10, "[\"h\", \"q\\u00e9\"]");
  expect_input_error(write_tokenizer_folder("bad-merge", bad_merge), "model.merges[0]",
                     "not in the vocabulary");
  const std::string bad_regex = std::string(json).replace(json.find("\\\\s+|"), 5, "(\\\\s+|");
  expect_input_error(write_tokenizer_folder("bad-regex", bad_regex),
                     "pre_tokenizer.pretokenizers[0].pattern.Regex", "does not compile");
  expect_input_error(write_tokenizer_folder("bad-eos", json, R"({"eos_token": "</s>"})"),
                     "tokenizer_config.json", "eos_token '</s>'");
}

}  // namespace
}  // namespace heretic::hf
