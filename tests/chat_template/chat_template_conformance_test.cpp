// Every template x conversation golden made by real Jinja2 3.1.6 in transformers'
// environment (tests/fixtures/chat_template/README.md): 17 real chat templates, 8
// conversations, 136 renders of which 13 must fail with the same Python error.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "hf/chat_template.h"
#include "tests/chat_template/fixture_support.h"

namespace heretic::hf {
namespace {

using testing::fixture_dir;
using testing::read_file;
using testing::read_json;

struct GoldenCase {
  std::string template_name;
  std::string conversation;
};

std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> cases;
  const auto goldens = read_json(fixture_dir() / "goldens_jinja2_3.1.6.json");
  for (auto it = goldens.begin(); it != goldens.end(); ++it) {
    if (it.key() == "_meta") continue;
    for (auto conv = it.value().begin(); conv != it.value().end(); ++conv) {
      cases.push_back({it.key(), conv.key()});
    }
  }
  return cases;
}

class GoldenRender : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenRender, MatchesJinja2ByteForByte) {
  const GoldenCase& c = GetParam();
  static const auto goldens = read_json(fixture_dir() / "goldens_jinja2_3.1.6.json");
  static const auto conversations = read_json(fixture_dir() / "conversations.json");
  static const auto specials = read_json(fixture_dir() / "special_tokens.json");
  const auto& golden = goldens.at(c.template_name).at(c.conversation);
  const auto& conv = conversations.at(c.conversation);

  ChatTemplateOptions options;
  options.clock = testing::oracle_date;
  const std::string path = (fixture_dir() / "templates" / (c.template_name + ".jinja")).string();
  const nlohmann::ordered_json special =
      specials.contains(c.template_name) ? specials.at(c.template_name) : nlohmann::ordered_json::object();
  const ChatTemplate chat(read_file(path), path, special, options);

  nlohmann::ordered_json extra = conv.contains("extra") ? conv.at("extra") : nlohmann::ordered_json::object();
  if (conv.contains("tools")) extra["tools"] = conv.at("tools");
  const bool add_generation_prompt = conv.contains("add_generation_prompt") && conv.at("add_generation_prompt") == true;

  if (golden.contains("error")) {
    try {
      const std::string text = chat.render(conv.at("messages"), add_generation_prompt, extra);
      ADD_FAILURE() << "expected " << golden.at("error").get<std::string>() << ", rendered:\n" << text;
    } catch (const ChatTemplateError& e) {
      EXPECT_EQ(e.python_message(), golden.at("error").get<std::string>());
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  } else {
    EXPECT_EQ(chat.render(conv.at("messages"), add_generation_prompt, extra), golden.at("text").get<std::string>());
  }
}

std::string case_name(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name = info.param.template_name + "__" + info.param.conversation;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Goldens, GoldenRender, ::testing::ValuesIn(all_cases()), case_name);

TEST(GoldenRenderSet, Has136CasesOf17TemplatesWith13Errors) {
  const auto goldens = read_json(fixture_dir() / "goldens_jinja2_3.1.6.json");
  int cases = 0;
  int errors = 0;
  int templates = 0;
  for (auto it = goldens.begin(); it != goldens.end(); ++it) {
    if (it.key() == "_meta") continue;
    ++templates;
    for (const auto& golden : it.value()) {
      ++cases;
      errors += golden.contains("error") ? 1 : 0;
    }
  }
  EXPECT_EQ(templates, 17);
  EXPECT_EQ(cases, 136);
  EXPECT_EQ(errors, 13);
}

}  // namespace
}  // namespace heretic::hf
