// Shared helpers of the tokenizer tests: where the real tokenizers and the goldens live,
// and a scratch folder for hand-written tokenizer.json files.
#pragma once

#include <filesystem>
#include <string>

#include "hf/tokenizer.h"

namespace heretic::hf::testing {

// .cache/tokenizers/<name> of the repository (or $HERETIC_TOKENIZER_CACHE/<name>).
std::filesystem::path real_tokenizer_folder(const std::string& name);

// The real tokenizer `name`, loaded once per process. Fails the test (with the fetch command
// in the message) when the files are absent.
const Tokenizer& real_tokenizer(const std::string& name, bool transformers_post_processor);

std::filesystem::path fixture_folder();  // tests/fixtures/tokenizer

// A fresh folder holding tokenizer.json (and tokenizer_config.json when not empty).
std::filesystem::path write_tokenizer_folder(const std::string& test_name,
                                             const std::string& tokenizer_json,
                                             const std::string& tokenizer_config_json = "");

}  // namespace heretic::hf::testing
