#include "hf/jinja_expression_parser.h"

#include <algorithm>

#include "hf/jinja_filters.h"

namespace heretic::hf::jinja {

namespace {

int height_of(const Expr& e) {
  int height = 0;
  for (const auto& arg : e.args) {
    if (arg) height = std::max(height, arg->height);
  }
  for (const auto& kw : e.kwargs) height = std::max(height, kw.second->height);
  return height + 1;
}

}  // namespace

ExprPtr make_expr(Expr::Kind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

// Comma-separated expressions become a tuple ({{ a, b }}, set x = 1, 2).
ExprPtr ExpressionParser::parse_tuple(bool with_condition, bool stop_at_if) {
  const int line = s_.current().line;
  std::vector<ExprPtr> items;
  bool saw_comma = false;
  while (true) {
    if (!items.empty()) {
      if (!s_.skip_op(",")) break;
      saw_comma = true;
    }
    if (at_expression_end()) break;
    items.push_back(parse_expression(with_condition && !stop_at_if));
  }
  if (items.empty()) s_.fail("expected an expression, got " + TokenStream::describe(s_.current()));
  if (!saw_comma) return std::move(items[0]);
  auto tuple = make_expr(Expr::Kind::kTuple, line);
  tuple->args = std::move(items);
  return tuple;
}

bool ExpressionParser::at_expression_end() const {
  const Token& t = s_.current();
  return t.type == TokenType::kBlockEnd || t.type == TokenType::kVariableEnd || t.type == TokenType::kEnd ||
         (t.type == TokenType::kOperator && t.text == ")") ||
         (t.type == TokenType::kName && (t.text == "if" || t.text == "recursive"));
}

ExprPtr ExpressionParser::parse_expression(bool with_condition) {
  TokenStream::DepthGuard guard(s_);
  if (!with_condition) return parse_or();
  ExprPtr expr = parse_or();
  while (s_.is_name("if")) {
    const int line = s_.next().line;
    auto cond = make_expr(Expr::Kind::kCondition, line);
    ExprPtr test = parse_or();
    ExprPtr otherwise = s_.skip_name("else") ? parse_expression(true) : nullptr;
    cond->args.push_back(std::move(test));
    cond->args.push_back(std::move(expr));
    cond->args.push_back(std::move(otherwise));
    expr = std::move(cond);
  }
  return expr;
}

ExprPtr ExpressionParser::binary(Expr::Kind kind, ExprPtr left, ExprPtr right, std::string op, int line) {
  auto e = make_expr(kind, line);
  e->name = std::move(op);
  e->args.push_back(std::move(left));
  e->args.push_back(std::move(right));
  return checked(std::move(e));
}

// Chains (a + b + c ..., x|f|g ..., a.b.c ...) build deep trees without deep parsing;
// their height is bounded like nesting so that evaluation cannot exhaust the stack.
ExprPtr ExpressionParser::checked(ExprPtr e) {
  e->height = height_of(*e);
  if (e->height > s_.max_depth()) {
    s_.fail("expression nested deeper than " + std::to_string(s_.max_depth()));
  }
  return e;
}

ExprPtr ExpressionParser::parse_or() {
  ExprPtr left = parse_and();
  while (s_.is_name("or")) {
    const int line = s_.next().line;
    left = binary(Expr::Kind::kOr, std::move(left), parse_and(), "or", line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_and() {
  ExprPtr left = parse_not();
  while (s_.is_name("and")) {
    const int line = s_.next().line;
    left = binary(Expr::Kind::kAnd, std::move(left), parse_not(), "and", line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_not() {
  if (s_.is_name("not")) {
    TokenStream::DepthGuard guard(s_);
    auto e = make_expr(Expr::Kind::kNot, s_.next().line);
    e->args.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
  const int line = s_.current().line;
  ExprPtr first = parse_math1();
  ExprPtr compare;
  while (true) {
    std::string op;
    const Token& t = s_.current();
    if (t.type == TokenType::kOperator &&
        (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" || t.text == ">=")) {
      op = t.text;
      s_.advance(1);
    } else if (s_.is_name("in")) {
      op = "in";
      s_.advance(1);
    } else if (s_.is_name("not") && s_.peek().type == TokenType::kName && s_.peek().text == "in") {
      op = "notin";
      s_.advance(2);
    } else {
      break;
    }
    if (!compare) {
      compare = make_expr(Expr::Kind::kCompare, line);
      compare->args.push_back(std::move(first));
    }
    compare->ops.push_back(op);
    compare->args.push_back(parse_math1());
  }
  return compare ? std::move(compare) : std::move(first);
}

ExprPtr ExpressionParser::parse_math1() {
  ExprPtr left = parse_concat();
  while (s_.is_op("+") || s_.is_op("-")) {
    const Token op = s_.next();
    left = binary(Expr::Kind::kBinary, std::move(left), parse_concat(), op.text, op.line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_concat() {
  ExprPtr left = parse_math2();
  while (s_.is_op("~")) {
    const Token op = s_.next();
    left = binary(Expr::Kind::kBinary, std::move(left), parse_math2(), op.text, op.line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_math2() {
  ExprPtr left = parse_pow();
  while (s_.is_op("*") || s_.is_op("/") || s_.is_op("//") || s_.is_op("%")) {
    const Token op = s_.next();
    left = binary(Expr::Kind::kBinary, std::move(left), parse_pow(), op.text, op.line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_pow() {
  ExprPtr left = parse_unary(true);
  while (s_.is_op("**")) {
    const Token op = s_.next();
    left = binary(Expr::Kind::kBinary, std::move(left), parse_unary(true), op.text, op.line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
  TokenStream::DepthGuard guard(s_);
  ExprPtr node;
  if (s_.is_op("-") || s_.is_op("+")) {
    const Token op = s_.next();
    node = make_expr(op.text == "-" ? Expr::Kind::kNegate : Expr::Kind::kPlus, op.line);
    node->args.push_back(parse_unary(false));
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr ExpressionParser::parse_primary() {
  const Token t = s_.current();
  if (t.type == TokenType::kName) {
    s_.advance(1);
    auto e = make_expr(Expr::Kind::kLiteral, t.line);
    if (t.text == "true" || t.text == "True") {
      e->value = Value::boolean(true);
    } else if (t.text == "false" || t.text == "False") {
      e->value = Value::boolean(false);
    } else if (t.text == "none" || t.text == "None") {
      e->value = Value::none();
    } else {
      e->kind = Expr::Kind::kName;
      e->name = t.text;
    }
    return e;
  }
  if (t.type == TokenType::kString) {
    std::string text;
    while (s_.current().type == TokenType::kString) text += s_.next().text;  // 'a' 'b' == 'ab'
    auto e = make_expr(Expr::Kind::kLiteral, t.line);
    e->value = Value::string(std::move(text));
    return e;
  }
  if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
    s_.advance(1);
    auto e = make_expr(Expr::Kind::kLiteral, t.line);
    e->value = t.type == TokenType::kInteger ? Value::integer(t.int_value) : Value::floating(t.float_value);
    return e;
  }
  if (s_.skip_op("(")) {
    if (s_.skip_op(")")) return make_expr(Expr::Kind::kTuple, t.line);
    ExprPtr inner = parse_expression(true);
    if (!s_.is_op(",")) {
      s_.expect_op(")");
      return inner;
    }
    auto tuple = make_expr(Expr::Kind::kTuple, t.line);
    tuple->args.push_back(std::move(inner));
    while (s_.skip_op(",")) {
      if (s_.is_op(")")) break;
      tuple->args.push_back(parse_expression(true));
    }
    s_.expect_op(")");
    return tuple;
  }
  if (s_.skip_op("[")) {
    auto list = make_expr(Expr::Kind::kList, t.line);
    while (!s_.is_op("]")) {
      if (!list->args.empty()) s_.expect_op(",");
      if (s_.is_op("]")) break;
      list->args.push_back(parse_expression(true));
    }
    s_.expect_op("]");
    return list;
  }
  if (s_.skip_op("{")) {
    auto dict = make_expr(Expr::Kind::kDict, t.line);
    while (!s_.is_op("}")) {
      if (!dict->args.empty()) s_.expect_op(",");
      if (s_.is_op("}")) break;
      dict->args.push_back(parse_expression(true));
      s_.expect_op(":");
      dict->args.push_back(parse_expression(true));
    }
    s_.expect_op("}");
    return dict;
  }
  s_.fail("unexpected " + TokenStream::describe(t));
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr node) {
  while (true) {
    if (s_.is_op(".")) {
      const int line = s_.next().line;
      if (s_.current().type == TokenType::kName) {
        auto e = make_expr(Expr::Kind::kGetAttr, line);
        e->name = s_.next().text;
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (s_.current().type == TokenType::kInteger) {
        auto e = make_expr(Expr::Kind::kGetItem, line);
        auto index = make_expr(Expr::Kind::kLiteral, line);
        index->value = Value::integer(s_.next().int_value);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(index));
        node = std::move(e);
      } else {
        s_.fail("expected a name after '.', got " + TokenStream::describe(s_.current()));
      }
    } else if (s_.is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (s_.is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
    node = checked(std::move(node));
  }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr node) {
  const int line = s_.next().line;  // '['
  ExprPtr parts[3];
  int colons = 0;
  bool any = false;
  while (!s_.is_op("]")) {
    if (s_.is_op(":")) {
      s_.advance(1);
      if (++colons > 2) s_.fail("too many ':' in slice");
      continue;
    }
    if (parts[colons]) s_.fail("expected ']' or ':' in subscript");
    parts[colons] = parse_expression(true);
    any = true;
  }
  s_.expect_op("]");
  if (colons == 0) {
    if (!any) s_.fail("expected an index inside '[]'");
    auto e = make_expr(Expr::Kind::kGetItem, line);
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(parts[0]));
    return e;
  }
  auto e = make_expr(Expr::Kind::kSlice, line);
  e->args.push_back(std::move(node));
  for (auto& part : parts) e->args.push_back(std::move(part));
  return e;
}

// Call arguments into e (positional appended to e->args after whatever is there).
void ExpressionParser::parse_call_args(Expr& e) {
  s_.expect_op("(");
  bool first = true;
  while (!s_.is_op(")")) {
    if (!first) s_.expect_op(",");
    first = false;
    if (s_.is_op(")")) break;
    if (s_.current().type == TokenType::kName && s_.peek().type == TokenType::kOperator && s_.peek().text == "=") {
      std::string key = s_.next().text;
      s_.advance(1);
      e.kwargs.emplace_back(std::move(key), parse_expression(true));
    } else {
      if (!e.kwargs.empty()) s_.fail("positional argument follows keyword argument");
      e.args.push_back(parse_expression(true));
    }
  }
  s_.expect_op(")");
}

ExprPtr ExpressionParser::parse_call(ExprPtr node) {
  auto e = make_expr(Expr::Kind::kCall, s_.current().line);
  e->args.push_back(std::move(node));
  parse_call_args(*e);
  return e;
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (s_.is_op("|")) {
      node = parse_one_filter(std::move(node));
    } else if (s_.is_name("is")) {
      node = parse_test(std::move(node));
    } else if (s_.is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
    node = checked(std::move(node));
  }
}

ExprPtr ExpressionParser::parse_filter_chain(ExprPtr node) {
  if (s_.current().type == TokenType::kName) {
    node = parse_one_filter(std::move(node), /*bar_consumed=*/true);
  }
  while (s_.is_op("|")) node = checked(parse_one_filter(std::move(node)));
  return node;
}

std::string ExpressionParser::dotted_name() {
  std::string name = s_.expect_name();
  while (s_.is_op(".") && s_.peek().type == TokenType::kName) {
    s_.advance(1);
    name += "." + s_.next().text;
  }
  return name;
}

ExprPtr ExpressionParser::parse_one_filter(ExprPtr node, bool bar_consumed) {
  if (!bar_consumed) s_.expect_op("|");
  auto e = make_expr(Expr::Kind::kFilter, s_.current().line);
  e->name = dotted_name();
  if (!has_filter(e->name)) s_.fail("no filter named '" + e->name + "'");
  e->args.push_back(std::move(node));
  if (s_.is_op("(")) parse_call_args(*e);
  return e;
}

ExprPtr ExpressionParser::parse_test(ExprPtr node) {
  const int line = s_.next().line;  // 'is'
  auto e = make_expr(Expr::Kind::kTest, line);
  e->negated = s_.skip_name("not");
  e->name = dotted_name();
  if (!has_test(e->name)) s_.fail("no test named '" + e->name + "'");
  e->args.push_back(std::move(node));
  const Token& t = s_.current();
  const bool starts_primary = t.type == TokenType::kName || t.type == TokenType::kString ||
                              t.type == TokenType::kInteger || t.type == TokenType::kFloat ||
                              (t.type == TokenType::kOperator && (t.text == "(" || t.text == "[" || t.text == "{"));
  if (s_.is_op("(")) {
    parse_call_args(*e);
  } else if (starts_primary && !s_.is_name("else") && !s_.is_name("or") && !s_.is_name("and")) {
    if (s_.is_name("is")) s_.fail("you cannot chain multiple tests with 'is'");
    e->args.push_back(parse_postfix(parse_primary()));
  }
  return e;
}

}  // namespace heretic::hf::jinja
