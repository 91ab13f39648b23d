// Small templates, one or more constructs each, whose expected output or error was made by
// real Jinja2 in transformers' environment (make_semantics_cases.py): printing, undefined,
// indexing, methods, tests, precedence, loops, scoping, macros, filters, operators,
// literals, whitespace control, and the errors a template can raise.
#include <gtest/gtest.h>

#include <string>

#include "hf/chat_template.h"
#include "tests/chat_template/fixture_support.h"

namespace heretic::hf {
namespace {

using testing::fixture_dir;
using testing::read_json;

class JinjaSemantics : public ::testing::TestWithParam<size_t> {};

std::string error_class(const std::string& python_error) {
  std::string kind = python_error.substr(0, python_error.find(':'));
  // Jinja2 reports unknown filters at compile time as TemplateAssertionError.
  return kind == "TemplateAssertionError" ? "TemplateSyntaxError" : kind;
}

TEST_P(JinjaSemantics, MatchesJinja2) {
  static const auto cases = read_json(fixture_dir() / "semantics_cases.json")["cases"];
  const auto& c = cases[GetParam()];
  const std::string source = c.at("source").get<std::string>();
  SCOPED_TRACE("template: " + source);
  ChatTemplateOptions options;
  options.clock = testing::oracle_date;
  const auto& context = c.at("context");
  const auto messages = context.contains("messages") ? context.at("messages") : nlohmann::ordered_json::array();
  try {
    const ChatTemplate chat(source, "case", nlohmann::ordered_json::object(), options);
    const std::string text = chat.render(messages, false, context);
    ASSERT_TRUE(c.contains("text")) << "expected " << c.at("error") << ", rendered: " << text;
    EXPECT_EQ(text, c.at("text").get<std::string>());
  } catch (const ChatTemplateError& e) {
    ASSERT_TRUE(c.contains("error")) << "unexpected error: " << e.what();
    const std::string expected = c.at("error").get<std::string>();
    EXPECT_EQ(std::string(jinja::error_kind_name(e.kind())), error_class(expected)) << e.what();
    // Syntax errors word their messages differently; everything else matches Python.
    if (e.kind() != jinja::ErrorKind::kSyntax) {
      EXPECT_EQ(e.python_message(), expected);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(OracleCases, JinjaSemantics,
                         ::testing::Range<size_t>(0,
                                                  read_json(fixture_dir() / "semantics_cases.json")["cases"].size()));

}  // namespace
}  // namespace heretic::hf
