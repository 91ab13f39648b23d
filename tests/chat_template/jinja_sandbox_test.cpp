// A chat template comes with a downloaded model: hostile templates must fail with a clear
// error instead of hanging, exhausting memory or overflowing the stack.
#include <gtest/gtest.h>

#include <string>

#include "hf/jinja_template.h"

namespace heretic::hf::jinja {
namespace {

jinja::Limits small_limits() {
  Limits limits;
  limits.max_steps = 200'000;
  limits.max_call_depth = 50;
  limits.max_output_bytes = 1 << 20;
  return limits;
}

// Renders and returns the error kind; fails the test if the render succeeds.
ErrorKind render_error(const std::string& source, Limits limits = small_limits()) {
  try {
    const Template t(source, "hostile.jinja", limits);
    const std::string out = t.render({});
    ADD_FAILURE() << "rendered " << out.size() << " bytes instead of failing";
  } catch (const JinjaError& e) {
    EXPECT_NE(std::string(e.what()).find("hostile.jinja"), std::string::npos) << e.what();
    return e.kind();
  }
  return ErrorKind::kRuntime;
}

TEST(JinjaSandbox, HugeRangeFailsBeforeAllocating) {
  EXPECT_EQ(render_error("{% for i in range(1000000000000) %}x{% endfor %}"), ErrorKind::kLimit);
}

TEST(JinjaSandbox, NestedLoopsStopAtTheStepLimit) {
  EXPECT_EQ(render_error("{% set l = range(1000)|list %}{% for a in l %}{% for b in l %}"
                         "{% for c in l %}{% endfor %}{% endfor %}{% endfor %}"),
            ErrorKind::kLimit);
}

TEST(JinjaSandbox, UnboundedMacroRecursionStopsAtTheDepthLimit) {
  try {
    Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "hostile.jinja", small_limits()).render({});
    FAIL() << "recursion was not stopped";
  } catch (const JinjaError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kLimit);
    EXPECT_NE(std::string(e.what()).find("macro calls nested deeper than 50"), std::string::npos) << e.what();
  }
}

TEST(JinjaSandbox, ExponentialMacroFanOutStopsAtTheStepLimit) {
  EXPECT_EQ(render_error("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
                         "{% endmacro %}{{ f(40) }}"),
            ErrorKind::kLimit);
}

TEST(JinjaSandbox, HugeOutputStopsAtTheOutputLimit) {
  EXPECT_EQ(render_error("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"), ErrorKind::kLimit);
}

TEST(JinjaSandbox, StringDoublingStopsAtTheOutputLimit) {
  EXPECT_EQ(render_error("{% set ns = namespace(s='x') %}{% for i in range(100) %}"
                         "{% set ns.s = ns.s + ns.s %}{% endfor %}"),
            ErrorKind::kLimit);
  EXPECT_EQ(render_error("{{ 'x' * 1000000000000 }}"), ErrorKind::kLimit);
}

TEST(JinjaSandbox, PrintingSharedStructureStopsAtTheOutputLimit) {
  // 2^60 leaves once printed, but only 60 small lists in memory.
  EXPECT_EQ(render_error("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                         "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}"),
            ErrorKind::kLimit);
}

TEST(JinjaSandbox, CopyingLongStringsCostsSteps) {
  // 1000 copies of half a megabyte stay under every other limit; the copying itself is charged.
  EXPECT_EQ(render_error("{% set ns = namespace(s='x' * 500000, t='') %}{% for i in range(1000) %}"
                         "{% set ns.t = ns.s ~ 'y' %}{% endfor %}{{ ns.t|length }}"),
            ErrorKind::kLimit);
}

TEST(JinjaSandbox, ValuesNestedThousandsOfLevelsDeepAreAnErrorNotAStackOverflow) {
  EXPECT_EQ(render_error("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}"
                         "{% endfor %}{{ ns.x }}"),
            ErrorKind::kLimit);
  EXPECT_EQ(render_error("{% set ns = namespace(x={}) %}{% for i in range(5000) %}{% set ns.x = {'a': ns.x} %}"
                         "{% endfor %}{{ ns.x|tojson }}"),
            ErrorKind::kLimit);
}

TEST(JinjaSandbox, ANamespaceCannotHoldANamespaceSoNothingHoldsItself) {
  EXPECT_EQ(render_error("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns }}"), ErrorKind::kSecurity);
  EXPECT_EQ(render_error("{% set ns = namespace(a=1) %}{% set ns.l = [1, {'n': ns}] %}{{ ns }}"), ErrorKind::kSecurity);
  EXPECT_EQ(render_error("{% set ns = namespace(a=1) %}{% set other = namespace(inner=ns) %}"), ErrorKind::kSecurity);
  // A list of namespaces is fine: lists cannot change.
  EXPECT_EQ(Template("{% set ns = namespace(a=1) %}{{ [ns, ns]|length }}").render({}), "2");
}

