// `heretic-mpi tokenize`: encodes or decodes with a model's tokenizer, so that users can see
// exactly which ids heretic-mpi feeds their model.
//
//   heretic-mpi tokenize --model DIR --text "Hello world"      {"ids":[...],"tokens":[...]}
//   echo "Hello" | heretic-mpi tokenize --model DIR --special  (stdin; BOS/EOS as transformers)
//   heretic-mpi tokenize --model DIR --decode --text "9707 1879"   {"text":"Hello world",...}
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "app/command.h"
#include "common/error.h"
#include "hf/hub_cache.h"
#include "hf/tokenizer.h"

namespace heretic::app {
namespace {

std::filesystem::path model_folder(const std::string& model) {
  if (std::filesystem::is_directory(model)) return model;
  if (hf::is_repo_id(model)) {
    return hf::resolve_hub_snapshot(hf::RepoKind::kModel, model).folder;
  }
  throw InputError("--model " + model + ": no such folder");
}

// Ids written as a JSON array ("[1, 2]") or separated by spaces/commas ("1 2", "1,2").
std::vector<hf::TokenId> parse_ids(const std::string& input) {
  std::string cleaned = input;
  for (char& ch : cleaned) {
    if (ch == '[' || ch == ']' || ch == ',') ch = ' ';
  }
  std::istringstream stream(cleaned);
  std::vector<hf::TokenId> ids;
  std::string word;
  while (stream >> word) {
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < 0 || value > INT32_MAX) {
      throw InputError("--decode: '" + word + "' is not a token id (expected integers)");
    }
    ids.push_back(static_cast<hf::TokenId>(value));
  }
  return ids;
}

int run_tokenize(int argc, char** argv) {
  cxxopts::Options options(argv[0],
                           "Encode text to token ids, or decode ids to text, with a "
                           "model's tokenizer.json");
  options.add_options()("model", "model folder (or a Hugging Face repo id in the local hub cache)",
                        cxxopts::value<std::string>())(
      "text", "input text (ids with --decode); read from stdin when absent",
      cxxopts::value<std::string>())(
      "special", "add special tokens (BOS/EOS) as tokenizer(text) does in transformers")(
      "decode", "decode ids instead of encoding text")(
      "skip-special", "with --decode: leave special tokens out of the text")("h,help",
                                                                             "show this help");
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& error) {
    throw InputError(std::string("tokenize: ") + error.what());
  }
  if (parsed.count("help")) {
    std::cout << options.help() << std::endl;
    return 0;
  }
  if (!parsed.count("model")) throw InputError("tokenize: --model is required");
  const hf::Tokenizer tokenizer =
      hf::Tokenizer::from_folder(model_folder(parsed["model"].as<std::string>()));

  std::string input;
  if (parsed.count("text")) {
    input = parsed["text"].as<std::string>();
  } else {
    std::ostringstream buffer;
    buffer << std::cin.rdbuf();
    input = buffer.str();
  }

  // error_handler::replace: token strings of byte-level vocabularies are valid UTF-8, but a
  // decoded fragment of a multi-byte character is not.
  nlohmann::json output;
  if (parsed.count("decode")) {
    const std::vector<hf::TokenId> ids = parse_ids(input);
    std::vector<std::string> tokens;
    for (const hf::TokenId id : ids) tokens.push_back(tokenizer.id_to_token(id).value_or(""));
    output["text"] = tokenizer.decode(ids, parsed.count("skip-special") > 0);
    output["tokens"] = tokens;
  } else {
    const hf::Encoding encoding = tokenizer.encode(input, parsed.count("special") > 0);
    output["ids"] = encoding.ids;
    output["tokens"] = encoding.tokens;
  }
  std::cout << output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return 0;
}

}  // namespace

HERETIC_REGISTER_COMMAND("tokenize",
                         "encode text to token ids (or --decode ids) with a model's tokenizer",
                         run_tokenize);

}  // namespace heretic::app
