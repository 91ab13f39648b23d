// Hostile model folders beyond a corrupt safetensors file (those are in inspect_cli_test.cpp): a
// config.json with absurd sizes, a tokenizer.json whose merges name unknown tokens or whose
// vocabulary maps two tokens to one id, a chat template that never ends. Each is a copy of the
// organism with one file changed, run through the command a user would check it with; each must
// end with exit code 2 and a message naming the file and the key, soon, and without first
// allocating what the absurd size asks for: the commands run with their address space limited
// to kAddressSpace, so an attempt to allocate the absurd size fails with exit code 1 instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using testing::read_whole_file;
using testing::run_process;
using testing::shell_quote;

const fs::path kOrganism = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/organism/model";
// Far below any absurd size here, far above what loading the organism needs (libtorch reserves
// a lot of address space it never touches).
constexpr long kAddressSpaceKiB = 8L << 20;  // 8 GiB

struct HostileFolder {
  const char* name;
  const char* file;                              // the file that is changed
  std::function<void(ordered_json&)> edit_json;  // edits it as JSON, or
  std::string replace_with;                      // replaces it with this text
  const char* command;                           // the heretic-mpi command that reads it
  std::vector<const char*> message;              // what the error must name
};

fs::path hostile_copy(const HostileFolder& hostile) {
  const fs::path dir = fs::temp_directory_path() / ("heretic-hostile-" + std::to_string(::getpid()) + "-" + hostile.name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(kOrganism)) fs::copy(entry.path(), dir / entry.path().filename());
  const fs::path file = dir / hostile.file;
  std::string text = hostile.replace_with;
  if (hostile.edit_json) {
    ordered_json json = ordered_json::parse(read_whole_file(file));
    hostile.edit_json(json);
    text = json.dump(1);
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  std::ofstream(dir / "messages.json") << R"([{"role": "user", "content": "Hello"}])";
  return dir;
}

class HostileModelFolder : public ::testing::TestWithParam<HostileFolder> {};

TEST_P(HostileModelFolder, EndsWithExitCode2NamingTheFileAndKey) {
  const HostileFolder& hostile = GetParam();
  const fs::path dir = hostile_copy(hostile);
  std::string command = std::string(hostile.command);
  const auto at = command.find("DIR");
  command.replace(at, 3, shell_quote(dir.string()));
  // timeout: a hang becomes exit code 124 rather than a stuck test.
  const auto result = run_process("ulimit -v " + std::to_string(kAddressSpaceKiB) + " && cd " + shell_quote(dir.string()) +
                                  " && timeout 120 " + shell_quote(HERETIC_EXECUTABLE) + " " + command);
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find(hostile.file), std::string::npos) << result.err;
  for (const char* fragment : hostile.message) EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
  fs::remove_all(dir);
}

void set(ordered_json& json, const char* key, ordered_json value) { json[key] = std::move(value); }

const char* const kInspect = "inspect --model DIR";
const char* const kTokenize = "tokenize --model DIR --text 'Hello, how are you?'";
const char* const kRenderChat = "render-chat --model DIR --messages messages.json --add-generation-prompt";