TEST(JinjaSandbox, PercentFormatWidthAndPrecisionCannotAskForTheImpossible) {
  EXPECT_EQ(render_error("{{ '%99999999999999999999d' % 1 }}"), ErrorKind::kLimit);
  EXPECT_EQ(render_error("{{ '%.99999999999f' % 1.5 }}"), ErrorKind::kValue);
  EXPECT_EQ(render_error("{{ '%d' % 1e300 }}"), ErrorKind::kOverflow);
  EXPECT_EQ(render_error("{{ '%.35589385f' % 1.5 }}"), ErrorKind::kLimit);  // 35 million digits
  EXPECT_EQ(Template("{{ ('%.1000f' % 1e300)|length }}").render({}), "1302");  // 301 digits, a point, 1000
  EXPECT_EQ(Template("{{ '%5d|%-4s|%.2f|%x' % (42, 'ab', 3.14159, 255) }}").render({}), "   42|ab  |3.14|ff");
}

TEST(JinjaSandbox, DeepNestingIsASyntaxErrorNotACrash) {
  const int n = 100000;
  EXPECT_EQ(render_error("{{ " + std::string(n, '(') + "1" + std::string(n, ')') + " }}"), ErrorKind::kSyntax);
  EXPECT_EQ(render_error("{{ " + std::string(n, '[') + std::string(n, ']') + " }}"), ErrorKind::kSyntax);
  std::string chain = "{{ 1";
  for (int i = 0; i < n; ++i) chain += " + 1";
  EXPECT_EQ(render_error(chain + " }}"), ErrorKind::kSyntax);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < n; ++i) filters += "|trim";
  EXPECT_EQ(render_error(filters + " }}"), ErrorKind::kSyntax);
  std::string ifs;
  for (int i = 0; i < 10000; ++i) ifs += "{% if true %}";
  EXPECT_EQ(render_error(ifs), ErrorKind::kSyntax);
  std::string nots = "{{ ";
  for (int i = 0; i < n; ++i) nots += "not ";
  EXPECT_EQ(render_error(nots + "1 }}"), ErrorKind::kSyntax);
}

TEST(JinjaSandbox, IntegerOverflowIsAnErrorNotWrongOutput) {
  EXPECT_EQ(render_error("{{ 2 ** 64 }}"), ErrorKind::kOverflow);
  EXPECT_EQ(render_error("{{ 9223372036854775807 + 1 }}"), ErrorKind::kOverflow);
}

TEST(JinjaSandbox, ListMutationIsRefused) {
  EXPECT_EQ(render_error("{% set l = [] %}{{ l.append(1) }}"), ErrorKind::kSecurity);
  EXPECT_EQ(render_error("{% set d = {} %}{{ d.pop('a') }}"), ErrorKind::kSecurity);
}

TEST(JinjaSandbox, DefaultLimitsLeaveRealisticWorkAlone) {
  // 2000 messages scanned twice, as Qwen3's template does, is far below the defaults.
  Dict vars;
  List messages;
  for (int i = 0; i < 2000; ++i) messages.push_back(Value::string("m"));
  vars.set("messages", Value::list(messages));
  const Template t("{% for m in messages %}{{ m }}{% endfor %}{% for m in messages[::-1] %}{% endfor %}");
  EXPECT_EQ(t.render(vars), std::string(2000, 'm'));
}

TEST(JinjaErrors, NameTheSourceTheLineAndTheTemplatesMessage) {
  const Template t("line one\n{% if true %}\n{{ raise_exception('roles must alternate') }}\n{% endif %}",
                   "model/chat_template.jinja");
  Dict vars;
  vars.set("raise_exception", Value::callable("raise_exception", [](const CallArgs& args) -> Value {
             throw JinjaError(ErrorKind::kTemplate, args.positional.at(0).as_string());
           }));
  try {
    t.render(vars);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "model/chat_template.jinja line 3: TemplateError: roles must alternate");
  }
}

TEST(JinjaErrors, SyntaxErrorsNameTheLine) {
  try {
    Template("ok\n\n{{ 1 + }}", "t.jinja");
    FAIL() << "no error";
  } catch (const JinjaError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kSyntax);
    EXPECT_EQ(e.line(), 3);
  }
  EXPECT_THROW(Template("{% for x in l %}{% endfor %}{% break %}"), JinjaError);
  EXPECT_THROW(Template("{% macro m() %}{% break %}{% endmacro %}"), JinjaError);
  EXPECT_THROW(Template("{% for x in l recursive %}{% endfor %}"), JinjaError);
  EXPECT_THROW(Template("{{ 'unterminated }}"), JinjaError);
  EXPECT_THROW(Template("{{ x is nosuchtest }}"), JinjaError);
  EXPECT_THROW(Template("{% include 'other.jinja' %}"), JinjaError);  // no I/O from templates
}

}  // namespace
}  // namespace heretic::hf::jinja
