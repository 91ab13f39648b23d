// Expression half of the Jinja parser, with Jinja2's precedence, lowest first:
// `a if c else b`, or, and, not, comparisons (== != < > <= >= in, not in), + -, ~,
// * / // %, **, unary - +, then postfix (.attr, [index], [a:b:c], calls) and filters/tests
// (|f, is t), which therefore bind tighter than any binary operator.
#pragma once

#include "hf/jinja_ast.h"
#include "hf/jinja_token_stream.h"

namespace heretic::hf::jinja {

ExprPtr make_expr(Expr::Kind kind, int line);

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenStream& stream) : s_(stream) {}

  // Comma-separated expressions become a tuple ({{ a, b }}, set x = 1, 2). stop_at_if
  // leaves `if` for the caller (`for x in xs if cond`).
  ExprPtr parse_tuple(bool with_condition, bool stop_at_if = false);
  ExprPtr parse_expression(bool with_condition);
  // `|f|g(args)` applied to node; the leading `|` may already be consumed (filter blocks).
  ExprPtr parse_filter_chain(ExprPtr node);

 private:
  bool at_expression_end() const;
  ExprPtr binary(Expr::Kind kind, ExprPtr left, ExprPtr right, std::string op, int line);
  ExprPtr checked(ExprPtr e);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr node);
  void parse_call_args(Expr& e);
  ExprPtr parse_call(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  std::string dotted_name();
  ExprPtr parse_one_filter(ExprPtr node, bool bar_consumed = false);
  ExprPtr parse_test(ExprPtr node);

  TokenStream& s_;
};

}  // namespace heretic::hf::jinja