INSTANTIATE_TEST_SUITE_P(
    Config, HostileModelFolder,
    ::testing::Values(
        HostileFolder{"HiddenSizeOfABillion", "config.json", [](auto& j) { set(j, "hidden_size", 1000000000); },
                      "", kInspect, {"'hidden_size'"}},
        HostileFolder{"NegativeLayerCount", "config.json", [](auto& j) { set(j, "num_hidden_layers", -6); }, "",
                      kInspect, {"'num_hidden_layers'"}},
        HostileFolder{"ABillionLayers", "config.json", [](auto& j) { set(j, "num_hidden_layers", 1000000000); },
                      "", kInspect, {"'num_hidden_layers'"}},
        HostileFolder{"VocabularyOfZero", "config.json", [](auto& j) { set(j, "vocab_size", 0); }, "", kInspect,
                      {"'vocab_size'"}},
        HostileFolder{"VocabularyBeyondTokenIds", "config.json", [](auto& j) { set(j, "vocab_size", 1LL << 40); },
                      "", kInspect, {"'vocab_size'"}},
        HostileFolder{"HeadsThatDoNotDivideTheHiddenSize", "config.json",
                      [](auto& j) {
                        j.erase("head_dim");
                        set(j, "num_attention_heads", 3);
                        set(j, "num_key_value_heads", 3);
                      },
                      "", kInspect, {"'num_attention_heads'"}},
        HostileFolder{"HeadDimOfABillion", "config.json", [](auto& j) { set(j, "head_dim", 1000000000); }, "",
                      kInspect, {"'head_dim'"}},
        HostileFolder{"HeadCountTimesHeadDimOverflows", "config.json",
                      [](auto& j) {
                        set(j, "num_attention_heads", 1LL << 40);
                        set(j, "num_key_value_heads", 1LL << 40);
                        set(j, "head_dim", 1LL << 40);
                      },
                      "", kInspect, {"'num_attention_heads'"}},
        HostileFolder{"IntermediateSizeOfATrillion", "config.json",
                      [](auto& j) { set(j, "intermediate_size", 1000000000000LL); }, "", kInspect,
                      {"'intermediate_size'"}},
        // Printing the value in the message would recurse a million levels deep.
        HostileFolder{"ValueNestedAMillionLevelsDeep", "config.json", nullptr,
                      R"({"model_type": "qwen3", "vocab_size": )" + std::string(1000000, '[') +
                          std::string(1000000, ']') + "}",
                      kInspect, {"nested deeper than"}},
        HostileFolder{"UnsupportedQuantization", "config.json",
                      [](auto& j) { set(j, "quantization_config", {{"quant_method", "gptq"}, {"bits", 4}}); }, "",
                      kInspect, {"'quantization_config.quant_method'", "'gptq'", "supported: fp8, mxfp4"}},
        HostileFolder{"Fp8BlockSizeOfZero", "config.json",
                      [](auto& j) {
                        set(j, "quantization_config", {{"quant_method", "fp8"}, {"weight_block_size", {0, 128}}});
                      },
                      "", kInspect, {"'quantization_config.weight_block_size'", "two positive integers"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    Tokenizer, HostileModelFolder,
    ::testing::Values(
        HostileFolder{"MergeOfAnUnknownToken", "tokenizer.json",
                      [](auto& j) { j["model"]["merges"].push_back("Ġ zzzunknown"); }, "", kTokenize,
                      {"model.merges["}},
        HostileFolder{"MergeIntoAnUnknownToken", "tokenizer.json",
                      [](auto& j) { j["model"]["merges"].push_back("Ġ Ġ"); }, "", kTokenize, {"model.merges["}},
        // A merge whose result has the id of one of its parts: "st" and "s" share an id, so the
        // merge s + t gives s again, and the vocabulary cannot decode either.
        HostileFolder{"TwoTokensShareAnId", "tokenizer.json",
                      [](auto& j) { j["model"]["vocab"]["st"] = j["model"]["vocab"]["s"]; }, "", kTokenize,
                      {"model.vocab"}},
        HostileFolder{"TokenIdNearTheInt32Limit", "tokenizer.json",
                      [](auto& j) { j["model"]["vocab"]["zzz"] = 2147483647; }, "", kTokenize, {"model.vocab"}},
        // The model would look id 99999 up in an embedding of 659 rows.
        HostileFolder{"PostProcessorAddsAnIdThatIsNoToken", "tokenizer.json",
                      [](auto& j) {
                        j["post_processor"] = ordered_json::parse(R"({"type": "TemplateProcessing",
                          "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                          "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [99999], "tokens": ["<s>"]}}})");
                      },
                      "", kTokenize, {"post_processor", "99999"}},
        HostileFolder{"EosTokenThatIsNotAToken", "tokenizer_config.json",
                      [](auto& j) { j["eos_token"] = "<|unknown|>"; }, "", kTokenize, {"eos_token"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    ChatTemplate, HostileModelFolder,
    ::testing::Values(
        HostileFolder{"LoopThatNeverEnds", "chat_template.jinja", nullptr,
                      "{% for i in range(10**12) %}{% for m in messages %}{{ '' }}{% endfor %}{% endfor %}", kRenderChat,
                      {"chat_template.jinja", "SandboxLimitExceeded"}},
        HostileFolder{"RecursionThatNeverEnds", "chat_template.jinja", nullptr,
                      "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", kRenderChat,
                      {"chat_template.jinja", "SandboxLimitExceeded"}},
        // Inside every limit but the time: each of a million iterations copies 30 MB.
        HostileFolder{"CopyingThatTakesDays", "chat_template.jinja", nullptr,
                      "{% set ns = namespace(s='x' * 30000000, t='') %}{% for i in range(1000000) %}"
                      "{% set ns.t = ns.s ~ 'y' %}{% endfor %}{{ ns.t|length }}",
                      kRenderChat, {"chat_template.jinja", "SandboxLimitExceeded"}},
        // Printing (or only freeing) a million nested lists overflowed the stack.
        HostileFolder{"ListsNestedAMillionLevelsDeep", "chat_template.jinja", nullptr,
                      "{% set ns = namespace(x=[]) %}{% for i in range(1000000) %}{% set ns.x = [ns.x] %}"
                      "{% endfor %}{{ ns.x }}",
                      kRenderChat, {"chat_template.jinja", "SandboxLimitExceeded"}},
        // Printing a namespace that holds itself recursed without end.
        HostileFolder{"NamespaceThatHoldsItself", "chat_template.jinja", nullptr,
                      "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}", kRenderChat,
                      {"chat_template.jinja", "SecurityError"}},
        HostileFolder{"TextThatDoublesForever", "chat_template.jinja", nullptr,
                      "{% set ns = namespace(s='ab') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
                      "{% endfor %}{{ ns.s }}",
                      kRenderChat, {"chat_template.jinja", "SandboxLimitExceeded"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace heretic
