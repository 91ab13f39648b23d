// Conformance of the tokenizer with Hugging Face tokenizers 0.22.2 on the six real
// tokenizers (Qwen3, Llama 3.1, Gemma 3, gpt-oss, DeepSeek V3, Mistral 7B): ids, tokens and
// decoded text for every case of tests/fixtures/tokenizer/cases_*.json. The goldens were
// written by the real library (tools/tokenizer-goldens.js; see the README there).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "hf/tok_unicode.h"
#include "tokenizer_test_support.h"

namespace heretic::hf {
namespace {

using testing::fixture_folder;
using testing::real_tokenizer;

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream stream(path);
  EXPECT_TRUE(stream) << path;
  return nlohmann::json::parse(stream);
}

std::string bytes_from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// The input bytes of case "file#index".
std::string case_input(const std::string& case_name) {
  static std::map<std::string, nlohmann::json> files;
  const size_t hash = case_name.find('#');
  const std::string file = case_name.substr(0, hash);
  if (!files.count(file)) files[file] = read_json(fixture_folder() / file);
  const nlohmann::json& item = files[file].at(std::stoul(case_name.substr(hash + 1)));
  std::string value;
  (item.is_string() ? item : item.at("hex")).get_to(value);
  return item.is_string() ? value : bytes_from_hex(value);
}

std::string show(const std::vector<TokenId>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size() && i < 40; ++i) out << (i ? "," : "") << ids[i];
  if (ids.size() > 40) out << ",... (" << ids.size() << " ids)";
  return out.str();
}

// golden[key] as T, or `fallback` when the goldens omit the key (it equals the fallback).
template <typename T>
T field_or(const nlohmann::json& golden, const char* key, const T& fallback) {
  if (!golden.contains(key)) return fallback;
  T value;
  golden.at(key).get_to(value);
  return value;
}

struct GoldenSet {
  std::string name;    // goldens_<name>.jsonl
  std::string folder;  // empty: the real tokenizer of that name; else a fixture folder
  int cases;           // number of golden lines expected
};

void PrintTo(const GoldenSet& set, std::ostream* out) { *out << set.name; }

class Conformance : public ::testing::TestWithParam<GoldenSet> {};

TEST_P(Conformance, MatchesHuggingFaceOnEveryCase) {
  const GoldenSet& set = GetParam();
  const std::string& name = set.name;
  // Raw post-processor: the goldens come from HF tokenizers itself, not transformers.
  std::unique_ptr<Tokenizer> synthetic;
  if (!set.folder.empty()) {
    TokenizerOptions options;
    options.transformers_post_processor = false;
    synthetic =
        std::make_unique<Tokenizer>(Tokenizer::from_folder(fixture_folder() / set.folder, options));
  }
  const Tokenizer& tokenizer =
      synthetic ? *synthetic : real_tokenizer(name, /*transformers_post_processor=*/false);
  std::ifstream goldens(fixture_folder() / ("goldens_" + name + ".jsonl"));
  ASSERT_TRUE(goldens) << "goldens_" << name << ".jsonl is missing";
  std::string line;
  int cases = 0;
  while (std::getline(goldens, line)) {
    const nlohmann::json golden = nlohmann::json::parse(line);
    const std::string case_name = field_or<std::string>(golden, "case", "");
    const std::string input = case_input(case_name);
    // Invalid UTF-8 reaches HF already repaired (Python/Rust lossy decoding).
    const std::string text = repair_utf8(input);
    SCOPED_TRACE(name + " " + case_name + " text: " + text.substr(0, 120));
    ++cases;

    const auto ids = field_or<std::vector<TokenId>>(golden, "ids", {});
    const Encoding encoding = tokenizer.encode(input, false);
    EXPECT_EQ(show(encoding.ids), show(ids));
    EXPECT_EQ(encoding.ids, ids);
    if (golden.contains("tokens")) {
      EXPECT_EQ(encoding.tokens, field_or<std::vector<std::string>>(golden, "tokens", {}));
    }
    const auto ids_with_special = field_or(golden, "ids_with_special", ids);
    EXPECT_EQ(show(tokenizer.encode_ids(input, true)), show(ids_with_special));

    const std::string decoded = field_or(golden, "decoded", text);
    EXPECT_EQ(tokenizer.decode(ids, false), decoded);
    EXPECT_EQ(tokenizer.decode(ids_with_special, true),
              field_or(golden, "decoded_skip_special", decoded));
  }
  EXPECT_EQ(cases, set.cases) << "a golden line per case of the case files";
}

// The six real tokenizers on cases_oracle.json (39) + cases_extra.json (165).
INSTANTIATE_TEST_SUITE_P(
    RealTokenizers, Conformance,
    ::testing::Values(GoldenSet{"qwen3", "", 204}, GoldenSet{"llama3_1", "", 204},
                      GoldenSet{"gemma3", "", 204}, GoldenSet{"gptoss", "", 204},
                      GoldenSet{"deepseek_v3", "", 204}, GoldenSet{"llama2", "", 204}),
    [](const auto& param_info) { return param_info.param.name; });

// Hand-made tokenizers (tools/tokenizer-synthetic.py) for the components the real ones do not
// use, on cases_synthetic.json (33).
INSTANTIATE_TEST_SUITE_P(SyntheticTokenizers, Conformance,
                         ::testing::Values(GoldenSet{"synthetic_metaspace", "synthetic/metaspace",
                                                     33},
                                           GoldenSet{"synthetic_digits", "synthetic/digits", 33},
                                           GoldenSet{"synthetic_gpt2", "synthetic/gpt2", 33}),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace heretic::hf
